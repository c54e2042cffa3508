"""A PDF shown with QtPdf: page navigation, zoom, print, save as.

What is shown comes from a `PdfSource` (title, file name, loader, wording):
an invoice's PDF fetched from Maelis on open (never cached,
`invoice_source`), or a receipt made on the desk from the recorded payment
(`receipt_source`). Printing draws each page as an image at PRINT_DPI, with
the page's text laid over it invisibly (as scanners do), so a PDF printed to
a file can be searched and read back.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import (
    QBuffer,
    QByteArray,
    QIODevice,
    QPointF,
    QRect,
    QRectF,
    QSize,
    QStandardPaths,
    Qt,
    Signal,
)
from PySide6.QtGui import QAction, QColor, QFont, QImage, QPainter, QPen
from PySide6.QtPdf import QPdfDocument
from PySide6.QtPdfWidgets import QPdfView
from PySide6.QtPrintSupport import QPrintDialog, QPrinter
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QStackedWidget,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from ..domain import Invoice
from ..formatting import os_error_fr
from ..services import Desk
from .worker import Latest, disk_pool, error_text, network_pool
from .shortcuts import make_action

log = logging.getLogger(__name__)

ZOOM_STEP = 1.25
ZOOM_MIN, ZOOM_MAX = 0.25, 6.0
PRINT_DPI = 300  # pages are rendered at this resolution for the printer


def _action(parent: QWidget, text: str, shortcuts, slot, tip: str) -> QAction:
    return make_action(parent, text, shortcuts, slot, tip)


@dataclass(frozen=True)
class PdfSource:
    """What a PdfDialog shows, and how it speaks of it."""

    title: str  # the window's title
    doc_name: str  # the print job's name
    what: str  # « la facture F… », « la quittance n° … » in sentences
    file_name: str  # suggested when saving
    loading: str  # shown while `load` runs
    origin: str  # how the document was obtained, after its size
    failure_hint: str  # after « Impossible d'afficher … : <reason> »
    saved: str  # « Facture enregistrée », « Quittance enregistrée »
    load: Callable[[], bytes]  # runs in the background (may call Maelis, may read the database)
    #: after a failed save or print: what stays true (a receipt's payment is recorded, whatever the file)
    kept: str = ""


def _safe(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]+", "-", text).strip("-")


def invoice_source(desk: Desk, invoice: Invoice) -> PdfSource:
    reader = desk.reader
    regie, number = invoice.regie.code, invoice.number
    return PdfSource(
        title=f"Facture {invoice.id} — {invoice.label}",
        doc_name=f"Facture {invoice.id}",
        what=f"la facture {invoice.id}",
        file_name=f"facture-{_safe(invoice.id) or invoice.number}.pdf",
        loading=f"Chargement… (facture {invoice.id}, demandée à Maelis)",
        origin="lu à l'instant depuis Maelis",
        failure_hint=("Les factures en PDF sont demandées à Maelis à chaque ouverture, elles ne sont pas gardées "
                      "sur le poste : réessayez quand Maelis répondra."),
        saved="Facture enregistrée",
        load=lambda: reader.invoice_pdf(regie, number),
    )


def receipt_source(desk: Desk, record, *, duplicate: bool = False) -> PdfSource:
    paper = getattr(desk.settings, "receipt_paper", "a4")
    return PdfSource(
        title=f"Quittance n° {record.receipt}" + (" (duplicata)" if duplicate else ""),
        doc_name=f"Quittance {record.receipt}",
        what=f"la quittance n° {record.receipt}",
        file_name=f"quittance-{_safe(record.receipt)}" + ("-duplicata" if duplicate else "") + ".pdf",
        loading=f"Préparation de la quittance n° {record.receipt}…",
        origin="faite sur ce poste à partir du paiement enregistré",
        failure_hint="Le paiement reste enregistré ; réessayez, ou réimprimez la quittance depuis les paiements "
                     "transmis (Ctrl+Maj+T).",
        saved="Quittance enregistrée",
        kept=f"Le paiement reste enregistré (quittance n° {record.receipt}) : ne l'encaissez pas une seconde fois.",
        # through the service: a cashier reprints only their own, a cancelled payment's is marked ANNULÉ
        load=lambda: desk.receipts.pdf(record, duplicate=duplicate, paper=paper),
    )


class PdfDialog(QDialog):
    """Non-modal: open it with show(); it deletes itself when closed.
    `print_when_loaded`: the print dialog opens as soon as the document is shown."""

    loaded = Signal(int)  # page count
    load_failed = Signal(str)  # the French message

    def __init__(self, source: PdfSource, parent: QWidget | None = None, *, pool=None,
                 print_when_loaded: bool = False):
        super().__init__(parent)
        self.setObjectName("pdfDialog")
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.source = source
        self.print_when_loaded = print_when_loaded
        self.setWindowTitle(source.title)
        screen = (parent.screen() if parent is not None else self.screen()).availableGeometry()
        self.resize(min(860, screen.width() - 40), min(1000, screen.height() - 60))
        self.pool = pool or network_pool()
        self._print_dialog: QPrintDialog | None = None
        self.data: bytes | None = None
        self._fetch = Latest()
        self._buffer: QBuffer | None = None

        self.document = QPdfDocument(self)
        self.view = QPdfView()
        self.view.setObjectName("pdfView")
        self.view.setDocument(self.document)
        self.view.setPageMode(QPdfView.PageMode.MultiPage)
        self.view.setZoomMode(QPdfView.ZoomMode.FitToWidth)
        self.view.setPageSpacing(12)

        self.loading = QLabel(source.loading)
        self.loading.setObjectName("placeholder")
        self.loading.setAlignment(Qt.AlignmentFlag.AlignCenter)

        self.error = QLabel("")
        self.error.setObjectName("placeholder")
        self.error.setWordWrap(True)
        self.error.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.retry = QPushButton("&Réessayer")
        self.retry.clicked.connect(self.fetch)
        error_page = QWidget()
        error_layout = QVBoxLayout(error_page)
        error_layout.addStretch(1)
        error_layout.addWidget(self.error)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(self.retry)
        row.addStretch(1)
        error_layout.addLayout(row)
        error_layout.addStretch(2)

        self.stack = QStackedWidget()
        self.stack.addWidget(self.loading)
        self.stack.addWidget(self.view)
        self.stack.addWidget(error_page)
        self.error_page = error_page

        toolbar = QToolBar()
        toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        self.prev_action = _action(self, "◀ Précédente", ["PgUp", "Alt+Left"], self.previous_page, "Page précédente")
        self.page_label = QLabel("")
        self.page_label.setMinimumWidth(90)
        self.page_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.next_action = _action(self, "Suivante ▶", ["PgDown", "Alt+Right"], self.next_page, "Page suivante")
        self.zoom_out_action = _action(self, "Zoom −", ["Ctrl+-"], self.zoom_out, "Réduire")
        self.zoom_in_action = _action(self, "Zoom +", ["Ctrl++", "Ctrl+="], self.zoom_in, "Agrandir")
        self.fit_action = _action(self, "Pleine largeur", ["Ctrl+0"], self.fit_width, "Ajuster à la largeur")
        self.print_action = _action(self, "Imprimer…", ["Ctrl+P"], self.print_, f"Imprimer {source.what}")
        self.save_action = _action(self, "Enregistrer sous…", ["Ctrl+S"], self.save_as, "Enregistrer le PDF")
        toolbar.addAction(self.prev_action)
        toolbar.addWidget(self.page_label)
        toolbar.addAction(self.next_action)
        toolbar.addSeparator()
        toolbar.addAction(self.zoom_out_action)
        toolbar.addAction(self.zoom_in_action)
        toolbar.addAction(self.fit_action)
        toolbar.addSeparator()
        toolbar.addAction(self.print_action)
        toolbar.addAction(self.save_action)
        self.toolbar = toolbar

        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.button(QDialogButtonBox.StandardButton.Close).setText("&Fermer")
        buttons.rejected.connect(self.reject)
        self.status = QLabel("")
        self.status.setObjectName("hint")
        bottom = QHBoxLayout()
        bottom.addWidget(self.status, 1)
        bottom.addWidget(buttons)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(toolbar)
        layout.addWidget(self.stack, 1)
        layout.addLayout(bottom)

        self.document.statusChanged.connect(self._document_status)
        self.view.pageNavigator().currentPageChanged.connect(self._update_page)
        self._set_ready(False)
        self.fetch()

    # -- loading --------------------------------------------------------------------

    def fetch(self) -> None:
        """Ask Maelis for the PDF (in the background)."""
        self._set_ready(False)
        self.stack.setCurrentWidget(self.loading)
        self.status.setText("")
        self._fetch.run(self, self.source.load, self._received, self._failed, pool=self.pool,
                        label=f"Chargement du PDF de {self.source.what}…")

    @property
    def busy(self) -> bool:
        return self._fetch.busy

    def _received(self, data: bytes) -> None:
        self.data = bytes(data)
        self.document.close()
        buffer = QBuffer(self)
        buffer.setData(QByteArray(self.data))
        buffer.open(QIODevice.OpenModeFlag.ReadOnly)
        old, self._buffer = self._buffer, buffer
        self.document.load(buffer)
        if old is not None:
            old.deleteLater()
        self._document_status(self.document.status())

    def _document_status(self, status: QPdfDocument.Status) -> None:
        if self.data is None:
            return
        if status == QPdfDocument.Status.Ready and self.stack.currentWidget() is not self.view:
            pages = self.document.pageCount()
            self.stack.setCurrentWidget(self.view)
            self._set_ready(True)
            self._update_page(self.view.pageNavigator().currentPage())
            self.status.setText(f"{len(self.data) // 1024 or 1} Ko, {self.source.origin}.")
            self.view.setFocus(Qt.FocusReason.OtherFocusReason)
            self.loaded.emit(pages)
            if self.print_when_loaded:
                self.print_when_loaded = False
                self.print_()
        elif status == QPdfDocument.Status.Error:
            self._show_error(
                "Maelis a renvoyé un document que le poste ne sait pas lire comme un PDF "
                f"(erreur : {self.document.error().name})."
            )

    def _failed(self, exc: BaseException) -> None:
        self._show_error(
            f"Impossible d'afficher {self.source.what} : {error_text(exc)}\n\n{self.source.failure_hint}"
        )

    def _show_error(self, text: str) -> None:
        self.data = None
        self._set_ready(False)
        self.error.setText(text)
        self.stack.setCurrentWidget(self.error_page)
        self.retry.setFocus(Qt.FocusReason.OtherFocusReason)
        self.load_failed.emit(text)

    def _set_ready(self, ready: bool) -> None:
        for action in (self.prev_action, self.next_action, self.zoom_in_action, self.zoom_out_action,
                       self.fit_action, self.print_action, self.save_action):
            action.setEnabled(ready)
        if not ready:
            self.page_label.setText("")

    # -- navigation and zoom -------------------------------------------------------

    @property
    def current_page(self) -> int:
        return self.view.pageNavigator().currentPage()

    def _update_page(self, page: int) -> None:
        count = self.document.pageCount()
        if count <= 0:
            return
        self.page_label.setText(f"Page {page + 1} / {count}")
        self.prev_action.setEnabled(page > 0)
        self.next_action.setEnabled(page < count - 1)

    def go_to_page(self, page: int) -> None:
        count = self.document.pageCount()
        if 0 <= page < count:
            self.view.pageNavigator().jump(page, QPointF(), self.view.zoomFactor())
            self._update_page(page)

    def previous_page(self) -> None:
        self.go_to_page(self.current_page - 1)

    def next_page(self) -> None:
        self.go_to_page(self.current_page + 1)

    def _zoom(self, factor: float) -> None:
        zoom = min(ZOOM_MAX, max(ZOOM_MIN, self.view.zoomFactor() * factor))
        self.view.setZoomMode(QPdfView.ZoomMode.Custom)
        self.view.setZoomFactor(zoom)

    def zoom_in(self) -> None:
        self._zoom(ZOOM_STEP)

    def zoom_out(self) -> None:
        self._zoom(1 / ZOOM_STEP)

    def fit_width(self) -> None:
        self.view.setZoomMode(QPdfView.ZoomMode.FitToWidth)

    # -- print and save ---------------------------------------------------------------

    def print_(self) -> QPrintDialog | None:
        """The print dialog (window-modal, non-blocking); printing starts when it is accepted."""
        if self.data is None:
            return None
        printer = QPrinter(QPrinter.PrinterMode.HighResolution)
        printer.setDocName(self.source.doc_name)
        printer.setFromTo(1, max(1, self.document.pageCount()))
        dialog = QPrintDialog(printer, self)
        dialog.setObjectName("printDialog")
        dialog.setWindowTitle(f"Imprimer {self.source.what}")
        dialog.setMinMax(1, max(1, self.document.pageCount()))
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.accepted.connect(lambda: self.print_to(printer))
        self._print_dialog = dialog
        self._printer = printer  # alive as long as the dialog may use it
        # QPrintDialog.open() in PySide6 is only the (receiver, member) overload:
        # QDialog's own open() shows it window-modal without a nested loop.
        QDialog.open(dialog)
        return dialog

    def print_to(self, printer: QPrinter) -> int:
        """Render the pages (every page, or the chosen range) on `printer`; the number printed."""
        count = self.document.pageCount()
        if count <= 0:
            return 0
        first = max(1, printer.fromPage() or 1)
        last = min(count, printer.toPage() or count)
        painter = QPainter()
        if not painter.begin(printer):
            self._not_done("Impression impossible : l'imprimante n'a pas pu être ouverte.")
            return 0
        printed = 0
        try:
            area = printer.pageLayout().paintRectPixels(printer.resolution())
            for page in range(first - 1, last):
                if printed:
                    printer.newPage()
                points = self.document.pagePointSize(page)
                if points.isEmpty():
                    continue
                scale = min(area.width() / points.width(), area.height() / points.height())
                target = QRect(0, 0, int(points.width() * scale), int(points.height() * scale))
                pixels = QSize(int(points.width() / 72 * PRINT_DPI), int(points.height() / 72 * PRINT_DPI))
                image: QImage = self.document.render(page, pixels)
                painter.drawImage(target, image)
                self._draw_text_layer(painter, page, scale)
                printed += 1
        finally:
            painter.end()
        self.status.setText(f"{printed} page{'s' if printed > 1 else ''} envoyée{'s' if printed > 1 else ''} "
                            "à l'impression.")
        return printed

    def _draw_text_layer(self, painter: QPainter, page: int, scale: float) -> None:
        """The page's text, line by line, transparent, where the image shows it."""
        text = self.document.getAllText(page).text()
        painter.save()
        painter.setPen(QPen(QColor(0, 0, 0, 0)))
        index = 0
        for line in text.split("\r\n"):
            if line.strip():
                bounds = self.document.getSelectionAtIndex(page, index, len(line)).boundingRectangle()
                if not bounds.isEmpty():
                    box = QRectF(bounds.x() * scale, bounds.y() * scale, bounds.width() * scale,
                                 bounds.height() * scale)
                    font = QFont("Helvetica")
                    font.setPixelSize(max(1, int(box.height() * 0.8)))
                    painter.setFont(font)
                    painter.drawText(box, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, line)
            index += len(line) + 2
        painter.restore()

    def suggested_file_name(self) -> str:
        return self.source.file_name

    def save_as(self) -> QFileDialog | None:
        if self.data is None:
            return None
        folder = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.DocumentsLocation) or str(Path.home())
        Path(folder).mkdir(parents=True, exist_ok=True)
        dialog = QFileDialog(self, f"Enregistrer {self.source.what}", str(Path(folder) / self.suggested_file_name()),
                             "Documents PDF (*.pdf)")
        dialog.setObjectName("saveDialog")
        dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
        dialog.setDefaultSuffix("pdf")
        dialog.setDirectory(folder)
        dialog.selectFile(self.suggested_file_name())
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.fileSelected.connect(self.save_to)
        self._save_dialog = dialog
        dialog.open()
        return dialog

    def save_to(self, path: str) -> bool:
        if self.data is None or not path:
            return False
        try:
            Path(path).write_bytes(self.data)
        except OSError as exc:
            self._not_done(f"Enregistrement impossible : {os_error_fr(exc)} ({path}).")
            return False
        self.status.setText(f"{self.source.saved} : {path}")
        return True

    def _not_done(self, text: str) -> None:
        self.status.setText(f"{text} {self.source.kept}".strip())

    # -- closing -----------------------------------------------------------------------

    def done(self, result: int) -> None:
        self._fetch.cancel()
        super().done(result)


def invoice_dialog(desk: Desk, invoice: Invoice, parent: QWidget | None = None, *, pool=None) -> PdfDialog:
    """An invoice's PDF from Maelis (network pool)."""
    dialog = PdfDialog(invoice_source(desk, invoice), parent, pool=pool or network_pool())
    dialog.invoice = invoice
    return dialog


def receipt_dialog(desk: Desk, record, parent: QWidget | None = None, *, duplicate: bool = False,
                   print_when_loaded: bool = False) -> PdfDialog:
    """A payment's receipt (quittance), made on the desk (disk pool); a reprint says DUPLICATA."""
    dialog = PdfDialog(receipt_source(desk, record, duplicate=duplicate), parent, pool=disk_pool(),
                       print_when_loaded=print_when_loaded)
    dialog.record = record
    return dialog
