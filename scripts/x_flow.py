"""The cashier's flow on a real X server, with the keyboard (run by scripts/x-check.sh).

    QT_QPA_PLATFORM=xcb DISPLAY=:N .venv/bin/python scripts/x_flow.py [--out screenshots/x]

The window runs in this process on the demo Maelis, in a temporary
MAELIS_DESK_HOME. Every key goes through the X server (`xdotool key` / `xdotool
type`, i.e. XTEST, to whatever window the window manager gave the focus), so
focus and stacking are those a cashier gets. After each key the script waits
for what the cashier would see (no fixed sleeps as checks), and writes a
screenshot of the whole screen (`import -window root`) numbered by step.

Steps: search « Lefèvre », open the family, F9 with the till not open yet
(the desk offers to open it: Enter), the float counted by denomination (2 × 20 €,
1 × 10 €), Enter, and the payment dialog follows; pay in cash (amount given,
change), confirm, Ctrl+P for the receipt viewer (on top, focused), Ctrl+P to
print, the print dialog to a PDF file, the file read back; close; an
invoice's PDF (Ctrl+D) printed the same way; F1; Ctrl+Shift+T; the close
(Ctrl+Shift+Z): the cash counted by denomination 2 € short, its comment, the
confirmation, the Z report on top, printed to a file and read back -- with,
before the close, a second payment in cash while the demo Maelis is down (its
control socket), which stays in the desk's base; Ctrl+Q then shows the quit box
(« 1 paiement n'a pas encore été transmis ») and Enter (« Quitter ») answers it.

Fails (exit 1) on any Qt warning, any logged error or traceback, any step that
does not happen; a screenshot ECHEC-….png shows the screen at that moment.
"""

from __future__ import annotations

import argparse
import logging
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
import traceback
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # this checkout's maelis_desk, not another one installed in the venv
STEP_TIMEOUT = 30.0  # seconds a step may take before the flow is declared broken


class FlowFailed(Exception):
    pass


class Flow:
    def __init__(self, app, out: Path):
        self.app = app
        self.out = out
        self.count = 0
        self.problems: list[str] = []
        self.step_name = "démarrage"

    # -- what goes wrong --------------------------------------------------------------

    def qt_message(self, mode, context, message) -> None:
        from PySide6.QtCore import QtMsgType

        if mode in (QtMsgType.QtWarningMsg, QtMsgType.QtCriticalMsg, QtMsgType.QtFatalMsg):
            self.problems.append(f"[{self.step_name}] Qt : {message}")
        sys.stderr.write(f"qt: {message}\n")

    def excepthook(self, kind, value, tb) -> None:
        self.problems.append(f"[{self.step_name}] exception :\n" + "".join(traceback.format_exception(kind, value, tb)))
        sys.__excepthook__(kind, value, tb)

    def check(self) -> None:
        if self.problems:
            raise FlowFailed("\n".join(self.problems))

    # -- the screen and the keyboard ---------------------------------------------------

    def pump(self, seconds: float = 0.0) -> None:
        end = time.monotonic() + seconds
        while True:
            self.app.processEvents()
            if time.monotonic() >= end:
                return
            time.sleep(0.01)

    def wait(self, what: str, predicate, timeout: float = STEP_TIMEOUT) -> None:
        deadline = time.monotonic() + timeout
        while True:
            self.app.processEvents()
            self.check()
            try:
                if predicate():
                    return
            except Exception:  # noqa: BLE001 - a widget not there yet
                pass
            if time.monotonic() > deadline:
                self.grab(f"ECHEC-{self.step_name}")
                from PySide6.QtWidgets import QApplication

                focus, top = QApplication.focusWidget(), QApplication.activeWindow()
                raise FlowFailed(f"[{self.step_name}] n'arrive pas : {what} (fenêtre active : "
                                 f"{top.objectName() if top else None}, focus : "
                                 f"{type(focus).__name__ if focus else None} {focus.objectName() if focus else ''})")
            time.sleep(0.02)

    def xdotool(self, *args: str) -> None:
        self.app.processEvents()
        subprocess.run(["xdotool", *args], check=True, timeout=30)
        self.pump(0.05)

    def key(self, *keys: str) -> None:
        self.xdotool("key", "--delay", "60", *keys)

    def type(self, text: str) -> None:
        self.xdotool("type", "--delay", "40", text)

    def grab(self, name: str) -> Path:
        self.pump(0.3)  # let the last paint reach the X server
        if not name.startswith("ECHEC"):
            self.count += 1
            name = f"{self.count:02d}-{name}"
        path = self.out / f"{name}.png"
        subprocess.run(["import", "-window", "root", str(path)], check=True, timeout=60)
        print(path, flush=True)
        return path

    def step(self, name: str) -> None:
        self.check()
        self.step_name = name
        print(f"— {name}", flush=True)


def active(widget) -> bool:
    from PySide6.QtWidgets import QApplication

    return widget is not None and widget.isVisible() and QApplication.activeWindow() is widget


def in_tables(window) -> bool:
    from PySide6.QtWidgets import QApplication

    page = window.family_pane.current_page()
    return page is not None and QApplication.focusWidget() in page.tables


def print_dialog_of(owner):
    import shiboken6
    from PySide6.QtPrintSupport import QPrintDialog

    dialog = getattr(owner, "_print_dialog", None)
    alive = isinstance(dialog, QPrintDialog) and shiboken6.isValid(dialog)
    return dialog if alive and dialog.isVisible() else None


def pdf_text(path: Path) -> tuple[int, str]:
    from PySide6.QtPdf import QPdfDocument

    doc = QPdfDocument()
    doc.load(str(path))
    if doc.status() != QPdfDocument.Status.Ready:
        return 0, ""
    pages = doc.pageCount()
    text = "\n".join(doc.getAllText(i).text() for i in range(pages))
    doc.close()
    return pages, " ".join(text.split())


def print_to_file(flow: Flow, path: Path, name: str):
    """The print dialog just opened (by Ctrl+P) over a PDF viewer: print to a PDF file, by
    keyboard; returns the viewer, the printed file's page count and text."""
    from PySide6.QtPrintSupport import QPrintDialog
    from PySide6.QtWidgets import QApplication

    flow.wait("la fenêtre d'impression au premier plan",
              lambda: isinstance(QApplication.activeWindow(), QPrintDialog))
    dialog = QApplication.activeWindow()
    viewer = dialog.parentWidget()
    flow.grab(f"{name}-impression")
    choose_file_printer(flow, dialog, path)
    flow.grab(f"{name}-impression-fichier")
    flow.key("Return")
    flow.wait("le fichier imprimé", lambda: path.exists() and pdf_text(path)[0] > 0 and print_dialog_of(viewer) is None)
    flow.wait("la visionneuse de nouveau au premier plan", lambda: active(viewer))
    return viewer, *pdf_text(path)


def choose_file_printer(flow: Flow, dialog, path: Path) -> None:
    """In Qt's print dialog: the printer « Imprimer dans un fichier (PDF) », the file name typed."""
    from PySide6.QtWidgets import QComboBox, QLineEdit

    combo = next(c for c in dialog.findChildren(QComboBox) if c.objectName() == "printers")
    flow.wait("la liste des imprimantes a le focus", lambda: combo.hasFocus())
    if combo.currentIndex() != combo.count() - 1:
        flow.key("End")  # the file printer is the list's last entry
    flow.wait("l'imprimante « fichier » choisie", lambda: combo.currentIndex() == combo.count() - 1)
    edit = next(e for e in dialog.findChildren(QLineEdit) if e.objectName() == "filename")
    flow.wait("le champ du nom de fichier", lambda: edit.isVisible() and edit.isEnabled())
    while not edit.hasFocus():
        flow.key("Tab")
    flow.key("ctrl+a")
    flow.type(str(path))
    flow.wait("le nom du fichier tapé", lambda: edit.text() == str(path))


def cash_pieces(amount: Decimal) -> dict[int, int]:
    """The fewest notes and coins for an amount: {cents: how many}."""
    from maelis_desk.domain_day import DENOMINATIONS

    left, pieces = int(amount * 100), {}
    for cents in DENOMINATIONS:
        pieces[cents], left = divmod(left, cents)
    return pieces


def pay_in_cash(flow: Flow, dialog, suffix: str = ""):
    """In the payment dialog on top: cash, the amount given (the next ten euros above, plus ten),
    Enter, the confirmation, Enter; the recorded payment."""
    from maelis_desk.services.payments import Mode

    if dialog.current_mode() is not Mode.ESPECES:
        flow.key("alt+p")
        flow.wait("le mode de paiement", lambda: dialog.mode.hasFocus())
        flow.key("Home")
        flow.wait("espèces", lambda: dialog.current_mode() is Mode.ESPECES)
    total = sum((i.remaining for i in dialog.table.chosen()), Decimal(0))
    given = Decimal(math.ceil(total / 10) * 10 + 10)
    flow.key("alt+r")
    cash = dialog.field_edits["especes.cash_given"]
    flow.wait("le champ « Somme remise »", lambda: cash.hasFocus())
    flow.type(str(given))
    flow.wait("la monnaie calculée", lambda: cash.text() == str(given) and dialog.change_label.text() != "—")
    flow.grab("especes" + suffix)

    flow.step("confirmation" + suffix)
    flow.key("Return")
    flow.wait("la confirmation", lambda: dialog.stack.currentIndex() == dialog.CONFIRM)
    flow.grab("confirmation" + suffix)
    flow.key("Return")
    flow.wait("le paiement enregistré", lambda: dialog.record is not None
              and dialog.stack.currentIndex() == dialog.DONE)
    flow.grab("paiement-enregistre" + suffix)
    return dialog.record


def demo_control(desk):
    """A function setting the demo Maelis's fault mode (None: answers again), through its control
    socket, which stays up when the demo is down."""
    import json
    import urllib.request

    root = desk.settings.demo_url.rsplit("/services", 1)[0]
    with urllib.request.urlopen(f"{root}/_control", timeout=10) as answer:
        url = json.load(answer)["control_url"]

    def control(fault):
        request = urllib.request.Request(url, data=json.dumps({"fault": fault}).encode(), method="POST",
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=10) as answer:
            if json.load(answer).get("fault") != fault:
                raise FlowFailed(f"la démo Maelis n'est pas passée en mode {fault}")

    return control


def run(flow: Flow, app) -> None:
    from PySide6.QtCore import QTimer
    from PySide6.QtPdf import QPdfDocument
    from PySide6.QtWidgets import QApplication

    from maelis_desk import config, launcher
    from maelis_desk.services.payments import Mode
    from maelis_desk.ui import worker
    from maelis_desk.ui.main_window import MainWindow
    from maelis_desk.ui.payment_dialog import PaymentDialog
    from maelis_desk.ui.pdf_dialog import PdfDialog
    from maelis_desk.domain_day import DENOMINATIONS
    from maelis_desk.ui.session_dialogs import CloseDialog, OpenSessionDialog

    printed = Path(tempfile.mkdtemp(prefix="maelis-x-print-"))
    settings = config.load_settings({"operator": "Martine Dupont"})
    with launcher.open_desk(settings) as desk:
        try:
            control = demo_control(desk)
            window = MainWindow(desk, desk.settings)
            window.show_on_screen()

            flow.step("démarrage")
            flow.wait("la fenêtre active, le curseur dans la recherche",
                      lambda: active(window) and window.search_pane.edit.hasFocus())
            flow.wait("l'état de la caisse dans la barre d'état", lambda: window.caisse.state is not None)
            if window.caisse.state.session is not None:
                raise FlowFailed("la caisse est déjà ouverte sur ce poste neuf")
            flow.grab("demarrage")

            flow.step("recherche")
            flow.type("Lefèvre")
            flow.wait("des familles trouvées", lambda: window.search_pane.model.rowCount() > 0
                      and window.search_pane.edit.text() == "Lefèvre")
            flow.pump(0.3)
            flow.grab("recherche")

            flow.step("ouverture de la famille")
            flow.key("Down", "Return")
            flow.wait("la famille affichée", lambda: window.view is not None)
            flow.wait("le curseur dans les factures", lambda: in_tables(window))
            number = window.view.family.number
            for _ in range(len(window.view.regies)):
                regie = window.current_regie_invoices()
                if regie is not None and regie.to_pay:
                    break
                flow.key("ctrl+Tab")
            regie = window.current_regie_invoices()
            if regie is None or not regie.to_pay:
                raise FlowFailed(f"la famille n° {number} n'a rien à payer")
            flow.grab("famille")

            flow.step("F9 sans caisse ouverte")
            flow.key("F9")
            flow.wait("la proposition d'ouvrir la caisse", lambda: QApplication.activeWindow() is not None
                      and QApplication.activeWindow().objectName() == "sessionGateBox")
            flow.grab("f9-caisse-fermee")
            flow.key("Return")  # « Ouvrir la caisse… »

            flow.step("ouvrir la caisse")
            flow.wait("l'ouverture de la caisse au premier plan",
                      lambda: isinstance(QApplication.activeWindow(), OpenSessionDialog))
            opening: OpenSessionDialog = QApplication.activeWindow()
            flow.wait("le curseur sur les billets de 500 €", lambda: opening.grid.first.hasFocus())
            flow.key("Tab", "Tab", "Tab", "Tab")  # 200, 100, 50, 20 €
            flow.wait("les billets de 20 €", lambda: opening.grid.spins[2000].hasFocus())
            flow.type("2")
            flow.key("Tab")
            flow.type("1")  # 10 €
            flow.wait("le fond compté : 50,00 €", lambda: opening.grid.count().total == Decimal("50.00")
                      and "50,00" in opening.count_total.text())
            flow.grab("ouvrir-la-caisse")
            flow.key("Return")
            flow.wait("la caisse ouverte", lambda: desk.day.current() is not None)
            flow.wait("la barre d'état le dit", lambda: "Caisse ouverte depuis" in window.caisse.label.text())

            flow.step("F9 : encaisser")
            flow.wait("la fenêtre d'encaissement au premier plan",
                      lambda: isinstance(QApplication.activeWindow(), PaymentDialog))
            dialog: PaymentDialog = QApplication.activeWindow()
            flow.grab("encaisser")
            record = pay_in_cash(flow, dialog)

            flow.step("quittance")
            flow.key("ctrl+p")  # one key: the receipt, and the print dialog over it
            receipt, pages, text = print_to_file(flow, printed / "quittance.pdf", "quittance")
            if record.receipt not in text or "QUITTANCE" not in text.upper():
                raise FlowFailed(f"la quittance imprimée ne contient pas son numéro {record.receipt} : {text[:300]}")
            print(f"   quittance imprimée : {pages} page(s), n° {record.receipt}", flush=True)
            flow.grab("quittance")
            flow.key("Escape")
            flow.wait("la visionneuse fermée, l'encaissement au premier plan", lambda: active(dialog))
            flow.key("Return")  # « Fermer »
            flow.wait("retour à la fenêtre du poste", lambda: active(window))
            flow.wait("la facture payée affichée", lambda: window.current_regie_invoices() is not None)
            flow.grab("apres-paiement")

            flow.step("facture en PDF")
            flow.key("F6")
            flow.wait("une facture choisie", lambda: window.current_invoice() is not None)
            invoice = window.current_invoice()
            flow.key("ctrl+d")
            flow.wait("la facture en PDF au premier plan", lambda: isinstance(QApplication.activeWindow(), PdfDialog)
                      and QApplication.activeWindow().document.status() == QPdfDocument.Status.Ready)
            flow.grab("facture-pdf")
            flow.key("ctrl+p")
            viewer, pages, text = print_to_file(flow, printed / "facture.pdf", "facture")
            if invoice.id not in text:
                raise FlowFailed(f"la facture imprimée ne contient pas son numéro {invoice.id} : {text[:300]}")
            print(f"   facture imprimée : {pages} page(s), {invoice.id}", flush=True)
            flow.key("Escape")
            flow.wait("retour à la fenêtre du poste", lambda: active(window))

            flow.step("raccourcis")
            flow.key("F1")
            flow.wait("la liste des raccourcis", lambda: QApplication.activeWindow() is not window
                      and QApplication.activeWindow().objectName() == "shortcutsBox")
            flow.grab("raccourcis")
            flow.key("Escape")
            flow.wait("retour à la fenêtre du poste", lambda: active(window))

            flow.step("paiements vers Maelis")
            flow.key("ctrl+shift+t")
            flow.wait("la liste des paiements", lambda: QApplication.activeWindow() is not window
                      and QApplication.activeWindow().objectName() == "outboxDialog")
            flow.pump(1.0)
            flow.grab("paiements")
            flow.key("Escape")
            flow.wait("retour à la fenêtre du poste", lambda: active(window))

            flow.step("paiement, Maelis injoignable")
            # Maelis goes down (the demo's always-up control socket): the next payment stays in the
            # desk's base, not yet transmitted, and quitting must say so (the quit box, below).
            control("down")
            for _ in range(len(window.view.regies)):
                regie = window.current_regie_invoices()
                if regie is not None and regie.to_pay:
                    break
                flow.key("ctrl+Tab")
            regie = window.current_regie_invoices()
            if regie is None or not regie.to_pay:
                raise FlowFailed(f"la famille n° {number} n'a plus rien à payer pour un second paiement")
            flow.key("F9")
            flow.wait("la fenêtre d'encaissement au premier plan",
                      lambda: isinstance(QApplication.activeWindow(), PaymentDialog))
            dialog = QApplication.activeWindow()
            second = pay_in_cash(flow, dialog, "-non-transmis")
            flow.key("Return")  # « Fermer »
            flow.wait("retour à la fenêtre du poste", lambda: active(window))
            flow.wait("le paiement pas encore transmis", lambda: window.unsent >= 1)
            flow.grab("apres-paiement-non-transmis")

            flow.step("arrêté de caisse")
            flow.key("ctrl+shift+z")
            flow.wait("l'arrêté de caisse au premier plan", lambda: isinstance(QApplication.activeWindow(), CloseDialog))
            closing_dialog: CloseDialog = QApplication.activeWindow()
            flow.wait("l'attendu lu", lambda: closing_dialog.next_button.isEnabled())
            expected = closing_dialog.expected.cash
            if expected != Decimal("50.00") + record.amount + second.amount:
                raise FlowFailed(f"espèces attendues {expected}, pas 50,00 + {record.amount} + {second.amount}")
            pieces = cash_pieces(expected - 2)  # 2 € short: the difference needs its comment
            flow.wait("le curseur sur les billets de 500 €", lambda: closing_dialog.grid.first.hasFocus())
            for cents in DENOMINATIONS:
                if pieces.get(cents):
                    flow.type(str(pieces[cents]))
                flow.key("Tab")
            comment = closing_dialog.lines["cash"].comment
            flow.wait("les espèces comptées, le curseur au commentaire de l'écart",
                      lambda: closing_dialog.grid.count().total == expected - 2 and comment.hasFocus())
            flow.key("Return")
            flow.wait("l'écart refusé sans commentaire", lambda: "commentaire est obligatoire"
                      in closing_dialog.error.text())
            flow.grab("arrete-ecart-sans-commentaire")
            flow.type("Erreur de rendu de monnaie")
            flow.wait("le commentaire tapé", lambda: comment.text() == "Erreur de rendu de monnaie")
            flow.grab("arrete-de-caisse")
            flow.key("Return")
            flow.wait("la confirmation de l'arrêté", lambda: closing_dialog.stack.currentIndex() == closing_dialog.CONFIRM)
            flow.grab("arrete-confirmation")
            flow.key("Return")
            flow.wait("le rapport Z au premier plan", lambda: isinstance(QApplication.activeWindow(), PdfDialog)
                      and QApplication.activeWindow().windowTitle().startswith("Rapport Z")
                      and QApplication.activeWindow().document.status() == QPdfDocument.Status.Ready)
            closing = desk.day.closing_by_z(int(QApplication.activeWindow().windowTitle().split("n° ")[1]))
            if closing is None or closing.comments.get("cash") != "Erreur de rendu de monnaie":
                raise FlowFailed(f"l'arrêté enregistré ne dit pas l'écart et son commentaire : {closing}")
            flow.grab("rapport-z")
            flow.key("ctrl+p")
            viewer, pages, text = print_to_file(flow, printed / "rapport-z.pdf", "rapport-z")
            if f"Rapport Z n° {closing.z_number}" not in text or "Erreur de rendu de monnaie" not in text:
                raise FlowFailed(f"le rapport Z imprimé ne dit pas son numéro et l'écart : {text[:300]}")
            print(f"   rapport Z imprimé : {pages} page(s), n° {closing.z_number}", flush=True)
            flow.key("Escape")
            flow.wait("retour à la fenêtre du poste", lambda: active(window))
            flow.wait("la barre d'état : caisse fermée", lambda: window.caisse.label.text().endswith("Caisse fermée"))
            flow.grab("caisse-fermee")

            flow.step("quitter")
            # The quit box runs its own event loop (exec), inside the one Ctrl+Q is delivered in:
            # it is looked at and answered from a timer firing in that loop.
            answered: list[str] = []
            deadline = time.monotonic() + STEP_TIMEOUT

            def answer_quit_box() -> None:
                top = QApplication.activeWindow()
                if top is not None and top.objectName() == "quitBox" and top.isVisible():
                    if "pas encore été transmis" not in top.text():
                        flow.problems.append(f"[quitter] la question ne dit pas le paiement en attente : {top.text()}")
                    flow.grab("quitter-paiements-en-attente")
                    answered.append(top.text())
                    flow.key("Return")  # « Quitter » (the default): the payment is safe in the desk's base
                elif time.monotonic() < deadline:
                    QTimer.singleShot(50, answer_quit_box)
                else:
                    answered.append("")

            QTimer.singleShot(50, answer_quit_box)
            flow.key("ctrl+q")
            flow.wait("la question : un paiement pas encore transmis, puis la fenêtre fermée",
                      lambda: answered and answered[0] and not window.isVisible())
            if not [p for p in desk.payments.outbox() if p.receipt == second.receipt and p.state.not_acknowledged]:
                raise FlowFailed(f"le paiement {second.receipt} n'est plus en attente dans la base du poste")
            flow.check()
        finally:
            worker.shutdown(5.0)
            shutil.rmtree(printed, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser(description="Le parcours du caissier sur un vrai serveur X, au clavier.")
    parser.add_argument("--out", default=str(ROOT / "screenshots" / "x"))
    args = parser.parse_args()
    if os.environ.get("QT_QPA_PLATFORM") != "xcb" or not os.environ.get("DISPLAY"):
        print("À lancer par scripts/x-check.sh (QT_QPA_PLATFORM=xcb et un DISPLAY).", file=sys.stderr)
        return 2
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("*.png"):
        old.unlink()
    home = tempfile.mkdtemp(prefix="maelis-x-home-")
    os.environ["MAELIS_DESK_HOME"] = home
    os.environ["MAELIS_DESK_LOCK_MINUTES"] = "0"  # a slow machine must not see the idle lock mid-flow
    os.environ["PYTHON_KEYRING_BACKEND"] = "keyring.backends.null.Keyring"
    for var in ("MAELIS_DESK_URL", "MAELIS_DESK_USER", "MAELIS_DESK_PASSWORD", "MAELIS_DESK_DATABASE",
                "MAELIS_DESK_OFFLINE"):
        os.environ.pop(var, None)
    sys.path.insert(0, str(ROOT))  # this checkout's maelis_desk, not another one installed in the venv

    from PySide6.QtCore import qInstallMessageHandler

    from maelis_desk.ui.app import make_application

    app = make_application(["maelis-desk"])
    flow = Flow(app, out)
    qInstallMessageHandler(flow.qt_message)
    sys.excepthook = flow.excepthook

    class Errors(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            flow.problems.append(f"[{flow.step_name}] journal {record.levelname} : {self.format(record)}")

    errors = Errors(logging.ERROR)
    errors.setFormatter(logging.Formatter("%(name)s: %(message)s"))
    logging.getLogger().addHandler(errors)
    try:
        run(flow, app)
    except FlowFailed as exc:
        print(f"ÉCHEC du parcours au clavier sur X : {exc}", file=sys.stderr)
        return 1
    finally:
        shutil.rmtree(home, ignore_errors=True)
    print(f"Parcours au clavier sur X réussi : {flow.count} captures dans {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
