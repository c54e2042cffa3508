"""The family search pane (left of the window): one field, number or name,
searched as you type (debounced), results as a list; Enter or a click opens."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QLabel,
    QLineEdit,
    QListView,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from ..domain import Family, Freshness
from ..services import Desk
from .models import OBJECT_ROLE, FamilyListModel
from .worker import Latest, error_text

DEBOUNCE_MS = 250
MIN_NAME_CHARS = 2


class SearchPane(QWidget):
    """Emits `family_chosen(number)` when the cashier opens a family."""

    family_chosen = Signal(int)
    searched = Signal(str, int)  # text, number of results shown (for tests and the status bar)

    def __init__(self, desk: Desk, pool, parent: QWidget | None = None):
        super().__init__(parent)
        self.desk = desk
        self.pool = pool
        self._search = Latest()
        self._shown_for: str | None = None  # the text the shown results answer
        self._open_when_done = False

        self.title = QLabel("&Rechercher une famille")
        self.title.setObjectName("sectionTitle")
        self.edit = QLineEdit()
        self.edit.setObjectName("searchField")
        self.edit.setPlaceholderText("N° de dossier ou nom")
        self.edit.setClearButtonEnabled(True)
        self.edit.setToolTip(
            "Numéro de dossier ou nom d'un responsable ou d'un enfant (Ctrl+F ou F3).\n"
            "Entrée : ouvrir la famille ; Flèche bas : aller aux résultats."
        )
        self.edit.setAccessibleName("Rechercher une famille")
        self.title.setBuddy(self.edit)

        self.model = FamilyListModel(self)
        self.list = QListView()
        self.list.setObjectName("searchResults")
        self.list.setModel(self.model)
        self.list.setWordWrap(True)
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.list.setSpacing(1)
        self.list.setAlternatingRowColors(True)
        self.list.setEditTriggers(QListView.EditTrigger.NoEditTriggers)
        self.list.setSelectionMode(QListView.SelectionMode.SingleSelection)
        self.list.setAccessibleName("Familles trouvées")
        self.list.setToolTip("Entrée ou clic : ouvrir la famille")
        self.list.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Expanding)

        self.note = QLabel("Hors ligne — résultats du cache")
        self.note.setObjectName("searchNote")
        self.note.setWordWrap(True)
        self.note.hide()
        self.status = QLabel("")
        self.status.setObjectName("hint")
        self.status.setWordWrap(True)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(self.title)
        layout.addWidget(self.edit)
        layout.addWidget(self.note)
        layout.addWidget(self.list, 1)
        layout.addWidget(self.status)

        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.setInterval(DEBOUNCE_MS)
        self.timer.timeout.connect(self.search_now)
        self.edit.textChanged.connect(self._text_changed)
        self.edit.returnPressed.connect(self._enter)
        self.edit.installEventFilter(self)
        self.list.activated.connect(self._open_index)
        self.list.clicked.connect(self._open_index)
        self._set_hint()

    # -- public ---------------------------------------------------------------------

    def focus_search(self) -> None:
        self.edit.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.edit.selectAll()

    @property
    def busy(self) -> bool:
        return self._search.busy or self.timer.isActive()

    def cancel(self) -> None:
        self.timer.stop()
        self._search.cancel()

    # -- searching ------------------------------------------------------------------

    def _text_changed(self, _text: str) -> None:
        self._open_when_done = False
        self.timer.start()

    def _set_hint(self) -> None:
        self.status.setText("Tapez un numéro de dossier ou au moins deux lettres d'un nom.")

    def search_now(self) -> None:
        self.timer.stop()
        text = self.edit.text().strip()
        if not text or (not text.isdigit() and len(text) < MIN_NAME_CHARS):
            self._search.cancel()
            self.model.set_families([])
            self._shown_for = None
            self.note.hide()
            self._set_hint()
            return
        self.status.setText("Recherche…")
        reader = self.desk.reader
        self._search.run(
            self,
            lambda: reader.search(text),
            lambda result: self._show(text, *result),
            lambda exc: self._failed(text, exc),
            pool=self.pool,
            label="Recherche de familles…",
        )

    def _show(self, text: str, families: list[Family], freshness: Freshness) -> None:
        if text != self.edit.text().strip():
            return  # typed further meanwhile: a newer search is coming
        self.model.set_families(families)
        self._shown_for = text
        self.note.setVisible(freshness.from_cache)
        if freshness.from_cache:
            self.note.setToolTip(freshness.error or "")
        n = len(families)
        if n == 0:
            self.status.setText("Aucune famille trouvée.")
        elif n == 1:
            self.status.setText("1 famille trouvée.")
        else:
            self.status.setText(f"{n} familles trouvées." + (" (les 50 premières)" if n >= 50 else ""))
        if n:
            self.list.setCurrentIndex(self.model.index(0, 0))
        self.searched.emit(text, n)
        if self._open_when_done:
            self._open_when_done = False
            if n == 1:
                self.family_chosen.emit(families[0].number)
            elif n > 1:
                self.list.setFocus(Qt.FocusReason.OtherFocusReason)

    def _failed(self, text: str, exc: BaseException) -> None:
        if text != self.edit.text().strip():
            return
        self._open_when_done = False
        self.model.set_families([])
        self._shown_for = text
        self.note.hide()
        self.status.setText(f"Recherche impossible : {error_text(exc)}")
        self.searched.emit(text, 0)

    # -- opening ----------------------------------------------------------------------

    def _enter(self) -> None:
        text = self.edit.text().strip()
        if text.isdigit():
            self.timer.stop()
            self.family_chosen.emit(int(text))  # a number opens directly, no need to wait
            return
        if self._shown_for == text and not self._search.busy and self.model.rowCount():
            index = self.list.currentIndex()
            if not index.isValid():
                index = self.model.index(0, 0)
            self._open_index(index)
            return
        self._open_when_done = True
        if not self._search.busy or self.timer.isActive():
            self.search_now()

    def _open_index(self, index) -> None:
        family = self.model.data(index, OBJECT_ROLE) if index.isValid() else None
        if family is not None:
            self.family_chosen.emit(family.number)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.edit and event.type() == QEvent.Type.KeyPress:
            key = event.key() if isinstance(event, QKeyEvent) else None
            if key in (Qt.Key.Key_Down, Qt.Key.Key_PageDown) and self.model.rowCount():
                self.list.setFocus(Qt.FocusReason.TabFocusReason)
                if not self.list.currentIndex().isValid():
                    self.list.setCurrentIndex(self.model.index(0, 0))
                return True
        return super().eventFilter(watched, event)
