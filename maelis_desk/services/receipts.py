"""The receipt (quittance) of a recorded payment, as a one-page PDF.

Produced from the payment as recorded (never from what Maelis says later),
so a reprint is identical to the first print except for its "DUPLICATA"
mark. fpdf2 keeps this out of Qt: the CLI prints receipts too.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from fpdf import FPDF

from ..formatting import euros, euros_in_words, fr_datetime
from ..store.payments import PaymentRecord
from .payments import MODE_LABELS, Mode

_DETAIL_LABELS = {
    "cheque_number": "N° de chèque",
    "bank": "Banque",
    "drawer": "Tireur",
    "card_reference": "Autorisation / ticket",
    "transfer_reference": "Référence du virement",
    "reference": "Référence",
    "cash_given": "Somme remise",
    "change": "Monnaie rendue",
}
_MONEY_DETAILS = {"cash_given", "change"}


def _text(value: str) -> str:
    """The core fonts speak windows-1252: keep what it can say."""
    return value.encode("cp1252", "replace").decode("cp1252")


def receipt_pdf(payment: PaymentRecord, *, city: str = "Ville", duplicate: bool = False,
                printed_at: datetime | None = None) -> bytes:
    pdf = FPDF(format="A4")
    pdf.core_fonts_encoding = "windows-1252"
    pdf.set_creation_date(payment.created_at)
    pdf.set_title(f"Quittance {payment.receipt}")
    pdf.set_author("Maelis Desk")
    pdf.set_auto_page_break(False)
    pdf.add_page()
    width = pdf.w - pdf.l_margin - pdf.r_margin

    pdf.set_font("Helvetica", "B", 16)
    pdf.cell(width, 9, _text(f"{city} — Régie {payment.regie_label}"), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 10)
    pdf.cell(width, 6, _text(f"Régie de recettes n° {payment.regie}"), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(6)
    pdf.set_font("Helvetica", "B", 20)
    pdf.cell(width, 12, _text("QUITTANCE"), align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 11)
    pdf.cell(width, 7, _text(f"N° {payment.receipt}"), align="C", new_x="LMARGIN", new_y="NEXT")
    if duplicate:
        pdf.set_text_color(180, 0, 0)
        pdf.set_font("Helvetica", "B", 12)
        pdf.cell(width, 7, "DUPLICATA", align="C", new_x="LMARGIN", new_y="NEXT")
        pdf.set_text_color(0, 0, 0)
    pdf.ln(6)

    pdf.set_font("Helvetica", "", 11)
    rows = [
        ("Famille (dossier)", str(payment.family)),
        ("Payeur", payment.payer_name),
        ("Date du paiement", fr_datetime(payment.created_at)),
        ("Mode de paiement", MODE_LABELS.get(Mode(payment.mode), payment.mode)),
    ]
    for key, value in payment.details.items():
        label = _DETAIL_LABELS.get(key, key)
        rows.append((label, euros(Decimal(value)) if key in _MONEY_DETAILS else str(value)))
    rows += [("Encaissé par", payment.operator), ("Poste", payment.desk)]
    for label, value in rows:
        pdf.set_font("Helvetica", "B", 11)
        pdf.cell(55, 7, _text(label))
        pdf.set_font("Helvetica", "", 11)
        pdf.cell(width - 55, 7, _text(value), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(5)

    pdf.set_font("Helvetica", "B", 10)
    cols = [(35, "Facture"), (width - 35 - 35 - 35, "Libellé"), (35, "Montant facture"), (35, "Réglé")]
    pdf.set_fill_color(230, 230, 230)
    for w, title in cols:
        pdf.cell(w, 7, _text(title), border=1, fill=True, align="C")
    pdf.ln()
    pdf.set_font("Helvetica", "", 10)
    for inv in payment.invoices:
        pdf.cell(cols[0][0], 7, _text(inv["id"]), border=1)
        pdf.cell(cols[1][0], 7, _text(inv["label"])[:60], border=1)
        pdf.cell(cols[2][0], 7, _text(euros(Decimal(inv.get("amount", inv["share"])))), border=1, align="R")
        pdf.cell(cols[3][0], 7, _text(euros(Decimal(inv["share"]))), border=1, align="R")
        pdf.ln()
    pdf.set_font("Helvetica", "B", 12)
    pdf.cell(width - 35, 9, _text("Total encaissé"), border=1, align="R")
    pdf.cell(35, 9, _text(euros(payment.amount)), border=1, align="R")
    pdf.ln(12)
    pdf.set_font("Helvetica", "I", 10)
    pdf.multi_cell(width, 5, _text(f"Reçu la somme de : {euros_in_words(payment.amount)}."))
    pdf.ln(4)

    pdf.set_font("Helvetica", "", 9)
    pdf.multi_cell(
        width, 5,
        _text("Quittance délivrée par le régisseur de recettes pour le compte de la collectivité. "
              "Conservez-la : elle prouve votre paiement."),
    )
    if duplicate and printed_at is not None:
        pdf.cell(width, 5, _text(f"Duplicata imprimé le {fr_datetime(printed_at)}"), new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())
