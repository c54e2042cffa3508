"""The one worker idiom: results in the GUI thread, cancel, dead parents,
expected and unexpected errors, bounded shutdown."""

from __future__ import annotations

import logging
import threading
import time

import pytest
import shiboken6
from gui_helpers import FAMILY, open_family
from PySide6.QtCore import QThread, QThreadPool
from PySide6.QtWidgets import QApplication, QMessageBox, QWidget

from maelis_desk.services.errors import MaelisUnreachable
from maelis_desk.ui import worker


@pytest.fixture
def parent(qtbot):
    widget = QWidget()
    qtbot.addWidget(widget)
    return widget


@pytest.fixture
def one_thread_pool(qapp):
    pool = QThreadPool()
    pool.setMaxThreadCount(1)
    yield pool
    pool.waitForDone(5000)


def test_result_comes_back_in_the_gui_thread(qtbot, parent):
    seen = {}

    def op():
        seen["op_thread"] = QThread.currentThread()
        return 42

    def done(value):
        seen["value"] = value
        seen["callback_thread"] = QThread.currentThread()

    task = worker.run_in_background(parent, op, done, label="Calcul…")
    qtbot.waitUntil(lambda: "value" in seen)
    assert seen["value"] == 42
    assert seen["callback_thread"] is QApplication.instance().thread()
    assert seen["op_thread"] is not QApplication.instance().thread()
    assert task.done and not task.cancelled


def test_expected_error_goes_to_on_failure_without_dialog(qtbot, parent):
    errors = []

    def op():
        raise MaelisUnreachable("Maelis est injoignable (connexion impossible).")

    worker.run_in_background(parent, op, lambda _r: None, errors.append)
    qtbot.waitUntil(lambda: bool(errors))
    assert worker.error_text(errors[0]) == "Maelis est injoignable (connexion impossible)."
    assert parent.findChild(QMessageBox) is None


def test_cancelled_task_result_is_ignored(qtbot, parent):
    release = threading.Event()
    results = []
    task = worker.run_in_background(parent, lambda: release.wait(5) and "late", results.append, results.append)
    task.cancel()
    release.set()
    qtbot.waitUntil(lambda: task.done)
    qtbot.wait(50)
    assert results == []


def test_queued_task_cancelled_never_runs(qtbot, parent, one_thread_pool):
    release = threading.Event()
    ran = []
    first = worker.run_in_background(parent, lambda: release.wait(5), pool=one_thread_pool, label="Premier")
    qtbot.waitUntil(lambda: first.started)
    second = worker.run_in_background(parent, lambda: ran.append(1), pool=one_thread_pool, label="Second")
    second.cancel()
    assert second.done  # taken out of the queue at once
    assert second not in worker.in_flight()
    release.set()
    qtbot.waitUntil(lambda: first.done)
    one_thread_pool.waitForDone(2000)
    assert ran == []


def test_critical_task_runs_even_when_cancelled(qtbot, parent, one_thread_pool):
    release = threading.Event()
    ran, results = [], []
    first = worker.run_in_background(parent, lambda: release.wait(5), pool=one_thread_pool)
    qtbot.waitUntil(lambda: first.started)
    write = worker.run_in_background(parent, lambda: ran.append("écrit"), results.append,
                                     pool=one_thread_pool, critical=True)
    write.cancel()
    assert not write.done  # still queued: a write is never dropped
    release.set()
    qtbot.waitUntil(lambda: write.done)
    assert ran == ["écrit"]
    assert results == []  # only its result is ignored


def test_callbacks_not_called_when_parent_is_gone(qtbot):
    parent = QWidget()
    release = threading.Event()
    results = []
    task = worker.run_in_background(parent, lambda: release.wait(5), results.append, results.append)
    shiboken6.delete(parent)
    release.set()
    qtbot.waitUntil(lambda: task.done)
    qtbot.wait(50)
    assert results == []


def test_activity_tells_what_is_in_flight(qtbot, parent):
    release = threading.Event()
    changes = []

    def record(n, label):
        changes.append((n, label))

    worker.activity().changed.connect(record)
    try:
        task = worker.run_in_background(parent, lambda: release.wait(5), label="Chargement de test…")
        assert (1, "Chargement de test…") in changes
        release.set()
        qtbot.waitUntil(lambda: task.done)
        assert changes[-1] == (0, "")
    finally:
        worker.activity().changed.disconnect(record)


def test_unexpected_exception_is_logged_shown_and_the_window_keeps_working(qtbot, window, caplog):
    failures = []

    def broken():
        raise KeyError("champ inattendu")

    with caplog.at_level(logging.ERROR, logger="maelis_desk.ui.worker"):
        worker.run_in_background(window, broken, lambda _r: None, failures.append, label="Bogue")
        qtbot.waitUntil(lambda: bool(failures))
    assert isinstance(failures[0], KeyError)
    assert "Traceback" in caplog.text and "champ inattendu" in caplog.text
    box = window.findChild(QMessageBox, "unexpectedErrorBox")
    assert box is not None and box.isVisible()
    assert "KeyError" in box.informativeText()
    assert "Traceback" in box.detailedText()
    # the window goes on: a family still opens, with the box still up
    open_family(qtbot, window)
    assert window.view.family.number == FAMILY
    box.close()


def test_bug_in_a_callback_is_shown_not_fatal(qtbot, window, caplog):
    def bad_callback(_value):
        raise RuntimeError("callback cassé")

    with caplog.at_level(logging.ERROR, logger="maelis_desk.ui.worker"):
        worker.run_in_background(window, lambda: 1, bad_callback)
        qtbot.waitUntil(lambda: window.findChild(QMessageBox, "unexpectedErrorBox") is not None)
    box = window.findChild(QMessageBox, "unexpectedErrorBox")
    assert "callback cassé" in box.informativeText()
    box.close()


def test_shutdown_is_bounded(qtbot, parent):
    release = threading.Event()
    task = worker.run_in_background(parent, lambda: release.wait(10))
    qtbot.waitUntil(lambda: task.started)
    started = time.monotonic()
    assert worker.shutdown(0.2) is False
    assert time.monotonic() - started < 1.0
    assert task.cancelled
    release.set()
    assert worker.shutdown(5.0) is True
