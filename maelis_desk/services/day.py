"""The régie's day: cash sessions, the close (arrêté de caisse), dockets.

Rules (each with its French message, each tested):

- one open session per desk; it is opened with the float counted;
- every payment belongs to the desk's open session, claimed inside the
  payment's own transaction (`session_for_payment`): without an open session
  of today the desk refuses to take money and says how to open one; a
  session left open from a previous day must be closed first;
- cash movements (apport, retrait pour versement au comptable...) carry a
  reason, and a withdrawal never takes more cash than the till holds;
- the close compares what was counted (cash by denomination, cheques' number
  and total, the card terminal's total) with what the desk expected, needs a
  comment for every difference, takes a gap-free Z number and freezes the Z
  report's figures: a closed session never changes;
- a docket (bordereau) gathers the payments of a régie and mode that are in
  no docket yet, one draft per régie and type; validating it numbers it
  `B-<régie>-<year>-NNNN` (gap-free) and locks its payments: `lock_reason`
  says why a locked payment cannot be cancelled.

Who acts is asked of `current_operator()`, the one place to switch when
operators log in (issue 11). What they may do with dockets is asked of
`require` (the desk's OperatorService.require): Action.MANAGE_DOCKETS to
prepare, validate or discard one (money leaves the régie), Action.SEE_DOCKETS
to read them and the monthly statement. The till itself (open, move, close) is
whoever takes money's (Action.TAKE_PAYMENT); a session and its Z report are
read with Action.SEE_OWN_PAYMENTS for this desk, Action.SEE_ALL_PAYMENTS for
every desk (the supervisor sees every session).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal
from typing import Callable

import peewee

from ..domain import Action
from ..domain_day import (
    ZERO, CashCount, CashMovement, CashSession, Closing, Counted, DayError, Docket, DocketState, DocketType,
    Expected, MoveReason, check_close, differences,
)
from ..formatting import desk_tz, euros, fr_date, fr_datetime
from ..store.day import Busy, DayStore
from ..store.payments import PaymentRecord, Payments
from .failpoints import failpoint
from .errors import DayRefused, PaymentRefused
from .payments import MODE_LABELS, Mode

log = logging.getLogger(__name__)

# The refusals say how, in words fit for both the window and the command line.
HOW_TO_OPEN = ("ouvrez la caisse avec son fond de caisse (dans la fenêtre : Caisse > Ouvrir la caisse… ; "
               "en ligne de commande : « maelis-desk session open --float 50,00 »)")
HOW_TO_CLOSE = ("faites son arrêté de caisse (dans la fenêtre : Caisse > Arrêté de caisse… ; "
                "en ligne de commande : « maelis-desk session close »)")


class NoOpenSession(PaymentRefused):
    """No payment without an open cash session of today (CLI exit 7, like every refusal)."""

    def __init__(self, message: str):
        super().__init__(message, "session")


def day_bounds(day: date) -> tuple[datetime, datetime]:
    """[start, end) of a day in the desk's time zone, as aware UTC datetimes."""
    start = datetime.combine(day, time(0), tzinfo=desk_tz())
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=desk_tz())
    return start.astimezone(timezone.utc), end.astimezone(timezone.utc)


def month_bounds(year: int, month: int) -> tuple[datetime, datetime]:
    start = date(year, month, 1)
    end = date(year + (month == 12), month % 12 + 1, 1)
    return day_bounds(start)[0], day_bounds(end)[0]


@dataclass(frozen=True)
class SessionStatus:
    session: CashSession
    expected: Expected
    payments: list[PaymentRecord]  # every payment of the session, cancelled ones included
    cancelled: set[str]
    movements: list[CashMovement]
    closing: Closing | None = None


class DayService:
    def __init__(self, store: DayStore, payments: Payments, *, desk: str, operator: Callable[[], str], clock,
                 cancelled: Callable[[list[str]], set[str]] | None = None,
                 cancellations: Callable[[int, datetime, datetime], list[dict]] | None = None,
                 motives: Callable[[list[str]], dict[str, str]] | None = None,
                 require: Callable[[Action], object] | None = None):
        self.store = store
        self.payments = payments
        self.desk = desk
        self._operator = operator
        self.clock = clock
        # which of these payments are cancelled (issue 11's cancellations); none until they exist
        self._cancelled = cancelled or (lambda ids: set())
        # the cancellations made in [since, until) of a régie's payments: receipt, at, paid_at, mode, amount, reason
        self._cancellations = cancellations or (lambda regie, since, until: [])
        # the motive, in French, of each of these payments that is cancelled (for the Z report)
        self._motives = motives or (lambda ids: {})
        # the role check of the desk's operators (PermissionDenied); a DayService built without
        # operators (the store's tests) checks no role
        self._require = require or (lambda action: None)

    # -- who and when ---------------------------------------------------------

    def current_operator(self) -> str:
        """Who is acting at this desk: what goes on sessions, movements, closes, dockets."""
        return self._operator()

    @staticmethod
    def _login(operator) -> str | None:
        """The journal's name of who acts (None: a one-person desk, or the store's tests)."""
        return getattr(operator, "login", None) or None

    def today(self) -> date:
        return self.clock().astimezone(desk_tz()).date()

    # -- sessions -------------------------------------------------------------

    def current(self) -> CashSession | None:
        """This desk's open session (of today or left open from another day)."""
        return self.store.open_for(self.desk)

    def open_session(self, float_amount: Decimal | None = None, count: CashCount | None = None) -> CashSession:
        """Open the desk's session with its float (counted by denomination, or its total)."""
        login = self._login(self._require(Action.TAKE_PAYMENT))
        if count is not None:
            if float_amount is not None and float_amount != count.total:
                raise DayRefused("Le fond de caisse ne correspond pas au détail des coupures.", "float")
            float_amount = count.total
        if float_amount is None:
            raise DayRefused("Comptez le fond de caisse (0,00 € s'il est vide).", "float")
        if float_amount < 0 or float_amount != float_amount.quantize(Decimal("0.01")):
            raise DayRefused("Fond de caisse invalide.", "float")
        now = self.clock()
        try:
            with self.store.writing():
                existing = self.store.open_for(self.desk)
                if existing is not None:
                    raise self._already_open(existing)
                session = self.store.open_session(desk=self.desk, operator=self.current_operator(), at=now,
                                                  float_amount=float_amount, float_count=count, login=login)
        except peewee.IntegrityError:  # another process of this desk opened it at the same instant
            raise self._already_open(self.store.open_for(self.desk)) from None
        log.info("cash session %d opened on %s with %s", session.id, self.desk, float_amount)
        return session

    def _already_open(self, existing: CashSession | None) -> DayRefused:
        if existing is not None and existing.opened_on(desk_tz()) != self.today():
            return DayRefused(f"La caisse ouverte le {fr_date(existing.opened_at)} n'a pas été arrêtée : "
                            "faites d'abord son arrêté de caisse.", "session")
        return DayRefused("La caisse de ce poste est déjà ouverte.", "session")

    def session_for_payment(self) -> int:
        """Inside a payment's transaction: the open session of today it belongs to.
        Raises NoOpenSession (a PaymentRefused) saying what to do."""
        session = self.store.claim_for_payment(self.desk)
        if session is None:
            raise NoOpenSession(f"Aucune caisse n'est ouverte sur ce poste : {HOW_TO_OPEN}, puis encaissez.")
        if session.opened_on(desk_tz()) != self.today():
            raise NoOpenSession(
                f"La caisse ouverte le {fr_date(session.opened_at)} n'a pas été arrêtée : {HOW_TO_CLOSE}, "
                f"puis {HOW_TO_OPEN.split(' (')[0]} du jour."
            )
        return session.id

    def refusal(self) -> str | None:
        """Why this desk cannot take money now (no session, or yesterday's still open); None if it can."""
        session = self.current()
        if session is None:
            return f"Aucune caisse n'est ouverte sur ce poste : {HOW_TO_OPEN}, puis encaissez."
        if session.opened_on(desk_tz()) != self.today():
            return (f"La caisse ouverte le {fr_date(session.opened_at)} n'a pas été arrêtée : {HOW_TO_CLOSE}, "
                    "puis ouvrez la caisse du jour.")
        return None

    def move(self, amount: Decimal, reason: MoveReason, comment: str = "") -> CashMovement:
        """A cash movement of the open session: + apport, − withdrawal (the sign may be omitted)."""
        login = self._login(self._require(Action.TAKE_PAYMENT))
        if amount == 0:
            raise DayRefused("Le montant du mouvement ne peut pas être nul.", "amount")
        if amount != amount.quantize(Decimal("0.01")):
            raise DayRefused("Le montant ne peut pas avoir plus de deux décimales.", "amount")
        signed = abs(amount) * reason.sign
        if reason is MoveReason.APPORT and amount < 0:  # a withdrawal may omit its minus sign, not an apport
            raise DayRefused(f"« {reason.label_fr} » : le montant doit être positif (entrée en caisse).", "amount")
        comment = (comment or "").strip()
        if reason is MoveReason.RETRAIT and not comment:
            raise DayRefused("Un autre retrait doit être expliqué par un commentaire.", "comment")
        with self.store.writing():
            current = self.current()
            if current is None:
                raise DayRefused(f"Aucune caisse n'est ouverte sur ce poste : {HOW_TO_OPEN}.", "session")
            try:
                self.store.hold_open(current.id)
            except Busy:
                raise DayRefused("La caisse vient d'être arrêtée.", "session") from None
            if signed < 0:
                cash = self._expected(current).cash
                if cash + signed < 0:
                    raise DayRefused(f"La caisse ne contient que {euros(cash)} en espèces : impossible de retirer "
                                   f"{euros(-signed)}.", "amount")
            movement = self.store.add_movement(session=current.id, at=self.clock(), amount=signed, reason=reason,
                                               comment=comment[:500], operator=self.current_operator(),
                                               desk=self.desk, login=login)
        return movement

    def _expected(self, session: CashSession, payments: list[PaymentRecord] | None = None,
                  cancelled: set[str] | None = None) -> Expected:
        payments = self.payments.list(session=session.id) if payments is None else payments
        cancelled = self._cancelled([p.id for p in payments]) if cancelled is None else cancelled
        kept = [p for p in payments if p.id not in cancelled]
        by_mode: dict[str, Decimal] = {}
        for p in kept:
            by_mode[p.mode] = by_mode.get(p.mode, ZERO) + p.amount
        moves = sum((m.amount for m in self.store.movements(session.id)), ZERO)
        cheques = [p for p in kept if p.mode == Mode.CHEQUE.value]
        return Expected(
            cash=session.float_amount + by_mode.get(Mode.ESPECES.value, ZERO) + moves,
            cheques_count=len(cheques),
            cheques_total=sum((p.amount for p in cheques), ZERO),
            card_total=by_mode.get(Mode.CARTE.value, ZERO),
            others={m: v for m, v in by_mode.items() if m not in (Mode.ESPECES.value, Mode.CHEQUE.value,
                                                                   Mode.CARTE.value)},
        )

    def status(self, session_id: int | None = None) -> SessionStatus | None:
        """A session (this desk's open one by default): float, expected per mode, payments, movements."""
        self._require(Action.SEE_OWN_PAYMENTS)
        session = self.current() if session_id is None else self.store.get(session_id)
        if session is None:
            return None
        if session.desk != self.desk:
            self._require(Action.SEE_ALL_PAYMENTS)
        payments = self.payments.list(session=session.id)
        cancelled = self._cancelled([p.id for p in payments])
        return SessionStatus(session, self._expected(session, payments, cancelled), payments, cancelled,
                             self.store.movements(session.id), self.store.closing(session.id))

    def sessions(self, *, every_desk: bool = False, limit: int = 200) -> list[CashSession]:
        """This desk's sessions, newest first; every desk's for a supervisor."""
        self._require(Action.SEE_ALL_PAYMENTS if every_desk else Action.SEE_OWN_PAYMENTS)
        return self.store.sessions(desk=None if every_desk else self.desk, limit=limit)

    def close(self, counted: Counted, comments: dict[str, str] | None = None) -> Closing:
        """The arrêté de caisse of this desk's open session. One transaction: the
        session's row is held, the expected figures computed, the differences
        checked for their comments, a Z number taken, the close written."""
        login = self._login(self._require(Action.TAKE_PAYMENT))
        comments = comments or {}
        now = self.clock()
        with self.store.writing():
            current = self.current()
            if current is None:
                raise DayRefused("Aucune caisse ouverte à arrêter sur ce poste.", "session")
            try:
                session = self.store.hold_open(current.id)
            except Busy:
                raise DayRefused("La caisse vient d'être arrêtée.", "session") from None
            failpoint("close-held")
            payments = self.payments.list(session=session.id)
            cancelled = self._cancelled([p.id for p in payments])
            expected = self._expected(session, payments, cancelled)
            try:
                kept = check_close(expected, counted, comments)
            except DayError as exc:  # the domain's rule, said as the services' refusal
                raise DayRefused(str(exc), exc.field) from None
            z_number = self.store.next_number("Z", 0)  # one Z series for the database, never reset
            failpoint("close-numbered")
            report = self._z_report(session, z_number, now, payments, cancelled, expected, counted, kept)
            closing = self.store.write_closing(session=session.id, z_number=z_number, at=now,
                                               by=self.current_operator(), expected=expected, counted=counted,
                                               comments=kept, report=report, desk=self.desk, login=login)
            failpoint("close-written")
        failpoint("close-committed")
        log.info("cash session %d closed: Z %d", session.id, z_number)
        return closing

    def _z_report(self, session: CashSession, z_number: int, now: datetime, payments: list[PaymentRecord],
                  cancelled: set[str], expected: Expected, counted: Counted, comments: dict[str, str]) -> dict:
        motives = self._motives([p.id for p in payments if p.id in cancelled]) if cancelled else {}
        groups: dict[tuple[int, str], dict] = {}
        for p in payments:
            if p.id in cancelled:
                continue
            g = groups.setdefault((p.regie, p.mode), {"regie": p.regie, "regie_label": p.regie_label,
                                                      "mode": p.mode, "count": 0, "total": ZERO})
            g["count"] += 1
            g["total"] += p.amount
        diffs = differences(expected, counted)
        return {
            "z_number": z_number,
            "desk": session.desk,
            "opened_at": session.opened_at.isoformat(),
            "opened_by": session.operator,
            "closed_at": now.isoformat(),
            "closed_by": self.current_operator(),
            "float": f"{session.float_amount:.2f}",
            "float_count": session.float_count.to_json() if session.float_count else None,
            "groups": [dict(g, total=f"{g['total']:.2f}") for _k, g in sorted(groups.items())],
            "payments": [
                {"receipt": p.receipt, "regie": p.regie, "mode": p.mode, "amount": f"{p.amount:.2f}",
                 "at": p.created_at.isoformat(), "operator": p.operator, "payer": p.payer_name,
                 "cancelled": p.id in cancelled, "motive": motives.get(p.id)}
                for p in payments
            ],
            "movements": [
                {"at": m.at.isoformat(), "amount": f"{m.amount:.2f}", "reason": m.reason.value,
                 "comment": m.comment, "operator": m.operator}
                for m in self.store.movements(session.id)
            ],
            "expected": expected.to_json(),
            "counted": counted.to_json(),
            "differences": {k: (v if isinstance(v, int) else f"{v:.2f}") for k, v in diffs.items()},
            "comments": comments,
            "operators": sorted({session.operator, self.current_operator()} | {p.operator for p in payments}),
        }

    def closing_by_z(self, z_number: int) -> Closing | None:
        """A close by its Z number (its report reprints identically); another desk's needs SEE_ALL_PAYMENTS."""
        self._require(Action.SEE_OWN_PAYMENTS)
        session = self.store.by_z(z_number)
        if session is None:
            return None
        if session.desk != self.desk:
            self._require(Action.SEE_ALL_PAYMENTS)
        return self.store.closing(session.id)

    # -- dockets --------------------------------------------------------------

    def create_docket(self, regie: int, type: DocketType, until: date | None = None) -> Docket:
        """The draft docket of a régie and type: its payments not yet in a docket, up to `until` (today)."""
        login = self._login(self._require(Action.MANAGE_DOCKETS))
        until = until or self.today()
        end = day_bounds(until)[1]
        try:
            with self.store.writing():
                existing = self.store.draft_for(regie, type)
                if existing is not None:
                    raise DayRefused(f"Un brouillon de {type.label_fr.lower()} existe déjà pour la régie {regie} "
                                   f"(n° {existing}) : validez-le ou supprimez-le d'abord.", "docket")
                rows = self.store.candidates(regie, type.mode, end, self._cancelled)
                if not rows:
                    raise DayRefused(f"Aucun paiement par {MODE_LABELS[Mode(type.mode)]} de la régie {regie} "
                                   f"jusqu'au {until:%d/%m/%Y} n'attend de bordereau.", "docket")
                docket_id = self.store.create_draft(regie=regie, regie_label=rows[0].regie_label, type=type,
                                                    until=until, at=self.clock(), by=self.current_operator(),
                                                    payments=[r.id for r in rows], desk=self.desk, login=login)
        except peewee.IntegrityError:  # a second desk built the same draft at the same instant
            raise DayRefused("Un autre poste vient de préparer ce bordereau : actualisez la liste.", "docket") from None
        return self.store.docket(docket_id)

    def discard_docket(self, docket_id: int) -> None:
        login = self._login(self._require(Action.MANAGE_DOCKETS))
        with self.store.writing():
            if not self.store.delete_draft(docket_id, at=self.clock(), desk=self.desk, login=login):
                raise DayRefused(f"Le bordereau {docket_id} n'est pas un brouillon : il ne peut plus être supprimé.",
                               "docket")

    def validate_docket(self, docket_id: int) -> Docket:
        """Number the draft (gap-free per régie and year) and lock its payments."""
        login = self._login(self._require(Action.MANAGE_DOCKETS))
        now = self.clock()
        with self.store.writing():
            docket = self.store.docket(docket_id)
            if docket is None:
                raise DayRefused(f"Bordereau {docket_id} inconnu.", "docket")
            if docket.state is DocketState.VALIDATED:
                raise DayRefused(f"Le bordereau {docket.number} est déjà validé.", "docket")
            try:
                self.store.hold_draft(docket_id)
            except Busy:
                raise DayRefused("Ce bordereau vient d'être validé par un autre poste.", "docket") from None
            failpoint("docket-held")
            gone = self._cancelled([line.payment for line in docket.lines])
            self.store.drop_lines(docket_id, gone)  # a payment cancelled since the draft leaves it
            if len(gone) == docket.count:
                raise DayRefused("Tous les paiements de ce brouillon ont été annulés : supprimez-le.", "docket")
            year = now.astimezone(desk_tz()).year
            from ..domain_day import docket_number

            number = docket_number(docket.regie, year, self.store.next_number(f"B-{docket.regie}", year))
            failpoint("docket-numbered")
            self.store.mark_validated(docket_id, number=number, at=now, by=self.current_operator(), desk=self.desk,
                                      login=login)
            failpoint("docket-validated")
        failpoint("docket-committed")
        return self.store.docket(docket_id)

    def docket(self, docket_id: int) -> Docket | None:
        self._require(Action.SEE_DOCKETS)
        return self.store.docket(docket_id)

    def dockets(self, regie: int | None = None) -> list[Docket]:
        self._require(Action.SEE_DOCKETS)
        return self.store.dockets(regie=regie)

    def lock_reason(self, payment_id: str) -> str | None:
        """Why this payment can no longer be cancelled (it left the régie in a validated docket), or None."""
        docket = self.store.lock_of(payment_id)
        if docket is None:
            return None
        return (f"Ce paiement figure au {docket.type.label_fr.lower()} {docket.number}, validé le "
                f"{fr_datetime(docket.validated_at)} : il a quitté la régie et ne peut plus être annulé.")

    def is_locked(self, payment_id: str) -> bool:
        return self.store.lock_of(payment_id) is not None

    # -- the monthly statement ------------------------------------------------

    def statement(self, regie: int, year: int, month: int):
        """A régie's month for the comptable public: payments by mode, the
        cancellations made that month (also of earlier payments, so a
        cancellation after a close shows in the next statement), the dockets
        validated, the sessions closed with their differences."""
        from .day_documents import Statement

        self._require(Action.SEE_DOCKETS)
        since, until = month_bounds(year, month)
        payments = [p for p in self.payments.list(regie=regie) if since <= p.created_at < until]
        by_mode: dict[str, list] = {}
        label = payments[0].regie_label if payments else ""
        for p in payments:
            entry = by_mode.setdefault(p.mode, [0, ZERO])
            entry[0] += 1
            entry[1] += p.amount
        order = [m.value for m in Mode]
        dockets = sorted(self.store.dockets(regie=regie, since=since, until=until, validated_only=True),
                         key=lambda d: d.number)
        label = label or (dockets[0].regie_label if dockets else "")
        closings = [c for c in self.store.closings_between(since, until)
                    if any(p["regie"] == regie for p in c.report["payments"])]
        return Statement(
            regie=regie, regie_label=label, year=year, month=month,
            by_mode=[(m, by_mode[m][0], by_mode[m][1]) for m in sorted(by_mode, key=order.index)],
            cancellations=self._cancellations(regie, since, until), dockets=dockets, sessions=closings,
        )
