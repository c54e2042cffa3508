"""Taking a payment at the counter: the rules, and recording it locally first.

A payment is validated, then written with its outbox entry in one database
transaction (store/payments.py) before anything is sent; transmission.py
sends it later. Every rule has a French message for the cashier.

"Telling the truth": until Maelis reflects a payment, `apply_pending` adds it
to the invoices the desk shows (status PENDING, remaining lowered), from
Maelis or from the cache alike.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from ..domain import ZERO, Action, Confirmation, Invoice, PaymentState, PaymentStep, confirmation_of, desk_code_from
from ..formatting import desk_tz, euros
from ..store import Cache
from ..store.payments import PaymentRecord, Payments
from .errors import PaymentRefused, from_store
from .failpoints import failpoint
# The modes and their fields have their own module; these names are still read from here.
from .modes import CASH_LIMIT, MODE_LABELS, MODES, Mode, ModeField, ModeSpec, check_details, mode_label  # noqa: F401
from .operators import OperatorService, PermissionDenied

log = logging.getLogger(__name__)

_BASIC = [Mode.ESPECES, Mode.CHEQUE, Mode.CARTE, Mode.VIREMENT]
# What a régie's founding act usually accepts, guessed from its label; a
# settings entry `regie_modes` ({"102": ["especes", "cheque"]}) overrides it.
_EXTRA_BY_LABEL = [
    (("CRECHE", "CRÈCHE", "HALTE"), [Mode.CESU]),
    (("LOISIRS", "ALSH"), [Mode.CESU, Mode.ANCV]),
    (("SEJOUR", "SÉJOUR", "VACANCES", "SPORT", "PISCINE", "CONSERVATOIRE", "CULTURE"), [Mode.ANCV]),
]


def accepted_modes(regie_code: int, regie_label: str, overrides: dict[str, list[str]] | None = None) -> list[Mode]:
    """The payment modes this régie accepts (CESU is never taken for school canteens)."""
    if overrides and str(regie_code) in overrides:
        return [Mode(m) for m in overrides[str(regie_code)] if m in Mode._value2member_map_]
    label_words = regie_label.upper().replace("/", " ").replace("-", " ").split()
    modes = list(_BASIC)
    for words, extra in _EXTRA_BY_LABEL:
        # whole words or their plurals: SPORT(S), never the SPORT of TRANSPORT
        if any(lw.startswith(w) for w in words for lw in label_words):
            modes += [m for m in extra if m not in modes]
    return modes


def _desk_code(logged: str) -> str:
    """The code of the desk a step names: a transmitter logs its id (« CODE:name:run »),
    a cancellation the desk's name (older steps too)."""
    text = str(logged)
    return text.split(":", 1)[0] if ":" in text else desk_code_from(text)


@dataclass(frozen=True)
class PaymentHistory:
    """A payment (by its receipt) and every step of its life, oldest first."""

    payment: PaymentRecord
    steps: list[PaymentStep]

    @property
    def confirmation(self) -> Confirmation | None:
        """How it came to be held as applied in Maelis (None: it is not)."""
        return confirmation_of(self.steps)

    @property
    def to_check(self) -> bool:
        """A supervisor must look at it: held as applied from the amounts alone, or in doubt."""
        return self.payment.state.needs_person or self.confirmation is Confirmation.INFERRED


@dataclass
class PaymentRequest:
    """What the cashier asks to record."""

    family: int
    regie: int
    invoices: list[int]  # in the order the amount is applied
    amount: Decimal
    mode: Mode
    details: dict[str, Any] = field(default_factory=dict)  # the mode's fields (services/modes.py: MODES)
    request_id: str | None = None  # idempotency key (`pay --request-id`): the same key records once


def allocate(invoices: list[Invoice], amount: Decimal) -> list[tuple[Invoice, Decimal]]:
    """Spread `amount` over the invoices in order, as Maelis does."""
    left = amount
    shares = []
    for inv in invoices:
        share = min(inv.remaining, left)
        shares.append((inv, share))
        left -= share
    return shares


def remaining_after(invoices: list[Invoice], amount: Decimal) -> Decimal:
    """What the family still owes on these invoices once `amount` is spread over them."""
    return sum((inv.remaining - share for inv, share in allocate(invoices, amount)), ZERO)


def check_invoices(request: PaymentRequest, invoices: list[Invoice]) -> None:
    """The contract's rules on which invoices may be paid together."""
    if not request.invoices:
        raise PaymentRefused("Choisissez au moins une facture à payer.", "invoices")
    if len(set(request.invoices)) != len(request.invoices):
        raise PaymentRefused("Une facture est choisie deux fois.", "invoices")
    for inv in invoices:
        if inv.regie.code != request.regie:
            raise PaymentRefused(
                "Un paiement ne peut pas couvrir deux régies : chaque régie a son propre compte.", "invoices"
            )
        if inv.family != request.family:
            raise PaymentRefused(f"La facture {inv.id} n'appartient pas à la famille {request.family}.", "invoices")
        if inv.is_transmitted and inv.remaining > 0:
            raise PaymentRefused(inv.refusal_reason or "Facture transmise au Trésor public.", "invoices")
        if inv.remaining <= 0:
            raise PaymentRefused(f"La facture {inv.id} est déjà réglée.", "invoices")


def check_amount(amount: Decimal, total_remaining: Decimal) -> None:
    if amount <= 0:
        raise PaymentRefused("Le montant doit être supérieur à zéro.", "amount")
    if amount != amount.quantize(Decimal("0.01")):
        raise PaymentRefused("Le montant ne peut pas avoir plus de deux décimales.", "amount")
    if amount > total_remaining:
        raise PaymentRefused(
            f"Le montant ({euros(amount)}) dépasse le reste à payer des factures choisies "
            f"({euros(total_remaining)}).",
            "amount",
        )


def validate(request: PaymentRequest, invoices: list[Invoice], modes: list[Mode]) -> dict[str, Any]:
    """Every rule, in the order a cashier fixes them; returns the cleaned details."""
    check_invoices(request, invoices)
    check_amount(request.amount, sum((i.remaining for i in invoices), ZERO))
    if request.mode not in modes:
        raise PaymentRefused(f"La régie n'accepte pas le paiement par {request.mode.label_fr}.", "mode")
    return check_details(request.mode, request.amount, request.details)


def apply_pending(invoices: list[Invoice], expected: dict[int, Decimal]) -> list[Invoice]:
    """Show the desk's unconfirmed payments on invoices read from Maelis or the cache.

    `expected[n]` is what invoice n's amountPaid will be once they land; what
    Maelis already shows counts, so nothing is counted twice."""
    if not expected:
        return invoices
    shown = []
    for inv in invoices:
        target = expected.get(inv.number)
        pending = max(ZERO, target - inv.paid) if target is not None else ZERO
        shown.append(inv.with_pending(pending) if pending != inv.pending_paid else inv)
    return shown


class PaymentService:
    """Recording payments; the desk's identity goes on each receipt."""

    def __init__(self, cache: Cache, payments: Payments, *, operators: OperatorService, desk: str, clock, day,
                 mode_overrides: dict[str, list[str]] | None = None, desk_code: str | None = None):
        self.cache = cache
        self.day = day  # services/day.DayService: every payment belongs to the open cash session
        self.payments = payments
        self.operators = operators  # who is at the counter: their role is checked here
        self.desk = desk
        self.desk_code = desk_code or desk_code_from(desk)  # on every payment (domain.desk_code_from)
        # this process, for leases and attempts: « code:name:random », the code first
        self.desk_id = f"{self.desk_code}:{desk[:80]}:{uuid.uuid4().hex[:8]}"
        self.clock = clock
        self.mode_overrides = mode_overrides

    def modes_for(self, regie_code: int, regie_label: str) -> list[Mode]:
        return accepted_modes(regie_code, regie_label, self.mode_overrides)

    def record(self, request: PaymentRequest) -> PaymentRecord:
        """Validate and record, atomically; raises PaymentRefused. Nothing is sent here.

        The invoices' figures are the cache's latest Maelis data plus every
        unconfirmed payment, read inside the transaction that holds the régie:
        a second desk paying the same invoice at once is refused."""
        operator = self.operators.require(Action.TAKE_PAYMENT)
        now = self.clock()

        def build(expected: dict[int, Decimal]) -> dict[str, Any]:
            session = self.day.session_for_payment()  # no money without an open session of today
            cached = {inv.number: inv for inv in self._cached(request.family, request.regie)}
            missing = [n for n in request.invoices if n not in cached]
            if missing:
                raise PaymentRefused(
                    f"Facture {missing[0]} inconnue pour la famille {request.family} dans cette régie.", "invoices"
                )
            invoices = apply_pending([cached[n] for n in request.invoices], expected)
            modes = self.modes_for(request.regie, invoices[0].regie.label)
            try:
                details = validate(request, invoices, modes)
            except PaymentRefused as refused:
                if any(inv.pending_paid for inv in invoices) and refused.field in ("invoices", "amount"):
                    raise PaymentRefused(
                        f"{refused} Un paiement déjà enregistré (sur ce poste ou un autre) couvre ces factures.",
                        refused.field,
                    ) from None
                raise
            return {
                "session": session,
                "regie_label": invoices[0].regie.label,
                "payer_name": invoices[0].payer_name,
                "details": details,
                "invoices": [
                    {
                        "number": inv.number,
                        "id": inv.id,
                        "label": inv.label,
                        "amount": f"{inv.amount:.2f}",
                        "share": f"{share:.2f}",
                        # the paid amount Maelis will show once this payment has landed
                        "expected_paid": f"{inv.paid + inv.pending_paid + share:.2f}",
                        # what the family still owes on it after this payment (receipt, confirmation)
                        "remaining_after": f"{inv.remaining - share:.2f}",
                    }
                    for inv, share in allocate(invoices, request.amount)
                    if share > 0
                ],
            }

        if request.request_id is not None and not request.request_id.strip():
            raise PaymentRefused("La clé de requête (--request-id) est vide.", "request_id")
        try:
            record = self._record(request, operator, now, build)
        except PaymentRefused:
            raise
        except Exception as exc:
            # SQLite and PostgreSQL roll the whole transaction back when a write
            # or the commit fails: no receipt number was given, nothing is owed.
            failed = from_store(exc, doing="Le paiement n'est PAS enregistré (aucune quittance, ne l'encaissez pas)")
            if failed is None:
                raise
            raise failed from exc
        return self._record_checked(request, record)

    def _record(self, request: PaymentRequest, operator, now, build) -> PaymentRecord:
        return self.payments.record(
            regie=request.regie,
            family=request.family,
            amount=request.amount,
            mode=request.mode.value,
            operator=operator.full_name,
            operator_login=None if operator.implicit else operator.login,
            desk=self.desk,
            desk_code=self.desk_code,
            created_at=now,
            year=now.astimezone(desk_tz()).year,
            desk_id=self.desk_id,
            build=build,
            on_written=lambda: failpoint("recorded"),
            request_id=request.request_id,
        )

    def _record_checked(self, request: PaymentRequest, record: PaymentRecord) -> PaymentRecord:
        if record.replayed:
            same = (record.family == request.family and record.regie == request.regie
                    and record.amount == request.amount and record.mode == request.mode.value
                    and record.invoice_numbers == [n for n in request.invoices if n in record.invoice_numbers])
            if not same:
                raise PaymentRefused(
                    f"La clé de requête « {request.request_id} » a déjà servi au paiement {record.receipt} "
                    f"(famille {record.family}, {euros(record.amount)}) : rien n'est enregistré pour cette "
                    "autre demande ; donnez-lui sa propre clé.", "request_id")
        return record

    # -- what the desk took, for the CLI and the UI (they never query the store) --

    # A cashier sees their own payments only; a régisseur and a supervisor every one.

    def _visible(self, record: PaymentRecord | None) -> PaymentRecord | None:
        only = self.operators.sees_payments_of()
        if record is not None and only is not None and record.operator_login != only:
            raise PermissionDenied(f"Le paiement {record.receipt} a été encaissé par un autre opérateur.",
                                   Action.SEE_ALL_PAYMENTS)
        return record

    def get(self, payment_id: str) -> PaymentRecord | None:
        return self._visible(self.payments.get(payment_id))

    def by_receipt(self, receipt: str) -> PaymentRecord | None:
        return self._visible(self.payments.by_receipt(receipt))

    def history(self, receipt: str) -> PaymentHistory:
        """The payment of this receipt and its steps (recorded, sent, acknowledged or only
        seen in the amounts, checked by a person, cancelled...). Refused (PermissionDenied)
        on another operator's payment to a cashier; PaymentRefused when no such receipt."""
        record = self.by_receipt(receipt.strip())
        if record is None:
            raise PaymentRefused(f"Quittance inconnue : « {receipt.strip()} ».", "receipt")
        attempts = self.payments.attempts(record.id)
        cancelled = None
        if any(a["action"] == "cancel" and a["outcome"] == "cancelled" for a in attempts):
            from ..store import cancellations

            cancelled = cancellations.get(record.id)
        steps = [PaymentStep(at=a["at"], desk_code=_desk_code(a["desk"]), action=a["action"],
                             outcome=a["outcome"], detail=self._said(record, a, cancelled)) for a in attempts]
        return PaymentHistory(record, steps)

    @staticmethod
    def _said(record: PaymentRecord, attempt: dict, cancelled=None) -> str | None:
        """A step's detail for a person: the store's own (« 99.36 cheque », « annulé par regie
        (erreur) ») said with the payment's and the cancellation's facts."""
        if attempt["action"] == "record":
            return f"{euros(record.amount)} en {mode_label(record.mode).lower()}, pris par {record.operator}"
        if attempt["action"] == "cancel" and attempt["outcome"] == "cancelled" and cancelled is not None:
            from .cancellations import motive_text

            return f"par {cancelled.operator_name} : {motive_text(cancelled.reason, cancelled.comment)}"
        return attempt["detail"]

    def to_check(self) -> list[PaymentRecord]:
        """What a supervisor must check: payments waiting for a person (seen in Maelis without
        acknowledgement, in doubt, refused by Maelis), oldest first."""
        only = self.operators.sees_payments_of()
        records = self.payments.list(states=PaymentState.needing_person())
        return records if only is None else [r for r in records if r.operator_login == only]

    def outbox(self, *, include_confirmed: bool = False) -> list[PaymentRecord]:
        """Payments Maelis has not confirmed (rejected and to-review ones included), oldest first."""
        only = self.operators.sees_payments_of()
        states = None if include_confirmed else PaymentState.outbox()
        records = self.payments.list(states=states)
        return records if only is None else [r for r in records if r.operator_login == only]

    def counts(self) -> dict[PaymentState, int]:
        """Payments by transmission state."""
        self.operators.require(Action.SEE_OWN_PAYMENTS)
        return self.payments.counts()

    def _cached(self, family: int, regie: int) -> list[Invoice]:
        lists = self.cache.load_invoices(family, regie)
        return lists[regie].invoices if regie in lists else []
