"""Time for the use cases: now, and which invoices a read asks Maelis for."""

from __future__ import annotations

from datetime import datetime, timezone

# The window of readInvoices is *every date Maelis can hold*, not a recent
# period, because readInvoices is the only way to learn what a family owes:
# an invoice outside [dateStart, dateEnd] is simply not answered, so a window
# of "the last two years" told families whose unpaid invoices dated from 2022
# « Aucune facture à payer » and cut their history short. A debt has no age
# (until it is transmitted to the treasury, the régie takes payment for it),
# and Maelis keeps every invoice since the city started using it; an invoice
# dated in the future by a typing error must show too. So the bounds are
# constants far outside any real invoice date, still ordinary xs:dateTime
# values any server parses (four-digit years, an offset). The cost is the
# whole history in every answer (tens of invoices, 120 or more for some
# families); tests/perf/bench_window.py measures it per call against the old
# two-year window.
WINDOW_START = datetime(1900, 1, 1, tzinfo=timezone.utc)
WINDOW_END = datetime(2999, 12, 31, 23, 59, 59, tzinfo=timezone.utc)


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def invoice_window() -> tuple[datetime, datetime]:
    """[dateStart, dateEnd] of readInvoices: every invoice Maelis keeps, whatever its date."""
    return WINDOW_START, WINDOW_END
