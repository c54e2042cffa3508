"""The régie's day in the database: cash sessions, movements, closes, dockets.

What must hold under concurrency is made to hold here, the same way on
SQLite and PostgreSQL (plain peewee, no dialect SQL):

- one open session per desk: `open_desk` is the desk's name while the
  session is open and NULL once closed, under a unique index;
- a payment and a close never cross: a payment bumps its session's
  `payments_count` (an UPDATE ... WHERE state = 'open', which locks the row on
  PostgreSQL and needs the write lock on SQLite), and a close starts with an
  UPDATE of the same row; whichever comes second sees the first;
- gap-free numbers (Z reports, dockets per régie and year): a counter row
  incremented inside the transaction that uses the number, so a rollback or a
  crash gives it back;
- one draft per régie and type (`draft_key` unique while a draft), and a
  payment in one docket at most (`docket_payment.payment` is the key).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Callable, Iterable

import peewee

from ..domain_day import (
    CashCount, CashMovement as Movement, CashSession as Session, Closing, Counted, Docket as DocketData,
    DocketLine, DocketState, DocketType, Expected, MoveReason, SessionState,
)
from . import journal
from .database import db, writing
from .fields import AwareDateTimeField, JSONTextField
from .models import BaseModel, Payment
from ..domain import from_cents, to_cents


class CashSession(BaseModel):
    desk = peewee.CharField(max_length=100, index=True)
    open_desk = peewee.CharField(max_length=100, null=True, unique=True)  # the desk while open, else NULL
    operator = peewee.CharField(max_length=100)
    opened_at = AwareDateTimeField(index=True)
    float_cents = peewee.BigIntegerField()
    float_count = JSONTextField(null=True)  # {cents: quantity}
    state = peewee.CharField(max_length=16)
    payments_count = peewee.IntegerField(default=0)
    closed_at = AwareDateTimeField(null=True)
    closed_by = peewee.CharField(max_length=100, null=True)
    z_number = peewee.IntegerField(null=True, unique=True)


class CashMovement(BaseModel):
    session = peewee.IntegerField(index=True)
    at = AwareDateTimeField()
    amount_cents = peewee.BigIntegerField()  # signed
    reason = peewee.CharField(max_length=16)
    comment = peewee.TextField()
    operator = peewee.CharField(max_length=100)


class CashClosing(BaseModel):
    """Written once, by the close; never updated."""

    session = peewee.IntegerField(primary_key=True)
    z_number = peewee.IntegerField(unique=True)
    closed_at = AwareDateTimeField(index=True)
    closed_by = peewee.CharField(max_length=100)
    expected = JSONTextField()
    counted = JSONTextField()
    comments = JSONTextField()
    report = JSONTextField()  # the Z report's frozen figures


class DayCounter(BaseModel):
    """Gap-free numbers: ("Z", year) for Z reports, ("B-102", year) for dockets."""

    key = peewee.CharField(max_length=32)
    year = peewee.IntegerField()
    last = peewee.IntegerField(default=0)

    class Meta:
        primary_key = peewee.CompositeKey("key", "year")


class Docket(BaseModel):
    regie = peewee.IntegerField()
    regie_label = peewee.CharField(max_length=200)
    type = peewee.CharField(max_length=16)
    state = peewee.CharField(max_length=16)
    draft_key = peewee.CharField(max_length=40, null=True, unique=True)  # "regie:type" while a draft
    until = peewee.CharField(max_length=10)  # ISO date: payments up to this day (Paris)
    created_at = AwareDateTimeField()
    created_by = peewee.CharField(max_length=100)
    number = peewee.CharField(max_length=32, null=True, unique=True)
    validated_at = AwareDateTimeField(null=True)
    validated_by = peewee.CharField(max_length=100, null=True)

    class Meta:
        indexes = ((("regie", "type"), False),)


class DocketPayment(BaseModel):
    payment = peewee.CharField(max_length=36, primary_key=True)  # in one docket at most
    docket = peewee.IntegerField(index=True)


DAY_MODELS = [CashSession, CashMovement, CashClosing, DayCounter, Docket, DocketPayment]


class Busy(Exception):
    """A row changed under us (the session was closed, the draft validated)."""


def _session(row: CashSession) -> Session:
    return Session(
        id=row.id, desk=row.desk, operator=row.operator, opened_at=row.opened_at,
        float_amount=from_cents(row.float_cents),
        float_count=CashCount.from_json(row.float_count) if row.float_count is not None else None,
        state=SessionState(row.state), payments_count=row.payments_count, closed_at=row.closed_at,
        closed_by=row.closed_by, z_number=row.z_number,
    )


def _movement(row: CashMovement) -> Movement:
    return Movement(id=row.id, session=row.session, at=row.at, amount=from_cents(row.amount_cents),
                    reason=MoveReason(row.reason), comment=row.comment, operator=row.operator)


def _closing(row: CashClosing) -> Closing:
    return Closing(session=row.session, z_number=row.z_number, closed_at=row.closed_at, closed_by=row.closed_by,
                   expected=Expected.from_json(row.expected), counted=Counted.from_json(row.counted),
                   comments=row.comments, report=row.report)


class DayStore:
    """Queries of the day. Safe from any thread (one connection per thread)."""

    def writing(self):
        """A write transaction: SQLite takes its write lock at BEGIN."""
        return writing()

    def next_number(self, key: str, year: int) -> int:
        """The next gap-free number of `key` this year; call inside the transaction that uses it."""
        DayCounter.insert(key=key, year=year, last=0).on_conflict_ignore().execute()
        DayCounter.update(last=DayCounter.last + 1).where(
            (DayCounter.key == key) & (DayCounter.year == year)).execute()
        return DayCounter.get((DayCounter.key == key) & (DayCounter.year == year)).last

    # -- sessions -------------------------------------------------------------

    def open_session(self, *, desk: str, operator: str, at: datetime, float_amount: Decimal,
                     float_count: CashCount | None, login: str | None = None) -> Session:
        row = CashSession.create(
            desk=desk, open_desk=desk, operator=operator, opened_at=at, float_cents=to_cents(float_amount),
            float_count=float_count.to_json() if float_count is not None else None, state=SessionState.OPEN.value,
        )
        journal.append("session.opened", at=at, desk=desk, operator=login, amount_cents=to_cents(float_amount),
                       data={"session": row.id, "by": operator,
                             "count": float_count.to_json() if float_count is not None else None})
        return _session(row)

    def open_for(self, desk: str) -> Session | None:
        row = CashSession.get_or_none(CashSession.open_desk == desk)
        return None if row is None else _session(row)

    def get(self, session_id: int) -> Session | None:
        row = CashSession.get_or_none(CashSession.id == session_id)
        return None if row is None else _session(row)

    def by_z(self, z_number: int) -> Session | None:
        row = CashSession.get_or_none(CashSession.z_number == z_number)
        return None if row is None else _session(row)

    def sessions(self, *, desk: str | None = None, since: datetime | None = None,
                 until: datetime | None = None, limit: int | None = None) -> list[Session]:
        query = CashSession.select()
        if desk is not None:
            query = query.where(CashSession.desk == desk)
        if since is not None:
            query = query.where(CashSession.opened_at >= since)
        if until is not None:
            query = query.where(CashSession.opened_at < until)
        query = query.order_by(CashSession.opened_at.desc(), CashSession.id.desc())
        if limit:
            query = query.limit(limit)
        return [_session(r) for r in query]

    def claim_for_payment(self, desk: str) -> Session | None:
        """Inside a payment's transaction: bump the desk's open session (locking
        its row against a concurrent close) and return it; None if there is none."""
        changed = CashSession.update(payments_count=CashSession.payments_count + 1).where(
            (CashSession.open_desk == desk) & (CashSession.state == SessionState.OPEN.value)).execute()
        if not changed:
            return None
        return self.open_for(desk)

    def hold_open(self, session_id: int) -> Session:
        """Inside a transaction: lock an open session's row (raises Busy if it is closed)."""
        changed = CashSession.update(payments_count=CashSession.payments_count).where(
            (CashSession.id == session_id) & (CashSession.state == SessionState.OPEN.value)).execute()
        if not changed:
            raise Busy(session_id)
        return self.get(session_id)

    def add_movement(self, *, session: int, at: datetime, amount: Decimal, reason: MoveReason, comment: str,
                     operator: str, desk: str = "", login: str | None = None) -> Movement:
        row = CashMovement.create(session=session, at=at, amount_cents=to_cents(amount), reason=reason.value,
                                  comment=comment, operator=operator)
        journal.append("session.movement", at=at, desk=desk, operator=login, amount_cents=to_cents(amount),
                       data={"session": session, "movement": row.id, "reason": reason.value, "comment": comment,
                             "by": operator})
        return _movement(row)

    def movements(self, session_id: int) -> list[Movement]:
        return [_movement(r) for r in
                CashMovement.select().where(CashMovement.session == session_id).order_by(CashMovement.at,
                                                                                          CashMovement.id)]

    def movements_between(self, since: datetime, until: datetime) -> list[Movement]:
        return [_movement(r) for r in CashMovement.select().where(
            (CashMovement.at >= since) & (CashMovement.at < until)).order_by(CashMovement.at, CashMovement.id)]

    def write_closing(self, *, session: int, z_number: int, at: datetime, by: str, expected: Expected,
                      counted: Counted, comments: dict[str, str], report: dict, desk: str = "",
                      login: str | None = None) -> Closing:
        changed = CashSession.update(
            state=SessionState.CLOSED.value, open_desk=None, closed_at=at, closed_by=by, z_number=z_number,
        ).where((CashSession.id == session) & (CashSession.state == SessionState.OPEN.value)).execute()
        if not changed:
            raise Busy(session)
        CashClosing.insert(session=session, z_number=z_number, closed_at=at, closed_by=by,
                           expected=expected.to_json(), counted=counted.to_json(), comments=comments,
                           report=report).execute()
        # what the day expected and what was counted, both kept in the chain too
        journal.append("session.closed", at=at, desk=desk, operator=login, amount_cents=to_cents(counted.cash),
                       data={"session": session, "z": z_number, "by": by, "expected": expected.to_json(),
                             "counted": counted.to_json(), "comments": comments})
        return self.closing(session)

    def closing(self, session_id: int) -> Closing | None:
        row = CashClosing.get_or_none(CashClosing.session == session_id)
        return None if row is None else _closing(row)

    def closings_between(self, since: datetime, until: datetime) -> list[Closing]:
        return [_closing(r) for r in CashClosing.select().where(
            (CashClosing.closed_at >= since) & (CashClosing.closed_at < until)).order_by(CashClosing.z_number)]

    # -- dockets --------------------------------------------------------------

    def candidates(self, regie: int, mode: str, until_utc: datetime,
                   excluded: Callable[[list[str]], set[str]]) -> list[Payment]:
        """Payments of a régie and mode, taken before `until_utc`, in no docket yet,
        minus those `excluded` names (cancelled ones)."""
        in_docket = DocketPayment.select(DocketPayment.payment)
        rows = list(Payment.select().where(
            (Payment.regie == regie) & (Payment.mode == mode) & (Payment.created_at < until_utc)
            & Payment.id.not_in(in_docket)).order_by(Payment.created_at, Payment.receipt))
        gone = excluded([r.id for r in rows]) if rows else set()
        return [r for r in rows if r.id not in gone]

    def create_draft(self, *, regie: int, regie_label: str, type: DocketType, until: date, at: datetime,
                     by: str, payments: Iterable[str], desk: str = "", login: str | None = None) -> int:
        row = Docket.create(regie=regie, regie_label=regie_label, type=type.value, state=DocketState.DRAFT.value,
                            draft_key=f"{regie}:{type.value}", until=until.isoformat(), created_at=at, created_by=by)
        ids = list(payments)
        DocketPayment.insert_many([{"payment": p, "docket": row.id} for p in ids]).execute()
        journal.append("docket.drafted", at=at, desk=desk, operator=login,
                       data={"docket": row.id, "regie": regie, "type": type.value, "until": until.isoformat(),
                             "payments": len(ids), "by": by})
        return row.id

    def draft_for(self, regie: int, type: DocketType) -> int | None:
        row = Docket.get_or_none(Docket.draft_key == f"{regie}:{type.value}")
        return None if row is None else row.id

    def drop_lines(self, docket_id: int, payments: Iterable[str]) -> None:
        ids = list(payments)
        if ids:
            DocketPayment.delete().where((DocketPayment.docket == docket_id) & DocketPayment.payment.in_(ids)).execute()

    def delete_draft(self, docket_id: int, *, at: datetime | None = None, desk: str = "",
                     login: str | None = None) -> bool:
        """A draft is a working list, not a record: it goes, and the journal says so."""
        row = Docket.get_or_none((Docket.id == docket_id) & (Docket.state == DocketState.DRAFT.value))
        deleted = Docket.delete().where((Docket.id == docket_id) & (Docket.state == DocketState.DRAFT.value)).execute()
        if deleted:
            DocketPayment.delete().where(DocketPayment.docket == docket_id).execute()
            if at is not None and row is not None:
                journal.append("docket.discarded", at=at, desk=desk, operator=login,
                               data={"docket": docket_id, "regie": row.regie, "type": row.type})
        return bool(deleted)

    def hold_draft(self, docket_id: int) -> None:
        """Inside a transaction: lock a draft's row (raises Busy if it is no longer a draft)."""
        changed = Docket.update(state=Docket.state).where(
            (Docket.id == docket_id) & (Docket.state == DocketState.DRAFT.value)).execute()
        if not changed:
            raise Busy(docket_id)

    def mark_validated(self, docket_id: int, *, number: str, at: datetime, by: str, desk: str = "",
                       login: str | None = None) -> None:
        changed = Docket.update(state=DocketState.VALIDATED.value, draft_key=None, number=number, validated_at=at,
                                validated_by=by).where(
            (Docket.id == docket_id) & (Docket.state == DocketState.DRAFT.value)).execute()
        if not changed:
            raise Busy(docket_id)
        lines = list(DocketPayment.select(Payment.amount_cents).join(Payment, on=(DocketPayment.payment == Payment.id))
                     .where(DocketPayment.docket == docket_id).tuples())
        journal.append("docket.validated", at=at, desk=desk, operator=login,
                       amount_cents=sum(cents for (cents,) in lines),
                       data={"docket": docket_id, "number": number, "payments": len(lines), "by": by})

    def docket(self, docket_id: int) -> DocketData | None:
        row = Docket.get_or_none(Docket.id == docket_id)
        return None if row is None else self._docket(row)

    def docket_by_number(self, number: str) -> DocketData | None:
        row = Docket.get_or_none(Docket.number == number)
        return None if row is None else self._docket(row)

    def dockets(self, *, regie: int | None = None, since: datetime | None = None,
                until: datetime | None = None, validated_only: bool = False) -> list[DocketData]:
        query = Docket.select()
        if regie is not None:
            query = query.where(Docket.regie == regie)
        if validated_only:
            query = query.where(Docket.state == DocketState.VALIDATED.value)
        if since is not None:
            query = query.where(Docket.validated_at >= since)
        if until is not None:
            query = query.where(Docket.validated_at < until)
        return [self._docket(r) for r in query.order_by(Docket.created_at.desc(), Docket.id.desc())]

    def _docket(self, row: Docket) -> DocketData:
        payments = (Payment.select().join(DocketPayment, on=(DocketPayment.payment == Payment.id))
                    .where(DocketPayment.docket == row.id).order_by(Payment.created_at, Payment.receipt))
        lines = tuple(
            DocketLine(payment=p.id, receipt=p.receipt, created_at=p.created_at, family=p.family,
                       payer_name=p.payer_name, amount=from_cents(p.amount_cents), details=p.details or {})
            for p in payments
        )
        return DocketData(
            id=row.id, regie=row.regie, regie_label=row.regie_label, type=DocketType(row.type),
            state=DocketState(row.state), created_at=row.created_at, created_by=row.created_by,
            until=date.fromisoformat(row.until), lines=lines, number=row.number, validated_at=row.validated_at,
            validated_by=row.validated_by,
        )

    def lock_of(self, payment_id: str) -> DocketData | None:
        """The validated docket holding this payment, if any."""
        row = (Docket.select().join(DocketPayment, on=(DocketPayment.docket == Docket.id))
               .where((DocketPayment.payment == payment_id) & (Docket.state == DocketState.VALIDATED.value)).first())
        return None if row is None else self._docket(row)

    def docket_of(self, payment_id: str) -> int | None:
        row = DocketPayment.get_or_none(DocketPayment.payment == payment_id)
        return None if row is None else row.docket
