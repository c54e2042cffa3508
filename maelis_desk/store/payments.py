"""The payments' queries: recording (with the régie locked), the outbox, the attempts.

The rules of *what* may be paid live in services/payments.py; this module
makes them hold under concurrency: `record` runs the caller's check and the
inserts in one transaction that holds the régie's receipt counter, so two
desks sharing the database record one after the other and the second sees
the first's payment.
"""

from __future__ import annotations

import dataclasses
import json
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, Callable, Iterable

import peewee

from ..domain import PaymentState, from_cents, parse_receipt, receipt_number, to_cents
from . import journal
from .cancellations import settle_waiting
from .database import db, locking, writing
from .fields import utc_text
from .models import Attempt, Outbox, Payment, ReceiptCounter






@dataclass(frozen=True)
class PaymentRecord:
    """A recorded payment with its transmission state (read-only view)."""

    id: str
    receipt: str
    regie: int
    regie_label: str
    family: int
    payer_name: str
    amount: Decimal
    mode: str
    details: dict[str, Any]
    invoices: list[dict[str, Any]]  # number, id, label, share (str), expected_paid (str)
    operator: str
    desk: str
    desk_code: str
    created_at: datetime
    state: PaymentState
    attempts: int = 0
    operator_login: str | None = None
    last_error: str | None = None
    ack: str | None = None
    next_attempt_at: datetime | None = None
    sent_at: datetime | None = None
    baseline: dict[str, str] | None = None
    lease_owner: str | None = None
    lease_until: datetime | None = None
    session: int | None = None  # the cash session it was taken in
    updated_at: datetime | None = None  # the outbox entry's last change
    request_id: str | None = None  # the caller's idempotency key, if it gave one
    replayed: bool = False  # record() found this payment by its request_id: nothing was recorded now

    @property
    def reference(self) -> str:
        """refTransaction: derived from the payment's id, the same on every attempt."""
        return f"MD-{self.id}"

    @property
    def invoice_numbers(self) -> list[int]:
        return [int(i["number"]) for i in self.invoices]


def _record(p: Payment, o: Outbox | None) -> PaymentRecord:
    return PaymentRecord(
        id=p.id,
        receipt=p.receipt,
        regie=p.regie,
        regie_label=p.regie_label,
        family=p.family,
        payer_name=p.payer_name,
        amount=from_cents(p.amount_cents),
        mode=p.mode,
        details=p.details,
        invoices=p.invoices,
        operator=p.operator,
        desk=p.desk,
        desk_code=p.desk_code,
        created_at=p.created_at,
        operator_login=p.operator_login,
        state=o.state if o else PaymentState.CONFIRMED,
        attempts=o.attempts if o else 0,
        last_error=o.last_error if o else None,
        ack=o.ack if o else None,
        next_attempt_at=o.next_attempt_at if o else None,
        sent_at=o.sent_at if o else None,
        baseline=o.baseline if o else None,
        lease_owner=o.lease_owner if o else None,
        lease_until=o.lease_until if o else None,
        session=p.session,
        updated_at=o.updated_at if o else None,
        request_id=p.request_id,
    )


class Payments:
    """Queries on payments and their outbox. Safe from any thread."""

    def _writing(self):
        # SQLite: take the write lock at BEGIN so the check and the insert see
        # the same database; PostgreSQL: the counter row's lock does it.
        return writing()

    # -- recording ------------------------------------------------------------

    def record(
        self,
        *,
        regie: int,
        family: int,
        amount: Decimal,
        mode: str,
        operator: str,
        desk: str,
        desk_code: str,
        created_at: datetime,
        year: int,
        desk_id: str,
        build: Callable[[dict[int, Decimal]], dict[str, Any]],
        on_written: Callable[[], None] | None = None,
        operator_login: str | None = None,
        request_id: str | None = None,
    ) -> PaymentRecord:
        """Record a payment and its outbox entry in one transaction.

        `build(expected)` runs inside the transaction, given for each invoice
        of this family and régie the paid amount that unconfirmed payments
        already account for; it checks the rules (raising aborts everything,
        the receipt number included) and returns the facts to store:
        `invoices`, `regie_label`, `payer_name`, `details`, `session` (the cash
        session it claimed, services/day.py).

        `request_id`, the caller's idempotency key: when a payment already
        carries it, nothing is recorded and that payment is answered
        (`replayed`), whatever happened since (a closed session, a confirmed
        transmission). Checked inside the transaction that holds the régie; two
        desks recording the same key at once on PostgreSQL are told apart by
        the column's unique index: the loser's transaction is rolled back and
        it answers the winner's payment."""
        if request_id is not None:
            try:
                return self._record_once(regie, family, amount, mode, operator, desk, desk_code, created_at,
                                         year, desk_id, build, on_written, operator_login, request_id)
            except peewee.IntegrityError:
                found = self.by_request_id(request_id)
                if found is None:
                    raise
                return found
        return self._record_once(regie, family, amount, mode, operator, desk, desk_code, created_at,
                                 year, desk_id, build, on_written, operator_login, None)

    def by_request_id(self, request_id: str) -> PaymentRecord | None:
        """The payment recorded with this idempotency key, marked `replayed`."""
        p = Payment.get_or_none(Payment.request_id == request_id)
        if p is None:
            return None
        return dataclasses.replace(_record(p, Outbox.get_or_none(Outbox.payment == p.id)), replayed=True)

    def _record_once(self, regie, family, amount, mode, operator, desk, desk_code, created_at, year, desk_id,
                     build, on_written, operator_login, request_id) -> PaymentRecord:
        with self._writing():
            if request_id is not None:
                earlier = self.by_request_id(request_id)
                if earlier is not None:
                    return earlier
            ReceiptCounter.insert(regie=regie, year=year, last=0).on_conflict_ignore().execute()
            ReceiptCounter.update(last=ReceiptCounter.last + 1).where(
                (ReceiptCounter.regie == regie) & (ReceiptCounter.year == year)
            ).execute()
            seq = ReceiptCounter.get((ReceiptCounter.regie == regie) & (ReceiptCounter.year == year)).last
            facts = build(self.expected_paid(family, regie))
            payment_id = str(uuid.uuid4())
            payment = Payment.create(
                id=payment_id,
                receipt=receipt_number(regie, year, desk_code, seq),
                regie=regie,
                regie_label=facts["regie_label"],
                family=family,
                payer_name=facts["payer_name"],
                amount_cents=to_cents(amount),
                mode=mode,
                details=facts["details"],
                invoices=facts["invoices"],
                operator=operator,
                desk=desk,
                desk_code=desk_code,
                created_at=created_at,
                session=facts.get("session"),
                operator_login=operator_login,
                request_id=request_id,
            )
            journal.append("payment.recorded", at=created_at, desk=desk, operator=operator_login,
                           payment=payment_id, receipt=payment.receipt, amount_cents=payment.amount_cents,
                           data=payment_facts(payment))
            outbox = Outbox.create(
                payment=payment_id,
                family=family,
                regie=regie,
                state=PaymentState.PENDING,
                next_attempt_at=created_at,
                updated_at=created_at,
            )
            Attempt.create(payment=payment_id, at=created_at, desk=desk_id, action="record", outcome=PaymentState.PENDING.value,
                           detail=f"{from_cents(payment.amount_cents)} {mode}")
            if on_written is not None:
                on_written()  # still inside the transaction (crash tests)
        return _record(payment, outbox)

    def expected_paid(self, family: int, regie: int) -> dict[int, Decimal]:
        """Per invoice, the paid amount Maelis must show once every unconfirmed
        payment of this family and régie has landed (max over payments)."""
        return self.expected_paid_by_regie(family).get(regie, {})

    def expected_paid_by_regie(self, family: int) -> dict[int, dict[int, Decimal]]:
        """`expected_paid` for every régie of a family, in one query."""
        p = db.param
        unconfirmed = [s.value for s in PaymentState.paid_not_confirmed()]
        states = ", ".join(p for _ in unconfirmed)
        rows = db.execute_sql(
            f'SELECT p."regie", p."invoices" FROM "outbox" AS o JOIN "payment" AS p ON p."id" = o."payment" '
            f'WHERE o."family" = {p} AND o."state" IN ({states})',
            (family, *unconfirmed),
        )
        expected: dict[int, dict[int, Decimal]] = {}
        for regie, invoices in rows:
            per_regie = expected.setdefault(regie, {})
            for entry in json.loads(invoices):
                number, value = int(entry["number"]), Decimal(entry["expected_paid"])
                per_regie[number] = max(per_regie.get(number, value), value)
        return expected

    def get(self, payment_id: str) -> PaymentRecord | None:
        p = Payment.get_or_none(Payment.id == payment_id)
        return None if p is None else _record(p, Outbox.get_or_none(Outbox.payment == payment_id))

    def by_receipt(self, receipt: str) -> PaymentRecord | None:
        """The payment of a receipt number as typed (domain.parse_receipt), in either form."""
        number = parse_receipt(receipt)
        p = None if number is None else Payment.get_or_none(Payment.receipt == str(number))
        return None if p is None else _record(p, Outbox.get_or_none(Outbox.payment == p.id))

    def _select(self):
        return Payment.select(Payment, Outbox).join(Outbox, peewee.JOIN.LEFT_OUTER, on=(Outbox.payment == Payment.id))

    def list(self, *, states: Iterable[PaymentState] | None = None, family: int | None = None,
             regie: int | None = None, session: int | None = None) -> list[PaymentRecord]:
        query = self._select()
        if session is not None:
            query = query.where(Payment.session == session)
        if states is not None:
            query = query.where(Outbox.state.in_(list(states)))
        if family is not None:
            query = query.where(Payment.family == family)
        if regie is not None:
            query = query.where(Payment.regie == regie)
        return [_record(p, p.outbox) for p in query.order_by(Payment.created_at, Payment.receipt)]

    def attempts(self, payment_id: str) -> list[dict[str, Any]]:
        return [
            {"at": a.at, "desk": a.desk, "action": a.action, "outcome": a.outcome, "detail": a.detail}
            for a in Attempt.select().where(Attempt.payment == payment_id).order_by(Attempt.at, Attempt.id)
        ]

    # -- the outbox's transitions ---------------------------------------------

    def due(self, now: datetime, limit: int = 50) -> list[PaymentRecord]:
        """Entries the transmitter may work on now, oldest first."""
        query = self._select().where(
            (Outbox.state.in_(PaymentState.waiting()))
            & ((Outbox.next_attempt_at <= now) | (Outbox.state == PaymentState.SENDING))
        )
        return [_record(p, p.outbox) for p in query.order_by(Payment.created_at).limit(limit)]

    def claim(self, payment_id: str, owner: str, now: datetime, lease: timedelta, *, states: tuple[PaymentState, ...],
              alone: bool = False) -> bool:
        """Take the lease on an entry in one of `states` whose lease is free or
        expired. Atomic across desks: exactly one claimant wins.

        `alone`: also require that no other payment of the same family and
        régie is being sent, unresolved, or held by someone (reconciling needs
        one unknown at a time per family and régie)."""
        with self._writing():
            entry = Outbox.get_or_none(Outbox.payment == payment_id)
            if entry is None:
                return False
            if alone:
                # Two desks claiming two payments of one family and régie at once
                # must not both see « nobody else »: the family's entries in this
                # régie are locked first (in one order: no deadlock), so the second
                # claimant reads them once the first has committed its lease.
                list(locking(Outbox.select(Outbox.payment).where(
                    (Outbox.family == entry.family) & (Outbox.regie == entry.regie)
                ).order_by(Outbox.payment)))
                others = Outbox.select().where(
                    (Outbox.family == entry.family) & (Outbox.regie == entry.regie)
                    & (Outbox.payment != payment_id)
                    & (Outbox.state.in_((PaymentState.SENDING, PaymentState.UNCERTAIN))
                       | (Outbox.lease_until.is_null(False) & (Outbox.lease_until > now)
                          & (Outbox.lease_owner != owner)))
                )
                if others.exists():
                    return False
            changed = (
                Outbox.update(lease_owner=owner, lease_until=now + lease, updated_at=now)
                .where(
                    (Outbox.payment == payment_id)
                    & Outbox.state.in_(states)
                    & (Outbox.lease_until.is_null() | (Outbox.lease_until <= now) | (Outbox.lease_owner == owner))
                )
                .execute()
            )
        return changed == 1

    def transition(
        self,
        payment_id: str,
        owner: str,
        now: datetime,
        *,
        state: PaymentState,
        action: str,
        outcome: str | None = None,
        detail: str | None = None,
        release: bool = True,
        **fields: Any,
    ) -> bool:
        """Move an entry we hold the lease on to `state` and log the attempt
        (its outcome is the new state unless told). Returns False (and changes nothing) if the lease was lost."""
        values: dict[Any, Any] = {Outbox.state: state, Outbox.updated_at: now}
        for name, value in fields.items():
            values[getattr(Outbox, name)] = value
        if release:
            values[Outbox.lease_owner] = None
            values[Outbox.lease_until] = None
        with self._writing():
            before = Outbox.get_or_none(Outbox.payment == payment_id)
            if before is None or before.lease_owner != owner:
                return False
            changed = Outbox.update(values).where(
                (Outbox.payment == payment_id) & (Outbox.lease_owner == owner) & (Outbox.state == before.state)
            ).execute()
            if changed:
                Attempt.create(payment=payment_id, at=now, desk=owner, action=action, outcome=outcome or state.value,
                               detail=detail)
                if state != before.state:
                    _journal_state(payment_id, before.state, state, now, owner, action, outcome or state.value)
                    settle_waiting(payment_id, state, now, owner)
        return changed == 1

    def confirm_if(self, payment_id: str, now: datetime, desk: str, detail: str) -> bool:
        """sent → confirmed, by whoever saw Maelis reflect the payment."""
        with self._writing():
            changed = Outbox.update(
                state=PaymentState.CONFIRMED, updated_at=now, lease_owner=None, lease_until=None
            ).where(
                (Outbox.payment == payment_id) & (Outbox.state == PaymentState.SENT)
            ).execute()
            if changed:
                Attempt.create(payment=payment_id, at=now, desk=desk, action="confirm",
                               outcome=PaymentState.CONFIRMED.value,
                               detail=detail)
                _journal_state(payment_id, "sent", "confirmed", now, desk, "confirm", "confirmed")
        return changed == 1

    def counts(self) -> dict[PaymentState, int]:
        return {PaymentState(state): n for state, n in Outbox.select(Outbox.state, peewee.fn.COUNT(Outbox.payment))
                .group_by(Outbox.state).tuples()}


def payment_facts(p: Payment) -> dict[str, Any]:
    """What the journal keeps of a recorded payment, and `journal verify` compares with its row."""
    return {
        "receipt": p.receipt,
        "regie": p.regie,
        "family": p.family,
        "amount_cents": p.amount_cents,
        "mode": p.mode,
        "invoices": [{"number": int(i["number"]), "share": i["share"]} for i in p.invoices],
        "operator": p.operator,
        "operator_login": p.operator_login,
        "created_at": utc_text(p.created_at),
    }


def _journal_state(payment_id: str, before: str, after: str, now: datetime, desk: str, action: str,
                   outcome: str) -> None:
    p = Payment.get_or_none(Payment.id == payment_id)
    journal.append("payment.state", at=now, desk=desk, payment=payment_id,
                   receipt=p.receipt if p else None, amount_cents=p.amount_cents if p else None,
                   data={"from": PaymentState(before).value, "to": PaymentState(after).value, "action": action,
                         "outcome": str(outcome)})
