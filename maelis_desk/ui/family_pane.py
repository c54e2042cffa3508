"""The right side of the window: the family header, one tab per régie (each
with its "À payer" and "Historique" tables) and the detail of the selected
invoice. Only shows what it is given; the main window does the loading."""

from __future__ import annotations

from datetime import date

from PySide6.QtCore import (
    QItemSelectionModel,
    QModelIndex,
    QSortFilterProxyModel,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QColor, QFontMetrics, QPalette
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFrame,
    QGridLayout,
    QGroupBox,
    QHeaderView,
    QLabel,
    QSplitter,
    QStackedWidget,
    QTableView,
    QTabWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from ..domain import Invoice, InvoiceStatus, RegieInvoices
from ..formatting import desk_tz, euros, fr_date
from ..services import FamilyView
from .models import OBJECT_ROLE, SORT_ROLE, InvoiceLinesModel, InvoiceTableModel, today
from .theme import Colours

CALM = QColor(Colours.CALM)
WARM_PAGES = 9  # the city's régies: pages built ahead, while the window waits for a family


def _label(text: str = "", name: str | None = None, *, wrap: bool = False, select: bool = False) -> QLabel:
    label = QLabel(text)
    if name:
        label.setObjectName(name)
    label.setWordWrap(wrap)
    if select:
        label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    return label


# --- tables ---------------------------------------------------------------------


class DeskTable(QTableView):
    """A read-only, sortable, keyboard-friendly table over a model through a proxy."""

    current_object_changed = Signal(object)  # the row's domain object, or None

    def __init__(self, model, *, name: str, stretch_column: int, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName(name)
        self.source = model
        self.proxy = QSortFilterProxyModel(self)
        self.proxy.setSortRole(SORT_ROLE)
        self.proxy.setSourceModel(model)
        self.setModel(self.proxy)
        self.setSortingEnabled(True)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setTabKeyNavigation(False)  # Tab leaves the table; arrows move in it
        self.setAlternatingRowColors(True)
        self.setWordWrap(False)
        self.setCornerButtonEnabled(False)
        self.verticalHeader().hide()
        self.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 8)
        self.stretch_column = stretch_column
        header = self.horizontalHeader()
        header.setHighlightSections(False)
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(stretch_column, QHeaderView.ResizeMode.Stretch)
        header.setMinimumSectionSize(48)
        self.selectionModel().currentRowChanged.connect(self._current_changed)
        model.modelReset.connect(self._reset)
        self._fit_pending = False
        self.fit_columns()

    def _current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        self.current_object_changed.emit(self.current_object())

    def _reset(self) -> None:
        # A family fills nine régie pages and one is shown: the hidden tables are fitted when shown
        # (measuring every text was half the time from a family handed to the window to it painted).
        if self.isVisible():
            self.fit_columns()
        else:
            self._fit_pending = True
        self.current_object_changed.emit(None)

    def showEvent(self, event) -> None:  # noqa: N802 - Qt's name
        if self._fit_pending:
            self.fit_columns()
        super().showEvent(event)

    def fit_columns(self) -> None:
        """Size the columns to their texts, once per reset. (ResizeToContents would ask
        the model for every role of every cell at each layout: slow in Python.)"""
        self._fit_pending = False
        model = self.source
        plain = self.fontMetrics()
        bold_font = self.font()
        bold_font.setBold(True)
        bold = QFontMetrics(bold_font)
        header = self.horizontalHeader()
        header_metrics = QFontMetrics(header.font())
        rows = model.rowCount()
        for col in range(model.columnCount()):
            if col == self.stretch_column:
                continue
            title = model.headerData(col, Qt.Orientation.Horizontal) or ""
            width = header_metrics.horizontalAdvance(title) + 24  # the sort arrow
            for row in range(rows):
                text = model.data(model.index(row, col)) or ""
                width = max(width, bold.horizontalAdvance(text) + 14)
            header.resizeSection(col, max(width, plain.horizontalAdvance("0000") + 14))

    def focusInEvent(self, event) -> None:
        super().focusInEvent(event)
        index = self.currentIndex()
        if index.isValid():
            if not self.selectionModel().isRowSelected(index.row(), QModelIndex()):
                self.selectRow(index.row())
            self.current_object_changed.emit(self.current_object())

    def current_object(self):
        index = self.currentIndex()
        return self.proxy.data(index, OBJECT_ROLE) if index.isValid() else None

    def select_first(self) -> None:
        if self.proxy.rowCount():
            index = self.proxy.index(0, 0)
            self.selectionModel().setCurrentIndex(
                index, QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows
            )
            self.scrollTo(index)

    def focus_first(self) -> None:
        self.setFocus(Qt.FocusReason.OtherFocusReason)
        if not self.currentIndex().isValid():
            self.select_first()


class InvoiceSection(QWidget):
    """A titled invoice table, or a calm sentence when it has nothing to show."""

    def __init__(self, title: str, empty_text: str, name: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.title_text = title
        self.empty_text = empty_text
        self.title = _label(title, "sectionTitle")
        self.model = InvoiceTableModel(self)
        self.table = DeskTable(self.model, name=name, stretch_column=InvoiceTableModel.LABEL)
        self.table.setAccessibleName(title)
        self.empty = _label(empty_text, "placeholder", wrap=True)
        self.empty.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        self.stack = QStackedWidget()
        self.stack.addWidget(self.table)
        self.stack.addWidget(self.empty)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.title)
        layout.addWidget(self.stack, 1)

    def set_invoices(self, invoices: list[Invoice], today_: date, *, title: str, empty_text: str | None = None) -> None:
        self.model.set_invoices(invoices, today_)
        self.title.setText(title)
        if empty_text:
            self.empty.setText(empty_text)
        self.stack.setCurrentWidget(self.table if invoices else self.empty)
        self.table.setFocusPolicy(Qt.FocusPolicy.StrongFocus if invoices else Qt.FocusPolicy.NoFocus)


class RegiePage(QWidget):
    """One régie's tab: "À payer" above "Historique"."""

    invoice_changed = Signal(object)
    invoice_activated = Signal(object)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.regie_invoices: RegieInvoices | None = None
        self.to_pay = InvoiceSection("À payer", "Rien à payer dans cette régie.", "toPayTable")
        self.history = InvoiceSection("Historique", "Aucune facture dans l'historique.", "historyTable")
        self.to_pay.table.sortByColumn(InvoiceTableModel.DEADLINE, Qt.SortOrder.AscendingOrder)
        self.history.table.sortByColumn(InvoiceTableModel.DATE, Qt.SortOrder.DescendingOrder)
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.setChildrenCollapsible(False)
        splitter.addWidget(self.to_pay)
        splitter.addWidget(self.history)
        splitter.setStretchFactor(0, 1)
        splitter.setStretchFactor(1, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 4, 6, 4)
        layout.addWidget(splitter, 1)
        self.splitter = splitter
        self._balance_pending = False
        self._last_table: DeskTable | None = None
        for section in (self.to_pay, self.history):
            table = section.table
            table.current_object_changed.connect(lambda obj, t=table: self._changed(t, obj))
            table.activated.connect(lambda _index, t=table: self.invoice_activated.emit(t.current_object()))

    def _balance(self) -> None:
        """Give "À payer" the height of its rows (3 to 8 shown), "Historique" the rest;
        a hidden page is balanced when shown."""
        if not self.isVisible():
            self._balance_pending = True
            return
        self._balance_pending = False
        total = self.splitter.height()
        if total <= 0:
            return
        table = self.to_pay.table
        rows = min(max(self.to_pay.model.rowCount(), 3), 8)
        wanted = self.to_pay.title.sizeHint().height() + table.horizontalHeader().sizeHint().height() \
            + rows * table.verticalHeader().defaultSectionSize() + 12
        wanted = min(wanted, total // 2)
        self.splitter.setSizes([wanted, max(1, total - wanted)])

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._balance()

    def showEvent(self, event) -> None:  # noqa: N802 - Qt's name
        super().showEvent(event)
        if self._balance_pending:
            self._balance()

    @property
    def tables(self) -> tuple[DeskTable, DeskTable]:
        return self.to_pay.table, self.history.table

    def set_regie_invoices(self, regie_invoices: RegieInvoices, today_: date) -> None:
        self.regie_invoices = regie_invoices
        to_pay, history = regie_invoices.to_pay, regie_invoices.history
        due = regie_invoices.due
        never_read = regie_invoices.freshness.from_cache and regie_invoices.freshness.fetched_at is None
        self.to_pay.set_invoices(
            to_pay,
            today_,
            title=f"À payer ({len(to_pay)}) — reste dû : {euros(due)}" if to_pay else "À payer",
            empty_text=(
                "Factures de cette régie jamais lues : Maelis ne répond pas et le cache n'en a pas."
                if never_read
                else "Rien à payer dans cette régie."
            ),
        )
        self.history.set_invoices(history, today_, title=f"Historique ({len(history)})" if history else "Historique")
        self._last_table = None
        self._balance()

    def _changed(self, table: DeskTable, obj) -> None:
        if obj is not None:
            self._last_table = table
            other = self.history.table if table is self.to_pay.table else self.to_pay.table
            other.selectionModel().clearSelection()
        self.invoice_changed.emit(self.current_invoice())

    def current_invoice(self) -> Invoice | None:
        table = self._last_table
        if table is not None and table.selectionModel().hasSelection():
            return table.current_object()
        return None

    def focus_tables(self) -> bool:
        """The cursor in the first table with invoices; False when the régie has none
        (an empty table is hidden behind its message and takes no focus)."""
        table = self.to_pay.table if self.to_pay.model.rowCount() else self.history.table
        if not table.source.rowCount():
            return False
        table.focus_first()
        return True


# --- invoice detail ----------------------------------------------------------------


class InvoiceDetail(QGroupBox):
    """The selected invoice: its figures and its lines."""

    FIGURES = (
        ("date", "Date"),
        ("deadline", "Échéance"),
        ("status", "Statut"),
        ("amount", "Montant"),
        ("paid", "Payé en régie"),
        ("treasury", "Payé au Trésor public"),
        ("remaining", "Reste à payer"),
    )

    def __init__(self, parent: QWidget | None = None):
        super().__init__("Détail de la facture", parent)
        self.setObjectName("invoiceDetail")
        self.invoice: Invoice | None = None
        self.values: dict[str, QLabel] = {}
        figures = QWidget()
        grid = QGridLayout(figures)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setHorizontalSpacing(8)
        grid.setVerticalSpacing(3)
        self.heading = _label("", "figureValue", select=True)
        grid.addWidget(self.heading, 0, 0, 1, 8)
        positions = {
            "date": (1, 0), "deadline": (1, 1), "status": (1, 2),
            "amount": (2, 0), "paid": (2, 1), "treasury": (2, 2), "remaining": (2, 3),
        }
        for key, caption in self.FIGURES:
            row, pair = positions[key]
            cap = _label(f"{caption} :", "hint")
            cap.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            value = _label("", "figureValue", select=True)
            grid.addWidget(cap, row, pair * 2)
            grid.addWidget(value, row, pair * 2 + 1)
            self.values[key] = value
        self.reason = _label("", "refusalReason", wrap=True, select=True)
        grid.addWidget(self.reason, 3, 0, 1, 8)
        for col in range(8):
            grid.setColumnStretch(col, 1 if col % 2 else 0)

        self.lines_model = InvoiceLinesModel(self)
        self.lines = DeskTable(self.lines_model, name="linesTable", stretch_column=InvoiceLinesModel.LABEL)
        self.lines.setAccessibleName("Lignes de la facture")
        self.lines.setToolTip("Lignes de la facture (Entrée ou F4 depuis une facture pour venir ici)")
        self.lines.setSortingEnabled(False)

        self.placeholder = _label("Sélectionnez une facture pour voir son détail.", "placeholder")
        self.content = QWidget()
        column = QVBoxLayout(self.content)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(6)
        column.addWidget(figures, 0)
        column.addWidget(self.lines, 1)
        self.stack = QStackedWidget()
        self.stack.addWidget(self.placeholder)
        self.stack.addWidget(self.content)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 4, 8, 6)
        layout.addWidget(self.stack)
        self.show_invoice(None)

    def show_invoice(self, invoice: Invoice | None, today_: date | None = None) -> None:
        self.invoice = invoice
        if invoice is None:
            self.setTitle("Détail de la facture")
            self.lines_model.set_lines([])
            self.stack.setCurrentWidget(self.placeholder)
            return
        today_ = today_ or today()
        self.setTitle(f"Détail de la facture {invoice.id}")
        self.heading.setText(f"{invoice.label} — {invoice.regie.label} — facture n° {invoice.number}")
        v = self.values
        v["date"].setText(fr_date(invoice.date))
        overdue = invoice.is_overdue(today_)
        v["deadline"].setText(fr_date(invoice.deadline) + ("  (échéance dépassée)" if overdue else ""))
        v["deadline"].setToolTip("Échéance dépassée" if overdue else "")
        self._colour(v["deadline"], QColor(Colours.ERROR) if overdue else None)
        v["status"].setText(invoice.status.label_fr)
        self._colour(
            v["status"],
            {InvoiceStatus.TRANSMITTED: QColor(Colours.TRANSMITTED), InvoiceStatus.PENDING: QColor(Colours.PENDING)}.get(invoice.status),
        )
        v["amount"].setText(euros(invoice.amount))
        v["paid"].setText(euros(invoice.paid_total))
        v["treasury"].setText(euros(invoice.paid_treasury))
        v["remaining"].setText(euros(invoice.remaining))
        reasons = []
        if invoice.status == InvoiceStatus.PENDING:
            reasons.append(f"{euros(invoice.pending_paid)} payés à ce poste, transmission à Maelis en attente.")
        if invoice.refusal_reason and invoice.is_transmitted:
            reasons.append(invoice.refusal_reason)
        self.reason.setText("\n".join(reasons))
        self.reason.setVisible(bool(reasons))
        self.lines_model.set_lines(invoice.lines)
        self.stack.setCurrentWidget(self.content)

    @staticmethod
    def _colour(label: QLabel, colour: QColor | None) -> None:
        palette = label.palette()
        palette.setColor(QPalette.ColorRole.WindowText, colour or label.parentWidget().palette().color(QPalette.ColorRole.WindowText))
        label.setPalette(palette)

    def focus_lines(self) -> None:
        if self.invoice is not None:
            self.lines.focus_first()


# --- header -----------------------------------------------------------------------


class FamilyHeader(QFrame):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("familyHeader")
        self.title = _label("", "familyTitle", select=True)
        self.subtitle = _label("", "familySubtitle", wrap=True, select=True)
        self.total_caption = _label("Total dû, toutes régies", "totalDueCaption")
        self.total_caption.setAlignment(Qt.AlignmentFlag.AlignRight)
        self.total = _label("", "totalDue", select=True)
        self.total.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        grid = QGridLayout(self)
        grid.setContentsMargins(8, 6, 8, 8)
        grid.setVerticalSpacing(2)
        grid.addWidget(self.title, 0, 0)
        grid.addWidget(self.subtitle, 1, 0)
        grid.addWidget(self.total_caption, 0, 1)
        grid.addWidget(self.total, 1, 1)
        grid.setColumnStretch(0, 1)

    def show_view(self, view: FamilyView) -> None:
        family = view.family
        self.title.setText(f"Famille n° {family.number} — {family.guardian_names}")
        parts = [f"Enfants : {family.children_names}" if family.children else "Aucun enfant"]
        if family.category:
            parts.append(f"Catégorie : {family.category}")
        if family.situation:
            parts.append(f"Situation : {family.situation}")
        if family.rl1.address:
            parts.append(family.rl1.address.one_line())
        self.subtitle.setText("  ·  ".join(parts))
        due = view.due
        known = bool(view.regies)
        self.total.setText(euros(due) if known else "—")
        self.total.setProperty("calm", "true" if due <= 0 else "false")
        self.total.style().unpolish(self.total)
        self.total.style().polish(self.total)
        self.total.setToolTip(
            "Reste dû en régie, toutes régies confondues (hors factures transmises au Trésor public)"
        )


# --- the pane ----------------------------------------------------------------------


class FamilyPane(QWidget):
    """Header, régie tabs, invoice detail; or a sentence when no family is shown."""

    invoice_changed = Signal(object)  # the selected invoice of the current tab, or None
    invoice_activated = Signal(object)
    warmed_up = Signal()  # warm_up's pages are built (or a family came first): the start-up work is done

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.view: FamilyView | None = None
        self._today = today()
        self.message = _label("", "placeholder", wrap=True)
        self.message.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.header = FamilyHeader()
        self.tabs = QTabWidget()
        self.tabs.setObjectName("regieTabs")
        self.tabs.setDocumentMode(True)
        self.tabs.setUsesScrollButtons(True)
        self.tabs.tabBar().setExpanding(False)
        self.tabs.tabBar().setElideMode(Qt.TextElideMode.ElideNone)
        for button in self.tabs.tabBar().findChildren(QToolButton):  # the scroll arrows: mouse only,
            button.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # Tab must not stop on them (Ctrl+Tab scrolls)
        self.no_regie = _label("Aucune facture de cette famille n'est disponible : Maelis ne répond pas "
                               "et le cache n'a aucune de ses factures.", "placeholder", wrap=True)
        self.no_regie.hide()
        self.detail = InvoiceDetail()
        self._pages: list[RegiePage] = []  # positional: tab i shows the i-th régie
        self._warm_target = 0

        content = QWidget()
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.setChildrenCollapsible(False)
        top = QWidget()
        top_layout = QVBoxLayout(top)
        top_layout.setContentsMargins(0, 0, 0, 0)
        top_layout.addWidget(self.tabs, 1)
        top_layout.addWidget(self.no_regie)
        splitter.addWidget(top)
        splitter.addWidget(self.detail)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([540, 220])
        self.splitter = splitter
        layout = QVBoxLayout(content)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        layout.addWidget(self.header)
        layout.addWidget(splitter, 1)

        self.stack = QStackedWidget()
        self.stack.addWidget(self.message)
        self.stack.addWidget(content)
        self.content = content
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(self.stack)
        self.tabs.currentChanged.connect(self._tab_changed)
        self.show_message(
            "Cherchez une famille par son numéro de dossier ou par son nom (Ctrl+F), puis Entrée pour l'ouvrir."
        )

    # -- states -----------------------------------------------------------------------

    def show_message(self, text: str) -> None:
        self.message.setText(text)
        self.stack.setCurrentWidget(self.message)

    def clear(self, text: str) -> None:
        self.view = None
        self.detail.show_invoice(None)
        self.show_message(text)

    def show_view(self, view: FamilyView, now, today_: date | None = None, *, keep_tab: bool = False) -> None:
        previous_code = self.current_regie_code() if keep_tab else None
        self.view = view
        # « today » for overdue deadlines is the desk's (its clock gave `now`), not the machine's
        self._today = today_ or (now.astimezone(desk_tz()).date() if now is not None else today())
        self.header.show_view(view)
        codes = [r.regie.code for r in view.regies]
        count = len(view.regies)
        self.tabs.blockSignals(True)
        try:
            # Pages are positional and reused: the régie list is the same for every family.
            while len(self._pages) < count:
                self._new_page()
            while self.tabs.count() > count:
                self.tabs.removeTab(self.tabs.count() - 1)
            for i in range(self.tabs.count(), count):
                self.tabs.addTab(self._pages[i], "")
            for i, regie_invoices in enumerate(view.regies):
                self._pages[i].set_regie_invoices(regie_invoices, self._today)
                self._label_tab(i, regie_invoices)
        finally:
            self.tabs.blockSignals(False)
        self.no_regie.setVisible(not view.regies)
        self.tabs.setVisible(bool(view.regies))
        if previous_code is not None and previous_code in codes:
            index = codes.index(previous_code)
        else:
            index = next((i for i, r in enumerate(view.regies) if r.due > 0), 0)
        self.tabs.setCurrentIndex(index)
        self.stack.setCurrentWidget(self.content)
        self._tab_changed(self.tabs.currentIndex())

    @property
    def pages(self) -> dict[int, RegiePage]:
        """The pages of the shown family, by régie code."""
        if self.view is None:
            return {}
        return {r.regie.code: self._pages[i] for i, r in enumerate(self.view.regies)}

    def _new_page(self) -> RegiePage:
        page = RegiePage()
        page.invoice_changed.connect(lambda inv, p=page: self._page_invoice_changed(p, inv))
        page.invoice_activated.connect(self.invoice_activated)
        self._pages.append(page)
        return page

    def warm_up(self, count: int = WARM_PAGES) -> None:
        """Build the régie pages ahead, one per event-loop turn, while no family is shown:
        creating nine pages at once when the first family opens would freeze the window."""
        self._warm_target = count
        QTimer.singleShot(0, self, self._warm_step)

    @property
    def warming_up(self) -> bool:
        """Pages are still being built ahead (warm_up)."""
        return self.view is None and len(self._pages) < self._warm_target

    def _warm_step(self) -> None:
        if not self.warming_up:
            if self._warm_target:
                self._warm_target = 0
                self.warmed_up.emit()
            return
        if not self._pages:
            self.content.ensurePolished()  # the header and the detail, styled once, ahead
        page = self._new_page()
        page.ensurePolished()
        self.tabs.blockSignals(True)
        self.tabs.addTab(page, "")
        self.tabs.blockSignals(False)
        QTimer.singleShot(0, self, self._warm_step)

    def _label_tab(self, i: int, regie_invoices: RegieInvoices) -> None:
        regie, due = regie_invoices.regie, regie_invoices.due
        never_read = regie_invoices.freshness.from_cache and regie_invoices.freshness.fetched_at is None
        amount = "non lue" if never_read else euros(due)
        self.tabs.setTabText(i, f"{regie.label}\n{amount}")
        shortcut = f" (Ctrl+{i + 1})" if i < 9 else ""
        if never_read:
            tip = f"{regie.label} : factures jamais lues (Maelis ne répond pas){shortcut}"
        elif due > 0:
            tip = f"{regie.label} : {euros(due)} à payer{shortcut}"
        else:
            tip = f"{regie.label} : rien à payer{shortcut}"
        self.tabs.setTabToolTip(i, tip)
        calm = due <= 0
        self.tabs.tabBar().setTabTextColor(i, CALM if calm else self.palette().color(QPalette.ColorRole.WindowText))

    # -- navigation ---------------------------------------------------------------------

    def current_page(self) -> RegiePage | None:
        page = self.tabs.currentWidget()
        return page if isinstance(page, RegiePage) else None

    def current_regie_code(self) -> int | None:
        page = self.current_page()
        return page.regie_invoices.regie.code if page and page.regie_invoices else None

    def current_invoice(self) -> Invoice | None:
        page = self.current_page()
        return page.current_invoice() if page else None

    def select_regie(self, index: int, *, focus: bool = True) -> bool:
        if self.view is None or not 0 <= index < self.tabs.count():
            return False
        self.tabs.setCurrentIndex(index)
        if focus:
            self.focus_tables()
        return True

    def step_regie(self, step: int) -> None:
        if self.view is not None and self.tabs.count():
            self.select_regie((self.tabs.currentIndex() + step) % self.tabs.count())

    def focus_tables(self) -> None:
        """The cursor in the régie's invoices; in a régie without any, on the régie tabs
        (visible, and the arrows go to another régie) rather than on a hidden table."""
        page = self.current_page()
        if page is not None and self.stack.currentWidget() is self.content and not page.focus_tables():
            self.tabs.tabBar().setFocus(Qt.FocusReason.OtherFocusReason)

    def focus_detail(self) -> None:
        invoice = self.current_invoice()
        if invoice is not None:
            self.detail.show_invoice(invoice, self._today)
            self.detail.focus_lines()

    def _tab_changed(self, _index: int) -> None:
        page = self.current_page()
        self._page_invoice_changed(page, page.current_invoice() if page else None)

    def _page_invoice_changed(self, page: RegiePage | None, invoice: Invoice | None) -> None:
        if page is not self.current_page():
            return
        self.detail.show_invoice(invoice, self._today)
        self.invoice_changed.emit(invoice)
