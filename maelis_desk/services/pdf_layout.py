"""What the desk's PDFs (receipts, Z reports, dockets, statements) share: text the core
fonts can print, and table rows whose long cells wrap instead of being cut.

fpdf is not imported here: a PDF's module imports it when the first document is made."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fpdf import FPDF


def pdf_text(value) -> str:
    """The core fonts speak windows-1252: keep what it can say (a minus sign, an arrow and a
    narrow no-break space said with what it has)."""
    text = str(value).replace("\u2212", "-").replace("→", "->").replace("\u202f", "\u00a0")
    return text.encode("cp1252", "replace").decode("cp1252")


def wrapped_row(pdf: FPDF, cells: list[tuple[float, str, str]], height: float, *, border: bool = True,
                fill: bool = False) -> None:
    """One table row of (width, text, align) cells whose text wraps (a comment, a motive, a
    label: never cut), as high as its tallest cell (`height` a line), on the next page when
    it does not fit on this one."""
    texts = [pdf_text(text) for _w, text, _a in cells]
    lines = max(len(pdf.multi_cell(w, height, text, dry_run=True, output="LINES")) or 1
                for (w, _t, _a), text in zip(cells, texts))
    row_height = height * lines
    if pdf.auto_page_break and pdf.get_y() + row_height > pdf.page_break_trigger:
        pdf.add_page()
    x, y = pdf.l_margin, pdf.get_y()
    for (w, _text, align), text in zip(cells, texts):
        if border or fill:
            pdf.rect(x, y, w, row_height, style="DF" if fill else "D")
        pdf.set_xy(x, y)
        pdf.multi_cell(w, height, text, align=align, new_x="RIGHT", new_y="TOP")
        x += w
    pdf.set_xy(pdf.l_margin, y + row_height)
