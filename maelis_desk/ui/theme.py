"""Where the desk's resources are (icon, style), from a source checkout or an install."""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication, QLabel, QLineEdit

log = logging.getLogger(__name__)


class Colours:
    """The desk's palette, one definition for the widgets that colour text themselves (table
    models, labels that change with a state); resources/style.qss uses the same values."""

    ERROR = "#b3261e"  # refused, overdue, offline, a difference, to check
    OK = "#2e7d32"  # done, online, open
    WARNING = "#b26a00"  # slow
    TRANSMITTED = "#8a4b00"  # sent to the Trésor public
    PENDING = "#1d5fa6"  # paid here, on its way to Maelis
    MUTED = "#6b6b6b"  # unknown, closed, nothing to say
    CALM = "#777777"  # a régie with nothing to pay
    NOTE_BACKGROUND = "#fff4c2"  # a yellow note (cached figures)
    NOTE_TEXT = "#5a4500"


#: a message saying what is wrong, or that it went well
ERROR_STYLE = f"color: {Colours.ERROR}; font-weight: bold;"
OK_STYLE = f"color: {Colours.OK}; font-weight: bold;"

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


def error_label(name: str, *, hidden: bool = False) -> QLabel:
    """The label under a form that says, in red, what is wrong (wrapped, empty until then)."""
    label = QLabel("")
    label.setObjectName(name)
    label.setWordWrap(True)
    label.setStyleSheet(ERROR_STYLE)
    if hidden:
        label.hide()
    return label


def password_edit(name: str) -> QLineEdit:
    """A password field: never echoed."""
    edit = QLineEdit()
    edit.setObjectName(name)
    edit.setEchoMode(QLineEdit.EchoMode.Password)
    return edit
