"""The cycle collector runs on the GUI thread only (maelis_desk/ui/gc_guard.py):
a Qt object freed by a worker thread's collection deadlocked the window in CI."""

from __future__ import annotations

import gc
import threading

from PySide6.QtCore import QObject

from maelis_desk.ui import gc_guard


class _Cycle:
    def __init__(self):
        self.me = self
        self.qt = QObject()  # a Qt object only a collection frees


def test_collections_happen_on_the_gui_thread_only(qapp, qtbot):
    guard = gc_guard.install(qapp)
    assert not gc.isenabled()
    threads: list[str] = []

    def seen(phase, info):
        if phase == "start":
            threads.append(threading.current_thread().name)

    gc.callbacks.append(seen)
    try:
        def allocate():
            for _ in range(20_000):
                _Cycle()  # garbage in cycles, made on a worker: far past every threshold

        worker = threading.Thread(target=allocate, name="worker")
        worker.start()
        worker.join()
        assert threads == []  # the worker never collected
        assert gc.get_count()[0] > gc.get_threshold()[0]
        before = guard.collections
        qtbot.waitUntil(lambda: guard.collections > before, timeout=3000)
    finally:
        gc.callbacks.remove(seen)
    assert threads and set(threads) == {threading.main_thread().name}
