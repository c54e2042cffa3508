"""The journal's events in French, one wording for its window and the CLI (services.journal.describe)."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from maelis_desk.services.journal import describe
from maelis_desk.store.journal import JournalRecord


def _entry(kind: str, **data) -> JournalRecord:
    return JournalRecord(seq=1, at=datetime(2026, 12, 6, tzinfo=timezone.utc), kind=kind, operator=None, desk="A",
                         payment=None, receipt=None, amount_cents=None, data=data, prev_hash="0", hash="1")


@pytest.mark.parametrize(("kind", "data", "said"), [
    ("payment.state", {"from": "pending", "to": "sending"}, "Paiement : En attente d'envoi → Envoi en cours"),
    ("payment.state", {"from": "uncertain", "to": "matched"},
     "Paiement : Réponse perdue : vérification en cours → Constaté dans Maelis sans accusé : à vérifier"),
    ("payment.cancelled", {"reason": "cheque-refuse"}, "Paiement annulé (Chèque refusé par la banque)"),
    ("payment.cancelled", {"reason": "inconnu"}, "Paiement annulé (inconnu)"),  # a value of a later version
    ("operator.created", {"login": "caisse"}, "Compte opérateur créé : caisse"),
    ("payment.recorded", {}, "Paiement enregistré"),
    ("some.future.kind", {}, "some.future.kind"),
])
def test_each_event_in_french(kind, data, said):
    assert describe(_entry(kind, **data)) == said
