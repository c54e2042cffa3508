"""Payments on their way to Maelis: what a supervisor checks.

Lists every payment Maelis has not confirmed (and, on demand, all of them, or
only those a person must check), with its transmission state and last error;
shows the selected payment's history (acknowledged by Maelis, or only seen in
its amounts); reprints a receipt; sends now.
"""

from __future__ import annotations

from PySide6.QtCore import QSortFilterProxyModel, Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QDialog,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QPushButton,
    QSplitter,
    QTableView,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from ..domain import Action, PaymentState
from ..formatting import euros, fr_datetime, html_text
from ..services import Desk
from ..services.modes import mode_label
from . import worker
from .models import LEFT, RIGHT, SORT_ROLE, RowsTableModel
from .theme import Colours


# It lists the payments not yet transmitted, and on demand those Maelis confirmed.
OUTBOX_TITLE = "Paiements à transmettre et transmis"


class OutboxModel(RowsTableModel):
    HEADERS = ("Quittance", "Date", "Famille", "Régie", "Montant", "Mode", "État", "Ce que le poste attend",
               "Essais", "Dernière erreur")
    NUMERIC = (4, 8)

    def __init__(self, parent=None, explain=None):
        super().__init__(parent)
        self._explain = explain or (lambda record: "")

    @property
    def records(self) -> list:
        return list(self._rows)

    def set_records(self, records: list) -> None:
        self.set_rows(records)

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        r = self._cell(index)
        if r is None:
            return None
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return [
                r.receipt,
                fr_datetime(r.created_at),
                str(r.family),
                r.regie_label,
                euros(r.amount),
                mode_label(r.mode),
                r.state.label_fr,
                "" if r.state.is_confirmed else self._explain(r),
                str(r.attempts),
                r.last_error or "",
            ][column]
        if role == SORT_ROLE:
            return [r.receipt, r.created_at.isoformat(), r.family, r.regie_label, int(r.amount * 100), r.mode,
                    r.state.value, r.state.value, r.attempts, r.last_error or ""][column]
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return RIGHT if column in self.NUMERIC else LEFT
        if role == Qt.ItemDataRole.ForegroundRole and r.state.needs_person:
            return QColor(TO_CHECK_COLOUR)
        if role == Qt.ItemDataRole.ToolTipRole and column == 9 and r.last_error:
            return r.last_error
        if role == Qt.ItemDataRole.ToolTipRole and column == 7 and not r.state.is_confirmed:
            return self._explain(r)
        return None


TO_CHECK_COLOUR = Colours.ERROR


def history_html(history) -> str:
    """A payment's history as the outbox shows it: how it came to be held as applied
    (acknowledged, or inferred from the amounts alone), then each step."""
    p, how = history.payment, history.confirmation
    head = (f"<b>Quittance {html_text(p.receipt)}</b> — {html_text(p.state.label_fr)}"
            + (f" — {html_text(how.label_fr)}" if how else ""))
    if history.to_check:
        head = (f"<span style='color:{TO_CHECK_COLOUR}'>⚠ {head}. À vérifier dans Maelis, puis, régisseur : "
                "« Appliqué dans Maelis » ou « Non appliqué : renvoyer ».</span>")
    rows = "".join(_step_row(s) for s in history.steps)
    return (f"<p>{head}</p><table cellspacing='0' cellpadding='2'>"
            f"<tr><th align='left'>Quand</th><th align='left'>Poste</th><th align='left'>Étape</th></tr>"
            f"{rows}</table>")


def _step_row(step) -> str:
    style = f" style='color:{TO_CHECK_COLOUR}'" if step.needs_check else ""
    mark = "⚠ " if step.needs_check else ""
    detail = f" — {html_text(step.detail)}" if step.detail else ""
    return (f"<tr{style}><td>{html_text(fr_datetime(step.at))}</td><td>{html_text(step.desk_code)}</td>"
            f"<td>{mark}{html_text(step.label_fr)}{detail}</td></tr>")


class OutboxDialog(QDialog):
    """Non-modal; opened with show(). `transmitted(report or None)` when « Envoyer
    maintenant » ended, so that the window's other views follow the payments' states."""

    transmitted = Signal(object)

    def __init__(self, desk: Desk, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("outboxDialog")
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.setWindowTitle(OUTBOX_TITLE)
        self.resize(1100, 480)
        self.desk = desk
        self._load = worker.Latest()
        self._send = worker.Latest()
        self.model = OutboxModel(self, explain=desk.transmitter.explain)
        self.proxy = QSortFilterProxyModel(self)
        self.proxy.setSourceModel(self.model)
        self.proxy.setSortRole(SORT_ROLE)
        self.table = QTableView()
        self.table.setObjectName("outboxTable")
        self.table.setModel(self.proxy)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(1, Qt.SortOrder.DescendingOrder)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.doubleClicked.connect(lambda _index: self.reprint())
        self.table.selectionModel().currentRowChanged.connect(lambda _now, _before: self._show_history())
        self._history = worker.Latest()
        self.history = QTextBrowser()
        self.history.setObjectName("outboxHistory")
        self.history.setOpenLinks(False)
        self.history.setPlaceholderText("L'historique du paiement sélectionné s'affiche ici.")

        self.summary = QLabel("Chargement…")
        self.show_all = QCheckBox("Afficher aussi les paiements &confirmés")
        self.show_all.toggled.connect(self.reload)
        self.to_check = QCheckBox("Seulement ceux à &vérifier")
        self.to_check.setObjectName("outboxToCheck")
        self.to_check.setToolTip("Constatés dans Maelis sans accusé de réception, en doute, ou refusés : "
                                 "à vérifier dans Maelis, puis à confirmer ou renvoyer")
        self.to_check.toggled.connect(self._only_to_check)
        self.send_button = QPushButton("&Envoyer maintenant")
        self.send_button.clicked.connect(self.send_now)
        self.reprint_button = QPushButton("&Réimprimer la quittance…")
        self.reprint_button.setToolTip("Entrée ou double-clic sur une ligne")
        self.reprint_button.clicked.connect(self.reprint)
        self.cancel_button = QPushButton("&Annuler le paiement…")
        self.cancel_button.setObjectName("outboxCancel")
        self.cancel_button.setToolTip("Annuler le paiement sélectionné (régisseur) ; aussi : Suppr")
        self.cancel_button.clicked.connect(self.cancel_payment)
        # a person who looked in Maelis decides (régisseur; the service refuses the others)
        self.applied_button = QPushButton("Appliqué &dans Maelis…")
        self.applied_button.setObjectName("outboxApplied")
        self.applied_button.setToolTip("Vous avez vu ce paiement dans Maelis : le confirmer (régisseur)")
        self.applied_button.clicked.connect(lambda: self.resolve(applied=True))
        self.resend_button = QPushButton("&Non appliqué : renvoyer…")
        self.resend_button.setObjectName("outboxResend")
        self.resend_button.setToolTip("Maelis n'a pas ce paiement : le lui renvoyer (régisseur)")
        self.resend_button.clicked.connect(lambda: self.resolve(applied=False))
        self._resolve = worker.Latest()
        # shown to all, usable by whom the service lets decide (it refuses the others anyway)
        self._may_resolve = desk.operators.current.can(Action.RESOLVE_TRANSMISSION)
        if not self._may_resolve:
            for button in (self.applied_button, self.resend_button):
                button.setToolTip(button.toolTip() + " — votre rôle ne le permet pas")
        close = QPushButton("&Fermer")
        close.clicked.connect(self.reject)

        top = QHBoxLayout()
        top.addWidget(self.summary, 1)
        top.addWidget(self.to_check)
        top.addWidget(self.show_all)
        buttons = QHBoxLayout()
        buttons.addWidget(self.send_button)
        buttons.addWidget(self.applied_button)
        buttons.addWidget(self.resend_button)
        buttons.addStretch(1)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.reprint_button)
        buttons.addWidget(close)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.table)
        split.addWidget(self.history)
        split.setSizes([240, 200])  # the history readable without scrolling
        layout.addWidget(split, 1)
        layout.addLayout(buttons)
        self.send_button.setEnabled(not desk.settings.offline)
        self.reload()

    def reload(self) -> None:
        service, everything = self.desk.payments, self.show_all.isChecked()
        if self.to_check.isChecked():
            op = service.to_check
        else:
            op = lambda: service.outbox(include_confirmed=everything)  # noqa: E731
        self._load.run(self, op, self._loaded, pool=worker.disk_pool(), label="")

    def _only_to_check(self, checked: bool) -> None:
        self.show_all.setEnabled(not checked)
        self.reload()

    def _show_history(self) -> None:
        record = self.current_record()
        person = record is not None and record.state.needs_person and self._may_resolve
        self.applied_button.setEnabled(person and record.state is not PaymentState.REJECTED)
        self.resend_button.setEnabled(person)
        if record is None:
            self.history.clear()
            return
        service, receipt = self.desk.payments, record.receipt
        self._history.run(self, lambda: service.history(receipt), self._history_loaded,
                          lambda exc: self.history.setPlainText(worker.error_text(exc)), pool=worker.disk_pool(),
                          label="")

    def _history_loaded(self, history) -> None:
        self.history.setHtml(history_html(history))

    def _loaded(self, records: list) -> None:
        self.model.set_records(records)
        waiting = sum(1 for r in records if r.state.is_waiting)
        trouble = sum(1 for r in records if r.state.needs_person)
        self.summary.setText(
            f"{waiting} paiement{'s' if waiting > 1 else ''} en attente de confirmation"
            + (f" — <b style='color:{TO_CHECK_COLOUR}'>{trouble} à vérifier</b>" if trouble else "")
        )
        if records and not self.table.currentIndex().isValid():
            self.table.selectRow(0)
        self._show_history()

    def send_now(self) -> None:
        transmitter = self.desk.transmitter
        self.send_button.setEnabled(False)
        self._send.run(self, transmitter.run_once, self._sent, lambda _exc: self._sent(None),
                       label="Transmission des paiements…")

    def _sent(self, report) -> None:
        self.send_button.setEnabled(True)
        self.reload()
        self.transmitted.emit(report)

    def ask_note(self, record, applied: bool) -> str | None:
        """What the person checked in Maelis (kept in the history); None: cancelled."""
        what = ("Vous avez vu ce paiement dans Maelis : il sera confirmé." if applied
                else "Maelis n'a pas ce paiement : il lui sera renvoyé.")
        note, ok = QInputDialog.getText(
            self, "Paiement vérifié dans Maelis",
            f"Quittance {record.receipt}, {euros(record.amount)}, famille {record.family}.\n{what}\n\n"
            "Ce que vous avez vérifié (gardé dans l'historique) :")
        return note if ok else None

    def resolve(self, *, applied: bool) -> None:
        record = self.current_record()
        if record is None or not record.state.needs_person:
            return
        note = self.ask_note(record, applied)
        if note is None:
            return
        desk, receipt = self.desk, record.receipt
        self._resolve.run(self, lambda: desk.resolve_payment(receipt, applied=applied, note=note),
                          self._resolved, self._not_resolved, pool=worker.disk_pool(),
                          label="Enregistrement de la vérification…", critical=True)

    def _resolved(self, record) -> None:
        self.reload()
        self.transmitted.emit(None)  # the other views follow the payment's new state

    def _not_resolved(self, exc: BaseException) -> None:
        self.summary.setText(f"<b style='color:{TO_CHECK_COLOUR}'>{html_text(worker.error_text(exc))}</b>")

    def current_record(self):
        index = self.table.currentIndex()
        if not index.isValid():
            return None
        return self.model.row_object(self.proxy.mapToSource(index).row())

    def reprint(self):
        record = self.current_record()
        if record is None:
            return None
        from .pdf_dialog import receipt_dialog

        dialog = receipt_dialog(self.desk, record, self.parentWidget() or self, duplicate=True)
        dialog.show()
        return dialog

    def cancel_payment(self):
        """The cancel dialog on the selected payment (ui/control_dialogs.py); the service says who may."""
        record = self.current_record()
        if record is None:
            return None
        from .control_dialogs import open_cancel

        return open_cancel(self.parentWidget() or self, self.desk, record.receipt)

    def keyPressEvent(self, event) -> None:
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and self.table.hasFocus():
            self.reprint()
            return
        if event.key() == Qt.Key.Key_Delete and self.table.hasFocus():
            self.cancel_payment()
            return
        super().keyPressEvent(event)
