"""The contract's money rules (domain.py): remaining, to pay, status, history,
the desk's pending payments, and the JSON the cache keeps."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from maelis_desk.domain import (
    Address,
    Child,
    Contact,
    Family,
    Invoice,
    InvoiceLine,
    InvoiceStatus,
    Person,
    Regie,
    RegieInvoices,
    total_due,
)
from maelis_desk.formatting import fr_date

PLUS1 = timezone(timedelta(hours=1))
PLUS2 = timezone(timedelta(hours=2))
CANTINE = Regie(102, "CANTINE / CLAE")


def inv(amount="28.98", paid="0", tg="0", transmitted=None, pending="0", number=8, **kw) -> Invoice:
    return Invoice(
        regie=kw.pop("regie", CANTINE),
        number=number,
        id=f"F1005559{number:04d}",
        label="CLAE JANVIER 2023",
        family=1312,
        payer_name="SIMPSON MARGE",
        date=datetime(2023, 2, 24, tzinfo=PLUS1),
        deadline=kw.pop("deadline", datetime(2023, 3, 31, tzinfo=PLUS2)),
        amount=Decimal(amount),
        paid=Decimal(paid),
        paid_treasury=Decimal(tg),
        transmitted_at=transmitted,
        pending_paid=Decimal(pending),
        **kw,
    )


TRANSMITTED = datetime(2023, 5, 2, 10, 0, tzinfo=PLUS2)


# --- the contract's cases --------------------------------------------------------


@pytest.mark.parametrize(
    "invoice, remaining, to_pay, status, history",
    [
        pytest.param(inv(), "28.98", True, InvoiceStatus.TO_PAY, False, id="unpaid"),
        pytest.param(inv(paid="10.00"), "18.98", True, InvoiceStatus.TO_PAY, False, id="partly paid"),
        pytest.param(inv(paid="10", tg="5.50"), "13.48", True, InvoiceStatus.TO_PAY, False,
                     id="partly paid at régie and treasury"),
        pytest.param(inv(tg="28.98"), "0", False, InvoiceStatus.PAID, True, id="paid at treasury"),
        pytest.param(inv(paid="20", tg="8.98"), "0", False, InvoiceStatus.PAID, True,
                     id="paid at régie and treasury"),
        pytest.param(inv(paid="28.98"), "0", False, InvoiceStatus.PAID, True, id="fully paid"),
        pytest.param(inv(transmitted=TRANSMITTED), "28.98", False, InvoiceStatus.TRANSMITTED, True,
                     id="transmitted with remaining"),
        pytest.param(inv(paid="5", transmitted=TRANSMITTED), "23.98", False, InvoiceStatus.TRANSMITTED, True,
                     id="transmitted partly paid"),
        pytest.param(inv(paid="28.98", transmitted=TRANSMITTED), "0", False, InvoiceStatus.PAID, True,
                     id="transmitted but fully paid"),
        pytest.param(inv(tg="28.98", transmitted=TRANSMITTED), "0", False, InvoiceStatus.PAID, True,
                     id="transmitted then paid at treasury"),
    ],
)
def test_contract_cases(invoice, remaining, to_pay, status, history):
    assert invoice.remaining == Decimal(remaining)
    assert invoice.remaining_in_maelis == Decimal(remaining)
    assert invoice.to_pay_at_regie is to_pay
    assert invoice.status is status
    assert invoice.is_history is history
    assert invoice.is_history is (not invoice.to_pay_at_regie)
    assert isinstance(invoice.remaining, Decimal)


def test_remaining_is_exact_decimal_arithmetic():
    # 0.1 + 0.2 would not be 0.3 with floats
    i = inv(amount="0.30", paid="0.10", tg="0.20")
    assert i.remaining == Decimal("0") and i.status is InvoiceStatus.PAID


def test_overpaid_invoice_shows_nothing_remaining_but_maelis_figure_kept():
    i = inv(amount="10", paid="12")
    assert i.remaining_in_maelis == Decimal("-2")
    assert i.remaining == 0
    assert i.status is InvoiceStatus.PAID and i.is_history


# --- the desk's pending payments --------------------------------------------------


def test_pending_partial_lowers_remaining_and_is_pending():
    i = inv(paid="0").with_pending(Decimal("10.00"))
    assert i.status is InvoiceStatus.PENDING
    assert i.remaining == Decimal("18.98")
    assert i.remaining_in_maelis == Decimal("28.98")  # Maelis' figure is not touched
    assert i.paid_total == Decimal("10.00")
    assert i.to_pay_at_regie  # something still remains at the régie
    assert not i.is_history


def test_pending_full_payment_leaves_nothing_to_pay():
    i = inv(paid="8.98").with_pending(Decimal("20.00"))
    assert i.status is InvoiceStatus.PENDING
    assert i.remaining == 0
    assert not i.to_pay_at_regie and i.is_history
    assert i.paid_total == Decimal("28.98")


def test_pending_never_makes_remaining_negative():
    i = inv(paid="20").with_pending(Decimal("50"))
    assert i.remaining == Decimal("0")
    assert i.status is InvoiceStatus.PENDING


def test_with_pending_returns_a_copy():
    original = inv()
    pending = original.with_pending(Decimal("1"))
    assert original.pending_paid == 0 and original.status is InvoiceStatus.TO_PAY
    assert pending.pending_paid == Decimal("1")


def test_with_pending_zero_is_back_to_maelis_status():
    i = inv(paid="5").with_pending(Decimal("3")).with_pending(Decimal("0"))
    assert i.status is InvoiceStatus.TO_PAY and i.remaining == Decimal("23.98")


# --- refusal reasons -------------------------------------------------------------


def test_refusal_reason_none_when_the_regie_may_take_payment():
    assert inv().refusal_reason is None
    assert inv(paid="1").refusal_reason is None


def test_refusal_reason_transmitted_names_the_treasury_and_the_date():
    reason = inv(transmitted=TRANSMITTED).refusal_reason
    assert reason == (
        "Facture transmise au Trésor public le 02/05/2023 : "
        "la famille doit la régler auprès du Trésor public."
    )


@pytest.mark.parametrize("invoice", [inv(paid="28.98"), inv(tg="28.98"), inv(paid="28.98", transmitted=TRANSMITTED),
                                     inv().with_pending(Decimal("28.98"))])
def test_refusal_reason_settled(invoice):
    assert invoice.refusal_reason == "Facture déjà soldée."


def test_refusal_reason_date_is_shown_in_the_desk_time_zone():
    # 23:30 UTC on 28 February is 00:30 on 1 March in Paris
    when = datetime(2023, 2, 28, 23, 30, tzinfo=timezone.utc)
    assert fr_date(when) == "01/03/2023"
    assert "le 01/03/2023" in inv(transmitted=when).refusal_reason


# --- overdue and totals ------------------------------------------------------------


def test_is_overdue_only_for_invoices_to_pay():
    assert inv().is_overdue(date(2023, 4, 1))
    assert not inv().is_overdue(date(2023, 3, 31))  # the deadline day itself is not late
    assert not inv(paid="28.98").is_overdue(date(2024, 1, 1))
    assert not inv(transmitted=TRANSMITTED).is_overdue(date(2024, 1, 1))


def test_total_due_counts_only_what_the_regie_may_take():
    invoices = [
        inv(number=1),  # 28.98
        inv(number=2, paid="8.98"),  # 20.00
        inv(number=3, transmitted=TRANSMITTED),  # at the treasury: not due here
        inv(number=4, paid="28.98"),  # paid
        inv(number=5).with_pending(Decimal("8.98")),  # 20.00 after the desk's payment
    ]
    assert total_due(invoices) == Decimal("68.98")
    group = RegieInvoices(CANTINE, invoices)
    assert [i.number for i in group.to_pay] == [1, 2, 5]
    assert [i.number for i in group.history] == [3, 4]
    assert group.due == Decimal("68.98")
    assert total_due([]) == 0


# --- JSON round trip -----------------------------------------------------------------


def full_family() -> Family:
    return Family(
        number=1312,
        category="BI",
        situation="MARIE",
        rl1=Person(
            num=261480,
            lastname="N'DIAYE-LEFÈVRE",
            firstname="Zoé",
            civility="MME",
            birth=datetime(1985, 6, 3, tzinfo=PLUS2),
            address=Address(street1="RUE DES ÉCOLES", zipcode="31000", town="TOULOUSE", num="12 bis"),
            contact=Contact(phone=None, mobile="0612345678", mail="zoe@example.org"),
        ),
        rl2=Person(num=261481, lastname="SIMPSON", firstname="Homer"),
        children=(
            Child(261483, "SIMPSON", "Bart", "M", datetime(2014, 4, 1, tzinfo=PLUS2)),
            Child(261484, "SIMPSON", "Lisa"),
        ),
    )


def test_family_json_round_trip_is_exact():
    family = full_family()
    data = json.loads(json.dumps(family.to_json()))  # through real JSON text
    back = Family.from_json(data)
    assert back == family
    assert back.rl1.birth.utcoffset() == timedelta(hours=2)
    assert back.guardian_names == "N'DIAYE-LEFÈVRE Zoé et SIMPSON Homer"
    assert back.children_names == "Bart, Lisa"


def test_family_summary_round_trip_keeps_incomplete():
    summary = Family(number=7, rl1=Person(1, "DUPONT", "Jean"), complete=False)
    back = Family.from_json(json.loads(json.dumps(summary.to_json())))
    assert back == summary and back.complete is False and back.rl2 is None and back.children == ()


def test_invoice_json_round_trip_preserves_decimals_and_offsets():
    invoice = Invoice(
        regie=CANTINE,
        number=8,
        id="F10055591232",
        label="CLAE JANVIER 2023",
        family=1312,
        payer_name="SIMPSON MARGE",
        date=datetime(2023, 2, 24, tzinfo=PLUS1),
        deadline=datetime(2023, 3, 31, tzinfo=PLUS2),
        amount=Decimal("1234.50"),
        paid=Decimal("0.10"),
        paid_treasury=Decimal("0.20"),
        transmitted_at=datetime(2023, 6, 1, 8, 15, 30, 123456, tzinfo=timezone.utc),
        payer=Person(261480, "SIMPSON", "Marge", "MME"),
        lines=(
            InvoiceLine(1, "Repas cantine", Decimal("7"), Decimal("4.14"), Decimal("28.98"), 261483, "SIMPSON BART",
                        datetime(2023, 1, 1, tzinfo=PLUS1), datetime(2023, 1, 31, tzinfo=PLUS1)),
            InvoiceLine(2, "Garderie", Decimal("2.5"), Decimal("1.333"), Decimal("3.3325")),
        ),
    )
    text = json.dumps(invoice.to_json())
    back = Invoice.from_json(json.loads(text))
    assert back == invoice
    # Decimal kept exactly, including trailing zeros (str, never float)
    assert str(back.amount) == "1234.50" and str(back.paid) == "0.10"
    assert isinstance(back.lines[1].unit_price, Decimal) and str(back.lines[1].amount) == "3.3325"
    assert back.remaining == Decimal("1234.20")
    # aware datetimes with their own offsets
    assert back.date.utcoffset() == timedelta(hours=1)
    assert back.deadline.utcoffset() == timedelta(hours=2)
    assert back.transmitted_at == invoice.transmitted_at and back.transmitted_at.microsecond == 123456
    assert back.date.isoformat() == "2023-02-24T00:00:00+01:00"
    assert '"1234.50"' in text  # amounts are JSON strings, not numbers


def test_invoice_json_does_not_keep_the_desk_pending_overlay():
    # pending_paid is the desk's view, recomputed from the payments table, never cached
    back = Invoice.from_json(inv().with_pending(Decimal("5")).to_json())
    assert back.pending_paid == 0 and back.status is InvoiceStatus.TO_PAY


def test_search_words_cover_every_member_and_the_number():
    words = full_family().search_words()
    assert "1312" in words
    assert {"SIMPSON", "Bart", "Lisa", "Homer", "Zoé"} <= words
    assert "DIAYE" in words and "LEFÈVRE" in words  # hyphen and apostrophe split


def test_overdue_reads_the_deadline_in_the_desks_time_zone():
    from datetime import date as d, datetime as dt, timezone as tz

    # 31/03 at 23:30 UTC is already 01/04 in Paris: on 31/03 it is not overdue yet
    inv = _overdue_invoice(dt(2023, 3, 31, 23, 30, tzinfo=tz.utc))
    assert not inv.is_overdue(d(2023, 3, 31)) and not inv.is_overdue(d(2023, 4, 1))
    assert inv.is_overdue(d(2023, 4, 2))


def _overdue_invoice(deadline):
    from decimal import Decimal as D

    from maelis_desk.domain import Invoice, Regie

    return Invoice(Regie(102, "CANTINE / CLAE"), 1, "F1", "L", 1312, "X", deadline, deadline, D("10"), D("0"))


# --- receipt numbers (issue 10 point 5) ------------------------------------------------


def test_receipt_numbers_carry_the_desk_code_and_old_ones_stay_readable():
    from maelis_desk.domain import ReceiptNumber, parse_receipt, receipt_number

    assert receipt_number(102, 2026, "A", 1) == "102-2026-A-000001"
    assert receipt_number(1234, 2026, "MAIRSE01", 123456) == "1234-2026-MAIRSE01-123456"
    assert parse_receipt("102-2026-A-000001") == ReceiptNumber(102, 2026, "A", 1)
    assert parse_receipt(" 102-2026-c2-42 ") == ReceiptNumber(102, 2026, "C2", 42)  # as typed
    assert str(parse_receipt("102-2026-c2-42")) == "102-2026-C2-000042"
    # before desk codes
    assert parse_receipt("102-2026-000001") == ReceiptNumber(102, 2026, None, 1)
    assert str(parse_receipt("102-2026-000001")) == "102-2026-000001"
    for wrong in ("", "102", "102-26-000001", "102-2026-A-", "102-2026-TROPLONGUE-000001", "A-2026-000001"):
        assert parse_receipt(wrong) is None, wrong


def test_a_child_with_another_last_name_is_named_in_full():
    """A search for « Dupont » finds LUCAS Camille by her child: the result says why."""
    family = Family(number=1391, rl1=Person(1, "LUCAS", "Camille"),
                    children=(Child(2, "DUPONT-MOREAU", "Maïa"), Child(3, "Lucas", "Léo")))
    assert family.children_names == "Maïa DUPONT-MOREAU, Léo"
