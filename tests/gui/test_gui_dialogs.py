"""The settings dialog and the PDF dialog."""

from __future__ import annotations

import json
import socket
from dataclasses import replace

import pytest
from gui_helpers import FAMILY, open_family
from PySide6 import QtCore
from PySide6.QtPdfWidgets import QPdfView
from PySide6.QtPrintSupport import QPrinter
from PySide6.QtWidgets import QFileDialog, QMessageBox

from maelis_desk import config
from maelis_desk.ui.settings_dialog import SettingsDialog


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- settings -----------------------------------------------------------------------


@pytest.fixture
def settings_dialog(qtbot, settings):
    dialog = SettingsDialog(settings)
    qtbot.addWidget(dialog)
    dialog.open()
    return dialog


def test_connection_test_success_counts_regies(qtbot, settings_dialog, desk):
    regies, _ = desk.reader.regies()
    with qtbot.waitSignal(settings_dialog.tested, timeout=15000) as tested:
        qtbot.mouseClick(settings_dialog.test_button, _left())
    ok, text = tested.args
    assert ok, text
    assert f"{len(regies)} régies" in text
    assert settings_dialog.test_result.text() == text
    assert settings_dialog.test_button.isEnabled()


def test_connection_test_wrong_password(qtbot, settings_dialog):
    settings_dialog.password.setText("pas-le-bon")
    with qtbot.waitSignal(settings_dialog.tested, timeout=15000) as tested:
        settings_dialog.test()
    ok, text = tested.args
    assert not ok
    assert "identification" in text and "mot de passe" in text


def test_connection_test_unreachable(qtbot, settings_dialog):
    settings_dialog.url.setText(f"http://127.0.0.1:{_free_port()}/maelisws/services")
    with qtbot.waitSignal(settings_dialog.tested, timeout=15000) as tested:
        settings_dialog.test()
    ok, text = tested.args
    assert not ok
    assert "injoignable" in text


def test_connection_test_bad_url(qtbot, settings_dialog):
    settings_dialog.url.setText("maelis.example.org")
    with qtbot.waitSignal(settings_dialog.tested, timeout=1000) as tested:
        settings_dialog.test()
    assert tested.args[0] is False
    assert "http://" in tested.args[1]


def test_save_writes_settings_without_password_and_asks_to_restart(qtbot, settings_dialog, settings, monkeypatch):
    kept = []
    monkeypatch.setattr(config, "store_password", lambda url, user, pw: kept.append((url, user)) and False)
    settings_dialog.timeout.setValue(7.5)
    settings_dialog.operator.setText("Jeanne Caisse")
    with qtbot.waitSignal(settings_dialog.saved, timeout=5000) as saved:
        settings_dialog.save()
        box = settings_dialog.restart_box
        assert box.isVisible()
        # no keyring: the dialog says the password will be asked at each start
        assert "chaque démarrage" in box.informativeText()
        later = next(b for b in box.buttons() if "Plus tard" in b.text())
        later.click()
    new_settings, restart = saved.args
    assert restart is False
    assert kept == [(settings.url, "demo")]
    assert new_settings.timeout == 7.5
    stored = json.loads(config.settings_file().read_text(encoding="utf-8"))
    assert stored["timeout"] == 7.5
    assert stored["operator"] == "Jeanne Caisse"
    assert stored["url"] == settings.url
    assert "password" not in stored
    assert "demo" not in json.dumps(stored) or stored.get("user") == "demo"


def test_the_desk_code_is_shown_derived_and_can_be_set(qtbot, settings_dialog, settings):
    from maelis_desk.domain import desk_code_from

    field = settings_dialog.desk_code
    assert field.text() == "" and field.placeholderText() == desk_code_from(settings.desk)
    field.setText("c2")
    assert settings_dialog.edited_settings().code == "C2"
    field.setText("C-2")
    with pytest.raises(config.SettingsError, match="Le code du poste"):
        settings_dialog.edited_settings()


def test_restart_from_settings_closes_the_window(qtbot, window):
    dialog = window.open_settings()
    dialog.save()
    box = dialog.restart_box
    restart = next(b for b in box.buttons() if "Redémarrer" in b.text())
    restart.click()
    qtbot.waitUntil(lambda: not window.isVisible())
    assert window.restart_requested


def _left():
    from PySide6.QtCore import Qt

    return Qt.MouseButton.LeftButton


# --- PDF ---------------------------------------------------------------------------------


@pytest.fixture
def pdf_dialog(qtbot, window):
    open_family(qtbot, window)
    dialog = window.open_pdf()
    with qtbot.waitSignal(dialog.loaded, timeout=15000):
        pass
    return dialog


def test_pdf_dialog_navigation_and_zoom(qtbot, pdf_dialog):
    dialog = pdf_dialog
    assert dialog.document.pageCount() == 1
    assert dialog.stack.currentWidget() is dialog.view
    assert not dialog.prev_action.isEnabled() and not dialog.next_action.isEnabled()
    assert dialog.view.zoomMode() == QPdfView.ZoomMode.FitToWidth
    zoom = dialog.view.zoomFactor()
    dialog.zoom_in()
    assert dialog.view.zoomMode() == QPdfView.ZoomMode.Custom
    assert dialog.view.zoomFactor() == pytest.approx(zoom * 1.25)
    dialog.zoom_out()
    dialog.zoom_out()
    assert dialog.view.zoomFactor() == pytest.approx(zoom / 1.25)
    dialog.fit_width()
    assert dialog.view.zoomMode() == QPdfView.ZoomMode.FitToWidth
    assert dialog.print_action.isEnabled() and dialog.save_action.isEnabled()
    assert "Ctrl+P" in dialog.print_action.toolTip()


def test_pdf_print_renders_the_pages(qtbot, pdf_dialog, tmp_path):
    printer = QPrinter(QPrinter.PrinterMode.HighResolution)
    printer.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
    out = tmp_path / "printed.pdf"
    printer.setOutputFileName(str(out))
    assert pdf_dialog.print_to(printer) == 1
    assert out.read_bytes().startswith(b"%PDF")
    assert out.stat().st_size > 10_000  # a rendered page, not an empty sheet


def test_print_dialog_opens_and_prints_to_a_pdf_file_read_back(qtbot, pdf_dialog, tmp_path):
    """Ctrl+P raised « open expected 2 arguments, got 0 » (QPrintDialog.open in PySide6)."""
    from PySide6.QtCore import QBuffer, QByteArray, QIODevice
    from PySide6.QtPdf import QPdfDocument
    from PySide6.QtPrintSupport import QPrintDialog

    dialog = pdf_dialog.print_()
    assert isinstance(dialog, QPrintDialog) and dialog.isVisible()
    printer = pdf_dialog._printer
    printer.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
    out = tmp_path / "printed.pdf"
    printer.setOutputFileName(str(out))
    dialog.reject()  # offscreen, accepting would reset a file printer: print on it as accepting does
    assert pdf_dialog.print_to(printer) == 1
    data = QByteArray(out.read_bytes())
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.ReadOnly)
    printed = QPdfDocument()
    printed.load(buffer)
    assert printed.status() == QPdfDocument.Status.Ready and printed.pageCount() == pdf_dialog.document.pageCount()
    text = " ".join(printed.getAllText(0).text().split())
    invoice = pdf_dialog.invoice
    assert "FACTURE" in text and invoice.id in text
    assert "page envoyée à l'impression" in pdf_dialog.status.text()
    printed.close()


def test_pdf_save_as(qtbot, pdf_dialog, tmp_path):
    pdf_dialog.save_as()
    dialog = pdf_dialog.findChild(QFileDialog, "saveDialog")
    assert dialog is not None and dialog.isVisible()  # opened without blocking
    target = tmp_path / "facture.pdf"
    dialog.fileSelected.emit(str(target))
    dialog.reject()
    assert target.read_bytes() == pdf_dialog.data
    assert "enregistrée" in pdf_dialog.status.text()
    assert pdf_dialog.suggested_file_name().startswith("facture-F")


def test_pdf_when_maelis_is_down_says_so(qtbot, window, simulator, desk):
    view = open_family(qtbot, window)
    simulator.set_fault("down")
    desk.health.reset()
    dialog = window.open_pdf()
    assert dialog.stack.currentWidget() is dialog.loading
    assert dialog.loading.text().startswith("Chargement…")
    with qtbot.waitSignal(dialog.load_failed, timeout=15000) as failed:
        pass
    text = failed.args[0]
    assert "Impossible d'afficher la facture" in text
    assert "injoignable" in text or "Maelis" in text
    assert dialog.stack.currentWidget() is dialog.error_page
    assert not dialog.print_action.isEnabled()
    # Maelis back: "Réessayer" fetches it
    simulator.set_fault(None)
    desk.health.reset()
    with qtbot.waitSignal(dialog.loaded, timeout=15000):
        dialog.retry.click()
    assert dialog.document.pageCount() == 1
    assert view.family.number == FAMILY


def test_pdf_without_selected_invoice(qtbot, window):
    assert window.open_pdf() is None
    assert "Sélectionnez" in window.statusBar().currentMessage()


def test_unexpected_box_is_not_modal_blocking(qtbot, window):
    """The error dialog opens with open(): the test goes on without closing it."""
    from maelis_desk.ui import worker

    box = worker.show_unexpected(window, ValueError("boom"), "Traceback: boom")
    assert isinstance(box, QMessageBox) and box.isVisible()
    assert "boom" in box.informativeText()
    box.close()


def test_enter_closes_the_unexpected_box(qtbot, window):
    """Issue 9 point 10: the focus was on « Afficher les détails… », so Enter unfolded the
    trace instead of closing the box."""
    from maelis_desk.ui import worker

    from PySide6.QtCore import QLocale, Qt
    from PySide6.QtWidgets import QApplication

    from maelis_desk.ui.app import install_translations

    install_translations(QApplication.instance(), QLocale(QLocale.Language.French, QLocale.Country.France))
    window.activateWindow()
    box = worker.show_unexpected(window, ValueError("boom"), "Traceback: boom")
    qtbot.waitExposed(box)
    close = box.button(QMessageBox.StandardButton.Close)
    assert box.defaultButton() is close and box.focusWidget() is close
    details = [b for b in box.buttons() if box.buttonRole(b) == QMessageBox.ButtonRole.ActionRole]
    assert details and "détails" in details[0].text()  # Qt's own French (qtbase_fr)
    with qtbot.waitSignal(box.finished, timeout=2000):
        qtbot.keyClick(box.focusWidget(), Qt.Key.Key_Return)


def test_demo_settings_dialog_shows_demo(qtbot, settings):
    demo = replace(settings, url=None, user="demo", password="demo", demo_url=settings.url)
    dialog = SettingsDialog(demo)
    qtbot.addWidget(dialog)
    assert dialog.url.text() == ""
    assert "démonstration" in dialog.note.text()
    with qtbot.waitSignal(dialog.tested, timeout=15000) as tested:
        dialog.test()
    assert tested.args[0] is True


# --- the database in the settings (issue 10 point 4) ------------------------------------------

def _database_rows_shown(dialog) -> dict:
    form = dialog.form
    return {name: form.isRowVisible(widget) for name, widget in (
        ("sqlite", dialog.sqlite_row), ("host", dialog.pg_host), ("port", dialog.pg_port),
        ("base", dialog.pg_base), ("user", dialog.pg_user), ("password", dialog.pg_password))}


def test_the_database_from_sqlite_to_postgresql_with_keys_only(qtbot, settings_dialog, monkeypatch):
    kept = []
    monkeypatch.setattr(config, "store_database_password", lambda url, pw: kept.append((url, pw)) and False)
    dialog = settings_dialog
    assert dialog.database_kind.currentData() == "sqlite"
    assert _database_rows_shown(dialog) == {"sqlite": True, "host": False, "port": False, "base": False,
                                            "user": False, "password": False}
    # keys only: Alt+B reaches the kind, Down chooses PostgreSQL, Tab walks its fields
    qtbot.keyClick(dialog, "b", QtCore.Qt.KeyboardModifier.AltModifier)
    assert dialog.database_kind.hasFocus()
    qtbot.keyClick(dialog.database_kind, QtCore.Qt.Key.Key_Down)
    assert dialog.database_kind.currentData() == "postgresql"
    assert _database_rows_shown(dialog) == {"sqlite": False, "host": True, "port": True, "base": True,
                                            "user": True, "password": True}
    qtbot.keyClick(dialog.database_kind, QtCore.Qt.Key.Key_Tab)
    assert dialog.pg_host.hasFocus()
    qtbot.keyClicks(dialog.pg_host, "db.mairie.local")
    qtbot.keyClick(dialog.pg_host, QtCore.Qt.Key.Key_Tab)
    assert dialog.pg_port.hasFocus() and dialog.pg_port.value() == 5432
    dialog.pg_port.selectAll()
    qtbot.keyClicks(dialog.pg_port, "5433")
    for field, text in ((dialog.pg_base, "regie_102"), (dialog.pg_user, "caisse"), (dialog.pg_password, "s3cr@t DB")):
        qtbot.keyClick(dialog.focusWidget(), QtCore.Qt.Key.Key_Tab)
        assert field.hasFocus()
        qtbot.keyClicks(field, text)
    url = "postgresql://caisse@db.mairie.local:5433/regie_102"
    with qtbot.waitSignal(dialog.saved, timeout=5000) as saved:
        qtbot.keyClick(dialog.pg_password, QtCore.Qt.Key.Key_Return)  # Enter saves
        box = dialog.restart_box
        assert "La base de données change : le poste doit redémarrer" in box.text()
        assert "MAELIS_DESK_DATABASE_PASSWORD" in box.informativeText()  # no keyring on this machine
        next(b for b in box.buttons() if "Plus tard" in b.text()).click()
    new_settings, restart = saved.args
    assert restart is False
    assert new_settings.database == url and new_settings.database_password == "s3cr@t DB"
    assert kept == [(url, "s3cr@t DB")]
    text = config.settings_file().read_text(encoding="utf-8")
    assert "s3cr" not in text and "database_password" not in text
    assert json.loads(text)["database"] == url
    assert config.load_settings().database == url


def test_a_postgresql_database_is_shown_in_its_fields(qtbot, settings):
    shared = replace(settings, database="postgresql://caisse@127.0.0.1:6543/maelis_desk", database_password="pw")
    dialog = SettingsDialog(shared)
    qtbot.addWidget(dialog)
    dialog.open()
    assert dialog.database_kind.currentData() == "postgresql"
    assert (dialog.pg_host.text(), dialog.pg_port.value(), dialog.pg_base.text(), dialog.pg_user.text(),
            dialog.pg_password.text()) == ("127.0.0.1", 6543, "maelis_desk", "caisse", "pw")
    assert dialog.edited_settings() == shared
    dialog.pg_base.clear()
    dialog.pg_user.clear()
    with pytest.raises(config.SettingsError, match="indiquez le nom de la base, l'utilisateur"):
        dialog.edited_settings()
    # back to a SQLite file: no password kept for it
    dialog.database_kind.setCurrentIndex(0)
    assert dialog.edited_settings().database is None and dialog.edited_settings().database_password is None


def _fill_postgres(dialog, url: str) -> None:
    from maelis_desk.domain import PostgresPlace

    place = PostgresPlace.from_url(url)
    dialog.database_kind.setCurrentIndex(dialog.database_kind.findData("postgresql"))
    dialog.pg_host.setText(place.host)
    dialog.pg_port.setValue(place.port)
    dialog.pg_base.setText(place.base)
    dialog.pg_user.setText(place.user)


def test_testing_the_connection_tests_the_postgresql_database(qtbot, settings_dialog):
    import os

    import psycopg

    server = os.environ.get("MAELIS_DESK_TEST_POSTGRES")
    if not server:
        pytest.skip("MAELIS_DESK_TEST_POSTGRES non défini : pas de serveur PostgreSQL de test (test.sh en démarre un)")
    with psycopg.connect(server, autocommit=True) as conn:  # an empty base
        conn.execute("DROP SCHEMA IF EXISTS public CASCADE")
        conn.execute("CREATE SCHEMA public")
    _fill_postgres(settings_dialog, server)
    with qtbot.waitSignal(settings_dialog.tested, timeout=15000) as tested:
        qtbot.keyClick(settings_dialog, "t", QtCore.Qt.KeyboardModifier.AltModifier)
    ok, text = tested.args
    assert ok, text
    maelis, database = text.split("\n")
    assert maelis.startswith("Connexion réussie : Maelis répond")
    assert database == (f"La base partagée {server} répond ; elle est vide : "
                        "le poste y créera ses tables à son démarrage.")


def test_testing_the_connection_on_a_wrong_port(qtbot, settings_dialog):
    port = _free_port()
    _fill_postgres(settings_dialog, f"postgresql://maelis@127.0.0.1:{port}/maelis_test")
    settings_dialog.pg_password.setText("s3cret")
    with qtbot.waitSignal(settings_dialog.tested, timeout=15000) as tested:
        settings_dialog.test()
    ok, text = tested.args
    assert not ok
    assert text.startswith("Connexion réussie : Maelis répond")  # Maelis is fine, the database is not
    assert (f"Base de données : Le serveur de base de données postgresql://maelis@127.0.0.1:{port}/maelis_test "
            "ne répond pas ou refuse la connexion") in text
    assert "s3cret" not in text
    assert settings_dialog.test_result.text() == text

