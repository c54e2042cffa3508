"""The cash session in the window (issue 12 points 1 and 2): open the till by
denomination, the refusals, a movement, the close with and without a
difference, the Z report, the sessions' list, F9 without a session, the
status bar. Driven with the keyboard, on a desk whose till is not open yet."""

from __future__ import annotations

import os
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from gui_helpers import open_family
from PySide6.QtCore import Qt
from PySide6.QtPdf import QPdfDocument
from PySide6.QtWidgets import QApplication, QDialog, QMessageBox

from maelis_desk.domain import Role
from maelis_desk.domain_day import MoveReason
from maelis_desk.formatting import fr_date
from maelis_desk.services import Desk
from maelis_desk.services.day import DayService
from maelis_desk.services.clock import utcnow
from maelis_desk.store.day import DayStore
from maelis_desk.store.payments import Payments
from maelis_desk.ui import worker
from maelis_desk.ui.payment_dialog import PaymentDialog
from maelis_desk.ui.pdf_dialog import PdfDialog
from maelis_desk.ui.session_dialogs import CloseDialog, MoveDialog, OpenSessionDialog

SHOTS = Path(os.environ.get("MAELIS_DESK_SHOTS", "/tmp/caisse-shots"))
CTRL_SHIFT = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier


def shot(widget, name: str) -> None:
    """The dialog as drawn, for a person to look at (not a check)."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    QApplication.processEvents()
    widget.grab().save(str(SHOTS / f"{name}.png"))


@pytest.fixture
def bare_desk(settings, qapp):
    """A desk whose till is not open (the conftest's `desk` opens it)."""
    desk = Desk.open(settings)
    yield desk
    worker.shutdown(10.0)
    desk.close()


@pytest.fixture
def win(qtbot, bare_desk, settings):
    from maelis_desk.ui.main_window import MainWindow

    window = MainWindow(bare_desk, settings)
    window.resize(1280, 800)
    window.show()
    qtbot.waitExposed(window)
    qtbot.waitUntil(lambda: window.caisse.state is not None, timeout=5000)
    yield window
    if window.isVisible():
        window.close()
    window.deleteLater()


def session_text(window) -> str:
    return window.caisse.label.text()


def active_dialog(qtbot, kind, timeout=5000):
    qtbot.waitUntil(lambda: isinstance(QApplication.activeModalWidget() or QApplication.activeWindow(), kind),
                    timeout=timeout)
    return QApplication.activeModalWidget() or QApplication.activeWindow()


def key(qtbot, widget, k, modifier=Qt.KeyboardModifier.NoModifier):
    qtbot.keyClick(widget, k, modifier)


def type_in(qtbot, widget, text: str) -> None:
    widget.setFocus()
    widget.selectAll()
    qtbot.keyClicks(widget, text)


def focused():
    return QApplication.focusWidget()


def open_by_service(desk, amount="50.00"):
    return desk.day.open_session(Decimal(amount))


# --- opening --------------------------------------------------------------------------------


def test_open_the_till_counted_by_denomination(qtbot, win, bare_desk):
    assert "Caisse fermée" in session_text(win)
    assert win.caisse.open_action.isEnabled() and not win.caisse.close_action.isEnabled()
    key(qtbot, win, Qt.Key.Key_O, CTRL_SHIFT)
    dialog = active_dialog(qtbot, OpenSessionDialog)
    grid = dialog.grid
    qtbot.waitUntil(lambda: focused() is grid.first)  # 500 €: the cursor starts on the largest note
    # Tab down the notes: 2 × 20 €, 1 × 5 €, then the coins: 4 × 2 €, 3 × 0,50 €, 2 × 0,01 €
    for value, count in ((20000, 0), (10000, 0), (5000, 0), (2000, 2), (1000, 0), (500, 1), (200, 4), (100, 0),
                         (50, 3), (20, 0), (10, 0), (5, 0), (2, 0), (1, 2)):
        key(qtbot, focused(), Qt.Key.Key_Tab)
        assert focused() is grid.spins[value]
        if count:
            qtbot.keyClicks(focused(), str(count))
    assert grid.line_totals[2000].text() == "40,00\u00a0€"
    assert grid.line_totals[1].text() == "0,02\u00a0€"
    assert dialog.count_total.text() == "<b>54,52\u00a0€</b>"
    shot(dialog, "01-ouvrir-la-caisse")
    with qtbot.waitSignal(dialog.opened, timeout=5000):
        key(qtbot, focused(), Qt.Key.Key_Return)
    session = bare_desk.day.current()
    assert session.float_amount == Decimal("54.52")
    assert session.float_count.pieces == {2000: 2, 500: 1, 200: 4, 50: 3, 1: 2}
    qtbot.waitUntil(lambda: "Caisse ouverte depuis" in session_text(win))
    assert "fond 54,52\u00a0€" in session_text(win)
    assert win.caisse.close_action.isEnabled() and not win.caisse.open_action.isEnabled()
    shot(win, "02-fenetre-caisse-ouverte")


def test_open_refusals_are_shown_in_the_dialog(qtbot, win, bare_desk):
    dialog = win.caisse.open_session()
    qtbot.waitExposed(dialog)
    key(qtbot, dialog.grid.first, Qt.Key.Key_Return)  # nothing counted
    qtbot.waitUntil(lambda: "Comptez le fond de caisse" in dialog.error.text())
    dialog.grid.spins[2000].setValue(2)
    type_in(qtbot, dialog.total, "50,00")  # the total does not match the notes
    key(qtbot, dialog.total, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: "ne correspond pas au détail des coupures" in dialog.error.text())
    type_in(qtbot, dialog.total, "douze")
    key(qtbot, dialog.total, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: dialog.error.text() != "")
    shot(dialog, "03-ouvrir-refus")
    assert bare_desk.day.current() is None
    open_by_service(bare_desk)  # another process of this desk opened it meanwhile
    type_in(qtbot, dialog.total, "40")
    key(qtbot, dialog.total, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: "déjà ouverte" in dialog.error.text())
    assert dialog.isVisible()
    key(qtbot, dialog.total, Qt.Key.Key_Escape)
    assert not dialog.isVisible()


# --- a movement ------------------------------------------------------------------------------


def test_cash_movement(qtbot, win, bare_desk):
    open_by_service(bare_desk, "50.00")
    win.caisse.refresh()
    qtbot.waitUntil(lambda: win.caisse.move_action.isEnabled())
    key(qtbot, win, Qt.Key.Key_M, CTRL_SHIFT)
    dialog = active_dialog(qtbot, MoveDialog)
    qtbot.waitUntil(lambda: "50,00" in dialog.cash_label.text())
    qtbot.waitUntil(lambda: focused() is dialog.reason)
    key(qtbot, dialog.reason, Qt.Key.Key_End)  # « Autre retrait »
    assert dialog.current_reason() is MoveReason.RETRAIT
    type_in(qtbot, dialog.amount, "80")
    assert "−80,00" in dialog.effect.text()
    key(qtbot, dialog.amount, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: "commentaire" in dialog.error.text())  # another withdrawal is explained
    type_in(qtbot, dialog.comment, "Fond trop important")
    key(qtbot, dialog.comment, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: "ne contient que 50,00" in dialog.error.text())  # more than the till holds
    shot(dialog, "04-mouvement-refus")
    type_in(qtbot, dialog.amount, "-20,00")
    with qtbot.waitSignal(dialog.moved, timeout=5000):
        key(qtbot, dialog.amount, Qt.Key.Key_Return)
    moves = bare_desk.day.status().movements
    assert [(m.amount, m.reason, m.comment) for m in moves] == [(Decimal("-20.00"), MoveReason.RETRAIT,
                                                                 "Fond trop important")]
    assert bare_desk.day.status().expected.cash == Decimal("30.00")


# --- the close -------------------------------------------------------------------------------


def close_dialog(qtbot, win):
    key(qtbot, win, Qt.Key.Key_Z, CTRL_SHIFT)
    dialog = active_dialog(qtbot, CloseDialog)
    qtbot.waitUntil(lambda: dialog.next_button.isEnabled())
    return dialog


def wait_report(qtbot, dialog) -> PdfDialog:
    qtbot.waitUntil(lambda: dialog.report is not None and dialog.report.document.status()
                    == QPdfDocument.Status.Ready, timeout=10000)
    return dialog.report


def test_close_without_difference_opens_the_z_report(qtbot, win, bare_desk):
    open_by_service(bare_desk, "50.00")
    win.caisse.refresh()
    qtbot.waitUntil(lambda: win.caisse.close_action.isEnabled())
    dialog = close_dialog(qtbot, win)
    assert dialog.lines["cash"].expected.text() == "50,00\u00a0€"
    qtbot.waitUntil(lambda: focused() is dialog.grid.first)
    for _ in range(3):  # 500, 200, 100 → 50 €
        key(qtbot, focused(), Qt.Key.Key_Tab)
    assert focused() is dialog.grid.spins[5000]
    qtbot.keyClicks(focused(), "1")
    assert dialog.lines["cash"].diff.text() == "—"
    key(qtbot, focused(), Qt.Key.Key_Return)
    assert dialog.stack.currentIndex() == dialog.CONFIRM
    assert "Aucun écart" in dialog.summary.text()
    shot(dialog, "06-arrete-confirmation")
    assert focused() is dialog.confirm_button
    with qtbot.waitSignal(dialog.closed, timeout=5000) as closed:
        key(qtbot, focused(), Qt.Key.Key_Return)
    closing = closed.args[0]
    assert closing.z_number >= 1 and closing.comments == {}
    report = wait_report(qtbot, dialog)
    assert report.isVisible() and report.windowTitle() == f"Rapport Z n° {closing.z_number}"
    qtbot.waitUntil(lambda: QApplication.activeWindow() is report)  # on top, focused: Ctrl+P prints
    text = " ".join(report.document.getAllText(i).text() for i in range(report.document.pageCount()))
    assert f"Rapport Z n° {closing.z_number}" in " ".join(text.split())
    shot(report, "07-rapport-z")
    qtbot.waitUntil(lambda: session_text(win).endswith("Caisse fermée"))
    assert bare_desk.day.current() is None
    report.close()


def test_a_difference_needs_its_comment(qtbot, win, bare_desk):
    open_by_service(bare_desk, "50.00")
    win.caisse.refresh()
    qtbot.waitUntil(lambda: win.caisse.close_action.isEnabled())
    dialog = close_dialog(qtbot, win)
    dialog.grid.spins[2000].setValue(2)
    dialog.grid.spins[200].setValue(4)  # 48 € counted, 50 € expected
    type_in(qtbot, dialog.card_total, "0")
    assert dialog.lines["cash"].diff.text() == "−2,00\u00a0€"
    assert dialog.lines["cash"].comment.placeholderText() == "obligatoire : expliquez l'écart"
    assert dialog.lines["card_total"].comment.placeholderText() == ""
    key(qtbot, dialog.card_total, Qt.Key.Key_Return)
    assert dialog.stack.currentIndex() == dialog.FORM
    assert "Écart sur « Espèces »" in dialog.error.text() and "commentaire est obligatoire" in dialog.error.text()
    assert focused() is dialog.lines["cash"].comment
    shot(dialog, "05-arrete-ecart-refus")
    qtbot.keyClicks(focused(), "Erreur de rendu de monnaie")
    key(qtbot, focused(), Qt.Key.Key_Return)
    assert dialog.stack.currentIndex() == dialog.CONFIRM
    assert "−2,00" in dialog.summary.text() and "rendu de monnaie" in dialog.summary.text()
    with qtbot.waitSignal(dialog.closed, timeout=5000) as closed:
        key(qtbot, focused(), Qt.Key.Key_Return)
    closing = closed.args[0]
    assert closing.comments == {"cash": "Erreur de rendu de monnaie"}
    assert closing.counted.cash_count.pieces == {2000: 2, 200: 4}
    report = wait_report(qtbot, dialog)
    report.close()


def test_sessions_list_reprints_a_z_report(qtbot, win, bare_desk):
    from maelis_desk.domain_day import Counted

    open_by_service(bare_desk, "10.00")
    z = bare_desk.day.close(Counted(Decimal("10.00"), 0, Decimal(0), Decimal(0))).z_number
    open_by_service(bare_desk, "20.00")
    dialog = win.caisse.show_sessions()
    qtbot.waitExposed(dialog)
    qtbot.waitUntil(lambda: dialog.table.rowCount() == 2)
    assert dialog.table.item(0, 7).text() == "—" and dialog.table.item(1, 7).text() == f"Z n° {z}"
    assert not dialog.report_button.isEnabled()  # the open one has no report yet
    assert dialog.every_desk.isVisible()  # a régisseur sees every desk's payments
    shot(dialog, "08-sessions")
    key(qtbot, dialog.table, Qt.Key.Key_Down)
    assert dialog.report_button.isEnabled()
    key(qtbot, dialog.table, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: dialog.report is not None
                    and dialog.report.document.status() == QPdfDocument.Status.Ready, timeout=10000)
    assert dialog.report.windowTitle() == f"Rapport Z n° {z}"
    dialog.report.close()
    dialog.close()


# --- F9 and the status bar ------------------------------------------------------------------------


def test_f9_without_a_session_offers_to_open_it_then_pays(qtbot, win, bare_desk):
    open_family(qtbot, win)
    qtbot.waitUntil(lambda: win.pay_action.isEnabled(), timeout=10000)
    key(qtbot, win, Qt.Key.Key_F9)
    box = active_dialog(qtbot, QMessageBox)
    assert box.objectName() == "sessionGateBox"
    assert "Aucune caisse n'est ouverte" in box.text()
    assert "Ctrl+Maj+O" in box.informativeText()
    assert "maelis-desk" not in box.informativeText()  # window words, not the command line
    shot(box, "09-f9-sans-caisse")
    key(qtbot, box, Qt.Key.Key_Return)  # « Ouvrir la caisse… »
    dialog = active_dialog(qtbot, OpenSessionDialog)
    type_in(qtbot, dialog.total, "50")
    key(qtbot, dialog.total, Qt.Key.Key_Return)
    payment = active_dialog(qtbot, PaymentDialog)  # and the payment goes on
    assert bare_desk.day.current().float_amount == Decimal("50.00")
    payment.reject()


def test_a_session_of_yesterday_must_be_closed_first(qtbot, bare_desk, settings):
    from maelis_desk.ui.main_window import MainWindow

    yesterday = utcnow() - timedelta(days=1)
    DayService(DayStore(), Payments(), desk=settings.code, operator=lambda: "Martine",
               clock=lambda: yesterday).open_session(Decimal("50"))
    window = MainWindow(bare_desk, settings)
    window.show()
    qtbot.waitExposed(window)
    try:
        qtbot.waitUntil(lambda: window.caisse.state is not None)
        assert window.caisse.state.stale
        assert f"Caisse du {fr_date(yesterday)} non arrêtée" in session_text(window)
        open_family(qtbot, window)
        qtbot.waitUntil(lambda: window.pay_action.isEnabled(), timeout=10000)
        assert window.open_payment() is None
        box = active_dialog(qtbot, QMessageBox)
        assert "n'a pas été arrêtée" in box.text() and "Arrêté de caisse" in box.informativeText()
        key(qtbot, box, Qt.Key.Key_Return)
        dialog = active_dialog(qtbot, CloseDialog)
        qtbot.waitUntil(lambda: dialog.next_button.isEnabled())
        assert dialog.lines["cash"].expected.text() == "50,00\u00a0€"
        dialog.reject()
    finally:
        window.close()
        window.deleteLater()


def test_a_supervisor_cannot_open_the_till(qtbot, win, bare_desk):
    ops = bare_desk.operators
    ops.add("regie", "Régis Dupont", Role.REGISSEUR, "regie")
    ops.login("regie", "regie")
    ops.add("controle", "Claire Contrôle", Role.SUPERVISEUR, "controle")
    ops.login("controle", "controle")
    qtbot.waitUntil(lambda: not win.caisse.open_action.isEnabled())
    assert not win.caisse.move_action.isEnabled() and not win.caisse.close_action.isEnabled()
    assert win.caisse.sessions_action.isEnabled()  # consultation: sees every session
    dialog = win.caisse.open_session()  # were it opened anyway, the services refuse, in French
    qtbot.waitExposed(dialog)
    type_in(qtbot, dialog.total, "50")
    key(qtbot, dialog.total, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: "n'a pas le droit d'encaisser" in dialog.error.text())
    assert bare_desk.day.current() is None
    dialog.reject()
    sessions = win.caisse.show_sessions()
    qtbot.waitExposed(sessions)
    assert sessions.every_desk.isVisible()
    sessions.close()
    ops.login("regie", "regie")
    qtbot.waitUntil(lambda: win.caisse.open_action.isEnabled())


def test_the_close_key_works_from_the_search_field(qtbot, win, bare_desk):
    """Ctrl+Maj+Z is « rétablir » to a text field: with the cursor in the search field (where it
    is most of the day) the close did not open. The window's keys win over the field's."""
    open_by_service(bare_desk, "50.00")
    win.caisse.refresh()
    qtbot.waitUntil(lambda: win.caisse.close_action.isEnabled())
    field = win.search_pane.edit
    field.setFocus()
    qtbot.waitUntil(lambda: focused() is field)
    qtbot.keyClicks(field, "DUP")
    key(qtbot, field, Qt.Key.Key_Z, CTRL_SHIFT)
    dialog = active_dialog(qtbot, CloseDialog)
    assert dialog.isVisible()
    dialog.reject()
    # the field's own editing keys stay its own
    field.setFocus()
    qtbot.waitUntil(lambda: focused() is field)
    field.deselect()
    key(qtbot, field, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)  # select all: not a window key
    assert field.text() == "DUP" and field.selectedText() == "DUP"


def test_a_key_of_what_is_not_possible_now_says_why(qtbot, win, bare_desk):
    """Ctrl+Maj+M with no till open did nothing at all: a greyed action's key says why instead."""
    qtbot.waitUntil(lambda: win.caisse.state is not None and not win.caisse.move_action.isEnabled())
    field = win.search_pane.edit
    field.setFocus()
    qtbot.waitUntil(lambda: focused() is field)
    key(qtbot, field, Qt.Key.Key_M, CTRL_SHIFT)
    message = win.statusBar().currentMessage()
    assert "« Mouvement de caisse » impossible pour l'instant" in message
    assert "aucune caisse n'est ouverte" in message and "Ctrl+Maj+O" in message
    assert not any(isinstance(w, QDialog) and w.isVisible() for w in QApplication.topLevelWidgets())
