"""The scheduled refresh against the demo Maelis over real HTTP: what a pass
re-reads, a billing run caught, at most two calls in flight, the counter
first, a kill resumed without redoing, the breaker and the back-off."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from datetime import date, datetime, timedelta, timezone

import pytest

from maelis_desk.config import load_settings
from maelis_desk.services import Desk
from maelis_desk.services import sync as sync_module
from maelis_desk.simulator import Simulator
from maelis_desk.simulator.data import FIRST_FAMILY

FAMILIES = 16
BEFORE = date(2026, 11, 23)  # the canteen (CLAE, 102) bills on the 24th
BILLING = date(2026, 11, 24)


def _settings(url: str, database, timeout: float = 2.0):
    return load_settings({"url": url, "user": "demo", "password": "demo", "timeout": timeout,
                          "database": str(database)})


def _truth(sim: Simulator) -> dict[tuple[int, int], tuple]:
    data = sim.data
    return {(f, code): tuple((i.num, i.paid, i.paid_tg, i.date_transmission) for i in invs)
            for f in range(FIRST_FAMILY, FIRST_FAMILY + FAMILIES)
            for code, invs in data._all_invoices(f).items()}


@pytest.fixture
def world(tmp_path):
    """A desk whose cache was filled on the 23rd (families read, not opened),
    and the demo Maelis of the 24th on the same port."""
    state = tmp_path / "maelis"
    before = Simulator(families=FAMILIES, state_dir=state, today=BEFORE).start()
    desk = Desk.open(_settings(before.url, tmp_path / "desk.sqlite3"))
    filled_at = datetime(2026, 11, 23, 20, 0, tzinfo=timezone.utc)
    desk.reader.clock = lambda: filled_at
    for number in range(FIRST_FAMILY, FIRST_FAMILY + FAMILIES):
        desk.reader.family(number, opened=False)
        desk.reader.invoices(number)
    old = _truth(before)
    port = before.port
    before.stop()
    after = Simulator(families=FAMILIES, state_dir=state, today=BILLING, port=port).start()
    night = datetime(2026, 11, 24, 1, 0, tzinfo=timezone.utc)
    desk.reader.clock = lambda: night
    yield desk, after, old
    desk.close()
    after.stop()


def test_a_pass_catches_the_billing_run_and_every_changed_list(world):
    desk, sim, old = world
    new = _truth(sim)
    changed = {k for k in set(old) | set(new) if old.get(k) != new.get(k)}
    assert any(code == 102 for _, code in changed)  # the canteen billed
    lists = desk.refresher.store.total_lists()
    report = desk.refresher.run_once(budget=10_000)
    assert report.finished and report.stopped is None
    assert 102 in report.new_regies
    read = set(report.refreshed)
    assert changed <= read, f"missed: {sorted(changed - read)}"
    assert report.changed == len(changed)
    assert report.calls < lists  # never the whole n × m
    # the canteen's lists were all swept, empty ones too
    assert {(f, 102) for f in range(FIRST_FAMILY, FIRST_FAMILY + FAMILIES)} <= read
    for family, code in changed:  # the cache now says what Maelis says
        cached = desk.cache.load_invoices(family, code)[code].invoices
        assert [(i.number, i.paid) for i in cached] == [(n, p) for n, p, _, _ in new.get((family, code), ())]
    # the same night again: nothing to do
    again = desk.refresher.run_once(budget=10_000)
    assert again.calls == 0 and again.idle


def test_at_most_two_calls_in_flight_and_the_counter_first(world):
    desk, sim, _ = world
    sim.set_latency(0.03)
    client = desk.reader.client
    original = client.read_invoices
    lock = threading.Lock()
    state = {"sync": 0, "max_sync": 0, "sync_during_counter": 0}

    def watched(*args, **kwargs):
        background = threading.current_thread().name.startswith("maelis-sync")
        with lock:
            if background:
                state["sync"] += 1
                state["max_sync"] = max(state["max_sync"], state["sync"])
                if desk.reader.counter_busy():
                    state["sync_during_counter"] += 1
        try:
            return original(*args, **kwargs)
        finally:
            if background:
                with lock:
                    state["sync"] -= 1

    client.read_invoices = watched
    result = {}
    runner = threading.Thread(target=lambda: result.update(r=desk.refresher.run_once(budget=40)))
    runner.start()
    time.sleep(0.3)
    t0 = time.monotonic()
    view = desk.reader.open_family(FIRST_FAMILY + 3)  # a cashier opens a family meanwhile
    counter_time = time.monotonic() - t0
    runner.join(60)
    assert result["r"].calls == 40
    assert state["max_sync"] == 2
    # only calls already past the gate when the cashier started may overlap (at most 2)
    assert state["sync_during_counter"] <= 2
    assert view.regies and counter_time < 2.0


def test_a_killed_run_resumes_without_rereading(world, tmp_path):
    desk, sim, _ = world
    env = dict(os.environ, MAELIS_DESK_URL=sim.url, MAELIS_DESK_USER="demo", MAELIS_DESK_PASSWORD="demo",
               MAELIS_DESK_DATABASE=str(tmp_path / "desk.sqlite3"), MAELIS_DESK_FAILPOINT="sync-batch",
               MAELIS_DESK_FAKE_NOW="2026-11-24T01:00:00+00:00")
    code = ("import sys, datetime; from maelis_desk import cli; from maelis_desk.services import desk as d;"
            "from maelis_desk.services import sync as s; s.BATCH = 20;"
            "now = datetime.datetime.fromisoformat(sys.argv[1]);"
            "orig = d.Desk.__init__\n"
            "def init(self, *a, **k):\n    orig(self, *a, **k); self.reader.clock = lambda: now\n"
            "d.Desk.__init__ = init\nsys.exit(cli.run(['sync', '--budget', '10000']))")
    proc = subprocess.run([sys.executable, "-c", code, env["MAELIS_DESK_FAKE_NOW"]], env=env, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == -9, proc.stderr  # killed by the failpoint after its first batch
    killed = desk.refresher.store.last_pass()
    assert killed is not None and not killed.finished and killed.calls == 20
    report = desk.refresher.run_once(budget=10_000)
    assert report.finished
    # a fresh desk on a copy would have needed both runs' calls: nothing was read twice
    assert report.calls + killed.calls == report.pass_state.calls
    assert len(set(report.refreshed)) == len(report.refreshed)


@pytest.mark.parametrize("fault", ["html500", "down", "slow"])
def test_maelis_unwell_stops_the_run_at_once_and_backs_off(world, fault):
    desk, sim, _ = world
    if fault == "slow":
        sim.set_latency(1.2)  # above half the desk's 2 s timeout: "lent"
    else:
        sim.set_fault(fault)
    report = desk.refresher.run_once(budget=500)
    assert report.stopped and report.calls <= sync_module.IN_FLIGHT
    assert report.pause_until is not None
    first_pause = report.pause_until - desk.reader.clock()
    assert first_pause == timedelta(seconds=sync_module.BACKOFF[0])
    # within the pause: not one call
    desk.reader.health.reset()
    waiting = desk.refresher.run_once(budget=500)
    assert waiting.calls == 0 and "pause" in waiting.idle
    # after it, Maelis still unwell: a longer pause
    later = report.pause_until + timedelta(seconds=1)
    desk.reader.clock = lambda: later
    desk.reader.health.reset()
    second = desk.refresher.run_once(budget=500)
    assert second.stopped and second.pause_until - later == timedelta(seconds=sync_module.BACKOFF[1])
    # Maelis well again: the pass goes on to its end
    sim.set_fault(None)
    sim.set_latency(0)
    desk.reader.health.reset()
    desk.reader.clock = lambda: second.pause_until + timedelta(seconds=1)
    done = desk.refresher.run_once(budget=10_000)
    assert done.finished and done.stopped is None


def test_cli_sync_progress_on_the_demo(tmp_path):
    env = dict(os.environ, MAELIS_DESK_HOME=str(tmp_path / "home"), MAELIS_DESK_DEMO_FAMILIES="12")
    env.pop("MAELIS_DESK_URL", None)
    proc = subprocess.run([sys.executable, "-m", "maelis_desk", "sync", "--progress"], env=env,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "premier remplissage avec les 12 familles" in out
    assert "Rafraîchissement du cache — premier remplissage (démo) : 1 / 12 familles" in out  # a log line
    assert "Listes de factures lues :" in out and "Passe terminée" in out
    again = subprocess.run([sys.executable, "-m", "maelis_desk", "sync", "--progress", "--new-pass"], env=env,
                           capture_output=True, text=True, timeout=120)
    assert again.returncode == 0, again.stderr
    assert "Listes de factures relues :" in again.stdout and "Passe terminée" in again.stdout
