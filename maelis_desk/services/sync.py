"""The scheduled refresh: re-read only the invoice lists likely to have changed.

Load on Maelis matters more than load on the desk, so a pass costs at most
`budget` readInvoices calls and stops at the first sign that Maelis is
unwell. What is likely to have changed, for the families desks opened in the
last `OPENED_WITHIN` (those who come to the counter):

* a list with invoices to pay, read more than `TO_PAY_MAX_AGE` ago: they get
  paid online or at the treasury, or transmitted to the treasury;
* any list read before the start of this month, or more than `MAX_AGE` ago:
  new invoices are issued monthly.

Everything else is left alone; opening a family re-reads all of it anyway.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from ..domain import Regie
from ..store import Cache
from .errors import DeskError
from .reading import Reader

OPENED_WITHIN = timedelta(days=90)
TO_PAY_MAX_AGE = timedelta(hours=6)
MAX_AGE = timedelta(days=7)


@dataclass
class SyncReport:
    refreshed: list[tuple[int, int]] = field(default_factory=list)
    failed: str | None = None


class Refresher:
    def __init__(self, reader: Reader, cache: Cache):
        self.reader = reader
        self.cache = cache

    def due(self, now: datetime, budget: int) -> list[tuple[int, int]]:
        month_start = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
        return self.cache.lists_to_refresh(
            opened_since=now - OPENED_WITHIN,
            to_pay_older_than=now - TO_PAY_MAX_AGE,
            older_than=max(month_start, now - MAX_AGE),
            limit=budget,
        )

    def run_once(self, budget: int = 20) -> SyncReport:
        report = SyncReport()
        if self.reader.offline:
            return report
        regies = {r.code: r for r in self.cache.load_regies()[0]}
        for family, code in self.due(self.reader.clock(), budget):
            regie = regies.get(code, Regie(code, str(code)))
            try:
                result = self.reader.regie_invoices(family, regie)
            except DeskError:  # a business fault (family gone...): Maelis is fine, go on
                continue
            if result.failure is not None:
                error = result.failure
                report.failed = error.message if isinstance(error, DeskError) else str(error)
                break  # Maelis is unwell: leave it alone until the next pass
            report.refreshed.append((family, code))
        return report
