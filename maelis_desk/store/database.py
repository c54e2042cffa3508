"""Opening the desk's database: a path (SQLite, the default) or a database URL.

`sqlite:///path`, `postgresql://user@host/db`... go through playhouse.db_url,
so PostgreSQL needs no change in the code above this module. A SQLite file is
created readable by its owner only, in WAL mode, with full fsync on commit:
a recorded payment must survive a power cut.
"""

from __future__ import annotations

import os
from pathlib import Path

import peewee
from playhouse.db_url import connect

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


def release_connection() -> None:
    """Close this thread's connection, if any: for short-lived threads, so that
    no connection outlives the thread that opened it."""
    if db.obj is not None and not db.is_closed():
        db.close()


def make_database(spec: str | os.PathLike) -> peewee.Database:
    """A peewee Database for a path or URL, not yet bound to the models."""
    text = os.fspath(spec)
    if "://" in text:
        if text.startswith("sqlite:///"):
            _private_file(Path(text[len("sqlite:///"):]))
            return connect(text, pragmas=SQLITE_PRAGMAS, lock_type=SQLITE_LOCK)
        return connect(text)
    path = Path(text).expanduser()
    _private_file(path)
    return peewee.SqliteDatabase(str(path), pragmas=SQLITE_PRAGMAS, lock_type=SQLITE_LOCK)


def open_database(spec: str | os.PathLike) -> peewee.Database:
    """Bind the models to the database at `spec` and bring its schema up to date."""
    from .migrations import migrate

    database = make_database(spec)
    db.initialize(database)
    database.connect(reuse_if_open=True)
    migrate(database)
    return database
