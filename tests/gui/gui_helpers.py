"""Helpers shared by the GUI tests (the fixtures are in conftest.py)."""

from __future__ import annotations

import time

from PySide6.QtCore import QTimer

TIMEOUT = 1.5  # the desk's Maelis timeout in these tests, seconds
FAMILY = 1312  # the hand-written demo family


def open_family(qtbot, win, number: int = FAMILY, timeout: int = 15000):
    """Open a family through the window and wait for its tables."""
    with qtbot.waitSignal(win.family_shown, timeout=timeout):
        win.open_family(number, focus=True)
    return win.view


class StallMeter:
    """Measures the longest gap between ticks of a 10 ms QTimer: how long the
    GUI event loop was kept from running."""

    def __init__(self, interval_ms: int = 10):
        self.timer = QTimer()
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(self._tick)
        self.longest = 0.0
        self.ticks = 0
        self._last: float | None = None

    def _tick(self) -> None:
        now = time.perf_counter()
        if self._last is not None:
            self.longest = max(self.longest, now - self._last)
        self._last = now
        self.ticks += 1

    def start(self) -> StallMeter:
        self._last = time.perf_counter()
        self.timer.start()
        return self

    def stop(self) -> float:
        self.timer.stop()
        return self.longest
