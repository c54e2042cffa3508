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

from ..domain import Action
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
}


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
