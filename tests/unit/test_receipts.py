"""The receipt (quittance) PDF: one page, the recorded facts, a duplicate mark on reprints."""

from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal

import pytest
from PySide6.QtCore import QBuffer, QByteArray, QIODevice
from PySide6.QtPdf import QPdfDocument

from maelis_desk.services.receipts import receipt_pdf
from maelis_desk.store.payments import PaymentRecord


def record(**overrides) -> PaymentRecord:
    values = dict(
        id="3f1c2a9e-0000-4000-8000-000000000001", receipt="102-2026-000042", regie=102,
        regie_label="CANTINE / CLAE", family=1312, payer_name="N'DIAYE-LEFÈVRE ZOÉ", amount=Decimal("1234.56"),
        mode="cheque", details={"cheque_number": "0012345", "bank": "Crédit Agricole", "drawer": "Mme Éloïse Dupont"},
        invoices=[{"number": 8, "id": "F10055591232", "label": "CLAE JANVIER 2023", "amount": "1300.00",
                   "share": "1234.56", "expected_paid": "1234.56"}],
        operator="Agnès", desk="guichet-1", desk_code="G1", created_at=datetime(2026, 2, 24, 9, 30, tzinfo=timezone.utc),
        state="pending",
    )
    values.update(overrides)
    return PaymentRecord(**values)


def text_of(pdf: bytes) -> tuple[int, str]:
    data = QByteArray(pdf)
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.ReadOnly)
    doc = QPdfDocument()
    doc.load(buffer)
    assert doc.status() == QPdfDocument.Status.Ready
    pages = doc.pageCount()
    text = "\n".join(doc.getAllText(i).text() for i in range(pages))
    doc.close()
    return pages, text


@pytest.fixture(autouse=True)
def _app(qapp):
    return qapp


def test_receipt_names_everything_recorded():
    pages, text = text_of(receipt_pdf(record(), city="Ville de Toulouse"))
    flat = " ".join(text.split())
    assert pages == 1
    for expected in ("QUITTANCE", "102-2026-000042", "CANTINE / CLAE", "1312", "N'DIAYE-LEFÈVRE ZOÉ",
                     "Chèque", "0012345", "Crédit Agricole", "Mme Éloïse Dupont", "F10055591232",
                     "1 234,56 €", "24/02/2026", "Agnès", "guichet-1",
                     "mille-deux-cent-trente-quatre euros et cinquante-six centimes"):
        assert expected in flat.replace("\u00a0", " "), expected
    assert "DUPLICATA" not in flat


def test_cash_receipt_shows_the_change_and_reprint_is_marked():
    cash = record(mode="especes", amount=Decimal("57.50"), details={"cash_given": "60.00", "change": "2.50"})
    pages, text = text_of(receipt_pdf(cash, duplicate=True, printed_at=datetime(2026, 3, 1, tzinfo=timezone.utc)))
    flat = " ".join(text.split()).replace("\u00a0", " ")
    assert pages == 1 and "DUPLICATA" in flat and "Espèces" in flat
    assert "60,00 €" in flat and "2,50 €" in flat and "57,50 €" in flat


def test_same_payment_same_receipt():
    assert receipt_pdf(record()) == receipt_pdf(record())


def layout_of(pdf: bytes):
    """(page size in points, text, the text's bounding boxes) of the first page."""
    data = QByteArray(pdf)
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.ReadOnly)
    doc = QPdfDocument()
    doc.load(buffer)
    assert doc.status() == QPdfDocument.Status.Ready and doc.pageCount() == 1
    selection = doc.getAllText(0)
    size = doc.pagePointSize(0)
    boxes = [polygon.boundingRect() for polygon in selection.bounds()]
    text = selection.text()
    doc.close()
    return size, text, boxes


def inside(size, boxes) -> bool:
    return all(box.left() >= 0 and box.top() >= 0 and box.right() <= size.width() + 0.5
               and box.bottom() <= size.height() + 0.5 for box in boxes)


LONG = "ACCUEIL DE LOISIRS ASSOCIÉ À L'ÉCOLE — MERCREDIS APRÈS-MIDI ET VACANCES DE PRINTEMPS 2026 (QUOTIENT 7)"


@pytest.mark.parametrize("paper", ["a4", "ticket80"])
def test_nothing_is_cut(paper):
    """The duplicate line used to end as « Duplic » (the cursor was left at the right margin)
    and long labels were cut at 60 characters or clipped by their cell."""
    payment = record(payer_name="DE LA TOUR D'AUVERGNE-LAURAGUAIS MARIE-BÉNÉDICTE ÉLISABETH",
                     invoices=[{"number": 8, "id": "F10055591232", "label": LONG, "amount": "1300.00",
                                "share": "1234.56", "expected_paid": "1234.56"}])
    printed = datetime(2026, 3, 1, 8, 5, tzinfo=timezone.utc)
    size, text, boxes = layout_of(receipt_pdf(payment, duplicate=True, printed_at=printed, paper=paper))
    flat = " ".join(text.split()).replace("\u00a0", " ")
    assert "Duplicata imprimé le 01/03/2026 09:05" in flat
    assert " ".join(LONG.split()) in flat  # wrapped, whole
    assert "DE LA TOUR D'AUVERGNE-LAURAGUAIS MARIE-BÉNÉDICTE ÉLISABETH" in flat
    assert "Conservez-la : elle prouve votre paiement." in flat
    assert inside(size, boxes)


def test_ticket_is_80_mm_wide_and_as_long_as_it_needs():
    size, text, boxes = layout_of(receipt_pdf(record(), paper="ticket80"))
    assert round(size.width() / 72 * 25.4) == 80
    assert 100 < size.height() / 72 * 25.4 < 297
    assert max(box.bottom() for box in boxes) < size.height()
    assert "QUITTANCE" in text and "102-2026-000042" in text and "1 234,56" in text.replace("\u00a0", " ")
    with pytest.raises(ValueError):
        receipt_pdf(record(), paper="a5")


@pytest.mark.parametrize("paper", ["a4", "ticket80"])
def test_a_partial_payment_says_what_remains_due(paper):
    """Issue 9 point 11: the receipt of a partial payment states what the family still owes."""
    partial = record(invoices=[{"number": 8, "id": "F10055591232", "label": "CLAE JANVIER 2023", "amount": "1300.00",
                                "share": "1234.56", "expected_paid": "1234.56", "remaining_after": "65.44"}])
    size, text, boxes = layout_of(receipt_pdf(partial, paper=paper))
    flat = " ".join(text.split()).replace("\u00a0", " ")
    assert "Reste à payer" in flat and "65,44 €" in flat
    assert inside(size, boxes)
    settled = record(invoices=[dict(partial.invoices[0], remaining_after="0.00")])
    _, text, _ = layout_of(receipt_pdf(settled, paper=paper))
    assert "Reste à payer" not in text
    _, text, _ = layout_of(receipt_pdf(record(), paper=paper))  # recorded before the desk kept it
    assert "Reste à payer" not in text


def test_receipt_details_are_named_by_the_table_of_modes():
    """services/modes.py names each detail once, for the dialog, the CLI and the receipt."""
    from maelis_desk.services.modes import printed_details

    assert printed_details("cheque", {"drawer": "Mme Dupont", "cheque_number": "0012345", "bank": "CIC"}) == [
        ("N° de chèque", "0012345", False), ("Banque", "CIC", False), ("Tireur", "Mme Dupont", False)]
    assert printed_details("especes", {"cash_given": "50.00", "change": "0.64"}) == [
        ("Somme remise", "50.00", True), ("Monnaie rendue", "0.64", True)]
    assert printed_details("cesu", {"reference": "A-12"}) == [("N° des titres CESU", "A-12", False)]
    # a detail (or a mode) a later version no longer knows is printed under its own name, never dropped
    assert printed_details("ancien", {"old_key": "x"}) == [("old_key", "x", False)]
