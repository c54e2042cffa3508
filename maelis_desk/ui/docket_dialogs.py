"""The régie's dockets and monthly statement in the window (issue 12 points 3 and 4).

« Bordereaux… » (Ctrl+Maj+B): per régie and type (cheques for the bank, CESU,
ANCV, cash handed to the comptable public), the current draft or « Préparer un
brouillon » (the payments in no docket yet, up to a date), its payments with
their count and total, « Valider… » (confirmed; numbers it B-<régie>-<year>-NNNN
and locks its payments), « Abandonner le brouillon », the validated dockets,
and the exports of the chosen docket: PDF in the viewer (printable), CSV and
ODS saved through Qt's (French) file dialog. « Relevé mensuel… »: a régie's
month for the comptable public, PDF in the viewer, CSV saved.

Everything calls `desk.day` (services/day.py) and services/day_documents.py,
always through worker.run_in_background; the rules, the roles and their
French refusals are the services'. What the operator may not do is read in the
background with the dockets (OperatorService.require) and the buttons it would
refuse are disabled, the reason said beside them.

Keyboard first: every field and button has its Alt+letter, Entrée on a
docket shows its PDF, Échap closes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Callable

from PySide6.QtCore import QDate, QObject, QStandardPaths, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDateEdit,
    QDialog,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMenu,
    QMessageBox,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ..domain import Action, Regie
from ..domain_day import Docket, DocketState, DocketType
from ..formatting import euros, euros_in_words, fr_date, fr_datetime, html_text, os_error_fr
from ..services.errors import DeskError, PermissionDenied
from . import worker
from .pdf_dialog import PdfDialog, PdfSource
from .theme import OK_STYLE, error_label

DOCKETS_KEYS = ["Ctrl+Shift+B"]
REGIES_MAX_AGE = timedelta(hours=12)  # the régie list rarely changes: the cache's copy is enough
STATEMENT_MONTHS = 24  # how far back the month list goes

#: how each type is offered in the dialog (the documents' titles are DocketType.label_fr)
TYPE_CHOICES = {
    DocketType.CHEQUE: "Chèques — remise en banque",
    DocketType.CESU: "CESU — remise au CRCESU",
    DocketType.ANCV: "Chèques-vacances ANCV — remise à l'ANCV",
    DocketType.ESPECES: "Espèces remises au comptable public",
}
NOUNS = {DocketType.CHEQUE: ("chèque", "chèques"), DocketType.CESU: ("paiement CESU", "paiements CESU"),
         DocketType.ANCV: ("paiement ANCV", "paiements ANCV"),
         DocketType.ESPECES: ("paiement en espèces", "paiements en espèces")}
MONTHS = ["janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre",
          "novembre", "décembre"]


def _table(name: str, columns: list[str]) -> QTableWidget:
    table = QTableWidget(0, len(columns))
    table.setObjectName(name)
    table.setHorizontalHeaderLabels(columns)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setTabKeyNavigation(False)
    table.verticalHeader().hide()
    table.setAlternatingRowColors(True)
    table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    table.horizontalHeader().setStretchLastSection(True)
    return table


def _fill(table: QTableWidget, rows: list[list[str]], right: set[int]) -> None:
    table.setRowCount(len(rows))
    for r, cells in enumerate(rows):
        for c, text in enumerate(cells):
            item = QTableWidgetItem(text)
            if c in right:
                item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            table.setItem(r, c, item)


def count_text(docket: Docket) -> str:
    """« 3 chèques — total 1 254,50 € »."""
    one, many = NOUNS[docket.type]
    return f"{docket.count} {one if docket.count == 1 else many} — total {euros(docket.total)}"


def docket_title(docket: Docket) -> str:
    return docket.number if docket.state is DocketState.VALIDATED else f"brouillon n° {docket.id}"


def _file_part(docket: Docket) -> str:
    return docket.number if docket.state is DocketState.VALIDATED else f"brouillon-{docket.id}"


def _refusal(operators, action: Action) -> str | None:
    """In the background: why the operator may not do `action` (the services' sentence), or None."""
    try:
        operators.require(action)
    except PermissionDenied as exc:
        return exc.message
    except DeskError as exc:  # nobody logged in, desk locked
        return exc.message
    return None


def read_regies(desk) -> list[Regie]:
    """In the background: the régies of the desk (Maelis, or the cache's copy)."""
    regies, _freshness = desk.reader.regies(max_age=REGIES_MAX_AGE)
    return list(regies)


def save_dialog(parent: QWidget, title: str, file_name: str, kind: str, suffix: str) -> QFileDialog:
    """Qt's file dialog (in French: the application loads qtbase_fr), opened without blocking."""
    folder = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.DocumentsLocation) or str(Path.home())
    Path(folder).mkdir(parents=True, exist_ok=True)
    dialog = QFileDialog(parent, title, folder, f"{kind} (*.{suffix})")
    dialog.setObjectName("exportDialog")
    # qtbase_fr still translates Qt 5's « Look in: » and « Files of type: », not Qt 6's « &Look in: » and
    # « Files of &type: »: the dialog's labels are said here, the rest is Qt's French
    dialog.setLabelText(QFileDialog.DialogLabel.LookIn, "&Voir dans :")
    dialog.setLabelText(QFileDialog.DialogLabel.FileName, "&Nom de fichier :")
    dialog.setLabelText(QFileDialog.DialogLabel.FileType, "&Type de fichier :")
    dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
    dialog.setDefaultSuffix(suffix)
    dialog.setDirectory(folder)
    dialog.selectFile(file_name)
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    return dialog


@dataclass(frozen=True)
class Written:
    """What became of an export: its path, its size, or why it could not be written."""

    path: str
    size: int = 0
    failure: str | None = None


def _write(path: str, make: Callable[[], bytes]) -> Written:
    """In the background: make the document and write it (a folder read-only, a disk full: said, not raised)."""
    data = make()
    try:
        Path(path).write_bytes(data)
    except OSError as exc:
        return Written(path, failure=f"Impossible d'enregistrer « {path} » : {os_error_fr(exc)}. "
                                     "Rien d'autre n'est perdu : choisissez un autre dossier.")
    return Written(path, len(data))


class Exports:
    """For a dialog with a FileExport in `_export`: what the tests and the window read of it."""

    _export: "FileExport"

    def save_to(self, path: str, make: Callable[[], bytes]) -> None:
        self._export.save_to(path, make)

    @property
    def last_export(self) -> str | None:
        return self._export.last_path


class FileExport:
    """One export of a dialog: the document made and written in the background (disk pool),
    its progress and outcome said in the dialog's `say` label, a failure in its `error` label;
    `done(text)` for what else follows a success (the status bar)."""

    def __init__(self, dialog: QDialog, say: QLabel, error: QLabel, *, label: str, saved: str,
                 done: Callable[[str], None] | None = None):
        self.dialog, self.say, self.error = dialog, say, error
        self.label, self.saved, self.done = label, saved, done
        self.task = worker.Latest()
        self.last_path: str | None = None

    def ask(self, title: str, file_name: str, kind: str, suffix: str, make: Callable[[], bytes]) -> QFileDialog:
        """The French file dialog, opened without blocking; the file chosen is written."""
        dialog = save_dialog(self.dialog, title, file_name, kind, suffix)
        dialog.fileSelected.connect(lambda path: self.save_to(path, make))
        dialog.open()
        return dialog

    def save_to(self, path: str, make: Callable[[], bytes]) -> None:
        if not path:
            return
        self.error.setText("")
        self.say.setText(f"Enregistrement de {path}…")
        self.task.run(self.dialog, lambda: _write(path, make), self._written, self._failed,
                      pool=worker.disk_pool(), label=self.label, critical=True)

    def _written(self, written: Written) -> None:
        if written.failure:
            self.say.setText("")
            self.error.setText(written.failure)
            return
        self.last_path = written.path
        text = f"{self.saved} : {written.path} ({written.size} octets)."
        self.say.setText(text)
        if self.done is not None:
            self.done(text)

    def _failed(self, exc: BaseException) -> None:
        self.say.setText("")
        self.error.setText(worker.error_text(exc))


# --- the dockets ------------------------------------------------------------------------------


@dataclass(frozen=True)
class DocketsState:
    """What the dialog shows for a régie and type, read together in the background."""

    dockets: list[Docket]  # the draft first (if any), then the validated ones, newest first
    manage_refusal: str | None  # why this operator may not prepare, validate or discard

    @property
    def draft(self) -> Docket | None:
        return next((d for d in self.dockets if d.state is DocketState.DRAFT), None)


def read_dockets(desk, regie: int, type: DocketType) -> DocketsState:
    dockets = [d for d in desk.day.dockets(regie) if d.type is type]
    dockets.sort(key=lambda d: (d.state is not DocketState.DRAFT, -(d.validated_at or d.created_at).timestamp()))
    return DocketsState(dockets, _refusal(desk.operators, Action.MANAGE_DOCKETS))


class DocketsDialog(Exports, QDialog):
    """« Bordereaux » of a régie and type: the draft, its payments, the validated ones, the exports."""

    LIST_COLUMNS = ["Bordereau", "État", "Paiements jusqu'au", "Préparé le", "Par", "Validé le", "Par",
                    "Nombre", "Montant"]
    changed = Signal()  # a draft prepared, validated or discarded

    def __init__(self, desk, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("docketsDialog")
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.setWindowTitle("Bordereaux de remise")
        self.desk = desk
        self.regies: list[Regie] = []
        self.state: DocketsState | None = None
        self.pdf: PdfDialog | None = None
        self.export_dialog: QFileDialog | None = None
        self.confirm_box: QMessageBox | None = None
        self._regies_task = worker.Latest()
        self._task = worker.Latest()
        self._action_task = worker.Latest()

        layout = QVBoxLayout(self)
        top = QHBoxLayout()
        self.regie = QComboBox()
        self.regie.setObjectName("docketRegie")
        self.regie.setMinimumWidth(260)
        self.regie.currentIndexChanged.connect(self.reload)
        regie_label = QLabel("&Régie :")
        regie_label.setBuddy(self.regie)
        self.type = QComboBox()
        self.type.setObjectName("docketType")
        for t, text in TYPE_CHOICES.items():
            self.type.addItem(text, t)
        self.type.currentIndexChanged.connect(self.reload)
        type_label = QLabel("&Type :")
        type_label.setBuddy(self.type)
        top.addWidget(regie_label)
        top.addWidget(self.regie, 1)
        top.addSpacing(12)
        top.addWidget(type_label)
        top.addWidget(self.type, 1)
        layout.addLayout(top)

        prepare = QHBoxLayout()
        self.until = QDateEdit()
        self.until.setObjectName("docketUntil")
        self.until.setDisplayFormat("dd/MM/yyyy")
        self.until.setCalendarPopup(True)
        today = desk.day.today()
        self.until.setDate(QDate(today.year, today.month, today.day))
        until_label = QLabel("Paiements &jusqu'au :")
        until_label.setBuddy(self.until)
        self.prepare_button = QPushButton("&Préparer un brouillon")
        self.prepare_button.setObjectName("docketPrepare")
        self.prepare_button.setToolTip("Rassembler les paiements de ce type qui ne sont encore dans aucun bordereau")
        self.prepare_button.clicked.connect(self.prepare)
        prepare.addWidget(until_label)
        prepare.addWidget(self.until)
        prepare.addWidget(self.prepare_button)
        prepare.addStretch(1)
        layout.addLayout(prepare)

        list_label = QLabel("&Liste des bordereaux (le brouillon en cours d'abord) :")
        self.list = _table("docketList", self.LIST_COLUMNS)
        list_label.setBuddy(self.list)
        self.list.currentCellChanged.connect(lambda *_: self._show_current())
        self.list.itemActivated.connect(lambda _item: self.export_pdf())
        layout.addWidget(list_label)
        layout.addWidget(self.list, 2)

        self.lines_box = QGroupBox("Paiements du bordereau")
        box = QVBoxLayout(self.lines_box)
        self.lines = _table("docketLines", [])
        self.lines.setToolTip("Les paiements du bordereau choisi")
        lines_label = QLabel("Paie&ments :")
        lines_label.setBuddy(self.lines)
        box.addWidget(lines_label)
        box.addWidget(self.lines, 1)
        self.totals = QLabel("")
        self.totals.setObjectName("docketTotals")
        self.totals.setWordWrap(True)
        box.addWidget(self.totals)
        layout.addWidget(self.lines_box, 3)

        self.info = QLabel("Lecture des régies…")
        self.info.setObjectName("docketInfo")
        self.info.setWordWrap(True)
        layout.addWidget(self.info)
        self.outcome = QLabel("")
        self.outcome.setObjectName("docketOutcome")  # what the last action did (validated, exported...)
        self.outcome.setWordWrap(True)
        self.outcome.setStyleSheet(OK_STYLE)
        layout.addWidget(self.outcome)
        self.rights = QLabel("")
        self.rights.setObjectName("docketRights")
        self.rights.setWordWrap(True)
        layout.addWidget(self.rights)
        self.error = error_label("docketError")
        self._export = FileExport(self, self.outcome, self.error, label="Export du bordereau…",
                                  saved="Bordereau exporté", done=self._announce)
        layout.addWidget(self.error)

        buttons = QHBoxLayout()
        self.validate_button = QPushButton("&Valider…")
        self.validate_button.setObjectName("docketValidate")
        self.validate_button.setToolTip("Numéroter le brouillon et verrouiller ses paiements (après confirmation)")
        self.validate_button.clicked.connect(self.ask_validate)
        self.discard_button = QPushButton("&Abandonner le brouillon")
        self.discard_button.setObjectName("docketDiscard")
        self.discard_button.clicked.connect(self.discard)
        self.pdf_button = QPushButton("P&DF…")
        self.pdf_button.setObjectName("docketPdf")
        self.pdf_button.setToolTip("Entrée sur un bordereau : l'afficher en PDF, à imprimer (Ctrl+P)")
        self.pdf_button.clicked.connect(self.export_pdf)
        self.csv_button = QPushButton("&CSV…")
        self.csv_button.setObjectName("docketCsv")
        self.csv_button.setToolTip("Enregistrer en CSV (« ; », virgule décimale, UTF-8) pour un tableur")
        self.csv_button.clicked.connect(lambda: self.export_file("csv"))
        self.ods_button = QPushButton("&ODS…")
        self.ods_button.setObjectName("docketOds")
        self.ods_button.setToolTip("Enregistrer en classeur OpenDocument (LibreOffice)")
        self.ods_button.clicked.connect(lambda: self.export_file("ods"))
        self.close_button = QPushButton("&Fermer")
        self.close_button.setObjectName("docketClose")
        self.close_button.clicked.connect(self.reject)
        for b in (self.prepare_button, self.validate_button, self.discard_button, self.pdf_button, self.csv_button,
                  self.ods_button, self.close_button):
            b.setAutoDefault(False)
        buttons.addWidget(self.validate_button)
        buttons.addWidget(self.discard_button)
        buttons.addStretch(1)
        buttons.addWidget(QLabel("Exporter :"))
        buttons.addWidget(self.pdf_button)
        buttons.addWidget(self.csv_button)
        buttons.addWidget(self.ods_button)
        buttons.addSpacing(12)
        buttons.addWidget(self.close_button)
        layout.addLayout(buttons)
        self.resize(1000, 680)
        self._apply()
        self.regie.setFocus()
        self._regies_task.run(self, lambda: read_regies(desk), self._regies_read, self._failed,
                              pool=worker.network_pool(), label="")

    def keyPressEvent(self, event) -> None:  # noqa: N802 - Qt's name
        """Entrée in a table opens the docket's PDF (itemActivated), and nothing else: the view
        passes the key on, and the dialog would also press its default button (« Préparer un
        brouillon » gathered the waiting payments into a new draft behind the cashier's back)."""
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and isinstance(self.focusWidget(),
                                                                                QAbstractItemView):
            event.accept()
            return
        super().keyPressEvent(event)

    # -- reading -------------------------------------------------------------------------------

    def _regies_read(self, regies: list[Regie]) -> None:
        self.regies = regies
        self.regie.blockSignals(True)
        self.regie.clear()
        for r in regies:
            self.regie.addItem(f"{r.code} — {r.label}", r.code)
        self.regie.blockSignals(False)
        if not regies:
            self.info.setText("Aucune régie connue sur ce poste.")
            return
        self.reload()

    def current_regie(self) -> int | None:
        return self.regie.currentData()

    def current_type(self) -> DocketType:
        return DocketType(self.type.currentData())

    def reload(self, *_args, select: int | None = None) -> None:
        regie, type, desk = self.current_regie(), self.current_type(), self.desk
        if regie is None:
            return
        self.info.setText("Lecture des bordereaux…")
        self._task.run(self, lambda: read_dockets(desk, regie, type), lambda s: self._read(s, select),
                       self._failed, pool=worker.disk_pool(), label="")

    def _failed(self, exc: BaseException) -> None:
        self.state = None
        self.list.setRowCount(0)
        self.lines.setRowCount(0)
        self.totals.setText("")
        self.info.setText("")
        self.error.setText(worker.error_text(exc))
        self._apply()

    def _read(self, state: DocketsState, select: int | None) -> None:
        self.state = state
        self.error.setText("")
        rows = []
        for d in state.dockets:
            rows.append([d.number or f"Brouillon n° {d.id}", d.state.label_fr, f"{d.until:%d/%m/%Y}",
                         fr_datetime(d.created_at), d.created_by, fr_datetime(d.validated_at), d.validated_by or "",
                         str(d.count), euros(d.total)])
        self.list.blockSignals(True)
        _fill(self.list, rows, {7, 8})
        self.list.blockSignals(False)
        ids = [d.id for d in state.dockets]
        row = ids.index(select) if select in ids else (0 if ids else -1)
        if row >= 0:
            self.list.setCurrentCell(row, 0)
        self._show_current()

    def current_docket(self) -> Docket | None:
        if self.state is None:
            return None
        row = self.list.currentRow()
        return self.state.dockets[row] if 0 <= row < len(self.state.dockets) else None

    def _show_current(self) -> None:
        from ..services.day_documents import docket_columns

        docket = self.current_docket()
        if docket is None:
            self.lines.setColumnCount(0)
            self.lines.setRowCount(0)
            self.totals.setText("")
            self.lines_box.setTitle("Paiements du bordereau")
        else:
            cols = docket_columns(docket)
            headers = ["N°", "Date"] + [t for t, _k in cols if t != "Date"]
            keys = [k for _t, k in cols if k != "date"]
            self.lines.setColumnCount(len(headers))
            self.lines.setHorizontalHeaderLabels(headers)
            rows = [[str(i), fr_date(line.created_at)] + [_line_text(line, k) for k in keys]
                    for i, line in enumerate(docket.lines, 1)]
            _fill(self.lines, rows, {0, len(headers) - 1})
            self.lines_box.setTitle(f"{docket.type.label_fr} — {docket_title(docket)}")
            self.totals.setText(f"<b>{html_text(count_text(docket))}</b> (soit {html_text(euros_in_words(docket.total))})")
        self._apply()

    # -- what may be done ----------------------------------------------------------------------

    def _apply(self) -> None:
        state, docket = self.state, self.current_docket()
        busy = self._action_task.busy
        refusal = state.manage_refusal if state is not None else None
        may_manage = state is not None and refusal is None and not busy
        draft = state.draft if state is not None else None
        self.prepare_button.setEnabled(may_manage and draft is None)
        self.until.setEnabled(may_manage and draft is None)
        is_draft = docket is not None and docket.state is DocketState.DRAFT
        self.validate_button.setEnabled(may_manage and is_draft)
        self.discard_button.setEnabled(may_manage and is_draft)
        for b in (self.pdf_button, self.csv_button, self.ods_button):
            b.setEnabled(docket is not None)
        self.rights.setText(f"Consultation seulement : {refusal}" if refusal else "")
        for b in (self.prepare_button, self.validate_button, self.discard_button):
            b.setToolTip(refusal or _TIPS[b.objectName()])
        # Entrée does what comes next: prepare when there is no draft, else validate the draft
        self.prepare_button.setDefault(self.prepare_button.isEnabled())
        self.validate_button.setDefault(not self.prepare_button.isEnabled() and self.validate_button.isEnabled())
        if state is None:
            return
        if draft is not None:
            self.info.setText(f"Un brouillon est en cours ({count_text(draft)}) : validez-le (Alt+V) ou "
                              "abandonnez-le (Alt+A) avant d'en préparer un autre.")
        elif state.dockets:
            self.info.setText(f"Aucun brouillon. {len(state.dockets)} bordereau(x) validé(s) ; Entrée sur l'un "
                              "d'eux : son PDF.")
        else:
            self.info.setText("Aucun bordereau de ce type pour cette régie : préparez un brouillon (Alt+P).")

    # -- the draft -----------------------------------------------------------------------------

    def prepare(self) -> None:
        regie, type, day = self.current_regie(), self.current_type(), self.desk.day
        if regie is None or not self.prepare_button.isEnabled():
            return
        q = self.until.date()
        until = date(q.year(), q.month(), q.day())
        self._act(lambda: day.create_docket(regie, type, until), "Préparation du brouillon…",
                  lambda d: f"Brouillon préparé : {count_text(d)}.")

    def ask_validate(self) -> QMessageBox | None:
        docket = self.current_docket()
        if docket is None or docket.state is not DocketState.DRAFT or not self.validate_button.isEnabled():
            return None
        box = QMessageBox(self)
        box.setObjectName("docketConfirm")
        box.setIcon(QMessageBox.Icon.Question)
        box.setWindowTitle("Valider le bordereau")
        box.setText(f"<b>Valider le {html_text(docket.type.label_fr.lower())} de la régie {docket.regie} ?</b>")
        box.setInformativeText(f"{count_text(docket)}. Le bordereau recevra son numéro et ses paiements ne "
                               "pourront plus être annulés.")
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        go = box.addButton("&Valider", QMessageBox.ButtonRole.AcceptRole)
        go.setObjectName("docketConfirmGo")
        cancel = box.addButton("Annuler", QMessageBox.ButtonRole.RejectRole)
        box.setDefaultButton(go)
        box.setEscapeButton(cancel)
        docket_id, day = docket.id, self.desk.day
        go.clicked.connect(lambda: self._act(lambda: day.validate_docket(docket_id), "Validation du bordereau…",
                                             lambda d: f"Bordereau validé : n° {d.number} ({count_text(d)})."))
        self.confirm_box = box
        box.open()
        return box

    def discard(self) -> None:
        docket = self.current_docket()
        if docket is None or docket.state is not DocketState.DRAFT or not self.discard_button.isEnabled():
            return
        docket_id, day = docket.id, self.desk.day

        def run() -> None:
            day.discard_docket(docket_id)

        self._act(run, "Abandon du brouillon…", lambda _r: "Brouillon abandonné : ses paiements attendront "
                                                          "le prochain bordereau.")

    def _act(self, op: Callable[[], object], label: str, said: Callable[[object], str]) -> None:
        self.error.setText("")
        self.outcome.setText(label)
        self._action_task.run(self, op, lambda result: self._done(result, said), self._refused,
                              pool=worker.disk_pool(), label=label, critical=True)
        self._apply()

    def _done(self, result, said: Callable[[object], str]) -> None:
        self._action_task.task = None
        text = said(result)
        self.changed.emit()
        self.reload(select=result.id if isinstance(result, Docket) else None)
        self.error.setText("")
        self.outcome.setText(text)
        self.activateWindow()  # the confirmation gone, the keyboard comes back here
        self.list.setFocus()
        self._announce(text)

    def _announce(self, text: str) -> None:
        owner = self.parentWidget()
        if owner is not None and hasattr(owner, "statusBar"):
            owner.statusBar().showMessage(text, 15000)

    def _refused(self, exc: BaseException) -> None:
        self._action_task.task = None
        self.outcome.setText("")
        self.error.setText(worker.error_text(exc))
        self._apply()
        self.activateWindow()
        self.list.setFocus()

    # -- exports -------------------------------------------------------------------------------

    def export_pdf(self) -> PdfDialog | None:
        from ..services.day_documents import docket_pdf

        docket = self.current_docket()
        if docket is None:
            return None
        city, title = self.desk.settings.city, docket_title(docket)
        source = PdfSource(
            title=f"{docket.type.label_fr} {title}",
            doc_name=f"Bordereau {title}",
            what=f"le bordereau {title}",
            file_name=f"bordereau-{_file_part(docket)}.pdf",
            loading=f"Préparation du bordereau {title}…",
            origin="fait sur ce poste à partir des paiements enregistrés",
            failure_hint="Le bordereau reste enregistré ; réessayez depuis Régie > Bordereaux.",
            saved="Bordereau enregistré",
            load=lambda: docket_pdf(docket, city=city),
        )
        self.pdf = PdfDialog(source, self, pool=worker.disk_pool())
        self.pdf.docket = docket
        self.pdf.show()  # on top, focused: Ctrl+P prints
        self.pdf.activateWindow()
        return self.pdf

    def export_file(self, suffix: str) -> QFileDialog | None:
        from ..services.day_documents import docket_csv, docket_ods

        docket = self.current_docket()
        if docket is None:
            return None
        make, kind = {"csv": (docket_csv, "Fichiers CSV pour tableur"),
                      "ods": (docket_ods, "Classeurs OpenDocument")}[suffix]
        self.export_dialog = self._export.ask(f"Exporter le bordereau {docket_title(docket)} ({suffix.upper()})",
                                              f"bordereau-{_file_part(docket)}.{suffix}", kind, suffix,
                                              lambda: make(docket))
        return self.export_dialog


_TIPS = {
    "docketPrepare": "Rassembler les paiements de ce type qui ne sont encore dans aucun bordereau",
    "docketValidate": "Numéroter le brouillon et verrouiller ses paiements (après confirmation)",
    "docketDiscard": "Supprimer le brouillon : ses paiements attendront le prochain bordereau",
}


def _line_text(line, key: str) -> str:
    from ..services.day_documents import line_value

    return line_value(line, key)


# --- the monthly statement ---------------------------------------------------------------------


class StatementDialog(Exports, QDialog):
    """« Relevé mensuel » : a régie's month for the comptable public, PDF (viewer) or CSV (saved)."""

    def __init__(self, desk, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("statementDialog")
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.setWindowTitle("Relevé mensuel de la régie")
        self.desk = desk
        self.pdf: PdfDialog | None = None
        self.export_dialog: QFileDialog | None = None
        self.refusal: str | None = None
        self._regies_task = worker.Latest()
        self._rights_task = worker.Latest()

        layout = QVBoxLayout(self)
        head = QLabel("<b>État mensuel pour le comptable public</b> : encaissements par mode, annulations, "
                      "bordereaux validés, sessions de caisse arrêtées et leurs écarts.")
        head.setWordWrap(True)
        layout.addWidget(head)
        form = QFormLayout()
        self.regie = QComboBox()
        self.regie.setObjectName("statementRegie")
        self.regie.setMinimumWidth(280)
        form.addRow("&Régie :", self.regie)
        self.month = QComboBox()
        self.month.setObjectName("statementMonth")
        today = desk.day.today()
        y, m = today.year, today.month
        for _i in range(STATEMENT_MONTHS):
            self.month.addItem(f"{MONTHS[m - 1]} {y}", (y, m))
            y, m = (y, m - 1) if m > 1 else (y - 1, 12)
        form.addRow("&Mois :", self.month)
        layout.addLayout(form)
        self.info = QLabel("Lecture des régies…")
        self.info.setObjectName("statementInfo")
        self.info.setWordWrap(True)
        layout.addWidget(self.info)
        self.error = error_label("statementError")
        self._export = FileExport(self, self.info, self.error, label="Export de l'état mensuel…",
                                  saved="État mensuel enregistré")
        layout.addWidget(self.error)
        layout.addStretch(1)
        row = QHBoxLayout()
        row.addStretch(1)
        self.pdf_button = QPushButton("&Afficher le PDF")
        self.pdf_button.setObjectName("statementPdf")
        self.pdf_button.setToolTip("Entrée : l'état du mois en PDF, à imprimer (Ctrl+P)")
        self.pdf_button.setDefault(True)
        self.pdf_button.clicked.connect(self.show_pdf)
        self.csv_button = QPushButton("Enregistrer en &CSV…")
        self.csv_button.setObjectName("statementCsv")
        self.csv_button.setAutoDefault(False)
        self.csv_button.clicked.connect(self.export_csv)
        self.close_button = QPushButton("&Fermer")
        self.close_button.setAutoDefault(False)
        self.close_button.clicked.connect(self.reject)
        for b in (self.pdf_button, self.csv_button, self.close_button):
            row.addWidget(b)
        layout.addLayout(row)
        self.resize(560, 240)
        self._apply()
        self.regie.setFocus()
        self._regies_task.run(self, lambda: read_regies(desk), self._regies_read, self._failed,
                              pool=worker.network_pool(), label="")
        ops = desk.operators
        self._rights_task.run(self, lambda: _refusal(ops, Action.SEE_DOCKETS), self._rights_read, self._failed,
                              pool=worker.disk_pool(), label="")

    def _regies_read(self, regies: list[Regie]) -> None:
        self.regie.clear()
        for r in regies:
            self.regie.addItem(f"{r.code} — {r.label}", r.code)
        self.info.setText("" if regies else "Aucune régie connue sur ce poste.")
        self._apply()

    def _rights_read(self, refusal: str | None) -> None:
        self.refusal = refusal
        if refusal:
            self.error.setText(refusal)
        self._apply()

    def _failed(self, exc: BaseException) -> None:
        self.error.setText(worker.error_text(exc))

    def _apply(self) -> None:
        ok = self.regie.count() > 0 and self.refusal is None
        self.pdf_button.setEnabled(ok)
        self.csv_button.setEnabled(ok)

    def chosen(self) -> tuple[int, int, int] | None:
        regie = self.regie.currentData()
        if regie is None:
            return None
        year, month = self.month.currentData()
        return regie, year, month

    def show_pdf(self) -> PdfDialog | None:
        from ..services.day_documents import statement_pdf

        chosen = self.chosen()
        if chosen is None or not self.pdf_button.isEnabled():
            return None
        regie, year, month = chosen
        day, city, period = self.desk.day, self.desk.settings.city, f"{MONTHS[month - 1]} {year}"
        source = PdfSource(
            title=f"État mensuel de la régie {regie} — {period}",
            doc_name=f"Etat {regie} {year}-{month:02d}",
            what=f"l'état de {period} de la régie {regie}",
            file_name=f"etat-{regie}-{year}-{month:02d}.pdf",
            loading=f"Préparation de l'état de {period}…",
            origin="fait sur ce poste à partir des paiements, bordereaux et arrêtés enregistrés",
            failure_hint="Rien n'est perdu ; réessayez depuis Régie > Relevé mensuel.",
            saved="État mensuel enregistré",
            load=lambda: statement_pdf(day.statement(regie, year, month), city=city),
        )
        self.pdf = PdfDialog(source, self, pool=worker.disk_pool())
        self.pdf.show()
        self.pdf.activateWindow()
        return self.pdf

    def export_csv(self) -> QFileDialog | None:
        from ..services.day_documents import statement_csv

        chosen = self.chosen()
        if chosen is None or not self.csv_button.isEnabled():
            return None
        regie, year, month = chosen
        day = self.desk.day
        self.export_dialog = self._export.ask(f"Enregistrer l'état de {MONTHS[month - 1]} {year} (CSV)",
                                              f"etat-{regie}-{year}-{month:02d}.csv", "Fichiers CSV pour tableur",
                                              "csv", lambda: statement_csv(day.statement(regie, year, month)))
        return self.export_dialog


# --- the window's side: the « Régie » menu -----------------------------------------------------


class RegieActions(QObject):
    """The main window's « Régie » menu: its actions (F1 lists them) and its dialogs."""

    def __init__(self, window):
        super().__init__(window)
        self.window = window
        self.desk = window.desk
        self.dockets_action = window._action("&Bordereaux…", DOCKETS_KEYS, self.open_dockets,
                                             "Bordereaux de remise (chèques, CESU, ANCV, espèces) : préparer, "
                                             "valider, exporter")
        self.statement_action = window._action("&Relevé mensuel…", [], self.open_statement,
                                               "État mensuel d'une régie pour le comptable public (PDF, CSV)")

    def menu(self) -> QMenu:
        menu = QMenu("Ré&gie", self.window)
        menu.setObjectName("regieMenu")
        menu.addAction(self.dockets_action)
        menu.addAction(self.statement_action)
        menu.setToolTipsVisible(True)
        return menu

    def open_dockets(self) -> DocketsDialog:
        dialog = DocketsDialog(self.desk, self.window)
        dialog.show()
        dialog.activateWindow()
        return dialog

    def open_statement(self) -> StatementDialog:
        dialog = StatementDialog(self.desk, self.window)
        dialog.show()
        dialog.activateWindow()
        return dialog


def install(window) -> QMenu:
    """One line in the main window's menus: the « Régie » menu, its actions kept as `window.regie_docs`."""
    window.regie_docs = RegieActions(window)
    return window.regie_docs.menu()
