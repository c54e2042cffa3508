"""Taking money needs an open cash session (services/day.py): tests that take
payments open one first, through the same service the desk uses."""

from __future__ import annotations

from decimal import Decimal

from maelis_desk.services.day import DayService
from maelis_desk.store.day import DayStore
from maelis_desk.store.payments import Payments


def open_session(target, float_amount: str = "0.00"):
    """Open the cash session of a Desk (or a DayService) unless one is open; return it."""
    day = getattr(target, "day", target)
    current = day.current()
    if current is None:
        current = day.open_session(Decimal(float_amount))
    return current


def day_service(*, desk: str, clock, operator: str = "Anne", opened: bool = True) -> DayService:
    """A DayService on the bound database, for tests that build a PaymentService by hand."""
    day = DayService(DayStore(), Payments(), desk=desk, operator=lambda: operator, clock=clock)
    if opened:
        open_session(day)
    return day
