"""The table models: Qt's model tester, numeric/date sorting, marks."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from gui_helpers import FAMILY
from PySide6.QtCore import QSortFilterProxyModel, Qt

from maelis_desk.domain import Family, Invoice, InvoiceLine, Person, Regie
from maelis_desk.ui.models import (
    OBJECT_ROLE,
    SORT_ROLE,
    FamilyListModel,
    InvoiceLinesModel,
    InvoiceTableModel,
    fr_number,
)

REGIE = Regie(102, "CANTINE / CLAE")
TODAY = date(2023, 4, 15)


def utc(y, m, d):
    return datetime(y, m, d, tzinfo=UTC)


def make_invoice(number, amount, paid="0", *, date_=(2023, 2, 24), deadline=(2023, 3, 31), transmitted=None,
                 label=None, lines=()):
    return Invoice(
        regie=REGIE,
        number=number,
        id=f"F{number:08d}",
        label=label or f"CLAE {number}",
        family=FAMILY,
        payer_name="LEFÈVRE ANAÏS",
        date=utc(*date_),
        deadline=utc(*deadline),
        amount=Decimal(amount),
        paid=Decimal(paid),
        transmitted_at=utc(*transmitted) if transmitted else None,
        lines=tuple(lines),
    )


LINE = InvoiceLine(1, "Repas cantine", Decimal(7), Decimal("4.14"), Decimal("28.98"), 261483, "LEFÈVRE ZOÉ",
                   utc(2023, 1, 1), utc(2023, 1, 31))

INVOICES = [
    make_invoice(8, "28.98", lines=[LINE]),  # overdue on TODAY
    make_invoice(9, "1234.56", "100", date_=(2023, 3, 24), deadline=(2023, 5, 31)),
    make_invoice(10, "99.00", "99.00", date_=(2023, 1, 24), deadline=(2023, 2, 28)),
    make_invoice(11, "12.50", date_=(2022, 12, 24), deadline=(2023, 1, 31), transmitted=(2023, 2, 10)),
    make_invoice(12, "40.00", date_=(2023, 4, 1), deadline=(2023, 4, 30)).with_pending(Decimal("40.00")),
]


@pytest.fixture
def invoice_model(qapp):
    model = InvoiceTableModel()
    model.set_invoices(INVOICES, TODAY)
    return model


def test_invoice_model_passes_the_model_tester(qtmodeltester, invoice_model):
    qtmodeltester.check(invoice_model)
    proxy = QSortFilterProxyModel()
    proxy.setSortRole(SORT_ROLE)
    proxy.setSourceModel(invoice_model)
    proxy.sort(InvoiceTableModel.AMOUNT)
    qtmodeltester.check(proxy)


def test_models_reset_cleanly(qtmodeltester, qtbot, invoice_model):
    with qtbot.waitSignals([invoice_model.modelAboutToBeReset, invoice_model.modelReset], timeout=100):
        invoice_model.set_invoices([], TODAY)
    assert invoice_model.rowCount() == 0
    qtmodeltester.check(invoice_model)
    invoice_model.set_invoices(INVOICES[:2], TODAY)
    assert invoice_model.rowCount() == 2


def test_lines_and_family_models_pass_the_model_tester(qtmodeltester, qapp):
    lines = InvoiceLinesModel()
    lines.set_lines([LINE, replace(LINE, number=2, quantity=Decimal("1.50"), start=None, end=None)])
    qtmodeltester.check(lines)
    assert lines.data(lines.index(0, InvoiceLinesModel.PERIOD)) == "01/01/2023 – 31/01/2023"
    assert lines.data(lines.index(0, InvoiceLinesModel.QUANTITY)) == "7"
    assert lines.data(lines.index(1, InvoiceLinesModel.QUANTITY)) == "1,5"
    assert lines.data(lines.index(0, InvoiceLinesModel.UNIT_PRICE)) == "4,14\u00a0€"
    families = FamilyListModel()
    families.set_families([Family(FAMILY, Person(1, "LEFÈVRE", "Anaïs"))])
    qtmodeltester.check(families)
    assert "1312" in families.data(families.index(0, 0))
    families.set_families([])
    qtmodeltester.check(families)


def test_real_models_of_the_window_pass_the_model_tester(qtmodeltester, qtbot, window):
    from gui_helpers import open_family

    open_family(qtbot, window)
    models = [window.family_pane.detail.lines_model, window.search_pane.model]
    for page in window.family_pane.pages.values():
        for table in page.tables:
            models += [table.source, table.proxy]
    for model in models:
        qtmodeltester.check(model)  # Qt's QAbstractItemModelTester
        qtmodeltester.check(model, force_py=True)  # and pytest-qt's Python port


def _column(proxy, col):
    return [proxy.data(proxy.index(r, col), OBJECT_ROLE).number for r in range(proxy.rowCount())]


def test_sorting_is_numeric_and_chronological(invoice_model):
    proxy = QSortFilterProxyModel()
    proxy.setSortRole(SORT_ROLE)
    proxy.setSourceModel(invoice_model)
    proxy.sort(InvoiceTableModel.AMOUNT, Qt.SortOrder.AscendingOrder)
    # 12,50 < 28,98 < 40,00 < 99,00 < 1 234,56 (as text, "1 234,56" would sort first)
    assert _column(proxy, InvoiceTableModel.AMOUNT) == [11, 8, 12, 10, 9]
    proxy.sort(InvoiceTableModel.DATE, Qt.SortOrder.AscendingOrder)
    # 24/12/2022 < 24/01 < 24/02 < 24/03 < 01/04 (as text, 01/04 would sort first)
    assert _column(proxy, InvoiceTableModel.DATE) == [11, 10, 8, 9, 12]
    proxy.sort(InvoiceTableModel.REMAINING, Qt.SortOrder.DescendingOrder)
    assert _column(proxy, InvoiceTableModel.REMAINING)[0] == 9


def test_amounts_right_aligned_in_french(invoice_model):
    index = invoice_model.index(1, InvoiceTableModel.AMOUNT)
    assert invoice_model.data(index) == "1\u00a0234,56\u00a0€"
    alignment = invoice_model.data(index, Qt.ItemDataRole.TextAlignmentRole)
    assert alignment & Qt.AlignmentFlag.AlignRight
    assert invoice_model.data(invoice_model.index(1, InvoiceTableModel.REMAINING)) == "1\u00a0134,56\u00a0€"
    assert invoice_model.data(invoice_model.index(0, InvoiceTableModel.DATE)) == "24/02/2023"
    assert invoice_model.headerData(InvoiceTableModel.AMOUNT, Qt.Orientation.Horizontal,
                                    Qt.ItemDataRole.TextAlignmentRole) & Qt.AlignmentFlag.AlignRight


def test_overdue_deadline_is_marked(invoice_model):
    deadline = invoice_model.index(0, InvoiceTableModel.DEADLINE)
    assert invoice_model.data(deadline, Qt.ItemDataRole.ToolTipRole) == "Échéance dépassée"
    assert invoice_model.data(deadline, Qt.ItemDataRole.ForegroundRole).name() == "#b3261e"
    not_due_yet = invoice_model.index(1, InvoiceTableModel.DEADLINE)
    assert invoice_model.data(not_due_yet, Qt.ItemDataRole.ForegroundRole) is None
    assert invoice_model.data(not_due_yet, Qt.ItemDataRole.ToolTipRole) != "Échéance dépassée"


def test_transmitted_invoice_carries_its_reason(invoice_model):
    invoice = INVOICES[3]
    status = invoice_model.index(3, InvoiceTableModel.STATUS)
    assert invoice_model.data(status) == "Transmise au Trésor public"
    assert invoice_model.data(status, Qt.ItemDataRole.ToolTipRole) == invoice.refusal_reason
    assert "Trésor public" in invoice.refusal_reason


def test_pending_payment_is_visible(invoice_model):
    status = invoice_model.index(4, InvoiceTableModel.STATUS)
    assert invoice_model.data(status) == "Payée, transmission en attente"
    assert "attente" in invoice_model.data(status, Qt.ItemDataRole.ToolTipRole)
    assert invoice_model.data(invoice_model.index(4, InvoiceTableModel.PAID)) == "40,00\u00a0€"


def test_paid_at_the_treasury_counts_as_paid(qapp):
    """Issue 9 point 11: 67,15 € paid at the Trésor shows as paid, not « Payé 0,00 / Reste 0,00 »."""
    invoice = replace(make_invoice(13, "67.15", transmitted=(2023, 2, 10)), paid_treasury=Decimal("67.15"))
    partly = replace(make_invoice(14, "50.00", "20.00", transmitted=(2023, 2, 10)), paid_treasury=Decimal("10.00"))
    model = InvoiceTableModel()
    model.set_invoices([invoice, partly], TODAY)
    paid = model.index(0, InvoiceTableModel.PAID)
    assert model.data(paid) == "67,15\u00a0€"
    assert model.data(model.index(0, InvoiceTableModel.REMAINING)) == "0,00\u00a0€"
    assert model.data(paid, Qt.ItemDataRole.ToolTipRole) == "0,00\u00a0€ payés en régie, 67,15\u00a0€ payés au Trésor public"
    assert model.data(model.index(1, InvoiceTableModel.PAID)) == "30,00\u00a0€"
    assert model.data(model.index(1, InvoiceTableModel.PAID), SORT_ROLE) == 3000
    for inv in (invoice, partly):  # the figures add up
        assert inv.paid_everywhere + inv.remaining == inv.amount


def test_fr_number():
    assert fr_number(Decimal("7.00")) == "7"
    assert fr_number(Decimal("1.50")) == "1,5"
    assert fr_number(Decimal(10)) == "10"
    assert fr_number(Decimal("1E+1")) == "10"
