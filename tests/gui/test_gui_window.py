"""The desk window against the demo Maelis: search, open, tabs, totals, detail, PDF."""

from __future__ import annotations

from gui_helpers import FAMILY, open_family
from PySide6.QtCore import Qt

from maelis_desk.formatting import euros
from maelis_desk.ui.models import OBJECT_ROLE, InvoiceTableModel


def test_search_open_family_tabs_totals_detail_and_pdf(qtbot, window, desk):
    # search by name, as typed
    expected_view = desk.reader.open_family(FAMILY)
    family = expected_view.family
    window.search_pane.focus_search()
    window.search_pane.edit.setText(family.rl1.lastname)  # as typed (QTest types ASCII only)
    qtbot.waitUntil(lambda: window.search_pane.model.rowCount() > 0, timeout=10000)
    numbers = [f.number for f in window.search_pane.model.families]
    assert FAMILY in numbers
    found, _ = desk.reader.search(family.rl1.lastname)
    assert numbers == [f.number for f in found]

    # open it from the list
    row = numbers.index(FAMILY)
    window.search_pane.list.setCurrentIndex(window.search_pane.model.index(row, 0))
    with qtbot.waitSignal(window.family_shown, timeout=15000) as shown:
        qtbot.keyClick(window.search_pane.list, Qt.Key.Key_Return)
    assert shown.args == [FAMILY]
    view = window.view
    assert view.family.number == FAMILY

    # header: number, guardians, children, total due across régies
    header = window.family_pane.header
    assert str(FAMILY) in header.title.text()
    assert family.rl1.full_name in header.title.text()
    for child in family.children:
        assert child.firstname in header.subtitle.text()
    assert header.total.text() == euros(expected_view.due)
    assert expected_view.due > 0

    # one tab per régie of the régie list, labelled with what is due there
    regies, _ = desk.reader.regies()
    tabs = window.family_pane.tabs
    assert tabs.count() == len(regies) == len(expected_view.regies)
    calm = 0
    for i, regie_invoices in enumerate(expected_view.regies):
        text = tabs.tabText(i)
        assert regie_invoices.regie.label in text
        assert euros(regie_invoices.due) in text
        page = tabs.widget(i)
        assert page.to_pay.model.rowCount() == len(regie_invoices.to_pay)
        assert page.history.model.rowCount() == len(regie_invoices.history)
        if regie_invoices.due == 0:
            calm += 1
            assert tabs.tabBar().tabTextColor(i).name() == "#777777"
    assert calm >= 1  # the demo family owes nothing in at least one régie
    assert sum(r.due for r in expected_view.regies) == expected_view.due

    # the current tab is the first régie with something due; its to-pay table has the focus
    current = tabs.currentIndex()
    assert expected_view.regies[current].due > 0
    page = window.family_pane.current_page()
    qtbot.waitUntil(lambda: page.to_pay.table.hasFocus())
    invoice = window.current_invoice()
    assert invoice is not None and invoice.to_pay_at_regie

    # the table shows the contract's figures
    model = page.to_pay.model
    proxy = page.to_pay.table.proxy
    first = proxy.data(proxy.index(0, 0), OBJECT_ROLE)
    source_row = model.invoices.index(first)
    assert model.data(model.index(source_row, InvoiceTableModel.REMAINING)) == euros(first.remaining)
    assert model.data(model.index(source_row, InvoiceTableModel.AMOUNT)) == euros(first.amount)

    # the detail shows the invoice's lines and figures
    detail = window.family_pane.detail
    assert detail.invoice == invoice
    assert detail.lines_model.rowCount() == len(invoice.lines) > 0
    line = invoice.lines[0]
    assert detail.lines_model.data(detail.lines_model.index(0, 1)) == line.label
    assert detail.lines_model.data(detail.lines_model.index(0, 5)) == euros(line.amount)
    assert detail.values["remaining"].text() == euros(invoice.remaining)
    assert detail.values["amount"].text() == euros(invoice.amount)

    # the PDF of the selected invoice
    dialog = window.open_pdf()
    assert dialog is not None
    with qtbot.waitSignal(dialog.loaded, timeout=15000) as loaded:
        pass
    assert loaded.args == [1]
    assert dialog.document.pageCount() == 1
    assert dialog.page_label.text() == "Page 1 / 1"
    assert dialog.data.startswith(b"%PDF")
    dialog.close()


def test_number_then_enter_opens_directly(qtbot, window):
    window.search_pane.focus_search()
    qtbot.keyClicks(window.search_pane.edit, str(FAMILY))
    with qtbot.waitSignal(window.family_shown, timeout=15000):
        qtbot.keyClick(window.search_pane.edit, Qt.Key.Key_Return)
    assert window.view.family.number == FAMILY
    assert "1312" in window.windowTitle()


def test_unknown_family_says_so(qtbot, window):
    with qtbot.waitSignal(window.family_failed, timeout=15000) as failed:
        window.open_family(99999999)
    assert failed.args[0] == 99999999
    assert window.view is None
    assert window.banner.isVisible() and window.banner.kind == "error"
    assert "99999999" in window.family_pane.message.text()


def test_history_and_transmitted_invoice_marked(qtbot, window, desk):
    view = open_family(qtbot, window)
    transmitted = [
        (i, inv)
        for i, r in enumerate(view.regies)
        for inv in r.history
        if inv.is_transmitted and inv.remaining > 0
    ]
    assert transmitted, "the demo family has a transmitted invoice"
    index, invoice = transmitted[0]
    window.family_pane.select_regie(index)
    model = window.family_pane.current_page().history.model
    row = model.invoices.index(invoice)
    status = model.index(row, InvoiceTableModel.STATUS)
    assert model.data(status) == "Transmise au Trésor public"
    assert model.data(status, Qt.ItemDataRole.ToolTipRole) == invoice.refusal_reason


def test_refresh_keeps_tab(qtbot, window):
    open_family(qtbot, window)
    window.family_pane.select_regie(2)
    with qtbot.waitSignal(window.family_shown, timeout=15000):
        qtbot.keyClick(window, Qt.Key.Key_F5)
    assert window.family_pane.tabs.currentIndex() == 2
    assert not window.banner.isVisible()
    assert "Maelis" in window.data_label.text()


def test_status_bar_shows_maelis_state_and_demo_marker(qtbot, window, desk):
    open_family(qtbot, window)
    qtbot.waitUntil(lambda: "Maelis en ligne" in window.state_label.text() or "lent" in window.state_label.text())
    assert not window.demo_badge.isVisible()  # a configured Maelis: no demo marker


def test_demo_marker(qtbot, desk, settings):
    from dataclasses import replace

    from maelis_desk.ui.main_window import MainWindow

    demo = replace(settings, url=None, demo_url=settings.url)
    assert demo.demo
    win = MainWindow(desk, demo)
    qtbot.addWidget(win)
    win.show()
    assert win.demo_badge.isVisible()
    assert "DÉMO" in win.demo_badge.text()
    assert "DÉMO" in win.windowTitle()
    win.close()
