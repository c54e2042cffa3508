"""Python's cycle collector runs on the GUI thread only.

Left to itself, the collector runs in whichever thread happens to allocate
when a threshold is crossed — often a worker parsing a SOAP answer with lxml.
If the cycle it frees holds a Qt object, that object is destroyed on the
worker: ~QObject takes Qt's signal-slot mutex, then waits for the GIL (to ask
PySide for a Python override), while the GUI thread holds the GIL and waits
for that mutex in a connect or disconnect. Seen in CI: the window froze for
good while adding a régie tab (QWidget::setStyle → QObject::disconnect) as a
worker collected garbage inside zeep. qutebrowser hit the same and does the
same: automatic collection off, and the generations collected from a timer of
the GUI thread, as often as the thresholds would have asked for.
"""

from __future__ import annotations

import gc

from PySide6.QtCore import QObject, QTimer

INTERVAL_MS = 250


class MainThreadGC(QObject):
    def __init__(self, parent: QObject, interval_ms: int = INTERVAL_MS):
        super().__init__(parent)
        gc.disable()
        self.collections = 0
        self._timer = QTimer(self)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self.collect_if_due)
        self._timer.start()

    def collect_if_due(self) -> None:
        """What automatic collection would have done since the last tick, here."""
        threshold, count = gc.get_threshold(), gc.get_count()
        if count[0] <= threshold[0]:
            return
        generation = 0
        if count[1] > threshold[1]:
            generation = 2 if count[2] > threshold[2] else 1
        gc.collect(generation)
        self.collections += 1


def install(app: QObject) -> MainThreadGC:
    """Once per application (automatic collection off again if someone turned it
    on); returns the guard, kept alive as the application's child."""
    guard = app.findChild(MainThreadGC)
    gc.disable()
    return guard if guard is not None else MainThreadGC(app)
