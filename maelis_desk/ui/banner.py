"""The red banner shown while Maelis refuses the desk's credentials.

A wrong password is not an outage (issue 8, point 6): the window keeps
showing the cache, but says, above it, that Maelis refused the
identification and where to fix it (the settings dialog, Ctrl+,). The banner
stays until a read succeeds (the credentials work again: the account was
re-enabled on Maelis' side) or the credentials change (saving new ones in the
settings restarts the desk with them; the new desk starts without the banner
unless Maelis refused exactly those credentials before, see
services/credentials.py).

Only what Maelis answered changes it: "hors ligne" or "pas encore
interrogé" say nothing of the credentials, so they leave it as it is.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QWidget

from ..services import State

TITLE = "Maelis a refusé l'identification du poste"
WHERE = ("Corrigez l'utilisateur ou le mot de passe dans Fichier > Réglages… (Ctrl+,). "
         "Les données affichées viennent du cache ; les paiements restent en attente, sans nouvel essai, "
         "jusqu'à la correction.")
CACHE_HEAD = "Identification refusée par Maelis"


class CredentialsBanner(QFrame):
    """Red, above the family. `button` opens the settings (connected by the window)."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("errorBanner")
        self.label = QLabel(f"<b>{TITLE}</b> — {WHERE}")
        self.label.setObjectName("credentialsText")
        self.label.setWordWrap(True)
        self.label.setTextFormat(Qt.TextFormat.RichText)
        self.button = QPushButton("Ouvrir les réglages (Ctrl+,)")
        self.button.setObjectName("credentialsSettings")
        self.button.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # Ctrl+, does it from anywhere
        layout = QHBoxLayout(self)
        layout.setContentsMargins(10, 6, 6, 6)
        layout.addWidget(self.label, 1)
        layout.addWidget(self.button, 0, Qt.AlignmentFlag.AlignVCenter)
        self.hide()

    @property
    def refused(self) -> bool:
        return not self.isHidden()

    def follow(self, state: State, *, offline_mode: bool = False) -> None:
        """Show on REFUSED, lift on a successful read; other states say nothing of the credentials."""
        if offline_mode:
            self.hide()
        elif state is State.REFUSED:
            self.show()
        elif state in (State.ONLINE, State.SLOW):
            self.hide()

    def known_wrong(self, wrong: bool) -> None:
        """At start: Maelis refused exactly these credentials before (remembered in the database)."""
        if wrong:
            self.show()
