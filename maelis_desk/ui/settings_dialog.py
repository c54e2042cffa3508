"""Settings of the desk: where Maelis is, who connects, how long to wait,
where the local database lives, who sits at the till.

"Tester la connexion" runs services.connection.test_connection in the
background with the values typed (not saved yet). Saving writes the settings
file (never the password) and puts the password in the system keyring; when
there is none, the desk will ask for it at each start. New settings apply
when the desk restarts: the dialog says so and offers to restart now.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from .. import config
from ..config import Settings, SettingsError
from ..domain import DESK_CODE_MAX, desk_code_from
from ..services.connection import test_connection
from .worker import Latest, error_text, network_pool


class SettingsDialog(QDialog):
    """Open with `.open()`. Emits `saved(settings, restart_now)` after saving."""

    saved = Signal(object, bool)
    tested = Signal(bool, str)  # success, the message shown

    def __init__(self, settings: Settings, parent: QWidget | None = None, *, pool=None):
        super().__init__(parent)
        self.setObjectName("settingsDialog")
        self.setWindowTitle("Réglages du poste")
        self.setMinimumWidth(620)
        self.settings = settings
        self.pool = pool or network_pool()
        self._test = Latest()

        self.url = QLineEdit(settings.url or "")
        self.url.setPlaceholderText("vide : Maelis de démonstration")
        self.url.setToolTip(
            "Base des services Maelis, par exemple\nhttps://maelis.exemple.fr/maelisws-recette/services"
        )
        self.user = QLineEdit("" if settings.demo else settings.user)
        self.password = QLineEdit("" if settings.demo else (settings.password or ""))
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.password.setToolTip("Gardé dans le trousseau du système, jamais dans un fichier.")
        self.timeout = QDoubleSpinBox()
        self.timeout.setRange(0.5, 300.0)
        self.timeout.setDecimals(1)
        self.timeout.setSingleStep(0.5)
        self.timeout.setSuffix(" s")
        self.timeout.setValue(settings.timeout)
        self.timeout.setToolTip("Au-delà, le poste affiche les données du cache au lieu d'attendre Maelis.")
        self.database = QLineEdit(settings.database or "")
        self.database.setPlaceholderText(str(settings.database_spec) if not settings.database else "")
        self.database.setToolTip(
            "Chemin d'un fichier SQLite, ou URL d'une base (postgresql://utilisateur@serveur/base).\n"
            "Vide : le fichier par défaut du poste."
        )
        browse = QPushButton("&Parcourir…")
        browse.clicked.connect(self._browse)
        db_row = QHBoxLayout()
        db_row.setContentsMargins(0, 0, 0, 0)
        db_row.addWidget(self.database, 1)
        db_row.addWidget(browse)
        db_widget = QWidget()
        db_widget.setLayout(db_row)
        self.operator = QLineEdit(settings.operator)
        self.operator.setToolTip("Le nom du caissier ou de la caissière, imprimé sur les reçus.")

        self.desk_code = QLineEdit(settings.desk_code or "")
        self.desk_code.setObjectName("deskCode")
        self.desk_code.setMaxLength(DESK_CODE_MAX)
        self.desk_code.setPlaceholderText(settings.code)
        self.desk_code.setToolTip(
            "Le code de ce poste, sur chaque paiement et dans ses numéros de quittance ; différent pour chaque\n"
            f"poste de la régie. Vide : tiré du nom de la machine ({settings.desk} → {desk_code_from(settings.desk)})."
        )

        self.receipt_paper = QComboBox()
        self.receipt_paper.setObjectName("receiptPaper")
        for key, label in config.RECEIPT_PAPERS.items():
            self.receipt_paper.addItem(label, key)
        self.receipt_paper.setCurrentIndex(max(0, self.receipt_paper.findData(settings.receipt_paper)))
        self.receipt_paper.setToolTip("Format des quittances : une page A4, ou un ticket de 80 mm de large.")

        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.addRow("Adresse de &Maelis :", self.url)
        form.addRow("&Utilisateur :", self.user)
        form.addRow("Mot de &passe :", self.password)
        form.addRow("&Délai de réponse :", self.timeout)
        form.addRow("&Base locale (cache) :", db_widget)
        form.addRow("&Opérateur (caisse) :", self.operator)
        form.addRow("&Code du poste :", self.desk_code)
        form.addRow("&Quittances sur :", self.receipt_paper)
        for field, label in ((self.database, "Base locale (cache)"), (self.url, "Adresse de Maelis")):
            field.setAccessibleName(label)

        self.test_button = QPushButton("&Tester la connexion")
        self.test_button.setObjectName("testConnection")
        self.test_button.clicked.connect(self.test)
        self.test_result = QLabel("")
        self.test_result.setObjectName("testResult")
        self.test_result.setWordWrap(True)
        self.test_result.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        test_row = QHBoxLayout()
        test_row.addWidget(self.test_button, 0, Qt.AlignmentFlag.AlignTop)
        test_row.addWidget(self.test_result, 1)

        self.note = QLabel(
            "Les nouveaux réglages prennent effet au redémarrage du poste."
            + ("\nLe poste utilise actuellement le Maelis de démonstration." if settings.demo else "")
        )
        self.note.setObjectName("hint")
        self.note.setWordWrap(True)

        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.button(QDialogButtonBox.StandardButton.Save).setText("&Enregistrer")
        self.buttons.button(QDialogButtonBox.StandardButton.Cancel).setText("Annuler")
        self.buttons.accepted.connect(self.save)
        self.buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addSpacing(6)
        layout.addLayout(test_row)
        layout.addSpacing(6)
        layout.addWidget(self.note)
        layout.addWidget(self.buttons)

    # -- values -----------------------------------------------------------------------

    def edited_settings(self) -> Settings:
        """The settings as typed (raises SettingsError when one cannot be used)."""
        url = self.url.text().strip() or None
        if url and not url.startswith(("http://", "https://")):
            raise SettingsError("L'adresse de Maelis doit commencer par http:// ou https://.")
        user = self.user.text().strip()
        password = self.password.text() or None
        if url is None:  # the demo Maelis: its own account
            user, password = config.DEMO_USER, config.DEMO_PASSWORD
        return replace(
            self.settings,
            url=url,
            user=user,
            password=password,
            timeout=float(self.timeout.value()),
            database=self.database.text().strip() or None,
            operator=self.operator.text().strip() or self.settings.operator,
            desk_code=config.parse_desk_code(self.desk_code.text()),
            receipt_paper=self.receipt_paper.currentData() or "a4",
        )

    # -- test ---------------------------------------------------------------------------

    def test(self) -> None:
        try:
            settings = self.edited_settings()
        except SettingsError as exc:
            self._tested(False, str(exc))
            return
        if settings.demo and not settings.demo_url:
            self._tested(False, "Le Maelis de démonstration ne tourne pas (poste lancé hors ligne).")
            return
        self.test_button.setEnabled(False)
        self.test_result.setText(f"Connexion à {settings.maelis_url}…")
        self._test.run(
            self,
            lambda: test_connection(settings),
            self._test_succeeded,
            self._test_failed,
            pool=self.pool,
            label="Test de la connexion à Maelis…",
        )

    def _test_succeeded(self, regies) -> None:
        n = len(regies)
        self._tested(True, f"Connexion réussie : Maelis répond, {n} régie{'s' if n > 1 else ''}.")

    def _test_failed(self, exc: BaseException) -> None:
        self._tested(False, f"Échec : {error_text(exc)}")

    def _tested(self, ok: bool, text: str) -> None:
        self.test_button.setEnabled(True)
        colour = "#2e7d32" if ok else "#b3261e"
        self.test_result.setStyleSheet(f"color: {colour};")
        self.test_result.setText(text)
        self.tested.emit(ok, text)

    # -- save ----------------------------------------------------------------------------

    def _browse(self) -> None:
        dialog = QFileDialog(self, "Base locale du poste", str(Path(self.settings.database_spec).parent),
                             "Bases SQLite (*.sqlite3 *.sqlite *.db);;Tous les fichiers (*)")
        dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
        dialog.setOption(QFileDialog.Option.DontConfirmOverwrite)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.fileSelected.connect(self.database.setText)
        dialog.open()

    def save(self) -> None:
        try:
            settings = self.edited_settings()
        except SettingsError as exc:
            self._tested(False, str(exc))
            return
        try:
            config.save_settings(settings)
        except OSError as exc:
            self._tested(False, f"Réglages non enregistrés : {exc.strerror or exc}")
            return
        notes = []
        keep_password = not settings.demo and settings.password and settings.user
        if keep_password and not config.store_password(settings.url, settings.user, settings.password):
            notes.append(
                "Ce poste n'a pas de trousseau de mots de passe : le mot de passe de Maelis "
                "ne sera pas enregistré et sera demandé à chaque démarrage."
            )
        self._test.cancel()
        self.settings = settings
        box = QMessageBox(self.parentWidget() or self)
        box.setObjectName("restartQuestion")
        box.setIcon(QMessageBox.Icon.Question)
        box.setWindowTitle("Réglages enregistrés")
        box.setText("Les réglages sont enregistrés. Ils prennent effet au redémarrage du poste.")
        box.setInformativeText("\n\n".join(notes + ["Redémarrer le poste maintenant ?"]))
        restart = box.addButton("&Redémarrer maintenant", QMessageBox.ButtonRole.AcceptRole)
        box.addButton("&Plus tard", QMessageBox.ButtonRole.RejectRole)
        box.setDefaultButton(restart)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.finished.connect(lambda _r: self.saved.emit(settings, box.clickedButton() is restart))
        self.restart_box = box
        self.accept()
        box.open()

    def done(self, result: int) -> None:
        self._test.cancel()
        super().done(result)
