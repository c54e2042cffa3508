"""The cash session in the window (issue 12 points 1 and 2): open the till
with its float, cash movements, the close (arrêté de caisse) with its Z
report, the list of sessions and their Z reports, and the session's state in
the status bar.

Everything here calls `desk.day` (services/day.py: DayService), always
through worker.run_in_background (disk pool: local database only); the rules
and their French refusals are the services' and the domain's
(domain_day.check_close for the comment-per-difference rule, the same one the
close applies). `CaisseActions` is what the main window hooks: its actions,
its « Caisse » menu, the status bar's label, and the F9 gate (no open session
of today: offer to open the till, then go on to the payment).

Keyboard first, like the payment dialog: every field reached by Tab or its
Alt+letter, Enter validates, Échap closes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Callable

import shiboken6
from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDialog,
    QFormLayout,
    QFrame,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMenu,
    QMessageBox,
    QPushButton,
    QSpinBox,
    QStackedWidget,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ..domain import Action
from ..domain_day import (
    CLOSE_LABELS, COINS, NOTES, CashCount, CashSession, Closing, Counted, DayError, Expected, MoveReason,
    check_close, denomination_label, differences,
)
from ..formatting import AmountError, euros, fr_date, fr_datetime, html_text, local, parse_amount
from ..services.payments import MODE_LABELS, Mode
from . import worker
from .pdf_dialog import PdfDialog, PdfSource
from .shortcuts import keys_fr
from .theme import ERROR_STYLE, Colours, error_label

OPEN_KEYS = ["Ctrl+Shift+O"]
MOVE_KEYS = ["Ctrl+Shift+M"]
CLOSE_KEYS = ["Ctrl+Shift+Z"]
DIFF_STYLE = ERROR_STYLE
SESSION_REFRESH_MS = 60_000  # the status bar follows midnight (a session of yesterday) and other processes


def _amount_text(value: Decimal) -> str:
    """12,50 — an amount put back in a field."""
    return f"{value:.2f}".replace(".", ",")


def _diff_text(name: str, diff) -> str:
    if not diff:
        return "—"
    if name == "cheques_count":
        return f"{int(diff):+d}"
    return euros(diff, sign=True)


# --- what the desk's session is now -------------------------------------------------------


@dataclass(frozen=True)
class DeskSession:
    """The desk's cash session as the window shows it: the open session (or None),
    and why money cannot be taken (the services' refusal), read together."""

    session: CashSession | None
    refusal: str | None
    today: date

    @property
    def can_take_money(self) -> bool:
        return self.session is not None and self.refusal is None

    @property
    def stale(self) -> bool:
        """A session left open from another day: it must be closed first."""
        return self.session is not None and self.refusal is not None

    def status_text(self) -> str:
        s = self.session
        if s is None:
            return "Caisse fermée"
        if self.stale:
            return f"Caisse du {fr_date(s.opened_at)} non arrêtée"
        return f"Caisse ouverte depuis {local(s.opened_at):%H:%M} — fond {euros(s.float_amount)}"


def read_desk_session(day) -> DeskSession:
    """In the background: the open session and the refusal, from DayService."""
    return DeskSession(day.current(), day.refusal(), day.today())


# --- the till counted by denomination -----------------------------------------------------


class CountGrid(QWidget):
    """Notes on the left, coins on the right: the number of each, its line total, and the
    total, updated as the cashier types. Tab goes down the notes, then the coins."""

    changed = Signal()

    def __init__(self, parent: QWidget | None = None, *, prefix: str = "count"):
        super().__init__(parent)
        self.setObjectName(f"{prefix}Grid")
        self.spins: dict[int, QSpinBox] = {}
        self.line_totals: dict[int, QLabel] = {}
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        for title, values in (("Billets", NOTES), ("Pièces", COINS)):
            box = QGroupBox(title)
            grid = QGridLayout(box)
            grid.setHorizontalSpacing(8)
            grid.setVerticalSpacing(2)
            for row, cents in enumerate(values):
                label = QLabel(denomination_label(cents))
                label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                label.setMinimumWidth(52)
                spin = QSpinBox()
                spin.setObjectName(f"{prefix}_{cents}")
                spin.setRange(0, 99999)
                spin.setButtonSymbols(QSpinBox.ButtonSymbols.NoButtons)
                spin.setAlignment(Qt.AlignmentFlag.AlignRight)
                spin.setMinimumWidth(64)
                spin.setMaximumWidth(90)
                spin.setAccessibleName(f"Nombre de {'billets' if cents in NOTES else 'pièces'} de "
                                       f"{denomination_label(cents)}")
                spin.valueChanged.connect(self._changed)
                label.setBuddy(spin)
                times = QLabel("×")
                total = QLabel(euros(Decimal(0)))
                total.setObjectName(f"{prefix}_{cents}_total")
                total.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                total.setMinimumWidth(90)
                grid.addWidget(label, row, 0)
                grid.addWidget(times, row, 1)
                grid.addWidget(spin, row, 2)
                grid.addWidget(total, row, 3)
                self.spins[cents] = spin
                self.line_totals[cents] = total
            grid.setRowStretch(len(values), 1)
            grid.setColumnStretch(4, 1)  # the columns stay together when the dialog is wide
            layout.addWidget(box)
        order = [self.spins[c] for c in NOTES + COINS]
        for a, b in zip(order, order[1:]):
            QWidget.setTabOrder(a, b)

    @property
    def first(self) -> QSpinBox:
        return self.spins[NOTES[0]]

    @property
    def last(self) -> QSpinBox:
        return self.spins[COINS[-1]]

    def count(self) -> CashCount:
        return CashCount({c: s.value() for c, s in self.spins.items() if s.value()})

    def is_empty(self) -> bool:
        return not any(s.value() for s in self.spins.values())

    def set_count(self, pieces: dict[int, int]) -> None:
        for cents, spin in self.spins.items():
            spin.setValue(pieces.get(cents, 0))

    def _changed(self) -> None:
        for cents, spin in self.spins.items():
            self.line_totals[cents].setText(euros(Decimal(cents * spin.value()) / 100))
        self.changed.emit()


def _buttons(*widgets: QWidget) -> QHBoxLayout:
    row = QHBoxLayout()
    row.addStretch(1)
    for w in widgets:
        row.addWidget(w)
    return row


# --- opening the till ---------------------------------------------------------------------


class OpenSessionDialog(QDialog):
    """« Ouvrir la caisse » : the float counted by denomination, or typed as a total.
    Emits `opened(CashSession)` once the session is in the database."""

    opened = Signal(object)

    def __init__(self, desk, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("openSessionDialog")
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.setWindowTitle("Ouvrir la caisse")
        self.desk = desk
        self.session: CashSession | None = None
        self._task = worker.Latest()

        layout = QVBoxLayout(self)
        head = QLabel(f"<b>Ouverture de la caisse du poste {html_text(desk.settings.code)}</b><br>"
                      "Comptez le fond de caisse par coupures, ou tapez son total (0 s'il est vide).")
        head.setWordWrap(True)
        layout.addWidget(head)
        self.grid = CountGrid(prefix="float")
        self.grid.changed.connect(self._update)
        layout.addWidget(self.grid)
        form = QFormLayout()
        self.count_total = QLabel()
        self.count_total.setObjectName("floatCountTotal")
        form.addRow("Total des coupures :", self.count_total)
        self.total = QLineEdit()
        self.total.setObjectName("floatTotal")
        self.total.setPlaceholderText("ex. 50,00 — sans détail des coupures")
        self.total.setAlignment(Qt.AlignmentFlag.AlignRight)
        self.total.setMaximumWidth(200)
        self.total.textEdited.connect(self._update)
        form.addRow("Ou le &total seul (€) :", self.total)
        layout.addLayout(form)
        self.error = error_label("openSessionError")
        layout.addWidget(self.error)
        layout.addStretch(1)
        self.cancel_button = QPushButton("Annuler")
        self.cancel_button.setAutoDefault(False)
        self.cancel_button.clicked.connect(self.reject)
        self.ok_button = QPushButton("&Ouvrir la caisse")
        self.ok_button.setObjectName("openSessionOk")
        self.ok_button.setDefault(True)
        self.ok_button.setToolTip("Entrée : ouvrir la caisse avec ce fond")
        self.ok_button.clicked.connect(self.submit)
        layout.addLayout(_buttons(self.cancel_button, self.ok_button))
        QWidget.setTabOrder(self.grid.last, self.total)
        self._update()
        self.grid.first.setFocus()

    def _update(self) -> None:
        self.count_total.setText(f"<b>{euros(self.grid.count().total)}</b>")
        self.error.setText("")

    def request(self) -> tuple[Decimal | None, CashCount | None]:
        """(float typed, count by denomination), each None when not given; AmountError if the total is not one."""
        text = self.total.text().strip()
        amount = parse_amount(text) if text else None
        count = None if self.grid.is_empty() else self.grid.count()
        return amount, count

    def submit(self) -> None:
        try:
            amount, count = self.request()
        except AmountError as exc:
            self.error.setText(str(exc))
            self.total.setFocus()
            return
        self.ok_button.setEnabled(False)
        self.error.setText("")
        day = self.desk.day
        self._task.run(self, lambda: day.open_session(amount, count), self._opened, self._refused,
                       pool=worker.disk_pool(), label="Ouverture de la caisse…", critical=True)

    def _opened(self, session: CashSession) -> None:
        self.session = session
        self.opened.emit(session)
        self.accept()

    def _refused(self, exc: BaseException) -> None:
        self.ok_button.setEnabled(True)
        self.error.setText(worker.error_text(exc))


# --- a cash movement ------------------------------------------------------------------------


class MoveDialog(QDialog):
    """« Mouvement de caisse » : an apport (+) or a withdrawal (−), its reason, a comment."""

    moved = Signal(object)

    def __init__(self, desk, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("moveDialog")
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.setWindowTitle("Mouvement de caisse")
        self.desk = desk
        self.movement = None
        self._task = worker.Latest()
        self._status_task = worker.Latest()

        layout = QVBoxLayout(self)
        self.cash_label = QLabel("Lecture de la caisse…")
        self.cash_label.setObjectName("moveCash")
        self.cash_label.setWordWrap(True)
        layout.addWidget(self.cash_label)
        form = QFormLayout()
        self.reason = QComboBox()
        self.reason.setObjectName("moveReason")
        for reason in MoveReason:
            self.reason.addItem(f"{reason.label_fr} ({'entrée +' if reason.sign > 0 else 'sortie −'})", reason)
        self.reason.currentIndexChanged.connect(self._update)
        form.addRow("&Motif :", self.reason)
        self.amount = QLineEdit()
        self.amount.setObjectName("moveAmount")
        self.amount.setPlaceholderText("ex. 200,00")
        self.amount.setAlignment(Qt.AlignmentFlag.AlignRight)
        self.amount.setMaximumWidth(200)
        self.amount.textEdited.connect(self._update)
        form.addRow("M&ontant (€) :", self.amount)
        self.effect = QLabel()
        self.effect.setObjectName("moveEffect")
        form.addRow("Effet sur la caisse :", self.effect)
        self.comment = QLineEdit()
        self.comment.setObjectName("moveComment")
        self.comment.setMaxLength(500)
        form.addRow("&Commentaire :", self.comment)
        layout.addLayout(form)
        self.error = error_label("moveError")
        layout.addWidget(self.error)
        layout.addStretch(1)
        self.cancel_button = QPushButton("Annuler")
        self.cancel_button.setAutoDefault(False)
        self.cancel_button.clicked.connect(self.reject)
        self.ok_button = QPushButton("&Enregistrer le mouvement")
        self.ok_button.setObjectName("moveOk")
        self.ok_button.setDefault(True)
        self.ok_button.clicked.connect(self.submit)
        layout.addLayout(_buttons(self.cancel_button, self.ok_button))
        self.resize(520, 260)
        self._update()
        self.reason.setFocus()
        day = desk.day
        self._status_task.run(self, day.status, self._status_read, lambda exc: self.cash_label.setText(
            worker.error_text(exc)), pool=worker.disk_pool(), label="")

    def _status_read(self, status) -> None:
        if status is None:
            self.cash_label.setText(self.desk.day.refusal() or "Aucune caisse ouverte.")
            return
        self.cash_label.setText(f"Espèces attendues en caisse : <b>{euros(status.expected.cash)}</b> "
                                f"(fond {euros(status.session.float_amount)}).")

    def current_reason(self) -> MoveReason:
        return MoveReason(self.reason.currentData())

    def signed_amount(self) -> Decimal:
        """The amount as typed (a leading − allowed), signed by the reason; AmountError if it is not one."""
        text = self.amount.text().strip()
        negative = text[:1] in ("-", "\u2212")
        value = parse_amount(text.lstrip("-\u2212+"))
        return -value if negative else value

    def _update(self) -> None:
        self.error.setText("")
        reason = self.current_reason()
        self.comment.setPlaceholderText("obligatoire pour un autre retrait" if reason is MoveReason.RETRAIT
                                        else "facultatif")
        try:
            amount = self.signed_amount()
        except AmountError:
            self.effect.setText("—")
            return
        self.effect.setText(f"<b>{euros(abs(amount) * reason.sign, sign=True)}</b> en espèces")

    def submit(self) -> None:
        try:
            amount = self.signed_amount()
        except AmountError as exc:
            self.error.setText(str(exc))
            self.amount.setFocus()
            return
        reason, comment = self.current_reason(), self.comment.text()
        self.ok_button.setEnabled(False)
        day = self.desk.day
        self._task.run(self, lambda: day.move(amount, reason, comment), self._moved, self._refused,
                       pool=worker.disk_pool(), label="Mouvement de caisse…", critical=True)

    def _moved(self, movement) -> None:
        self.movement = movement
        self.moved.emit(movement)
        self.accept()

    def _refused(self, exc: BaseException) -> None:
        self.ok_button.setEnabled(True)
        self.error.setText(worker.error_text(exc))
        field = getattr(exc, "field", None)
        {"comment": self.comment, "amount": self.amount}.get(field, self.amount).setFocus()


# --- the close (arrêté de caisse) -------------------------------------------------------------


def z_report_source(desk, closing: Closing, *, reprint: bool = False) -> PdfSource:
    from ..services.day_documents import z_report_pdf

    city, z = desk.settings.city, closing.z_number
    return PdfSource(
        title=f"Rapport Z n° {z}",
        doc_name=f"Rapport Z {z}",
        what=f"le rapport Z n° {z}",
        file_name=f"rapport-z-{z}.pdf",
        loading=f"Préparation du rapport Z n° {z}…",
        origin=("réimprimé à l'identique à partir de l'arrêté enregistré" if reprint
                else "fait sur ce poste à partir de l'arrêté enregistré"),
        failure_hint="La caisse reste arrêtée ; réimprimez le rapport depuis Caisse > Sessions et rapports Z.",
        saved="Rapport Z enregistré",
        load=lambda: z_report_pdf(closing, city=city),
    )


def z_report_dialog(desk, closing: Closing, parent: QWidget | None = None, *, reprint: bool = False) -> PdfDialog:
    """The Z report in the PDF viewer, on top and focused (print: Ctrl+P)."""
    dialog = PdfDialog(z_report_source(desk, closing, reprint=reprint), parent, pool=worker.disk_pool())
    dialog.closing = closing
    dialog.show()  # a new window opens on top
    dialog.activateWindow()
    return dialog


class _CloseLine:
    """One line of the close: what was expected, what is counted, the difference, its comment."""

    def __init__(self, name: str, counted: QWidget | None):
        self.name = name
        self.expected = QLabel("…")
        self.expected.setObjectName(f"expected_{name}")
        self.expected.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.counted = counted
        self.diff = QLabel("—")
        self.diff.setObjectName(f"diff_{name}")
        self.diff.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.diff.setMinimumWidth(90)
        self.comment = QLineEdit()
        self.comment.setObjectName(f"comment_{name}")
        self.comment.setMaxLength(500)
        self.comment.setMinimumWidth(260)
        self.comment.setAccessibleName(f"Commentaire de l'écart : {CLOSE_LABELS[name]}")


class CloseDialog(QDialog):
    """« Arrêté de caisse » : the cash counted by denomination, the cheques (number and
    total), the card terminal's total; beside each, what the desk expected and the
    difference; a comment, required for each difference; a confirmation; then the
    close (a Z number) and its report opened in the PDF viewer.
    Emits `closed(Closing)`."""

    closed = Signal(object)

    FORM, CONFIRM = range(2)

    def __init__(self, desk, parent: QWidget | None = None, *, open_report: bool = True):
        super().__init__(parent)
        self.setObjectName("closeDialog")
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.setWindowTitle("Arrêté de caisse")
        self.desk = desk
        self.open_report = open_report
        self.status = None
        self.closing: Closing | None = None
        self.report: PdfDialog | None = None
        self._task = worker.Latest()
        self._status_task = worker.Latest()

        self.stack = QStackedWidget()
        self.stack.addWidget(self._build_form())
        self.stack.addWidget(self._build_confirm())
        layout = QVBoxLayout(self)
        layout.addWidget(self.stack)
        self.resize(940, 600)
        self.grid.first.setFocus()
        day = desk.day
        self._status_task.run(self, day.status, self._status_read, self._status_failed,
                              pool=worker.disk_pool(), label="Lecture de la caisse…")

    # -- the form ----------------------------------------------------------------------------

    def _build_form(self) -> QWidget:
        page = QWidget()
        layout = QVBoxLayout(page)
        self.head = QLabel("Lecture de la caisse…")
        self.head.setObjectName("closeHead")
        self.head.setWordWrap(True)
        layout.addWidget(self.head)
        cash_title = QLabel("&Espèces comptées par coupures :")
        self.grid = CountGrid(prefix="cash")
        cash_title.setBuddy(self.grid.first)
        self.grid.changed.connect(self._update)
        layout.addWidget(cash_title)
        layout.addWidget(self.grid)

        self.cheques_count = QSpinBox()
        self.cheques_count.setObjectName("countedChequesCount")
        self.cheques_count.setRange(0, 99999)
        self.cheques_count.setButtonSymbols(QSpinBox.ButtonSymbols.NoButtons)
        self.cheques_count.setAlignment(Qt.AlignmentFlag.AlignRight)
        self.cheques_count.valueChanged.connect(self._update)
        self.cheques_total = QLineEdit("0,00")
        self.cheques_total.setObjectName("countedChequesTotal")
        self.card_total = QLineEdit("0,00")
        self.card_total.setObjectName("countedCardTotal")
        for edit in (self.cheques_total, self.card_total):
            edit.setAlignment(Qt.AlignmentFlag.AlignRight)
            edit.textEdited.connect(self._update)
        self.cash_total = QLabel()
        self.cash_total.setObjectName("countedCash")
        self.cash_total.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.lines = {
            "cash": _CloseLine("cash", self.cash_total),
            "cheques_count": _CloseLine("cheques_count", self.cheques_count),
            "cheques_total": _CloseLine("cheques_total", self.cheques_total),
            "card_total": _CloseLine("card_total", self.card_total),
        }
        table = QGridLayout()
        table.setHorizontalSpacing(12)
        for col, title in enumerate(("", "Attendu", "Compté", "Écart", "Commentaire (obligatoire s'il y a un écart)")):
            label = QLabel(f"<b>{title}</b>")
            table.addWidget(label, 0, col)
        mnemonics = {"cash": "Espèces", "cheques_count": "C&hèques (nombre)", "cheques_total": "Chèques (&montant)",
                     "card_total": "Carte &bancaire (ticket du terminal)"}
        for row, (name, line) in enumerate(self.lines.items(), start=1):
            label = QLabel(mnemonics[name])
            if name != "cash":
                label.setBuddy(line.counted)
            table.addWidget(label, row, 0)
            table.addWidget(line.expected, row, 1)
            table.addWidget(line.counted, row, 2)
            table.addWidget(line.diff, row, 3)
            table.addWidget(line.comment, row, 4)
            line.comment.textEdited.connect(self._update)
        table.setColumnStretch(4, 1)
        layout.addLayout(table)
        self.others = QLabel()
        self.others.setObjectName("closeOthers")
        self.others.setWordWrap(True)
        layout.addWidget(self.others)
        self.error = error_label("closeError")
        layout.addWidget(self.error)
        layout.addStretch(1)
        self.cancel_button = QPushButton("Annuler")
        self.cancel_button.setAutoDefault(False)
        self.cancel_button.clicked.connect(self.reject)
        self.next_button = QPushButton("&Valider…")
        self.next_button.setObjectName("closeNext")
        self.next_button.setDefault(True)
        self.next_button.setToolTip("Entrée : vérifier l'arrêté et passer à la confirmation")
        self.next_button.setEnabled(False)
        self.next_button.clicked.connect(self.to_confirm)
        layout.addLayout(_buttons(self.cancel_button, self.next_button))
        # Tab: the coins, then each line's counted figure and its comment
        order = [self.grid.last, self.lines["cash"].comment]
        for name in ("cheques_count", "cheques_total", "card_total"):
            order += [self.lines[name].counted, self.lines[name].comment]
        order += [self.next_button]
        for a, b in zip(order, order[1:]):
            QWidget.setTabOrder(a, b)
        self._update()
        return page

    def _status_read(self, status) -> None:
        self.status = status
        if status is None:
            self.head.setText(self.desk.day.refusal() or "Aucune caisse ouverte à arrêter sur ce poste.")
            self.error.setText("Aucune caisse ouverte à arrêter sur ce poste.")
            return
        s, e = status.session, status.expected
        kept = [p for p in status.payments if p.id not in status.cancelled]
        self.head.setText(
            f"<b>Caisse n° {s.id} du poste {html_text(s.desk)}</b>, ouverte le {fr_datetime(s.opened_at)} par "
            f"{html_text(s.operator)} — fond {euros(s.float_amount)} — {len(kept)} paiement(s)"
            + (f", {len(status.cancelled)} annulé(s)" if status.cancelled else "")
            + (f", {len(status.movements)} mouvement(s)" if status.movements else "")
        )
        self.lines["cash"].expected.setText(euros(e.cash))
        self.lines["cheques_count"].expected.setText(str(e.cheques_count))
        self.lines["cheques_total"].expected.setText(euros(e.cheques_total))
        self.lines["card_total"].expected.setText(euros(e.card_total))
        if e.others:
            self.others.setText("Pour information (hors arrêté) : " + " ; ".join(
                f"{MODE_LABELS[Mode(m)]} {euros(v)}" for m, v in e.others.items()))
        self.next_button.setEnabled(True)
        self._update()

    def _status_failed(self, exc: BaseException) -> None:
        self.head.setText("La caisse n'a pas pu être lue.")
        self.error.setText(worker.error_text(exc))

    @property
    def expected(self) -> Expected | None:
        return None if self.status is None else self.status.expected

    def counted(self) -> Counted:
        """What is typed; AmountError for an amount that is not one."""
        return Counted.from_count(self.grid.count(), self.cheques_count.value(),
                                  parse_amount(self.cheques_total.text() or "0"),
                                  parse_amount(self.card_total.text() or "0"))

    def comments(self) -> dict[str, str]:
        return {name: line.comment.text() for name, line in self.lines.items()}

    def _update(self) -> None:
        self.error.setText("")
        self.cash_total.setText(f"<b>{euros(self.grid.count().total)}</b>")
        if self.expected is None:
            return
        try:
            counted = self.counted()
        except AmountError:
            return
        for name, diff in differences(self.expected, counted).items():
            line = self.lines[name]
            line.diff.setText(_diff_text(name, diff))
            line.diff.setStyleSheet(DIFF_STYLE if diff else "")
            line.comment.setPlaceholderText("obligatoire : expliquez l'écart" if diff else "")

    def check(self) -> tuple[Counted, dict[str, str]] | None:
        """The close as typed if the rules accept it (the domain's check_close, the services'
        rule); else the refusal shown and None."""
        if self.expected is None:
            return None
        try:
            counted = self.counted()
        except AmountError as exc:
            self.error.setText(str(exc))
            return None
        comments = self.comments()
        try:
            check_close(self.expected, counted, comments)
        except DayError as exc:
            self.error.setText(str(exc))
            line = self.lines.get(exc.field or "")
            if line is not None:
                line.comment.setFocus()
            return None
        return counted, comments

    # -- the confirmation ----------------------------------------------------------------------

    def _build_confirm(self) -> QWidget:
        page = QWidget()
        layout = QVBoxLayout(page)
        layout.addWidget(QLabel("<h2>Confirmer l'arrêté de caisse</h2>"))
        frame = QFrame()
        frame.setFrameShape(QFrame.Shape.StyledPanel)
        frame_layout = QVBoxLayout(frame)
        self.summary = QLabel()
        self.summary.setObjectName("closeSummary")
        self.summary.setWordWrap(True)
        self.summary.setTextFormat(Qt.TextFormat.RichText)
        frame_layout.addWidget(self.summary)
        layout.addWidget(frame)
        self.confirm_error = error_label("closeConfirmError")
        layout.addWidget(self.confirm_error)
        layout.addStretch(1)
        self.back_button = QPushButton("← &Modifier")
        self.back_button.setAutoDefault(False)
        self.back_button.clicked.connect(self.to_form)
        self.confirm_button = QPushButton("&Arrêter la caisse")
        self.confirm_button.setObjectName("closeConfirm")
        self.confirm_button.setDefault(True)
        self.confirm_button.setToolTip("Entrée : arrêter la caisse (définitif) et afficher le rapport Z")
        self.confirm_button.clicked.connect(self.confirm)
        layout.addLayout(_buttons(self.back_button, self.confirm_button))
        return page

    def to_confirm(self) -> None:
        checked = self.check()
        if checked is None:
            return
        counted, comments = checked
        rows = ""
        for name, diff in differences(self.expected, counted).items():
            shown = (lambda v: str(v)) if name == "cheques_count" else euros
            note = (f"<br><i>{html_text(comments[name].strip())}</i>" if diff else "")
            rows += (f"<tr><td>{CLOSE_LABELS[name]}</td><td align='right'>{shown(getattr(self.expected, name))}</td>"
                     f"<td align='right'>{shown(getattr(counted, name))}</td>"
                     f"<td align='right'>{'<b>' + _diff_text(name, diff) + '</b>' if diff else '—'}{note}</td></tr>")
        any_diff = any(differences(self.expected, counted).values())
        self.summary.setText(
            "<p style='font-size:13pt'>Arrêter la caisse : elle ne pourra plus être modifiée, et un rapport Z "
            "numéroté sera établi.</p>"
            "<table cellspacing='6'><tr><th></th><th>Attendu</th><th>Compté</th><th>Écart</th></tr>"
            f"{rows}</table>"
            + ("<p><b>Des écarts seront enregistrés avec leur commentaire.</b></p>" if any_diff
               else "<p>Aucun écart.</p>")
        )
        self.confirm_error.setText("")
        self.confirm_button.setEnabled(True)
        self.back_button.setEnabled(True)
        self.stack.setCurrentIndex(self.CONFIRM)
        self.confirm_button.setFocus()

    def to_form(self) -> None:
        self.stack.setCurrentIndex(self.FORM)
        self.grid.first.setFocus()

    def confirm(self) -> None:
        checked = self.check()
        if checked is None:
            self.to_form()
            return
        counted, comments = checked
        self.confirm_button.setEnabled(False)
        self.back_button.setEnabled(False)
        self.confirm_error.setText("Arrêté en cours…")
        day = self.desk.day
        self._task.run(self, lambda: day.close(counted, comments), self._closed, self._refused,
                       pool=worker.disk_pool(), label="Arrêté de caisse…", critical=True)

    def _refused(self, exc: BaseException) -> None:
        self.back_button.setEnabled(True)
        self.confirm_button.setEnabled(True)
        self.confirm_error.setText("Arrêté refusé : " + worker.error_text(exc))
        self.back_button.setFocus()

    def _closed(self, closing: Closing) -> None:
        self.closing = closing
        owner = self.parentWidget()
        self.closed.emit(closing)
        if self.open_report:
            self.report = z_report_dialog(self.desk, closing, owner)
        self.accept()


# --- the sessions and their Z reports ---------------------------------------------------------


class SessionsDialog(QDialog):
    """« Sessions et rapports Z » : this desk's sessions (every desk's for whoever may see
    every operator's payments); Entrée on a closed one reprints its Z report."""

    COLUMNS = ("N°", "Poste", "Ouverte le", "Par", "Fond", "Arrêtée le", "Par", "Rapport Z")

    def __init__(self, desk, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("sessionsDialog")
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.setWindowTitle("Sessions de caisse et rapports Z")
        self.desk = desk
        self.sessions: list[CashSession] = []
        self.report: PdfDialog | None = None
        self._task = worker.Latest()
        self._report_task = worker.Latest()
        layout = QVBoxLayout(self)
        self.every_desk = QCheckBox("&Tous les postes")
        self.every_desk.setObjectName("sessionsEveryDesk")
        self.every_desk.setVisible(desk.operators.allowed(Action.SEE_ALL_PAYMENTS))
        self.every_desk.toggled.connect(self.reload)
        layout.addWidget(self.every_desk)
        self.table = QTableWidget(0, len(self.COLUMNS))
        self.table.setObjectName("sessionsTable")
        self.table.setHorizontalHeaderLabels(self.COLUMNS)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setTabKeyNavigation(False)
        self.table.verticalHeader().hide()
        self.table.setAlternatingRowColors(True)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.itemActivated.connect(lambda _item: self.reprint())
        self.table.currentCellChanged.connect(lambda *_: self._update())
        layout.addWidget(self.table, 1)
        self.info = QLabel("Lecture des sessions…")
        self.info.setObjectName("sessionsInfo")
        self.info.setWordWrap(True)
        layout.addWidget(self.info)
        self.close_button = QPushButton("&Fermer")
        self.close_button.setAutoDefault(False)
        self.close_button.clicked.connect(self.reject)
        self.report_button = QPushButton("&Rapport Z…")
        self.report_button.setObjectName("sessionsReport")
        self.report_button.setAutoDefault(False)
        self.report_button.setToolTip("Entrée : afficher et imprimer le rapport Z de la session choisie")
        self.report_button.clicked.connect(self.reprint)
        layout.addLayout(_buttons(self.report_button, self.close_button))
        self.resize(900, 480)
        self.table.setFocus()
        self.reload()

    def reload(self) -> None:
        day, every = self.desk.day, self.every_desk.isChecked()
        self._task.run(self, lambda: day.sessions(every_desk=every), self._show, self._failed,
                       pool=worker.disk_pool(), label="")

    def _failed(self, exc: BaseException) -> None:
        self.info.setText(worker.error_text(exc))

    def _show(self, sessions: list[CashSession]) -> None:
        self.sessions = sessions
        self.table.setRowCount(len(sessions))
        for row, s in enumerate(sessions):
            cells = [str(s.id), s.desk, fr_datetime(s.opened_at), s.operator, euros(s.float_amount),
                     fr_datetime(s.closed_at) if s.closed_at else "ouverte", s.closed_by or "",
                     f"Z n° {s.z_number}" if s.z_number else "—"]
            for col, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if col in (0, 4):
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                self.table.setItem(row, col, item)
        if sessions:
            self.table.setCurrentCell(0, 0)
        self._update()

    def current_session(self) -> CashSession | None:
        row = self.table.currentRow()
        return self.sessions[row] if 0 <= row < len(self.sessions) else None

    def _update(self) -> None:
        s = self.current_session()
        self.report_button.setEnabled(s is not None and s.z_number is not None)
        if not self.sessions:
            self.info.setText("Aucune session de caisse.")
        elif s is not None and s.z_number is None:
            self.info.setText("Cette caisse est ouverte : son rapport Z sera établi à son arrêté.")
        else:
            self.info.setText(f"{len(self.sessions)} session(s). Entrée : rapport Z de la session choisie.")

    def reprint(self) -> None:
        s = self.current_session()
        if s is None or s.z_number is None:
            self._update()
            return
        day, z = self.desk.day, s.z_number
        self._report_task.run(self, lambda: day.closing_by_z(z), self._report_read, self._failed,
                              pool=worker.disk_pool(), label="")

    def _report_read(self, closing: Closing | None) -> None:
        if closing is None:
            self.info.setText("Rapport Z introuvable.")
            return
        self.report = z_report_dialog(self.desk, closing, self, reprint=True)


# --- the window's side: actions, menu, status bar, F9 ------------------------------------------


class CaisseActions(QObject):
    """The main window's « Caisse » menu and what goes with it. The window builds it in
    _build_actions, adds `menu()` in _build_menus and asks `gate(...)` before F9."""

    state_changed = Signal(object)  # DeskSession
    _operator_changed = Signal()

    def __init__(self, window):
        super().__init__(window)
        self.window = window
        self.desk = window.desk
        self.state: DeskSession | None = None
        self._task = worker.Latest()
        self._pending: Callable[[], object] | None = None  # what F9 goes on to once the till is open
        self.open_action = window._action("&Ouvrir la caisse…", OPEN_KEYS, self.open_session,
                                          "Ouvrir la caisse du poste avec son fond de caisse")
        self.move_action = window._action("&Mouvement de caisse…", MOVE_KEYS, self.move,
                                          "Apport ou retrait d'espèces (versement au comptable…)")
        self.close_action = window._action("&Arrêté de caisse…", CLOSE_KEYS, self.close_session,
                                           "Compter la caisse, la comparer à l'attendu et l'arrêter (rapport Z)")
        self._tips = {a: a.toolTip() for a in (self.open_action, self.move_action, self.close_action)}
        self.sessions_action = window._action("&Sessions et rapports Z…", [], self.show_sessions,
                                              "Les sessions de caisse ; réimprimer un rapport Z")
        self.label = QLabel("")
        self.label.setObjectName("sessionLabel")
        self.label.setToolTip("La caisse du poste (menu Caisse)")
        window.statusBar().addPermanentWidget(self.label)
        self._operator_changed.connect(self.refresh)
        self.desk.operators.on_change(self._operator_moved)
        self.timer = QTimer(self)
        self.timer.setInterval(SESSION_REFRESH_MS)
        self.timer.timeout.connect(self.refresh)
        self.timer.start()
        self._apply()
        self.refresh()

    def menu(self) -> QMenu:
        menu = QMenu("&Caisse", self.window)
        menu.setObjectName("caisseMenu")
        for action in (self.open_action, self.move_action, self.close_action):
            menu.addAction(action)
        menu.addSeparator()
        menu.addAction(self.sessions_action)
        menu.setToolTipsVisible(True)
        return menu

    def _operator_moved(self, _operator) -> None:  # may run in a worker thread (a login)
        if shiboken6.isValid(self):
            self._operator_changed.emit()

    # -- the state ---------------------------------------------------------------------------

    def refresh(self) -> None:
        if not shiboken6.isValid(self) or getattr(self.window, "_closing", False):
            return
        day = self.desk.day
        self._task.run(self.window, lambda: read_desk_session(day), self._read, lambda _exc: None,
                       pool=worker.disk_pool(), label="")

    def _read(self, state: DeskSession) -> None:
        self.state = state
        self._apply()
        self.state_changed.emit(state)

    def _apply(self) -> None:
        state = self.state
        may = self.desk.operators.allowed(Action.TAKE_PAYMENT)
        is_open = state is not None and state.session is not None
        self.open_action.setEnabled(may and (state is None or not is_open))
        self.move_action.setEnabled(may and is_open)
        self.close_action.setEnabled(may and is_open)
        # a greyed entry says why (in the menu, and in the status bar when its key is pressed)
        if may and state is not None:
            closed = ("aucune caisse n'est ouverte sur ce poste : ouvrez-la d'abord "
                      f"({keys_fr(self.open_action.shortcuts())}).")
            for action in (self.move_action, self.close_action):
                action.setToolTip(self._tips[action] if is_open else closed)
            self.open_action.setToolTip("la caisse du poste est déjà ouverte." if is_open
                                        else self._tips[self.open_action])
        self.sessions_action.setEnabled(self.desk.operators.allowed(Action.SEE_OWN_PAYMENTS))
        if state is None:
            self.label.setText("")
            return
        text = state.status_text()
        colour = Colours.OK if state.can_take_money else (Colours.ERROR if state.stale else Colours.MUTED)
        self.label.setText(f'<span style="color:{colour}">■</span> {html_text(text)}')
        self.label.setToolTip(state.refusal or "La caisse est ouverte : le poste peut encaisser.")

    # -- the dialogs -------------------------------------------------------------------------

    def _changed(self, *_args) -> None:
        self.refresh()

    def open_session(self) -> OpenSessionDialog:
        dialog = OpenSessionDialog(self.desk, self.window)
        dialog.opened.connect(self._opened)
        dialog.rejected.connect(self._forget)
        dialog.open()
        return dialog

    def _opened(self, session: CashSession) -> None:
        self.window.statusBar().showMessage(
            f"Caisse ouverte avec un fond de caisse de {euros(session.float_amount)}.", 10000)
        self.state = DeskSession(session, None, self.desk.day.today())
        self._apply()
        self.refresh()
        then, self._pending = self._pending, None
        if then is not None:
            QTimer.singleShot(0, then)  # once the opening dialog is gone: the payment

    def _forget(self) -> None:
        self._pending = None

    def move(self) -> MoveDialog:
        dialog = MoveDialog(self.desk, self.window)
        dialog.moved.connect(self._moved)
        dialog.open()
        return dialog

    def _moved(self, movement) -> None:
        self.window.statusBar().showMessage(
            f"Mouvement enregistré : {movement.reason.label_fr} {euros(movement.amount, sign=True)}.", 10000)
        self.refresh()

    def close_session(self) -> CloseDialog:
        dialog = CloseDialog(self.desk, self.window)
        dialog.closed.connect(self._closed)
        dialog.open()
        return dialog

    def _closed(self, closing: Closing) -> None:
        self.window.statusBar().showMessage(f"Caisse arrêtée : rapport Z n° {closing.z_number}.", 15000)
        self.refresh()

    def show_sessions(self) -> SessionsDialog:
        dialog = SessionsDialog(self.desk, self.window)
        dialog.show()
        return dialog

    # -- F9 ---------------------------------------------------------------------------------

    def gate(self, then: Callable[[], object]) -> QMessageBox | None:
        """Before the payment dialog: with no open session of today (as last read), offer to
        open the till (then go on to `then`), or to close yesterday's first. None: go on."""
        state = self.state
        if state is None or state.can_take_money:
            return None  # not read yet: the payment's own refusal still says it
        box = QMessageBox(self.window)
        box.setObjectName("sessionGateBox")
        box.setIcon(QMessageBox.Icon.Question)
        box.setWindowTitle("Caisse")
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        keys = lambda action: keys_fr(action.shortcuts())  # noqa: E731
        if state.stale:
            box.setText(f"<b>La caisse ouverte le {fr_date(state.session.opened_at)} n'a pas été arrêtée.</b>")
            box.setInformativeText("Pour encaisser aujourd'hui, faites d'abord son arrêté de caisse "
                                   f"(Caisse > Arrêté de caisse…, {keys(self.close_action)}), puis ouvrez la "
                                   "caisse du jour.")
            go = box.addButton("&Arrêté de caisse…", QMessageBox.ButtonRole.AcceptRole)
            go.clicked.connect(self.close_session)
        else:
            box.setText("<b>Aucune caisse n'est ouverte sur ce poste.</b>")
            box.setInformativeText("Pour encaisser, ouvrez d'abord la caisse avec son fond de caisse "
                                   f"(Caisse > Ouvrir la caisse…, {keys(self.open_action)}) ; "
                                   "l'encaissement suit.")
            go = box.addButton("&Ouvrir la caisse…", QMessageBox.ButtonRole.AcceptRole)

            def open_then() -> None:
                self._pending = then
                self.open_session()

            go.clicked.connect(open_then)
        go.setObjectName("sessionGateGo")
        go.setEnabled(self.desk.operators.allowed(Action.TAKE_PAYMENT))
        cancel = box.addButton("Annuler", QMessageBox.ButtonRole.RejectRole)
        box.setDefaultButton(go)
        box.setEscapeButton(cancel)
        box.open()
        return box
