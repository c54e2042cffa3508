"""Issue 9 point 5: the demo Maelis' invoice PDFs cut nothing, read back from the PDF."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from PySide6.QtCore import QBuffer, QByteArray, QIODevice
from PySide6.QtPdf import QPdfDocument

from maelis_desk.simulator.data import Address, Invoice, Line, Person, Regie
from maelis_desk.simulator.pdf import invoice_pdf

LONG_REGIE = "ACCUEILS DE LOISIRS SANS HÉBERGEMENT ET SÉJOURS DE VACANCES DES QUARTIERS NORD"
LONG_LABEL = "ACCUEIL DE LOISIRS ASSOCIÉ À L'ÉCOLE — MERCREDIS APRÈS-MIDI ET VACANCES DE PRINTEMPS"
LONG_CHILD = "DE LA TOUR D'AUVERGNE-LAURAGUAIS MARIE-BÉNÉDICTE"
PAYER = "DE LA TOUR D'AUVERGNE-LAURAGUAIS ÉLISABETH"


@pytest.fixture(autouse=True)
def _app(qapp):
    return qapp


def read(pdf: bytes):
    """(pages, whole text, every text box inside its page)."""
    data = QByteArray(pdf)  # kept alive while the document reads it
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.ReadOnly)
    doc = QPdfDocument()
    doc.load(buffer)
    assert doc.status() == QPdfDocument.Status.Ready
    texts, inside = [], True
    for page in range(doc.pageCount()):
        selection = doc.getAllText(page)
        size = doc.pagePointSize(page)
        texts.append(selection.text())
        for polygon in selection.bounds():
            box = polygon.boundingRect()
            inside &= box.left() >= 0 and box.top() >= 0 and box.right() <= size.width() + 0.5 \
                and box.bottom() <= size.height() + 0.5
    pages = doc.pageCount()
    doc.close()
    return pages, " ".join(" ".join(texts).split()).replace("\u00a0", " "), inside


def invoice(lines: int) -> Invoice:
    regie = Regie(104, LONG_REGIE)
    payer = Person(77, "DE LA TOUR D'AUVERGNE-LAURAGUAIS", "Élisabeth", "MME", None,
                   Address("12 bis", "CHEMIN DES COTEAUX DE PECH-DAVID ET DE LA CÉPIÈRE", "31100", "TOULOUSE"), None)
    rows = tuple(Line(i + 1, 500 + i, f"{LONG_CHILD} {i + 1}", f"{LONG_LABEL} {i + 1}", date(2026, 4, 1),
                      date(2026, 4, 30), Decimal("3"), Decimal("4.15"), Decimal("12.45")) for i in range(lines))
    total = Decimal("12.45") * lines
    return Invoice(9123, "F10409123", LONG_LABEL, regie, 1312, PAYER, date(2026, 5, 2), date(2026, 5, 31),
                   total, Decimal("0"), Decimal("0"), None, payer, rows)


@pytest.mark.parametrize("lines", [1, 60])
def test_long_names_and_many_lines_are_whole(lines):
    pages, text, inside = read(invoice_pdf(invoice(lines)))
    assert inside
    assert (pages == 1) if lines == 1 else (pages >= 2)
    assert "N° F10409123" in text  # right of the régie's first line, which reads around it:
    assert f"Régie 104 – {LONG_REGIE}" in text.replace("N° F10409123 ", "", 1)
    for i in (1, lines):  # the first and the last line, wrapped but whole
        assert f"{LONG_LABEL} {i}" in text and f"{LONG_CHILD} {i}" in text
    assert "12,45 €" in text and "Reste à payer" in text
    assert f"{Decimal('12.45') * lines:.2f}".replace(".", ",") in text
    assert "CHEMIN DES COTEAUX DE PECH-DAVID ET DE LA CÉPIÈRE" in text and PAYER in text


def test_same_invoice_same_bytes():
    assert invoice_pdf(invoice(3)) == invoice_pdf(invoice(3))
