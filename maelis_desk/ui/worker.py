"""The one worker idiom of the desk: every call into the services runs here,
off the GUI thread, and comes back to the GUI thread by a queued signal.

    task = run_in_background(self, lambda: desk.reader.search(text),
                             on_success=self._show_results,
                             on_failure=self._show_error,
                             label="Recherche…")
    ...
    task.cancel()   # its result, if it ever comes, is ignored

* A `Worker` is a `QRunnable`; its signals live on a separate `QObject`
  (`WorkerSignals`), owned by the `Task` handle that lives in the GUI thread,
  so no QObject is ever created or destroyed outside the GUI thread.
* Two bounded pools: `network_pool()` (SOAP calls, a few threads: Maelis is
  slow, and load on it matters) and `disk_pool()` (cache-only reads).
* `on_success(result)` and `on_failure(exc)` run in the GUI thread, and only
  if the task was not cancelled and `parent` still exists.
* Expected errors (`DeskError`: unreachable, refused, fault...) go to
  `on_failure` only: the caller shows them without a modal dialog.
  Anything else is a bug: it is logged with its traceback and shown in an
  error dialog opened with `.open()` (never `.exec()`); `on_failure` is still
  called so the caller can leave its busy state; the window keeps working.
* `shutdown(timeout)` cancels everything and waits, bounded, for the calls in
  flight (every SOAP call is itself bounded by the desk's timeout). Calls
  queued but not started are dropped, except `critical=True` ones (writes).
"""

from __future__ import annotations

import logging
import threading
import traceback
from collections.abc import Callable
from typing import Any

import shiboken6
from PySide6.QtCore import (
    QCoreApplication,
    QObject,
    QRunnable,
    Qt,
    QThreadPool,
    Signal,
    Slot,
)
from PySide6.QtWidgets import QMessageBox, QWidget

from ..services.errors import DeskError, as_desk_error

log = logging.getLogger(__name__)

NETWORK_THREADS = 4  # SOAP calls at once from one desk window
DISK_THREADS = 2  # cache-only reads

_pools: dict[str, QThreadPool] = {}
_graveyard: list[Task] = []  # finished tasks whose pool thread may still hold their signals


def _pool(kind: str, threads: int) -> QThreadPool:
    pool = _pools.get(kind)
    if pool is None or not shiboken6.isValid(pool):
        pool = QThreadPool(QCoreApplication.instance())  # dies with the application
        pool.setObjectName(f"maelis-desk-{kind}")
        pool.setMaxThreadCount(threads)
        _pools[kind] = pool
    return pool


def network_pool() -> QThreadPool:
    """The pool for calls that may reach Maelis."""
    return _pool("network", NETWORK_THREADS)


def disk_pool() -> QThreadPool:
    """The pool for reads of the local cache only."""
    return _pool("disk", DISK_THREADS)


# --- the runnable and its signals ----------------------------------------------


class WorkerSignals(QObject):
    """The signals of one Worker. Lives in the GUI thread (child of its Task)."""

    succeeded = Signal(object)
    failed = Signal(object, str)  # the exception, its formatted traceback ("" when expected)


class Worker(QRunnable):
    """Runs `op()` in a pool thread and emits its outcome on `signals`.

    It holds no reference to its Task (a QObject of the GUI thread must not
    be released from a pool thread); `released` tells the Task when the pool
    thread is done with the signals, so they outlive every emit."""

    def __init__(
        self,
        op: Callable[[], Any],
        signals: WorkerSignals,
        started: threading.Event,
        released: threading.Event,
        label: str,
    ):
        super().__init__()
        self.setAutoDelete(True)
        self._op = op
        self._signals = signals
        self._started = started
        self._released = released
        self._label = label or "background call"

    def run(self) -> None:  # in a pool thread
        op, signals, released = self._op, self._signals, self._released
        self._op = self._signals = None
        self._started.set()
        try:
            try:
                result = op()
            except DeskError as exc:
                log.info("%s: %s", self._label, exc.message)
                signals.failed.emit(exc, "")
            except Exception as exc:  # noqa: BLE001 - a bug: logged, shown, survived
                expected = as_desk_error(exc)  # the shared database lost mid-day is no bug
                if expected is not None:
                    log.info("%s: %s", self._label, expected.message)
                    signals.failed.emit(expected, "")
                    return
                text = traceback.format_exc()
                log.error("Unexpected error in %s:\n%s", self._label, text)
                signals.failed.emit(exc, text)
            else:
                signals.succeeded.emit(result)
        finally:
            del op, signals
            released.set()


# --- activity: what is in flight, for the status bar ----------------------------------


class _Activity(QObject):
    changed = Signal(int, str)  # labelled tasks in flight, label of the newest one

    def __init__(self) -> None:
        super().__init__()
        self.tasks: list[Task] = []

    def add(self, task: Task) -> None:
        self.tasks.append(task)
        self._emit()

    def remove(self, task: Task) -> None:
        if task in self.tasks:
            self.tasks.remove(task)
            self._emit()

    def _emit(self) -> None:
        visible = [t for t in self.tasks if t.label and not t.cancelled]
        label = visible[-1].label if visible else ""
        self.changed.emit(len(visible), label)


_activity: _Activity | None = None


def activity() -> _Activity:
    """The one object telling how many calls are in flight (GUI thread only)."""
    global _activity
    if _activity is None or not shiboken6.isValid(_activity):
        _activity = _Activity()
    return _activity


# --- the handle -------------------------------------------------------------------


class Task(QObject):
    """The handle of one background call. Lives in the GUI thread."""

    def __init__(
        self,
        parent: QObject | None,
        on_success: Callable[[Any], None] | None,
        on_failure: Callable[[BaseException], None] | None,
        pool: QThreadPool,
        label: str,
        critical: bool = False,
    ):
        super().__init__()  # no Qt parent: kept alive by the activity registry until done
        self.critical = critical
        self._owner = parent
        self._on_success = on_success
        self._on_failure = on_failure
        self._pool = pool
        self.label = label
        self.cancelled = False
        self.done = False
        self._started = threading.Event()
        self._released = threading.Event()
        self._runnable: Worker | None = None
        self.signals = WorkerSignals(self)
        self.signals.succeeded.connect(self._succeeded, Qt.ConnectionType.QueuedConnection)
        self.signals.failed.connect(self._failed, Qt.ConnectionType.QueuedConnection)

    def __repr__(self) -> str:
        state = "cancelled" if self.cancelled else ("done" if self.done else "running")
        return f"<Task {self.label!r} {state}>"

    @property
    def started(self) -> bool:
        return self._started.is_set()

    def cancel(self) -> None:
        """Ignore the result; take the call out of the queue if it has not started
        (unless it is critical: a write always runs, only its result is ignored)."""
        if self.done or self.cancelled:
            return
        self.cancelled = True
        runnable, self._runnable = self._runnable, None
        if runnable is not None and not self.started and not self.critical:
            try:
                taken = self._pool.tryTake(runnable)
            except RuntimeError:  # already run and deleted by the pool
                taken = False
            if taken:
                self._released.set()
                self._finish()
                return
        activity()._emit()

    def _owner_alive(self) -> bool:
        return self._owner is None or shiboken6.isValid(self._owner)

    def _finish(self) -> None:
        self.done = True
        self._runnable = None
        # Kept until its pool thread let go of the signals (see Worker).
        _graveyard[:] = [t for t in _graveyard if not t._released.is_set()]
        _graveyard.append(self)
        activity().remove(self)

    @Slot(object)
    def _succeeded(self, result: Any) -> None:
        self._finish()
        if self.cancelled or not self._owner_alive() or self._on_success is None:
            return
        call_safely(self._owner, self._on_success, result)

    @Slot(object, str)
    def _failed(self, exc: BaseException, trace: str) -> None:
        self._finish()
        if self.cancelled or not self._owner_alive():
            return
        if trace:  # unexpected: already logged, now shown
            show_unexpected(self._owner, exc, trace)
        if self._on_failure is not None:
            call_safely(self._owner, self._on_failure, exc)


def run_in_background(
    parent: QObject | None,
    op: Callable[[], Any],
    on_success: Callable[[Any], None] | None = None,
    on_failure: Callable[[BaseException], None] | None = None,
    *,
    pool: QThreadPool | None = None,
    label: str = "",
    critical: bool = False,
) -> Task:
    """Run `op()` in `pool` (the network pool by default); see the module doc.

    `critical`: a call that must run even if cancelled before it started (a
    write, such as recording a payment); cancelling it only ignores its result."""
    pool = pool or network_pool()
    task = Task(parent, on_success, on_failure, pool, label, critical)
    runnable = Worker(op, task.signals, task._started, task._released, label)
    task._runnable = runnable
    activity().add(task)
    pool.start(runnable)
    return task


class Latest:
    """Keeps only the newest task of one kind: starting one cancels the previous
    (a search typed further, another family opened)."""

    def __init__(self) -> None:
        self.task: Task | None = None

    def run(self, *args, **kwargs) -> Task:
        self.cancel()
        self.task = run_in_background(*args, **kwargs)
        return self.task

    def cancel(self) -> None:
        if self.task is not None:
            self.task.cancel()
            self.task = None

    @property
    def busy(self) -> bool:
        return self.task is not None and not self.task.done and not self.task.cancelled


def in_flight() -> list[Task]:
    return list(activity().tasks)


def shutdown(timeout: float = 3.0) -> bool:
    """Cancel every task and wait at most `timeout` seconds for the calls in
    flight. True when nothing runs any more."""
    for task in list(activity().tasks):
        task.cancel()
    ms = max(0, int(timeout * 1000))
    finished = True
    for pool in list(_pools.values()):
        if shiboken6.isValid(pool):
            finished = pool.waitForDone(ms) and finished
    if not finished:
        log.warning("Closing with calls to Maelis still in flight (they end at their timeout).")
    return finished


# --- errors in the GUI thread --------------------------------------------------------


def error_text(exc: BaseException) -> str:
    """The French sentence for an error: the DeskError's own, else a generic one."""
    if isinstance(exc, DeskError):
        return exc.message
    return f"Erreur inattendue ({type(exc).__name__}) : {exc}"


def call_safely(owner: QObject | None, func: Callable, *args) -> None:
    """Call a GUI-thread callback; a bug in it is logged and shown, not fatal."""
    try:
        func(*args)
    except Exception as exc:  # noqa: BLE001
        text = traceback.format_exc()
        log.error("Unexpected error in the window:\n%s", text)
        show_unexpected(owner, exc, text)


def _window_of(owner: QObject | None) -> QWidget | None:
    if isinstance(owner, QWidget) and shiboken6.isValid(owner):
        return owner.window()
    return None


def show_unexpected(owner: QObject | None, exc: BaseException, trace: str) -> QMessageBox | None:
    """Show a bug to the user without blocking: one dialog per window at a time."""
    window = _window_of(owner)
    existing = getattr(window, "_unexpected_box", None) if window is not None else None
    if existing is not None and shiboken6.isValid(existing) and existing.isVisible():
        existing.setDetailedText(existing.detailedText() + "\n\n" + trace)
        return existing
    box = QMessageBox(window)
    box.setObjectName("unexpectedErrorBox")
    box.setIcon(QMessageBox.Icon.Critical)
    box.setWindowTitle("Erreur inattendue")
    box.setText(
        "Une erreur inattendue s'est produite. Le poste continue de fonctionner ; "
        "si elle se répète, signalez-la au support."
    )
    box.setInformativeText(f"{type(exc).__name__} : {exc}")
    box.setDetailedText(trace)
    box.setStandardButtons(QMessageBox.StandardButton.Close)
    # Enter and Échap close it: the « Afficher les détails… » button Qt adds for the detailed
    # text must not be the default one, or Enter unfolds the trace instead of closing.
    close = box.button(QMessageBox.StandardButton.Close)
    box.setDefaultButton(close)
    box.setEscapeButton(close)
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    if window is not None:
        window._unexpected_box = box
    box.open()
    close.setFocus(Qt.FocusReason.OtherFocusReason)
    return box
