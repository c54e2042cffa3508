"""The window with no screen to open on: a French sentence and a clean exit
(code 1), not Qt's English abort and its core dump."""

from __future__ import annotations

import os
import subprocess
import sys

from maelis_desk.ui import display


def window(env_changes: dict[str, str | None], tmp_path) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    env["MAELIS_DESK_HOME"] = str(tmp_path / "home")
    for key, value in env_changes.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return subprocess.run([sys.executable, "-m", "maelis_desk"], capture_output=True, text=True, env=env,
                          timeout=60)


def test_no_display_at_all(tmp_path):
    result = window({"DISPLAY": None, "WAYLAND_DISPLAY": None, "QT_QPA_PLATFORM": None}, tmp_path)
    assert result.returncode == 1, result.stderr  # not -6 (SIGABRT) nor 134
    assert "Aucun écran" in result.stderr
    assert "qt.qpa" not in result.stderr and "Aborted" not in result.stderr and "could not" not in result.stderr


def test_a_display_that_does_not_answer(tmp_path):
    result = window({"DISPLAY": ":243", "WAYLAND_DISPLAY": None, "QT_QPA_PLATFORM": "xcb"}, tmp_path)
    assert result.returncode == 1, result.stderr
    assert "L'écran « :243 » ne répond pas" in result.stderr


def test_headless_platforms_need_no_screen():
    assert display.problem({"QT_QPA_PLATFORM": "offscreen"}) is None
    assert display.problem({"QT_QPA_PLATFORM": "minimal"}) is None
    assert display.problem({"WAYLAND_DISPLAY": "wayland-0"}) is None
    assert "Aucun écran" in display.problem({})
    assert "Aucun écran" in display.problem({"QT_QPA_PLATFORM": "xcb", "WAYLAND_DISPLAY": "wayland-0"})


def test_missing_library_named_in_french():
    text = display.missing_library_text(
        "/x/PySide6/Qt/plugins/platforms/libqxcb.so: libxcb-cursor.so.0: cannot open shared object file: "
        "No such file or directory")
    assert "libxcb-cursor.so.0" in text and "scripts/setup.sh" in text and "libqxcb" not in text


def test_this_machine_loads_the_xcb_plugin():
    """setup.sh installed every library Qt's xcb platform links to."""
    assert display.xcb_plugin_problem() is None
