"""Integration fixtures: the demo Maelis on 127.0.0.1 and desks talking to it over real HTTP."""

from __future__ import annotations

import pytest

from maelis_desk.config import load_settings
from maelis_desk.services import Desk
from maelis_desk.simulator import Simulator

from integration_helpers import DEMO_FAMILY  # noqa: F401 - re-exported for the fixtures
from session_helpers import open_session


@pytest.fixture
def simulator(tmp_path):
    with Simulator(port=0, families=40, state_dir=tmp_path / "maelis") as sim:
        yield sim


@pytest.fixture
def make_desk(simulator, tmp_path):
    """Open a desk on the simulator; one at a time (the database binding is per process)."""
    opened = []

    def make(*, timeout: float = 2.0, offline: bool = False, password: str = "demo", database=None,
             session: bool = True, **extra):
        for desk in opened:
            desk.close()
        opened.clear()
        settings = load_settings(
            {
                "url": simulator.url,
                "user": "demo",
                "password": password,
                "timeout": timeout,
                "offline": offline,
                "database": str(database or tmp_path / "desk.sqlite3"),
                **extra,
            }
        )
        desk = Desk.open(settings)
        opened.append(desk)
        if session:  # taking money needs the desk's cash session open
            open_session(desk)
        return desk

    yield make
    for desk in opened:
        desk.close()
