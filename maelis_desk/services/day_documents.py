"""The day's documents: the Z report, the dockets (PDF, CSV, ODS), the monthly statement.

Each document is built from recorded facts only: the Z report from the
figures frozen at the close (a reprint is the same document), a docket from
its payments as recorded. fpdf2 writes the PDFs (no Qt in this layer);
CSV follows what French spreadsheets open as they are: `;` between fields,
decimal comma, UTF-8 with a BOM; ODS is written with odfpy (the OpenDocument
library that pandas and LibreOffice's own tools use), amounts as currency
cells so a spreadsheet sums them.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from fpdf import FPDF

from ..domain_day import (
    CLOSE_LABELS, CLOSE_LINES, MOVE_LABELS, CashCount, Closing, Docket, DocketState, DocketType, MoveReason,
    denomination_label,
)
from ..formatting import euros, euros_in_words, fr_date, fr_datetime, local
from .modes import mode_label
from .pdf_layout import pdf_text as _t, wrapped_row

_MONTHS = ["janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre",
           "novembre", "décembre"]


def _dt(iso: str) -> str:
    return fr_datetime(datetime.fromisoformat(iso))


def decimal_fr(amount: Decimal) -> str:
    """`1234.5` → `1234,50`: a number a French spreadsheet reads as a number (no € sign, no grouping)."""
    return f"{Decimal(amount):.2f}".replace(".", ",")


class _Pdf(FPDF):
    def __init__(self, title: str, footer: str):
        super().__init__(format="A4")
        self.core_fonts_encoding = "windows-1252"
        self._footer_text = footer
        self.set_title(_t(title))
        self.set_author("Maelis Desk")
        self.set_auto_page_break(True, margin=15)
        self.add_page()
        self.width = self.w - self.l_margin - self.r_margin

    def footer(self):
        self.set_y(-12)
        self.set_font("Helvetica", "", 8)
        self.cell(self.width, 5, _t(f"{self._footer_text} — page {self.page_no()}/{{nb}}"), align="C")

    def heading(self, text: str, size: int = 16):
        self.set_font("Helvetica", "B", size)
        self.multi_cell(self.width, size * 0.5, _t(text), new_x="LMARGIN", new_y="NEXT")

    def section(self, text: str):
        self.ln(3)
        self.set_font("Helvetica", "B", 12)
        self.cell(self.width, 7, _t(text), new_x="LMARGIN", new_y="NEXT")

    def pairs(self, rows: list[tuple[str, str]], key_width: float = 55):
        for key, value in rows:
            self.set_font("Helvetica", "B", 10)
            self.cell(key_width, 6, _t(key))
            self.set_font("Helvetica", "", 10)
            self.multi_cell(self.width - key_width, 6, _t(value), new_x="LMARGIN", new_y="NEXT")

    def table(self, columns: list[tuple[str, float, str]], rows: list[list[str]], *, bold_last: bool = False):
        """columns: (title, width in mm or 0 for the rest, align L/R/C)."""
        rest = self.width - sum(w for _t0, w, _a in columns)
        widths = [w or rest for _t0, w, _a in columns]
        self.set_font("Helvetica", "B", 9)
        self.set_fill_color(230, 230, 230)
        for (title, _w, _a), w in zip(columns, widths):
            self.cell(w, 6, _t(title), border=1, fill=True, align="C")
        self.ln()
        for i, row in enumerate(rows):
            self.set_font("Helvetica", "B" if bold_last and i == len(rows) - 1 else "", 9)
            wrapped_row(self, [(w, value, align) for (_title, _w, align), w, value in zip(columns, widths, row)], 6)


# --- the Z report ----------------------------------------------------------------------


def z_report_pdf(closing: Closing, *, city: str = "Ville") -> bytes:
    """The numbered Z report of a close, from its frozen figures (identical on every reprint)."""
    r = closing.report
    pdf = _Pdf(f"Rapport Z n° {closing.z_number}", f"Rapport Z n° {closing.z_number} — poste {r['desk']}")
    pdf.set_creation_date(closing.closed_at)
    pdf.alias_nb_pages()
    pdf.set_font("Helvetica", "", 10)
    pdf.cell(pdf.width, 6, _t(city), new_x="LMARGIN", new_y="NEXT")
    pdf.heading(f"Arrêté de caisse — Rapport Z n° {closing.z_number}")
    pdf.ln(2)
    pdf.pairs([
        ("Poste", r["desk"]),
        ("Ouverte le", f"{_dt(r['opened_at'])} par {r['opened_by']}"),
        ("Arrêtée le", f"{_dt(r['closed_at'])} par {r['closed_by']}"),
        ("Fond de caisse", euros(Decimal(r["float"]))),
        ("Opérateurs", ", ".join(r["operators"])),
    ])

    pdf.section("Encaissements par régie et par mode")
    rows = [[f"{g['regie']} {g['regie_label']}", mode_label(g["mode"]), str(g["count"]), euros(Decimal(g["total"]))]
            for g in r["groups"]]
    total = sum((Decimal(g["total"]) for g in r["groups"]), Decimal("0.00"))
    rows.append(["Total", "", str(sum(g["count"] for g in r["groups"])), euros(total)])
    pdf.table([("Régie", 0, "L"), ("Mode", 45, "L"), ("Nombre", 20, "R"), ("Montant", 32, "R")], rows,
              bold_last=True)

    pdf.section("Arrêté : attendu, compté, écarts")
    expected, counted, diffs = r["expected"], r["counted"], r["differences"]

    def shown(name, value):
        return str(value) if name == "cheques_count" else euros(Decimal(value))

    rows = [[CLOSE_LABELS[n], shown(n, expected[n]), shown(n, counted[n]),
             ("" if not Decimal(str(diffs[n])) else (f"{int(diffs[n]):+d}" if n == "cheques_count"
                                                     else euros(Decimal(diffs[n]), sign=True))),
             r["comments"].get(n, "")] for n in CLOSE_LINES]
    pdf.table([("", 52, "L"), ("Attendu", 28, "R"), ("Compté", 28, "R"), ("Écart", 26, "R"),
               ("Commentaire", 0, "L")], rows)
    for mode, value in sorted(expected.get("others", {}).items()):
        pdf.set_font("Helvetica", "", 9)
        pdf.cell(pdf.width, 5, _t(f"Pour information : {mode_label(mode)} {euros(Decimal(value))} (non compté en caisse)"),
                 new_x="LMARGIN", new_y="NEXT")

    count = counted.get("cash_count")
    if count:
        pdf.section("Espèces comptées par coupure")
        c = CashCount.from_json(count)
        rows = [[denomination_label(v), str(q), euros(Decimal(v * q) / 100)] for v, q in
                sorted(c.pieces.items(), reverse=True) if q]
        rows.append(["Total", "", euros(c.total)])
        pdf.table([("Coupure", 40, "L"), ("Nombre", 30, "R"), ("Montant", 40, "R")], rows, bold_last=True)

    pdf.section("Mouvements de caisse")
    if r["movements"]:
        pdf.table([("Heure", 32, "L"), ("Motif", 62, "L"), ("Montant", 30, "R"), ("Commentaire", 0, "L")],
                  [[_dt(m["at"]), MOVE_LABELS[MoveReason(m["reason"])], euros(Decimal(m["amount"]), sign=True),
                    f"{m['comment']} ({m['operator']})" if m["comment"] else m["operator"]] for m in r["movements"]])
    else:
        pdf.set_font("Helvetica", "", 10)
        pdf.cell(pdf.width, 6, _t("Aucun mouvement."), new_x="LMARGIN", new_y="NEXT")

    cancelled = [p for p in r["payments"] if p["cancelled"]]
    pdf.section("Annulations")
    if cancelled:
        # a report closed before motives were kept has none: its cell stays empty (a Z report never changes)
        pdf.table([("Quittance", 46, "L"), ("Heure", 28, "L"), ("Mode", 30, "L"), ("Montant", 24, "R"),
                   ("Payeur", 32, "L"), ("Motif", 0, "L")],
                  [[p["receipt"], _dt(p["at"]), mode_label(p["mode"]), euros(Decimal(p["amount"])), p["payer"],
                    p.get("motive") or ""] for p in cancelled])
    else:
        pdf.set_font("Helvetica", "", 10)
        pdf.cell(pdf.width, 6, _t("Aucune annulation."), new_x="LMARGIN", new_y="NEXT")

    pdf.section(f"Paiements de la session ({len(r['payments'])})")
    pdf.table([("Quittance", 50, "L"), ("Heure", 30, "L"), ("Mode", 32, "L"), ("Montant", 26, "R"),
               ("Opérateur", 28, "L"), ("", 0, "L")],
              [[p["receipt"], _dt(p["at"]), mode_label(p["mode"]), euros(Decimal(p["amount"])), p["operator"],
                "ANNULÉ" if p["cancelled"] else ""] for p in r["payments"]])
    pdf.ln(8)
    pdf.set_font("Helvetica", "", 10)
    pdf.cell(pdf.width / 2, 6, _t("Le régisseur"))
    pdf.cell(pdf.width / 2, 6, _t("Visa"), new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


# --- dockets -----------------------------------------------------------------------------


def _docket_title(docket: Docket) -> str:
    return docket.number if docket.state is DocketState.VALIDATED else f"BROUILLON n° {docket.id}"


def docket_columns(docket: Docket) -> list[tuple[str, str]]:
    """(title, key) of a docket's table, by type: a cheque slip names each cheque."""
    if docket.type is DocketType.CHEQUE:
        return [("N° de chèque", "cheque_number"), ("Banque", "bank"), ("Tireur", "drawer"),
                ("Quittance", "receipt"), ("Montant", "amount")]
    if docket.type in (DocketType.CESU, DocketType.ANCV):
        return [("Référence des titres", "reference"), ("Payeur", "payer"), ("Quittance", "receipt"),
                ("Date", "date"), ("Montant", "amount")]
    return [("Quittance", "receipt"), ("Date", "date"), ("Payeur", "payer"), ("Montant", "amount")]


def line_value(line, key: str) -> str:
    """A docket line's cell as the documents (and the window) show it."""
    if key == "receipt":
        return line.receipt
    if key == "date":
        return fr_date(line.created_at)
    if key == "payer":
        return line.payer_name
    if key == "drawer":
        return line.details.get("drawer") or line.payer_name  # the payer unless told otherwise
    if key == "amount":
        return euros(line.amount)
    return str(line.details.get(key, ""))


def docket_pdf(docket: Docket, *, city: str = "Ville") -> bytes:
    title = _docket_title(docket)
    pdf = _Pdf(f"{docket.type.label_fr} {title}", f"{docket.type.label_fr} {title}")
    pdf.set_creation_date(docket.validated_at or docket.created_at)
    pdf.alias_nb_pages()
    pdf.set_font("Helvetica", "", 10)
    pdf.cell(pdf.width, 6, _t(f"{city} — Régie de recettes n° {docket.regie} {docket.regie_label}"),
             new_x="LMARGIN", new_y="NEXT")
    pdf.heading(docket.type.label_fr)
    pdf.set_font("Helvetica", "B", 13)
    pdf.cell(pdf.width, 8, _t(f"N° {title}"), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    rows = [("Paiements jusqu'au", f"{docket.until:%d/%m/%Y}"),
            ("Préparé le", f"{fr_datetime(docket.created_at)} par {docket.created_by}")]
    if docket.validated_at:
        rows.append(("Validé le", f"{fr_datetime(docket.validated_at)} par {docket.validated_by}"))
    pdf.pairs(rows)
    pdf.ln(3)
    cols = docket_columns(docket)
    widths = {"amount": 28, "receipt": 50, "date": 24, "cheque_number": 30, "bank": 42}
    table = [[str(i)] + [line_value(line, key) for _title, key in cols] for i, line in enumerate(docket.lines, 1)]
    table.append(["", "Total"] + [""] * (len(cols) - 2) + [euros(docket.total)])
    pdf.table([("N°", 10, "R")] + [(t, widths.get(k, 0), "R" if k == "amount" else "L") for t, k in cols], table,
              bold_last=True)
    pdf.ln(4)
    noun = {DocketType.CHEQUE: "chèque", DocketType.CESU: "paiement CESU", DocketType.ANCV: "paiement ANCV",
            DocketType.ESPECES: "paiement en espèces"}[docket.type]
    pdf.pairs([("Nombre", f"{docket.count} {noun}{'s' if docket.count > 1 else ''}"),
               ("Total", euros(docket.total)), ("Soit", euros_in_words(docket.total))])
    pdf.ln(10)
    pdf.set_font("Helvetica", "", 10)
    pdf.cell(pdf.width / 2, 6, _t("Le régisseur"))
    pdf.cell(pdf.width / 2, 6, _t("Reçu par" if docket.type is not DocketType.CHEQUE else "Cachet de la banque"),
             new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def _docket_rows(docket: Docket) -> tuple[list[str], list[list]]:
    cols = docket_columns(docket)
    header = ["Bordereau", "Régie", "Type", "N°", "Date du paiement", "Famille"] + [t for t, _k in cols]
    rows = []
    for i, line in enumerate(docket.lines, 1):
        values = [_docket_title(docket), docket.regie, docket.type.label_fr, i, local(line.created_at).date(),
                  line.family]
        for _title, key in cols:
            values.append(line.amount if key == "amount" else line_value(line, key))
        rows.append(values)
    return header, rows


def _csv(header: list[str], rows: list[list]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([decimal_fr(v) if isinstance(v, Decimal) else f"{v:%d/%m/%Y}" if isinstance(v, date) else v
                         for v in row])
    return out.getvalue().encode("utf-8-sig")


def docket_csv(docket: Docket) -> bytes:
    header, rows = _docket_rows(docket)
    return _csv(header, rows)


def docket_ods(docket: Docket) -> bytes:
    """The docket as an OpenDocument spreadsheet: a title, its table, count and total."""
    from odf.number import DateStyle, Day, Month, Text, Year
    from odf.opendocument import OpenDocumentSpreadsheet
    from odf.style import Style, TableCellProperties, TextProperties
    from odf.table import Table, TableCell, TableRow
    from odf.text import P

    doc = OpenDocumentSpreadsheet()
    bold = Style(name="bold", family="table-cell")
    bold.addElement(TextProperties(fontweight="bold"))
    bold.addElement(TableCellProperties(backgroundcolor="#e6e6e6"))
    doc.automaticstyles.addElement(bold)
    # dd/mm/yyyy, as a French spreadsheet shows a date
    french_date = DateStyle(name="date-fr")
    for part in (Day(style="long"), Text(text="/"), Month(style="long"), Text(text="/"), Year(style="long")):
        french_date.addElement(part)
    doc.automaticstyles.addElement(french_date)
    date_style = Style(name="date", family="table-cell", datastylename="date-fr")
    doc.automaticstyles.addElement(date_style)
    table = Table(name=_docket_title(docket).replace("/", "-")[:31])

    def row(values, style=None):
        tr = TableRow()
        for v in values:
            if isinstance(v, Decimal):
                cell = TableCell(valuetype="currency", currency="EUR", value=f"{v:.2f}")
                cell.addElement(P(text=euros(v)))
            elif isinstance(v, int) and not isinstance(v, bool):
                cell = TableCell(valuetype="float", value=str(v))
                cell.addElement(P(text=str(v)))
            elif isinstance(v, date):  # a date the spreadsheet sorts and filters as a date
                cell = TableCell(valuetype="date", datevalue=v.isoformat(), stylename=date_style)
                cell.addElement(P(text=f"{v:%d/%m/%Y}"))
            else:
                cell = TableCell(valuetype="string")
                cell.addElement(P(text=str(v)))
            if style is not None:
                cell.setAttribute("stylename", style)
            tr.addElement(cell)
        table.addElement(tr)

    header, rows = _docket_rows(docket)
    row([header[0], _docket_title(docket), docket.type.label_fr, f"Régie {docket.regie} {docket.regie_label}"])
    row([])
    row(header, bold)
    for values in rows:
        row(values)
    row([])
    row(["Nombre", docket.count])
    row(["Total", docket.total])
    doc.spreadsheet.addElement(table)
    out = io.BytesIO()
    doc.write(out)
    return out.getvalue()


# --- the monthly statement -----------------------------------------------------------------


@dataclass(frozen=True)
class Statement:
    """What a régie reports to the comptable public for a month."""

    regie: int
    regie_label: str
    year: int
    month: int
    by_mode: list[tuple[str, int, Decimal]]  # mode, count, total of the month's payments
    cancellations: list[dict] = field(default_factory=list)  # receipt, at, mode, amount, reason, paid_at
    dockets: list[Docket] = field(default_factory=list)
    sessions: list[Closing] = field(default_factory=list)  # closes of the month with this régie's payments

    @property
    def period(self) -> str:
        return f"{_MONTHS[self.month - 1]} {self.year}"

    @property
    def total(self) -> Decimal:
        return sum((t for _m, _c, t in self.by_mode), Decimal("0.00"))

    @property
    def cancelled_total(self) -> Decimal:
        return sum((Decimal(c["amount"]) for c in self.cancellations), Decimal("0.00"))


def _diff_text(closing: Closing) -> str:
    parts = []
    for name, diff in closing.differences.items():
        if diff:
            shown = f"{int(diff):+d}" if name == "cheques_count" else euros(Decimal(diff), sign=True)
            parts.append(f"{CLOSE_LABELS[name]} {shown}")
    return ", ".join(parts) or "aucun écart"


def statement_pdf(st: Statement, *, city: str = "Ville") -> bytes:
    pdf = _Pdf(f"État mensuel {st.regie} {st.period}", f"Régie {st.regie} — état de {st.period}")
    pdf.alias_nb_pages()
    pdf.set_font("Helvetica", "", 10)
    pdf.cell(pdf.width, 6, _t(city), new_x="LMARGIN", new_y="NEXT")
    pdf.heading(f"État mensuel de la régie {st.regie} {st.regie_label}")
    pdf.set_font("Helvetica", "B", 12)
    pdf.cell(pdf.width, 8, _t(f"Mois de {st.period}"), new_x="LMARGIN", new_y="NEXT")

    pdf.section("Encaissements par mode")
    rows = [[mode_label(m), str(c), euros(t)] for m, c, t in st.by_mode]
    rows.append(["Total", str(sum(c for _m, c, _t0 in st.by_mode)), euros(st.total)])
    pdf.table([("Mode", 0, "L"), ("Nombre", 25, "R"), ("Montant", 35, "R")], rows, bold_last=True)

    pdf.section("Annulations du mois")
    if st.cancellations:
        pdf.table([("Quittance", 48, "L"), ("Payée le", 22, "L"), ("Annulée le", 30, "L"), ("Mode", 28, "L"),
                   ("Montant", 26, "R"), ("Motif", 0, "L")],
                  [[c["receipt"], fr_date(c["paid_at"]), fr_datetime(c["at"]), mode_label(c["mode"]),
                    euros(Decimal(c["amount"])), c["reason"]] for c in st.cancellations])
        pdf.set_font("Helvetica", "", 9)
        pdf.cell(pdf.width, 5, _t(f"Total annulé : {euros(st.cancelled_total)}"), new_x="LMARGIN", new_y="NEXT")
    else:
        pdf.set_font("Helvetica", "", 10)
        pdf.cell(pdf.width, 6, _t("Aucune annulation."), new_x="LMARGIN", new_y="NEXT")

    pdf.section("Bordereaux validés")
    if st.dockets:
        pdf.table([("Numéro", 40, "L"), ("Type", 0, "L"), ("Validé le", 32, "L"), ("Nombre", 18, "R"),
                   ("Montant", 28, "R")],
                  [[d.number, d.type.label_fr, fr_datetime(d.validated_at), str(d.count), euros(d.total)]
                   for d in st.dockets])
    else:
        pdf.set_font("Helvetica", "", 10)
        pdf.cell(pdf.width, 6, _t("Aucun bordereau validé."), new_x="LMARGIN", new_y="NEXT")

    pdf.section("Sessions de caisse arrêtées")
    if st.sessions:
        pdf.table([("Rapport Z", 22, "R"), ("Poste", 30, "L"), ("Arrêtée le", 32, "L"), ("Écarts", 0, "L")],
                  [[str(c.z_number), c.report["desk"], fr_datetime(c.closed_at), _diff_text(c)] for c in st.sessions])
        for c in st.sessions:
            for name, text in c.comments.items():
                pdf.set_font("Helvetica", "I", 9)
                pdf.multi_cell(pdf.width, 5, _t(f"Z {c.z_number}, {CLOSE_LABELS[name]} : {text}"),
                               new_x="LMARGIN", new_y="NEXT")
    else:
        pdf.set_font("Helvetica", "", 10)
        pdf.cell(pdf.width, 6, _t("Aucune session arrêtée."), new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def statement_csv(st: Statement) -> bytes:
    header = ["Régie", "Mois", "Rubrique", "Date", "Référence", "Mode", "Nombre", "Montant", "Commentaire"]
    month = f"{st.month:02d}/{st.year}"
    rows: list[list] = []
    for m, c, t in st.by_mode:
        rows.append([st.regie, month, "Encaissements", "", "", mode_label(m), c, t, ""])
    for c in st.cancellations:
        rows.append([st.regie, month, "Annulation", fr_date(c["at"]), c["receipt"], mode_label(c["mode"]), 1,
                     -Decimal(c["amount"]), f"payée le {fr_date(c['paid_at'])} — {c['reason']}"])
    for d in st.dockets:
        rows.append([st.regie, month, "Bordereau", fr_date(d.validated_at), d.number, mode_label(d.type.mode), d.count,
                     d.total, d.type.label_fr])
    for cl in st.sessions:
        cash = cl.differences["cash"]
        comments = "; ".join(f"{CLOSE_LABELS[n]} : {t}" for n, t in cl.comments.items())
        rows.append([st.regie, month, "Session arrêtée", fr_date(cl.closed_at), f"Z {cl.z_number}", "Espèces", "",
                     Decimal(cash), f"{_diff_text(cl)}{' — ' + comments if comments else ''}"])
    return _csv(header, rows)


def month_of(text: str) -> tuple[int, int]:
    """`2026-11` or `11/2026` → (2026, 11)."""
    t = text.strip()
    try:
        if "/" in t:
            m, y = t.split("/")
        else:
            y, m = t.split("-")
        year, month = int(y), int(m)
        date(year, month, 1)
    except ValueError:
        raise ValueError(f"mois attendu sous la forme 2026-11 : « {text} »") from None
    return year, month
