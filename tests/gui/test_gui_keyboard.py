"""The desk is usable with the keyboard only."""

from __future__ import annotations

import unicodedata

from gui_helpers import FAMILY
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from maelis_desk.ui.main_window import MainWindow
from maelis_desk.ui.pdf_dialog import PdfDialog

CTRL = Qt.KeyboardModifier.ControlModifier
SHIFT = Qt.KeyboardModifier.ShiftModifier


def ascii_name(text: str) -> str:
    """QTest types ASCII only; the search ignores accents and case anyway."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).encode("ascii", "ignore").decode()


def focused():
    return QApplication.focusWidget()


def activate(qtbot, window: MainWindow) -> None:
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)


def test_keyboard_flow(qtbot, window, desk):
    activate(qtbot, window)
    expected = desk.reader.open_family(FAMILY)

    # Ctrl+F puts the cursor in the search field, whatever had the focus
    window.family_pane.setFocus()
    qtbot.keyClick(window, Qt.Key.Key_F, CTRL)
    assert focused() is window.search_pane.edit

    # type the number, Enter: the family opens, the cursor lands in its invoices
    qtbot.keyClicks(focused(), str(FAMILY))
    with qtbot.waitSignal(window.family_shown, timeout=15000):
        qtbot.keyClick(focused(), Qt.Key.Key_Return)
    first_tab = window.family_pane.tabs.currentIndex()
    page = window.family_pane.current_page()
    qtbot.waitUntil(lambda: focused() is page.to_pay.table)
    assert window.current_invoice() is not None

    # Ctrl+2: the second régie, the cursor in its invoices
    qtbot.keyClick(focused(), Qt.Key.Key_2, CTRL)
    assert window.family_pane.tabs.currentIndex() == 1
    page2 = window.family_pane.current_page()
    assert focused() in page2.tables
    regie2 = expected.regies[1]
    assert page2.regie_invoices.regie == regie2.regie

    # arrows move in the table, the detail follows
    table = focused()
    assert table.proxy.rowCount() >= 2, "the second régie of the demo family has several invoices"
    before = window.current_invoice()
    qtbot.keyClick(table, Qt.Key.Key_Down)
    after = window.current_invoice()
    assert after is not None and after != before
    assert window.family_pane.detail.invoice == after

    # Enter: to the invoice's lines; Escape: back to the invoices
    qtbot.keyClick(table, Qt.Key.Key_Return)
    assert focused() is window.family_pane.detail.lines
    qtbot.keyClick(focused(), Qt.Key.Key_Escape)
    assert focused() in page2.tables
    # F4 does the same as Enter
    qtbot.keyClick(focused(), Qt.Key.Key_F4)
    assert focused() is window.family_pane.detail.lines
    qtbot.keyClick(focused(), Qt.Key.Key_Escape)

    # Tab goes from "À payer" to "Historique"
    if page2.to_pay.model.rowCount() and page2.history.model.rowCount():
        page2.to_pay.table.setFocus()
        qtbot.keyClick(focused(), Qt.Key.Key_Tab)
        assert focused() is page2.history.table

    # Ctrl+Tab / Ctrl+Shift+Tab: next and previous régie
    qtbot.keyClick(focused(), Qt.Key.Key_Tab, CTRL)
    assert window.family_pane.tabs.currentIndex() == 2
    qtbot.keyClick(focused(), Qt.Key.Key_Backtab, CTRL | SHIFT)
    assert window.family_pane.tabs.currentIndex() == 1
    qtbot.keyClick(focused(), Qt.Key.Key_1, CTRL)
    assert window.family_pane.tabs.currentIndex() == 0 or first_tab == 0

    # Ctrl+D: the PDF of the selected invoice; Escape closes it
    window.family_pane.select_regie(first_tab)
    invoice = window.current_invoice()
    assert invoice is not None
    qtbot.keyClick(focused(), Qt.Key.Key_D, CTRL)
    dialogs = window.findChildren(PdfDialog)
    assert len(dialogs) == 1
    dialog = dialogs[0]
    assert dialog.invoice == invoice
    qtbot.waitUntil(lambda: dialog.document.pageCount() == 1, timeout=15000)
    dialog.activateWindow()
    qtbot.waitUntil(dialog.isActiveWindow)
    with qtbot.waitSignal(dialog.finished, timeout=2000):
        qtbot.keyClick(focused(), Qt.Key.Key_Escape)

    # F3 back to the search, F5 refreshes the family
    activate(qtbot, window)
    qtbot.keyClick(focused(), Qt.Key.Key_F3)
    assert focused() is window.search_pane.edit
    with qtbot.waitSignal(window.family_shown, timeout=15000):
        qtbot.keyClick(focused(), Qt.Key.Key_F5)


def test_search_by_name_with_keyboard(qtbot, window, desk):
    activate(qtbot, window)
    family, _ = desk.reader.family(FAMILY)
    qtbot.keyClick(window, Qt.Key.Key_F3)
    assert focused() is window.search_pane.edit
    qtbot.keyClicks(focused(), ascii_name(family.rl1.lastname).lower())  # accents ignored by the search
    qtbot.waitUntil(lambda: window.search_pane.model.rowCount() > 0, timeout=10000)
    # Down goes to the results; Enter on the demo family opens it
    qtbot.keyClick(focused(), Qt.Key.Key_Down)
    assert focused() is window.search_pane.list
    rows = [f.number for f in window.search_pane.model.families]
    for _ in range(rows.index(FAMILY)):
        qtbot.keyClick(focused(), Qt.Key.Key_Down)
    with qtbot.waitSignal(window.family_shown, timeout=15000) as shown:
        qtbot.keyClick(focused(), Qt.Key.Key_Return)
    assert shown.args == [FAMILY]


def test_enter_before_results_opens_single_match(qtbot, window, desk):
    activate(qtbot, window)
    family, _ = desk.reader.family(FAMILY)
    text = ascii_name(f"{family.rl1.lastname} {family.rl1.firstname}")
    found, _ = desk.reader.search(text)
    assert [f.number for f in found] == [FAMILY]
    window.search_pane.focus_search()
    qtbot.keyClicks(focused(), text)
    with qtbot.waitSignal(window.family_shown, timeout=15000) as shown:
        qtbot.keyClick(focused(), Qt.Key.Key_Return)  # before the 250 ms debounce
    assert shown.args == [FAMILY]


def test_shortcuts_are_shown_in_menus_and_tooltips(window):
    assert "Ctrl+F" in window.search_action.toolTip()
    assert "F3" in window.search_action.toolTip()
    assert "Ctrl+D" in window.pdf_action.toolTip()
    assert "F5" in window.refresh_action.toolTip()
    menus = [a.text().replace("&", "") for a in window.menuBar().actions()]
    assert menus == ["Fichier", "Famille", "Caisse", "Régie", "Contrôle", "Affichage", "Aide"]
    assert window.regie_actions[1].shortcut().toString() == "Ctrl+2"


def _visible_in(window, widget) -> bool:
    return widget is not None and widget.isVisible() and widget.window() is window \
        and widget.focusPolicy() != Qt.FocusPolicy.NoFocus


def test_focus_never_goes_where_it_cannot_be_seen(qtbot, window, desk):
    """Issue 9 point 10: in a régie with no invoice at all the cursor was put on a hidden
    table (then Tab, Shift+Tab and the arrows did nothing visible), and Tab stopped on the
    tab bar's scroll arrows. Now the cursor goes to the régie tabs, the arrows change
    régie, and every Tab lands on something shown."""
    activate(qtbot, window)
    with qtbot.waitSignal(window.family_shown, timeout=15000):
        window.open_family(FAMILY, focus=True)
    pane = window.family_pane
    counts = []
    for i in range(pane.tabs.count()):
        pane.select_regie(i, focus=False)
        page = pane.current_page()
        counts.append((page.to_pay.model.rowCount(), page.history.model.rowCount()))
    empty = next(i for i, c in enumerate(counts) if c == (0, 0))  # the demo family has such régies
    only_history = next(i for i, c in enumerate(counts) if c[0] == 0 and c[1])

    pane.select_regie(empty)  # Ctrl+N does this
    assert focused() is pane.tabs.tabBar()
    qtbot.keyClick(focused(), Qt.Key.Key_F6)
    assert focused() is pane.tabs.tabBar()
    for _ in range(6):
        qtbot.keyClick(focused(), Qt.Key.Key_Tab)
        assert _visible_in(window, focused()), focused()
    for _ in range(6):
        qtbot.keyClick(focused(), Qt.Key.Key_Backtab, SHIFT)
        assert _visible_in(window, focused()), focused()

    pane.select_regie(empty)
    qtbot.keyClick(focused(), Qt.Key.Key_Right if only_history > empty else Qt.Key.Key_Left)
    assert pane.tabs.currentIndex() != empty  # the arrows walk the régies from there

    pane.select_regie(only_history)  # nothing to pay, a history: the cursor in the history
    assert focused() is pane.current_page().history.table
    qtbot.keyClick(focused(), Qt.Key.Key_Tab)
    assert _visible_in(window, focused()) and focused() is not pane.current_page().to_pay.table
