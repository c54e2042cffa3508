"""Time for the use cases: now, and which invoices a read asks Maelis for."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

#: invoices are read from 1 January this many years back (two school years and more)
HISTORY_YEARS = 2


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def invoice_window(now: datetime) -> tuple[datetime, datetime]:
    """[dateStart, dateEnd] of readInvoices: the history kept, and next year's invoices."""
    start = datetime(now.year - HISTORY_YEARS, 1, 1, tzinfo=timezone.utc)
    end = now + timedelta(days=366)
    return start, end
