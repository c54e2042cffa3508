"""The scheduled refresh: re-read the cached invoice lists likely to have
changed, never the whole n × m, gently.

Which lists, in this order (a *pass*, about one a day):

1. **probes**: per régie, a few lists whose newest invoice is of the régie's
   last billing run (families it bills every time). A régie bills its
   families in one run (the canteen on the 24th...): when a probe, or any
   read, shows an invoice newer than the régie's newest known at the start of
   the pass, the régie *is billing*;
2. **sweeps**: every list of a régie seen billing, empty ones included (a
   family's first invoice in a régie can only appear in a billing run);
3. lists with invoices **to pay**: they get paid online, at another desk, at
   the treasury, or are transmitted to the treasury;
4. lists with an invoice of the last `RECENT` days (the ticket's "from the
   last invoice's date or 7 days back");
5. every list of the families **opened** at a desk since the previous pass;
6. a slow **rotation** over lists not read for `ROTATE_AFTER`, oldest first,
   only while the pass stays under `PASS_SHARE` of the cached lists.

What a pass costs and catches at the city's scale is measured by
tests/perf/bench_sync.py.

How: at most `IN_FLIGHT` calls at once, at most `budget` calls per run (a
pass may take several runs); the counter first (a call waits while a
cashier's read is under way); at the first failure or slow answer the run
stops at once and the pass pauses, longer after each stop (`BACKOFF`). The
pass lives in the database (store/sync.py): a list is done when its
`checked_at` is past the pass' start, so a run killed halfway resumes
without re-reading what it did.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from ..formatting import count_fr, duration_fr
from ..store import Cache, release_connection
from ..store.sync import PassState, SyncStore
from .errors import DeskError, MaelisRefused
from .failpoints import failpoint
from .reading import Reader

log = logging.getLogger(__name__)

PASS_EVERY = timedelta(hours=20)  # a new pass at most this often (the nightly one)
OPENED_MAX = timedelta(days=7)  # families opened since the previous pass, at most this far back
RECENT = timedelta(days=7)
ROTATE_AFTER = timedelta(days=28)
PASS_SHARE = 0.30  # the rotation stops when a pass has read this share of the cached lists
PROBES_PER_REGIE = 24
IN_FLIGHT = 2
BATCH = 100
BACKOFF = (60, 120, 300, 600, 1200, 1800, 3600)  # seconds of pause after the 1st, 2nd... stop in a row

PHASES = {
    "probe": "sondage des régies",
    "sweep": "régies qui facturent",
    "to_pay": "listes à payer",
    "recent": "factures récentes",
    "opened": "familles ouvertes",
    "rotation": "rotation lente",
}
ORDER = ("probe", "sweep", "to_pay", "recent", "opened", "rotation")


@dataclass(frozen=True)
class Progress:
    """Where a run stands, for a status bar or a terminal."""

    phase: str  # what it reads now, in French
    done: int  # lists done in this pass
    total: int  # done + still to do (an estimate: sweeps are added as régies bill)
    calls: int  # calls in this run
    elapsed: float  # seconds, this run
    eta: float | None  # seconds left for the pass at this run's pace
    unit: str = "listes"

    @property
    def fraction(self) -> float:
        return min(1.0, self.done / self.total) if self.total else 1.0

    def text(self) -> str:
        left = f" · reste ≈ {duration_fr(self.eta)}" if self.eta is not None else ""
        return (f"Rafraîchissement du cache — {self.phase} : {count_fr(self.done)} / {count_fr(self.total)} "
                f"{self.unit} ({self.fraction:.0%}){left}")


@dataclass
class SyncReport:
    """What one run did."""

    calls: int = 0
    refreshed: list[tuple[int, int]] = field(default_factory=list)  # lists re-read
    changed: int = 0  # of which differed from the cache
    failed: int = 0  # business faults (family gone...)
    new_regies: list[int] = field(default_factory=list)  # régies seen billing in this run
    stopped: str | None = None  # why the run stopped early (Maelis unwell), in French
    pause_until: datetime | None = None
    finished: bool = False  # the pass is complete
    remaining: int = 0  # lists left in the pass
    idle: str | None = None  # why nothing was done, in French
    elapsed: float = 0.0
    pass_state: PassState | None = None

    def summary(self) -> list[str]:
        """The run in a few French lines (the CLI's last words)."""
        lines = []
        if self.idle:
            lines.append(self.idle)
        if self.calls or not self.idle:
            lines.append(
                f"Listes de factures relues : {count_fr(len(self.refreshed))}, dont {count_fr(self.changed)} "
                f"changées ; appels à Maelis : {count_fr(self.calls)} en {duration_fr(self.elapsed)}.")
        if self.failed:
            lines.append(f"Refusées par Maelis (famille ou régie inconnue) : {count_fr(self.failed)}.")
        if self.new_regies:
            lines.append("Régies en facturation : " + ", ".join(str(c) for c in self.new_regies)
                         + " (toutes leurs listes sont relues).")
        if self.stopped:
            until = f" ; reprise après {self.pause_until.astimezone().strftime('%H:%M')}" if self.pause_until else ""
            lines.append(f"Arrêt : {self.stopped}{until}.")
        if self.finished:
            p = self.pass_state
            total = f" ({count_fr(p.calls)} appels, {count_fr(p.changed)} listes changées)" if p else ""
            lines.append(f"Passe terminée{total}.")
        elif self.remaining and not self.idle:
            lines.append(f"Reste à relire dans cette passe : {count_fr(self.remaining)} listes "
                         "(la prochaine exécution reprend là).")
        return lines


class Refresher:
    def __init__(self, reader: Reader, cache: Cache, store: SyncStore | None = None, *,
                 monotonic: Callable[[], float] = time.monotonic):
        self.reader = reader
        self.cache = cache
        self.store = store or SyncStore()
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._progress: Progress | None = None
        self._cancel = threading.Event()
        self._last_remaining = (0, 0)

    # -- for the window and the CLI ----------------------------------------------

    def progress(self) -> Progress | None:
        """The running pass' progress (None when no run is under way)."""
        with self._lock:
            return self._progress

    def cancel(self) -> None:
        """Stop the run under way after its calls in flight (closing the window)."""
        self._cancel.set()

    def fill(self, families: list[int], on_progress: Callable[[Progress], None] | None = None) -> SyncReport:
        """Read whole families into an empty cache (the demo's first refresh:
        a desk's cache normally fills as families are opened)."""
        report = SyncReport()
        started = self._monotonic()
        for done, number in enumerate(families):
            if self._cancel.is_set():
                break
            try:
                self.reader.family(number, opened=False)
                lists = self.reader.invoices(number)
            except DeskError as exc:
                report.stopped = exc.message
                break
            report.calls += 1 + len(lists)
            report.refreshed += [(number, r.regie.code) for r in lists if r.freshness.source == "maelis"]
            elapsed = self._monotonic() - started
            eta = elapsed / (done + 1) * (len(families) - done - 1)
            progress = Progress("premier remplissage (démo)", done + 1, len(families), report.calls, elapsed, eta,
                                "familles")
            with self._lock:
                self._progress = progress
            if on_progress is not None:
                on_progress(progress)
        report.changed = len(report.refreshed)
        report.elapsed = self._monotonic() - started
        with self._lock:
            self._progress = None
        return report

    # -- a run ----------------------------------------------------------------------

    def _current_pass(self, now: datetime, new_pass: bool) -> tuple[PassState | None, str | None]:
        last = self.store.last_pass()
        if last is not None and not last.finished and not new_pass:
            return last, None
        if last is not None and last.finished and not new_pass and now - last.started_at < PASS_EVERY:
            nxt = (last.started_at + PASS_EVERY).astimezone().strftime("%d/%m/%Y %H:%M")
            return None, f"Passe du jour déjà faite ; la prochaine à partir du {nxt}."
        if self.store.total_lists() == 0:
            return None, ("Le cache ne contient encore aucune liste de factures : rien à relire "
                          "(il se remplit quand on ouvre des familles).")
        since = max(last.started_at if last else now - OPENED_MAX, now - OPENED_MAX)
        return self.store.start_pass(now, since, PROBES_PER_REGIE), None

    def run_once(self, budget: int = 20, *, new_pass: bool = False,
                 on_progress: Callable[[Progress], None] | None = None) -> SyncReport:
        """One run: at most `budget` calls of the current pass (starting one when due)."""
        self._cancel.clear()
        started = self._monotonic()
        report = SyncReport()
        try:
            return self._run(budget, new_pass, on_progress, report, started)
        finally:
            report.elapsed = self._monotonic() - started
            with self._lock:
                self._progress = None

    def _run(self, budget, new_pass, on_progress, report: SyncReport, started: float) -> SyncReport:
        if self.reader.offline:
            report.idle = "Mode hors ligne : Maelis n'est pas interrogé."
            return report
        now = self.reader.clock()
        state, idle = self._current_pass(now, new_pass)
        if state is None:
            report.idle = idle
            return report
        report.pass_state = state
        if state.pause_until is not None and now < state.pause_until:
            report.idle = (f"Passe en pause après « {state.last_error} » ; reprise après "
                           f"{state.pause_until.astimezone().strftime('%H:%M')}.")
            report.pause_until = state.pause_until
            return report
        if not self.reader.health.should_try():
            report.idle = f"Maelis hors ligne ({self.reader.health.snapshot().error}) : rien n'est relu."
            return report
        total_lists = self.store.total_lists()
        slow_after = self.reader.health.timeout / 2
        kind = "probe"
        while report.calls < budget and not self._cancel.is_set():
            now = self.reader.clock()
            windows = dict(now=now, recent_since=now - RECENT, rotate_before=now - ROTATE_AFTER)
            batch, kind = self._next_batch(state, min(BATCH, budget - report.calls), total_lists, windows)
            if not batch:
                state.finished_at = now
                report.finished = True
                break
            self._publish(state, kind, report, started, on_progress, windows)
            error = self._read_batch(state, batch, kind, report, slow_after, started, on_progress, windows)
            if error is not None:
                state.stops += 1
                pause = BACKOFF[min(state.stops, len(BACKOFF)) - 1]
                state.pause_until = self.reader.clock() + timedelta(seconds=pause)
                state.last_error = error
                report.stopped, report.pause_until = error, state.pause_until
                log.warning("Scheduled refresh stopped: %s (pause %d s)", error, pause)
                break
            state.stops, state.pause_until, state.last_error = 0, None, None
            self.store.save_pass(state)
            failpoint("sync-batch")
        self.store.save_pass(state)
        if not report.finished:
            now = self.reader.clock()
            windows = dict(now=now, recent_since=now - RECENT, rotate_before=now - ROTATE_AFTER)
            report.remaining = self._remaining(state, windows)
        return report

    def _next_batch(self, state: PassState, limit: int, total_lists: int, windows: dict):
        batch: list[tuple[int, int, str]] = []
        kind = ORDER[0]
        for kind in ORDER:
            if len(batch) >= limit:
                break
            room = limit - len(batch)
            if kind == "rotation":
                if state.rotation is None:
                    state.rotation = max(0, int(PASS_SHARE * total_lists) - state.calls)
                room = min(room, state.rotation)
            taken = {(f, r) for f, r, _ in batch}
            batch += [(f, r, kind) for f, r in self.store.next_lists(state, kind, room, skip=taken, **windows)]
            if batch:
                kind = batch[0][2]
                if len(batch) >= limit:
                    break
        return batch, (batch[0][2] if batch else kind)

    def _remaining(self, state: PassState, windows: dict) -> int:
        left = self.store.count_all_remaining(state, ORDER, now=windows["now"],
                                              recent_since=windows["recent_since"])
        left += self.store.count_lists(state, "probe", **windows)
        if state.rotation is not None:
            left += min(state.rotation, self.store.count_lists(state, "rotation", **windows))
        return left

    def _publish(self, state, kind, report, started, on_progress, windows, remaining: int | None = None):
        if remaining is None:
            remaining = self._remaining(state, windows)
            self._last_remaining = (remaining, state.calls)
        elapsed = self._monotonic() - started
        rate = report.calls / elapsed if report.calls and elapsed > 0 else None
        progress = Progress(PHASES[kind], state.calls, state.calls + remaining, report.calls, elapsed,
                            remaining / rate if rate else None)
        with self._lock:
            self._progress = progress
        if on_progress is not None:
            on_progress(progress)

    def _read_batch(self, state: PassState, batch, kind, report: SyncReport, slow_after: float, started,
                    on_progress, windows) -> str | None:
        """Read a batch, `IN_FLIGHT` at a time; the first failure stops it. Returns that failure."""
        stop = self._cancel
        stopping = threading.Event()
        error: list[str] = []
        items = iter(batch)
        lock = threading.Lock()
        remaining0, calls0 = self._last_remaining

        def work() -> None:
            try:
                while True:
                    with lock:
                        item = next(items, None)
                    if item is None or stopping.is_set() or stop.is_set():
                        return
                    if not self.reader.wait_for_counter(stop) or stopping.is_set():
                        return  # the counter first; cancelled or stopped meanwhile
                    family, regie, item_kind = item
                    t0 = self._monotonic()
                    try:
                        changed = self.reader.refresh_list(family, regie)
                    except MaelisRefused as exc:
                        if not exc.is_business:
                            self._fail(stopping, error, lock, state, report, exc.message)
                            return
                        self.store.mark_checked(family, regie, self.reader.clock())
                        with lock:
                            state.calls += 1
                            report.calls += 1
                            state.failed += 1
                            report.failed += 1
                        continue
                    except DeskError as exc:
                        self._fail(stopping, error, lock, state, report, exc.message)
                        return
                    took = self._monotonic() - t0
                    newest = self.store.newest_invoice(family, regie)
                    with lock:
                        state.calls += 1
                        report.calls += 1
                        state.refreshed += 1
                        report.refreshed.append((family, regie))
                        if changed:
                            state.changed += 1
                            report.changed += 1
                        if item_kind == "rotation" and state.rotation:
                            state.rotation -= 1
                        known = state.baseline.get(regie)
                        if newest is not None and regie not in state.sweeps and (known is None or newest > known):
                            state.sweeps.append(regie)  # this régie bills: all of its lists are due
                            report.new_regies.append(regie)
                            log.info("Régie %s is billing (invoice of %s): sweeping its lists", regie, newest)
                        done_now = state.calls
                    if took > slow_after:
                        with lock:
                            error.append(f"Maelis lent ({took:.1f} s pour une liste)")
                        stopping.set()
                        return
                    self._publish(state, item_kind, report, started, on_progress, windows,
                                  remaining=max(0, remaining0 - (done_now - calls0)))
            finally:
                release_connection()

        with ThreadPoolExecutor(IN_FLIGHT, thread_name_prefix="maelis-sync") as pool:
            for future in [pool.submit(work) for _ in range(IN_FLIGHT)]:
                future.result()
        return error[0] if error else None

    def _fail(self, stopping, error, lock, state, report, message: str) -> None:
        with lock:
            state.calls += 1
            report.calls += 1
            error.append(message)
        stopping.set()

