"""The scheduled refresh in the status bar: what it reads, how far, how long left;
then, for a while, what the last run did."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QLabel

from ..formatting import count_fr
from ..services.sync import Progress, SyncReport

POLL_MS = 1000
KEEP_REPORT_MS = 60_000


class SyncStatus(QLabel):
    """Polls `progress()` (thread-safe, from services) while a run is on."""

    def __init__(self, progress: Callable[[], Progress | None], parent=None):
        super().__init__("", parent)
        self.setObjectName("syncLabel")
        self._progress = progress
        self.timer = QTimer(self)
        self.timer.setInterval(POLL_MS)
        self.timer.timeout.connect(self.poll)
        self._clear = QTimer(self)
        self._clear.setSingleShot(True)
        self._clear.timeout.connect(lambda: self.setText(""))
        self.hide()

    def started(self) -> None:
        self._clear.stop()
        self.timer.start()
        self.poll()

    def poll(self) -> None:
        progress = self._progress()
        if progress is None:
            return
        self.setText(f"⟳ {progress.text()}")
        self.setToolTip("Le cache des factures est relu en arrière-plan, deux appels à la fois au plus, "
                        "toujours après les lectures du guichet.")
        self.show()

    def finished(self, report: SyncReport | None) -> None:
        self.timer.stop()
        if report is None or (not report.calls and not report.stopped):
            self.setText("")
            self.hide()
            return
        text = (f"Cache rafraîchi : {count_fr(len(report.refreshed))} listes relues, "
                f"{count_fr(report.changed)} changées")
        if report.stopped:
            text += f" — arrêt : {report.stopped}"
        elif report.remaining:
            text += f" — reste {count_fr(report.remaining)} listes"
        self.setText(text)
        self.setToolTip("\n".join(report.summary()))
        self.show()
        self._clear.start(KEEP_REPORT_MS)
