"""Versioned schema migrations, all in this one module.

`MIGRATIONS` lists the steps in order; the database remembers the last one
applied (`schema_version`). A step runs inside a transaction and is never
edited once released: change the schema by appending a step (with
playhouse.migrate operations for altered tables).
"""

from __future__ import annotations

import json
import logging
import socket
from datetime import datetime, timezone

import peewee
from playhouse import migrate as pw_migrate

from ..domain import desk_code_from
from . import models

log = logging.getLogger(__name__)


def _add_column(database: peewee.Database, model, name: str) -> None:
    """Add a model's column unless the table already has it (it does when the
    table was created by a later step from the current models)."""
    table = model._meta.table_name
    if name in {c.name for c in database.get_columns(table)}:
        return
    field = model._meta.fields[name]
    pw_migrate.migrate(pw_migrate.SchemaMigrator.from_database(database).add_column(table, field.column_name, field))


def _v1_cache(database: peewee.Database) -> None:
    """The invoice cache: régies, families and their search words, invoices."""
    database.create_tables(models.CACHE_MODELS)


def _v2_payments(database: peewee.Database) -> None:
    """Payments taken at the desk, their receipts counters, the outbox, the attempts."""
    database.create_tables(models.PAYMENT_MODELS)


def _v3_list_to_pay(database: peewee.Database) -> None:
    """How many invoices of a list are to pay, for the scheduled refresh."""
    _add_column(database, models.InvoiceList, "to_pay")
    database.execute_sql(
        'CREATE INDEX IF NOT EXISTS "invoice_list_fetched_at" ON "invoice_list" ("fetched_at")'
    )


def _v4_family_summary(database: peewee.Database) -> None:
    """A compact summary per family, so that the offline search decodes little."""
    _add_column(database, models.Family, "summary")
    from ..domain import Family

    for number, data in database.execute_sql('SELECT "number", "data" FROM "family" WHERE "summary" IS NULL'):
        family = Family.from_json(json.loads(data) if isinstance(data, str) else data)
        models.Family.update(summary=json.dumps(family.summary_json(), ensure_ascii=False)).where(
            models.Family.number == number
        ).execute()


def _v5_word_index(database: peewee.Database) -> None:
    """Search words indexed by (family, word), for queries of several words."""
    database.execute_sql('DROP INDEX IF EXISTS "family_word_family"')
    database.execute_sql('CREATE INDEX IF NOT EXISTS "family_word_family_word" ON "family_word" ("family", "word")')


def _v6_cash_day(database: peewee.Database) -> None:
    """The régie's day: cash sessions, movements, closes, dockets; each payment's session."""
    from .day import DAY_MODELS

    _add_column(database, models.Payment, "session")
    database.execute_sql('CREATE INDEX IF NOT EXISTS "payment_session" ON "payment" ("session")')
    database.create_tables(DAY_MODELS)


def _v7_sync_progress(database: peewee.Database) -> None:
    """The scheduled refresh: per list its invoice count, newest invoice date and
    a digest of its figures (filled from the cached invoices); the passes, whose
    progress survives a crash."""
    for name in ("invoices", "last_invoice", "digest"):
        _add_column(database, models.InvoiceList, name)
    database.execute_sql('CREATE INDEX IF NOT EXISTS "invoice_list_regie_checked_at" '
                         'ON "invoice_list" ("regie", "checked_at")')
    database.create_tables([models.SyncPass])
    from ..domain import Invoice
    from .fields import utc_text
    from .sync import list_facts

    by_list: dict[tuple[int, int], list] = {}
    for family, regie, data in database.execute_sql('SELECT "family", "regie", "data" FROM "invoice"'):
        by_list.setdefault((family, regie), []).append(
            Invoice.from_json(json.loads(data) if isinstance(data, str) else data))
    p = database.param
    sql = (f'UPDATE "invoice_list" SET "invoices" = {p}, "last_invoice" = {p}, "digest" = {p} '
           f'WHERE "family" = {p} AND "regie" = {p}')
    rows = []
    for (family, regie), invoices in by_list.items():
        count, last, digest = list_facts(invoices)
        rows.append((count, utc_text(last) if last else None, digest, family, regie))
    if rows:
        database.cursor().executemany(sql, rows)


def _v8_operators_journal(database: peewee.Database) -> None:
    """Operators, cancellations and the chained journal; payments name their operator's account."""
    database.create_tables(models.AUDIT_MODELS)
    _add_column(database, models.Payment, "operator_login")
    database.execute_sql('CREATE INDEX IF NOT EXISTS "payment_operator_login" ON "payment" ("operator_login")')
    # Payments taken before the journal existed enter it as they are now.
    from . import journal
    from .payments import payment_facts

    now = datetime.now(timezone.utc)
    outbox = {o.payment: getattr(o.state, "value", o.state)
              for o in models.Outbox.select(models.Outbox.payment, models.Outbox.state)}
    for p in models.Payment.select().order_by(models.Payment.created_at, models.Payment.receipt):
        journal.append("payment.recorded", at=p.created_at, desk=p.desk, payment=p.id, receipt=p.receipt,
                       amount_cents=p.amount_cents, data={**payment_facts(p), "taken_before_journal": True})
        if outbox.get(p.id, "pending") != "pending":
            journal.append("payment.state", at=now, desk=p.desk, payment=p.id, receipt=p.receipt,
                           amount_cents=p.amount_cents, data={"from": "pending", "to": outbox[p.id],
                                                              "action": "migration", "outcome": outbox[p.id]})


def _v9_desk_code(database: peewee.Database, desk_code: str) -> None:
    """Each payment names the code of the desk that took it. The payments taken
    before get this desk's: until now each desk had its own database."""
    table = models.Payment._meta.table_name
    if "desk_code" in {c.name for c in database.get_columns(table)}:
        return
    field = peewee.CharField(max_length=8, default=desk_code)
    pw_migrate.migrate(pw_migrate.SchemaMigrator.from_database(database).add_column(table, "desk_code", field))


def _v10_request_id(database: peewee.Database) -> None:
    """Payments keep their caller's idempotency key, unique when given (NULL for the others)."""
    _add_column(database, models.Payment, "request_id")
    database.execute_sql('CREATE UNIQUE INDEX IF NOT EXISTS "payment_request_id" ON "payment" ("request_id")')


def _v11_desk_claims(database: peewee.Database, desk_code: str) -> None:
    """Desk codes claimed by one settings folder each, and cash sessions keyed by
    the desk's code instead of the machine's name (two desks of one machine
    shared one session). A session takes the code of its payments, else the
    code its machine's name gives (domain.desk_code_from)."""
    from .day import CashSession

    database.create_tables(models.DESK_MODELS)
    codes = {}
    for row in models.Payment.select(models.Payment.session, models.Payment.desk_code).where(
            models.Payment.session.is_null(False)):
        codes.setdefault(row.session, row.desk_code)
    for session in CashSession.select():
        code = codes.get(session.id) or desk_code_from(session.desk)
        CashSession.update(desk=code, open_desk=code if session.open_desk is not None else None).where(
            CashSession.id == session.id).execute()


# A new database gets the current models' tables at once and LATEST as its
# version (Vorta's way); an existing one runs the steps above its version.
# Steps create tables from the current models, so a step that adds a column
# must tolerate a table that already has it (`_add_column`).
MIGRATIONS: list[tuple[int, str, object]] = [
    (1, "invoice cache", _v1_cache),
    (2, "payments and outbox", _v2_payments),
    (3, "invoice lists: to_pay", _v3_list_to_pay),
    (4, "families: search summary", _v4_family_summary),
    (5, "search words: (family, word) index", _v5_word_index),
    (6, "cash sessions and dockets", _v6_cash_day),
    (7, "scheduled refresh: list facts and passes", _v7_sync_progress),
    (8, "operators, cancellations, journal", _v8_operators_journal),
    (9, "payments: the desk's code", _v9_desk_code),
    (10, "payments: idempotency key", _v10_request_id),
    (11, "desk codes claimed, cash sessions by desk code", _v11_desk_claims),
]

LATEST = MIGRATIONS[-1][0]


# The advisory lock's key on PostgreSQL: any 64-bit number, the same for every desk.
MIGRATION_LOCK = 0x4D61656C69734431  # "MaelisD1"


SCHEMA_TABLE = models.SchemaVersion._meta.table_name


class SchemaTooNew(RuntimeError):
    pass


def too_new(version: int) -> str:
    """Why a desk refuses a database whose schema is newer than it knows, in French."""
    return (f"La base de données (version {version}) vient d'une version plus récente "
            f"de Maelis Desk (qui connaît la version {LATEST}) : mettez le poste à jour.")


def current_version(database: peewee.Database) -> int:
    if not database.table_exists(models.SchemaVersion._meta.table_name):
        return 0
    row = models.SchemaVersion.select(peewee.fn.MAX(models.SchemaVersion.version)).scalar()
    return row or 0


def migrate(database: peewee.Database, desk_code: str | None = None) -> int:
    """Apply the missing steps; return the schema version reached. `desk_code`:
    this desk's, for the steps that need it (default: derived from the host name)."""
    if desk_code is None:
        desk_code = desk_code_from(socket.gethostname())
    # Two desks starting at once migrate one after the other. SQLite: the write
    # lock taken at BEGIN (IMMEDIATE). PostgreSQL: a transaction-scoped advisory
    # lock (released at COMMIT or ROLLBACK, also when the desk dies), taken
    # before the version is read; DDL is transactional there, so a step that
    # fails leaves nothing half-made.
    sqlite = isinstance(database, peewee.SqliteDatabase)
    with database.atomic(**({"lock_type": "IMMEDIATE"} if sqlite else {})):
        if not sqlite:
            database.execute_sql("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK,))
        version = current_version(database)
        if version > LATEST:
            raise SchemaTooNew(too_new(version))
        if version == 0 and not database.table_exists(models.InvoiceList._meta.table_name):
            from .day import DAY_MODELS

            database.create_tables(models.CACHE_MODELS + models.PAYMENT_MODELS + DAY_MODELS + models.AUDIT_MODELS
                                   + models.DESK_MODELS)
            now = datetime.now(timezone.utc)
            for number, _name, _step in MIGRATIONS:  # the history says every version is there
                models.SchemaVersion.create(version=number, applied_at=now)
            return LATEST
        for number, name, step in MIGRATIONS:
            if number <= version:
                continue
            log.info("Database migration %d: %s", number, name)
            step(database, desk_code) if step in (_v9_desk_code, _v11_desk_claims) else step(database)
            models.SchemaVersion.create(version=number, applied_at=datetime.now(timezone.utc))
            version = number
    return version
