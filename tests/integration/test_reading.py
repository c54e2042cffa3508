"""Client + cache + services against the demo Maelis over loopback HTTP."""

from __future__ import annotations

import time
from decimal import Decimal

import pytest

from maelis_desk.services import NotInCache
from maelis_desk.services.errors import AuthRefused, MaelisRefused
from maelis_desk.services.connection import test_connection

from integration_helpers import DEMO_FAMILY


def test_open_family_reads_every_regie_and_caches_it(make_desk):
    desk = make_desk()
    view = desk.reader.open_family(DEMO_FAMILY)
    regies, _ = desk.reader.regies()
    assert view.family.number == DEMO_FAMILY and view.freshness.source == "maelis"
    assert [r.regie.code for r in view.regies] == [r.code for r in regies] and len(regies) == 9
    assert all(r.freshness.source == "maelis" for r in view.regies)
    assert view.due > 0
    statuses = {i.status.value for r in view.regies for i in r.invoices}
    assert {"to_pay", "paid", "transmitted"} <= statuses
    assert any(not r.invoices or r.due == 0 for r in view.regies), "a régie where nothing is owed"
    cached = desk.cache.load_invoices(DEMO_FAMILY)
    assert set(cached) == {r.code for r in regies}
    assert sum(len(c.invoices) for c in cached.values()) == sum(len(r.invoices) for r in view.regies)


def test_maelis_stops_answering_cached_answer_within_timeout(make_desk, simulator):
    desk = make_desk(timeout=0.5)
    fresh = desk.reader.open_family(DEMO_FAMILY)
    simulator.set_latency(5)
    simulator.set_fault("slow")
    started = time.monotonic()
    lists = desk.reader.invoices(DEMO_FAMILY)
    elapsed = time.monotonic() - started
    assert elapsed < 0.5 + 1.5, f"took {elapsed:.2f}s"
    assert all(r.freshness.source == "cache" and r.freshness.fetched_at is not None for r in lists)
    assert "délai" in lists[0].freshness.error
    assert sum(r.due for r in lists) == fresh.due
    assert desk.health.snapshot().state.value == "offline"


@pytest.mark.parametrize("fault", ["down", "html500", "garbage", "truncated"])
def test_every_fault_mode_falls_back_on_the_cache(make_desk, simulator, fault):
    desk = make_desk(timeout=1)
    desk.reader.open_family(DEMO_FAMILY)
    simulator.set_fault(fault)
    view = desk.reader.open_family(DEMO_FAMILY)
    assert view.freshness.source == "cache" and view.freshness.error
    assert all(r.freshness.source == "cache" for r in view.regies)
    found, freshness = desk.reader.search("1312")
    assert [f.number for f in found] == [DEMO_FAMILY] and freshness.source == "cache"


def test_nothing_cached_and_maelis_down(make_desk, simulator):
    desk = make_desk(timeout=1)
    simulator.set_fault("down")
    with pytest.raises(NotInCache) as info:
        desk.reader.invoices(DEMO_FAMILY)
    assert info.value.exit_code == 3


def test_business_fault_is_not_hidden_by_the_cache(make_desk):
    desk = make_desk()
    with pytest.raises(MaelisRefused) as info:
        desk.reader.family(999999)
    assert info.value.code == "E02"


def test_search_online_then_offline(make_desk):
    desk = make_desk()
    family, _ = desk.reader.family(DEMO_FAMILY)
    name = family.rl1.lastname
    online, freshness = desk.reader.search(name[:4].lower())
    assert DEMO_FAMILY in [f.number for f in online] and freshness.source == "maelis"
    desk = make_desk(offline=True)
    offline, freshness = desk.reader.search(name[:4].lower())
    assert DEMO_FAMILY in [f.number for f in offline] and freshness.source == "cache"


def test_offline_mode_never_contacts_maelis(make_desk, simulator):
    desk = make_desk()
    desk.reader.open_family(DEMO_FAMILY)
    simulator.stop()  # anything that tried to connect would fail
    desk = make_desk(offline=True)
    view = desk.reader.open_family(DEMO_FAMILY)
    assert view.freshness.source == "cache" and view.regies and view.due > 0


def test_wrong_password(make_desk):
    desk = make_desk(password="wrong")
    with pytest.raises(NotInCache) as info:
        desk.reader.invoices(DEMO_FAMILY)
    assert info.value.exit_code == 4


def test_connection_test(simulator):
    from maelis_desk.config import load_settings

    ok = load_settings({"url": simulator.url, "user": "demo", "password": "demo", "timeout": 2})
    assert len(test_connection(ok)) == 9
    bad = load_settings({"url": simulator.url, "user": "demo", "password": "nope", "timeout": 2})
    with pytest.raises(AuthRefused):
        test_connection(bad)


def test_pdf_is_fetched_not_cached(make_desk):
    desk = make_desk()
    view = desk.reader.open_family(DEMO_FAMILY)
    invoice = next(i for r in view.regies for i in r.invoices)
    pdf = desk.reader.invoice_pdf(invoice.regie.code, invoice.number)
    assert pdf.startswith(b"%PDF") and invoice.id.encode() in pdf or len(pdf) > 500
    with pytest.raises(MaelisRefused) as info:
        desk.reader.invoice_pdf(invoice.regie.code, 1)
    assert info.value.code == "E06"


def test_amounts_are_decimal_end_to_end(make_desk):
    desk = make_desk()
    view = desk.reader.open_family(DEMO_FAMILY)
    for r in view.regies:
        for inv in r.invoices:
            assert isinstance(inv.amount, Decimal) and inv.amount == sum(line.amount for line in inv.lines)
            assert inv.date.tzinfo is not None


def test_a_recorded_payment_shows_at_once_without_asking_maelis(make_desk, simulator):
    from maelis_desk.services.payments import Mode, PaymentRequest

    desk = make_desk()
    view = desk.reader.open_family(DEMO_FAMILY)
    regie = next(r for r in view.regies if r.to_pay)
    invoice = regie.to_pay[0]
    desk.payments.record(PaymentRequest(DEMO_FAMILY, regie.regie.code, [invoice.number], invoice.remaining,
                                        Mode.CHEQUE, {"cheque_number": "123"}))
    simulator.set_fault("down")  # proves no call is made
    updated = desk.reader.with_payments(view)
    shown = next(i for r in updated.regies for i in r.invoices if i.number == invoice.number
                 and i.regie.code == regie.regie.code)
    assert shown.status.value == "pending" and shown.remaining == 0
    assert updated.due == view.due - invoice.remaining
    assert [r.freshness for r in updated.regies] == [r.freshness for r in view.regies]
