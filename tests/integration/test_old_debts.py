"""A debt has no age: every invoice Maelis keeps is read, whatever its date.

The demo Maelis answers readInvoices only within [dateStart, dateEnd], as the
contract says; its archive families have unpaid invoices three to five years
old (OLD_DEBTS_FAMILY) and a canteen history of twelve school years
(LONG_HISTORY_FAMILY). A window of "the last two years" fails every test here.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date
from decimal import Decimal

from maelis_desk.formatting import desk_tz, euros
from maelis_desk.services.clock import invoice_window
from maelis_desk.services.payments import Mode, PaymentRequest
from maelis_desk.simulator.data import LONG_HISTORY_FAMILY, OLD_DEBTS_FAMILY


def run(*args, url):
    env = dict(os.environ, MAELIS_DESK_URL=url, MAELIS_DESK_USER="demo", MAELIS_DESK_PASSWORD="demo")
    return subprocess.run([sys.executable, "-m", "maelis_desk", *args], capture_output=True, text=True,
                          env=env, timeout=60)

TWO_YEARS_AGO = date(date.today().year - 2, 1, 1)


def owed_by_the_simulator(simulator, family):
    """(régie, invoice number) → remaining of what the demo Maelis says is to pay at the régie."""
    return {
        (code, inv.num): inv.remaining
        for code in simulator.data.regies_of(family)
        for inv in simulator.data.invoices(family, code)
        if inv.remaining > 0 and not inv.transmitted
    }


def test_the_window_is_every_date_an_invoice_can_have():
    start, end = invoice_window()
    assert start.year <= 1900 and end.year >= 2999
    assert start.utcoffset() is not None and end.utcoffset() is not None


def test_old_unpaid_invoices_are_to_pay(make_desk, simulator):
    desk = make_desk()
    expected = owed_by_the_simulator(simulator, OLD_DEBTS_FAMILY)
    old = [key for key, _ in expected.items()
           if simulator.data.invoice(key[0], key[1]).date_invoice < TWO_YEARS_AGO]
    assert len(old) >= 4, "the demo data owe debts several years old"
    view = desk.reader.open_family(OLD_DEBTS_FAMILY)
    shown = {(inv.regie.code, inv.number): inv.remaining for r in view.regies for inv in r.to_pay}
    assert shown == expected
    assert view.due == sum(expected.values(), Decimal(0))
    oldest = min(inv.date for r in view.regies for inv in r.to_pay)
    assert oldest.astimezone(desk_tz()).year <= date.today().year - 5


def test_history_reaches_back_as_far_as_maelis_keeps(make_desk, simulator):
    desk = make_desk()
    [canteen] = desk.reader.invoices(LONG_HISTORY_FAMILY, 102)
    generated = simulator.data.invoices(LONG_HISTORY_FAMILY, 102)
    assert len(generated) > 100
    assert sorted(i.number for i in canteen.invoices) == sorted(i.num for i in generated)
    assert min(i.date for i in canteen.history).astimezone(desk_tz()).year <= date.today().year - 11
    assert any(i.is_transmitted for i in canteen.history), "an eight-year-old invoice sent to the treasury"
    # the cache keeps the whole history too: offline, the same list
    cached = desk.cache.load_invoices(LONG_HISTORY_FAMILY, 102)[102]
    assert len(cached.invoices) == len(generated)


def test_cli_lists_old_debts(simulator):
    result = run("invoices", str(OLD_DEBTS_FAMILY), url=simulator.url)
    assert result.returncode == 0, result.stderr
    assert "Aucune facture à payer" not in result.stdout
    years = {str(date.today().year - n) for n in (3, 4, 5)}
    assert all(f"/{year}" in result.stdout for year in years), result.stdout
    owed = owed_by_the_simulator(simulator, OLD_DEBTS_FAMILY)
    for code in {code for code, _ in owed}:
        due = sum((v for (c, _), v in owed.items() if c == code), Decimal(0))
        assert f"reste dû : {euros(due)}" in result.stdout
    listed = json.loads(run("invoices", str(OLD_DEBTS_FAMILY), "--json", url=simulator.url).stdout)["invoices"]
    assert {(i["regie"], i["number"]) for i in listed} == set(owed)


def test_an_old_debt_is_paid_and_confirmed(make_desk, simulator):
    desk = make_desk()
    view = desk.reader.open_family(OLD_DEBTS_FAMILY)
    oldest = min((inv for r in view.regies for inv in r.to_pay), key=lambda i: i.date)
    assert oldest.date.astimezone(desk_tz()).date() < TWO_YEARS_AGO
    record = desk.payments.record(PaymentRequest(
        family=OLD_DEBTS_FAMILY, regie=oldest.regie.code, invoices=[oldest.number],
        amount=oldest.remaining, mode=Mode.CHEQUE, details={"cheque_number": "7700123"}))
    desk.transmitter.run_once()
    assert desk.payments.get(record.id).state == "confirmed"
    assert [p["ref"] for p in simulator.applied_payments()] == [record.reference]
    [after] = desk.reader.invoices(OLD_DEBTS_FAMILY, oldest.regie.code)
    assert oldest.number not in {i.number for i in after.to_pay}
