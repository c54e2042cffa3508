"""The shapes everything builds on: payment states, services errors, settings read in one place."""

from __future__ import annotations

from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import pytest

from maelis_desk import formatting
from maelis_desk.config import Settings, SettingsError, load_settings
from maelis_desk.domain import PaymentState
from maelis_desk.maelis import MaelisAuthError, MaelisFault, MaelisProtocolError, MaelisUnavailable
from maelis_desk.services.errors import (
    AuthRefused,
    DeskError,
    MaelisGarbled,
    MaelisRefused,
    MaelisUnreachable,
    NotInCache,
    PaymentRefused,
    UnknownRegie,
    from_maelis,
)

S = PaymentState


def test_every_state_has_a_french_label():
    assert {s.label_fr for s in S} and all(s.label_fr[0].isupper() for s in S)
    assert len({s.label_fr for s in S}) == len(S)
    assert S.REVIEW.label_fr == "À vérifier par un superviseur"


def test_state_predicates_partition_the_outbox():
    assert S.waiting() == (S.PENDING, S.SENDING, S.UNCERTAIN, S.SENT)
    assert S.needing_person() == (S.REJECTED, S.REVIEW, S.MATCHED)
    assert set(S.outbox()) == set(S.waiting()) | set(S.needing_person())
    assert S.CONFIRMED not in S.outbox() and S.CONFIRMED.is_confirmed
    # a rejected payment was not applied: invoices no longer show it as paid
    assert set(S.paid_not_confirmed()) == set(S.waiting()) | {S.REVIEW}
    # seen in Maelis without acknowledgement: Maelis' figures already hold it, a supervisor checks
    assert S.MATCHED.needs_person and not S.MATCHED.is_confirmed and not S.MATCHED.counts_as_paid


def test_states_are_their_stored_values():
    assert S("pending") is S.PENDING and S.PENDING == "pending"
    assert {S.SENT: 1}.get("sent") == 1


@pytest.mark.parametrize(
    "raised, kind, code",
    [
        (MaelisUnavailable("injoignable", request_sent=False), MaelisUnreachable, 3),
        (MaelisAuthError("refusé"), AuthRefused, 4),
        (MaelisFault("Famille inconnue", code="E02", text="E02 : famille"), MaelisRefused, 5),
        (MaelisFault("Erreur du serveur", code=None, text="boom"), MaelisRefused, 5),
        (MaelisProtocolError("page HTML"), MaelisGarbled, 6),
    ],
)
def test_client_errors_become_desk_errors(raised, kind, code):
    error = from_maelis(raised)
    assert type(error) is kind and isinstance(error, DeskError)
    assert error.exit_code == code and error.message == raised.message == str(error)


def test_fault_keeps_its_business_code():
    error = from_maelis(MaelisFault("Facture inconnue", code="E06", text="E06"))
    assert error.code == "E06" and error.is_business
    assert not from_maelis(MaelisFault("Erreur", code=None, text="x")).is_business


def test_desk_errors_carry_exit_codes():
    assert NotInCache("rien", AuthRefused("refusé")).exit_code == 4
    assert NotInCache("rien").exit_code == 3
    assert UnknownRegie(999).exit_code == 5 and str(UnknownRegie(999)) == "Régie 999 inconnue."
    refused = PaymentRefused("Le montant doit être supérieur à zéro.", "amount")
    assert refused.exit_code == 7 and refused.field == "amount" and isinstance(refused, DeskError)


def test_transmission_timings_come_from_settings(tmp_path):
    env = {"MAELIS_DESK_HOME": str(tmp_path), "MAELIS_DESK_SETTLE_SECONDS": "1,5",
           "MAELIS_DESK_BACKOFF_SECONDS": "0.05", "MAELIS_DESK_LEASE_SECONDS": "3"}
    s = load_settings(env=env)
    assert (s.transmission_settle, s.backoff_seconds, s.transmission_lease) == (1.5, 0.05, 3.0)
    default = Settings(timeout=5.0, home=tmp_path)
    assert default.transmission_settle == 60.0 and default.transmission_lease == 30.0
    assert Settings(timeout=20.0, home=tmp_path).transmission_settle == 120.0
    with pytest.raises(SettingsError, match="MAELIS_DESK_LEASE_SECONDS"):
        load_settings(env={**env, "MAELIS_DESK_LEASE_SECONDS": "bientôt"})


def test_time_zone_is_a_setting(tmp_path):
    env = {"MAELIS_DESK_HOME": str(tmp_path)}
    assert load_settings(env=env).tz == ZoneInfo("Europe/Paris")
    assert load_settings(env={**env, "MAELIS_DESK_TZ": "America/Cayenne"}).timezone == "America/Cayenne"
    with pytest.raises(SettingsError, match="Fuseau horaire inconnu"):
        load_settings(env={**env, "MAELIS_DESK_TZ": "Europe/Nowhere"})


def test_formatting_shows_dates_in_the_desk_time_zone():
    late = datetime(2026, 1, 1, 2, 30, tzinfo=timezone.utc)
    assert formatting.fr_datetime(late) == "01/01/2026 03:30"
    try:
        formatting.use_time_zone(ZoneInfo("America/Cayenne"))
        assert formatting.fr_datetime(late) == "31/12/2025 23:30"
        assert formatting.desk_tz() == ZoneInfo("America/Cayenne")
    finally:
        formatting.use_time_zone(ZoneInfo("Europe/Paris"))
