"""The receipt (quittance) of a recorded payment, as a one-page PDF.

Produced from the payment as recorded (never from what Maelis says later),
so a reprint is identical to the first print except for its "DUPLICATA"
mark. fpdf2 keeps this out of Qt: the CLI prints receipts too.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from ..domain import ZERO
from ..formatting import euros, euros_in_words, fr_datetime
from ..store.payments import PaymentRecord
from .modes import mode_label, printed_details
from .pdf_layout import pdf_text, wrapped_row

if TYPE_CHECKING:  # fpdf (~0.17 s to import) waits for the first receipt, not the desk's start
    from fpdf import FPDF

PAPERS = ("a4", "ticket80")
TICKET_WIDTH = 80  # mm: a counter printer's roll


def receipt_pdf(payment: PaymentRecord, *, city: str = "Ville", duplicate: bool = False,
                printed_at: datetime | None = None, paper: str = "a4",
                cancelled: str | None = None) -> bytes:
    """The receipt on one A4 page, or on an 80 mm ticket as long as it needs.
    Every text wraps inside its column: nothing is cut."""
    if paper not in PAPERS:
        raise ValueError(f"unknown receipt paper: {paper!r}")
    if paper == "a4":
        pdf = _a4(payment, city, duplicate, printed_at, cancelled)
    else:
        # The roll is as long as the ticket: lay it out once to measure it.
        height = _ticket(payment, city, duplicate, printed_at, 2000, cancelled).get_y() + 8
        pdf = _ticket(payment, city, duplicate, printed_at, height, cancelled)
    return bytes(pdf.output())


def _start(payment: PaymentRecord, page_format) -> FPDF:
    from fpdf import FPDF

    pdf = FPDF(format=page_format)
    pdf.core_fonts_encoding = "windows-1252"
    pdf.set_creation_date(payment.created_at)
    pdf.set_title(f"Quittance {payment.receipt}")
    pdf.set_author("Maelis Desk")
    pdf.set_auto_page_break(False)
    return pdf


def _rows(payment: PaymentRecord) -> list[tuple[str, str]]:
    rows = [
        ("Famille (dossier)", str(payment.family)),
        ("Payeur", payment.payer_name),
        ("Date du paiement", fr_datetime(payment.created_at)),
        ("Mode de paiement", mode_label(payment.mode)),
    ]
    for label, value, money in printed_details(payment.mode, payment.details):  # the table of modes' names
        rows.append((label, euros(Decimal(value)) if money else str(value)))
    rows += [("Encaissé par", payment.operator), ("Poste", f"{payment.desk} (code {payment.desk_code})")]
    return rows


def _line(pdf: FPDF, width: float, height: float, text: str, align: str = "L") -> None:
    """A paragraph from the left margin, wrapped, the cursor left on the next line."""
    pdf.set_x(pdf.l_margin)
    pdf.multi_cell(width, height, pdf_text(text), align=align, new_x="LMARGIN", new_y="NEXT")


_CLOSING = ("Quittance délivrée par le régisseur de recettes pour le compte de la collectivité. "
            "Conservez-la : elle prouve votre paiement.")


def _cancelled(pdf: FPDF, width: float, cancelled: str | None, big: int, big_height: float,
               small: int, small_height: float) -> None:
    """`cancelled`: the cancellation's line (reason, who, when): the receipt is marked ANNULÉ."""
    if not cancelled:
        return
    pdf.set_text_color(200, 0, 0)
    pdf.set_font("Helvetica", "B", big)
    pdf.set_x(pdf.l_margin)
    pdf.cell(width, big_height, pdf_text("ANNULÉ"), align="C", border=1, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", small)
    _line(pdf, width, small_height, cancelled, "C")
    pdf.set_text_color(0, 0, 0)


def _a4(payment: PaymentRecord, city: str, duplicate: bool, printed_at: datetime | None,
        cancelled: str | None = None) -> FPDF:
    pdf = _start(payment, "A4")
    pdf.add_page()
    width = pdf.w - pdf.l_margin - pdf.r_margin

    pdf.set_font("Helvetica", "B", 16)
    _line(pdf, width, 9, f"{city} — Régie {payment.regie_label}")
    pdf.set_font("Helvetica", "", 10)
    _line(pdf, width, 6, f"Régie de recettes n° {payment.regie}")
    pdf.ln(6)
    pdf.set_font("Helvetica", "B", 20)
    _line(pdf, width, 12, "QUITTANCE", "C")
    pdf.set_font("Helvetica", "", 11)
    _line(pdf, width, 7, f"N° {payment.receipt}", "C")
    if duplicate:
        pdf.set_text_color(180, 0, 0)
        pdf.set_font("Helvetica", "B", 12)
        _line(pdf, width, 7, "DUPLICATA", "C")
        pdf.set_text_color(0, 0, 0)
    _cancelled(pdf, width, cancelled, 28, 14, 10, 5)
    pdf.ln(6)

    for label, value in _rows(payment):
        y = pdf.get_y()
        pdf.set_font("Helvetica", "B", 11)
        pdf.set_xy(pdf.l_margin, y)
        pdf.multi_cell(55, 7, pdf_text(label), new_x="RIGHT", new_y="TOP")
        pdf.set_font("Helvetica", "", 11)
        pdf.multi_cell(width - 55, 7, pdf_text(value), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(5)

    money = 33
    label_width = width - 35 - 2 * money
    pdf.set_font("Helvetica", "B", 10)
    pdf.set_fill_color(230, 230, 230)
    wrapped_row(pdf, [(35, "Facture", "C"), (label_width, "Libellé", "C"), (money, "Montant facture", "C"),
                     (money, "Réglé", "C")], 7, fill=True)
    pdf.set_font("Helvetica", "", 10)
    for inv in payment.invoices:
        wrapped_row(pdf, [(35, inv["id"], "L"), (label_width, inv["label"], "L"),
                         (money, euros(Decimal(inv.get("amount", inv["share"]))), "R"),
                         (money, euros(Decimal(inv["share"])), "R")], 7)
    pdf.set_font("Helvetica", "B", 12)
    wrapped_row(pdf, [(width - money, "Total encaissé", "R"), (money, euros(payment.amount), "R")], 9)
    owed = _still_owed(payment)
    if owed:
        pdf.set_font("Helvetica", "", 10)
        wrapped_row(pdf, [(width - money, "Reste à payer sur ces factures après ce paiement", "R"),
                         (money, euros(owed), "R")], 7)
    pdf.ln(3)
    pdf.set_font("Helvetica", "I", 10)
    _line(pdf, width, 5, f"Reçu la somme de : {euros_in_words(payment.amount)}.")
    pdf.ln(4)
    pdf.set_font("Helvetica", "", 9)
    _line(pdf, width, 5, _CLOSING)
    if duplicate and printed_at is not None:
        _line(pdf, width, 5, f"Duplicata imprimé le {fr_datetime(printed_at)}")
    return pdf


def _still_owed(payment: PaymentRecord) -> Decimal:
    """What the paid invoices still owed right after this payment (receipts recorded before
    the desk kept it say nothing)."""
    return sum((Decimal(inv["remaining_after"]) for inv in payment.invoices if "remaining_after" in inv), ZERO)


def _ticket(payment: PaymentRecord, city: str, duplicate: bool, printed_at: datetime | None,
            height: float, cancelled: str | None = None) -> FPDF:
    pdf = _start(payment, (TICKET_WIDTH, height))
    pdf.set_margins(4, 4, 4)
    pdf.add_page()
    width = pdf.w - pdf.l_margin - pdf.r_margin

    pdf.set_font("Helvetica", "B", 10)
    _line(pdf, width, 5, city, "C")
    _line(pdf, width, 5, f"Régie {payment.regie_label}", "C")
    pdf.set_font("Helvetica", "", 8)
    _line(pdf, width, 4, f"Régie de recettes n° {payment.regie}", "C")
    pdf.ln(2)
    pdf.set_font("Helvetica", "B", 13)
    _line(pdf, width, 7, "QUITTANCE", "C")
    pdf.set_font("Helvetica", "", 9)
    _line(pdf, width, 5, f"N° {payment.receipt}", "C")
    if duplicate:
        pdf.set_font("Helvetica", "B", 10)
        _line(pdf, width, 5, "DUPLICATA", "C")
    _cancelled(pdf, width, cancelled, 16, 8, 8, 4)
    pdf.ln(2)
    for label, value in _rows(payment):
        pdf.set_font("Helvetica", "B", 8)
        _line(pdf, width, 4, label)
        pdf.set_font("Helvetica", "", 9)
        _line(pdf, width, 4.5, value)
    pdf.ln(2)
    pdf.line(pdf.l_margin, pdf.get_y(), pdf.l_margin + width, pdf.get_y())
    pdf.ln(1)
    for inv in payment.invoices:
        pdf.set_font("Helvetica", "B", 8)
        _line(pdf, width, 4, inv["id"])
        pdf.set_font("Helvetica", "", 8)
        _line(pdf, width, 4, inv["label"])
        wrapped_row(pdf, [(width / 2, f"Montant {euros(Decimal(inv.get('amount', inv['share'])))}", "L"),
                         (width / 2, f"Réglé {euros(Decimal(inv['share']))}", "R")], 4, border=0)
        pdf.ln(1)
    pdf.line(pdf.l_margin, pdf.get_y(), pdf.l_margin + width, pdf.get_y())
    pdf.ln(1)
    pdf.set_font("Helvetica", "B", 10)
    wrapped_row(pdf, [(width / 2, "Total encaissé", "L"), (width / 2, euros(payment.amount), "R")], 6, border=0)
    owed = _still_owed(payment)
    if owed:
        pdf.set_font("Helvetica", "", 8)
        wrapped_row(pdf, [(width * 0.7, "Reste à payer après ce paiement", "L"), (width * 0.3, euros(owed), "R")],
                   4, border=0)
    pdf.set_font("Helvetica", "I", 8)
    _line(pdf, width, 4, f"Reçu la somme de : {euros_in_words(payment.amount)}.")
    pdf.ln(2)
    pdf.set_font("Helvetica", "", 7)
    _line(pdf, width, 3.5, _CLOSING)
    if duplicate and printed_at is not None:
        _line(pdf, width, 3.5, f"Duplicata imprimé le {fr_datetime(printed_at)}")
    return pdf


class Receipts:
    """Printing and reprinting receipts, for whoever may: a cashier their own
    payments, a régisseur every one. A cancelled payment's receipt is marked ANNULÉ."""

    def __init__(self, payments, operators, *, city: str, clock):
        self.payments = payments  # store.payments.Payments
        self.operators = operators  # services.operators.OperatorService
        self.city = city
        self.clock = clock

    def pdf(self, payment: PaymentRecord, *, duplicate: bool = False, paper: str = "a4") -> bytes:
        from ..domain import Action
        from ..store import cancellations
        from .cancellations import REASON_LABELS, Reason
        from .operators import PermissionDenied

        operator = self.operators.require(Action.PRINT_RECEIPT)
        if not operator.can(Action.SEE_ALL_PAYMENTS) and payment.operator_login != operator.login:
            raise PermissionDenied(f"La quittance {payment.receipt} a été établie par un autre opérateur.",
                                   Action.PRINT_RECEIPT)
        cancellation = cancellations.get(payment.id)
        mark = None
        if cancellation is not None:
            reason = REASON_LABELS[Reason(cancellation.reason)]
            mark = (f"Paiement annulé le {fr_datetime(cancellation.at)} par {cancellation.operator_name} : {reason}"
                    + (f" ({cancellation.comment})" if cancellation.comment else "") + ".")
        return receipt_pdf(payment, city=self.city, duplicate=duplicate,
                           printed_at=self.clock() if duplicate else None, paper=paper, cancelled=mark)
