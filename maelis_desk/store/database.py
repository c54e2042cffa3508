"""Opening the desk's database: a path (SQLite, the default) or a database URL.

`sqlite:///path` goes through playhouse.db_url; `postgresql://user@host:port/db`
opens PostgreSQL through psycopg 3 (the `postgres` extra), so PostgreSQL needs
no change in the code above this module: the few dialect differences
(upserts, write locks, the migrations' advisory lock) stay in store/.
A missing driver or an unreachable server raises DatabaseUnavailable, whose
message is French and names the server without its password. A SQLite file is
created readable by its owner only, in WAL mode, with full fsync on commit:
a recorded payment must survive a power cut.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import peewee
from playhouse.db_url import connect

from ..domain import is_postgres_url, split_database_password

# Every model binds to this proxy; `open_database` initialises it.
db = peewee.DatabaseProxy()

SQLITE_PRAGMAS = {
    "journal_mode": "wal",
    "synchronous": "full",
    "foreign_keys": 1,
    "busy_timeout": 15000,  # two desks on one file wait for each other, briefly
    "cache_size": -16000,
}

# Every SQLite transaction takes the write lock at BEGIN. A deferred one that
# reads and then writes (save_family, a claim, a counter) cannot be upgraded
# once another connection has committed meanwhile: SQLite then answers
# « database is locked » at once, without waiting busy_timeout. Taken at
# BEGIN, the lock is simply waited for. Writes here are short, so readers
# queued behind them wait milliseconds.
SQLITE_LOCK = "IMMEDIATE"


def _private_file(path: Path) -> None:
    """Create the database file readable by its owner only, or make it so.

    An existing file is never opened here: closing any descriptor of a
    database file drops the POSIX locks that SQLite connections of this
    process hold on it (a classic way to corrupt SQLite), so only a missing
    file is created (O_EXCL), and an existing one only has its mode set."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    except FileExistsError:
        pass
    else:
        os.close(fd)
    try:
        os.chmod(path, 0o600)
    except OSError:  # pragma: no cover - file systems without modes
        pass


def _sqlite_path() -> Path | None:
    database = db.obj
    return Path(database.database) if isinstance(database, peewee.SqliteDatabase) else None


def _full(path: Path | None) -> bool:
    """Whether the file system holding `path` has no block left."""
    if path is None:
        return False
    try:
        return os.statvfs(path.parent).f_bavail == 0
    except OSError:
        return False


def release_connection() -> None:
    """Close this thread's connection, if any: for short-lived threads, so that
    no connection outlives the thread that opened it."""
    if db.obj is not None and not db.is_closed():
        db.close()


class DatabaseUnavailable(RuntimeError):
    """The database cannot be opened: no driver, the server does not answer, a
    path that is a folder or sits on a read-only place, a file that is not a
    SQLite database or is damaged. Its text is French."""


class StorageFailed(RuntimeError):
    """The database failed while the desk was using it (disk full, I/O error,
    damaged file, read-only): French text. `recorded` says, for a payment, whether
    it is durable (True), surely not (False) or unknown (None)."""

    def __init__(self, message: str, *, recorded: bool | None = None):
        super().__init__(message)
        self.recorded = recorded


def _rolled_back(text: str) -> bool:
    """peewee's own ROLLBACK failing because SQLite already rolled the transaction back."""
    return "cannot rollback" in text or "no such savepoint" in text


def storage_reason(exc: BaseException, path: Path | None = None) -> str | None:
    """The French cause of a database failure, None when `exc` is not one.

    SQLite's own texts are stable (sqlite3.c's sqlite3ErrStr); PostgreSQL's
    disk-full and read-only errors carry their SQLSTATE."""
    if isinstance(exc, OSError):
        from ..formatting import os_error_fr

        return os_error_fr(exc)
    if not isinstance(exc, (peewee.DatabaseError, peewee.InterfaceError)):
        return None
    text = str(exc).lower()
    if _rolled_back(text):
        # SQLite rolls back by itself on a full disk; peewee's ROLLBACK then hides the cause
        seen, todo = {id(exc)}, [exc.__cause__, exc.__context__]
        while todo:
            inner = todo.pop(0)
            if inner is None or id(inner) in seen:
                continue
            seen.add(id(inner))
            if not _rolled_back(str(inner).lower()):
                found = storage_reason(inner, path)
                if found is not None:
                    return found
            todo += [inner.__cause__, inner.__context__]
        return "la base de données a annulé l'écriture (disque plein ou erreur du disque)"
    state = getattr(getattr(exc, "orig", None), "sqlstate", None) or getattr(exc, "sqlstate", None)
    if "disk is full" in text or "disk full" in text or state in ("53100", "53000"):
        return "le disque de la base de données est plein"
    if "readonly" in text or "read-only" in text or state == "25006":
        return "la base de données est en lecture seule (support ou droits)"
    if "malformed" in text or "not a database" in text or "corrupt" in text:
        return "le fichier de la base de données est endommagé ou n'est pas une base SQLite"
    if ("disk i/o" in text or "i/o error" in text) and _full(path if path is not None else _sqlite_path()):
        # SQLite reports a full disk met while creating its -shm/-wal files as an I/O error
        return "le disque de la base de données est plein"
    if "disk i/o" in text or "i/o error" in text:
        return "erreur d'entrée-sortie du disque de la base de données"
    if "unable to open" in text:
        return "le fichier de la base de données ne peut pas être ouvert"
    if "locked" in text or "busy" in text:
        return "la base de données est occupée par un autre poste trop longtemps"
    return f"erreur de la base de données ({_first_line(exc)})"


def is_postgres(spec) -> bool:
    return is_postgres_url(os.fspath(spec))


def is_sqlite(database: peewee.Database | None = None) -> bool:
    """Whether `database` (the bound one by default) is SQLite: for store/'s few dialect branches."""
    database = database if database is not None else db.obj
    return isinstance(database, peewee.SqliteDatabase)


def writing():
    """A write transaction. SQLite takes its write lock at BEGIN (IMMEDIATE);
    PostgreSQL has no such mode: there the rows a transaction updates (a
    counter row, an outbox entry) are locked until it ends, which is what
    serialises two desks."""
    if is_sqlite():
        return db.atomic(lock_type="IMMEDIATE")
    return db.atomic()


def locking(query):
    """`query` locking the rows it selects until the transaction ends: SELECT … FOR
    UPDATE on PostgreSQL, where a row is otherwise read unlocked (READ COMMITTED);
    on SQLite the write lock taken at BEGIN (writing()) already holds the whole file."""
    return query if is_sqlite() else query.for_update()


def upsert(query, conflict_target, preserve):
    """`INSERT ... ON CONFLICT (target) DO UPDATE SET col = excluded.col`,
    the same on SQLite (3.24+) and PostgreSQL (SQLite's INSERT OR REPLACE is not)."""
    return query.on_conflict(conflict_target=conflict_target, preserve=preserve)


def public_url(spec) -> str:
    """`spec` without its password, fit for a message or a log."""
    return split_database_password(os.fspath(spec))[0]


LOST = (
    "La base de données partagée ({server}) ne répond plus : vérifiez que le serveur est démarré "
    "et joignable. ({cause})"
)


class DeskPostgresql(peewee.PostgresqlDatabase):
    """PostgreSQL as a desk needs it when its server goes away mid-day.

    A lost or refused connection raises DatabaseUnavailable (French, no password)
    instead of psycopg's error; a connection found broken is dropped, so the next
    call, once the server is back, opens a fresh one instead of failing forever.
    Nothing is ever retried here: a statement whose answer was lost may have run."""

    def _broken(self) -> bool:
        conn = None if self._state.closed else self._state.conn
        return conn is not None and (conn.closed or getattr(conn, "broken", False))

    def _drop(self) -> None:
        """Forget this thread's dead connection (its server rolled back what it had not committed)."""
        conn = self._state.conn
        self._state.reset()
        try:
            conn.close()
        except Exception:  # noqa: BLE001 - it is dead already
            pass

    def _lost(self, exc: BaseException, *, committing: bool = False) -> DatabaseUnavailable:
        cause = _first_line(exc)
        if committing:
            return DatabaseUnavailable(
                f"La base de données partagée ({public_url(self.database_url)}) a été perdue pendant "
                f"l'enregistrement : il a pu aboutir ou non. Vérifiez la liste des paiements quand "
                f"elle répond à nouveau. ({cause})")
        return DatabaseUnavailable(LOST.format(server=public_url(self.database_url), cause=cause))

    def cursor(self, named_cursor=None):
        if self._broken() and not self.in_transaction():
            self._drop()
        try:
            return super().cursor()
        except (peewee.OperationalError, peewee.InterfaceError) as exc:
            if self._state.closed or self._broken():
                raise self._lost(exc) from exc
            raise

    def _guarded(self, call, *, committing: bool = False):
        try:
            return call()
        except (peewee.OperationalError, peewee.InterfaceError) as exc:
            if self._broken() or self._state.closed:
                if not self.in_transaction() and not self._state.closed:
                    self._drop()
                raise self._lost(exc, committing=committing) from exc
            raise

    def execute_sql(self, sql, params=None):
        return self._guarded(lambda: super(DeskPostgresql, self).execute_sql(sql, params))

    def begin(self):
        return self._guarded(super().begin)

    def commit(self):
        return self._guarded(super().commit, committing=True)

    def rollback(self):
        if self._broken():
            return None  # the server lost the transaction with the connection: nothing to undo
        return self._guarded(super().rollback)


def _postgres(text: str, password: str | None = None) -> peewee.Database:
    try:
        import psycopg  # noqa: F401
    except ImportError as exc:
        raise DatabaseUnavailable(
            "Le pilote PostgreSQL (psycopg) n'est pas installé : "
            "pip install 'maelis-desk[postgres]'."
        ) from exc
    parts = urlsplit(text)
    # The password, kept apart from the URL (the keyring's or the environment's), goes to
    # psycopg as a parameter of its own: it is never part of a text shown or logged.
    extra = {"password": password} if password else {}
    database = DeskPostgresql(
        urlunsplit(parts._replace(scheme="postgresql")),
        prefer_psycopg3=True,
        # A desk waits a few seconds for its server, not a TCP timeout's minutes.
        connect_timeout=5,
        **extra,
    )
    database.database_url = text
    return database


def make_database(spec: str | os.PathLike, *, password: str | None = None) -> peewee.Database:
    """A peewee Database for a path or URL, not yet bound to the models (`password`:
    a PostgreSQL server's, when the URL has none)."""
    text = os.fspath(spec)
    if "://" in text:
        if text.startswith("sqlite:///"):
            _private_file(Path(text[len("sqlite:///"):]))
            return connect(text, pragmas=SQLITE_PRAGMAS, lock_type=SQLITE_LOCK)
        if is_postgres(text):
            return _postgres(text, password)
        return connect(text)
    path = Path(text).expanduser()
    _private_file(path)
    return peewee.SqliteDatabase(str(path), pragmas=SQLITE_PRAGMAS, lock_type=SQLITE_LOCK)


def open_database(spec: str | os.PathLike, *, desk_code: str | None = None,
                  password: str | None = None) -> peewee.Database:
    """Bind the models to the database at `spec` and bring its schema up to date
    (`desk_code`: this desk's, given to the payments recorded before schema 9;
    `password`: a PostgreSQL server's, kept out of the URL)."""
    from .migrations import migrate

    if is_postgres(spec):
        database = make_database(spec, password=password)
        db.initialize(database)
        try:
            database.connect(reuse_if_open=True)
        except peewee.OperationalError as exc:
            raise DatabaseUnavailable(
                f"Le serveur de base de données {public_url(spec)} ne répond pas ou refuse la connexion : "
                f"vérifiez qu'il est démarré, son adresse et l'identifiant. ({_first_line(exc)})"
            ) from exc
        migrate(database, desk_code)
        return database
    # A SQLite path: every way it can fail to open says so in French (a
    # folder, a read-only place, a file that is not a desk's database).
    text = os.fspath(spec)
    path = Path(text[len("sqlite:///"):] if text.startswith("sqlite:///") else text).expanduser()
    where = f"La base de données {path}"
    if path.is_dir():
        raise DatabaseUnavailable(f"{where} est un dossier : donnez le chemin d'un fichier "
                                  f"(par exemple {path / 'desk.sqlite3'}).")
    try:
        database = make_database(spec)
    except OSError as exc:
        raise DatabaseUnavailable(f"{where} ne peut pas être créée : {storage_reason(exc)}.") from exc
    db.initialize(database)
    try:
        database.connect(reuse_if_open=True)
        database.execute_sql("SELECT count(*) FROM sqlite_master").fetchone()  # reads the header and schema
        migrate(database, desk_code)
    except (peewee.DatabaseError, OSError) as exc:
        if not database.is_closed():
            database.close()
        raise DatabaseUnavailable(f"{where} ne peut pas être ouverte : {storage_reason(exc, path)}. "
                                  "Rien n'y a été écrit.") from exc
    return database


def schema_version_at(spec: str | os.PathLike, *, password: str | None = None) -> int | None:
    """The schema version of the database at `spec`, read on a connection of its own (the
    desk's, bound to the models, is left alone), for « Tester la connexion »: 0 for a database
    without the desk's tables yet, None for a SQLite file that does not exist (neither is
    created here). Raises DatabaseUnavailable (French, no password) when it cannot be read."""
    from .migrations import SCHEMA_TABLE

    text = os.fspath(spec)
    if is_postgres(text):
        database = make_database(text, password=password)
        try:
            database.connect()
        except peewee.OperationalError as exc:
            raise DatabaseUnavailable(
                f"Le serveur de base de données {public_url(text)} ne répond pas ou refuse la connexion : "
                f"vérifiez qu'il est démarré, son adresse et l'identifiant. ({_first_line(exc)})"
            ) from exc
        try:
            if not database.table_exists(SCHEMA_TABLE):
                return 0
            return database.execute_sql(f'SELECT MAX("version") FROM "{SCHEMA_TABLE}"').fetchone()[0] or 0
        except (peewee.DatabaseError, DatabaseUnavailable) as exc:
            raise DatabaseUnavailable(f"La base de données {public_url(text)} ne peut pas être lue : "
                                      f"{_first_line(exc)}") from exc
        finally:
            database.close()
    import sqlite3

    path = Path(text[len("sqlite:///"):] if text.startswith("sqlite:///") else text).expanduser()
    where = f"La base de données {path}"
    if path.is_dir():
        raise DatabaseUnavailable(f"{where} est un dossier : donnez le chemin d'un fichier.")
    if not path.exists():
        return None
    try:
        # read-only, and never a journal mode or a schema change: the desk itself may have it open
        conn = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True, timeout=5)
    except sqlite3.Error as exc:
        raise DatabaseUnavailable(f"{where} ne peut pas être ouverte : {storage_reason(_as_peewee(exc), path)}.") from exc
    try:
        found = conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?",
                             (SCHEMA_TABLE,)).fetchone()
        if not found:
            return 0
        return conn.execute(f'SELECT MAX("version") FROM "{SCHEMA_TABLE}"').fetchone()[0] or 0
    except sqlite3.Error as exc:
        raise DatabaseUnavailable(f"{where} ne peut pas être lue : {storage_reason(_as_peewee(exc), path)}.") from exc
    finally:
        conn.close()


def _as_peewee(exc: BaseException) -> peewee.DatabaseError:
    """A sqlite3 error as peewee would raise it, for storage_reason."""
    return peewee.DatabaseError(str(exc))


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
