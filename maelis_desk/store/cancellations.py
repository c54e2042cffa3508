"""Cancelling a payment: never a deletion, always with the outbox in the same transaction.

The payment's row stays as written; a `cancellation` row says who cancelled
it, why, and what became of it, and the outbox entry's state becomes
`cancelled` so the transmitter never touches it again. What the cancellation
does depends on where the payment is on its way to Maelis, read with the
outbox's row locked (an UPDATE first: the row lock on PostgreSQL, the write
lock on SQLite), so a cancel and a transmitter's step happen one after the other:

- `pending`, `rejected`: Maelis has not applied it: withdrawn (`cancelled`).
  A transmitter that had claimed it loses its lease, so its next write
  (`sending`) fails and nothing leaves.
- `sending`, `uncertain`: the request may be on its way: the cancellation
  `waiting`, settled by the transmitter's next state change (`settle_waiting`,
  called inside that change's transaction): not applied (`pending`,
  `rejected`) → `cancelled`; applied or unknown (`sent`, `confirmed`,
  `review`) → `to_regularize`.
- `sent`, `confirmed`, `review`: applied (or maybe) in Maelis, which has no way to
  cancel a payment: `to_regularize`, until a régisseur marks it `regularized`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import peewee

from ..domain import PaymentState, from_cents
from . import journal
from .database import db, writing
from .models import Attempt, Cancellation, Outbox, Payment

WITHDRAWN_FROM = (PaymentState.PENDING, PaymentState.REJECTED)
IN_FLIGHT = (PaymentState.SENDING, PaymentState.UNCERTAIN)
APPLIED = (PaymentState.SENT, PaymentState.CONFIRMED, PaymentState.REVIEW, PaymentState.MATCHED)
#: the transmitter's states that settle a waiting cancellation
SETTLED = WITHDRAWN_FROM + APPLIED

STATUSES = ("waiting", "cancelled", "to_regularize", "regularized")


class AlreadyCancelled(ValueError):
    pass


class UnknownPayment(LookupError):
    pass


class NotToRegularize(ValueError):
    pass


@dataclass(frozen=True)
class CancellationRow:
    payment: str
    reason: str
    comment: str | None
    operator_login: str
    operator_name: str
    at: datetime
    state_before: str
    status: str
    settled_at: datetime | None
    regularized_at: datetime | None
    regularized_by: str | None
    regularized_note: str | None


def _row(c: Cancellation) -> CancellationRow:
    return CancellationRow(c.payment, c.reason, c.comment, c.operator_login, c.operator_name, c.at,
                           c.state_before, c.status, c.settled_at, c.regularized_at, c.regularized_by,
                           c.regularized_note)


def _writing():
    return writing()


def _withdraw(payment_id: str, now: datetime, desk: str, detail: str) -> None:
    Outbox.update(state=PaymentState.CANCELLED, lease_owner=None, lease_until=None, updated_at=now).where(
        Outbox.payment == payment_id).execute()
    Attempt.create(payment=payment_id, at=now, desk=desk, action="cancel", outcome="cancelled", detail=detail)


def cancel(payment_id: str, *, reason: str, comment: str | None, operator_login: str, operator_name: str,
           at: datetime, desk: str) -> CancellationRow:
    with _writing():
        payment = Payment.get_or_none(Payment.id == payment_id)
        if payment is None:
            raise UnknownPayment(payment_id)
        # the outbox row first: a transmitter's step on it waits for us, or we for it
        Outbox.update(updated_at=at).where(Outbox.payment == payment_id).execute()
        if Cancellation.get_or_none(Cancellation.payment == payment_id) is not None:
            raise AlreadyCancelled(payment.receipt)
        outbox = Outbox.get_or_none(Outbox.payment == payment_id)
        state = PaymentState(outbox.state) if outbox is not None else PaymentState.CONFIRMED
        if state is PaymentState.CANCELLED:  # pragma: no cover - a cancelled entry always has its row
            raise AlreadyCancelled(payment.receipt)
        if state in IN_FLIGHT:
            status = "waiting"
        elif state in WITHDRAWN_FROM:
            status = "cancelled"
        else:
            status = "to_regularize"
        if status != "waiting" and outbox is not None:
            _withdraw(payment_id, at, desk, f"annulé par {operator_login} ({reason})")
        row = Cancellation.create(
            payment=payment_id, reason=reason, comment=comment or None, operator_login=operator_login,
            operator_name=operator_name, at=at, state_before=state.value, status=status,
            settled_at=None if status == "waiting" else at,
        )
        data = {"reason": reason, "comment": comment or None, "status": status, "from": state.value}
        if status != "waiting":
            data["to"] = "cancelled"
        journal.append("payment.cancelled", at=at, desk=desk, operator=operator_login, payment=payment_id,
                       receipt=payment.receipt, amount_cents=payment.amount_cents, data=data)
    return _row(row)


def settle_waiting(payment_id: str, new_state: str, now: datetime, desk: str) -> str | None:
    """Inside a transmitter's state change: settle a cancellation that waited
    for the send to be settled. Returns its new status, or None."""
    if new_state not in SETTLED:
        return None
    waiting = Cancellation.get_or_none((Cancellation.payment == payment_id) & (Cancellation.status == "waiting"))
    if waiting is None:
        return None
    new_state = PaymentState(new_state)
    status = "cancelled" if new_state in WITHDRAWN_FROM else "to_regularize"
    _withdraw(payment_id, now, desk, f"annulation en attente réglée : {new_state.value}")
    Cancellation.update(status=status, settled_at=now).where(Cancellation.payment == payment_id).execute()
    payment = Payment.get(Payment.id == payment_id)
    journal.append("payment.cancel_settled", at=now, desk=desk, payment=payment_id, receipt=payment.receipt,
                   amount_cents=payment.amount_cents,
                   data={"status": status, "from": new_state.value, "to": PaymentState.CANCELLED.value})
    return status


def regularize(payment_id: str, *, operator_login: str, note: str | None, at: datetime,
               desk: str) -> CancellationRow:
    with _writing():
        row = Cancellation.get_or_none(Cancellation.payment == payment_id)
        if row is None or row.status != "to_regularize":
            raise NotToRegularize(payment_id)
        Cancellation.update(status="regularized", regularized_at=at, regularized_by=operator_login,
                            regularized_note=note or None).where(Cancellation.payment == payment_id).execute()
        payment = Payment.get(Payment.id == payment_id)
        journal.append("payment.regularized", at=at, desk=desk, operator=operator_login, payment=payment_id,
                       receipt=payment.receipt, amount_cents=payment.amount_cents, data={"note": note or None})
        row = Cancellation.get(Cancellation.payment == payment_id)
    return _row(row)


def get(payment_id: str) -> CancellationRow | None:
    row = Cancellation.get_or_none(Cancellation.payment == payment_id)
    return None if row is None else _row(row)


def by_payment(payment_ids: list[str]) -> dict[str, CancellationRow]:
    if not payment_ids:
        return {}
    return {c.payment: _row(c) for c in Cancellation.select().where(Cancellation.payment.in_(payment_ids))}


def made_between(regie: int, since: datetime, until: datetime) -> list[dict]:
    """The cancellations made in [since, until) of a régie's payments (of any date): what a
    monthly statement lists. Each: receipt, at, paid_at, mode, amount (text), reason (its value)."""
    query = (Cancellation.select(Payment.receipt, Cancellation.at, Payment.created_at, Payment.mode,
                                 Payment.amount_cents, Cancellation.reason)
             .join(Payment, on=(Cancellation.payment == Payment.id))
             .where((Payment.regie == regie) & (Cancellation.at >= since) & (Cancellation.at < until))
             .order_by(Cancellation.at))
    rows = []
    for receipt, at, paid_at, mode, cents, reason in query.tuples():
        rows.append({"receipt": receipt, "at": at, "paid_at": paid_at, "mode": mode,
                     "amount": f"{from_cents(cents):.2f}", "reason": reason})
    return rows


def listing(statuses: tuple[str, ...] | None = None) -> list[CancellationRow]:
    query = Cancellation.select().order_by(Cancellation.at)
    if statuses:
        query = query.where(Cancellation.status.in_(list(statuses)))
    return [_row(c) for c in query]
