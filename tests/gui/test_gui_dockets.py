"""The régie's dockets and monthly statement in the window (issue 12 points 3 and 4):
a cheque draft prepared, validated (its number), exported as PDF (the viewer),
CSV and ODS (Qt's French file dialog) and read back; a supervisor reads and
exports but cannot validate; a cashier is refused; the monthly statement in PDF
and CSV. Driven with the keyboard where a person would."""

from __future__ import annotations

import csv
import io
import os
import re
from decimal import Decimal
from pathlib import Path

import pytest
from gui_helpers import FAMILY
from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QLocale, Qt
from PySide6.QtPdf import QPdfDocument
from PySide6.QtWidgets import QApplication, QDialogButtonBox, QFileDialog, QLabel, QMessageBox, QPushButton

from maelis_desk.domain import Role
from maelis_desk.domain_day import DocketState, DocketType
from maelis_desk.services.payments import Mode, PaymentRequest
from maelis_desk.ui.app import install_translations
from maelis_desk.ui.docket_dialogs import DocketsDialog, StatementDialog
from maelis_desk.ui.pdf_dialog import PdfDialog

SHOTS = Path(os.environ.get("MAELIS_DESK_SHOTS", "/tmp/dockets-shots"))
ALT = Qt.KeyboardModifier.AltModifier
CTRL_SHIFT = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier
CHEQUES = [("0012345", "Crédit Agricole", "Mme Éloïse Dupont"), ("77", "La Banque Postale", "")]


def shot(widget, name: str) -> None:
    """The dialog as drawn, for a person to look at (not a check)."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    QApplication.processEvents()
    widget.grab().save(str(SHOTS / f"{name}.png"))


def pdf_text(data: bytes) -> str:
    array = QByteArray(data)
    buffer = QBuffer(array)
    buffer.open(QIODevice.OpenModeFlag.ReadOnly)
    doc = QPdfDocument()
    doc.load(buffer)
    assert doc.status() == QPdfDocument.Status.Ready
    text = "\n".join(doc.getAllText(i).text() for i in range(doc.pageCount()))
    doc.close()
    return " ".join(text.replace("\u00a0", " ").split())


def read_csv(data: bytes) -> list[list[str]]:
    """As a French spreadsheet reads it: UTF-8 announced by its BOM, `;` between fields."""
    assert data.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(data[3:].decode("utf-8")), delimiter=";"))


def fr_number(text: str) -> Decimal:
    assert re.fullmatch(r"-?\d+,\d\d", text), text
    return Decimal(text.replace(",", "."))


def take_cheques(desk) -> tuple[int, list]:
    """Two cheques and one cash payment for family 1312, in one régie: (its code, the cheque records)."""
    view = desk.reader.open_family(FAMILY)
    regie = next(r for r in view.regies if len(r.to_pay) >= 2)  # 102, CANTINE / CLAE: two invoices, partly paid
    records = []
    for invoice, (number, bank, drawer) in zip(regie.to_pay, CHEQUES):
        details = {"cheque_number": number, "bank": bank}
        if drawer:
            details["drawer"] = drawer
        records.append(desk.payments.record(PaymentRequest(FAMILY, regie.regie.code, [invoice.number],
                                                           Decimal("1.00") + len(records), Mode.CHEQUE, details)))
    desk.payments.record(PaymentRequest(FAMILY, regie.regie.code, [regie.to_pay[0].number], Decimal("5.00"),
                                        Mode.ESPECES, {}))
    return regie.regie.code, records


def open_dockets(qtbot, window, regie: int) -> DocketsDialog:
    """Ctrl+Maj+B from the main window, then the régie chosen; waits for its dockets."""
    qtbot.keyClick(window, Qt.Key.Key_B, CTRL_SHIFT)
    qtbot.waitUntil(lambda: isinstance(QApplication.activeWindow(), DocketsDialog), timeout=5000)
    dialog = QApplication.activeWindow()
    qtbot.waitUntil(lambda: dialog.regie.count() > 0, timeout=10000)
    dialog.regie.setCurrentIndex(dialog.regie.findData(regie))
    qtbot.waitUntil(lambda: dialog.state is not None and dialog.current_regie() == regie and
                    not dialog._task.busy, timeout=5000)
    return dialog


def wait_pdf(qtbot, pdf: PdfDialog) -> str:
    qtbot.waitUntil(lambda: pdf.data is not None and pdf.document.status() == QPdfDocument.Status.Ready,
                    timeout=10000)
    return pdf_text(pdf.data)


def save_through(qtbot, owner, dialog: QFileDialog, target: Path) -> bytes:
    """The file dialog as a person sees it (French), then the file chosen; the file written."""
    assert dialog.isVisible() and dialog.acceptMode() is QFileDialog.AcceptMode.AcceptSave
    texts = {b.text().replace("&", "") for b in dialog.findChildren(QPushButton)}
    labels = " ".join(label.text().replace("&", "") for label in dialog.findChildren(QLabel))
    assert "Enregistrer" in texts and "Annuler" in texts, texts  # Qt's French translation
    assert "Voir dans" in labels and "Nom de fichier" in labels and "Type de fichier" in labels, labels
    assert "Look" not in labels and "Files" not in labels
    dialog.fileSelected.emit(str(target))
    dialog.reject()
    qtbot.waitUntil(lambda: owner.last_export == str(target), timeout=10000)
    return target.read_bytes()


@pytest.fixture(autouse=True)
def french_qt(qapp):
    """As the application does (app.make_application): Qt's own dialogs in French."""
    assert install_translations(qapp, QLocale(QLocale.Language.French, QLocale.Country.France))


def test_cheque_slip_draft_validate_and_exports(qtbot, window, desk, tmp_path):
    regie, records = take_cheques(desk)
    dialog = open_dockets(qtbot, window, regie)
    assert dialog.current_type() is DocketType.CHEQUE
    assert "préparez un brouillon" in dialog.info.text()
    assert dialog.prepare_button.isEnabled() and dialog.prepare_button.isDefault()
    assert not dialog.validate_button.isEnabled() and not dialog.pdf_button.isEnabled()

    qtbot.keyClick(dialog.regie, Qt.Key.Key_P, ALT)  # « Préparer un brouillon »
    qtbot.waitUntil(lambda: dialog.state.draft is not None and dialog.lines.rowCount() == 2, timeout=10000)
    draft = dialog.state.draft
    assert dialog.list.item(0, 0).text() == f"Brouillon n° {draft.id}" and dialog.list.item(0, 1).text() == "brouillon"
    headers = [dialog.lines.horizontalHeaderItem(c).text() for c in range(dialog.lines.columnCount())]
    assert headers == ["N°", "Date", "N° de chèque", "Banque", "Tireur", "Quittance", "Montant"]
    cells = [[dialog.lines.item(r, c).text() for c in range(2, 7)] for r in range(2)]
    assert cells == [["0012345", "Crédit Agricole", "Mme Éloïse Dupont", records[0].receipt, "1,00\u00a0€"],
                     ["77", "La Banque Postale", records[1].payer_name, records[1].receipt, "2,00\u00a0€"]]
    assert "2 chèques — total 3,00\u00a0€" in dialog.totals.text()
    assert "trois euros" in dialog.totals.text()
    assert dialog.validate_button.isEnabled() and dialog.validate_button.isDefault()
    assert not dialog.prepare_button.isEnabled()  # one draft per régie and type
    assert "Un brouillon est en cours" in dialog.info.text()
    shot(dialog, "bordereaux-brouillon-cheques")

    qtbot.keyClick(dialog.list, Qt.Key.Key_V, ALT)  # « Valider… »: asked first
    qtbot.waitUntil(lambda: dialog.confirm_box is not None and dialog.confirm_box.isVisible(), timeout=5000)
    box = dialog.confirm_box
    assert "2 chèques — total 3,00" in box.informativeText() and "ne pourront plus être annulés" in box.informativeText()
    assert box.defaultButton().objectName() == "docketConfirmGo"
    qtbot.keyClick(box, Qt.Key.Key_Return)
    year = desk.day.today().year
    number = f"B-{regie}-{year}-0001"
    qtbot.waitUntil(lambda: dialog.list.rowCount() == 1 and dialog.list.item(0, 0).text() == number, timeout=10000)
    assert dialog.list.item(0, 1).text() == "validé"
    assert f"Bordereau validé : n° {number}" in dialog.outcome.text()
    assert f"n° {number}" in window.statusBar().currentMessage()
    validated = desk.day.docket(draft.id)
    assert validated.state is DocketState.VALIDATED and validated.number == number
    assert all(desk.day.is_locked(r.id) for r in records)  # its payments can no longer be cancelled
    assert dialog.prepare_button.isEnabled() and not dialog.validate_button.isEnabled()
    assert "Aucun brouillon" in dialog.info.text()

    # PDF: Entrée on the docket opens it in the viewer, on top — and only that: the key also reached the
    # dialog's default button (« Préparer un brouillon »), which gathered a new cheque into a draft
    waiting = next(r for r in desk.reader.open_family(FAMILY).regies if r.regie.code == regie).to_pay[0]
    desk.payments.record(PaymentRequest(FAMILY, regie, [waiting.number], Decimal("1.00"), Mode.CHEQUE,
                                        {"cheque_number": "9999999"}))
    dialog.list.setFocus()
    qtbot.keyClick(dialog.list, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: dialog.pdf is not None and dialog.pdf.isVisible(), timeout=5000)
    qtbot.wait(300)
    assert desk.day.store.draft_for(regie, DocketType.CHEQUE) is None and dialog.error.text() == ""
    text = wait_pdf(qtbot, dialog.pdf)
    for expected in ("Bordereau de remise de chèques", f"N° {number}", "0012345", "Crédit Agricole",
                     "Mme Éloïse Dupont", "77", "La Banque Postale", records[1].payer_name, "3,00 €", "2 chèques",
                     "trois euros", "Cachet de la banque"):
        assert expected in text, expected
    assert dialog.pdf.print_action.isEnabled()
    qtbot.wait(500)  # QPdfView draws its pages later: for the screenshot only
    shot(dialog.pdf, "bordereau-cheques-pdf")
    dialog.pdf.close()

    # CSV through the French file dialog, read back as a French spreadsheet does
    dialog.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is dialog, timeout=5000)
    qtbot.keyClick(dialog.list, Qt.Key.Key_C, ALT)
    qtbot.waitUntil(lambda: dialog.export_dialog is not None and dialog.export_dialog.isVisible(), timeout=5000)
    assert dialog.export_dialog.selectedFiles()[0].endswith(f"bordereau-{number}.csv")
    shot(dialog.export_dialog, "bordereau-export-csv")
    rows = read_csv(save_through(qtbot, dialog, dialog.export_dialog, tmp_path / "remise.csv"))
    header, body = rows[0], rows[1:]
    assert header[-5:] == ["N° de chèque", "Banque", "Tireur", "Quittance", "Montant"]
    assert [(r[0], r[6], r[7], r[8], r[9], fr_number(r[10])) for r in body] == [
        (number, "0012345", "Crédit Agricole", "Mme Éloïse Dupont", records[0].receipt, Decimal("1.00")),
        (number, "77", "La Banque Postale", records[1].payer_name, records[1].receipt, Decimal("2.00"))]
    assert "Bordereau exporté" in dialog.outcome.text()

    # ODS, read back by a reader independent of the writer
    from python_calamine import CalamineWorkbook

    dialog.activateWindow()  # the offscreen platform gives the activation back to no one
    qtbot.waitUntil(lambda: QApplication.activeWindow() is dialog, timeout=5000)
    csv_dialog = dialog.export_dialog
    qtbot.keyClick(dialog.list, Qt.Key.Key_O, ALT)
    qtbot.waitUntil(lambda: dialog.export_dialog is not csv_dialog, timeout=5000)  # a mnemonic clicks 100 ms later
    assert dialog.export_dialog.defaultSuffix() == "ods"
    target = tmp_path / "remise.ods"
    save_through(qtbot, dialog, dialog.export_dialog, target)
    sheet = CalamineWorkbook.from_path(str(target)).get_sheet_by_index(0).to_python()
    table = [r for r in sheet if r and r[0] == number]
    assert [r[6] for r in table] == ["0012345", "77"]
    assert [Decimal(str(r[10])) for r in table] == [Decimal("1"), Decimal("2")]
    totals = {r[0]: r[1] for r in sheet if r and r[0] in ("Nombre", "Total")}
    assert totals["Nombre"] == 2 and Decimal(str(totals["Total"])) == Decimal("3")
    # a place that cannot be written: said in French, nothing else lost
    dialog.save_to(str(tmp_path / "absent" / "remise.csv"), lambda: b"x")
    qtbot.waitUntil(lambda: "Impossible d'enregistrer" in dialog.error.text(), timeout=5000)
    assert "le dossier n'existe pas" in dialog.error.text() and dialog.last_export == str(target)
    dialog.close()


def test_discard_a_draft_and_nothing_to_gather(qtbot, window, desk):
    regie, _records = take_cheques(desk)
    dialog = open_dockets(qtbot, window, regie)
    dialog.type.setCurrentIndex(dialog.type.findData(DocketType.CESU))
    qtbot.waitUntil(lambda: dialog.current_type() is DocketType.CESU and not dialog._task.busy, timeout=5000)
    dialog.prepare()  # no CESU payment: the service's refusal, in the dialog
    qtbot.waitUntil(lambda: "n'attend de bordereau" in dialog.error.text(), timeout=5000)
    dialog.type.setCurrentIndex(dialog.type.findData(DocketType.CHEQUE))
    qtbot.waitUntil(lambda: dialog.current_type() is DocketType.CHEQUE and not dialog._task.busy, timeout=5000)
    assert dialog.error.text() == ""
    dialog.prepare()
    qtbot.waitUntil(lambda: dialog.state.draft is not None, timeout=10000)
    qtbot.keyClick(dialog.list, Qt.Key.Key_A, ALT)  # « Abandonner le brouillon »
    qtbot.waitUntil(lambda: dialog.state.draft is None and dialog.list.rowCount() == 0, timeout=10000)
    assert "Brouillon abandonné" in dialog.outcome.text()
    assert desk.day.dockets(regie) == []
    dialog.close()


def _accounts(desk):
    ops = desk.operators
    ops.add("regie", "Régis Dupont", Role.REGISSEUR, "regie")
    ops.login("regie", "regie")
    ops.add("controle", "Claire Contrôle", Role.SUPERVISEUR, "controle")
    ops.add("anne", "Anne Caisse", Role.CAISSIER, "anne")
    return ops


def test_a_supervisor_reads_and_exports_but_cannot_validate(qtbot, window, desk, tmp_path):
    ops = _accounts(desk)
    regie, _records = take_cheques(desk)
    draft = desk.day.create_docket(regie, DocketType.CHEQUE)
    ops.login("controle", "controle")
    dialog = open_dockets(qtbot, window, regie)
    qtbot.waitUntil(lambda: dialog.lines.rowCount() == 2, timeout=5000)
    assert not dialog.validate_button.isEnabled() and not dialog.discard_button.isEnabled()
    assert not dialog.prepare_button.isEnabled()
    assert "Consultation seulement" in dialog.rights.text() and "n'a pas le droit" in dialog.rights.text()
    assert "Claire Contrôle" in dialog.validate_button.toolTip()
    assert dialog.ask_validate() is None
    assert dialog.pdf_button.isEnabled() and dialog.csv_button.isEnabled() and dialog.ods_button.isEnabled()
    shot(dialog, "bordereaux-superviseur")
    csv_dialog = dialog.export_file("csv")
    rows = read_csv(save_through(qtbot, dialog, csv_dialog, tmp_path / "brouillon.csv"))
    assert [r[0] for r in rows[1:]] == [f"BROUILLON n° {draft.id}"] * 2
    # were the validation asked anyway, the service refuses, in French, and nothing changes
    day = desk.day
    dialog._act(lambda: day.validate_docket(draft.id), "Validation du bordereau…", lambda d: "")
    qtbot.waitUntil(lambda: "n'a pas le droit" in dialog.error.text(), timeout=5000)
    assert desk.day.docket(draft.id).state is DocketState.DRAFT
    dialog.close()


def test_a_cashier_is_refused(qtbot, window, desk):
    ops = _accounts(desk)
    regie, _records = take_cheques(desk)
    ops.login("anne", "anne")
    qtbot.keyClick(window, Qt.Key.Key_B, CTRL_SHIFT)
    qtbot.waitUntil(lambda: isinstance(QApplication.activeWindow(), DocketsDialog), timeout=5000)
    dialog = QApplication.activeWindow()
    qtbot.waitUntil(lambda: "n'a pas le droit" in dialog.error.text(), timeout=10000)
    assert "Anne Caisse (caissier)" in dialog.error.text()
    for b in (dialog.prepare_button, dialog.validate_button, dialog.discard_button, dialog.pdf_button,
              dialog.csv_button, dialog.ods_button):
        assert not b.isEnabled()
    assert dialog.list.rowCount() == 0
    dialog.close()
    statement = window.regie_docs.open_statement()
    qtbot.waitUntil(lambda: "n'a pas le droit" in statement.error.text(), timeout=10000)
    qtbot.waitUntil(lambda: statement.regie.count() > 0, timeout=10000)
    assert not statement.pdf_button.isEnabled() and not statement.csv_button.isEnabled()
    statement.close()


def test_monthly_statement_pdf_and_csv(qtbot, window, desk, tmp_path):
    regie, _records = take_cheques(desk)
    desk.day.validate_docket(desk.day.create_docket(regie, DocketType.CHEQUE).id)
    menu = next(a.menu() for a in window.menuBar().actions() if a.menu() and a.menu().objectName() == "regieMenu")
    assert menu.title() == "Ré&gie"
    assert [a.text() for a in menu.actions()] == ["&Bordereaux…", "&Relevé mensuel…"]
    window.regie_docs.statement_action.trigger()
    qtbot.waitUntil(lambda: isinstance(QApplication.activeWindow(), StatementDialog), timeout=5000)
    dialog = QApplication.activeWindow()
    qtbot.waitUntil(lambda: dialog.regie.count() > 0 and dialog.pdf_button.isEnabled(), timeout=10000)
    dialog.regie.setCurrentIndex(dialog.regie.findData(regie))
    today = desk.day.today()
    assert dialog.month.currentData() == (today.year, today.month)
    dialog.month.setFocus()
    qtbot.keyClick(dialog.month, Qt.Key.Key_Down)  # the month before, by the keyboard
    assert dialog.month.currentIndex() == 1
    qtbot.keyClick(dialog.month, Qt.Key.Key_Up)
    month = dialog.month.currentText()
    shot(dialog, "releve-mensuel-dialogue")
    assert dialog.pdf_button.isDefault()
    qtbot.keyClick(dialog.month, Qt.Key.Key_Return)  # Entrée: the PDF
    qtbot.waitUntil(lambda: dialog.pdf is not None and dialog.pdf.isVisible(), timeout=5000)
    text = wait_pdf(qtbot, dialog.pdf)
    year = today.year
    for expected in (f"État mensuel de la régie {regie}", f"Mois de {month}", "Encaissements par mode", "Chèque",
                     "Espèces", "8,00 €", f"B-{regie}-{year}-0001", "Bordereau de remise de chèques",
                     "Sessions de caisse arrêtées"):
        assert expected in text, expected
    qtbot.wait(500)  # QPdfView draws its pages later: for the screenshot only
    shot(dialog.pdf, "releve-mensuel-pdf")
    dialog.pdf.close()
    dialog.activateWindow()
    csv_dialog = dialog.export_csv()
    rows = read_csv(save_through(qtbot, dialog, csv_dialog, tmp_path / "etat.csv"))
    assert rows[0][:3] == ["Régie", "Mois", "Rubrique"]
    by_kind = {(r[2], r[5]): r for r in rows[1:]}
    assert fr_number(by_kind[("Encaissements", "Chèque")][7]) == Decimal("3.00")
    assert fr_number(by_kind[("Encaissements", "Espèces")][7]) == Decimal("5.00")
    assert by_kind[("Bordereau", "Chèque")][4] == f"B-{regie}-{year}-0001"
    assert "État mensuel enregistré" in dialog.info.text()
    dialog.close()


def test_shortcuts_do_not_clash(window):
    seen: dict[str, str] = {}
    for action in window.actions():
        for key in action.shortcuts():
            name = key.toString()
            assert name not in seen, f"{name}: {seen.get(name)} et {action.text()}"
            seen[name] = action.text()
    assert seen["Ctrl+Shift+B"] == "&Bordereaux…"
    mnemonics = [re.search(r"&(.)", a.text()).group(1).lower() for a in window.menuBar().actions()]
    assert len(mnemonics) == len(set(mnemonics)), mnemonics
