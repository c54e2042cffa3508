"""Operators in the window (issue 11 points 1 and 2): the idle lock and Ctrl+L, unlocking
with a wrong then the right password, a payment dialog kept across a lock, switching to a
cashier (the régisseur's actions disabled with the service's reason), the operators dialog
(add, disable; a cashier refused), the one-person desk; a lock or a switch never hands one
operator's open dialogs to another (the same operator gets them back)."""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

import pytest
from gui_helpers import open_family
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from maelis_desk.domain import Role
from maelis_desk.ui.login_dialog import LoginDialog
from maelis_desk.ui.operator_dialogs import LOCKED_TITLE, ONE_PERSON_STATUS, AccountDialog, OperatorsDialog

SHOTS = Path(os.environ.get("MAELIS_SHOTS", "/tmp/login2"))


def shot(widget, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    widget.grab().save(str(SHOTS / f"{name}.png"))


@pytest.fixture
def make_window(qtbot, desk, settings):
    from maelis_desk.ui.main_window import MainWindow

    made = []

    def make(lock_after: float = 10.0, login: tuple[str, str] | None = ("regie", "regie")):
        desk.operators.seed_demo()
        if login:
            desk.operators.login(*login)
        win = MainWindow(desk, replace(settings, lock_after=lock_after))
        win.resize(1280, 800)
        win.show()
        qtbot.waitExposed(win)
        made.append(win)
        qtbot.waitUntil(lambda: win.counter.state is not None)
        return win

    yield make
    for win in made:
        if win.isVisible():
            win.close()
        win.deleteLater()


def type_unlock(qtbot, win, password: str, login: str | None = None) -> None:
    screen = win.counter.lock_screen
    if login is not None:
        screen.login_edit.setText(login)
    qtbot.keyClicks(screen.password_edit, password)
    qtbot.keyClick(screen.password_edit, Qt.Key.Key_Return)


def test_idle_lock_then_wrong_and_right_password(qtbot, make_window, desk):
    win = make_window(lock_after=0.002)  # 120 ms without input
    open_family(qtbot, win)
    qtbot.waitUntil(lambda: win.counter.locked, timeout=5000)
    screen = win.counter.lock_screen
    assert desk.operators.locked and desk.operators.current_or_none is None
    assert win.windowTitle() == LOCKED_TITLE and "Famille" not in win.windowTitle()
    assert not win.centralWidget().isEnabled() and not win.menuBar().isEnabled()
    assert screen.geometry().contains(win.centralWidget().geometry())
    assert screen.password_edit.hasFocus() and screen.login_edit.text() == "regie"
    shot(win, "lock-screen")
    qtbot.keyClick(win, Qt.Key.Key_F9)  # shortcuts do nothing while locked
    assert not [w for w in QApplication.topLevelWidgets() if w.objectName() == "paymentDialog" and w.isVisible()]
    type_unlock(qtbot, win, "mauvais")
    qtbot.waitUntil(screen.error.isVisible)
    assert screen.error.text() == "Identifiant ou mot de passe incorrect."
    assert win.counter.locked and screen.password_edit.text() == ""
    win.counter.idle_enabled = False  # the right password must find the screen still there
    type_unlock(qtbot, win, "regie")
    qtbot.waitUntil(lambda: not win.counter.locked)
    assert desk.operators.current.login == "regie"
    assert win.centralWidget().isEnabled() and win.windowTitle().startswith("Famille n°")


def test_ctrl_l_locks_and_a_payment_dialog_keeps_what_was_typed(qtbot, make_window, desk):
    win = make_window()
    open_family(qtbot, win)
    dialog = win.open_payment()
    assert dialog is not None
    qtbot.waitExposed(dialog)
    dialog.amount.setText("12,34")
    dialog.activateWindow()
    qtbot.waitUntil(dialog.isActiveWindow)
    qtbot.keyClick(dialog.focusWidget() or dialog, Qt.Key.Key_L, Qt.KeyboardModifier.ControlModifier)  # from the dialog too
    assert win.counter.locked and not dialog.isVisible()
    qtbot.keyClick(win.counter.lock_screen.password_edit, Qt.Key.Key_L, Qt.KeyboardModifier.ControlModifier)
    type_unlock(qtbot, win, "regie")
    qtbot.waitUntil(lambda: not win.counter.locked)
    assert dialog.isVisible() and dialog.amount.text() == "12,34"
    dialog.reject()
    qtbot.waitUntil(win.counter.lock_action.isEnabled)
    win.activateWindow()
    qtbot.waitUntil(win.isActiveWindow)
    qtbot.keyClick(win, Qt.Key.Key_L, Qt.KeyboardModifier.ControlModifier)
    assert win.counter.locked


def test_another_operator_unlocks_instead_and_switching_to_a_cashier(qtbot, make_window, desk):
    win = make_window()
    assert win.settings_action.isEnabled() and win.counter.operators_action.isEnabled()
    assert "Régis Dupont — Régisseur" in win.counter.label.text()
    win.counter.lock()
    type_unlock(qtbot, win, "caisse", login="caisse")  # a switch from the lock screen
    qtbot.waitUntil(lambda: not win.counter.locked)
    assert desk.operators.current.login == "caisse"
    qtbot.waitUntil(lambda: "Camille" in win.counter.label.text())
    assert not win.settings_action.isEnabled()
    assert "n'a pas le droit de modifier les réglages" in win.settings_action.toolTip()
    assert "n'a pas le droit de gérer les comptes des opérateurs" in win.counter.operators_action.statusTip()
    assert "Camille Caissière — Caissier" in win.counter.label.text()
    # Ctrl+Shift+L: back to the régisseur, everything allowed again at once
    qtbot.keyClick(win, Qt.Key.Key_L, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    dialog = next(w for w in QApplication.topLevelWidgets() if isinstance(w, LoginDialog) and w.isVisible())
    qtbot.waitExposed(dialog)
    shot(dialog, "switch-dialog")
    qtbot.keyClicks(dialog.login_edit, "regie")
    qtbot.keyClick(dialog.login_edit, Qt.Key.Key_Tab)
    qtbot.keyClicks(dialog.password_edit, "regie")
    qtbot.keyClick(dialog.password_edit, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: "Régis" in win.counter.label.text())
    assert win.settings_action.isEnabled()
    assert desk.operators.current.login == "regie" and win.counter.operators_action.isEnabled()
    assert win.settings_action.toolTip() == "Réglages du poste (Ctrl+,)"


def test_operators_dialog_add_and_disable(qtbot, make_window, desk):
    win = make_window()
    dialog = win.counter.open_operators()
    qtbot.waitUntil(lambda: dialog.table.rowCount() == 3)
    add = dialog.add()
    qtbot.waitExposed(add)
    qtbot.keyClicks(add.login_edit, "jmartin")
    qtbot.keyClick(add.login_edit, Qt.Key.Key_Tab)
    qtbot.keyClicks(add.name_edit, "Jeanne Martin")
    add.password_edit.setText("secret1")
    add.confirm_edit.setText("autre")
    add.submit()
    assert add.error.text() == "Les deux mots de passe ne sont pas les mêmes." and add.isVisible()
    add.password_edit.setText("secret1")
    add.confirm_edit.setText("secret1")
    qtbot.keyClick(add.confirm_edit, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: dialog.table.rowCount() == 4)
    assert dialog.selected().login == "jmartin" and dialog.selected().role is Role.CAISSIER
    shot(dialog, "operators-dialog")
    qtbot.keyClick(dialog.toggle_button, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: dialog.selected() is not None and not dialog.selected().active)
    assert dialog.toggle_button.text() == "&Réactiver"
    assert not next(o for o in desk.operators.list() if o.login == "jmartin").active
    role = dialog._account("role")
    role.role_combo.setCurrentIndex(list(Role).index(Role.SUPERVISEUR))
    role.submit()
    qtbot.waitUntil(lambda: dialog.selected() is not None and dialog.selected().role is Role.SUPERVISEUR)
    dialog.reject()


def test_a_cashier_is_refused_the_operators_dialog(qtbot, make_window, desk):
    win = make_window(login=("caisse", "caisse"))
    dialog = OperatorsDialog(desk, win)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitUntil(dialog.error.isVisible)
    assert dialog.error.text() == ("Camille Caissière (caissier) n'a pas le droit de gérer les comptes "
                                   "des opérateurs.")
    assert dialog.table.rowCount() == 0 and not dialog.add_button.isEnabled()
    desk.operators.login("controle", "controle")  # a supervisor reads, but may not manage
    dialog.reload()
    qtbot.waitUntil(lambda: "Claire Contrôle" in dialog.error.text())
    assert "n'a pas le droit" in dialog.error.text()


def test_the_one_person_desk_says_so_and_allows_everything(qtbot, desk, settings):
    from maelis_desk.ui.main_window import MainWindow

    win = MainWindow(desk, replace(settings, lock_after=0.001))
    qtbot.addWidget(win)
    win.show()
    qtbot.waitUntil(lambda: win.counter.state is not None)
    assert win.counter.label.text() == ONE_PERSON_STATUS
    assert win.settings_action.isEnabled() and win.counter.first_account_action.isVisible()
    assert not win.counter.lock_action.isEnabled() and not win.counter.operators_action.isVisible()
    assert not win.counter.idle_timer.isActive()  # no account: nothing to lock
    win.counter.lock()
    assert not win.counter.locked
    settings_dialog = win.open_settings()
    assert settings_dialog.operator.isEnabled()  # here it is the name on every receipt
    settings_dialog.reject()
    win.close()


def test_account_dialog_password_mode(qtbot, make_window, desk):
    win = make_window()
    dialog = AccountDialog(desk, win, mode="password", login="caisse")
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.password_edit.setText("nouveau")
    dialog.confirm_edit.setText("nouveau")
    with qtbot.waitSignal(dialog.changed):
        dialog.submit()
    assert desk.operators.login("caisse", "nouveau").login == "caisse"


def test_settings_opened_by_a_régisseur_are_saved_only_while_the_role_allows(qtbot, make_window, desk):
    """The menu greys « Réglages… » for a cashier, and the save itself goes through
    Desk.save_settings: a dialog left open when a cashier takes over cannot write."""
    from maelis_desk import config

    win = make_window()
    dialog = win.open_settings()
    qtbot.waitExposed(dialog)
    # the receipts carry the logged-in operator's name: the one-person desk's name is not asked for
    assert not dialog.operator.isEnabled() and "poste à une personne" in dialog.operator.toolTip()
    desk.operators.logout()
    desk.operators.login("caisse", "caisse")
    dialog.timeout.setValue(9.0)
    dialog.save()
    assert "n'a pas le droit de modifier les réglages" in dialog.test_result.text()
    assert not config.settings_file().exists()
    desk.operators.logout()
    desk.operators.login("regie", "regie")
    with qtbot.waitSignal(dialog.saved, timeout=5000):
        dialog.save()
        if getattr(dialog, "restart_box", None) is not None and dialog.restart_box.isVisible():
            next(b for b in dialog.restart_box.buttons() if "Plus tard" in b.text()).click()
    assert config.load_settings().timeout == 9.0


def _gone(widget) -> bool:
    import shiboken6

    return not shiboken6.isValid(widget) or not widget.isVisible()


def _visible_dialogs(win):
    from PySide6.QtWidgets import QDialog

    return [w for w in win.findChildren(QDialog) if w.isWindow() and w.isVisible()]


def test_another_operator_at_the_lock_screen_gets_none_of_the_previous_ones_dialogs(qtbot, make_window, desk):
    """A cashier's half-typed payment, then a régisseur's cancel and operators dialogs: locked,
    then someone else logs in at the lock screen: nothing of theirs comes back, the payment
    is not recorded, the status bar says the windows were closed."""
    from maelis_desk.ui.control_dialogs import CancelDialog

    win = make_window(login=("caisse", "caisse"))
    open_family(qtbot, win)
    payment = win.open_payment()
    qtbot.waitExposed(payment)
    payment.amount.setText("12,34")
    finished = []
    payment.finished.connect(finished.append)
    before = desk.payments.counts()
    win.counter.lock()
    assert win.counter.locked and not payment.isVisible()
    type_unlock(qtbot, win, "regie", login="regie")
    qtbot.waitUntil(lambda: not win.counter.locked)
    assert desk.operators.current.login == "regie"
    assert _gone(payment) and finished == [0]  # rejected
    assert _visible_dialogs(win) == []
    assert desk.payments.counts() == before  # nothing recorded from the cashier's dialog
    message = win.statusBar().currentMessage()
    assert "Régis Dupont (régisseur) au guichet" in message
    assert "La fenêtre laissée ouverte par Camille Caissière a été fermée sans rien enregistrer." in message
    # the régisseur's cancel dialog (a receipt typed, a reason chosen) and operators dialog: a cashier gets neither
    cancel = win.control.open_cancel()
    qtbot.waitExposed(cancel)
    cancel.receipt_edit.setText("A-000042")
    cancel.reasons.setCurrentRow(2)
    operators = win.counter.open_operators()
    qtbot.waitUntil(lambda: operators.table.rowCount() == 3)
    operators.activateWindow()
    win.counter.lock()
    assert _gone(cancel) and _gone(operators)
    type_unlock(qtbot, win, "caisse", login="caisse")
    qtbot.waitUntil(lambda: not win.counter.locked)
    assert desk.operators.current.login == "caisse"
    assert _visible_dialogs(win) == []
    assert not [w for w in win.findChildren(CancelDialog) if w.isVisible()]
    assert ("Les 2 fenêtres laissées ouvertes par Régis Dupont ont été fermées sans rien enregistrer."
            in win.statusBar().currentMessage())


def test_the_same_operator_unlocking_gets_all_their_dialogs_back(qtbot, make_window, desk):
    win = make_window()
    cancel = win.control.open_cancel()
    qtbot.waitExposed(cancel)
    cancel.receipt_edit.setText("A-000042")
    journal = win.control.open_journal()
    qtbot.waitExposed(journal)
    win.counter.lock()
    assert not cancel.isVisible() and not journal.isVisible()
    type_unlock(qtbot, win, "regie")
    qtbot.waitUntil(lambda: not win.counter.locked)
    assert cancel.isVisible() and journal.isVisible() and cancel.receipt_edit.text() == "A-000042"
    assert win.statusBar().currentMessage() == "Poste déverrouillé : Régis Dupont (régisseur) au guichet."
    journal.reject()
    cancel.reject()


def test_switching_operator_closes_the_previous_ones_modeless_dialogs(qtbot, make_window, desk):
    """Ctrl+Shift+L with the régisseur's journal open (modeless): the cashier who logs in does
    not get it; the régisseur logging in again over himself keeps his."""
    win = make_window()
    journal = win.control.open_journal()
    qtbot.waitExposed(journal)
    login = win.counter.switch()
    qtbot.waitExposed(login)
    login.login_edit.setText("regie")
    login.password_edit.setText("regie")
    login.submit()
    qtbot.waitUntil(lambda: _gone(login))
    assert journal.isVisible()  # the same operator: nothing closed
    login = win.counter.switch()
    qtbot.waitExposed(login)
    login.login_edit.setText("caisse")
    login.password_edit.setText("caisse")
    login.submit()
    qtbot.waitUntil(lambda: desk.operators.current_or_none is not None and desk.operators.current.login == "caisse")
    qtbot.waitUntil(lambda: _gone(login))
    assert _gone(journal) and _visible_dialogs(win) == []
    assert ("La fenêtre laissée ouverte par Régis Dupont a été fermée sans rien enregistrer."
            in win.statusBar().currentMessage())
