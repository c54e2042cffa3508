"""Desk codes held by one settings folder each, and the cash session keyed by the
desk's code (schema 11; issue 10: two desks of one machine shared one till), on
SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from maelis_desk.store import models, open_database
from maelis_desk.store.day import CashSession, DayStore
from maelis_desk.store.desks import CodeTaken, claim
from maelis_desk.store.migrations import LATEST, current_version
from maelis_desk.store.payments import Payments

from test_store import T0, facts

WEEK = timedelta(days=7)


@pytest.fixture
def database(database_spec):
    database = open_database(database_spec)
    yield database
    database.close()


def test_a_code_is_one_folder_s_while_it_lives(database):
    a = claim("A", home_id="folder-1", name="pc", home="/h/1", at=T0, live_for=WEEK)
    assert (a.code, a.home_id) == ("A", "folder-1")
    # the same folder again (a second process, the next day): still its own
    assert claim("A", home_id="folder-1", name="pc", home="/h/1", at=T0 + timedelta(days=1), live_for=WEEK)
    with pytest.raises(CodeTaken) as refused:
        claim("A", home_id="folder-2", name="pc", home="/h/2", at=T0 + timedelta(days=2), live_for=WEEK)
    assert refused.value.holder.home == "/h/1"
    assert claim("B", home_id="folder-2", name="pc", home="/h/2", at=T0, live_for=WEEK).code == "B"
    # a folder silent for longer than live_for (a reinstalled PC) leaves its code
    taken = claim("A", home_id="folder-3", name="pc2", home="/h/3", at=T0 + timedelta(days=9), live_for=WEEK)
    assert taken.home_id == "folder-3"
    with pytest.raises(CodeTaken):
        claim("A", home_id="folder-1", name="pc", home="/h/1", at=T0 + timedelta(days=9), live_for=WEEK)


def test_a_database_of_schema_10_keys_its_sessions_by_code(database_spec):
    database = open_database(database_spec)
    day = DayStore()
    # two desks of one machine, codes A and B, in the one session keyed by the machine's name
    shared = day.open_session(desk="mairie-caisse-01", operator="Anne", at=T0, float_amount=Decimal("10"),
                              float_count=None)
    other = day.open_session(desk="guichet-2", operator="Paul", at=T0, float_amount=Decimal("0"),
                             float_count=None)
    paid = Payments().record(regie=102, family=1312, amount=Decimal("1.00"), mode="especes", operator="Anne",
                             desk="mairie-caisse-01", desk_code="A", created_at=T0, year=2026, desk_id="A:x",
                             build=facts())
    models.Payment.update(session=shared.id).where(models.Payment.id == paid.id).execute()
    database.execute_sql('DROP TABLE "desk_claim"')
    database.execute_sql('DELETE FROM "schema_version" WHERE "version" >= 11')
    CashSession.update(desk="mairie-caisse-01", open_desk="mairie-caisse-01").where(
        CashSession.id == shared.id).execute()
    CashSession.update(desk="guichet-2", open_desk="guichet-2").where(CashSession.id == other.id).execute()
    database.close()
    database = open_database(database_spec)
    try:
        assert current_version(database) == LATEST
        assert day.open_for("A").id == shared.id  # its payments' code
        assert day.open_for("GUICHET2").id == other.id  # no payment: the code its name gives
        assert day.open_for("mairie-caisse-01") is None
        assert models.DeskClaim.select().count() == 0
    finally:
        database.close()
