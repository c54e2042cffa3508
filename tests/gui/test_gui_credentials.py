"""Issue 8, point 6: refused credentials show the cache under a red banner that says where to fix them."""

from __future__ import annotations

import pytest
from gui_helpers import FAMILY, open_family
from PySide6.QtCore import Qt

from maelis_desk.services import State
from maelis_desk.services.errors import DeskError
from maelis_desk.ui.settings_dialog import SettingsDialog


def _refuse(simulator, refuse: bool) -> None:
    # Maelis' side: the desk's account password changed (or was re-enabled)
    simulator.app.password = "changed-on-maelis" if refuse else "demo"


def test_refused_credentials_red_banner_over_the_cache(qtbot, window, simulator, desk):
    view = open_family(qtbot, window)
    rows = window.family_pane.tabs.count()
    assert not window.credentials_banner.isVisible()

    _refuse(simulator, True)
    with qtbot.waitSignal(window.family_shown, timeout=15000):
        window.refresh()
    qtbot.waitUntil(lambda: window.credentials_banner.isVisible(), timeout=5000)
    assert desk.health.snapshot().state is State.REFUSED
    text = window.credentials_banner.label.text()
    assert "refusé l'identification" in text and "Réglages" in text and "Ctrl+," in text
    assert window.credentials_banner.objectName() == "errorBanner"  # red (style.qss)
    # the cached data is still shown, and the cache banner does not call it an outage
    assert window.view.family.number == FAMILY and window.family_pane.tabs.count() == rows
    assert window.view.due == view.due
    assert window.banner.kind == "cache"
    assert "Identification refusée" in window.banner.label.text()
    assert "ne répond pas" not in window.banner.label.text()
    assert "Identification refusée" in window.state_label.text()

    # its button opens the settings dialog
    qtbot.mouseClick(window.credentials_banner.button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: any(d.isVisible() for d in window.findChildren(SettingsDialog)), timeout=5000)
    for dialog in window.findChildren(SettingsDialog):
        dialog.reject()

    # lifted when a read succeeds again (the account re-enabled on Maelis' side)
    _refuse(simulator, False)
    desk.health.reset()  # the breaker's 20 s wait, elapsed
    with qtbot.waitSignal(window.family_shown, timeout=15000):
        window.refresh()
    qtbot.waitUntil(lambda: not window.credentials_banner.isVisible(), timeout=5000)
    assert not window.banner.isVisible()


def test_a_window_started_with_credentials_maelis_refused_shows_the_banner_at_once(qtbot, simulator, desk):
    from maelis_desk.ui.main_window import MainWindow

    _refuse(simulator, True)
    with pytest.raises(DeskError):
        desk.reader.open_family(FAMILY)
    desk.credentials._known = None  # as a new process would: read back from the database
    assert desk.credentials.known_wrong()
    win = MainWindow(desk)  # before any call to Maelis
    qtbot.addWidget(win)
    win.show()
    qtbot.waitUntil(lambda: win.credentials_banner.isVisible(), timeout=5000)
    win.close()
