"""Issue 9, points 4, 6, 7, 8, 10, 11: what the window says is true, and the keyboard never gets lost."""

from __future__ import annotations

from decimal import Decimal

from gui_helpers import FAMILY, open_family

from maelis_desk.services.payments import Mode, PaymentRequest


def _pending_payment(qtbot, window, desk, simulator):
    """Family 1312 open, Maelis down, a payment of the first invoice to pay recorded: shown as pending."""
    view = open_family(qtbot, window)
    index = next(i for i, r in enumerate(view.regies) if r.to_pay)
    regie = view.regies[index]
    window.family_pane.select_regie(index)
    invoice = regie.to_pay[0]
    simulator.set_fault("down")
    record = desk.payments.record(PaymentRequest(FAMILY, regie.regie.code, [invoice.number], invoice.remaining,
                                                 Mode.CHEQUE, {"cheque_number": "1234567"}))
    window.payments_changed()

    def shown():
        r = next(r for r in window.view.regies if r.regie.code == regie.regie.code)
        return next(i for i in r.invoices if i.number == invoice.number)

    qtbot.waitUntil(lambda: shown().status.value == "pending", timeout=10000)
    qtbot.waitUntil(lambda: "en attente de Maelis" in window.outbox_label.text(), timeout=10000)
    return record, shown


def _pane_texts(window) -> str:
    from PySide6.QtWidgets import QTableView

    texts = []
    for table in window.family_pane.findChildren(QTableView):
        model = table.model()
        if model is None:
            continue
        for row in range(model.rowCount()):
            texts.extend(str(model.index(row, c).data() or "") for c in range(model.columnCount()))
    return " | ".join(texts)


# -- point 4: every view follows a payment's state --------------------------------------------------------


def test_the_family_follows_the_transmission_without_f5(qtbot, window, desk, simulator):
    """Issue 9 point 4: the family kept « transmission en attente » after Maelis confirmed, until F5."""
    record, shown = _pending_payment(qtbot, window, desk, simulator)
    assert "transmission en attente" in _pane_texts(window)
    opened = window.shown_at
    simulator.set_fault(None)
    window.transmit_now()
    qtbot.waitUntil(lambda: desk.payments_store.get(record.id).state in ("sent", "confirmed"), timeout=15000)
    qtbot.waitUntil(lambda: shown().status.value == "paid" and shown().pending_paid == 0, timeout=10000)
    assert window.shown_at == opened  # no F5: the family was not re-opened
    assert "transmission en attente" not in _pane_texts(window)
    qtbot.waitUntil(lambda: window.outbox_label.text() == "", timeout=10000)


def test_send_now_in_the_outbox_updates_the_family_too(qtbot, window, desk, simulator):
    """« Envoyer maintenant » in the outbox dialog: the family behind it and the status bar follow."""
    record, shown = _pending_payment(qtbot, window, desk, simulator)
    dialog = window.open_outbox()
    qtbot.addWidget(dialog)
    qtbot.waitUntil(lambda: dialog.model.rowCount() == 1, timeout=10000)
    simulator.set_fault(None)
    dialog.send_now()
    qtbot.waitUntil(lambda: dialog.model.rowCount() == 0, timeout=15000)
    qtbot.waitUntil(lambda: shown().status.value == "paid" and shown().pending_paid == 0, timeout=10000)
    qtbot.waitUntil(lambda: window.outbox_label.text() == "", timeout=10000)


def test_an_open_outbox_follows_the_windows_transmission(qtbot, window, desk, simulator):
    record, shown = _pending_payment(qtbot, window, desk, simulator)
    dialog = window.open_outbox()
    qtbot.addWidget(dialog)
    qtbot.waitUntil(lambda: dialog.model.rowCount() == 1, timeout=10000)
    simulator.set_fault(None)
    window.transmit_now()
    qtbot.waitUntil(lambda: desk.payments_store.get(record.id).state == "confirmed", timeout=15000)
    qtbot.waitUntil(lambda: dialog.model.rowCount() == 0, timeout=10000)
