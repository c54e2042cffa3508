"""Is there a screen to open the window on? Asked before Qt is, because Qt
answers "no" with an English message and an abort (a core dump): no display,
a display that does not answer, or an xcb platform plugin that cannot load
because a system library is missing (libxcb-cursor0 on a fresh Debian).

`problem()` returns the French sentence to print, or None when Qt can start.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import re
import sys
from pathlib import Path

SETUP_HINT = "lancez scripts/setup.sh, qui installe les bibliothèques nécessaires"
# Platforms that need no screen (tests, screenshots, remote access).
HEADLESS = {"offscreen", "minimal", "vnc", "linuxfb", "eglfs", "vkkhrdisplay", "minimalegl"}


def problem(environ: dict[str, str] | None = None) -> str | None:
    env = os.environ if environ is None else environ
    if not sys.platform.startswith("linux"):
        return None
    platform = (env.get("QT_QPA_PLATFORM") or "").split(":")[0].split(";")[0].strip().lower()
    if platform in HEADLESS:
        return None
    wayland = bool(env.get("WAYLAND_DISPLAY")) and platform in ("", "wayland")
    if wayland:
        return None
    display = env.get("DISPLAY", "")
    if not display:
        return ("Aucun écran : la fenêtre du poste ne peut pas s'ouvrir ici (ni DISPLAY ni WAYLAND_DISPLAY). "
                "Lancez-la dans une session graphique, ou utilisez les commandes "
                "(./desk.sh --help).")
    missing = xcb_plugin_problem()
    if missing:
        return missing
    if not _x_answers(display):
        return (f"L'écran « {display} » ne répond pas : la fenêtre du poste ne peut pas s'ouvrir. "
                "Vérifiez que la session graphique est ouverte (variable DISPLAY).")
    return None


def _xcb_plugin() -> Path | None:
    try:
        import PySide6
    except ImportError:  # pragma: no cover - the desk depends on it
        return None
    plugin = Path(PySide6.__file__).parent / "Qt" / "plugins" / "platforms" / "libqxcb.so"
    return plugin if plugin.exists() else None


def xcb_plugin_problem(plugin: Path | None = None) -> str | None:
    """Load Qt's xcb plugin as Qt would; a missing library becomes a French sentence."""
    plugin = plugin or _xcb_plugin()
    if plugin is None:
        return None
    from PySide6 import QtGui  # noqa: F401  (loads the Qt libraries the plugin links to)

    try:
        ctypes.CDLL(str(plugin))
    except OSError as exc:
        return missing_library_text(str(exc))
    return None


def missing_library_text(error: str) -> str:
    found = re.search(r"(lib[\w.+-]+\.so[\w.]*)", error.split(":", 1)[-1]) or re.search(r"(lib[\w.+-]+\.so[\w.]*)", error)
    name = found.group(1) if found else error
    return (f"La fenêtre du poste ne peut pas s'ouvrir : il manque au système la bibliothèque {name} "
            f"(pour l'affichage X11) ; {SETUP_HINT}.")


def _x_answers(display: str) -> bool:
    """Connect to the X server and hang up (libxcb, as Qt's xcb platform does)."""
    name = ctypes.util.find_library("xcb") or "libxcb.so.1"
    try:
        xcb = ctypes.CDLL(name)
    except OSError:
        return True  # the plugin check above names what is missing
    xcb.xcb_connect.restype = ctypes.c_void_p
    xcb.xcb_connect.argtypes = [ctypes.c_char_p, ctypes.c_void_p]
    xcb.xcb_connection_has_error.argtypes = [ctypes.c_void_p]
    xcb.xcb_disconnect.argtypes = [ctypes.c_void_p]
    connection = xcb.xcb_connect(display.encode(), None)
    try:
        return bool(connection) and xcb.xcb_connection_has_error(connection) == 0
    finally:
        if connection:
            xcb.xcb_disconnect(connection)
