"""The desk's jobs that run on their own, in one object the window observes.

- the outbox: payments on their way to Maelis, sent every 15 s (and 2 s after the
  start, for what a previous session left), one pass at a time;
- the scheduled refresh: every 10 min, the lists likely to have changed re-read
  within a budget of calls (services/sync.py);
- Maelis' state (en ligne / lent / hors ligne), read every 3 s, and after each
  transmission (its calls tell the state too).

In offline mode nothing is sent nor re-read; the state is still read (it says so).
Every job runs through ui/worker.py, off the GUI thread; its result comes back as a
signal. The window connects to the signals and shows; it asks for a job with
`transmit_now()` (a payment just recorded), never runs one itself.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, QTimer, Signal

from ..services import Desk
from . import worker

HEALTH_EVERY_MS = 3000
TRANSMIT_EVERY_MS = 15000  # the outbox: payments on their way to Maelis
FIRST_TRANSMIT_MS = 2000  # what a previous session left in the outbox, soon after the start
SYNC_EVERY_MS = 10 * 60 * 1000  # the scheduled refresh of lists likely to have changed
SYNC_BUDGET = 600  # readInvoices calls per run at most (a pass takes several runs; see services/sync.py)


class BackgroundJobs(QObject):
    """Transmission, scheduled refresh and health checks, with their timers and policy."""

    health_read = Signal(object)  # a services Snapshot
    transmitted = Signal(object)  # a transmission report; None when the pass failed
    sync_started = Signal()
    synced = Signal(object)  # a refresh report; None when the run failed

    def __init__(self, desk: Desk, *, offline_mode: bool, parent: QObject | None = None):
        super().__init__(parent)
        self.desk = desk
        self.offline_mode = offline_mode
        self.stopped = False
        self._health_task = worker.Latest()
        self._transmit_task = worker.Latest()
        self._sync_task = worker.Latest()
        self._probe_task = worker.Latest()
        self.health_timer = self._timer(HEALTH_EVERY_MS, self.refresh_health)
        self.transmit_timer = self._timer(TRANSMIT_EVERY_MS, self.transmit_now)
        self.sync_timer = self._timer(SYNC_EVERY_MS, self.sync_now)

    def _timer(self, every_ms: int, job) -> QTimer:
        timer = QTimer(self)
        timer.setInterval(every_ms)
        timer.timeout.connect(job)
        return timer

    def start(self) -> None:
        """The timers run; Maelis' state is read now, the outbox sent soon (online)."""
        self.health_timer.start()
        if not self.offline_mode:
            self.transmit_timer.start()
            self.sync_timer.start()
            QTimer.singleShot(FIRST_TRANSMIT_MS, self, self.transmit_now)
            # Maelis' state from the start, not « Maelis : ? » until the first family
            reader = self.desk.reader
            self._probe_task.run(self, reader.probe, lambda _none: self.refresh_health(),
                                 lambda _exc: self.refresh_health(), pool=worker.network_pool(), label="")
        self.refresh_health()

    def stop(self) -> None:
        """No job starts any more; those in flight are cancelled (their results ignored)."""
        self.stopped = True
        for timer in (self.health_timer, self.transmit_timer, self.sync_timer):
            timer.stop()
        self.desk.refresher.cancel()
        for task in (self._transmit_task, self._sync_task, self._health_task, self._probe_task):
            task.cancel()

    @property
    def busy(self) -> bool:
        return (self._health_task.busy or self._transmit_task.busy or self._sync_task.busy
                or self._probe_task.busy)

    # -- the jobs --------------------------------------------------------------------------

    def refresh_health(self) -> None:
        """Read Maelis' state (the health service's snapshot, a disk-pool task); emits health_read."""
        if self.stopped or self._health_task.busy:
            return
        self._health_task.run(self, self.desk.health.snapshot, self.health_read.emit, pool=worker.disk_pool())

    def transmit_now(self) -> None:
        """Send what the outbox holds (one pass at a time; never in offline mode); emits transmitted."""
        if self.stopped or self.offline_mode or self._transmit_task.busy:
            return
        self._transmit_task.run(self, self.desk.transmitter.run_once, self.transmission_ended,
                                lambda _exc: self.transmission_ended(None), pool=worker.network_pool(), label="")

    def transmission_ended(self, report) -> None:
        """A pass of the transmitter ended, this object's or another's (the outbox dialog's
        « Envoyer maintenant »): emits transmitted, then reads Maelis' state again after a
        pass that ran (the transmitter's calls tell it too)."""
        self.transmitted.emit(report)
        if report is not None:
            self.refresh_health()

    def sync_now(self) -> None:
        """The scheduled refresh: re-read, within a budget, the lists likely to have changed."""
        if self.stopped or self.offline_mode or self._sync_task.busy:
            return
        refresher = self.desk.refresher
        self.sync_started.emit()
        self._sync_task.run(self, lambda: refresher.run_once(SYNC_BUDGET), self.synced.emit,
                            lambda _error: self.synced.emit(None), pool=worker.network_pool(), label="")

    @property
    def syncing(self) -> bool:
        return self._sync_task.busy
