"""The scheduled refresh's queries: which cached lists a pass re-reads, and the
pass' own progress (table `sync_pass`), so that a pass killed halfway resumes
without re-reading what it already did.

A list is done in a pass when its `checked_at` is at or after the pass'
`started_at`: every read (the refresh's, or a cashier's at the counter) moves
`checked_at`, so no separate to-do table has to be kept in step.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from .. import domain
from .database import db
from .fields import utc_text
from .models import InvoiceList, SyncPass

#: what a pass re-reads, in this order (kinds of `SyncStore.next_lists`)
KINDS = ("probe", "sweep", "to_pay", "recent", "opened", "rotation")


def list_facts(invoices: list[domain.Invoice]) -> tuple[int, datetime | None, str]:
    """(how many invoices, the newest one's date, a digest of the figures that change)."""
    digest = hashlib.blake2b(digest_size=8)
    for i in sorted(invoices, key=lambda i: i.number):
        digest.update(f"{i.number}|{i.date.isoformat()}|{i.amount}|{i.paid}|{i.paid_treasury}|"
                      f"{i.transmitted_at.isoformat() if i.transmitted_at else ''};".encode())
    newest = max((i.date for i in invoices), default=None)
    return len(invoices), newest, digest.hexdigest()


@dataclass
class PassState:
    """A refresh pass as the services see it (no peewee above the store)."""

    id: int
    started_at: datetime
    opened_since: datetime
    baseline: dict[int, datetime | None]
    probes: list[tuple[int, int]]
    sweeps: list[int]
    rotation: int | None = None
    calls: int = 0
    refreshed: int = 0
    changed: int = 0
    failed: int = 0
    stops: int = 0
    pause_until: datetime | None = None
    last_error: str | None = None
    finished_at: datetime | None = None

    @property
    def finished(self) -> bool:
        return self.finished_at is not None


def _aware(value) -> datetime | None:
    if value is None:
        return None
    return datetime.fromisoformat(value) if isinstance(value, str) else value


def _state(row: SyncPass) -> PassState:
    return PassState(
        id=row.id, started_at=row.started_at, opened_since=row.opened_since,
        baseline={int(k): _aware(v) for k, v in (row.baseline or {}).items()},
        probes=[(int(f), int(r)) for f, r in (row.probes or [])], sweeps=[int(c) for c in row.sweeps or []],
        rotation=row.rotation, calls=row.calls, refreshed=row.refreshed, changed=row.changed, failed=row.failed,
        stops=row.stops, pause_until=row.pause_until, last_error=row.last_error, finished_at=row.finished_at,
    )


class SyncStore:
    """Thread-safe like the cache (peewee keeps one connection per thread).

    A list read less than `fresh` before a pass started (at the counter, say)
    counts as done in that pass."""

    def __init__(self, fresh: timedelta = timedelta(hours=1)):
        self.fresh = fresh

    # -- passes -------------------------------------------------------------------

    def last_pass(self) -> PassState | None:
        row = SyncPass.select().order_by(SyncPass.id.desc()).first()
        return None if row is None else _state(row)

    def start_pass(self, now: datetime, opened_since: datetime, probes_per_regie: int) -> PassState:
        """A new pass: the newest invoice known per régie (to tell a billing run
        when one shows up) and, per régie, the lists to probe first: those whose
        newest invoice is of the régie's last billing, least recently checked."""
        p = db.param
        baseline: dict[int, str | None] = {}
        probes: list[list[int]] = []
        for code, newest in db.execute_sql(
            'SELECT "regie", MAX("last_invoice") FROM "invoice_list" GROUP BY "regie" ORDER BY "regie"'
        ):
            baseline[str(code)] = newest
            if newest is None:
                continue
            rows = db.execute_sql(
                f'SELECT "family" FROM "invoice_list" WHERE "regie" = {p} AND "last_invoice" = {p} '
                f'ORDER BY "checked_at", "family" LIMIT {int(probes_per_regie)}', (code, newest))
            probes += [[family, code] for (family,) in rows]
        row = SyncPass.create(started_at=now, opened_since=opened_since, baseline=baseline, probes=probes,
                              sweeps=[])
        return _state(row)

    def save_pass(self, state: PassState) -> None:
        SyncPass.update(
            sweeps=sorted(state.sweeps), rotation=state.rotation, calls=state.calls, refreshed=state.refreshed,
            changed=state.changed, failed=state.failed, stops=state.stops, pause_until=state.pause_until,
            last_error=state.last_error, finished_at=state.finished_at,
        ).where(SyncPass.id == state.id).execute()

    # -- what to read -----------------------------------------------------------------

    def _where(self, state: PassState, kind: str, now: datetime, recent_since: datetime,
               rotate_before: datetime) -> tuple[str, list]:
        p = db.param
        not_done = f'COALESCE(l."checked_at", \'\') < {p}'
        params: list = [utc_text(state.started_at - self.fresh)]
        if kind == "sweep":
            codes = ", ".join(str(int(c)) for c in state.sweeps)
            return f'{not_done} AND l."regie" IN ({codes})', params
        if kind == "to_pay":
            return f'{not_done} AND l."to_pay" > 0', params
        if kind == "recent":
            return f'{not_done} AND l."last_invoice" >= {p}', params + [utc_text(recent_since)]
        if kind == "opened":
            return (f'{not_done} AND l."family" IN (SELECT "number" FROM "family" WHERE "opened_at" >= {p})',
                    params + [utc_text(state.opened_since)])
        if kind == "rotation":
            return f'COALESCE(l."checked_at", \'\') < {p}', [utc_text(rotate_before)]
        raise ValueError(kind)

    def next_lists(self, state: PassState, kind: str, limit: int, *, now: datetime, recent_since: datetime,
                   rotate_before: datetime, skip: set[tuple[int, int]] = frozenset()) -> list[tuple[int, int]]:
        """Up to `limit` (family, régie) lists of `kind` not yet done in this pass."""
        if limit <= 0:
            return []
        if kind == "probe":
            done = self._checked_since(state.probes, state.started_at - self.fresh)
            return [pair for pair in state.probes if pair not in done and pair not in skip][:limit]
        if kind == "sweep" and not state.sweeps:
            return []
        where, params = self._where(state, kind, now, recent_since, rotate_before)
        order = 'l."checked_at", l."family", l."regie"' if kind == "rotation" else 'l."regie", l."family"'
        sql = (f'SELECT l."family", l."regie" FROM "invoice_list" AS l WHERE {where} '
               f'ORDER BY {order} LIMIT {int(limit + len(skip))}')
        rows = [(f, r) for f, r in db.execute_sql(sql, params) if (f, r) not in skip]
        return rows[:limit]

    def count_lists(self, state: PassState, kind: str, *, now: datetime, recent_since: datetime,
                    rotate_before: datetime) -> int:
        if kind == "probe":
            return len(state.probes) - len(self._checked_since(state.probes, state.started_at - self.fresh))
        if kind == "sweep" and not state.sweeps:
            return 0
        where, params = self._where(state, kind, now, recent_since, rotate_before)
        return db.execute_sql(f'SELECT COUNT(*) FROM "invoice_list" AS l WHERE {where}', params).fetchone()[0]

    def count_all_remaining(self, state: PassState, kinds: tuple[str, ...], *, now: datetime,
                            recent_since: datetime) -> int:
        """Lists not yet done that match any of `kinds` (rotation and probes left out), each counted once."""
        clauses, params = [], []
        for kind in kinds:
            if kind in ("probe", "rotation") or (kind == "sweep" and not state.sweeps):
                continue
            where, extra = self._where(state, kind, now, recent_since, now)
            clauses.append(f"({where})")
            params += extra
        if not clauses:
            return 0
        sql = f'SELECT COUNT(*) FROM "invoice_list" AS l WHERE {" OR ".join(clauses)}'
        return db.execute_sql(sql, params).fetchone()[0]

    def _checked_since(self, pairs: list[tuple[int, int]], since: datetime) -> set[tuple[int, int]]:
        if not pairs:
            return set()
        p = db.param
        done: set[tuple[int, int]] = set()
        families = sorted({f for f, _ in pairs})
        for i in range(0, len(families), 500):
            chunk = families[i:i + 500]
            marks = ", ".join([p] * len(chunk))
            for f, r in db.execute_sql(
                f'SELECT "family", "regie" FROM "invoice_list" WHERE "family" IN ({marks}) '
                f'AND "checked_at" >= {p}', chunk + [utc_text(since)]):
                done.add((f, r))
        return done & set(pairs)

    def total_lists(self) -> int:
        return InvoiceList.select().count()

    def newest_invoice(self, family: int, regie: int) -> datetime | None:
        row = (InvoiceList.select(InvoiceList.last_invoice)
               .where((InvoiceList.family == family) & (InvoiceList.regie == regie)).first())
        return None if row is None else row.last_invoice

    def mark_checked(self, family: int, regie: int, when: datetime) -> None:
        """A list Maelis would not read (a business fault: family gone...): done for this pass."""
        InvoiceList.update(checked_at=when).where(
            (InvoiceList.family == family) & (InvoiceList.regie == regie)).execute()
