"""Operators in the window (issue 11 point 1, the window's side; point 2 for the settings).

* `CounterActions`: what the main window hooks with one line. Its « Fichier » entries:
  « Verrouiller le poste » (Ctrl+L), « Changer d'opérateur… » (Ctrl+Shift+L),
  « Opérateurs… » (the régisseur's), « Créer le compte du régisseur… » (one-person desk);
  the status bar's « who is at the counter »; the idle lock (Settings.lock_after minutes
  without keyboard or mouse input, an application event filter and a single-shot QTimer;
  0: never); what each role may click (« Réglages… », « Opérateurs… »: disabled with the
  service's own refusal as tooltip and status tip).
* `LockScreen`: covers the window's content (nothing of the family stays visible, the
  window title included); the operator's password unlocks (OperatorService.unlock), or
  another login and its password log that operator in instead (a switch). Dialogs open at
  lock time (a payment being typed) are hidden, not closed: the same operator unlocking
  finds them again as they were; another operator logging in at the lock screen gets none
  of them (they are rejected, nothing they held is saved or applied, and the status bar
  says so). The same holds for « Changer d'opérateur… »: the previous operator's windows
  close when someone else logs in. While locked, every shortcut of the window is swallowed
  and the menu bar is disabled.
* `OperatorsDialog`: the accounts (login, name, role, active), add (password twice),
  disable/enable, change role, new password; everything through OperatorService, which
  enforces the roles (a cashier or supervisor is refused there, in French).

Every check of a password (argon2) and every database read runs in the disk pool.
"""

from __future__ import annotations

from dataclasses import dataclass

import shiboken6
from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ..domain import Action, Operator, Role
from ..formatting import html_text
from ..services.errors import AuthenticationRefused, PermissionDenied
from . import worker
from .login_dialog import FirstAccountDialog, LoginDialog
from .theme import app_icon, error_label, password_edit

LOCK_KEYS = ["Ctrl+L"]
SWITCH_KEYS = ["Ctrl+Shift+L"]
LOCKED_TITLE = "Poste verrouillé"
ONE_PERSON_STATUS = "Poste à une personne"
_INPUT = {QEvent.Type.KeyPress, QEvent.Type.MouseButtonPress, QEvent.Type.MouseMove, QEvent.Type.Wheel,
          QEvent.Type.TouchBegin}
#: the window's actions that only some roles may use, and what they need
GUARDED = (("settings_action", Action.CHANGE_SETTINGS),)


@dataclass(frozen=True)
class Counter:
    """Who is at the counter, read off the GUI thread (the accounts' count is a database read)."""

    accounts: bool
    operator: Operator | None
    locked: bool
    refusals: dict  # Action -> the service's refusal (None: allowed)

    def status_text(self) -> str:
        if not self.accounts:
            return ONE_PERSON_STATUS
        if self.operator is None:
            return "Aucun opérateur identifié"
        who = f"{self.operator.full_name} — {self.operator.role.label_fr}"
        return f"Verrouillé ({who})" if self.locked else f"Au guichet : {who}"


def read_counter(operators) -> Counter:
    accounts = operators.has_accounts()
    operator, locked = operators.present
    if operator is None and not accounts:
        operator = operators.current_or_none  # the one-person desk's implicit régisseur
    refusals = {}
    for action in {a for _n, a in GUARDED} | {Action.MANAGE_OPERATORS}:
        try:
            operators.require(action)
            refusals[action] = None
        except (PermissionDenied, AuthenticationRefused) as exc:
            refusals[action] = worker.error_text(exc)
    return Counter(accounts, operator, locked, refusals)


# --- the lock screen ---------------------------------------------------------------------


class LockScreen(QFrame):
    """Over the window's content while the desk is locked."""

    unlocked = Signal(object)  # the operator now at the counter

    def __init__(self, window, desk):
        super().__init__(window)
        self.setObjectName("lockScreen")
        self.desk = desk
        self._task = worker.Latest()
        self.setAutoFillBackground(True)
        card = QFrame()
        card.setObjectName("lockCard")
        card.setMaximumWidth(460)
        head = QLabel(LOCKED_TITLE)
        head.setStyleSheet("font-size: 18pt; font-weight: bold;")
        self.who = QLabel("")
        self.who.setObjectName("lockWho")
        self.who.setWordWrap(True)
        hint = QLabel("Saisissez votre mot de passe pour reprendre. Un autre opérateur peut aussi "
                      "s'identifier à la place : il change l'identifiant et donne son mot de passe.")
        hint.setWordWrap(True)
        self.login_edit = QLineEdit()
        self.login_edit.setObjectName("lockLogin")
        self.login_edit.setMaxLength(32)
        self.password_edit = password_edit("lockPassword")
        form = QFormLayout()
        form.addRow("&Identifiant :", self.login_edit)
        form.addRow("Mot de &passe :", self.password_edit)
        self.error = error_label("operatorError", hidden=True)
        self.unlock_button = QPushButton("&Déverrouiller")
        self.unlock_button.setObjectName("unlockButton")
        self.unlock_button.setDefault(True)
        self.unlock_button.clicked.connect(self.submit)
        for edit in (self.login_edit, self.password_edit):
            edit.returnPressed.connect(self.submit)
        inner = QVBoxLayout(card)
        inner.setContentsMargins(24, 20, 24, 20)
        inner.addWidget(head)
        inner.addWidget(self.who)
        inner.addWidget(hint)
        inner.addLayout(form)
        inner.addWidget(self.error)
        inner.addWidget(self.unlock_button, 0, Qt.AlignmentFlag.AlignRight)
        outer = QVBoxLayout(self)
        outer.addStretch(1)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(card)
        row.addStretch(1)
        outer.addLayout(row)
        outer.addStretch(2)
        self.hide()

    def show_for(self, operator: Operator | None) -> None:
        self.who.setText(f"Opérateur : <b>{html_text(operator.label)}</b>" if operator else "")
        self.login_edit.setText(operator.login if operator else "")
        self.password_edit.clear()
        self.error.hide()
        self.unlock_button.setEnabled(True)
        self.show()
        self.raise_()
        self.password_edit.setFocus()

    @property
    def busy(self) -> bool:
        return self._task.busy

    def submit(self) -> None:
        if self.busy:
            return
        login, password = self.login_edit.text().strip().lower(), self.password_edit.text()
        if not login:
            self._refuse("Indiquez votre identifiant.", self.login_edit)
            return
        operators = self.desk.operators
        current, _locked = operators.present
        same = current is not None and current.login == login

        def check() -> Operator:  # argon2: off the GUI thread
            return operators.unlock(password) if same else operators.login(login, password)

        self.unlock_button.setEnabled(False)
        self._task.run(self, check, self._accepted, self._refused, pool=worker.disk_pool(), label="")

    def _accepted(self, operator: Operator) -> None:
        self.unlock_button.setEnabled(True)
        self.unlocked.emit(operator)

    def _refused(self, exc: BaseException) -> None:
        self.unlock_button.setEnabled(True)
        self._refuse(worker.error_text(exc), self.password_edit)

    def _refuse(self, text: str, field: QLineEdit) -> None:
        self.error.setText(text)
        self.error.show()
        if field is self.password_edit:
            field.clear()
        field.setFocus()


# --- the operators dialog ------------------------------------------------------------------


class AccountDialog(QDialog):
    """Add an account (`login` empty), change a role (`mode="role"`) or set a password
    (`mode="password"`); `done_with(operator)` once the service did it."""

    changed = Signal(object)

    def __init__(self, desk, parent, *, mode: str = "add", login: str = "", role: Role | None = None):
        super().__init__(parent)
        self.setObjectName("accountDialog")
        self.desk, self.mode, self.target = desk, mode, login
        self._task = worker.Latest()
        self.setWindowTitle({"add": "Nouvel opérateur", "role": f"Rôle de « {login} »",
                             "password": f"Nouveau mot de passe de « {login} »"}[mode])
        form = QFormLayout()
        self.login_edit = QLineEdit(login)
        self.login_edit.setObjectName("accountLogin")
        self.login_edit.setMaxLength(32)
        self.name_edit = QLineEdit()
        self.name_edit.setObjectName("accountName")
        self.name_edit.setMaxLength(200)
        self.role_combo = QComboBox()
        self.role_combo.setObjectName("accountRole")
        for r in Role:
            self.role_combo.addItem(r.label_fr, r)
        self.role_combo.setCurrentIndex(list(Role).index(role or Role.CAISSIER))
        self.password_edit = password_edit("accountPassword")
        self.confirm_edit = password_edit("accountPasswordAgain")
        if mode == "add":
            form.addRow("&Identifiant :", self.login_edit)
            form.addRow("&Nom complet :", self.name_edit)
        if mode in ("add", "role"):
            form.addRow("&Rôle :", self.role_combo)
        if mode in ("add", "password"):
            form.addRow("Mot de &passe :", self.password_edit)
            form.addRow("&Confirmation :", self.confirm_edit)
        self.error = error_label("operatorError", hidden=True)
        buttons = QDialogButtonBox()
        self.ok_button = buttons.addButton("&Enregistrer", QDialogButtonBox.ButtonRole.AcceptRole)
        self.ok_button.setDefault(True)
        buttons.addButton("&Annuler", QDialogButtonBox.ButtonRole.RejectRole)
        buttons.accepted.connect(self.submit)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(buttons)
        self.setMinimumWidth(420)
        self._first = {"add": self.login_edit, "role": self.role_combo, "password": self.password_edit}[mode]

    def showEvent(self, event) -> None:
        super().showEvent(event)
        self._first.setFocus()

    def submit(self) -> None:
        if self._task.busy:
            return
        operators, mode = self.desk.operators, self.mode
        password, role = self.password_edit.text(), self.role_combo.currentData()
        if mode in ("add", "password") and password != self.confirm_edit.text():
            self.confirm_edit.clear()
            self.error.setText("Les deux mots de passe ne sont pas les mêmes.")
            self.error.show()
            self.password_edit.setFocus()
            self.password_edit.selectAll()
            return
        login, name, target = self.login_edit.text(), self.name_edit.text(), self.target
        if mode == "add":
            def op(): return operators.add(login, name, role, password)
        elif mode == "role":
            def op(): return operators.set_role(target, role)
        else:
            def op(): return operators.set_password(target, password)
        self.ok_button.setEnabled(False)
        self._task.run(self, op, self._done, self._refused, pool=worker.disk_pool(), label="", critical=True)

    def _done(self, operator: Operator) -> None:
        self.changed.emit(operator)
        self.accept()

    def _refused(self, exc: BaseException) -> None:
        self.ok_button.setEnabled(True)
        self.error.setText(worker.error_text(exc))
        self.error.show()
        self._first.setFocus()


class OperatorsDialog(QDialog):
    """The régisseur's list of accounts. Opened by anyone, it asks the service first: a
    role that may not manage operators reads the service's refusal and nothing else."""

    COLUMNS = ("Identifiant", "Nom", "Rôle", "Actif")

    def __init__(self, desk, parent=None):
        super().__init__(parent)
        self.setObjectName("operatorsDialog")
        self.setWindowTitle("Opérateurs")
        self.setWindowIcon(app_icon())
        self.desk = desk
        self.accounts: list[Operator] = []
        self._task = worker.Latest()
        self.table = QTableWidget(0, len(self.COLUMNS))
        self.table.setObjectName("operatorsTable")
        self.table.setHorizontalHeaderLabels(self.COLUMNS)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.table.itemSelectionChanged.connect(self._selection)
        self.error = error_label("operatorError", hidden=True)
        self.add_button = QPushButton("&Ajouter…")
        self.toggle_button = QPushButton("&Désactiver")
        self.role_button = QPushButton("Changer le &rôle…")
        self.password_button = QPushButton("Nouveau &mot de passe…")
        close = QPushButton("&Fermer")
        self.add_button.clicked.connect(self.add)
        self.toggle_button.clicked.connect(self.toggle)
        self.role_button.clicked.connect(lambda: self._account("role"))
        self.password_button.clicked.connect(lambda: self._account("password"))
        close.clicked.connect(self.reject)
        self.buttons = (self.add_button, self.toggle_button, self.role_button, self.password_button)
        for button in self.buttons:
            button.setAutoDefault(False)
            button.setEnabled(False)
        side = QVBoxLayout()
        for button in self.buttons:
            side.addWidget(button)
        side.addStretch(1)
        side.addWidget(close)
        row = QHBoxLayout()
        row.addWidget(self.table, 1)
        row.addLayout(side)
        layout = QVBoxLayout(self)
        layout.addLayout(row, 1)
        layout.addWidget(self.error)
        self.resize(720, 380)
        self.reload()

    def reload(self, select: str | None = None) -> None:
        operators = self.desk.operators

        def read():
            operators.require(Action.MANAGE_OPERATORS)
            return operators.list()

        self._task.run(self, read, lambda rows: self._show(rows, select), self._refused,
                       pool=worker.disk_pool(), label="")

    def _show(self, rows: list[Operator], select: str | None) -> None:
        self.accounts = rows
        self.error.hide()
        self.table.setRowCount(len(rows))
        for i, o in enumerate(rows):
            for j, text in enumerate((o.login, o.full_name, o.role.label_fr, "oui" if o.active else "non")):
                self.table.setItem(i, j, QTableWidgetItem(text))
        self.table.resizeColumnToContents(0)
        self.table.resizeColumnToContents(2)
        self.add_button.setEnabled(True)
        logins = [o.login for o in rows]
        self.table.selectRow(logins.index(select) if select in logins else 0)
        self._selection()
        self.table.setFocus()

    def _refused(self, exc: BaseException) -> None:
        self.error.setText(worker.error_text(exc))
        self.error.show()

    def selected(self) -> Operator | None:
        row = self.table.currentRow()
        return self.accounts[row] if 0 <= row < len(self.accounts) else None

    def _selection(self) -> None:
        chosen = self.selected()
        for button in (self.toggle_button, self.role_button, self.password_button):
            button.setEnabled(chosen is not None)
        self.toggle_button.setText("&Réactiver" if chosen is not None and not chosen.active else "&Désactiver")

    def add(self) -> AccountDialog:
        dialog = AccountDialog(self.desk, self, mode="add")
        dialog.changed.connect(lambda o: self.reload(o.login))
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()
        return dialog

    def _account(self, mode: str) -> AccountDialog | None:
        chosen = self.selected()
        if chosen is None:
            return None
        dialog = AccountDialog(self.desk, self, mode=mode, login=chosen.login, role=chosen.role)
        dialog.changed.connect(lambda o: self.reload(o.login))
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()
        return dialog

    def toggle(self) -> None:
        chosen = self.selected()
        if chosen is None:
            return
        operators = self.desk.operators
        op = (lambda: operators.disable(chosen.login)) if chosen.active else (lambda: operators.enable(chosen.login))
        worker.run_in_background(self, op, lambda o: self.reload(o.login), self._refused,
                                 pool=worker.disk_pool(), label="", critical=True)

    def done(self, result: int) -> None:
        self._task.cancel()
        super().done(result)


# --- the window's side -------------------------------------------------------------------


class CounterActions(QObject):
    """The main window's operator entries, lock and status; built in its _build_actions
    (`window.counter = CounterActions(window)`), its `file_actions()` go in « Fichier »."""

    _moved = Signal()

    def __init__(self, window):
        super().__init__(window)
        self.window = window
        self.desk = window.desk
        self.state: Counter | None = None
        self._task = worker.Latest()
        self._hidden: list[QWidget] = []
        self._hidden_for: Operator | None = None  # whose dialogs _hidden holds
        self.lock_action = window._action("&Verrouiller le poste", LOCK_KEYS, self.lock,
                                          "Cacher le poste jusqu'au mot de passe de l'opérateur")
        self.switch_action = window._action("C&hanger d'opérateur…", SWITCH_KEYS, self.switch,
                                            "Un autre opérateur s'identifie, sans quitter le poste")
        self.operators_action = window._action("&Opérateurs…", [], self.open_operators,
                                               "Les comptes des opérateurs et leurs rôles (régisseur)")
        self.first_account_action = window._action("Créer le compte du &régisseur…", [], self.first_account,
                                                   "Créer le premier compte : le poste ne sera plus à une personne")
        self._tips = {a: a.toolTip() for a in (self.operators_action, *self._guarded())}
        self.label = QLabel("")
        self.label.setObjectName("operatorLabel")
        self.label.setToolTip("Qui est au guichet (Fichier > Changer d'opérateur…)")
        window.statusBar().addPermanentWidget(self.label)
        self.lock_screen = LockScreen(window, self.desk)
        self.lock_screen.unlocked.connect(self._unlocked)
        window.windowTitleChanged.connect(self._title_changed)
        window.installEventFilter(self)
        minutes = float(getattr(window.settings, "lock_after", 0) or 0)
        self.idle_timer = QTimer(self)
        self.idle_timer.setSingleShot(True)
        self.idle_timer.setInterval(max(1, int(minutes * 60_000)))
        self.idle_timer.timeout.connect(self._idle)
        self.idle_enabled = minutes > 0
        QApplication.instance().installEventFilter(self)
        self._moved.connect(self.refresh)
        self.desk.operators.on_change(self._operator_moved)
        self.refresh()

    def _guarded(self):
        return [getattr(self.window, name) for name, _a in GUARDED]

    def file_actions(self) -> list:
        return [self.lock_action, self.switch_action, self.operators_action, self.first_account_action]

    def fill_menu(self, menu) -> None:
        """Its entries at the top of « Fichier », then a separator."""
        menu.addActions(self.file_actions())
        menu.addSeparator()

    def no_idle_lock(self) -> None:
        """Nobody at the keyboard (the self-check, the start-up benchmark): never lock by itself."""
        self.idle_enabled = False
        self.idle_timer.stop()

    @property
    def locked(self) -> bool:
        return self.lock_screen.isVisible()

    # -- who is here -----------------------------------------------------------------------

    def _operator_moved(self, _operator) -> None:  # may run in a worker thread (a login)
        if shiboken6.isValid(self):
            self._moved.emit()

    def refresh(self) -> None:
        if not shiboken6.isValid(self) or getattr(self.window, "_closing", False):
            return
        operators = self.desk.operators
        self._task.run(self.window, lambda: read_counter(operators), self._apply, lambda _exc: None,
                       pool=worker.disk_pool(), label="")

    def _apply(self, state: Counter) -> None:
        self.state = state
        self.label.setText(state.status_text())
        real = state.accounts and state.operator is not None and not state.operator.implicit
        self.lock_action.setEnabled(real and not state.locked)
        self.switch_action.setEnabled(state.accounts)
        self.first_account_action.setVisible(not state.accounts)
        self.operators_action.setVisible(state.accounts)
        pairs = [(self.operators_action, Action.MANAGE_OPERATORS)]
        pairs += [(getattr(self.window, n), a) for n, a in GUARDED]
        for action, needed in pairs:
            refusal = state.refusals.get(needed)
            action.setEnabled(refusal is None)
            tip = self._tips[action] if refusal is None else f"{self._tips[action]} — {refusal}"
            action.setToolTip(tip)
            action.setStatusTip(tip)
        banner = getattr(self.window, "credentials_banner", None)  # its « Réglages… » button too
        if banner is not None:
            refusal = state.refusals.get(Action.CHANGE_SETTINGS)
            banner.button.setEnabled(refusal is None)
            banner.button.setToolTip(refusal or "")
        if state.locked and not self.locked:
            self._show_lock(state.operator)
        self._restart_idle()

    # -- locking ---------------------------------------------------------------------------

    def _restart_idle(self) -> None:
        state = self.state
        if (self.idle_enabled and state is not None and state.accounts and state.operator is not None
                and not state.locked and not self.locked):
            self.idle_timer.start()
        else:
            self.idle_timer.stop()

    def _idle(self) -> None:
        if self.idle_enabled and not self.locked:
            self.lock()

    def lock(self) -> None:
        """Ctrl+L, or idle: the operator stays, the desk shows nothing until their password."""
        operators = self.desk.operators
        current, _locked = operators.present
        if current is None or self.locked:
            return
        operators.lock()  # in memory: no database, no argon2
        self._show_lock(current)

    def _show_lock(self, operator: Operator | None) -> None:
        window = self.window
        popup = QApplication.activePopupWidget()
        if popup is not None:
            popup.close()
        self._hidden = self._open_dialogs()
        self._hidden_for = operator
        for dialog in self._hidden:
            dialog.hide()  # hidden, not closed: what was typed stays
        window.centralWidget().setEnabled(False)
        window.menuBar().setEnabled(False)
        self._cover()
        self.lock_screen.show_for(operator)
        window.setWindowTitle(LOCKED_TITLE)
        self.idle_timer.stop()

    def _cover(self) -> None:
        window = self.window
        top = window.menuBar().geometry().bottom() + 1
        bottom = window.statusBar().geometry().top()
        self.lock_screen.setGeometry(0, top, window.width(), max(0, bottom - top))

    def _unlocked(self, operator: Operator) -> None:
        window = self.window
        self.lock_screen.hide()
        window.centralWidget().setEnabled(True)
        window.menuBar().setEnabled(True)
        window._update_title()
        hidden, previous = [d for d in self._hidden if shiboken6.isValid(d)], self._hidden_for
        self._hidden, self._hidden_for = [], None
        message = f"Poste déverrouillé : {operator.label} au guichet."
        if previous is not None and previous.login == operator.login:
            for dialog in hidden:
                dialog.show()  # their own dialogs, as they left them
        elif hidden:
            message += " " + self._close_dialogs(hidden, previous)
        window.statusBar().showMessage(message, 15000)
        self.refresh()

    def _open_dialogs(self, *, but: QWidget | None = None) -> list[QDialog]:
        """The window's dialogs on screen (nested ones after their parent), `but` excepted."""
        return [w for w in self.window.findChildren(QDialog)
                if w.isWindow() and w.isVisible() and w is not but]

    @staticmethod
    def _close_dialogs(dialogs: list[QDialog], previous: Operator | None) -> str:
        """Another operator is at the counter: the previous one's dialogs are rejected (a
        nested one first, so that no parent hands it on), nothing they held is saved or
        applied. Returns what the status bar says."""
        for dialog in reversed(dialogs):
            if shiboken6.isValid(dialog):
                dialog.reject()
        whose = previous.full_name if previous is not None else "l'opérateur précédent"
        if len(dialogs) == 1:
            return f"La fenêtre laissée ouverte par {whose} a été fermée sans rien enregistrer."
        return f"Les {len(dialogs)} fenêtres laissées ouvertes par {whose} ont été fermées sans rien enregistrer."

    def _title_changed(self, title: str) -> None:
        if self.locked and title != LOCKED_TITLE:
            self.window.setWindowTitle(LOCKED_TITLE)

    def eventFilter(self, obj, event) -> bool:
        kind = event.type()
        if obj is self.window and kind == QEvent.Type.Resize and self.locked:
            self._cover()
        elif kind == QEvent.Type.KeyPress and self._lock_key_in_dialog(event):
            self.lock()  # Ctrl+L in a dialog of the window (a modal one blocks the window's shortcuts)
            return True
        elif kind in _INPUT and self.idle_timer.isActive():
            self.idle_timer.start()  # input: the idle time starts again
        elif kind == QEvent.Type.Shortcut and self.locked:
            inside = isinstance(obj, QWidget) and (obj is self.lock_screen or self.lock_screen.isAncestorOf(obj))
            if not inside:
                return True  # locked: no shortcut of the window acts
        return False

    def _lock_key_in_dialog(self, event) -> bool:
        if self.locked or not self.lock_action.isEnabled():
            return False
        if QKeySequence(event.keyCombination()) not in self.lock_action.shortcuts():
            return False
        active = QApplication.activeWindow()
        if not isinstance(active, QDialog) or self.lock_screen.busy:
            return False
        parent = active.parentWidget()  # isAncestorOf stops at a window's edge
        while parent is not None and parent is not self.window:
            parent = parent.parentWidget()
        return parent is self.window

    # -- switching -------------------------------------------------------------------------

    def switch(self) -> LoginDialog | None:
        """Ctrl+Shift+L: the login dialog; the new operator's role applies at once."""
        if self.locked:
            return None
        previous, _locked = self.desk.operators.present
        dialog = LoginDialog(self.desk, self.window, demo=self.window.settings.demo, switching=True)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.logged_in.connect(lambda operator: self._switched(operator, previous, dialog))
        dialog.open()
        return dialog

    def _switched(self, operator: Operator, previous: Operator | None = None,
                  login_dialog: QWidget | None = None) -> None:
        message = f"Au guichet : {operator.label}."
        if previous is not None and previous.login != operator.login:
            left = self._open_dialogs(but=login_dialog)  # modeless ones: the journal, a cancel dialog
            if left:
                message += " " + self._close_dialogs(left, previous)
        self.window.statusBar().showMessage(message, 15000)
        self.refresh()

    def open_operators(self) -> OperatorsDialog:
        dialog = OperatorsDialog(self.desk, self.window)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()
        return dialog

    def first_account(self) -> FirstAccountDialog:
        dialog = FirstAccountDialog(self.desk, self.window, offer=False)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.created.connect(self._switched)
        dialog.open()
        return dialog
