"""The journal as the desk's people see it: listed, and verified.

Writing to it is `store.journal.append(...)`, called by the store inside the
transaction of each change (payments, states, cancellations, operators; cash
sessions and dockets do the same in their own store modules). `verify()`
recomputes the SHA-256 chain and checks it against the payments as they are
in the database: it names the first entry that does not hold.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from ..domain import Action, PaymentState
from ..store import journal as store
from ..store.journal import Break, JournalRecord, append  # noqa: F401 - append: the way in, for the store
from .operators import OperatorService

#: French names of the journal's events
KIND_LABELS = {
    "payment.recorded": "Paiement enregistré",
    "payment.state": "Paiement : changement d'état",
    "payment.cancelled": "Paiement annulé",
    "payment.cancel_settled": "Annulation réglée après l'envoi",
    "payment.regularized": "Paiement régularisé dans Maelis",
    "operator.created": "Compte opérateur créé",
    "operator.changed": "Compte opérateur modifié",
    "session.opened": "Caisse ouverte",
    "session.movement": "Mouvement de caisse",
    "session.closed": "Arrêté de caisse",
    "docket.drafted": "Bordereau préparé",
    "docket.discarded": "Brouillon de bordereau supprimé",
    "docket.validated": "Bordereau validé",
}


def describe(record: JournalRecord) -> str:
    """An entry's event as the journal's window and `maelis-desk journal` say it."""
    label = KIND_LABELS.get(record.kind, record.kind)
    data = record.data
    if record.kind == "payment.state" and "to" in data:
        return f"Paiement : {_state(data.get('from'))} → {_state(data.get('to'))}"
    if record.kind == "payment.cancelled" and data.get("reason"):
        from .cancellations import reason_label

        return f"{label} ({reason_label(data['reason'])})"
    if record.kind.startswith("operator.") and data.get("login"):
        return f"{label} : {data['login']}"
    if record.kind == "session.closed" and data.get("z") is not None:
        return f"{label} : Z n° {data['z']}"
    if record.kind == "session.movement" and data.get("reason"):
        from ..domain_day import MoveReason

        reason = data["reason"]
        return f"{label} ({MoveReason(reason).label_fr if reason in MoveReason._value2member_map_ else reason})"
    if record.kind == "docket.validated" and data.get("number"):
        return f"{label} : {data['number']}"
    if record.kind.startswith("docket.") and data.get("docket") is not None:
        return f"{label} (n° {data['docket']})"
    detail = data.get("state") or ""
    return label + (f" ({detail})" if detail else "")


def _state(value) -> str:
    return PaymentState(value).label_fr if value in PaymentState._value2member_map_ else str(value)


@dataclass
class Verdict:
    count: int
    last_seq: int
    last_hash: str
    breaks: list[Break] = field(default_factory=list)
    checked_at: datetime | None = None

    @property
    def intact(self) -> bool:
        return not self.breaks

    @property
    def first(self) -> Break | None:
        return self.breaks[0] if self.breaks else None

    @property
    def summary_fr(self) -> str:
        if self.intact:
            return f"Journal intègre : {self.count} entrées, chaîne SHA-256 vérifiée."
        return f"Journal altéré : {self.breaks[0].message}"


class JournalService:
    def __init__(self, operators: OperatorService, *, clock):
        self.operators = operators
        self.clock = clock

    def verify(self) -> Verdict:
        """The chain first (its breaks in order), then the payments against it."""
        self.operators.require(Action.SEE_JOURNAL)
        chain = store.verify_chain()
        return Verdict(chain.count, chain.last_seq, chain.last_hash, chain.breaks + store.verify_payments(),
                       checked_at=self.clock())

    def entries(self, since: datetime | None = None) -> list[JournalRecord]:
        self.operators.require(Action.SEE_JOURNAL)
        return store.entries(since=since)
