"""The « Contrôle » menu (issue 11 points 3 and 4, the window side): the cancel dialog
(régisseur: a pending payment withdrawn from the outbox; a cashier refused; a payment
in a validated docket refused with its reason), the list « À régulariser dans Maelis »
marked done, the journal intact then tampered with behind the desk's back."""

from __future__ import annotations

import os
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from gui_helpers import FAMILY, open_family
from PySide6.QtCore import Qt
from PySide6.QtPdf import QPdfDocument
from PySide6.QtWidgets import QApplication, QMessageBox

from maelis_desk.domain import Role
from maelis_desk.domain_day import DocketType
from maelis_desk.services.clock import utcnow
from maelis_desk.ui.control_dialogs import RegularizeModel
from maelis_desk.services.payments import Mode, PaymentRequest
from maelis_desk.store.database import db
from maelis_desk.ui.control_dialogs import CancelDialog, JournalDialog, RegularizeDialog
from maelis_desk.ui.pdf_dialog import PdfDialog

SHOTS = Path(os.environ.get("MAELIS_DESK_SHOTS", "/tmp/annul-shots"))
CTRL_SHIFT = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier


def shot(widget, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    QApplication.processEvents()
    widget.grab().save(str(SHOTS / f"{name}.png"))


@pytest.fixture
def staffed(desk):
    ops = desk.operators
    ops.add("regie", "Régis Dupont", Role.REGISSEUR, "regie-pw")
    ops.login("regie", "regie-pw")
    ops.add("caisse", "Camille Caisse", Role.CAISSIER, "caisse-pw")
    return desk


def as_(desk, login):
    desk.operators.login(login, f"{login}-pw")


def take(qtbot, window, desk, simulator, mode=Mode.ESPECES, details=None):
    """Family 1312 open, Maelis down (the payment stays pending), one invoice paid."""
    view = open_family(qtbot, window)
    regie = next(r for r in view.regies if r.to_pay)
    invoice = regie.to_pay[0]
    simulator.set_fault("down")
    record = desk.payments.record(PaymentRequest(FAMILY, regie.regie.code, [invoice.number], invoice.remaining,
                                                 mode, details or {}))
    window.payments_changed()
    return record


def wait_dialog(qtbot, kind):
    qtbot.waitUntil(lambda: any(w.isVisible() for w in QApplication.topLevelWidgets() if isinstance(w, kind)),
                    timeout=5000)
    return next(w for w in QApplication.topLevelWidgets() if isinstance(w, kind) and w.isVisible())


def confirm(qtbot, dialog):
    qtbot.waitUntil(lambda: dialog.cancel_button.isEnabled(), timeout=5000)
    qtbot.keyClick(dialog.reasons, Qt.Key.Key_Return)  # the default button: « Annuler ce paiement… »
    qtbot.waitUntil(lambda: dialog.confirm_box is not None and dialog.confirm_box.isVisible(), timeout=5000)
    dialog.confirm_box.button(QMessageBox.StandardButton.Yes).click()


def test_regisseur_cancels_a_pending_payment_from_the_outbox(qtbot, window, staffed, simulator):
    record = take(qtbot, window, staffed, simulator)
    qtbot.waitUntil(lambda: window.control.verdict is not None and window.control.label.isVisible(), timeout=5000)
    assert "intègre" in window.control.label.text()
    outbox = window.open_outbox()
    qtbot.waitUntil(lambda: record.receipt in [r.receipt for r in outbox.model.records], timeout=5000)
    outbox.table.setFocus()
    qtbot.keyClick(outbox.table, Qt.Key.Key_Delete)  # the selected payment (the only one)
    dialog = wait_dialog(qtbot, CancelDialog)
    qtbot.waitUntil(lambda: dialog.candidate is not None, timeout=5000)
    text = dialog.payment_label.text()
    assert record.receipt in text and str(FAMILY) in text and "Espèces" in text and "En attente" in text
    qtbot.keyClick(dialog.reasons, Qt.Key.Key_Down)
    qtbot.keyClick(dialog.reasons, Qt.Key.Key_Down)
    qtbot.keyClick(dialog.reasons, Qt.Key.Key_Down)  # « Autre »: a comment is needed
    assert dialog.reason().value == "autre" and not dialog.cancel_button.isEnabled()
    assert "commentaire" in dialog.cancel_button.toolTip()
    qtbot.keyClicks(dialog.comment, "doublon saisi par erreur")
    shot(dialog, "cancel-dialog")
    confirm(qtbot, dialog)
    qtbot.waitUntil(lambda: dialog.done_item is not None, timeout=5000)
    assert "annulé" in dialog.message.text() and "Rien à faire" in dialog.message.text()
    shot(dialog, "cancel-done")
    # every view follows: the outbox withdraws it, the journal is still intact and counted again
    qtbot.waitUntil(lambda: record.receipt not in [r.receipt for r in outbox.model.records], timeout=5000)
    assert staffed.cancellations.get(record.receipt).cancellation.status == "cancelled"
    assert staffed.payments_store.due(utcnow() + timedelta(days=1)) == []
    # the reprint, on top, marked ANNULÉ
    pdf = dialog.reprint()
    assert isinstance(pdf, PdfDialog)
    qtbot.waitUntil(lambda: pdf.document.status() == QPdfDocument.Status.Ready, timeout=10000)
    assert "ANNULÉ" in pdf.document.getAllText(0).text()  # what the viewer shows, not a second PDF
    pdf.close()


def test_a_cashier_is_refused_in_the_dialog(qtbot, window, staffed, simulator):
    as_(staffed, "caisse")
    record = take(qtbot, window, staffed, simulator)
    qtbot.keyClick(window, Qt.Key.Key_A, CTRL_SHIFT)
    dialog = wait_dialog(qtbot, CancelDialog)
    qtbot.keyClicks(dialog.receipt_edit, record.receipt)
    qtbot.keyClick(dialog.receipt_edit, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: dialog.candidate is not None, timeout=5000)
    assert not dialog.cancel_button.isEnabled()
    assert "n'a pas le droit" in dialog.message.text() and "régisseur" in dialog.message.text()
    assert "n'a pas le droit" in dialog.cancel_button.toolTip()
    assert not window.control.label.isVisible()  # a cashier does not read the journal
    shot(dialog, "cancel-refused-cashier")
    dialog.close()


def test_a_payment_in_a_validated_docket_is_refused_with_why(qtbot, window, staffed, simulator):
    record = take(qtbot, window, staffed, simulator, Mode.CHEQUE, {"cheque_number": "7654321"})
    docket = staffed.day.validate_docket(staffed.day.create_docket(record.regie, DocketType.CHEQUE).id)
    dialog = window.control.open_cancel(record.receipt)
    qtbot.waitUntil(lambda: dialog.candidate is not None, timeout=5000)
    assert not dialog.cancel_button.isEnabled()
    assert docket.number in dialog.message.text() and "ne peut plus être annulé" in dialog.message.text()
    dialog.close()


def test_unknown_and_already_cancelled(qtbot, window, staffed, simulator):
    record = take(qtbot, window, staffed, simulator)
    dialog = window.control.open_cancel("Q-NOPE")
    qtbot.waitUntil(lambda: "inconnue" in dialog.message.text(), timeout=5000)
    staffed.cancellations.cancel(record.receipt, "erreur")
    dialog.receipt_edit.setText(record.receipt)
    dialog.load()
    qtbot.waitUntil(lambda: dialog.candidate is not None, timeout=5000)
    assert "déjà annulé" in dialog.message.text() and not dialog.cancel_button.isEnabled()
    assert dialog.reprint_button.isVisible()  # its receipt, marked ANNULÉ, may still be reprinted
    dialog.close()


LONG_MOTIVE = "chèque revenu impayé de la banque, famille prévenue par téléphone puis par courrier le lendemain"


def test_to_regularize_listed_then_marked(qtbot, window, staffed, simulator):
    record = take(qtbot, window, staffed, simulator)
    store, now = staffed.payments_store, utcnow()
    # Maelis applied it (as the transmitter would have), then it is cancelled here
    assert store.claim(record.id, "tx", now, timedelta(minutes=1), states=("pending",), alone=True)
    assert store.transition(record.id, "tx", now, state="confirmed", action="send", outcome="confirmed")
    staffed.cancellations.cancel(record.receipt, "cheque-refuse", LONG_MOTIVE)
    as_(staffed, "caisse")
    refused = window.control.open_regularize()
    qtbot.waitUntil(lambda: "droit" in refused.summary.text(), timeout=5000)
    refused.close()
    as_(staffed, "regie")
    dialog = window.control.open_regularize()
    qtbot.waitUntil(lambda: dialog.model.rowCount() == 1, timeout=5000)
    assert f"famille {FAMILY}" in dialog.what.text() and record.receipt in dialog.what.text()
    assert dialog.mark_button.isEnabled()
    shot(dialog, "to-regularize")
    # every column whole on screen: the État column was cut (a long motive took the width)
    header, table = dialog.table.horizontalHeader(), dialog.table
    state = header.count() - 1
    qtbot.waitUntil(lambda: header.sectionViewportPosition(state) + header.sectionSize(state)
                    <= table.viewport().width(), timeout=5000)
    assert header.sectionSize(state) >= table.sizeHintForColumn(state)
    assert dialog.model.index(0, RegularizeModel.MOTIVE).data(Qt.ItemDataRole.ToolTipRole).endswith(LONG_MOTIVE + ")")
    # Entrée in the table goes to the note; it does not mark the row regularized behind the note's back
    dialog.table.setFocus()
    qtbot.keyClick(dialog.table, Qt.Key.Key_Return)
    qtbot.wait(200)
    assert staffed.cancellations.get(record.receipt).cancellation.status == "to_regularize"
    assert QApplication.focusWidget() is dialog.note
    qtbot.keyClicks(dialog.note, "contre-passe dans Maelis le 05-12")  # QTest types ASCII
    qtbot.keyClick(dialog.note, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: dialog.model.rowCount() == 0 and "Aucun" in dialog.summary.text(), timeout=5000)
    done = staffed.cancellations.get(record.receipt).cancellation
    assert done.status == "regularized" and done.regularized_by == "regie"
    dialog.close()


def test_journal_intact_then_tampered_behind_the_desks_back(qtbot, window, staffed, simulator):
    record = take(qtbot, window, staffed, simulator)
    qtbot.keyClick(window, Qt.Key.Key_J, CTRL_SHIFT)
    dialog = wait_dialog(qtbot, JournalDialog)
    qtbot.waitUntil(lambda: dialog.verdict is not None and dialog.model.rowCount() > 0, timeout=5000)
    assert dialog.verdict.intact and "intègre" in dialog.state.text()
    kinds = [dialog.model.index(r, 3).data() for r in range(dialog.model.rowCount())]
    assert "Paiement enregistré" in kinds and "Compte opérateur créé : caisse" in kinds  # whose account
    receipts = [dialog.model.index(r, 4).data() for r in range(dialog.model.rowCount())]
    assert record.receipt in receipts
    shot(dialog, "journal-intact")
    # the date filter: from tomorrow, nothing
    dialog.since_box.setChecked(True)
    dialog.since.setDate(dialog.since.date().addDays(1))
    qtbot.waitUntil(lambda: dialog.model.rowCount() == 0, timeout=5000)
    dialog.since_box.setChecked(False)
    qtbot.waitUntil(lambda: dialog.model.rowCount() > 0, timeout=5000)
    seq = next(e.seq for e in staffed.journal.entries() if e.kind == "payment.recorded" and e.receipt == record.receipt)
    db.execute_sql('UPDATE "journal_entry" SET "amount_cents" = 1 WHERE "seq" = ?', (seq,))
    dialog.check()
    qtbot.waitUntil(lambda: dialog.verdict is not None and not dialog.verdict.intact, timeout=5000)
    assert dialog.verdict.first.seq == seq
    assert "altéré" in dialog.state.text() and str(seq) in dialog.state.text()
    assert dialog.model.row_object(dialog.table.currentIndex().row()).seq == seq  # the place shown
    shot(dialog, "journal-tampered")
    # the status bar says it too, after the next money event
    window.payments_changed()
    qtbot.waitUntil(lambda: window.control.verdict is not None and not window.control.verdict.intact,
                    timeout=5000)
    assert f"entrée n° {seq}" in window.control.label.text() and "ALTÉRÉ" in window.control.label.text()
    assert "altéré" in window.control.journal_action.text()
    shot(window.statusBar(), "status-bar-tampered")
    dialog.close()


def test_shortcuts_do_not_clash(window):
    seen: dict[str, str] = {}
    for action in window.findChildren(type(window.control.cancel_action)):
        for key in action.shortcuts():
            name = key.toString()
            assert name not in seen, f"{name}: {seen.get(name)} et {action.text()}"
            seen[name] = action.text()
    assert "Ctrl+Shift+A" in seen and "Ctrl+Shift+J" in seen
