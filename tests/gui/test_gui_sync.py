"""The scheduled refresh in the window's status bar: what, how far, how long left, then what it did."""

from __future__ import annotations

from gui_helpers import FAMILY, open_family

from maelis_desk.ui import sync_status


def test_status_bar_shows_the_refresh_then_its_report(qtbot, window, desk, simulator, monkeypatch):
    open_family(qtbot, window, FAMILY)
    desk.refresher.store.fresh = desk.refresher.store.fresh * 0  # what the opening just read is due again
    simulator.set_latency(0.15)
    monkeypatch.setattr(sync_status, "POLL_MS", 50)
    window.sync_status.timer.setInterval(50)
    seen = []
    window.sync_status.timer.timeout.connect(lambda: seen.append(window.sync_status.text()))
    window.jobs.sync_now()
    qtbot.waitUntil(lambda: any("Rafraîchissement du cache" in t for t in seen), timeout=10000)
    text = next(t for t in seen if "Rafraîchissement du cache" in t)
    assert " / " in text and "listes" in text and "%" in text  # how far
    qtbot.waitUntil(lambda: not window.jobs.syncing, timeout=30000)
    qtbot.waitUntil(lambda: window.sync_status.text().startswith("Cache rafraîchi"), timeout=5000)
    assert "listes relues" in window.sync_status.text()
    assert any("reste ≈" in t for t in seen)  # how long left, once the pace is known
