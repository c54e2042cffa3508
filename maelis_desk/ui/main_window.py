"""The desk window: search on the left, the open family on the right, a
yellow banner when what is shown comes from the cache, and a status bar
telling Maelis' state, when the data was read and what is in progress.

Every service call goes through worker.run_in_background; the window only
shows results and never waits for Maelis.
"""

from __future__ import annotations

import logging
from datetime import datetime

import shiboken6
from PySide6.QtCore import QSize, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QDialogButtonBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QMenu,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QSplitter,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from .. import __version__
from ..config import Settings
from ..domain import Freshness, Invoice, PaymentState
from ..formatting import age_fr, fr_datetime, html_text, local
from ..services import Desk, FamilyView, State
from . import worker
from .background import BackgroundJobs
from .banner import CACHE_HEAD, CredentialsBanner
from .family_pane import FamilyPane
from .outbox_dialog import OUTBOX_TITLE, OutboxDialog
from .payment_dialog import PaymentDialog
from .operator_dialogs import CounterActions
from .pdf_dialog import PdfDialog, invoice_dialog
from .search_pane import SearchPane
from . import docket_dialogs
from .control_dialogs import ControlActions
from .session_dialogs import CaisseActions
from .settings_dialog import SettingsDialog
from .shortcuts import WIDGET_KEYS, WindowKeysFirst, help_html, keys_fr, make_action, payment_rows, window_rows
from .sync_status import SyncStatus
from .theme import Colours, app_icon

log = logging.getLogger(__name__)

CLOSE_WAIT = 2.0  # seconds the window waits, at most, for calls in flight when closing
AGE_EVERY_MS = 30000

STATE_COLOURS = {
    State.ONLINE: Colours.OK,
    State.SLOW: Colours.WARNING,
    State.OFFLINE: Colours.ERROR,
    State.UNKNOWN: Colours.MUTED,
}




class Banner(QFrame):
    """A visible, non-modal message above the family: yellow for cache data,
    red for a family that could not be opened."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("cacheBanner")
        self.label = QLabel("")
        self.label.setObjectName("bannerText")
        self.label.setWordWrap(True)
        self.label.setTextFormat(Qt.TextFormat.RichText)
        self.button = QPushButton("Réessayer (F5)")
        self.button.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # F5 does it from anywhere
        layout = QHBoxLayout(self)
        layout.setContentsMargins(10, 6, 6, 6)
        layout.addWidget(self.label, 1)
        layout.addWidget(self.button, 0, Qt.AlignmentFlag.AlignVCenter)
        self.kind = ""
        self.hide()

    def show_message(self, kind: str, html: str, tooltip: str = "") -> None:
        self.kind = kind
        name = "cacheBanner" if kind == "cache" else "errorBanner"
        if self.objectName() != name:
            self.setObjectName(name)
            self.style().unpolish(self)
            self.style().polish(self)
        self.label.setText(html)
        self.setToolTip(tooltip)
        self.show()

    def clear(self) -> None:
        self.kind = ""
        self.hide()


class MainWindow(QMainWindow):
    family_shown = Signal(int)  # the family's tables are filled
    family_failed = Signal(int, str)
    health_shown = Signal(object)  # a services Snapshot

    def __init__(self, desk: Desk, settings: Settings | None = None, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("mainWindow")
        self.desk = desk
        self.settings = settings or desk.settings
        self.offline_mode = bool(self.settings.offline)
        # Cache-only reads (offline mode) go to the disk pool; anything that may reach Maelis, the network pool.
        self.pool = worker.disk_pool() if self.offline_mode else worker.network_pool()
        self.restart_requested = False
        self._closing = False
        self._family_task = worker.Latest()
        self._payments_task = worker.Latest()
        self._loading_number: int | None = None
        self._focus_after_load = False
        self.view: FamilyView | None = None
        self.shown_at: datetime | None = None
        self.snapshot = None
        self.unsent = 0  # payments Maelis has not acknowledged yet (the last count read)
        #: (payment id, receipt, message) while the status bar says the payment is on its way
        self._on_its_way: tuple[str, str, str] | None = None
        self._quit_confirmed = False

        self.setWindowIcon(app_icon())
        self.resize(1280, 800)
        self.setMinimumSize(QSize(900, 560))

        self.search_pane = SearchPane(desk, self.pool)
        self.search_pane.setMinimumWidth(220)
        self.family_pane = FamilyPane()
        self.banner = Banner()
        self.banner.button.clicked.connect(self.refresh)
        self.credentials_banner = CredentialsBanner()  # Maelis refused the credentials (issue 8, point 6)
        self.credentials_banner.button.clicked.connect(self.open_settings)

        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(4, 6, 6, 4)
        right_layout.setSpacing(6)
        right_layout.addWidget(self.credentials_banner)
        right_layout.addWidget(self.banner)
        right_layout.addWidget(self.family_pane, 1)

        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.setChildrenCollapsible(False)
        splitter.addWidget(self.search_pane)
        splitter.addWidget(right)
        splitter.setStretchFactor(0, 0)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([235, 1045])
        self.setCentralWidget(splitter)

        self._build_status_bar()
        self._build_actions()
        self._keys_first = WindowKeysFirst(self)  # Ctrl+Maj+Z, Ctrl+E… even from the search field
        self._build_menus()
        self._update_title()

        self.search_pane.family_chosen.connect(lambda number: self.open_family(number, focus=True))
        self.family_pane.invoice_activated.connect(lambda _inv: self.family_pane.focus_detail())
        self.family_pane.invoice_changed.connect(self._invoice_changed)
        QShortcut(QKeySequence(Qt.Key.Key_Escape), self.family_pane.detail.lines,
                  self.family_pane.focus_tables, context=Qt.ShortcutContext.WidgetShortcut)
        worker.activity().changed.connect(self._activity_changed)

        self.age_timer = QTimer(self)
        self.age_timer.setInterval(AGE_EVERY_MS)
        self.age_timer.timeout.connect(self._update_freshness)
        self.age_timer.start()
        # Transmission, scheduled refresh, Maelis' state: run on their own (ui/background.py), shown here.
        self.jobs = BackgroundJobs(desk, offline_mode=self.offline_mode, parent=self)
        self.jobs.health_read.connect(self._show_health)
        self.jobs.transmitted.connect(self._transmitted)
        self.jobs.sync_started.connect(self.sync_status.started)
        self.jobs.synced.connect(self._synced)
        self.jobs.start()
        self._update_outbox()  # what a previous session left unsent: the status bar and quitting say it
        if not self.offline_mode:
            worker.run_in_background(self, desk.credentials.known_wrong, self.credentials_banner.known_wrong,
                                     pool=worker.disk_pool(), label="")
        self.search_pane.focus_search()
        self.family_pane.warm_up()

    # -- building -------------------------------------------------------------------

    def _build_status_bar(self) -> None:
        bar = self.statusBar()
        self.busy_bar = QProgressBar()
        self.busy_bar.setObjectName("busyIndicator")
        self.busy_bar.setRange(0, 0)
        self.busy_bar.setMaximumSize(80, 12)
        self.busy_bar.setTextVisible(False)
        self.busy_label = QLabel("")
        self.busy_label.setObjectName("busyLabel")
        self.data_label = QLabel("")
        self.data_label.setObjectName("dataLabel")
        self.state_label = QLabel("")
        self.state_label.setObjectName("stateLabel")
        self.state_label.setTextFormat(Qt.TextFormat.RichText)
        for widget in (self.busy_bar, self.busy_label):
            widget.hide()
            bar.addWidget(widget)
        self.outbox_label = QLabel("")
        self.outbox_label.setObjectName("outboxLabel")
        self.outbox_label.setToolTip("Paiements enregistrés sur ce poste que Maelis n'a pas encore confirmés")
        self.sync_status = SyncStatus(self.desk.refresher.progress)
        bar.addWidget(self.sync_status)
        bar.addPermanentWidget(self.outbox_label)
        bar.addPermanentWidget(self.data_label)
        bar.addPermanentWidget(self.state_label)
        self.demo_badge = QLabel("DÉMO — données fictives")
        self.demo_badge.setObjectName("demoBadge")
        self.demo_badge.setToolTip(
            "Aucun Maelis n'est configuré : le poste interroge le Maelis de démonstration intégré. "
            "Réglages : Fichier > Réglages…"
        )
        self.demo_badge.setVisible(self.settings.demo)

    def _action(self, text: str, shortcuts: list, slot, tip: str = "") -> QAction:
        return make_action(self, text, shortcuts, slot, tip)

    def _build_actions(self) -> None:
        self.settings_action = self._action("&Réglages…", ["Ctrl+,"], self.open_settings, "Réglages du poste")
        self.quit_action = self._action("&Quitter", ["Ctrl+Q"], self.quit_asked, "Fermer le poste")
        self.search_action = self._action("&Rechercher une famille", ["Ctrl+F", "F3"], self.focus_search)
        self.refresh_action = self._action("&Actualiser la famille", ["F5"], self.refresh,
                                           "Relire la famille ouverte dans Maelis")
        self.tables_action = self._action("Aller aux &factures", ["F6"], self.family_pane.focus_tables,
                                          "Mettre le curseur dans les factures de la régie")
        self.detail_action = self._action("&Détail de la facture", ["F4"], self.family_pane.focus_detail,
                                          "Aller aux lignes de la facture sélectionnée (aussi : Entrée)")
        self.pdf_action = self._action("Facture en &PDF…", ["Ctrl+D"], self.open_pdf,
                                       "Afficher, imprimer ou enregistrer le PDF de la facture sélectionnée")
        self.pay_action = self._action("&Encaisser…", ["F9", "Ctrl+E"], self.open_payment,
                                       "Encaisser un paiement pour les factures à payer de cette régie")
        self.outbox_action = self._action(OUTBOX_TITLE.replace("transmettre", "&transmettre") + "…",
                                          ["Ctrl+Shift+T"], self.open_outbox,
                                          "Les paiements à transmettre à Maelis ou transmis, leurs erreurs ; "
                                          "réimprimer une quittance")
        self.next_regie_action = self._action("Régie &suivante", ["Ctrl+Tab", "Ctrl+PgDown"],
                                              lambda: self.family_pane.step_regie(1))
        self.prev_regie_action = self._action("Régie p&récédente", ["Ctrl+Shift+Tab", "Ctrl+Shift+Backtab",
                                                                     "Ctrl+PgUp"],
                                              lambda: self.family_pane.step_regie(-1))
        self.regie_actions = []
        for i in range(9):
            action = self._action(f"Régie {i + 1}", [f"Ctrl+{i + 1}"],
                                  lambda _checked=False, i=i: self.family_pane.select_regie(i))
            self.regie_actions.append(action)
        self.shortcuts_action = self._action("&Raccourcis clavier", ["F1"], self.show_shortcuts)
        self.about_action = self._action("À &propos de Maelis Desk", [], self.show_about)
        self.caisse = CaisseActions(self)  # the cash session: « Caisse » menu, status bar, F9's gate
        self.counter = CounterActions(self)  # who is at the counter: lock, switch, operators, roles
        self.control = ControlActions(self)  # « Contrôle »: cancel, à régulariser, the journal and its state
        for action in (self.refresh_action, self.pdf_action, self.detail_action, self.pay_action):
            action.setEnabled(False)

    def _build_menus(self) -> None:
        bar = self.menuBar()
        file_menu = bar.addMenu("&Fichier")
        self.counter.fill_menu(file_menu)  # lock, switch operator, operators (ui/operator_dialogs.py)
        file_menu.addAction(self.settings_action)
        file_menu.addSeparator()
        file_menu.addAction(self.quit_action)
        family_menu = bar.addMenu("F&amille")
        family_menu.addAction(self.search_action)
        family_menu.addAction(self.refresh_action)
        family_menu.addSeparator()
        family_menu.addAction(self.tables_action)
        family_menu.addAction(self.detail_action)
        family_menu.addAction(self.pdf_action)
        family_menu.addSeparator()
        family_menu.addAction(self.pay_action)
        family_menu.addAction(self.outbox_action)
        bar.addMenu(self.caisse.menu())
        bar.addMenu(docket_dialogs.install(self))  # « Régie » : bordereaux, relevé mensuel (self.regie_docs)
        bar.addMenu(self.control.menu())
        view_menu = bar.addMenu("Affic&hage")
        view_menu.addAction(self.next_regie_action)
        view_menu.addAction(self.prev_regie_action)
        self.regie_menu = QMenu("&Aller à la régie", self)
        for action in self.regie_actions:
            self.regie_menu.addAction(action)
        view_menu.addMenu(self.regie_menu)
        help_menu = bar.addMenu("Aid&e")
        help_menu.addAction(self.shortcuts_action)
        help_menu.addAction(self.about_action)
        for menu in (file_menu, family_menu, view_menu, help_menu, self.regie_menu):
            menu.setToolTipsVisible(True)
        bar.setCornerWidget(self.demo_badge, Qt.Corner.TopRightCorner)

    def _update_title(self) -> None:
        """« Famille n° 1312 — DÉMO — hors ligne »: Qt adds the application's name
        (« — Maelis Desk ») itself, so the title does not say it again."""
        parts = []
        if self.view is not None:
            parts.append(f"Famille n° {self.view.family.number}")
        if self.settings.demo:
            parts.append("DÉMO")
        if self.offline:
            parts.append("hors ligne")
        self.setWindowTitle(" — ".join(parts) if parts else "Maelis Desk")

    @property
    def offline(self) -> bool:
        """Offline mode, or Maelis does not answer now."""
        return self.offline_mode or (self.snapshot is not None and self.snapshot.state is State.OFFLINE)

    def show_on_screen(self) -> None:
        """Shown at its size (1280×800) where it fits with its frame, maximised on a smaller screen
        (a 1366×768 counter laptop: else the status bar falls below the screen's edge)."""
        available = self.screen().availableGeometry()
        wanted = self.size()
        if available.width() < wanted.width() + 40 or available.height() < wanted.height() + 60:
            self.showMaximized()
        else:
            self.show()

    # -- families ----------------------------------------------------------------------

    def focus_search(self) -> None:
        self.search_pane.focus_search()

    def open_family(self, number: int, *, focus: bool = False) -> None:
        """Open a family (in the background); `focus`: put the cursor in its invoices once shown."""
        if self._closing:
            return
        if self._family_task.busy and self._loading_number == number:
            self._focus_after_load = self._focus_after_load or focus
            return
        refreshing = self.view is not None and self.view.family.number == number
        if not refreshing:
            self.view = None
            self.family_pane.clear(f"Chargement de la famille n° {number}…")
            self.banner.clear()
            self.data_label.setText("")
            self._update_title()
            self._update_actions()
        self._loading_number = number
        self._focus_after_load = focus
        reader, health = self.desk.reader, self.desk.health  # the op must not hold the window
        self._family_task.run(
            self,
            lambda: (reader.open_family(number), health.snapshot()),
            lambda result: self._family_loaded(number, *result),
            lambda exc: self._family_failed(number, exc),
            pool=self.pool,
            label=f"{'Actualisation' if refreshing else 'Ouverture'} de la famille n° {number}…",
        )

    def refresh(self) -> None:
        number = self.view.family.number if self.view is not None else self._loading_number
        if number is not None:
            self.open_family(number, focus=False)

    def _family_loaded(self, number: int, view: FamilyView, snapshot) -> None:
        keep_tab = self.view is not None and self.view.family.number == number
        self.view = view
        self.shown_at = self.desk.clock()
        self._loading_number = None
        self.family_pane.show_view(view, self.shown_at, keep_tab=keep_tab)
        self._update_regie_actions()
        self.snapshot = snapshot  # the cache banner says why Maelis was not read
        self._update_freshness()
        self._update_title()
        self._update_actions()
        self._show_health(snapshot)
        if self._focus_after_load:
            self._focus_after_load = False
            self.family_pane.focus_tables()
        self.family_shown.emit(number)

    def _family_failed(self, number: int, exc: BaseException) -> None:
        self._loading_number = None
        text = worker.error_text(exc)
        if self.view is not None and self.view.family.number == number:
            # A refresh failed: keep what is shown, say so.
            self.statusBar().showMessage(f"Actualisation impossible : {text}", 10000)
        else:
            self.family_pane.clear(f"Impossible d'ouvrir la famille n° {number}.\n\n{text}")
            self.banner.show_message(
                "error", f"<b>Famille n° {number} non ouverte</b> — {html_text(text)}", text
            )
        self._update_actions()
        self.jobs.refresh_health()
        self.family_failed.emit(number, text)

    def _update_regie_actions(self) -> None:
        regies = self.view.regies if self.view else []
        for i, action in enumerate(self.regie_actions):
            if i < len(regies):
                action.setText(f"&{i + 1} {regies[i].regie.label}")
                action.setEnabled(True)
                action.setVisible(True)
            else:
                action.setText(f"Régie {i + 1}")
                action.setEnabled(False)
                action.setVisible(False)

    def _update_actions(self) -> None:
        has_family = self.view is not None
        self.refresh_action.setEnabled(has_family)
        self.tables_action.setEnabled(has_family)
        self.next_regie_action.setEnabled(has_family)
        self.prev_regie_action.setEnabled(has_family)
        self._invoice_changed(self.family_pane.current_invoice() if has_family else None)

    def _invoice_changed(self, invoice: Invoice | None) -> None:
        self.pdf_action.setEnabled(invoice is not None)
        self.detail_action.setEnabled(invoice is not None)
        regie = self.current_regie_invoices()
        self.pay_action.setEnabled(regie is not None and bool(regie.to_pay))

    # -- freshness: banner and status bar -------------------------------------------------

    def shown_freshness(self) -> list[Freshness]:
        if self.view is None:
            return []
        return [self.view.freshness] + [r.freshness for r in self.view.regies]

    def _update_freshness(self) -> None:
        if self.view is None:
            if self.banner.kind == "cache":
                self.banner.clear()
            return
        now = self.desk.clock()
        items = self.shown_freshness()
        cached = [f for f in items if f.from_cache]
        if not cached:
            self.banner.clear()
            self.data_label.setText(f"Données lues dans Maelis à {local(self.shown_at):%H:%M}")
            self.data_label.setToolTip(f"Lues le {fr_datetime(self.shown_at)}")
            return
        dated = [f.fetched_at for f in cached if f.fetched_at is not None]
        oldest = min(dated) if dated else None
        never = sum(1 for r in self.view.regies if r.freshness.from_cache and r.freshness.fetched_at is None)
        error = next((f.error for f in cached if f.error), None)
        head = "Mode hors ligne" if self.offline_mode else "Maelis ne répond pas"
        if not self.offline_mode and self.snapshot is not None and self.snapshot.state is State.REFUSED:
            head = CACHE_HEAD
        age = age_fr(oldest, now)
        html = f"<b>{head}</b> — données du cache, lues {html_text(age)}."
        if never:
            html += f" {never} régie{'s' if never > 1 else ''} jamais lue{'s' if never > 1 else ''}."
        if error and not self.offline_mode:
            html += f"<br><small>{html_text(error)}</small>"
        self.banner.show_message("cache", html, error or "")
        self.data_label.setText(f"Données du cache, lues {age}")
        self.data_label.setToolTip(f"Lues dans Maelis le {fr_datetime(oldest)}" if oldest else "Jamais lues dans Maelis")

    # -- Maelis state -----------------------------------------------------------------------

    def _show_health(self, snapshot) -> None:
        self.snapshot = snapshot
        if self.offline_mode:
            colour, text, tip = STATE_COLOURS[State.UNKNOWN], "Mode hors ligne", "Le poste n'interroge pas Maelis."
        else:
            state = snapshot.state
            colour, text = STATE_COLOURS.get(state, Colours.MUTED), state.label_fr
            if snapshot.error:
                tip = snapshot.error
            elif snapshot.last_duration is not None:
                tip = f"Dernière réponse en {snapshot.last_duration:.2f} s".replace(".", ",")
            else:
                tip = "Maelis n'a pas encore été interrogé."
        self.state_label.setText(f'<span style="color:{colour}">●</span> {html_text(text)}')
        self.state_label.setToolTip(tip)
        self.credentials_banner.follow(snapshot.state, offline_mode=self.offline_mode)
        if self.offline:
            self._follow_on_its_way()
        self._update_title()
        self.health_shown.emit(snapshot)

    def _activity_changed(self, count: int, label: str) -> None:
        if not shiboken6.isValid(self) or self._closing:
            return
        busy = count > 0
        self.busy_bar.setVisible(busy)
        self.busy_label.setVisible(busy)
        self.busy_label.setText(label + (f" (+{count - 1})" if count > 1 else ""))

    # -- invoices ---------------------------------------------------------------------------

    def current_invoice(self) -> Invoice | None:
        return self.family_pane.current_invoice() if self.view is not None else None

    def open_pdf(self) -> PdfDialog | None:
        invoice = self.current_invoice()
        if invoice is None:
            self.statusBar().showMessage("Sélectionnez d'abord une facture (flèches dans le tableau).", 5000)
            return None
        dialog = invoice_dialog(self.desk, invoice, self, pool=self.pool)
        dialog.show()
        return dialog

    # -- dialogs ---------------------------------------------------------------------------

    def open_settings(self) -> SettingsDialog:
        dialog = SettingsDialog(self.settings, self, pool=worker.network_pool(),
                                save_with=self.desk.save_settings,
                                accounts=not self.desk.operators.current.implicit)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.saved.connect(self._settings_saved)
        dialog.open()
        return dialog

    def _settings_saved(self, settings: Settings, restart: bool) -> None:
        if restart:
            self.restart_requested = True
            self.close()
        else:
            self.statusBar().showMessage("Réglages enregistrés : ils prendront effet au prochain démarrage.", 10000)

    def shortcut_sections(self) -> list[tuple[str, list[tuple[str, str]]]]:
        """F1's list, made from the window's actions and the payment dialog's keys."""
        return [
            ("Dans la fenêtre", window_rows(self.actions(), self.regie_actions)),
            ("Dans la recherche et les tableaux", list(WIDGET_KEYS)),
            (f"Encaissement ({keys_fr(self.pay_action.shortcuts())})", payment_rows()),
        ]

    def show_shortcuts(self) -> QDialog:
        """F1: every key, in a dialog that scrolls and fits the screen (a message box grew past a
        768-pixel screen's bottom, its « OK » out of sight)."""
        dialog = QDialog(self)
        dialog.setObjectName("shortcutsBox")
        dialog.setWindowTitle("Raccourcis clavier")
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        text = QTextBrowser()
        text.setObjectName("shortcutsText")
        text.setHtml(help_html(self.shortcut_sections()))
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(dialog.reject)
        buttons.button(QDialogButtonBox.StandardButton.Close).setText("&Fermer")
        layout = QVBoxLayout(dialog)
        layout.addWidget(text)
        layout.addWidget(buttons)
        screen = (self.screen() or QApplication.primaryScreen()).availableGeometry()
        dialog.resize(min(620, screen.width() - 40), int(screen.height() * 0.85))
        dialog.show()
        text.setFocus()  # arrows and Pg.Suiv scroll it; Échap closes it
        return dialog

    def show_about(self) -> QMessageBox:
        box = QMessageBox(self)
        box.setWindowTitle("À propos de Maelis Desk")
        box.setIconPixmap(app_icon().pixmap(64, 64))
        box.setText(
            f"<b>Maelis Desk {__version__}</b><br>Poste de caisse des régies de recettes sur Maelis."
            "<br><br>Licence AGPL-3.0 ou ultérieure."
        )
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()
        return box

    # -- payments ---------------------------------------------------------------------------

    def current_regie_invoices(self):
        """The RegieInvoices of the shown tab, or None."""
        if self.view is None:
            return None
        code = self.family_pane.current_regie_code()
        return next((r for r in self.view.regies if r.regie.code == code), None)

    def open_payment(self) -> PaymentDialog | None:
        """The payment dialog for the current régie, the selected invoice checked."""
        regie = self.current_regie_invoices()
        if regie is None or not regie.to_pay:
            self.statusBar().showMessage("Rien à encaisser dans cette régie.", 5000)
            return None
        if self.caisse.gate(self.open_payment) is not None:  # no open session: offered to open it first
            return None
        invoice = self.current_invoice()
        chosen = [invoice.number] if invoice is not None and invoice.to_pay_at_regie else None
        dialog = PaymentDialog(self.desk, self.view.family, regie.regie, regie.invoices, chosen, self,
                               freshness=regie.freshness, offline=self.offline)
        dialog.recorded.connect(self._payment_recorded)
        dialog.open()
        return dialog

    def open_outbox(self) -> OutboxDialog:
        dialog = OutboxDialog(self.desk, self)
        dialog.transmitted.connect(self.jobs.transmission_ended)  # « Envoyer maintenant »: the family changes too
        dialog.show()
        return dialog

    def _payment_recorded(self, record) -> None:
        if self.offline:
            after = ("Il sera transmis à Maelis au retour en ligne." if self.offline_mode
                     else "Maelis ne répond pas : il lui sera transmis dès qu'il répondra.")
        else:
            after = "Transmission à Maelis en cours…"
        message = f"Paiement enregistré : quittance n° {record.receipt}. {after}"
        self.statusBar().showMessage(message, 15000)
        self._on_its_way = None if self.offline else (record.id, record.receipt, message)
        self.payments_changed()
        self.jobs.transmit_now()

    def _follow_on_its_way(self) -> None:
        """The status bar said « Transmission à Maelis en cours… » for a payment: once a pass
        ended or Maelis stopped answering, it says where that payment stands instead (a stale
        « en cours » would tell the cashier a thing no longer true)."""
        if self._on_its_way is None:
            return
        payment_id, receipt, message = self._on_its_way
        if self.statusBar().currentMessage() != message:  # replaced or timed out: nothing to correct
            self._on_its_way = None
            return
        payments = self.desk.payments
        worker.run_in_background(self, lambda: payments.get(payment_id),
                                 lambda record: self._say_where(record, receipt, message),
                                 pool=worker.disk_pool(), label="")

    def _say_where(self, record, receipt: str, message: str) -> None:
        if self._on_its_way is None or self._on_its_way[2] != message \
                or self.statusBar().currentMessage() != message:
            return
        state = record.state if record is not None else None
        if state in (PaymentState.PENDING, PaymentState.SENDING) and not self.offline:
            return  # not sent yet by this pass (another was under way): the next pass will tell
        self._on_its_way = None
        if state in (PaymentState.PENDING, PaymentState.SENDING):
            after = "Maelis ne répond pas : il lui sera transmis dès qu'il répondra."
        elif state is None:
            return
        else:
            after = f"{state.label_fr}."
        self.statusBar().showMessage(f"Paiement enregistré : quittance n° {receipt}. {after}", 15000)

    def payments_changed(self) -> None:
        """A payment's state changed (recorded, sent, confirmed, rejected): the family shown,
        the status bar and any open outbox dialog are read again from the database."""
        self.show_payments()
        self.control.check_journal()
        for dialog in self.findChildren(OutboxDialog):
            if dialog.isVisible():
                dialog.reload()

    def show_payments(self) -> None:
        """Re-apply the desk's payments to the shown family, with the newer lists the
        transmitter or the scheduled refresh cached meanwhile (a database read, no call
        to Maelis)."""
        self._update_outbox()
        if self.view is None:
            return
        view, reader = self.view, self.desk.reader
        self._payments_task.run(self, lambda: reader.with_payments(view), self._payments_shown,
                                pool=worker.disk_pool(), label="")

    def _payments_shown(self, view: FamilyView) -> None:
        if self.view is None or view.family.number != self.view.family.number:
            return
        self.view = view
        self.family_pane.show_view(view, self.shown_at or self.desk.clock(), keep_tab=True)
        self._update_regie_actions()
        self._update_actions()
        self._update_freshness()

    def _transmitted(self, report) -> None:
        """A pass of the transmitter ended (the background jobs' or the outbox dialog's): every
        view of the payments follows their states — the family shown, the status bar,
        an open outbox dialog."""
        self._follow_on_its_way()
        if report is None:
            self._update_outbox()
            return
        if report.worked:
            self.payments_changed()
        else:
            self._update_outbox()
        if report.rejected or report.review:
            self.banner.show_message(
                "error",
                f"<b>Un paiement n'a pas pu être transmis à Maelis</b> — Famille > {html_text(OUTBOX_TITLE)} "
                f"({keys_fr(self.outbox_action.shortcuts())}), ou un superviseur.",
                "\n".join(report.errors),
            )

    def _update_outbox(self) -> None:
        worker.run_in_background(self, self.desk.payments.counts, self._show_outbox, pool=worker.disk_pool(),
                                 label="")

    def _show_outbox(self, counts: dict) -> None:
        waiting = sum(n for state, n in counts.items() if state.is_waiting)
        self.unsent = sum(n for state, n in counts.items() if state.not_acknowledged)
        trouble = sum(n for state, n in counts.items() if state.needs_person)
        parts = []
        if waiting:
            parts.append(f"⇅ {waiting} paiement{'s' if waiting > 1 else ''} en attente de Maelis")
        if trouble:
            parts.append(f"⚠ {trouble} à vérifier")
        self.outbox_label.setText(" · ".join(parts))

    def _synced(self, report) -> None:
        """The scheduled refresh ended (report None: it failed)."""
        self.sync_status.finished(report)
        if report is not None:
            self.payments_changed()  # a list re-read may have confirmed a payment, or changed the family's figures

    # -- closing ---------------------------------------------------------------------------

    def quit_asked(self) -> None:
        """Ctrl+Q, Fichier > Quitter: with payments not yet sent, the cashier is told and chooses."""
        if self.may_quit():
            self._quit_confirmed = True
            self.close()

    def may_quit(self) -> bool:
        if self.unsent == 0:
            return True
        box = self.quit_box(self.unsent)
        box.exec()
        quit_ = box.clickedButton() is box.quit_button
        box.setParent(None)
        box.deleteLater()
        return quit_

    def quit_box(self, unsent: int) -> QMessageBox:
        box = QMessageBox(QMessageBox.Icon.Warning, "Paiements pas encore transmis", "", parent=self)
        box.setObjectName("quitBox")
        many = unsent > 1
        box.setText(
            f"<b>{unsent} paiement{'s' if many else ''} n'{'ont' if many else 'a'} pas encore été "
            f"transmis à Maelis.</b>"
        )
        when = "au prochain démarrage du poste" if not self.offline_mode else "au prochain démarrage en ligne"
        box.setInformativeText(
            f"{'Ils sont' if many else 'Il est'} en sécurité dans la base du poste et "
            f"{'seront transmis' if many else 'sera transmis'} à Maelis {when}.\n\n"
            "Quitter quand même ?"
        )
        box.quit_button = box.addButton("&Quitter", QMessageBox.ButtonRole.AcceptRole)
        box.stay_button = box.addButton("&Rester", QMessageBox.ButtonRole.RejectRole)
        box.setDefaultButton(box.quit_button)
        box.setEscapeButton(box.stay_button)
        return box

    def closeEvent(self, event: QCloseEvent) -> None:
        # The window system's close button asks like Ctrl+Q; close() from the code (a restart
        # after the settings, the tests) does not.
        if event.spontaneous() and not self._quit_confirmed and not self.may_quit():
            event.ignore()
            return
        self._closing = True
        self.jobs.stop()
        self.age_timer.stop()
        self._payments_task.cancel()
        self.search_pane.cancel()
        self._family_task.cancel()
        for child in self.findChildren(QWidget):
            if child.isWindow() and child.isVisible():
                child.close()
        worker.shutdown(CLOSE_WAIT)
        super().closeEvent(event)


