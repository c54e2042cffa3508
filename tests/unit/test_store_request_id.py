"""The payment's idempotency key (`pay --request-id`, schema 10; issue 8 point 4), on SQLite and PostgreSQL."""

from __future__ import annotations

from decimal import Decimal

import peewee
import pytest

from maelis_desk.store import models, open_database
from maelis_desk.store.migrations import LATEST, current_version
from maelis_desk.store.payments import Payments

from test_store import T0, facts


def record(payments, request_id=None):
    return payments.record(regie=102, family=1312, amount=Decimal("10.00"), mode="cheque", operator="Anne",
                           desk="poste-1", desk_code="P1", created_at=T0, year=2026, desk_id="poste-1:abc",
                           build=facts(), request_id=request_id)


@pytest.fixture
def database(database_spec):
    database = open_database(database_spec)
    yield database
    database.close()


def test_the_same_key_records_once_and_answers_the_first_payment(database):
    payments = Payments()
    first = record(payments, "script-1")
    assert not first.replayed and first.request_id == "script-1"
    again = record(payments, "script-1")
    assert again.replayed and again.id == first.id and again.receipt == first.receipt
    assert [r.receipt for r in payments.list()] == [first.receipt]
    # The receipt counter did not move: the next payment takes the next number.
    other = record(payments, "script-2")
    assert other.receipt.endswith("000002") and not other.replayed
    # Payments without a key are never matched (NULL is not a key).
    assert record(payments).receipt.endswith("000003") and record(payments).receipt.endswith("000004")
    assert payments.by_request_id("script-1").receipt == first.receipt
    assert payments.by_request_id("nope") is None


def test_the_key_is_unique_in_the_database(database):
    record(Payments(), "k")
    payment = models.Payment.get(models.Payment.request_id == "k")
    with pytest.raises(peewee.IntegrityError):
        with database.atomic():
            models.Payment.insert(**{**payment.__data__, "id": "x" * 36, "receipt": "102-2026-P1-999999"}).execute()


def test_a_database_of_schema_9_gets_the_column(database_spec):
    database = open_database(database_spec)
    first = record(Payments())
    database.execute_sql('DROP INDEX IF EXISTS "payment_request_id"')
    database.execute_sql('ALTER TABLE "payment" DROP COLUMN "request_id"')
    database.execute_sql('DELETE FROM "schema_version" WHERE "version" >= 10')
    database.close()
    database = open_database(database_spec)
    try:
        assert current_version(database) == LATEST
        assert Payments().get(first.id).request_id is None
        keyed = record(Payments(), "after")
        assert record(Payments(), "after").receipt == keyed.receipt
        indexes = {i.name: i.unique for i in database.get_indexes("payment")}
        assert indexes.get("payment_request_id") is True
    finally:
        database.close()
