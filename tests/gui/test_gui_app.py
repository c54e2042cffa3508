"""Starting the window: French Qt, resources, password prompt, run_gui."""

from __future__ import annotations

import time
from dataclasses import replace

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QDialogButtonBox, QInputDialog, QLineEdit

from maelis_desk import config
from maelis_desk.cli import build_parser
from maelis_desk.ui import app as ui_app
from maelis_desk.ui.login_dialog import FirstAccountDialog, LoginDialog
from maelis_desk.ui.main_window import MainWindow
from maelis_desk.ui.theme import app_icon, resources_dir, style_sheet


TITLE_DEMO_CASHIER = "DÉMO"


def test_qt_dialogs_are_in_french(qapp):
    ui_app.make_application()
    box = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel | QDialogButtonBox.StandardButton.Yes)
    assert box.button(QDialogButtonBox.StandardButton.Cancel).text().replace("&", "") == "Annuler"
    assert box.button(QDialogButtonBox.StandardButton.Yes).text().replace("&", "") == "Oui"


def test_resources_load_from_the_checkout(qapp):
    assert (resources_dir() / "icons" / "maelis-desk.svg").exists()
    assert not app_icon().isNull()
    assert "cacheBanner" in style_sheet()


def test_password_asked_when_none_is_stored(qapp, settings, monkeypatch):
    asked = []

    def get_text(parent, title, label, echo):
        asked.append((title, label, echo))
        return "secret", True

    monkeypatch.setattr(QInputDialog, "getText", staticmethod(get_text))
    no_password = replace(settings, password=None)
    assert ui_app.ask_password(no_password).password == "secret"
    title, label, echo = asked[0]
    assert "Mot de passe" in title and settings.user in label
    assert echo == QLineEdit.EchoMode.Password
    # nothing asked when there is a password, or for the demo
    assert ui_app.ask_password(settings) is settings
    demo = replace(no_password, url=None)
    assert ui_app.ask_password(demo) is demo
    assert len(asked) == 1


def test_run_gui_opens_the_window_and_exits_cleanly(qapp, simulator, monkeypatch):
    monkeypatch.setattr(ui_app, "_log_to_file", lambda: None)
    monkeypatch.setenv("MAELIS_DESK_PASSWORD", "demo")  # never on the command line (issue 8 point 8)
    args = build_parser().parse_args(["--url", simulator.url, "--user", "demo", "--timeout", "2"])
    seen = {}

    def close_when_shown():
        offer = next((w for w in QApplication.topLevelWidgets()
                      if isinstance(w, FirstAccountDialog) and w.isVisible()), None)
        if offer is not None and "offer" not in seen:  # no account yet: go on as a one-person desk
            seen["offer"] = True
            offer.decline_button.click()
        windows = [w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow) and w.isVisible()]
        if not windows:
            QTimer.singleShot(20, close_when_shown)
            return
        window = windows[0]
        seen["title"] = window.windowTitle()
        seen["demo"] = window.demo_badge.isVisible()
        window.close()

    QTimer.singleShot(50, close_when_shown)
    assert ui_app.run_gui(args) == 0
    assert seen == {"offer": True, "title": "Maelis Desk", "demo": False}
    assert config.load_settings().one_person_chosen  # not offered again at the next start
    seen.clear()
    QTimer.singleShot(50, close_when_shown)
    assert ui_app.run_gui(args) == 0
    assert seen == {"title": "Maelis Desk", "demo": False}


def test_run_gui_with_the_demo(qapp, monkeypatch):
    """No URL configured: the built-in demo Maelis starts, the DÉMO marker shows."""
    monkeypatch.setattr(ui_app, "_log_to_file", lambda: None)
    args = build_parser().parse_args([])
    seen = {}

    def close_when_shown():
        login = next((w for w in QApplication.topLevelWidgets() if isinstance(w, LoginDialog) and w.isVisible()),
                     None)
        if login is not None and "login" not in seen:  # the demo's accounts: log in as its cashier
            seen["login"] = "caisse" in login.demo_label.text()
            login.login_edit.setText("caisse")
            login.password_edit.setText("caisse")
            login.submit()
        windows = [w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow) and w.isVisible()]
        if not windows:
            QTimer.singleShot(20, close_when_shown)
            return
        seen["demo"] = windows[0].demo_badge.isVisible()
        seen["title"] = windows[0].windowTitle()
        seen["operator"] = windows[0].desk.operators.current.login
        windows[0].close()

    QTimer.singleShot(50, close_when_shown)
    assert ui_app.run_gui(args) == 0
    # the window system adds « — Maelis Desk » (issue 9 point 8)
    assert seen == {"login": True, "demo": True, "title": TITLE_DEMO_CASHIER, "operator": "caisse"}


def test_quitting_from_the_login_screen_closes_the_desk(qapp, monkeypatch):
    monkeypatch.setattr(ui_app, "_log_to_file", lambda: None)
    seen = []

    def quit_login():
        login = next((w for w in QApplication.topLevelWidgets() if isinstance(w, LoginDialog) and w.isVisible()),
                     None)
        if login is None:
            QTimer.singleShot(20, quit_login)
            return
        seen.append(login.cancel_button.text())
        login.cancel_button.click()

    QTimer.singleShot(50, quit_login)
    assert ui_app.run_gui(build_parser().parse_args([])) == 0
    assert seen == ["&Quitter"]
    assert not [w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow) and w.isVisible()]


def test_startup_probe_reports_its_marks_and_quits(qapp, simulator, monkeypatch, capsys):
    """MAELIS_DESK_STARTUP_PROBE (tests/perf/bench_startup.py): the marks in order, the pages
    built ahead at `usable`, family N opened and painted, then the window quits by itself."""
    from maelis_desk.ui import startup_probe

    monkeypatch.setattr(ui_app, "_log_to_file", lambda: None)
    monkeypatch.setenv(startup_probe.ENV, "open:1312")
    warmed = []
    original = startup_probe.StartupProbe._idle

    def idle(self):
        if self._after_idle == "usable":
            warmed.append(not self._window.family_pane.warming_up)
        original(self)

    monkeypatch.setattr(startup_probe.StartupProbe, "_idle", idle)
    monkeypatch.setenv("MAELIS_DESK_PASSWORD", "demo")  # never on the command line (issue 8 point 8)
    args = build_parser().parse_args(["--url", simulator.url, "--user", "demo", "--timeout", "2"])
    assert ui_app.run_gui(args) == 0
    line = next(ln for ln in capsys.readouterr().out.splitlines() if ln.startswith(startup_probe.PREFIX))
    items = dict(item.split("=") for item in line.split()[1:])
    names = ["gui", "desk", "window", "shown", "painted", "usable", "opened", "opened_painted", "opened_idle"]
    assert list(items) == names + ["cpu_usable", "peak_rss_kb"]
    times = [float(items[n]) for n in names]
    assert times == sorted(times)
    assert 0 < float(items["cpu_usable"]) < time.process_time()  # this process' CPU up to `usable`, not all of it
    assert int(items["peak_rss_kb"]) > 10_000
    assert warmed and warmed[-1]  # `usable` waited for the régie pages


def test_no_probe_without_its_variable(monkeypatch):
    from maelis_desk.ui import startup_probe

    monkeypatch.delenv(startup_probe.ENV, raising=False)
    assert startup_probe.requested() is None
