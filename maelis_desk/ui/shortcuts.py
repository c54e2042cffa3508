"""The F1 list of keys, made from the window's actions and the payment dialog's own
key table (payment_dialog.key_help): a shortcut added to either shows in F1 by
itself. Keys are written the French way (Maj, Entrée, Échap, Pg.Suiv), whatever
translations Qt has loaded.
"""

from __future__ import annotations

from ..formatting import html_text

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QApplication, QWidget

# Qt's portable names → what a French keyboard shows
_FRENCH = {
    "Shift": "Maj", "Return": "Entrée", "Enter": "Entrée", "Esc": "Échap", "Space": "Espace",
    "Backtab": "Tab", "PgDown": "Pg.Suiv", "PgUp": "Pg.Préc", "Del": "Suppr", "Ins": "Inser",
    "Home": "Début", "End": "Fin", "Left": "Gauche", "Right": "Droite", "Up": "Haut", "Down": "Bas",
}

# Keys handled by the widgets themselves (no action carries them).
WIDGET_KEYS = (
    ("Entrée", "Ouvrir la famille trouvée ; dans un tableau : aller au détail de la facture"),
    ("Bas", "Du champ de recherche aux résultats"),
    ("Tab, Maj+Tab", "Passer d'un tableau à l'autre (À payer, Historique)"),
    ("Échap", "Des lignes de la facture, revenir aux factures"),
)


def key_fr(key: QKeySequence) -> str:
    """One key sequence as a French cashier reads it: Ctrl+Maj+T."""
    text = key.toString(QKeySequence.SequenceFormat.PortableText)
    parts = text.split("+")
    if text.endswith("++"):  # Ctrl++
        parts = parts[:-2] + ["+"]
    return "+".join(_FRENCH.get(p, p) for p in parts)


def keys_fr(keys) -> str:
    """Several sequences, each once, in order: « Ctrl+F, F3 »."""
    seen: list[str] = []
    for key in keys:
        if not key.isEmpty() and key_fr(key) not in seen:
            seen.append(key_fr(key))
    return ", ".join(seen)


def make_action(parent: QWidget, text: str, shortcuts, slot, tip: str = "", *,
                context: Qt.ShortcutContext = Qt.ShortcutContext.WindowShortcut) -> QAction:
    """The one way the desk makes an action: its keys (written the French way in its tooltip and
    status tip), its F1 description, added to `parent` so its keys work there."""
    action = QAction(text, parent)
    keys = [QKeySequence(s) for s in shortcuts]
    action.setShortcuts(keys)
    action.setShortcutContext(context)
    names = keys_fr(keys)
    base = tip or text.replace("&", "").rstrip("…")
    action.setWhatsThis(base)  # F1's description (action_help)
    action.setToolTip(f"{base} ({names})" if names else base)
    action.setStatusTip(action.toolTip())
    action.triggered.connect(slot)
    parent.addAction(action)
    return action


def action_help(action: QAction) -> str:
    """What an action does, for F1: its help text (MainWindow._action sets it), else its text."""
    return action.whatsThis() or action.text().replace("&", "").rstrip("…")


def window_rows(actions: list[QAction], grouped: list[QAction]) -> list[tuple[str, str]]:
    """(keys, what) for every action with a shortcut; `grouped` (Ctrl+1 … Ctrl+9) on one row."""
    rows: list[tuple[str, str]] = []
    for action in actions:
        if action in grouped or not action.shortcuts():
            continue
        rows.append((keys_fr(action.shortcuts()), action_help(action)))
    if grouped:
        first, last = grouped[0].shortcuts()[0], grouped[-1].shortcuts()[0]
        rows.append((f"{key_fr(first)} … {key_fr(last)}", f"Aller à la régie 1 … {len(grouped)}"))
    return rows


def help_html(sections: list[tuple[str, list[tuple[str, str]]]]) -> str:
    html = "<table cellspacing='4'>"
    for title, rows in sections:
        html += f"<tr><td colspan='2'><br><b><u>{html_text(title)}</u></b></td></tr>"
        html += "".join(f"<tr><td><b>{html_text(k)}</b></td><td>&nbsp;&nbsp;{html_text(v)}</td></tr>" for k, v in rows)
    return html + "</table>"


def payment_rows() -> list[tuple[str, str]]:
    from .payment_dialog import key_help

    return [(keys if isinstance(keys, str) else keys_fr(keys), what) for keys, what in key_help()]




class WindowKeysFirst(QObject):
    """The window's own keys win over a text field's (Qt's line edit takes Ctrl+Maj+Z
    as « rétablir », Ctrl+E as « fin de ligne »…, so « Arrêté de caisse » did nothing
    while the cursor was in the search field). Installed on the application: a
    ShortcutOverride inside `window` for one of its actions' keys is left unaccepted,
    so the action runs; every other key stays the field's."""

    def __init__(self, window: QWidget):
        super().__init__(window)
        self._window = window
        QApplication.instance().installEventFilter(self)

    def _action_of(self, key: QKeySequence) -> QAction | None:
        return next((action for action in self._window.actions() for k in action.shortcuts()
                     if key.matches(k) == QKeySequence.SequenceMatch.ExactMatch), None)

    def eventFilter(self, watched, event) -> bool:  # noqa: N802 - Qt's name
        if event.type() != QEvent.Type.ShortcutOverride or not isinstance(watched, QWidget):
            return False
        if watched.window() is not self._window:
            return False
        action = self._action_of(QKeySequence(event.keyCombination()))
        if action is None:
            return False
        if not action.isEnabled():
            # a key of an action not possible now: say why instead of doing nothing (its tooltip
            # is the reason: no till open, a role that may not…)
            what = action.text().replace("&", "").rstrip("…")
            self._window.statusBar().showMessage(f"« {what} » impossible pour l'instant : {action.toolTip()}",
                                                 10000)
            return False
        event.ignore()  # not the field's: the shortcut map runs the window's action
        return True
