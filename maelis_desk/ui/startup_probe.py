"""MAELIS_DESK_STARTUP_PROBE: how long the desk takes to start (tests/perf/bench_startup.py).

Unset (always, at a counter), nothing happens. Set, the window reports on
standard output, then quits as if closed by Ctrl+Q:

    maelis-desk-probe <mark>=<time.monotonic()> ...

`time.monotonic()` is CLOCK_MONOTONIC, the same clock in every process of
the machine, so the parent that launched the process compares the marks with
its own launch time. The marks, in order:

  gui      run_gui entered: Python started, the command line parsed, Qt imported
  desk     the database opened (migrated) and the demo Maelis started
  window   MainWindow built
  shown    show() called
  painted  the window's first paint event processed (offscreen, into its backing store)
  usable   after that paint, the start-up work of the GUI thread done (the nine régie
           pages built ahead, FamilyPane.warm_up, one per event-loop turn) and the event
           loop about to wait for events (QAbstractEventDispatcher.aboutToBlock): the
           cashier's first keystroke is handled at once and the first family opens
           without building pages. (The search field takes keys from `painted` on,
           between two pages.) Background calls started at start-up (the Maelis
           state, the outbox) may still be in flight: they run off the GUI thread.

`MAELIS_DESK_STARTUP_PROBE=open:N` then also opens family N and adds
`opened` (MainWindow.family_shown) and `opened_painted` (the next paint
processed, then the loop idle) before quitting, to measure the peak memory
with a family on screen. The line ends with `cpu_usable=`: the CPU time of the
process (user + system, all its threads) from its start to `usable`, steadier than
wall-clock on a loaded machine; and `peak_rss_kb=`: the process' peak resident
memory (VmHWM) when it reports.
"""

from __future__ import annotations

import os
import sys
import time

from PySide6.QtCore import QAbstractEventDispatcher, QEvent, QObject, QTimer
from PySide6.QtWidgets import QApplication

ENV = "MAELIS_DESK_STARTUP_PROBE"
PREFIX = "maelis-desk-probe"


def peak_rss_kb() -> int:
    """This process' peak resident memory so far (Linux: VmHWM). Not the ru_maxrss a parent gets
    from wait4: Linux carries into it the parent's own peak at the fork, before the exec."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def requested() -> str | None:
    return os.environ.get(ENV) or None


class StartupProbe(QObject):
    def __init__(self, spec: str):
        super().__init__()
        self.open_number = int(spec.split(":", 1)[1]) if spec.startswith("open:") else None
        self.marks: list[tuple[str, float]] = []
        self.cpu_usable: float | None = None
        self._window = None
        self._waiting_paint: str | None = None  # the mark the next paint leads to

    def mark(self, name: str) -> None:
        self.marks.append((name, time.monotonic()))
        if name == "usable":
            self.cpu_usable = time.process_time()  # every thread's, from the process' start

    def watch(self, window) -> None:
        """Called right after window.show_on_screen()."""
        self.mark("shown")
        self._window = window
        self._waiting_paint = "painted"
        window.installEventFilter(self)
        if self.open_number is not None:
            window.family_shown.connect(self._family_shown)

    def eventFilter(self, obj, event) -> bool:  # noqa: N802 - Qt's name
        if self._waiting_paint and obj is self._window and event.type() == QEvent.Type.Paint:
            # Queued behind the paint: runs once this paint (the whole window's, synchronous) is done.
            QTimer.singleShot(0, self._painted)
        return False

    def _painted(self) -> None:
        name, self._waiting_paint = self._waiting_paint, None
        if name is None:
            return
        self.mark(name)
        dispatcher = QAbstractEventDispatcher.instance()
        dispatcher.aboutToBlock.connect(self._idle)
        self._after_idle = "usable" if name == "painted" else "opened_idle"

    def _idle(self) -> None:
        if self._window.family_pane.warming_up:
            return  # aboutToBlock also comes between two zero-timers: not idle yet
        QAbstractEventDispatcher.instance().aboutToBlock.disconnect(self._idle)
        self.mark(self._after_idle)
        if self._after_idle == "usable" and self.open_number is not None:
            self._window.open_family(self.open_number)
            return
        self.report()
        QApplication.quit()

    def _family_shown(self, _number: int) -> None:
        self.mark("opened")
        self._waiting_paint = "opened_painted"
        self._window.update()  # the family's tables are dirty already; make sure the window repaints

    def report(self) -> None:
        marks = " ".join(f"{name}={value:.6f}" for name, value in self.marks)
        cpu = f" cpu_usable={self.cpu_usable:.6f}" if self.cpu_usable is not None else ""
        sys.stdout.write(f"{PREFIX} {marks}{cpu} peak_rss_kb={peak_rss_kb()}\n")
        sys.stdout.flush()
