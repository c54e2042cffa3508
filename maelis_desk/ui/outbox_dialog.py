"""Payments on their way to Maelis: what a supervisor checks.

Lists every payment Maelis has not confirmed (and, on demand, all of them),
with its transmission state and last error; reprints a receipt; sends now.
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
    QLabel,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from ..formatting import euros, fr_datetime
from ..services import Desk
from ..services.payments import MODE_LABELS, Mode
from . import worker
from .models import LEFT, RIGHT, SORT_ROLE, RowsTableModel


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
                MODE_LABELS.get(Mode(r.mode), r.mode) if r.mode in Mode._value2member_map_ else r.mode,
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
            return QColor("#b00020")
        if role == Qt.ItemDataRole.ToolTipRole and column == 9 and r.last_error:
            return r.last_error
        if role == Qt.ItemDataRole.ToolTipRole and column == 7 and not r.state.is_confirmed:
            return self._explain(r)
        return None


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

        self.summary = QLabel("Chargement…")
        self.show_all = QCheckBox("Afficher aussi les paiements &confirmés")
        self.show_all.toggled.connect(self.reload)
        self.send_button = QPushButton("&Envoyer maintenant")
        self.send_button.clicked.connect(self.send_now)
        self.reprint_button = QPushButton("&Réimprimer la quittance…")
        self.reprint_button.setToolTip("Entrée ou double-clic sur une ligne")
        self.reprint_button.clicked.connect(self.reprint)
        self.cancel_button = QPushButton("&Annuler le paiement…")
        self.cancel_button.setObjectName("outboxCancel")
        self.cancel_button.setToolTip("Annuler le paiement sélectionné (régisseur) ; aussi : Suppr")
        self.cancel_button.clicked.connect(self.cancel_payment)
        close = QPushButton("&Fermer")
        close.clicked.connect(self.reject)

        top = QHBoxLayout()
        top.addWidget(self.summary, 1)
        top.addWidget(self.show_all)
        buttons = QHBoxLayout()
        buttons.addWidget(self.send_button)
        buttons.addStretch(1)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.reprint_button)
        buttons.addWidget(close)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.table, 1)
        layout.addLayout(buttons)
        self.send_button.setEnabled(not desk.settings.offline)
        self.reload()

    def reload(self) -> None:
        service, everything = self.desk.payments, self.show_all.isChecked()
        self._load.run(self, lambda: service.outbox(include_confirmed=everything), self._loaded,
                       pool=worker.disk_pool(), label="")

    def _loaded(self, records: list) -> None:
        self.model.set_records(records)
        waiting = sum(1 for r in records if r.state.is_waiting)
        trouble = sum(1 for r in records if r.state.needs_person)
        self.summary.setText(
            f"{waiting} paiement{'s' if waiting > 1 else ''} en attente de confirmation"
            + (f" — <b style='color:#b00020'>{trouble} à vérifier</b>" if trouble else "")
        )
        if records and not self.table.currentIndex().isValid():
            self.table.selectRow(0)

    def send_now(self) -> None:
        transmitter = self.desk.transmitter
        self.send_button.setEnabled(False)
        self._send.run(self, transmitter.run_once, self._sent, lambda _exc: self._sent(None),
                       label="Transmission des paiements…")

    def _sent(self, report) -> None:
        self.send_button.setEnabled(True)
        self.reload()
        self.transmitted.emit(report)

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
