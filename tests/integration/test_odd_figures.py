"""Point 5 of issue 8: figures no régie can hold are a protocol error, never
shown, never cached; a cache already holding one does not crash a view."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
from decimal import Decimal

import pytest

from maelis_desk.maelis import MaelisClient, MaelisProtocolError
from maelis_desk.services.clock import invoice_window

from integration_helpers import DEMO_FAMILY

ODD = {
    "odd_cents": "2 décimales",
    "negative_paid": "négatif",
    "negative_invoice": "négatif",
    "huge_amount": "dépasse",
}


def _regie_with_invoices(desk):
    view = desk.reader.open_family(DEMO_FAMILY)
    return next(r for r in view.regies if r.invoices)


@pytest.mark.parametrize("mode", sorted(ODD))
def test_the_client_refuses_the_figure(simulator, tmp_path, mode):
    client = MaelisClient(simulator.url, "demo", "demo", timeout=2, wsdl_dir=tmp_path / "wsdl")
    start, end = invoice_window()
    try:
        regie = next(r for r in client.read_regies() if client.read_invoices(DEMO_FAMILY, r.code, start, end))
        simulator.set_fault(mode)
        with pytest.raises(MaelisProtocolError) as caught:
            client.read_invoices(DEMO_FAMILY, regie.code, start, end)
    finally:
        client.close()
    assert ODD[mode] in caught.value.message and "InvoiceBean.amount" in caught.value.message


@pytest.mark.parametrize("mode", sorted(ODD))
def test_nothing_odd_reaches_the_cache_and_the_view_says_why(simulator, make_desk, mode):
    desk = make_desk()
    regie_list = _regie_with_invoices(desk)
    before = desk.cache.load_invoices(DEMO_FAMILY, regie_list.regie.code)[regie_list.regie.code]
    simulator.set_fault(mode)
    [again] = desk.reader.invoices(DEMO_FAMILY, regie_list.regie.code)
    assert again.freshness.from_cache and "non conforme" in again.freshness.error
    after = desk.cache.load_invoices(DEMO_FAMILY, regie_list.regie.code)[regie_list.regie.code]
    assert after.invoices == before.invoices and after.fetched_at == before.fetched_at
    for inv in after.invoices:
        assert inv.amount >= 0 and inv.paid >= 0 and inv.amount == inv.amount.quantize(Decimal("0.01"))


def test_an_odd_row_already_in_the_cache_does_not_crash_an_offline_view(simulator, make_desk, tmp_path):
    """A cache written before figures were checked: the list is shown as never read, the CLI works."""
    desk = make_desk()
    regie_list = _regie_with_invoices(desk)
    code = regie_list.regie.code
    cached = desk.cache.load_invoices(DEMO_FAMILY, code)[code]
    bad = dataclasses.replace(cached.invoices[0], amount=Decimal("12345678901234567890123456"))
    desk.cache.save_invoices(DEMO_FAMILY, code, [bad, *cached.invoices[1:]], cached.fetched_at)
    assert code not in desk.cache.load_invoices(DEMO_FAMILY)  # unusable, so not shown
    lists = {r.regie.code: r for r in make_desk(offline=True).reader.invoices(DEMO_FAMILY)}
    assert lists[code].invoices == [] and lists[code].freshness.fetched_at is None
    assert any(r.invoices for r in lists.values())  # the other régies are still shown
    for extra in ((), ("--history",), ("--json",)):
        result = subprocess.run(
            [sys.executable, "-m", "maelis_desk", "invoices", str(DEMO_FAMILY), "--offline", *extra,
             "--database", str(tmp_path / "desk.sqlite3")],
            capture_output=True, text=True, timeout=60,
            # the same desk folder as make_desk's (desk_home): another folder would be another desk
            # claiming this database's desk code, refused with exit 13
            env={**os.environ, "MAELIS_DESK_URL": simulator.url, "MAELIS_DESK_USER": "demo"},
        )
        assert "Traceback" not in result.stderr, result.stderr
        assert result.returncode == 0, result.stderr
        assert "12 345 678" not in result.stdout and "12345678901234567890123456" not in result.stdout
