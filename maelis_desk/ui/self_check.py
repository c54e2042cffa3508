"""`maelis-desk --self-check FAMILLE`: the window checks itself, then quits.

After an install on a counter PC (and in CI, on the PyInstaller bundle: tests/build),
this starts the real window on the configured Maelis (the demo when none is), and,
with nothing to click:

- Qt speaks French (its translations found and loaded: « Annuler »);
- the icon is drawn (the SVG image plugin works) and the style sheet is applied;
- on the demo, the demo's accounts are made and it logs in as the demo's supervisor (the
  consultation role: it reads, takes no money), which checks argon2 works in this install;
  elsewhere nobody logs in, as nobody is there to type (reading needs no operator);
- the family opens, read from Maelis just now (so its WSDLs were found and fetched);
- an invoice of that family is shown as a PDF by QtPdf and a page is drawn, not blank;
- no Qt warning and no unexpected exception along the way. One message only is
  let through: on the offscreen platform (no screen, CI), Qt warns « This plugin
  does not support propagateSizeHints() » whenever a window's size constraints
  change, a limit of that plugin and not of the desk (tests/gui/conftest.py
  ignores it too); it is counted on the last line instead of printed.

Each check prints one line on standard output; the window then closes as with
Ctrl+Q. Exit code 0 when everything passed, 1 otherwise (the failure printed
on standard error), also when a step takes longer than STEP_TIMEOUT_MS.
"""

from __future__ import annotations

import sys
import traceback

from PySide6.QtCore import QLibraryInfo, QSize, QTimer, QtMsgType, qInstallMessageHandler
from PySide6.QtGui import QColor, QGuiApplication
from PySide6.QtWidgets import QApplication, QDialogButtonBox

from .theme import resources_dir

STEP_TIMEOUT_MS = 60_000
OFFSCREEN_LIMIT = "This plugin does not support propagateSizeHints()"


class SelfCheck:
    def __init__(self, app: QApplication, window, family: int, *, counter: str | None = None):
        self.app = app
        self.counter = counter  # who the check logged in as (ui/login_dialog.unattended_login)
        self.window = window
        self.family = family
        self.failures: list[str] = []
        self.step = "démarrage"
        self.dialog = None
        self._done = False
        self._finished = False
        self.offscreen_notes = 0
        self._previous_handler = qInstallMessageHandler(self._qt_message)
        self._previous_hook = sys.excepthook
        sys.excepthook = self._excepthook
        self.timer = QTimer(window)
        self.timer.setSingleShot(True)
        self.timer.timeout.connect(self._timed_out)
        window.family_shown.connect(self._family_shown)
        window.family_failed.connect(self._family_failed)
        QTimer.singleShot(0, self.start)

    @property
    def exit_code(self) -> int:
        return 1 if self.failures or not self._done else 0

    # -- what goes wrong ------------------------------------------------------------

    def _qt_message(self, mode, context, message) -> None:
        if message == OFFSCREEN_LIMIT and QGuiApplication.platformName() == "offscreen":
            self.offscreen_notes += 1
            return
        sys.stderr.write(f"{message}\n")
        if mode in (QtMsgType.QtWarningMsg, QtMsgType.QtCriticalMsg, QtMsgType.QtFatalMsg):
            self.failures.append(f"[{self.step}] avertissement de Qt : {message}")

    def _excepthook(self, kind, value, tb) -> None:
        self.failures.append(f"[{self.step}] exception :\n" + "".join(traceback.format_exception(kind, value, tb)))
        self.finish()

    def _timed_out(self) -> None:
        self.failures.append(f"[{self.step}] pas de résultat après {STEP_TIMEOUT_MS // 1000} s")
        self.finish()

    def fail(self, text: str) -> None:
        self.failures.append(f"[{self.step}] {text}")
        self.finish()

    def ok(self, text: str) -> None:
        print(f"  ok  {text}", flush=True)

    def begin(self, step: str) -> None:
        self.step = step
        self.timer.start(STEP_TIMEOUT_MS)

    # -- the steps ------------------------------------------------------------------

    def start(self) -> None:
        print(f"Vérification du poste (famille n° {self.family}) :", flush=True)
        self.begin("traductions")
        box = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        cancel = box.button(QDialogButtonBox.StandardButton.Cancel).text().replace("&", "")
        box.deleteLater()
        translations = QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath)
        if cancel != "Annuler":
            return self.fail(f"Qt n'est pas en français (« {cancel} » au lieu d'« Annuler » ; traductions "
                             f"cherchées dans {translations})")
        self.ok(f"Qt en français (traductions : {translations})")

        self.begin("icône et style")
        icon_path = resources_dir() / "icons" / "maelis-desk.svg"
        pixmap = self.app.windowIcon().pixmap(QSize(48, 48))
        if pixmap.isNull():
            return self.fail(f"l'icône n'est pas dessinée ({icon_path})")
        self.ok(f"icône dessinée ({icon_path})")
        style = self.app.styleSheet()
        if not style.strip():
            return self.fail(f"pas de feuille de style ({resources_dir() / 'style.qss'})")
        self.ok(f"feuille de style appliquée ({resources_dir() / 'style.qss'}, {len(style)} caractères)")

        if self.counter:
            self.ok(f"opérateur : {self.counter}")
        self.begin(f"ouverture de la famille n° {self.family}")
        self.window.open_family(self.family, focus=True)

    def _family_failed(self, number: int, text: str) -> None:
        if number == self.family and not self._done:
            self.fail(f"la famille n° {number} ne s'ouvre pas : {text}")

    def _family_shown(self, number: int) -> None:
        if number != self.family or self._done or self.dialog is not None:
            return
        view = self.window.view
        stale = [f for f in self.window.shown_freshness() if f.from_cache]
        if stale:
            return self.fail(f"la famille n° {number} vient du cache, pas de Maelis : {stale[0].error or ''}")
        invoices = sum(len(r.invoices) for r in view.regies)
        self.ok(f"famille n° {number} ouverte, lue à l'instant depuis Maelis ({len(view.regies)} régies, "
                f"{invoices} factures) : ses WSDL ont été trouvés")

        self.begin("PDF d'une facture")
        for index in range(len(view.regies)):
            if self.window.current_invoice() is not None:
                break
            self.window.family_pane.select_regie(index, focus=True)
        if self.window.current_invoice() is None:
            return self.fail(f"la famille n° {number} n'a aucune facture à afficher en PDF")
        self.dialog = self.window.open_pdf()
        self.dialog.loaded.connect(self._pdf_loaded)
        self.dialog.load_failed.connect(lambda text: self.fail(f"PDF non affiché : {text}"))

    def _pdf_loaded(self, pages: int) -> None:
        dialog = self.dialog
        size = dialog.document.pagePointSize(0).toSize()
        image = dialog.document.render(0, size)
        if image.isNull() or pages < 1:
            return self.fail("QtPdf n'a pas dessiné la page 1")
        inked = _inked_share(image)
        if not 0.0 < inked < 0.5:
            return self.fail(f"la page 1 dessinée par QtPdf est {'blanche' if inked == 0 else 'noircie'}")
        self.ok(f"PDF de la facture {dialog.invoice.id} affiché par QtPdf ({pages} page(s), "
                f"{len(dialog.data) // 1024 or 1} Ko, page 1 dessinée en {size.width()}×{size.height()})")
        self.step = "fermeture"
        self._done = True
        self.finish()

    def finish(self) -> None:
        """Report, then close the window as Ctrl+Q does (once)."""
        if self._finished:
            return
        self._finished = True
        self.timer.stop()
        QTimer.singleShot(0, self.window.close)

    def report(self) -> None:
        """After the event loop: the verdict, and the handlers given back."""
        qInstallMessageHandler(self._previous_handler)
        sys.excepthook = self._previous_hook
        if self.offscreen_notes:
            print(f"  ({self.offscreen_notes} avertissement(s) « propagateSizeHints » propres à la plateforme "
                  "offscreen ignorés)", flush=True)
        if self.exit_code == 0:
            print("Poste vérifié : tout fonctionne.", flush=True)
        else:
            problems = self.failures or [f"[{self.step}] vérification interrompue"]
            print("ÉCHEC de la vérification du poste :\n" + "\n".join(problems), file=sys.stderr, flush=True)


def _inked_share(image) -> float:
    """The share of sampled pixels that are drawn and not white: text on the page."""
    width, height = image.width(), image.height()
    step = 3
    inked = total = 0
    for y in range(0, height, step):
        for x in range(0, width, step):
            total += 1
            colour = QColor.fromRgba(image.pixel(x, y))
            if colour.alpha() > 128 and colour.lightness() < 200:
                inked += 1
    return inked / total if total else 0.0
