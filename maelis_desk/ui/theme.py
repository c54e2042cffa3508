"""Where the desk's resources are (icon, style), from a source checkout or an install."""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication

log = logging.getLogger(__name__)

_HERE = Path(__file__).resolve().parent


def resources_dir() -> Path:
    """`maelis_desk/resources`: inside the package, so a checkout, an installed wheel and a
    PyInstaller bundle find the icon and the style sheet at the same place."""
    return _HERE.parent / "resources"


def app_icon() -> QIcon:
    path = resources_dir() / "icons" / "maelis-desk.svg"
    icon = QIcon(str(path)) if path.exists() else QIcon()
    if icon.isNull():
        log.info("Application icon not found at %s", path)
    return icon


def style_sheet() -> str:
    path = resources_dir() / "style.qss"
    try:
        return path.read_text(encoding="utf-8")
    except OSError:
        log.info("Style sheet not found at %s", path)
        return ""


def apply_theme(app: QApplication) -> None:
    app.setWindowIcon(app_icon())
    app.setStyleSheet(style_sheet())
