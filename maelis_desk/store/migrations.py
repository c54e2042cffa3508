"""Versioned schema migrations, all in this one module.

`MIGRATIONS` lists the steps in order; the database remembers the last one
applied (`schema_version`). A step runs inside a transaction and is never
edited once released: change the schema by appending a step (with
playhouse.migrate operations for altered tables).
"""

from __future__ import annotations

import logging
from datetime import datetime, timezone

import peewee

from . import models

log = logging.getLogger(__name__)


def _v1_cache(database: peewee.Database) -> None:
    """The invoice cache: régies, families and their search words, invoices."""
    database.create_tables(models.CACHE_MODELS)


def _v2_payments(database: peewee.Database) -> None:
    """Payments taken at the desk, their receipts counters, the outbox, the attempts."""
    database.create_tables(models.PAYMENT_MODELS)


MIGRATIONS: list[tuple[int, str, object]] = [
    (1, "invoice cache", _v1_cache),
    (2, "payments and outbox", _v2_payments),
]

LATEST = MIGRATIONS[-1][0]


class SchemaTooNew(RuntimeError):
    pass


def current_version(database: peewee.Database) -> int:
    if not database.table_exists(models.SchemaVersion._meta.table_name):
        return 0
    row = models.SchemaVersion.select(peewee.fn.MAX(models.SchemaVersion.version)).scalar()
    return row or 0


def migrate(database: peewee.Database) -> int:
    """Apply the missing steps; return the schema version reached."""
    # IMMEDIATE: two desks starting at once on one SQLite file migrate one after the other.
    lock = {"lock_type": "IMMEDIATE"} if isinstance(database, peewee.SqliteDatabase) else {}
    with database.atomic(**lock):
        version = current_version(database)
        if version > LATEST:
            raise SchemaTooNew(
                f"La base de données (version {version}) vient d'une version plus récente "
                f"de Maelis Desk (qui connaît la version {LATEST}) : mettez le poste à jour."
            )
        for number, name, step in MIGRATIONS:
            if number <= version:
                continue
            log.info("Database migration %d: %s", number, name)
            step(database)
            models.SchemaVersion.create(version=number, applied_at=datetime.now(timezone.utc))
            version = number
    return version
