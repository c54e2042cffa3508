"""The « Contrôle » menu (issue 11, points 3 and 4, the window side): cancelling a
payment, the list « À régulariser dans Maelis », the journal and its state.

What may be done is asked of the services (services/cancellations.py,
services/journal.py): the dialogs only disable what they would refuse and say
why, in French. Every database call runs in the disk pool (worker.run_in_background).
The journal's state shows in the status bar for whoever may read the journal,
checked at start, after each money event (`ControlActions.check_journal`, called
by the window's payments_changed) and when the operator changes.
"""

from __future__ import annotations

from datetime import datetime, time

import shiboken6
from PySide6.QtCore import QDate, QObject, Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QDateEdit,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMenu,
    QMessageBox,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from ..domain import Action
from ..formatting import desk_tz, euros, fr_datetime, html_text
from ..services.cancellations import Reason
from ..services.errors import DeskError
from ..services.journal import describe
from ..services.modes import mode_label
from . import worker
from .models import LEFT, RIGHT, RowsTableModel
from .theme import Colours

CANCEL_KEYS = ["Ctrl+Shift+A"]
JOURNAL_KEYS = ["Ctrl+Shift+J"]
REGULARIZE_TITLE = "À régulariser dans Maelis"
RED = Colours.ERROR
GREEN = Colours.OK


def _message(exc: BaseException) -> str:
    return exc.message if isinstance(exc, DeskError) else f"Erreur inattendue : {exc}"


def _table(name: str, model, *, stretch: int | None = None) -> QTableView:
    """Columns fitted to their contents; `stretch`: the one column (a free text) that takes
    what is left and is elided, so that the columns after it are never cut."""
    table = QTableView()
    table.setObjectName(name)
    table.setModel(model)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.verticalHeader().hide()
    header = table.horizontalHeader()
    header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    if stretch is None:
        header.setStretchLastSection(True)
    else:
        header.setSectionResizeMode(stretch, QHeaderView.ResizeMode.Stretch)
        table.setTextElideMode(Qt.TextElideMode.ElideRight)
        table.setWordWrap(False)
    return table


# -- cancelling a payment -----------------------------------------------------------------------


class CancelDialog(QDialog):
    """« Annuler un paiement » : the payment (receipt, family, amount, mode, state), a reason
    from the list, a comment (required for « Autre »), a confirmation. Non-modal (show()).
    `cancelled(Cancelled)` once done: the window's views follow."""

    cancelled = Signal(object)

    def __init__(self, desk, parent: QWidget | None = None, receipt: str = ""):
        super().__init__(parent)
        self.setObjectName("cancelDialog")
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.setWindowTitle("Annuler un paiement")
        self.resize(620, 520)
        self.desk = desk
        self.candidate = None
        self.done_item = None
        self.confirm_box: QMessageBox | None = None
        self._load = worker.Latest()
        self._cancel = worker.Latest()

        self.receipt_edit = QLineEdit(receipt)
        self.receipt_edit.setObjectName("cancelReceipt")
        self.receipt_edit.setPlaceholderText("n° de quittance, puis Entrée")
        self.receipt_edit.returnPressed.connect(self.load)
        self.find_button = QPushButton("&Chercher")
        self.find_button.setAutoDefault(False)
        self.find_button.clicked.connect(self.load)
        row = QHBoxLayout()
        row.addWidget(self.receipt_edit, 1)
        row.addWidget(self.find_button)
        receipt_label = QLabel("&Quittance n° :")
        receipt_label.setBuddy(self.receipt_edit)

        self.payment_label = QLabel("Saisissez le numéro de la quittance du paiement à annuler.")
        self.payment_label.setObjectName("cancelPayment")
        self.payment_label.setTextFormat(Qt.TextFormat.RichText)
        self.payment_label.setWordWrap(True)
        self.payment_label.setFrameShape(QLabel.Shape.StyledPanel)
        self.payment_label.setMargin(8)

        self.reasons = QListWidget()
        self.reasons.setObjectName("cancelReasons")
        for reason in Reason:
            item = QListWidgetItem(reason.label_fr)
            item.setData(Qt.ItemDataRole.UserRole, reason.value)
            self.reasons.addItem(item)
        self.reasons.setCurrentRow(0)
        self.reasons.setMaximumHeight(self.reasons.sizeHintForRow(0) * 4 + 8)
        self.reasons.currentRowChanged.connect(lambda _row: self._apply())
        reasons_label = QLabel("&Motif (flèches) :")
        reasons_label.setBuddy(self.reasons)
        self.comment = QLineEdit()
        self.comment.setObjectName("cancelComment")
        self.comment.textChanged.connect(lambda _text: self._apply())
        comment_label = QLabel("C&ommentaire :")
        comment_label.setBuddy(self.comment)

        self.message = QLabel("")
        self.message.setObjectName("cancelMessage")
        self.message.setWordWrap(True)
        self.message.setTextFormat(Qt.TextFormat.RichText)

        self.cancel_button = QPushButton("&Annuler ce paiement…")
        self.cancel_button.setObjectName("cancelButton")
        self.cancel_button.clicked.connect(self.ask_confirmation)
        self.reprint_button = QPushButton("&Réimprimer la quittance (ANNULÉ)…")
        self.reprint_button.setObjectName("cancelReprint")
        self.reprint_button.clicked.connect(self.reprint)
        self.reprint_button.setAutoDefault(False)
        close = QPushButton("&Fermer")
        close.setAutoDefault(False)
        close.clicked.connect(self.reject)

        form = QFormLayout()
        form.addRow(receipt_label, row)
        form.addRow(QLabel("Paiement :"), self.payment_label)
        form.addRow(reasons_label, self.reasons)
        form.addRow(comment_label, self.comment)
        buttons = QHBoxLayout()
        buttons.addWidget(self.reprint_button)
        buttons.addStretch(1)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(close)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.message, 1)
        layout.addLayout(buttons)
        self._apply()
        if receipt:
            self.load()

    # -- the payment ----------------------------------------------------------------------

    def load(self) -> None:
        receipt = self.receipt_edit.text().strip()
        if not receipt:
            self._say("Saisissez le numéro de la quittance.", RED)
            return
        service = self.desk.cancellations
        self.candidate = None
        self._say("Recherche du paiement…")
        self._load.run(self, lambda: service.preview(receipt), self._loaded, self._not_found,
                       pool=worker.disk_pool(), label="")

    def _loaded(self, candidate) -> None:
        self.candidate = candidate
        p = candidate.payment
        self.payment_label.setText(
            f"Quittance <b>{html_text(p.receipt)}</b> du {fr_datetime(p.created_at)} — famille <b>{p.family}</b>, "
            f"{html_text(p.regie_label)}<br><b>{euros(p.amount)}</b> en {html_text(mode_label(p.mode))} — "
            f"état : <b>{html_text(p.state.label_fr)}</b> — pris par {html_text(p.operator or '')}")
        if candidate.cancelled is not None:
            self.done_item = candidate.cancelled
            self._say(f"{html_text(candidate.refusal)}<br>{html_text(candidate.cancelled.status_label)}.", RED)
        elif candidate.refusal:
            self._say(f"Annulation impossible : {html_text(candidate.refusal)}", RED)
        else:
            self._say("")
            self.reasons.setFocus()
        self._apply()

    def _not_found(self, exc: BaseException) -> None:
        self.candidate = None
        self.payment_label.setText("—")
        self._say(html_text(_message(exc)), RED)
        self.receipt_edit.setFocus()
        self.receipt_edit.selectAll()
        self._apply()

    # -- the state of the buttons ---------------------------------------------------------

    def reason(self) -> Reason:
        item = self.reasons.currentItem()
        return Reason(item.data(Qt.ItemDataRole.UserRole)) if item else Reason.ERREUR

    def why_not(self) -> str | None:
        """Why the button is disabled (None: it may be pressed)."""
        if self.candidate is None:
            return "Cherchez d'abord le paiement."
        if self.candidate.refusal:
            return self.candidate.refusal
        if self.reason() is Reason.AUTRE and not self.comment.text().strip():
            return "Motif « Autre » : dites pourquoi dans le commentaire."
        return None

    def _apply(self) -> None:
        why = self.why_not()
        self.cancel_button.setEnabled(why is None and not self._cancel.busy)
        self.cancel_button.setToolTip(why or "Annuler ce paiement (il n'est jamais supprimé)")
        self.cancel_button.setDefault(why is None)
        self.reprint_button.setVisible(self.done_item is not None)
        self.comment.setPlaceholderText("obligatoire pour « Autre »" if self.reason() is Reason.AUTRE
                                        else "facultatif")

    def _say(self, html: str, colour: str | None = None) -> None:
        self.message.setText(f"<span style='color:{colour}'>{html}</span>" if colour and html else html)

    # -- cancelling -----------------------------------------------------------------------

    def ask_confirmation(self) -> QMessageBox | None:
        why = self.why_not()
        if why is not None:
            self._say(html_text(why), RED)
            return None
        p = self.candidate.payment
        box = QMessageBox(QMessageBox.Icon.Warning, "Confirmer l'annulation",
                          f"Annuler le paiement de {euros(p.amount)} (quittance {p.receipt}, famille {p.family}) ?\n"
                          f"Motif : {self.reason().label_fr}.\n\nIl reste dans la base, marqué annulé ; "
                          "cela ne peut pas être défait.",
                          QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No, self)
        box.setObjectName("cancelConfirm")
        box.button(QMessageBox.StandardButton.Yes).setText("&Oui, annuler le paiement")
        box.button(QMessageBox.StandardButton.No).setText("&Non")
        box.setDefaultButton(QMessageBox.StandardButton.No)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.finished.connect(lambda result: self._confirmed(result == QMessageBox.StandardButton.Yes))
        self.confirm_box = box
        box.open()
        return box

    def _confirmed(self, yes: bool) -> None:
        self.confirm_box = None
        if not yes or not shiboken6.isValid(self):
            return
        receipt, reason, comment = self.candidate.payment.receipt, self.reason(), self.comment.text()
        service = self.desk.cancellations
        self._say("Annulation en cours…")
        self._cancel.run(self, lambda: service.cancel(receipt, reason, comment), self._done, self._refused,
                         pool=worker.disk_pool(), label="Annulation du paiement…", critical=True)
        self._apply()

    def _done(self, item) -> None:
        self.done_item = item
        self.candidate = None
        self._say(f"<b>Paiement {html_text(item.payment.receipt)} annulé</b> : {html_text(item.reason.label_fr)}."
                  f"<br>{html_text(item.status_label)}.<br>{html_text(item.what_to_do)}", GREEN)
        self._apply()
        self.reprint_button.setFocus()
        self.cancelled.emit(item)

    def _refused(self, exc: BaseException) -> None:
        self._say(f"Annulation refusée : {html_text(_message(exc))}", RED)
        self._apply()

    def reprint(self):
        if self.done_item is None:
            return None
        from .pdf_dialog import receipt_dialog

        dialog = receipt_dialog(self.desk, self.done_item.payment, self.parentWidget() or self, duplicate=True)
        dialog.show()
        return dialog


def open_cancel(parent: QWidget, desk, receipt: str = "") -> CancelDialog:
    """The cancel dialog; once a payment is cancelled, the main window's views follow
    (its payments_changed: family, status bar, outbox, the journal's state)."""
    dialog = CancelDialog(desk, parent, receipt)
    window = parent.window() if parent is not None else None
    follow = getattr(window, "payments_changed", None) or getattr(getattr(window, "parentWidget", lambda: None)(),
                                                                  "payments_changed", None)
    if follow is not None:
        dialog.cancelled.connect(lambda _item: follow())
    dialog.show()
    return dialog


# -- à régulariser dans Maelis ------------------------------------------------------------------


class RegularizeModel(RowsTableModel):
    HEADERS = ("Quittance", "Famille", "Régie", "Montant", "Payé le", "Annulé le", "Par", "Motif", "État")
    NUMERIC = (3,)
    MOTIVE = 7

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        item = self._cell(index)
        if item is None:
            return None
        p, c = item.payment, item.cancellation
        if role == Qt.ItemDataRole.DisplayRole:
            return [p.receipt, str(p.family), p.regie_label, euros(p.amount), fr_datetime(p.created_at),
                    fr_datetime(c.at), c.operator_name, item.motive,
                    item.status_label][index.column()]
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return RIGHT if index.column() in self.NUMERIC else LEFT
        if role == Qt.ItemDataRole.ToolTipRole:
            if index.column() == self.MOTIVE:  # elided when long: whole here
                return item.motive
            return item.what_to_do
        return None


class RegularizeDialog(QDialog):
    """Cancelled here, applied (or maybe) in Maelis: what to do there, and « Marquer
    comme régularisé » with a note (régisseur)."""

    regularized = Signal(object)

    def __init__(self, desk, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("regularizeDialog")
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.setWindowTitle(REGULARIZE_TITLE)
        self.resize(1200, 480)
        self.desk = desk
        self._load = worker.Latest()
        self._mark = worker.Latest()
        self.model = RegularizeModel(self)
        self.table = _table("regularizeTable", self.model, stretch=RegularizeModel.MOTIVE)
        self.summary = QLabel("Chargement…")
        self.summary.setObjectName("regularizeSummary")
        self.what = QLabel("")
        self.what.setObjectName("regularizeWhat")
        self.what.setWordWrap(True)
        self.what.setTextFormat(Qt.TextFormat.RichText)
        self.what.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.note = QLineEdit()
        self.note.setObjectName("regularizeNote")
        self.note.setPlaceholderText("ce qui a été fait dans Maelis (facultatif)")
        note_label = QLabel("&Note :")
        note_label.setBuddy(self.note)
        self.mark_button = QPushButton("&Marquer comme régularisé")
        self.mark_button.setObjectName("regularizeButton")
        self.mark_button.clicked.connect(self.mark)
        close = QPushButton("&Fermer")
        close.setAutoDefault(False)
        close.clicked.connect(self.reject)
        self.table.selectionModel().currentRowChanged.connect(lambda *_a: self._apply())
        self.note.returnPressed.connect(self.mark)

        bottom = QHBoxLayout()
        bottom.addWidget(note_label)
        bottom.addWidget(self.note, 1)
        bottom.addWidget(self.mark_button)
        bottom.addWidget(close)
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addWidget(self.table, 1)
        layout.addWidget(QLabel("Ce qu'il faut faire dans Maelis :"))
        layout.addWidget(self.what)
        layout.addLayout(bottom)
        self._apply()
        self.reload()

    def keyPressEvent(self, event) -> None:  # noqa: N802 - Qt's name
        """Entrée in the table goes to the note: the table passes the key on, and the dialog's
        default button would mark the row regularized at once, without the note."""
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and self.table.hasFocus():
            event.accept()
            self.note.setFocus()
            return
        super().keyPressEvent(event)

    def reload(self) -> None:
        service = self.desk.cancellations
        self._load.run(self, service.to_regularize, self._loaded, self._failed, pool=worker.disk_pool(), label="")

    def _loaded(self, items: list) -> None:
        self.model.set_rows(items)
        n = len(items)
        self.summary.setText("Aucun paiement annulé à régulariser dans Maelis." if not n else
                             f"{n} paiement{'s' if n > 1 else ''} annulé{'s' if n > 1 else ''} ici "
                             "à régulariser dans Maelis (qui n'a pas d'annulation)")
        if items:
            self.table.selectRow(0)
            self.table.setFocus()
        self._apply()

    def _failed(self, exc: BaseException) -> None:
        self.model.set_rows([])
        self.summary.setText(f"<span style='color:{RED}'>{html_text(_message(exc))}</span>")
        self._apply()

    def current_item(self):
        index = self.table.currentIndex()
        return self.model.row_object(index.row()) if index.isValid() else None

    def why_not(self) -> str | None:
        item = self.current_item()
        if item is None:
            return "Sélectionnez un paiement de la liste."
        operator = self.desk.operators.current_or_none
        if operator is None or not operator.can(Action.REGULARIZE):
            return "Seul un régisseur marque un paiement comme régularisé."
        if item.cancellation.status != "to_regularize":
            return "L'envoi de ce paiement à Maelis n'est pas encore réglé : attendez son issue."
        return None

    def _apply(self) -> None:
        item = self.current_item()
        self.what.setText(html_text(item.what_to_do) if item else "")
        why = self.why_not()
        self.mark_button.setEnabled(why is None and not self._mark.busy)
        self.mark_button.setToolTip(why or "Dire que ce paiement a été corrigé dans Maelis")
        self.note.setEnabled(why is None)

    def mark(self) -> None:
        item = self.current_item()
        if self.why_not() is not None or item is None:
            return
        service, receipt, note = self.desk.cancellations, item.payment.receipt, self.note.text()
        self._mark.run(self, lambda: service.regularize(receipt, note), self._marked, self._mark_refused,
                       pool=worker.disk_pool(), label="Régularisation…", critical=True)
        self._apply()

    def _marked(self, item) -> None:
        self.note.clear()
        self.summary.setText(f"Paiement {item.payment.receipt} : {item.status_label}.")
        self.regularized.emit(item)
        self.reload()

    def _mark_refused(self, exc: BaseException) -> None:
        self.summary.setText(f"<span style='color:{RED}'>Refusé : {html_text(_message(exc))}</span>")
        self._apply()


# -- the journal --------------------------------------------------------------------------------


class JournalModel(RowsTableModel):
    HEADERS = ("N°", "Date", "Opérateur", "Événement", "Quittance", "Montant", "Empreinte")
    NUMERIC = (0, 5)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.broken: dict[int, str] = {}  # seq → why it does not hold

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        e = self._cell(index)
        if e is None:
            return None
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return [str(e.seq), fr_datetime(e.at), e.operator or "", describe(e), e.receipt or "",
                    "" if e.amount_cents is None else euros(e.amount_cents / 100), e.hash[:12]][column]
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return RIGHT if column in self.NUMERIC else LEFT
        if role == Qt.ItemDataRole.ForegroundRole and e.seq in self.broken:
            return QColor(RED)
        if role == Qt.ItemDataRole.ToolTipRole:
            return self.broken.get(e.seq) or (f"SHA-256 : {e.hash}\nprécédente : {e.prev_hash}" if column == 6 else None)
        return None


def verdict_html(verdict) -> str:
    if verdict.intact:
        return (f"<b style='color:{GREEN}'>✓ {html_text(verdict.summary_fr)}</b> "
                f"(vérifié le {fr_datetime(verdict.checked_at)})" if verdict.checked_at else "")
    more = len(verdict.breaks) - 1
    return (f"<b style='color:{RED}'>✗ {html_text(verdict.summary_fr)}</b>"
            + (f" — et {more} autre{'s' if more > 1 else ''} anomalie{'s' if more > 1 else ''} après" if more else "")
            + " — n'effacez rien ; prévenez le régisseur et le comptable public.")


class JournalDialog(QDialog):
    """The journal's entries (filter: since a day) and whether its chain holds (verify())."""

    def __init__(self, desk, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("journalDialog")
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.setWindowTitle("Journal des opérations")
        self.resize(1050, 560)
        self.desk = desk
        self.verdict = None
        self._load = worker.Latest()
        self._verify = worker.Latest()
        self.model = JournalModel(self)
        self.table = _table("journalTable", self.model)
        self.state = QLabel("Vérification du journal…")
        self.state.setObjectName("journalState")
        self.state.setWordWrap(True)
        self.state.setTextFormat(Qt.TextFormat.RichText)
        self.since_box = QCheckBox("&Depuis le")
        self.since = QDateEdit(QDate.currentDate())
        self.since.setCalendarPopup(True)
        self.since.setDisplayFormat("dd/MM/yyyy")
        self.since.setEnabled(False)
        self.since_box.toggled.connect(self.since.setEnabled)
        self.since_box.toggled.connect(lambda _on: self.reload())
        self.since.dateChanged.connect(lambda _d: self.since_box.isChecked() and self.reload())
        self.count = QLabel("")
        verify = QPushButton("&Vérifier")
        verify.setAutoDefault(False)
        verify.clicked.connect(self.check)
        close = QPushButton("&Fermer")
        close.clicked.connect(self.reject)
        top = QHBoxLayout()
        top.addWidget(self.since_box)
        top.addWidget(self.since)
        top.addWidget(self.count, 1)
        top.addWidget(verify)
        bottom = QHBoxLayout()
        bottom.addWidget(self.state, 1)
        bottom.addWidget(close)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.table, 1)
        layout.addLayout(bottom)
        self.check()

    def since_at(self) -> datetime | None:
        if not self.since_box.isChecked():
            return None
        return datetime.combine(self.since.date().toPython(), time(0, 0), tzinfo=desk_tz())

    def reload(self) -> None:
        service, since = self.desk.journal, self.since_at()
        self._load.run(self, lambda: service.entries(since=since), self._loaded, self._failed,
                       pool=worker.disk_pool(), label="")

    def _loaded(self, entries: list) -> None:
        self.model.set_rows(entries)
        n = len(entries)
        self.count.setText(f"{n} entrée{'s' if n > 1 else ''}")
        self._select_break()
        if not self.table.currentIndex().isValid() and entries:
            self.table.selectRow(n - 1)
        self.table.setFocus()

    def _failed(self, exc: BaseException) -> None:
        self.state.setText(f"<span style='color:{RED}'>{html_text(_message(exc))}</span>")

    def check(self) -> None:
        """Read the entries again and verify the chain (« Vérifier »: also after a change behind the desk)."""
        self.reload()
        self._verify.run(self, self.desk.journal.verify, self._checked, self._failed, pool=worker.disk_pool(),
                         label="")

    def _checked(self, verdict) -> None:
        self.verdict = verdict
        self.model.beginResetModel()
        self.model.broken = {b.seq: b.message for b in verdict.breaks}
        self.model.endResetModel()
        self.state.setText(verdict_html(verdict))
        self._select_break()

    def _select_break(self) -> None:
        if self.verdict is None or self.verdict.first is None:
            return
        for row in range(self.model.rowCount()):
            if self.model.row_object(row).seq >= self.verdict.first.seq:
                self.table.selectRow(row)
                self.table.scrollTo(self.model.index(row, 0))
                return


# -- the menu and the status bar ----------------------------------------------------------------


class ControlActions(QObject):
    """The window's « Contrôle » menu and the journal's state in the status bar. The
    window builds it in _build_actions, adds `menu()` and calls `check_journal()`
    after each money event (payments_changed)."""

    journal_checked = Signal(object)  # Verdict
    _operator_changed = Signal()

    def __init__(self, window):
        super().__init__(window)
        self.window = window
        self.desk = window.desk
        self.verdict = None
        self._task = worker.Latest()
        self.cancel_action = window._action("A&nnuler un paiement…", CANCEL_KEYS, self.open_cancel,
                                            "Annuler un paiement (régisseur) : motif, jamais supprimé")
        self.regularize_action = window._action("À &régulariser dans Maelis…", [], self.open_regularize,
                                                "Les paiements annulés ici que Maelis avait déjà reçus")
        self.journal_action = window._action("&Journal…", JOURNAL_KEYS, self.open_journal,
                                             "Le journal des opérations et sa vérification (chaîne SHA-256)")
        self.label = QLabel("")
        self.label.setObjectName("journalLabel")
        self.label.setTextFormat(Qt.TextFormat.RichText)
        self.label.hide()
        window.statusBar().addPermanentWidget(self.label)
        self._operator_changed.connect(self.check_journal)
        self.desk.operators.on_change(self._operator_moved)
        self.check_journal()

    def menu(self) -> QMenu:
        menu = QMenu("C&ontrôle", self.window)
        menu.setObjectName("controleMenu")
        menu.addAction(self.cancel_action)
        menu.addAction(self.regularize_action)
        menu.addSeparator()
        menu.addAction(self.journal_action)
        menu.setToolTipsVisible(True)
        return menu

    def _operator_moved(self, _operator) -> None:  # may run in a worker thread (a login)
        if shiboken6.isValid(self):
            self._operator_changed.emit()

    def open_cancel(self, receipt: str = "") -> CancelDialog:
        return open_cancel(self.window, self.desk, receipt if isinstance(receipt, str) else "")

    def open_regularize(self) -> RegularizeDialog:
        dialog = RegularizeDialog(self.desk, self.window)
        dialog.regularized.connect(lambda _item: self.window.payments_changed())
        dialog.show()
        return dialog

    def open_journal(self) -> JournalDialog:
        dialog = JournalDialog(self.desk, self.window)
        dialog.show()
        return dialog

    def check_journal(self) -> None:
        """Verify the journal off the GUI thread, for whoever may read it (else the mark hides)."""
        if not shiboken6.isValid(self) or getattr(self.window, "_closing", False):
            return
        if not self.desk.operators.allowed(Action.SEE_JOURNAL):
            self.verdict = None
            self.label.hide()
            self.journal_action.setText("&Journal…")
            return
        self._task.run(self.window, self.desk.journal.verify, self._checked, lambda _exc: None,
                       pool=worker.disk_pool(), label="")

    def _checked(self, verdict) -> None:
        self.verdict = verdict
        if verdict.intact:
            self.label.setText(f"<span style='color:{GREEN}'>Journal intègre ✓</span>")
            self.journal_action.setText("&Journal…")
        else:
            where = verdict.first.seq
            self.label.setText(f"<b style='color:{RED}'>Journal ALTÉRÉ (entrée n° {where})</b>")
            self.journal_action.setText(f"&Journal… ⚠ altéré (entrée n° {where})")
        self.label.setToolTip(f"{verdict.summary_fr} Contrôle > Journal ({', '.join(JOURNAL_KEYS)})")
        self.label.show()
        self.journal_checked.emit(verdict)
