"""Fixtures of the GUI tests: a real demo Maelis on 127.0.0.1, settings
pointing at it with a short timeout, an open Desk, the main window.

Qt runs offscreen (tests/conftest.py). The offscreen platform plugin warns
"This plugin does not support propagateSizeHints()" whenever a window's size
constraints change; that is a limitation of the plugin, not of the desk, so
only that message is ignored (every other Qt warning still fails a test).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from gui_helpers import TIMEOUT
from session_helpers import open_session

from maelis_desk import config
from maelis_desk.services import Desk
from maelis_desk.simulator import Simulator
from maelis_desk.ui import worker

HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(config, items):
    for item in items:
        if HERE in Path(str(item.fspath)).resolve().parents:
            item.add_marker(pytest.mark.qt_log_ignore(r"This plugin does not support propagateSizeHints"))


@pytest.fixture(autouse=True)
def _gc_on_the_gui_thread(qapp):
    """As in the application (maelis_desk/ui/gc_guard.py): a Qt object collected
    by a worker thread deadlocks against the GUI thread."""
    import gc

    from maelis_desk.ui import gc_guard

    gc_guard.install(qapp)
    yield
    gc.collect()  # here, on the GUI thread; the tests that follow have no event loop to run the guard
    gc.enable()


@pytest.fixture
def simulator(tmp_path):
    sim = Simulator(port=0, families=300, state_dir=tmp_path / "simulator", user="demo", password="demo").start()
    yield sim
    sim.stop()


@pytest.fixture
def settings(simulator, desk_home):
    return config.load_settings(
        {"url": simulator.url, "user": "demo", "password": "demo", "timeout": TIMEOUT, "operator": "Martine"}
    )


@pytest.fixture
def desk(settings, qapp):
    desk = Desk.open(settings)
    open_session(desk)  # taking money needs the desk's cash session open
    yield desk
    worker.shutdown(10.0)  # no call of this test may outlive its desk
    desk.close()


@pytest.fixture
def window(qtbot, desk, settings):
    from maelis_desk.ui.main_window import MainWindow

    win = MainWindow(desk, settings)
    win.resize(1280, 800)
    win.show()
    qtbot.waitExposed(win)
    yield win
    if win.isVisible():
        win.close()
    win.deleteLater()

