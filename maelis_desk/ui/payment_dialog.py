"""The payment dialog: take money at the counter for invoices of one régie.

Three steps in one dialog, all by keyboard:

1. the form: the régie's invoices to pay (checked ones are paid, in deadline
   order: Maelis applies the amount in that order), the amount (their total
   remaining by default, lower for a partial payment, French decimals), the
   mode (only those the régie accepts) and its fields (cash given and change,
   cheque number/bank/drawer, card or transfer reference); the rules of
   services/payments.py are checked as the cashier types, with their
   French message;
2. the confirmation: family, régie, invoices, amount and mode in words;
   Enter validates;
3. recorded: the receipt number, the change to give back, and the receipt
   to print (the payment is already safe in the database; it goes to Maelis
   in the background).

Opened with `open()`; it never calls Maelis itself, and records through the
worker pool (a database write).
"""

from __future__ import annotations

from decimal import Decimal

import shiboken6
from PySide6.QtCore import QItemSelectionModel, QModelIndex, Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut, QStandardItem, QStandardItemModel
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QStackedWidget,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from ..domain import ZERO, Family, Freshness, Invoice, Regie
from ..formatting import AmountError, age_fr, euros, fr_date, fr_datetime, html_text, parse_amount
from ..services import Desk
from ..services.modes import printed_details
from ..services.payments import (
    MODE_LABELS,
    Mode,
    PaymentRefused,
    PaymentRequest,
    allocate,
    check_details,
    remaining_after,
    validate,
)
from . import worker
from .theme import ERROR_STYLE, Colours

NUMBER_ROLE = Qt.ItemDataRole.UserRole + 1
LABEL_WIDTH = 230

# The dialog's keys: its buttons are built from BUTTONS and its shortcut from PRINT_KEY, and the
# main window's F1 list is made from key_help(): one list, so that F1 cannot drift from the dialog.
PRINT_KEY = QKeySequence.StandardKey.Print
BUTTONS = {
    "next": ("&Valider…", "vérifier le paiement et passer à la confirmation"),
    "back": ("← &Modifier", "à la confirmation : revenir au formulaire"),
    "confirm": ("&Encaisser", "à la confirmation : enregistrer le paiement"),
    "view": ("&Voir la quittance", "paiement enregistré : afficher la quittance"),
    "print": ("&Imprimer la quittance…", "paiement enregistré : imprimer la quittance"),
    "close": ("&Fermer", "paiement enregistré : fermer"),
}
KEYS = (
    ("Espace", "cocher ou décocher la facture (tableau des factures)"),
    ("Entrée", "« Valider… », puis « Encaisser », puis « Fermer »"),
    ("Échap", "annuler (rien n'est enregistré avant « Encaisser »)"),
    ("Alt+lettre soulignée", "aller au champ (Montant, Mode de paiement…)"),
)


def key_help() -> list[tuple[list[QKeySequence] | str, str]]:
    """The payment dialog's keys for F1: (keys, what they do); keys are QKeySequences or a text."""
    rows: list[tuple[list[QKeySequence] | str, str]] = [(k, v) for k, v in KEYS]
    rows.append((QKeySequence.keyBindings(PRINT_KEY), "paiement enregistré : la quittance et l'impression"))
    for text, what in BUTTONS.values():
        rows.append(([QKeySequence.mnemonic(text)], f"« {text.replace('&', '')} » : {what}"))
    return rows


def _button(name: str, *, suffix: str = "") -> QPushButton:
    text, what = BUTTONS[name]
    button = QPushButton(text + suffix)
    button.setToolTip(what[0].upper() + what[1:])
    return button




class InvoiceChoice(QTableView):
    """The régie's invoices to pay, each with a check box. Space toggles."""

    changed = Signal()

    def __init__(self, invoices: list[Invoice], chosen: set[int], parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("paymentInvoices")
        self.invoices = sorted(invoices, key=lambda i: (i.deadline, i.date, i.number))
        self.model_ = QStandardItemModel(0, 5, self)
        self.model_.setHorizontalHeaderLabels(["Payer", "N°", "Libellé", "Échéance", "Reste à payer"])
        for inv in self.invoices:
            check = QStandardItem()
            check.setCheckable(True)
            check.setEditable(False)
            check.setCheckState(Qt.CheckState.Checked if inv.number in chosen else Qt.CheckState.Unchecked)
            check.setData(inv.number, NUMBER_ROLE)
            check.setToolTip("Espace : cocher ou décocher")
            cells = [check]
            for text, align in ((inv.id, None), (inv.label, None), (fr_date(inv.deadline), None),
                                (euros(inv.remaining), Qt.AlignmentFlag.AlignRight)):
                item = QStandardItem(text)
                item.setEditable(False)
                if align is not None:
                    item.setTextAlignment(align | Qt.AlignmentFlag.AlignVCenter)
                cells.append(item)
            self.model_.appendRow(cells)
        self.setModel(self.model_)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.verticalHeader().hide()
        self.setAlternatingRowColors(True)
        header = self.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        self.setTabKeyNavigation(False)
        self.model_.itemChanged.connect(lambda _item: self.changed.emit())
        rows = max(min(len(self.invoices), 8), 2)
        height = self.horizontalHeader().sizeHint().height() + self.verticalHeader().defaultSectionSize() * rows
        self.setMinimumHeight(height + 2 * self.frameWidth())
        self.setMaximumHeight(height + 2 * self.frameWidth() + 2)
        if self.invoices:
            self.selectionModel().setCurrentIndex(
                self.model_.index(0, 0),
                QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows,
            )

    def keyPressEvent(self, event) -> None:
        if event.key() == Qt.Key.Key_Space:
            self.toggle(self.currentIndex())
            return
        super().keyPressEvent(event)

    def toggle(self, index: QModelIndex) -> None:
        if not index.isValid():
            return
        item = self.model_.item(index.row(), 0)
        item.setCheckState(
            Qt.CheckState.Unchecked if item.checkState() == Qt.CheckState.Checked else Qt.CheckState.Checked
        )

    def chosen(self) -> list[Invoice]:
        """The checked invoices, in the order the amount is applied."""
        return [
            inv for row, inv in enumerate(self.invoices)
            if self.model_.item(row, 0).checkState() == Qt.CheckState.Checked
        ]


class PaymentDialog(QDialog):
    """Records one payment; emits `recorded(PaymentRecord)` once it is in the database."""

    recorded = Signal(object)

    FORM, CONFIRM, DONE = range(3)

    def __init__(self, desk: Desk, family: Family, regie: Regie, invoices: list[Invoice],
                 chosen: list[int] | None = None, parent: QWidget | None = None, *, pool=None,
                 freshness: Freshness | None = None, offline: bool = False):
        super().__init__(parent)
        self.setObjectName("paymentDialog")
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.setWindowTitle(f"Encaisser — {regie.label} — famille n° {family.number}")
        self.desk = desk
        self.family = family
        self.regie = regie
        self.pool = pool or worker.disk_pool()
        self.record = None
        self._remaining_after = ZERO  # what the chosen invoices will still owe after the payment
        self._error_field: str | None = None  # the field the last refusal is about
        self.freshness = freshness  # where the balances shown come from (the régie's list)
        self.offline = offline  # offline mode, or Maelis does not answer: the payment will wait
        self._receipt = None  # the receipt viewer, once opened
        self._amount_edited = False
        self._task = worker.Latest()
        self.modes = desk.payments.modes_for(regie.code, regie.label)
        payable = [i for i in invoices if i.to_pay_at_regie]
        first = chosen if chosen else ([payable[0].number] if payable else [])

        self.stack = QStackedWidget()
        self.stack.addWidget(self._build_form(payable, set(first)))
        self.stack.addWidget(self._build_confirm())
        self.stack.addWidget(self._build_done())
        layout = QVBoxLayout(self)
        layout.addWidget(self.stack)
        self.resize(760, 560)
        self._invoices_changed()
        self.table.setFocus()

    # -- step 1: the form ----------------------------------------------------------------

    def _build_form(self, payable: list[Invoice], chosen: set[int]) -> QWidget:
        page = QWidget()
        layout = QVBoxLayout(page)
        head = QLabel(
            f"<b>Famille n° {self.family.number}</b> — {html_text(self.family.guardian_names)}<br>"
            f"Régie <b>{html_text(self.regie.label)}</b> (n° {self.regie.code}) : un paiement ne couvre "
            "qu'une régie."
        )
        head.setWordWrap(True)
        layout.addWidget(head)
        self.cache_note = QLabel(self._cache_text())
        self.cache_note.setObjectName("paymentCacheNote")
        self.cache_note.setWordWrap(True)
        self.cache_note.setStyleSheet(f"background: {Colours.NOTE_BACKGROUND}; color: {Colours.NOTE_TEXT}; padding: 4px;")
        self.cache_note.setVisible(bool(self.cache_note.text()))
        layout.addWidget(self.cache_note)

        label = QLabel("&Factures à payer (Espace pour cocher ; le montant s'impute dans cet ordre) :")
        self.table = InvoiceChoice(payable, chosen)
        label.setBuddy(self.table)
        self.table.changed.connect(self._invoices_changed)
        layout.addWidget(label)
        layout.addWidget(self.table)

        form = QFormLayout()
        self.total_label = QLabel()
        self.total_label.setObjectName("paymentTotal")
        form.addRow("Reste à payer (factures cochées) :", self.total_label)
        self.amount = QLineEdit()
        self.amount.setObjectName("paymentAmount")
        self.amount.setPlaceholderText("ex. 12,50")
        self.amount.setAlignment(Qt.AlignmentFlag.AlignRight)
        self.amount.setMaximumWidth(160)
        self.amount.textEdited.connect(self._amount_typed)
        form.addRow("&Montant encaissé (€) :", self.amount)
        self.mode = QComboBox()
        self.mode.setObjectName("paymentMode")
        for mode in self.modes:
            self.mode.addItem(mode.spec.label, mode)
        refused = [m.spec.label for m in Mode if m not in self.modes]
        self.mode.setToolTip(
            "Modes acceptés par l'acte constitutif de la régie"
            + (f" (refusés ici : {', '.join(refused)})" if refused else "")
        )
        self.mode.currentIndexChanged.connect(self._mode_changed)
        form.addRow("Mode de &paiement :", self.mode)
        layout.addLayout(form)

        self.fields = QStackedWidget()
        self.fields.setObjectName("modeFields")
        self.field_edits: dict[str, QLineEdit] = {}
        self.field_pages: dict[Mode, int] = {}
        self.change_label = QLabel()
        self.change_label.setObjectName("changeLabel")
        for mode in self.modes:  # each mode's own fields, from its entry in services/modes.py
            spec = mode.spec
            page_widget = QWidget()
            page_form = QFormLayout(page_widget)
            page_form.setContentsMargins(0, 0, 0, 0)
            for detail in spec.fields:
                edit = QLineEdit()
                edit.setObjectName(f"field_{mode.value}_{detail.key}")
                edit.setPlaceholderText(detail.hint)
                edit.textEdited.connect(self._check)
                page_form.addRow(detail.label, edit)
                self.field_edits[f"{mode.value}.{detail.key}"] = edit
            if spec.gives_change:
                page_form.addRow("Monnaie à rendre :", self.change_label)
            self.field_pages[mode] = self.fields.addWidget(page_widget)
        layout.addWidget(self.fields)
        # One column of labels for the common fields and the mode's own fields.
        for form_layout in [form] + [self.fields.widget(i).layout() for i in range(self.fields.count())]:
            for row in range(form_layout.rowCount()):
                item = form_layout.itemAt(row, QFormLayout.ItemRole.LabelRole)
                if item is not None and item.widget() is not None:
                    item.widget().setMinimumWidth(LABEL_WIDTH)

        self.error = QLabel()
        self.error.setObjectName("paymentError")
        self.error.setWordWrap(True)
        self.error.setStyleSheet(ERROR_STYLE)
        layout.addWidget(self.error)
        layout.addStretch(1)

        buttons = QHBoxLayout()
        buttons.addStretch(1)
        self.cancel_button = QPushButton("Annuler")
        self.cancel_button.setAutoDefault(False)
        self.cancel_button.clicked.connect(self.reject)
        self.next_button = _button("next")
        self.next_button.setObjectName("paymentNext")
        self.next_button.setDefault(True)
        self.next_button.setToolTip("Entrée : vérifier et passer à la confirmation")
        self.next_button.clicked.connect(self.to_confirm)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.next_button)
        layout.addLayout(buttons)
        self._mode_changed()
        return page

    def _mode_changed(self) -> None:
        mode = self.current_mode()
        if mode is not None:
            self.fields.setCurrentIndex(self.field_pages[mode])
        if hasattr(self, "table"):
            self._check()

    def current_mode(self) -> Mode | None:
        data = self.mode.currentData()
        return None if data is None else Mode(data)

    def _amount_typed(self) -> None:
        self._amount_edited = True
        self._check()

    def _invoices_changed(self) -> None:
        total = sum((i.remaining for i in self.table.chosen()), ZERO)
        self.total_label.setText(f"<b>{euros(total)}</b>")
        if not self._amount_edited:
            self.amount.setText(f"{total:.2f}".replace(".", ",") if total else "")
        self._check()

    def _details(self, mode: Mode) -> dict:
        """The mode's fields as typed (a sum handed over read in French decimals); empty ones left out."""
        details = {}
        for detail in mode.spec.fields:
            text = self.field_edits[f"{mode.value}.{detail.key}"].text().strip()
            if text:
                details[detail.key] = detail.typed(text)
        return details

    def request(self) -> PaymentRequest:
        """The request as typed; raises PaymentRefused/AmountError with a French message."""
        mode = self.current_mode()
        if mode is None:
            raise PaymentRefused("Cette régie n'a aucun mode de paiement configuré.", "mode")
        amount = parse_amount(self.amount.text())
        details = self._details(mode)
        chosen = self.table.chosen()
        request = PaymentRequest(self.family.number, self.regie.code, [i.number for i in chosen], amount, mode,
                                 details)
        validate(request, chosen, self.modes)  # the same rules as the recording
        return request

    def _check(self) -> bool:
        try:
            request = self.request()
        except (PaymentRefused, AmountError) as exc:
            self.error.setText(str(exc))
            self.next_button.setEnabled(True)  # Enter shows the message; the rules still hold
            self.change_label.setText("—")
            self._error_field = getattr(exc, "field", None) or "amount"  # an AmountError is the amount's
            return False
        self.error.setText("")
        self._error_field = None
        clean = check_details(request.mode, request.amount, request.details)
        if "change" in clean:
            self.change_label.setText(f"<b>{euros(Decimal(clean['change']))}</b>")
        else:
            self.change_label.setText("—")
        return True

    # -- step 2: the confirmation ---------------------------------------------------------

    def _build_confirm(self) -> QWidget:
        page = QWidget()
        layout = QVBoxLayout(page)
        title = QLabel("<h2>Confirmer l'encaissement</h2>")
        layout.addWidget(title)
        self.summary = QLabel()
        self.summary.setObjectName("paymentSummary")
        self.summary.setWordWrap(True)
        self.summary.setTextFormat(Qt.TextFormat.RichText)
        frame = QFrame()
        frame.setFrameShape(QFrame.Shape.StyledPanel)
        frame_layout = QVBoxLayout(frame)
        frame_layout.addWidget(self.summary)
        layout.addWidget(frame)
        self.confirm_error = QLabel()
        self.confirm_error.setObjectName("confirmError")
        self.confirm_error.setWordWrap(True)
        self.confirm_error.setStyleSheet(ERROR_STYLE)
        layout.addWidget(self.confirm_error)
        layout.addStretch(1)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        self.back_button = _button("back")
        self.back_button.setAutoDefault(False)
        self.back_button.clicked.connect(self.to_form)
        self.confirm_button = _button("confirm")
        self.confirm_button.setObjectName("paymentConfirm")
        self.confirm_button.setDefault(True)
        self.confirm_button.setToolTip("Entrée : enregistrer le paiement")
        self.confirm_button.clicked.connect(self.confirm)
        buttons.addWidget(self.back_button)
        buttons.addWidget(self.confirm_button)
        layout.addLayout(buttons)
        return page

    def to_confirm(self) -> None:
        if not self._check():
            self.stack.setCurrentIndex(self.FORM)
            self.field_in_error().setFocus()
            return
        request = self.request()
        chosen = {i.number: i for i in self.table.chosen()}
        invoices = [chosen[n] for n in request.invoices]
        self._remaining_after = remaining_after(invoices, request.amount)
        partial = self._remaining_after > 0
        lines = "".join(
            f"<li>{html_text(inv.id)} — {html_text(inv.label)} — reste {euros(inv.remaining)}"
            + (f" ; après ce paiement : <b>{euros(inv.remaining - share)}</b>" if partial else "") + "</li>"
            for inv, share in allocate(invoices, request.amount)
        )
        owed = (f"<p style='font-size:12pt'><b>Paiement partiel : il restera {euros(self._remaining_after)} "
                "à payer</b> sur ces factures.</p>" if partial else "<p>Les factures cochées seront soldées.</p>")
        details = check_details(request.mode, request.amount, request.details)
        extra = ""
        if "change" in details:
            extra = (f"<p>Somme remise : {euros(Decimal(details['cash_given']))} — "
                     f"<b>monnaie à rendre : {euros(Decimal(details['change']))}</b></p>")
        else:  # each detail typed, named by the table of modes: the cashier checks them before it is final
            shown = [f"{html_text(name)} : <b>{html_text(str(value))}</b>"
                     for name, value, money in printed_details(request.mode.value, details) if not money]
            extra = f"<p>{' — '.join(shown)}</p>" if shown else ""
        self.summary.setText(
            f"<p style='font-size:14pt'>Encaisser <b>{euros(request.amount)}</b> "
            f"par <b>{MODE_LABELS[request.mode].lower() if request.mode is not Mode.CESU else 'CESU'}</b></p>"
            f"<p>Famille n° {self.family.number} — {html_text(self.family.guardian_names)}<br>"
            f"Régie {html_text(self.regie.label)}</p>"
            f"<p>Factures :</p><ul>{lines}</ul>{owed}{extra}"
        )
        self.confirm_error.setText("")
        self.confirm_button.setEnabled(True)
        self.stack.setCurrentIndex(self.CONFIRM)
        self.confirm_button.setFocus()

    def field_in_error(self) -> QWidget:
        """The widget to fix after a refusal: the cashier's next keys go there."""
        field = self._error_field or "amount"
        mode = self.current_mode()
        edit = self.field_edits.get(f"{mode.value}.{field}") if mode is not None else None
        if edit is not None:
            return edit
        return {"mode": self.mode, "invoices": self.table}.get(field, self.amount)

    def to_form(self) -> None:
        self.stack.setCurrentIndex(self.FORM)
        self.amount.setFocus()

    def confirm(self) -> None:
        try:
            request = self.request()
        except (PaymentRefused, AmountError) as exc:
            self.confirm_error.setText(str(exc))
            return
        self.confirm_button.setEnabled(False)
        self.back_button.setEnabled(False)
        self.confirm_error.setText("Enregistrement…")
        service = self.desk.payments
        self._task.run(self, lambda: service.record(request), self._recorded, self._refused,
                       pool=self.pool, label="Enregistrement du paiement…")

    def _refused(self, exc: BaseException) -> None:
        self.back_button.setEnabled(True)
        self.confirm_button.setEnabled(not isinstance(exc, PaymentRefused))
        prefix = "Paiement refusé : " if isinstance(exc, PaymentRefused) else "Paiement non enregistré : "
        self.confirm_error.setText(prefix + worker.error_text(exc))
        self.back_button.setFocus()

    # -- step 3: recorded -----------------------------------------------------------------

    def _build_done(self) -> QWidget:
        page = QWidget()
        layout = QVBoxLayout(page)
        self.done_label = QLabel()
        self.done_label.setObjectName("paymentDone")
        self.done_label.setWordWrap(True)
        self.done_label.setTextFormat(Qt.TextFormat.RichText)
        layout.addWidget(self.done_label)
        layout.addStretch(1)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        print_keys = QKeySequence(PRINT_KEY).toString(QKeySequence.SequenceFormat.PortableText)
        self.print_button = _button("print", suffix=f" ({print_keys})")
        self.print_button.setObjectName("printReceipt")
        self.print_button.setToolTip("Ctrl+P : la quittance s'affiche et la fenêtre d'impression s'ouvre")
        self.print_button.setAutoDefault(False)
        self.print_button.clicked.connect(self.print_receipt)
        self.view_button = _button("view")
        self.view_button.setObjectName("viewReceipt")
        self.view_button.setAutoDefault(False)
        self.view_button.clicked.connect(self.show_receipt)
        self.close_button = _button("close")
        self.close_button.setDefault(True)
        self.close_button.clicked.connect(self.accept)
        buttons.addWidget(self.view_button)
        buttons.addWidget(self.print_button)
        buttons.addWidget(self.close_button)
        layout.addLayout(buttons)
        self.print_shortcut = QShortcut(PRINT_KEY, page)
        self.print_shortcut.activated.connect(self.print_receipt)
        return page

    def _recorded(self, record) -> None:
        self.record = record
        change = record.details.get("change")
        change_text = (f"<p style='font-size:16pt'>Monnaie à rendre : <b>{euros(Decimal(change))}</b></p>"
                       if change else "")
        self.done_label.setText(
            f"<h2>Paiement enregistré</h2>"
            f"<p style='font-size:14pt'>Quittance n° <b>{record.receipt}</b> — {euros(record.amount)} "
            f"({html_text(MODE_LABELS[Mode(record.mode)])})</p>{change_text}{self._owed_text()}"
            f"<p>Le paiement est en sécurité dans la base du poste. {self._after_text()} ; "
            "les factures apparaissent « payées, transmission en attente » jusqu'à sa confirmation.</p>"
        )
        self.stack.setCurrentIndex(self.DONE)
        self.close_button.setFocus()
        self.recorded.emit(record)

    def _owed_text(self) -> str:
        after = self._remaining_after
        if after <= 0:
            return "<p>Les factures réglées sont soldées.</p>"
        return (f"<p style='font-size:14pt'>Paiement partiel : <b>il reste {euros(after)} à payer</b> "
                "sur les factures cochées.</p>")

    def _cache_text(self) -> str:
        f = self.freshness
        if f is None or not f.from_cache:
            return ""
        if f.fetched_at is None:
            return "Soldes inconnus de Maelis : cette régie n'a jamais été lue."
        return (f"Soldes du cache, lus dans Maelis {age_fr(f.fetched_at, self.desk.clock())} "
                f"(le {fr_datetime(f.fetched_at)}) : Maelis n'a pas été relu, un paiement fait ailleurs "
                "depuis n'y figure pas.")

    def _after_text(self) -> str:
        if not self.offline:
            return "Il est transmis à Maelis en arrière-plan"
        if self.desk.settings.offline:
            return "Le poste est en mode hors ligne : il sera transmis à Maelis au retour en ligne"
        return "Maelis ne répond pas : il lui sera transmis dès qu'il répondra à nouveau"

    def print_receipt(self):
        """One key (Ctrl+P) prints: the receipt viewer opens with the print dialog over it."""
        return self.show_receipt(print_now=True)

    def show_receipt(self, *, print_now: bool = False):
        """The receipt in the PDF viewer (print, save as), on top of this dialog and focused.

        The viewer is this dialog's child: a child of the window-modal payment dialog is
        not blocked by it (the main window's child was, and opened behind it)."""
        if self.record is None:
            return None
        from .pdf_dialog import receipt_dialog

        viewer = self._receipt
        if viewer is not None and shiboken6.isValid(viewer) and viewer.isVisible():
            viewer.raise_()  # already open: brought back above
            if print_now:
                viewer.print_()
        else:
            viewer = receipt_dialog(self.desk, self.record, self, print_when_loaded=print_now)
            self._receipt = viewer
            viewer.show()  # a new window opens on top
        viewer.activateWindow()
        return viewer

    def done(self, result: int) -> None:
        # A receipt still open outlives this dialog: handed to the main window, still shown.
        viewer, owner = self._receipt, self.parentWidget()
        if viewer is not None and shiboken6.isValid(viewer) and viewer.isVisible() and owner is not None:
            viewer.setParent(owner, viewer.windowFlags())
            viewer.show()
        super().done(result)
