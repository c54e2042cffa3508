"""Cancelling a payment (régisseur only), and the list « à régulariser dans Maelis ».

A payment is never deleted: the cancellation is written next to it, and the
outbox is withdrawn in the same transaction (store/cancellations.py tells how
a cancel and a send in flight are kept apart). Maelis has no way to cancel a
payment: one it has already applied is listed « à régulariser dans Maelis »,
with what to do there, until a régisseur marks it done.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Callable

from ..domain import Action
from ..formatting import euros, fr_date, fr_datetime
from ..store import cancellations as store
from ..store.payments import PaymentRecord, Payments
from .errors import CancelRefused, PermissionDenied
from .operators import OperatorService


class Reason(str, enum.Enum):
    ERREUR = "erreur"
    FAMILLE = "famille"
    CHEQUE_REFUSE = "cheque-refuse"
    AUTRE = "autre"

    @property
    def label_fr(self) -> str:
        return REASON_LABELS[self]


REASON_LABELS = {
    Reason.ERREUR: "Saisie erronée",
    Reason.FAMILLE: "Mauvaise famille",
    Reason.CHEQUE_REFUSE: "Chèque refusé par la banque",
    Reason.AUTRE: "Autre",
}

def reason_label(value: str) -> str:
    """A stored motive's French label; a value this version does not know, as it was stored."""
    return Reason(value).label_fr if value in Reason._value2member_map_ else value


def motive_text(reason: str, comment: str | None) -> str:
    """A cancellation's motive as every view says it: « Saisie erronée (carte passée deux fois) »."""
    return reason_label(reason) + (f" ({comment})" if comment else "")


STATUS_LABELS = {
    "waiting": "Annulation en attente de la fin de l'envoi à Maelis",
    "cancelled": "Annulé (jamais appliqué dans Maelis)",
    "to_regularize": "Annulé : à régulariser dans Maelis",
    "regularized": "Annulé, régularisé dans Maelis",
}


@dataclass(frozen=True)
class Cancelled:
    """A cancelled payment as the desk shows it."""

    payment: PaymentRecord
    cancellation: store.CancellationRow

    @property
    def reason(self) -> Reason:
        return Reason(self.cancellation.reason)

    @property
    def motive(self) -> str:
        return motive_text(self.cancellation.reason, self.cancellation.comment)

    @property
    def status_label(self) -> str:
        return STATUS_LABELS[self.cancellation.status]

    @property
    def what_to_do(self) -> str:
        """What the régisseur does in Maelis, which cannot cancel a payment itself."""
        p, c = self.payment, self.cancellation
        invoices = ", ".join(i["id"] for i in p.invoices)
        if c.status == "waiting":
            return ("L'envoi de ce paiement à Maelis était en cours : l'annulation prendra effet dès que "
                    "son issue sera connue (rien à faire pour l'instant).")
        if c.status == "cancelled":
            return "Rien à faire : Maelis n'a jamais reçu ce paiement."
        if c.state_before == "review" and c.status == "to_regularize":
            check = ("Vérifiez d'abord dans Maelis si ce paiement y figure (son issue était incertaine) ; "
                     "s'il y figure, ")
        else:
            check = ""
        action = (f"{check}dans Maelis, famille {p.family}, régie {p.regie_label} ({p.regie}) : "
                  f"annulez ou contre-passez le paiement de {euros(p.amount)} du {fr_date(p.created_at)} "
                  f"(réf. {p.reference}, quittance {p.receipt}) sur les factures {invoices}, "
                  f"puis marquez-le « régularisé » ici.")
        return action[0].upper() + action[1:]


@dataclass(frozen=True)
class Candidate:
    """A payment shown in the cancel dialog: `refusal` says why it cannot be cancelled now (or None)."""

    payment: PaymentRecord
    cancelled: Cancelled | None
    refusal: str | None
    locked: str | None


class CancelService:
    def __init__(self, payments: Payments, operators: OperatorService, *, desk: str, clock,
                 lock_reason: Callable[[str], str | None] = lambda _payment_id: None):
        self.payments = payments
        self.operators = operators
        self.desk = desk
        self.clock = clock
        self.lock_reason = lock_reason  # DayService.lock_reason: a payment in a validated docket left the régie

    def _find(self, receipt: str) -> PaymentRecord:
        record = self.payments.by_receipt(receipt.strip())
        if record is None:
            raise CancelRefused(f"Quittance inconnue : {receipt}")
        return record

    def cancel(self, receipt: str, reason: Reason | str, comment: str | None = None) -> Cancelled:
        operator = self.operators.require(Action.CANCEL_PAYMENT)
        try:
            reason = Reason(reason)
        except ValueError:
            raise CancelRefused(f"Motif inconnu : {reason}") from None
        comment = (comment or "").strip() or None
        if reason is Reason.AUTRE and not comment:
            raise CancelRefused("Motif « autre » : dites pourquoi dans le commentaire.")
        record = self._find(receipt)
        locked = self.lock_reason(record.id)
        if locked:
            raise CancelRefused(locked)
        try:
            row = store.cancel(record.id, reason=reason.value, comment=comment,
                               operator_login=operator.login, operator_name=operator.full_name,
                               at=self.clock(), desk=self.desk)
        except store.AlreadyCancelled:
            raise CancelRefused(f"Le paiement {record.receipt} est déjà annulé.") from None
        return Cancelled(self.payments.get(record.id), row)

    def preview(self, receipt: str) -> Candidate:
        """The payment a cancel is asked for, as the window shows it before asking:
        what the service would refuse (role, docket, already cancelled), said in French."""
        operator = self.operators.require(Action.SEE_OWN_PAYMENTS)
        record = self._find(receipt)
        if not operator.can(Action.SEE_ALL_PAYMENTS) and record.operator_login != operator.login:
            raise CancelRefused(f"La quittance {record.receipt} a été établie par un autre opérateur.")
        row = store.get(record.id)
        cancelled = None if row is None else Cancelled(record, row)
        try:
            self.operators.require(Action.CANCEL_PAYMENT)
            denied = None
        except PermissionDenied as exc:
            denied = f"{exc.message} Seul un régisseur annule un paiement."
        locked = self.lock_reason(record.id)
        if cancelled is not None:
            refusal = (f"Le paiement {record.receipt} est déjà annulé ({fr_datetime(row.at)}, {row.operator_name} : "
                       f"{cancelled.reason.label_fr}).")
        else:
            refusal = denied or locked
        return Candidate(record, cancelled, refusal, locked)

    def get(self, receipt: str) -> Cancelled | None:
        self.operators.require(Action.SEE_OWN_PAYMENTS)
        record = self._find(receipt)
        row = store.get(record.id)
        return None if row is None else Cancelled(record, row)

    def of(self, payment_ids: list[str]) -> dict[str, store.CancellationRow]:
        """The cancellations of these payments (for the views' marks)."""
        return store.by_payment(payment_ids)

    def listing(self, statuses: tuple[str, ...] | None = None) -> list[Cancelled]:
        self.operators.require(Action.SEE_ALL_PAYMENTS)
        return [Cancelled(self.payments.get(c.payment), c) for c in store.listing(statuses)]

    def to_regularize(self) -> list[Cancelled]:
        """« À régulariser dans Maelis »: cancelled here, applied there (or maybe), not yet corrected."""
        return self.listing(("to_regularize", "waiting"))

    def regularize(self, receipt: str, note: str | None = None) -> Cancelled:
        operator = self.operators.require(Action.REGULARIZE)
        record = self._find(receipt)
        try:
            row = store.regularize(record.id, operator_login=operator.login, note=(note or "").strip() or None,
                                   at=self.clock(), desk=self.desk)
        except store.NotToRegularize:
            raise CancelRefused(f"Le paiement {record.receipt} n'est pas à régulariser.") from None
        return Cancelled(self.payments.get(record.id), row)
