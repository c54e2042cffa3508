"""Point 6 of issue 8: refused credentials are not an outage."""

from __future__ import annotations

import os
import subprocess
import sys

from maelis_desk.services import State

from integration_helpers import DEMO_FAMILY


def test_cli_exits_4_with_cached_figures_marked(simulator, tmp_path):
    env = {**os.environ, "MAELIS_DESK_URL": simulator.url, "MAELIS_DESK_USER": "demo",
           "MAELIS_DESK_HOME": str(tmp_path / "home"), "MAELIS_DESK_DATABASE": str(tmp_path / "d.sqlite3")}

    def run(password):
        return subprocess.run([sys.executable, "-m", "maelis_desk", "invoices", str(DEMO_FAMILY)],
                              capture_output=True, text=True, timeout=60,
                              env={**env, "MAELIS_DESK_PASSWORD": password})

    assert run("demo").returncode == 0
    result = run("wrong")
    assert result.returncode == 4, result.stderr
    assert "€" in result.stdout and "cache" in result.stderr and "refusé l'identification" in result.stderr
    assert "Traceback" not in result.stderr


def test_outbox_holds_while_the_refused_credentials_are_unchanged(simulator, make_desk):
    desk = make_desk(password="wrong")
    assert desk.reader.health.snapshot().state is State.UNKNOWN
    good = make_desk()
    good.reader.open_family(DEMO_FAMILY)
    desk = make_desk(password="wrong")
    view = desk.reader.open_family(DEMO_FAMILY)
    assert view.freshness.from_cache and desk.health.snapshot().state is State.REFUSED
    assert desk.credentials.known_wrong()
    report = desk.transmitter.run_once()
    assert report.held and report.sent == 0
    again = make_desk(password="wrong")  # another process, same wrong credentials
    assert again.transmitter.run_once().held
    fixed = make_desk()  # credentials changed: no longer held
    assert not fixed.credentials.known_wrong() and not fixed.transmitter.run_once().held
    assert simulator.applied_payments() == []


def test_a_read_that_succeeds_lifts_the_hold(simulator, make_desk):
    make_desk().reader.open_family(DEMO_FAMILY)  # in the cache
    desk = make_desk(password="wrong")
    view = desk.reader.open_family(DEMO_FAMILY)
    assert view.freshness.from_cache and desk.credentials.known_wrong()
    simulator.app.password = "wrong"  # Maelis' side: the account now takes these credentials
    desk.health.reset()  # the breaker's wait, elapsed
    view = desk.reader.open_family(DEMO_FAMILY)
    assert not view.freshness.from_cache
    assert not desk.credentials.known_wrong() and not desk.transmitter.run_once().held
    assert not make_desk(password="wrong").credentials.known_wrong()  # forgotten in the database too
