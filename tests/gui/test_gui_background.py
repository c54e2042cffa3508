"""The desk's background jobs (ui/background.py) on their own, against the demo Maelis, and the window observing them."""

from __future__ import annotations

import dataclasses

import pytest
from gui_helpers import FAMILY

from maelis_desk.services import Desk, State
from maelis_desk.services.payments import Mode, PaymentRequest
from maelis_desk.ui import background, worker
from maelis_desk.ui.background import BackgroundJobs


@pytest.fixture
def jobs(qtbot, desk):
    jobs = BackgroundJobs(desk, offline_mode=False)
    yield jobs
    jobs.stop()
    worker.shutdown(10.0)
    jobs.deleteLater()


@pytest.fixture
def offline_desk(settings, qapp):
    desk = Desk.open(dataclasses.replace(settings, offline=True))
    yield desk
    worker.shutdown(10.0)
    desk.close()


def _record_a_payment(desk):
    regie = next(r for r in desk.reader.open_family(FAMILY).regies if r.to_pay)
    invoice = min(regie.to_pay, key=lambda i: i.remaining)
    return desk.payments.record(PaymentRequest(FAMILY, regie.regie.code, [invoice.number], invoice.remaining,
                                               Mode.CHEQUE, {"cheque_number": "4242"}))


def test_start_reads_the_state_and_runs_the_timers(qtbot, jobs):
    with qtbot.waitSignal(jobs.health_read, timeout=10000) as blocker:
        jobs.start()
    assert blocker.args[0].state in set(State)
    intervals = {t: t.interval() for t in (jobs.health_timer, jobs.transmit_timer, jobs.sync_timer) if t.isActive()}
    assert intervals == {jobs.health_timer: background.HEALTH_EVERY_MS,
                         jobs.transmit_timer: background.TRANSMIT_EVERY_MS,
                         jobs.sync_timer: background.SYNC_EVERY_MS}


def test_the_state_is_known_soon_after_the_start(qtbot, jobs):
    """Issue 9 point 8: the status bar said « Maelis : ? » until a family was opened (nothing
    had asked Maelis yet, with an empty outbox). The start asks once, off the GUI thread."""
    reads = []
    jobs.health_read.connect(reads.append)
    jobs.start()
    qtbot.waitUntil(lambda: any(r.state is State.ONLINE for r in reads), timeout=10000)


def test_a_transmission_sends_the_outbox_then_reads_the_state(qtbot, jobs, desk):
    record = _record_a_payment(desk)
    reads = []
    jobs.health_read.connect(reads.append)
    with qtbot.waitSignal(jobs.transmitted, timeout=15000) as blocker:
        jobs.transmit_now()
    report = blocker.args[0]
    assert report is not None and report.worked and report.sent + report.confirmed >= 1
    assert desk.payments_store.get(record.id).state in ("sent", "confirmed")
    qtbot.waitUntil(lambda: bool(reads), timeout=10000)  # the transmitter's calls tell Maelis' state
    assert reads[0].state is State.ONLINE


def test_one_transmission_at_a_time(qtbot, jobs, desk):
    passes = []
    jobs.transmitted.connect(passes.append)
    jobs.transmit_now()
    jobs.transmit_now()  # the first pass is still running: nothing more starts
    qtbot.waitUntil(lambda: not jobs.busy, timeout=15000)
    assert len(passes) == 1


def test_the_outbox_dialogs_pass_is_followed_like_its_own(qtbot, jobs):
    passes, reads = [], []
    jobs.transmitted.connect(passes.append)
    jobs.health_read.connect(reads.append)
    jobs.transmission_ended(None)  # a pass that failed: said, and the state is not read for it
    assert passes == [None] and not jobs.busy
    with qtbot.waitSignal(jobs.health_read, timeout=10000):
        jobs.transmission_ended(jobs.desk.transmitter.run_once())
    assert len(passes) == 2 and passes[1] is not None


def test_the_scheduled_refresh_says_it_starts_and_reports(qtbot, jobs, desk):
    desk.reader.open_family(FAMILY)
    started = []
    jobs.sync_started.connect(lambda: started.append(True))
    with qtbot.waitSignal(jobs.synced, timeout=30000) as blocker:
        jobs.sync_now()
        assert started == [True] and jobs.syncing
    assert blocker.args[0] is not None
    assert not jobs.syncing


def test_offline_nothing_is_sent_nor_read_again_but_the_state_is_told(qtbot, offline_desk):
    jobs = BackgroundJobs(offline_desk, offline_mode=True)
    try:
        with qtbot.waitSignal(jobs.health_read, timeout=10000):
            jobs.start()
        assert jobs.health_timer.isActive()
        assert not jobs.transmit_timer.isActive() and not jobs.sync_timer.isActive()
        jobs.transmit_now()
        jobs.sync_now()
        assert not jobs.busy and not jobs.syncing
    finally:
        jobs.stop()
        jobs.deleteLater()


def test_stopped_no_job_starts(qtbot, jobs):
    jobs.start()
    jobs.stop()
    assert not any(t.isActive() for t in (jobs.health_timer, jobs.transmit_timer, jobs.sync_timer))
    jobs.refresh_health()
    jobs.transmit_now()
    jobs.sync_now()
    assert not jobs.busy


def test_the_window_observes_the_jobs_and_stops_them_when_closing(qtbot, window):
    jobs = window.jobs
    assert isinstance(jobs, BackgroundJobs) and jobs.parent() is window
    assert jobs.transmit_timer.isActive() and jobs.sync_timer.isActive() and jobs.health_timer.isActive()
    with qtbot.waitSignal(window.health_shown, timeout=10000):
        jobs.refresh_health()  # a job's result is shown by the window
    assert "●" in window.state_label.text()
    window.close()
    assert jobs.stopped and not jobs.busy
    assert not any(t.isActive() for t in (jobs.health_timer, jobs.transmit_timer, jobs.sync_timer))
