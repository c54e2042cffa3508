"""Starting the window: `maelis-desk` with no command calls `run_gui(args)`."""

from __future__ import annotations

import logging
import logging.handlers
import sys
import traceback
from contextlib import ExitStack
from dataclasses import replace

from PySide6.QtCore import QLibraryInfo, QLocale, QTranslator
from PySide6.QtWidgets import QApplication, QInputDialog, QLineEdit, QMessageBox

from .. import config, launcher
from ..config import Settings, SettingsError
from ..services import DeskError
from . import gc_guard, login_dialog, startup_probe, worker
from .theme import apply_theme

log = logging.getLogger(__name__)

APP_NAME = "Maelis Desk"


def make_application(argv: list[str] | None = None) -> QApplication:
    """The QApplication, in French: Qt's own dialogs too (qtbase_fr), comma decimals."""
    app = QApplication.instance()
    if app is None:
        app = QApplication(argv if argv is not None else sys.argv[:1])
    app.setApplicationName("maelis-desk")
    app.setApplicationDisplayName(APP_NAME)
    app.setOrganizationName("maelis-desk")
    app.setDesktopFileName("maelis-desk")
    french = QLocale(QLocale.Language.French, QLocale.Country.France)
    QLocale.setDefault(french)
    install_translations(app, french)
    apply_theme(app)
    gc_guard.install(app)  # garbage collected on this thread only (ui/gc_guard.py says why)
    return app


def install_translations(app: QApplication, locale: QLocale) -> bool:
    if getattr(app, "_maelis_translators", None):
        return True
    path = QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath)
    translators = []
    for name in ("qtbase", "qt"):
        translator = QTranslator(app)
        if translator.load(locale, name, "_", path):
            app.installTranslator(translator)
            translators.append(translator)
    if not translators:
        log.info("No French translation of Qt found in %s", path)
    app._maelis_translators = translators  # kept alive with the application
    return bool(translators)


def _log_to_file() -> logging.Handler | None:
    """Keep a log file (with the tracebacks of unexpected errors) in the desk's data folder."""
    root = logging.getLogger()
    for existing in root.handlers:
        if getattr(existing, "_maelis_desk_file", False):
            return existing
    folder = config.data_dir() / "logs"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        handler = logging.handlers.RotatingFileHandler(
            folder / "maelis-desk.log", maxBytes=1_000_000, backupCount=3, encoding="utf-8"
        )
    except OSError as exc:
        log.warning("No log file: %s", exc)
        return None
    handler._maelis_desk_file = True
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(threadName)s %(name)s: %(message)s"))
    handler.setLevel(logging.INFO)
    root.addHandler(handler)
    if root.level > logging.INFO or root.level == logging.NOTSET:
        root.setLevel(logging.INFO)
        for other in root.handlers:
            if other is not handler and other.level == logging.NOTSET:
                other.setLevel(logging.WARNING)  # the console keeps its quieter default
    return handler


def _excepthook(kind, value, tb) -> None:
    """A bug in a slot: logged with its traceback, shown, and the window goes on."""
    text = "".join(traceback.format_exception(kind, value, tb))
    log.error("Unexpected error:\n%s", text)
    if isinstance(value, KeyboardInterrupt):
        QApplication.quit()
        return
    worker.show_unexpected(QApplication.activeWindow(), value, text)


def ask_password(settings: Settings) -> Settings:
    """A configured Maelis account without a password (no keyring): ask for it,
    rather than having it written in clear anywhere."""
    if settings.demo or settings.offline or not settings.user or settings.password:
        return settings
    note = "" if config.keyring_available() else "\n(Ce poste n'a pas de trousseau : il sera demandé à chaque démarrage.)"
    password, ok = QInputDialog.getText(
        None,
        "Mot de passe Maelis",
        f"Mot de passe de l'utilisateur « {settings.user} »\npour {settings.url} :{note}",
        QLineEdit.EchoMode.Password,
    )
    if not ok or not password:
        log.warning("No Maelis password given: the desk will show the cache only")
        return settings
    return replace(settings, password=password)


def run_gui(args) -> int:
    """The desk window; returns the process exit code."""
    from .display import problem

    no_screen = problem()
    if no_screen and QApplication.instance() is None:
        print(no_screen, file=sys.stderr)  # instead of Qt's English abort and its core dump
        return 1
    app = make_application()
    _log_to_file()
    previous_hook = sys.excepthook
    sys.excepthook = _excepthook
    try:
        while True:
            try:
                settings = config.settings_from_args(args)
            except SettingsError as exc:
                QMessageBox.critical(None, APP_NAME, f"Réglages inutilisables : {exc}")
                return 2
            settings = ask_password(settings)
            code, restart = _run_once(app, settings, self_check=getattr(args, "self_check", None))
            if not restart:
                return code
            log.info("Restarting the desk with the new settings")
    finally:
        sys.excepthook = previous_hook


def _run_once(app: QApplication, settings: Settings, *, self_check: int | None = None) -> tuple[int, bool]:
    """`self_check`: a family number; the window checks itself on it and quits (ui/self_check.py)."""
    from .main_window import MainWindow

    probe = None
    if startup_probe.requested():  # tests/perf/bench_startup.py; unset at a counter
        probe = startup_probe.StartupProbe(startup_probe.requested())
        probe.mark("gui")
    with ExitStack() as opened:
        try:
            # No event loop runs yet: opening the database (and migrating it) cannot freeze a window.
            desk = opened.enter_context(launcher.open_desk(settings))
        except Exception as exc:  # a database, a port or a folder that cannot be opened
            log.exception("The desk cannot start")
            message = exc.message if isinstance(exc, DeskError) else (getattr(exc, "strerror", None) or str(exc))
            QMessageBox.critical(None, APP_NAME, f"Le poste ne peut pas démarrer : {message}")
            return 1, False
        opened.callback(worker.shutdown, 1.0)  # first on leaving: no background job outlives its desk
        if probe:
            probe.mark("desk")
        # who is at the counter (ui/login_dialog.py); the self-check and the benchmark have no one to type
        unattended = login_dialog.unattended_login(desk, desk.settings) if self_check is not None or probe else None
        if unattended is None and not login_dialog.start_counter(desk, desk.settings):
            return 0, False  # « Quitter » on the login screen
        window = MainWindow(desk, desk.settings)
        if unattended is not None:
            window.counter.no_idle_lock()  # nobody at the keyboard: the idle lock must not fire
        if probe:
            probe.mark("window")
        window.show_on_screen()
        # zeep and requests (~0.1 s) are imported by the first Maelis call: once the window is usable, ahead
        window.family_pane.warmed_up.connect(lambda: worker.run_in_background(window, desk.load_modules))
        if probe:
            probe.watch(window)
        checker = None
        if self_check is not None:
            from .self_check import SelfCheck

            checker = SelfCheck(app, window, self_check, counter=unattended)
        code = app.exec()
        restart = window.restart_requested
        window.deleteLater()
        if checker is not None:
            checker.report()
            return code or checker.exit_code, False
        return code, restart
