"""Settings of the desk: where Maelis is, who connects, how long to wait,
who sits at the till, and the database: a SQLite file of this desk (the
default) or a PostgreSQL server shared by the régie's desks (server, port,
base, user, password).

"Tester la connexion" runs services.connection.check_connection in the
background with the values typed (not saved yet): Maelis, and the database
(it answers, its schema is known, newer or absent). Saving writes the settings
file (never a password: the database's URL is written without one) and puts
the passwords in the system keyring, each under its own key; when there is
none, the desk will ask for Maelis' at each start, and the database's comes
from MAELIS_DESK_DATABASE_PASSWORD. New settings apply when the desk
restarts: the dialog says so (a new database above all) and offers to restart now.
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
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from .. import config
from ..config import Settings, SettingsError
from ..domain import DESK_CODE_MAX, POSTGRES_PORT, PostgresPlace, desk_code_from
from ..services.connection import check_connection
from ..services.errors import DeskError
from .worker import Latest, error_text, network_pool
from .theme import Colours


SQLITE, POSTGRES = "sqlite", "postgresql"


class SettingsDialog(QDialog):
    """Open with `.open()`. Emits `saved(settings, restart_now)` after saving."""

    saved = Signal(object, bool)
    tested = Signal(bool, str)  # success, the message shown

    def __init__(self, settings: Settings, parent: QWidget | None = None, *, pool=None, save_with=None,
                 accounts: bool = False):
        super().__init__(parent)
        self.setObjectName("settingsDialog")
        self.setWindowTitle("Réglages du poste")
        self.setMinimumWidth(620)
        self.settings = settings
        self.pool = pool or network_pool()
        # the desk's Desk.save_settings checks the operator's role (the régisseur's); before a desk
        # is open (first start) the file is written as it is
        self._save_with = save_with or config.save_settings
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
        self._build_database(settings)
        self.operator = QLineEdit(settings.operator)
        self.operator.setObjectName("operatorName")
        self.operator.setToolTip("Le nom du caissier ou de la caissière, imprimé sur les reçus.")
        if accounts:  # who is at the counter is the logged-in account: this name is not used
            self.operator.setEnabled(False)
            self.operator.setToolTip("Le poste a des comptes d'opérateurs : chaque quittance porte le nom de "
                                     "l'opérateur identifié. Ce nom ne sert qu'au poste à une personne.")

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
        form.addRow("&Opérateur (caisse) :", self.operator)
        form.addRow("&Code du poste :", self.desk_code)
        form.addRow("&Quittances sur :", self.receipt_paper)
        form.addRow("&Base de données :", self.database_kind)
        form.addRow("&Fichier SQLite :", self.sqlite_row)
        form.addRow("&Serveur :", self.pg_host)
        form.addRow("Po&rt :", self.pg_port)
        form.addRow("&Nom de la base :", self.pg_base)
        form.addRow("Ut&ilisateur de la base :", self.pg_user)
        form.addRow("Mot de passe de l&a base :", self.pg_password)
        self.form = form
        self.url.setAccessibleName("Adresse de Maelis")
        self._database_kind_changed()

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

    # -- the database -------------------------------------------------------------------

    def _build_database(self, settings: Settings) -> None:
        """A SQLite file of this desk (the default) or a PostgreSQL server shared by the desks."""
        place = PostgresPlace.from_url(settings.database or "")
        self.database_kind = QComboBox()
        self.database_kind.setObjectName("databaseKind")
        self.database_kind.addItem("Fichier SQLite de ce poste", SQLITE)
        self.database_kind.addItem("Serveur PostgreSQL (partagée par les postes de la régie)", POSTGRES)
        self.database_kind.setCurrentIndex(1 if place else 0)
        self.database_kind.setToolTip(
            "Un fichier SQLite par poste, ou une base PostgreSQL partagée : numéros de quittance,\n"
            "paiements, caisses et bordereaux communs à tous les postes de la régie."
        )
        self.database_kind.currentIndexChanged.connect(self._database_kind_changed)

        self.database = QLineEdit("" if place else (settings.database or ""))
        self.database.setObjectName("sqlitePath")
        self.database.setAccessibleName("Fichier SQLite")
        self.database.setPlaceholderText(self._default_file())
        self.database.setToolTip("Chemin du fichier SQLite. Vide : le fichier par défaut du poste.")
        browse = QPushButton("Pa&rcourir…")
        browse.clicked.connect(self._browse)
        db_row = QHBoxLayout()
        db_row.setContentsMargins(0, 0, 0, 0)
        db_row.addWidget(self.database, 1)
        db_row.addWidget(browse)
        self.sqlite_row = QWidget()
        self.sqlite_row.setLayout(db_row)

        self.pg_host = QLineEdit(place.host if place else "")
        self.pg_host.setObjectName("pgHost")
        self.pg_host.setPlaceholderText("par exemple 127.0.0.1 ou serveur.mairie.local")
        self.pg_port = QSpinBox()
        self.pg_port.setObjectName("pgPort")
        self.pg_port.setRange(1, 65535)
        self.pg_port.setGroupSeparatorShown(False)
        self.pg_port.setValue(place.port if place else POSTGRES_PORT)
        self.pg_base = QLineEdit(place.base if place else "")
        self.pg_base.setObjectName("pgBase")
        self.pg_base.setPlaceholderText("par exemple maelis_desk")
        self.pg_user = QLineEdit(place.user if place else "")
        self.pg_user.setObjectName("pgUser")
        self.pg_password = QLineEdit((settings.database_password or "") if place else "")
        self.pg_password.setObjectName("pgPassword")
        self.pg_password.setEchoMode(QLineEdit.EchoMode.Password)
        self.pg_password.setToolTip("Gardé dans le trousseau du système, jamais dans un fichier ni dans l'adresse.")
        for field, label in ((self.pg_host, "Serveur PostgreSQL"), (self.pg_port, "Port du serveur PostgreSQL"),
                             (self.pg_base, "Nom de la base PostgreSQL"),
                             (self.pg_user, "Utilisateur de la base PostgreSQL"),
                             (self.pg_password, "Mot de passe de la base PostgreSQL")):
            field.setAccessibleName(label)

    def _default_file(self) -> str:
        return str(replace(self.settings, database=None).database_spec)

    def _database_kind_changed(self, _index: int = 0) -> None:
        shared = self.database_kind.currentData() == POSTGRES
        self.form.setRowVisible(self.sqlite_row, not shared)
        for field in (self.pg_host, self.pg_port, self.pg_base, self.pg_user, self.pg_password):
            self.form.setRowVisible(field, shared)

    def _edited_database(self) -> tuple[str | None, str | None]:
        """The database as typed: (path or URL without password, the password)."""
        if self.database_kind.currentData() != POSTGRES:
            return self.database.text().strip() or None, None
        host, base, user = self.pg_host.text().strip(), self.pg_base.text().strip(), self.pg_user.text().strip()
        missing = [name for name, value in (("le serveur", host), ("le nom de la base", base),
                                            ("l'utilisateur", user)) if not value]
        if missing:
            raise SettingsError(f"Base PostgreSQL : indiquez {', '.join(missing)}.")
        url = PostgresPlace(host=host, port=self.pg_port.value(), base=base, user=user).url
        return url, self.pg_password.text() or None

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
        database, database_password = self._edited_database()
        return replace(
            self.settings,
            url=url,
            user=user,
            password=password,
            timeout=float(self.timeout.value()),
            database=database,
            database_password=database_password,
            operator=self.operator.text().strip() or self.settings.operator,
            desk_code=config.parse_desk_code(self.desk_code.text()),
            receipt_paper=self.receipt_paper.currentData() or "a4",
        )

    # -- test ---------------------------------------------------------------------------

    def test(self) -> None:
        """Test Maelis and the database with the values typed, in the background."""
        try:
            settings = self.edited_settings()
        except SettingsError as exc:
            self._tested(False, str(exc))
            return
        maelis = not (settings.demo and not settings.demo_url)
        self.test_button.setEnabled(False)
        self.test_result.setStyleSheet("")
        self.test_result.setText(
            (f"Connexion à {settings.maelis_url}…\n" if maelis else "") + "Connexion à la base de données…")
        self._test.run(
            self,
            lambda: check_connection(settings, maelis=maelis),
            self._test_done,
            self._test_failed,
            pool=self.pool,
            label="Test de la connexion à Maelis et à la base de données…",
        )

    def _test_done(self, report) -> None:
        if report.maelis_error is not None:
            maelis = f"Échec : {error_text(report.maelis_error)}"
        elif report.regies is None:
            maelis = "Échec : le Maelis de démonstration ne tourne pas (poste lancé hors ligne)."
        else:
            n = len(report.regies)
            maelis = f"Connexion réussie : Maelis répond, {n} régie{'s' if n > 1 else ''}."
        self._tested(report.ok and report.regies is not None, f"{maelis}\n{report.database.text}")

    def _test_failed(self, exc: BaseException) -> None:
        self._tested(False, f"Échec : {error_text(exc)}")

    def _tested(self, ok: bool, text: str) -> None:
        self.test_button.setEnabled(True)
        colour = Colours.OK if ok else Colours.ERROR
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
            self._save_with(settings)
        except DeskError as exc:  # PermissionDenied: not the régisseur
            self._tested(False, str(exc))
            return
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
        if settings.database_password and not config.store_database_password(settings.database,
                                                                              settings.database_password):
            notes.append(
                "Ce poste n'a pas de trousseau de mots de passe : le mot de passe de la base de données "
                "n'est pas enregistré ; donnez-le au démarrage par la variable MAELIS_DESK_DATABASE_PASSWORD."
            )
        database_changed = (settings.database_spec, settings.database_password) != (
            self.settings.database_spec, self.settings.database_password)
        self._test.cancel()
        self.settings = settings
        box = QMessageBox(self.parentWidget() or self)
        box.setObjectName("restartQuestion")
        box.setIcon(QMessageBox.Icon.Question)
        box.setWindowTitle("Réglages enregistrés")
        box.setText("Les réglages sont enregistrés. Ils prennent effet au redémarrage du poste."
                    + ("\nLa base de données change : le poste doit redémarrer pour l'utiliser."
                       if database_changed else ""))
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
