"""Who is at the counter when the desk starts (issue 11, point 1).

* `LoginDialog`: login, password, Enter. A wrong password is refused in French and the
  password field keeps the focus (emptied). On the demo it lists the demo accounts
  (services/operators.DEMO_ACCOUNTS: login / password / role). « Quitter » (or Échap)
  closes the desk. Used at start, by « Changer d'opérateur… » and by x_flow.py.
* `FirstAccountDialog`: no account yet: create the régisseur's (login, full name, password
  twice) or go on as a one-person desk; declining is remembered (Settings.one_person_chosen)
  and the offer stays in Fichier > « Créer le compte du régisseur… ».
* `start_counter(desk, settings)`: what `ui/app.py` runs between opening the desk and
  showing the window; `unattended_login` what the self-check and the start-up benchmark do
  instead (no one to type).

Argon2 takes ~20-50 ms a check: every check and every hash runs in the worker's disk pool
(the local database and the CPU, never Maelis), never on the GUI thread.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from .. import config
from ..config import Settings
from ..domain import Operator, Role
from ..formatting import html_text
from ..services.operators import DEMO_ACCOUNTS
from . import worker
from .theme import app_icon, error_label, password_edit

log = logging.getLogger(__name__)

ONE_PERSON = "Poste à une personne (aucun compte)"
DEMO_SUPERVISOR = next(a for a in DEMO_ACCOUNTS if a[2] is Role.SUPERVISEUR)


def demo_accounts_html() -> str:
    rows = "".join(
        f"<tr><td><b>{html_text(login)}</b></td><td>{html_text(password)}</td>"
        f"<td>{html_text(role.label_fr)}</td><td>{html_text(name)}</td></tr>"
        for login, name, role, password in DEMO_ACCOUNTS
    )
    return (
        "<p><b>Comptes de démonstration</b></p>"
        "<table cellspacing='0' cellpadding='3'>"
        "<tr><th align='left'>Identifiant</th><th align='left'>Mot de passe</th>"
        "<th align='left'>Rôle</th><th align='left'>Nom</th></tr>" + rows + "</table>"
    )


class LoginDialog(QDialog):
    """Open with `.exec()` (at start) or `.open()`. `logged_in(operator)` once the password
    is right; `operator` then holds who logged in.

    `login`: the login to show (a lock screen's « Changer d'opérateur » leaves it empty);
    `switching`: the window is there already, « Annuler » keeps the current operator
    instead of quitting."""

    logged_in = Signal(object)

    def __init__(self, desk, parent: QWidget | None = None, *, demo: bool = False, switching: bool = False,
                 login: str = ""):
        super().__init__(parent)
        self.setObjectName("loginDialog")
        self.setWindowTitle("Changer d'opérateur" if switching else "Identification")
        self.setWindowIcon(app_icon())
        self.setModal(True)
        self.desk = desk
        self.switching = switching
        self.operator: Operator | None = None
        self._task = worker.Latest()

        head = QLabel("Qui est au guichet ?" if not switching else "Changer d'opérateur")
        head.setObjectName("loginHead")
        head.setStyleSheet("font-size: 15pt; font-weight: bold;")
        intro = QLabel("Identifiez-vous pour utiliser le poste." if not switching else
                       "Le nouvel opérateur s'identifie ; le poste reste ouvert.")
        intro.setWordWrap(True)
        self.login_edit = QLineEdit(login)
        self.login_edit.setObjectName("loginEdit")
        self.login_edit.setMaxLength(32)
        self.password_edit = password_edit("passwordEdit")
        form = QFormLayout()
        form.addRow("&Identifiant :", self.login_edit)
        form.addRow("Mot de &passe :", self.password_edit)
        self.error = error_label("loginError", hidden=True)

        self.buttons = QDialogButtonBox()
        self.ok_button = self.buttons.addButton("&Se connecter", QDialogButtonBox.ButtonRole.AcceptRole)
        self.ok_button.setObjectName("loginButton")
        self.ok_button.setDefault(True)
        self.cancel_button = self.buttons.addButton("&Annuler" if switching else "&Quitter",
                                                    QDialogButtonBox.ButtonRole.RejectRole)
        self.cancel_button.setObjectName("loginCancel")
        self.buttons.accepted.connect(self.submit)
        self.buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addWidget(head)
        layout.addWidget(intro)
        layout.addLayout(form)
        layout.addWidget(self.error)
        self.demo_label = None
        if demo:
            self.demo_label = QLabel(demo_accounts_html())
            self.demo_label.setObjectName("demoAccounts")
            self.demo_label.setTextFormat(Qt.TextFormat.RichText)
            layout.addWidget(self.demo_label)
        layout.addWidget(self.buttons)
        self.setMinimumWidth(420)
        self._first = self.password_edit if login else self.login_edit

    def showEvent(self, event) -> None:
        super().showEvent(event)
        self.activateWindow()
        self._first.setFocus()

    @property
    def busy(self) -> bool:
        return self._task.busy

    def submit(self) -> None:
        if self.busy:
            return
        login, password = self.login_edit.text().strip(), self.password_edit.text()
        if not login:
            self.refuse("Indiquez votre identifiant.", self.login_edit)
            return
        operators = self.desk.operators
        self.ok_button.setEnabled(False)
        self._task.run(self, lambda: operators.login(login, password), self._accepted, self._refused,
                       pool=worker.disk_pool(), label="")

    def _accepted(self, operator: Operator) -> None:
        self.operator = operator
        self.ok_button.setEnabled(True)
        self.logged_in.emit(operator)
        self.accept()

    def _refused(self, exc: BaseException) -> None:
        self.ok_button.setEnabled(True)
        self.refuse(worker.error_text(exc), self.password_edit)

    def refuse(self, text: str, field: QLineEdit) -> None:
        self.error.setText(text)
        self.error.show()
        if field is self.password_edit:
            field.clear()
        field.setFocus()
        field.selectAll()

    def done(self, result: int) -> None:
        self._task.cancel()
        super().done(result)


class FirstAccountDialog(QDialog):
    """No account yet: the régisseur's account, or a one-person desk.

    `created(operator)` once the account exists and its régisseur is logged in.
    `offer`: at start, with « Poste à une personne » (remembered); from the menu, « Fermer »."""

    created = Signal(object)

    def __init__(self, desk, parent: QWidget | None = None, *, offer: bool = True):
        super().__init__(parent)
        self.setObjectName("firstAccountDialog")
        self.setWindowTitle("Compte du régisseur")
        self.setWindowIcon(app_icon())
        self.setModal(True)
        self.desk = desk
        self.declined = False
        self.operator: Operator | None = None
        self._task = worker.Latest()

        head = QLabel("Créer le compte du régisseur")
        head.setStyleSheet("font-size: 15pt; font-weight: bold;")
        intro = QLabel(
            "Ce poste n'a encore aucun compte d'opérateur : il fonctionne comme un poste à une personne, "
            "sans identification. Avec des comptes, chaque paiement dit qui l'a encaissé et chacun ne fait "
            "que ce que son rôle permet. Le premier compte est celui du régisseur ; il crée ensuite ceux "
            "des caissiers (Fichier > Opérateurs…)."
        )
        intro.setWordWrap(True)
        self.login_edit = QLineEdit()
        self.login_edit.setObjectName("newLogin")
        self.login_edit.setMaxLength(32)
        self.login_edit.setPlaceholderText("par exemple : mdupont")
        self.name_edit = QLineEdit()
        self.name_edit.setObjectName("newName")
        self.name_edit.setMaxLength(200)
        self.password_edit = password_edit("newPassword")
        self.confirm_edit = password_edit("newPasswordAgain")
        form = QFormLayout()
        form.addRow("&Identifiant :", self.login_edit)
        form.addRow("&Nom complet :", self.name_edit)
        form.addRow("Mot de &passe :", self.password_edit)
        form.addRow("&Confirmation :", self.confirm_edit)
        self.error = error_label("loginError", hidden=True)

        self.buttons = QDialogButtonBox()
        self.create_button = self.buttons.addButton("C&réer le compte", QDialogButtonBox.ButtonRole.AcceptRole)
        self.create_button.setObjectName("createAccount")
        self.create_button.setDefault(True)
        if offer:
            self.decline_button: QPushButton | None = self.buttons.addButton(
                "Poste à &une personne", QDialogButtonBox.ButtonRole.RejectRole)
            self.decline_button.setObjectName("onePerson")
            self.decline_button.setToolTip("Continuer sans comptes ; ce choix n'est plus proposé au démarrage "
                                           "(Fichier > Créer le compte du régisseur…)")
            self.decline_button.clicked.connect(self._decline)
        else:
            self.decline_button = None
            self.buttons.addButton("&Fermer", QDialogButtonBox.ButtonRole.RejectRole)
        self.buttons.accepted.connect(self.submit)
        self.buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addWidget(head)
        layout.addWidget(intro)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(self.buttons)
        self.setMinimumWidth(480)

    def showEvent(self, event) -> None:
        super().showEvent(event)
        self.activateWindow()
        self.login_edit.setFocus()

    def _decline(self) -> None:
        self.declined = True

    def submit(self) -> None:
        if self._task.busy:
            return
        login, name = self.login_edit.text().strip(), self.name_edit.text().strip()
        password = self.password_edit.text()
        if not login:
            return self.refuse("Indiquez l'identifiant du régisseur.", self.login_edit)
        if not name:
            return self.refuse("Indiquez le nom complet du régisseur.", self.name_edit)
        if password != self.confirm_edit.text():
            self.confirm_edit.clear()
            return self.refuse("Les deux mots de passe ne sont pas les mêmes.", self.password_edit)
        operators = self.desk.operators

        def create() -> Operator:
            operators.add(login, name, Role.REGISSEUR, password)
            return operators.login(login, password)

        self.create_button.setEnabled(False)
        self._task.run(self, create, self._created, self._refused, pool=worker.disk_pool(), label="",
                       critical=True)

    def _created(self, operator: Operator) -> None:
        self.operator = operator
        self.created.emit(operator)
        self.accept()

    def _refused(self, exc: BaseException) -> None:
        self.create_button.setEnabled(True)
        text = worker.error_text(exc)
        field = self.password_edit if "passe" in text else self.name_edit if "nom" in text.lower() else self.login_edit
        self.refuse(text, field)

    def refuse(self, text: str, field: QLineEdit) -> None:
        self.error.setText(text)
        self.error.show()
        field.setFocus()
        field.selectAll()

    def done(self, result: int) -> None:
        self._task.cancel()
        super().done(result)


def seed_demo(desk, settings: Settings) -> bool:
    """The demo's accounts, on the demo Maelis only (no URL configured) and once."""
    if not settings.demo:
        return False
    created = desk.operators.seed_demo()
    if created:
        log.info("Demo accounts created: %s", ", ".join(a[0] for a in DEMO_ACCOUNTS))
    return created


def start_counter(desk, settings: Settings) -> bool:
    """Before the window: the demo's accounts, then who is at the counter.
    False when the person chose to quit (the desk closes)."""
    seed_demo(desk, settings)
    operators = desk.operators
    if operators.has_accounts():
        dialog = LoginDialog(desk, demo=settings.demo)
        accepted = dialog.exec() == QDialog.DialogCode.Accepted
        dialog.deleteLater()
        return accepted and operators.current_or_none is not None
    if not settings.one_person_chosen:
        dialog = FirstAccountDialog(desk, offer=True)
        dialog.exec()
        if dialog.declined:
            try:
                config.remember_setting("one_person_chosen", True)
            except (OSError, config.SettingsError) as exc:
                log.warning("The one-person choice could not be kept: %s", exc)
        dialog.deleteLater()
    return True


def unattended_login(desk, settings: Settings) -> str:
    """No one to type (the self-check, the start-up benchmark): on the demo, the demo's
    supervisor (consultation: reads everything, can take or change no money); elsewhere
    nobody logs in (reading families and invoices needs no operator). Returns a line
    telling what was done."""
    seed_demo(desk, settings)
    operators = desk.operators
    if not operators.has_accounts():
        return ONE_PERSON
    if settings.demo:
        login, _name, _role, password = DEMO_SUPERVISOR
        operator = operators.login(login, password)
        return f"identifié : {operator.label}"
    return "aucun opérateur identifié (lecture seule)"
