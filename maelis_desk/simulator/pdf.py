"""Invoice PDFs of the demo Maelis (``getInvoicePDF``), drawn with fpdf2.

One A4 page per invoice: city and régie header, invoice number, label, family
and payer, dates in French format, the lines, then total, already paid and
remaining. The core Helvetica font is used with the windows-1252 encoding so
"€", "œ" and French accents print without embedding a font.

The output is deterministic: the document's creation date is the invoice
date, so the same invoice always gives the same bytes.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from fpdf import FPDF, FontFace
from fpdf.enums import TableCellFillMode

from .data import CITY, Invoice

__all__ = ["format_amount", "format_date", "invoice_pdf"]

_CITY_TITLE = f"VILLE DE {CITY}"
_INK = (33, 37, 41)
_MUTED = (108, 117, 125)
_ACCENT = (0, 84, 147)
_SHADE = (233, 239, 246)
_NBSP = "\u00a0"


def format_amount(value: Decimal) -> str:
    """``Decimal("1234.5")`` → ``"1 234,50 €"`` (French grouping, no-break spaces)."""
    sign = "-" if value < 0 else ""
    whole, cents = f"{abs(value):.2f}".split(".")
    groups = []
    while whole:
        groups.insert(0, whole[-3:])
        whole = whole[:-3]
    return sign + _NBSP.join(groups) + f",{cents}{_NBSP}€"


def format_quantity(value: Decimal) -> str:
    text = f"{value.normalize():f}" if value == value.to_integral() else f"{value:f}"
    return text.replace(".", ",")


def format_date(day: date | None) -> str:
    """``date(2023, 2, 24)`` → ``"24/02/2023"``."""
    return day.strftime("%d/%m/%Y") if day else ""


def _printable(text: str) -> str:
    """Keep only what windows-1252 can encode (the core fonts' code page)."""
    return text.encode("cp1252", errors="replace").decode("cp1252")


class _InvoicePDF(FPDF):
    def footer(self) -> None:
        self.set_y(-15)
        self.set_font("Helvetica", size=7)
        self.set_text_color(*_MUTED)
        self.cell(0, 5, _printable(
            f"{_CITY_TITLE} – Régies de recettes – Document de démonstration, sans valeur comptable"
        ), align="C")


def invoice_pdf(invoice: Invoice) -> bytes:
    """The invoice as a one-page A4 PDF."""
    pdf = _InvoicePDF(orientation="P", unit="mm", format="A4")
    pdf.core_fonts_encoding = "windows-1252"
    pdf.set_creation_date(datetime.combine(invoice.date_invoice, datetime.min.time(), tzinfo=UTC))
    pdf.set_title(f"Facture {invoice.id}")
    pdf.set_author(f"{_CITY_TITLE} - Régie {invoice.regie.libelle}")
    pdf.set_creator("Maelis (démonstration)")
    pdf.set_auto_page_break(auto=False)
    pdf.set_margins(18, 18, 18)
    pdf.add_page()
    width = pdf.w - pdf.l_margin - pdf.r_margin

    def text(size: float, style: str = "", color: tuple[int, int, int] = _INK) -> None:
        pdf.set_font("Helvetica", style=style, size=size)
        pdf.set_text_color(*color)

    # Header: city and régie on the left, invoice identity on the right.
    text(16, "B", _ACCENT)
    pdf.cell(width / 2, 8, _printable(_CITY_TITLE))
    text(16, "B")
    pdf.cell(width / 2, 8, "FACTURE", align="R", new_x="LMARGIN", new_y="NEXT")
    row = pdf.get_y()
    text(10, "B")
    pdf.set_xy(pdf.l_margin + width * 0.6, row)
    pdf.cell(width * 0.4, 6, _printable(f"N° {invoice.id}"), align="R")
    text(10, "", _MUTED)
    pdf.set_xy(pdf.l_margin, row)  # a long régie label wraps under itself, left of the number
    pdf.multi_cell(width * 0.6, 6, _printable(f"Régie {invoice.regie.code} – {invoice.regie.libelle}"),
                   new_x="LMARGIN", new_y="NEXT")
    text(9, "", _MUTED)
    pdf.cell(width / 2, 5, _printable("Hôtel de ville – place du Capitole – 31000 TOULOUSE"))
    pdf.cell(width / 2, 5, _printable(f"Référence interne : {invoice.num}"), align="R",
             new_x="LMARGIN", new_y="NEXT")
    pdf.ln(6)
    pdf.set_draw_color(*_ACCENT)
    pdf.set_line_width(0.6)
    pdf.line(pdf.l_margin, pdf.get_y(), pdf.l_margin + width, pdf.get_y())
    pdf.ln(6)

    # Payer block on the right, invoice facts on the left.
    top = pdf.get_y()
    text(13, "B")
    pdf.multi_cell(width * 0.55, 7, _printable(invoice.libelle), align="L", new_x="LMARGIN", new_y="NEXT")
    text(10)
    for label, value in (
        ("Famille n°", str(invoice.family)),
        ("Date de la facture", format_date(invoice.date_invoice)),
        ("À payer avant le", format_date(invoice.date_deadline)),
    ):
        text(10, "", _MUTED)
        pdf.cell(40, 6, _printable(label))
        text(10, "B")
        pdf.cell(width * 0.55 - 40, 6, _printable(value), new_x="LMARGIN", new_y="NEXT")
    left_bottom = pdf.get_y()

    pdf.set_xy(pdf.l_margin + width * 0.6, top)
    payer = invoice.payer
    lines = [invoice.name]
    if payer is not None and payer.address is not None:
        address = payer.address
        lines.append(f"{address.num + ' ' if address.num else ''}{address.street1}")
        lines.append(f"{address.zipcode} {address.town}")
    pdf.set_fill_color(*_SHADE)
    text(10, "B")
    pdf.multi_cell(width * 0.4, 6, _printable("\n".join(lines)), fill=True, padding=3, align="L",
                   new_x="LMARGIN", new_y="NEXT")
    pdf.set_y(max(left_bottom, pdf.get_y()) + 8)

    # Lines: a table whose cells wrap (a long label or beneficiary is never cut) and that
    # goes on to a next page, headings repeated, when an invoice has many lines.
    pdf.set_auto_page_break(auto=True, margin=22)
    columns = (
        ("Désignation", 0.36, "LEFT"),
        ("Bénéficiaire", 0.28, "LEFT"),
        ("Quantité", 0.11, "RIGHT"),
        ("Prix unitaire", 0.12, "RIGHT"),
        ("Montant", 0.13, "RIGHT"),
    )
    text(9)
    headings = FontFace(emphasis="BOLD", color=(255, 255, 255), fill_color=_ACCENT)
    with pdf.table(width=width, col_widths=[share for _, share, _ in columns],
                   text_align=[align for _, _, align in columns], headings_style=headings,
                   cell_fill_color=_SHADE, cell_fill_mode=TableCellFillMode.EVEN_ROWS,
                   borders_layout="NONE", line_height=5, padding=(1.2, 1), first_row_as_headings=True,
                   repeat_headings=1) as table:
        table.row([_printable(title) for title, _, _ in columns])
        for line in invoice.lines:
            label = line.libelle
            if line.date_start and line.date_end:
                label += f"\n({format_date(line.date_start)} au {format_date(line.date_end)})"
            table.row([_printable(value) for value in (
                label,
                line.name or "",
                format_quantity(line.quantity),
                format_amount(line.unit_price),
                format_amount(line.amount),
            )])
    pdf.set_draw_color(*_MUTED)
    pdf.set_line_width(0.2)
    pdf.line(pdf.l_margin, pdf.get_y() + 1, pdf.l_margin + width, pdf.get_y() + 1)
    pdf.ln(5)

    # Totals.
    totals = [("Montant de la facture", invoice.amount), ("Déjà payé", invoice.paid)]
    if invoice.paid_tg:
        totals.append(("Payé au Trésor public", invoice.paid_tg))
    for label, amount in totals:
        text(10, "", _MUTED)
        pdf.cell(width * 0.75, 6, _printable(label), align="R")
        text(10)
        pdf.cell(width * 0.25, 6, _printable(format_amount(amount)), align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(1)
    pdf.set_fill_color(*_SHADE)
    text(12, "B")
    pdf.cell(width * 0.75, 9, _printable("Reste à payer"), align="R", fill=True)
    pdf.cell(width * 0.25, 9, _printable(format_amount(invoice.remaining)), align="R", fill=True,
             new_x="LMARGIN", new_y="NEXT")
    pdf.ln(8)

    # How to pay.
    text(9)
    if invoice.date_transmission is not None:
        note = (
            f"Cette facture a été transmise au Trésor public le {format_date(invoice.date_transmission)}. "
            "La régie ne peut plus en recevoir le paiement : adressez-vous au Service de gestion comptable "
            "(Trésor public) indiqué sur l'avis des sommes à payer."
        )
    elif invoice.remaining > 0:
        note = (
            f"À régler avant le {format_date(invoice.date_deadline)} auprès de la régie "
            f"{invoice.regie.libelle} (espèces, chèque à l'ordre du Trésor public, carte bancaire) "
            "ou sur l'Espace citoyens, en rappelant le numéro de facture."
        )
    else:
        note = "Cette facture est soldée. Merci."
    pdf.multi_cell(width, 5, _printable(note))
    return bytes(pdf.output())
