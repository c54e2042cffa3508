"""Operators at the counter, in the window (issue 11 point 1): the login screen, the first
start's offer, locking, switching operator, what each role may click, the operators dialog."""

from __future__ import annotations

from dataclasses import replace

import pytest
from PySide6.QtCore import Qt

from maelis_desk import config
from maelis_desk.domain import Role
from maelis_desk.services import Desk
from maelis_desk.ui import worker
from maelis_desk.ui.login_dialog import FirstAccountDialog, LoginDialog, seed_demo, unattended_login


@pytest.fixture
def accounts(desk):
    """A desk with a régisseur, a cashier and a supervisor (the demo's accounts)."""
    assert desk.operators.seed_demo()
    return desk


def test_login_right_and_wrong(qtbot, accounts):
    dialog = LoginDialog(accounts)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    assert dialog.demo_label is None  # no demo accounts shown outside the demo
    qtbot.waitUntil(dialog.login_edit.hasFocus)
    qtbot.keyClicks(dialog.login_edit, "caisse")
    qtbot.keyClick(dialog.login_edit, Qt.Key.Key_Tab)
    assert dialog.password_edit.hasFocus()
    qtbot.keyClicks(dialog.password_edit, "mauvais")
    qtbot.keyClick(dialog.password_edit, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: dialog.error.isVisible())
    assert dialog.error.text() == "Identifiant ou mot de passe incorrect."
    assert dialog.isVisible() and dialog.password_edit.hasFocus() and dialog.password_edit.text() == ""
    assert accounts.operators.current_or_none is None
    qtbot.keyClicks(dialog.password_edit, "caisse")
    with qtbot.waitSignal(dialog.logged_in, timeout=5000) as signal:
        qtbot.keyClick(dialog.password_edit, Qt.Key.Key_Return)
    assert signal.args[0].login == "caisse"
    assert dialog.result() == LoginDialog.DialogCode.Accepted
    assert accounts.operators.current.role is Role.CAISSIER


def test_disabled_account_refused(qtbot, accounts):
    accounts.operators.login("regie", "regie")
    accounts.operators.disable("caisse")
    accounts.operators.logout()
    dialog = LoginDialog(accounts, login="caisse")
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitUntil(dialog.password_edit.hasFocus)  # the login given: straight to the password
    qtbot.keyClicks(dialog.password_edit, "caisse")
    qtbot.keyClick(dialog.password_edit, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: dialog.error.isVisible())
    assert "désactivé" in dialog.error.text()


def test_the_demo_shows_its_accounts(qtbot, desk):
    demo = replace(desk.settings, url=None)
    assert seed_demo(desk, demo) and not seed_demo(desk, demo)  # once
    dialog = LoginDialog(desk, demo=True)
    qtbot.addWidget(dialog)
    text = dialog.demo_label.text()
    for login, name, role, password in (("caisse", "Camille Caissière", "Caissier", "caisse"),
                                        ("regie", "Régis Dupont", "Régisseur", "regie"),
                                        ("controle", "Claire Contrôle", "Superviseur (consultation)", "controle")):
        assert login in text and name in text and role in text and password in text


def test_no_demo_accounts_outside_the_demo(desk):
    assert not seed_demo(desk, desk.settings)  # a configured Maelis: never
    assert desk.operators.one_person


def test_unattended_login_is_the_demos_supervisor(desk):
    demo = replace(desk.settings, url=None)
    line = unattended_login(desk, demo)
    assert desk.operators.current.login == "controle" and "superviseur" in line
    desk.operators.logout()
    assert unattended_login(desk, desk.settings) == "aucun opérateur identifié (lecture seule)"


def test_first_start_creates_the_regisseurs_account(qtbot, desk):
    assert desk.operators.one_person
    dialog = FirstAccountDialog(desk)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitUntil(dialog.login_edit.hasFocus)
    qtbot.keyClicks(dialog.login_edit, "mdupont")
    qtbot.keyClick(dialog.login_edit, Qt.Key.Key_Tab)
    qtbot.keyClicks(dialog.name_edit, "Martine Dupont")
    qtbot.keyClick(dialog.name_edit, Qt.Key.Key_Tab)
    qtbot.keyClicks(dialog.password_edit, "secret1")
    qtbot.keyClick(dialog.password_edit, Qt.Key.Key_Tab)
    qtbot.keyClicks(dialog.confirm_edit, "secret2")
    qtbot.keyClick(dialog.confirm_edit, Qt.Key.Key_Return)
    assert dialog.error.text() == "Les deux mots de passe ne sont pas les mêmes."
    assert dialog.password_edit.hasFocus() and desk.operators.one_person
    dialog.confirm_edit.setText("secret1")
    with qtbot.waitSignal(dialog.created, timeout=5000):
        qtbot.keyClick(dialog.password_edit, Qt.Key.Key_Return)
    assert not desk.operators.one_person
    operator = desk.operators.current
    assert (operator.login, operator.full_name, operator.role) == ("mdupont", "Martine Dupont", Role.REGISSEUR)


def test_declining_the_first_start_offer_is_remembered(qtbot, desk):
    dialog = FirstAccountDialog(desk)
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.decline_button.click()
    assert dialog.declined and not dialog.isVisible()
    assert desk.operators.one_person
