"""« Tester la connexion » (the settings dialog), with settings not saved yet: Maelis,
and the database the desk would open.

Neither test changes anything: Maelis is asked for its régies; the database is
opened on a connection of its own (the desk's open one is left alone), its schema
version read and compared with the one this desk knows; a SQLite file that does
not exist yet is not created, an empty PostgreSQL base not migrated."""

from __future__ import annotations

from dataclasses import dataclass

from ..config import Settings
from ..domain import Regie, is_postgres_url
from ..maelis import MaelisClient, MaelisError
from ..store.database import DatabaseUnavailable, public_url, schema_version_at
from ..store.migrations import LATEST, too_new
from .errors import DeskError, from_maelis


def test_connection(settings: Settings) -> list[Regie]:
    """Fetch both WSDLs and the régie list with these settings.

    Returns the régies on success; raises the precise DeskError otherwise
    (unreachable, authentication refused, protocol error...)."""
    client = MaelisClient(
        settings.maelis_url or "",
        settings.user,
        settings.password or "",
        timeout=settings.timeout,
        wsdl_dir=None,  # a test must really reach Maelis, not an old copy
    )
    try:
        client.connect()
        return client.read_regies()
    except MaelisError as exc:
        raise from_maelis(exc) from exc
    finally:
        client.close()


test_connection.__test__ = False  # not a pytest test, despite its name


@dataclass(frozen=True)
class DatabaseCheck:
    """What « Tester la connexion » found of the database: `ok` when the desk can work
    on it, `text` the French sentence shown, `version` its schema version (0: no tables
    yet; None: a SQLite file not created yet, or not read)."""

    ok: bool
    text: str
    version: int | None = None


def test_database(settings: Settings) -> DatabaseCheck:
    """Open the database of `settings` apart from the desk's and read its schema version."""
    spec = settings.database_spec
    if is_postgres_url(spec):
        name, reads, it, him = f"La base partagée {public_url(spec)}", "répond", "elle", "la"
    else:
        name, reads, it, him = f"Le fichier SQLite {spec}", "est lisible", "il", "le"
    try:
        version = schema_version_at(spec, password=settings.database_password)
    except DatabaseUnavailable as exc:
        return DatabaseCheck(False, f"Base de données : {exc}")
    if version is None:
        return DatabaseCheck(True, f"{name} n'existe pas encore : le poste {him} créera à son démarrage.")
    if version > LATEST:
        return DatabaseCheck(False, f"Base de données : {too_new(version)}", version)
    if version == 0:
        return DatabaseCheck(True, f"{name} {reads} ; {it} est vide : le poste y créera ses tables "
                                   f"à son démarrage.", version)
    if version < LATEST:
        return DatabaseCheck(True, f"{name} {reads} (schéma en version {version}) : le poste {him} mettra "
                                   f"à jour (version {LATEST}) à son démarrage.", version)
    return DatabaseCheck(True, f"{name} {reads}, schéma à jour (version {version}).", version)


test_database.__test__ = False


@dataclass(frozen=True)
class ConnectionReport:
    """Both tests: Maelis' régies or its error (None when Maelis was not tested), and the database."""

    regies: list[Regie] | None
    maelis_error: DeskError | None
    database: DatabaseCheck

    @property
    def ok(self) -> bool:
        return self.maelis_error is None and self.database.ok


def check_connection(settings: Settings, *, maelis: bool = True) -> ConnectionReport:
    """Test Maelis (unless `maelis` is False: the demo not running) and the database, each
    whatever the other answered."""
    regies, error = None, None
    if maelis:
        try:
            regies = test_connection(settings)
        except DeskError as exc:
            error = exc
    return ConnectionReport(regies, error, test_database(settings))
