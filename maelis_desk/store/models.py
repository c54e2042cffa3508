"""The cache's tables. Only the store package touches them.

Each invoice keeps its whole contract data as JSON (`data`), keyed by
(régie, number); `InvoiceList` remembers when a family's list in a régie was
read, also when it was empty, so "nothing owed" is a cached answer too.
"""

from __future__ import annotations

import peewee

from ..domain import PaymentState
from .database import db
from .fields import AwareDateTimeField, EnumField, JSONTextField


class BaseModel(peewee.Model):
    class Meta:
        database = db
        legacy_table_names = False


class SchemaVersion(BaseModel):
    version = peewee.IntegerField()
    applied_at = AwareDateTimeField()


class Setting(BaseModel):
    """Small facts kept by the store: when the régies were read, etc."""

    key = peewee.CharField(primary_key=True, max_length=64)
    value = JSONTextField()


class Regie(BaseModel):
    code = peewee.IntegerField(primary_key=True)
    label = peewee.CharField(max_length=200)
    position = peewee.IntegerField(default=0)


class Family(BaseModel):
    number = peewee.IntegerField(primary_key=True)
    data = JSONTextField()  # domain.Family.to_json()
    summary = peewee.TextField(null=True)  # JSON of domain.Family.summary_json(): what search results show
    complete = peewee.BooleanField(default=False)  # read with readFamily, not only a search summary
    fetched_at = AwareDateTimeField()
    opened_at = AwareDateTimeField(null=True)  # last time a desk opened it


class FamilyWord(BaseModel):
    """Normalised words (names, number) for the offline search: prefix ranges."""

    word = peewee.CharField(max_length=64)
    family = peewee.IntegerField()

    class Meta:
        primary_key = peewee.CompositeKey("word", "family")
        # (family, word): the other words of a query are checked by an index seek
        indexes = ((("family", "word"), False),)


class InvoiceList(BaseModel):
    family = peewee.IntegerField()
    regie = peewee.IntegerField()
    fetched_at = AwareDateTimeField(index=True)
    checked_at = AwareDateTimeField(null=True)  # last attempt, successful or not
    to_pay = peewee.IntegerField(default=0)  # invoices to pay at the régie: they change most
    # for the scheduled refresh (schema version 7): how many invoices, the
    # newest one's date (a régie's billing shows there), and a digest of the
    # figures that change (a re-read that changed nothing is told apart)
    invoices = peewee.IntegerField(default=0)
    last_invoice = AwareDateTimeField(null=True)
    digest = peewee.CharField(max_length=16, null=True)

    class Meta:
        primary_key = peewee.CompositeKey("family", "regie")
        indexes = ((("regie", "checked_at"), False),)


class Invoice(BaseModel):
    regie = peewee.IntegerField()
    number = peewee.IntegerField()
    family = peewee.IntegerField()
    data = JSONTextField()  # domain.Invoice.to_json()

    class Meta:
        primary_key = peewee.CompositeKey("regie", "number")
        indexes = ((("family", "regie"), False),)


class SyncPass(BaseModel):
    """One pass of the scheduled refresh (schema version 7), kept so that a pass
    killed halfway resumes where it was: a list is done in this pass when its
    `checked_at` is at or after the pass' `started_at`."""

    started_at = AwareDateTimeField()
    finished_at = AwareDateTimeField(null=True)
    opened_since = AwareDateTimeField()  # families opened since then are re-read whole
    baseline = JSONTextField()  # {régie code: newest invoice date known at the start, or None}
    probes = JSONTextField()  # [[family, régie], ...]: read first, they show which régies billed
    sweeps = JSONTextField()  # [régie code, ...]: régies seen billing: all their lists are re-read
    rotation = peewee.IntegerField(null=True)  # lists the slow rotation may still take in this pass
    calls = peewee.IntegerField(default=0)
    refreshed = peewee.IntegerField(default=0)
    changed = peewee.IntegerField(default=0)
    failed = peewee.IntegerField(default=0)  # business faults (family gone...): marked checked
    stops = peewee.IntegerField(default=0)  # consecutive stops because Maelis was unwell
    pause_until = AwareDateTimeField(null=True)
    last_error = peewee.TextField(null=True)


CACHE_MODELS = [SchemaVersion, Setting, Regie, Family, FamilyWord, InvoiceList, Invoice, SyncPass]


# --- payments (schema version 2) -------------------------------------------------


class Payment(BaseModel):
    """A payment taken at a desk: the receipt's facts, never changed once written."""

    id = peewee.CharField(primary_key=True, max_length=36)  # uuid4
    receipt = peewee.CharField(unique=True, max_length=32)  # "102-2026-A-000123" (domain.ReceiptNumber)
    regie = peewee.IntegerField()
    regie_label = peewee.CharField(max_length=200)
    family = peewee.IntegerField()
    payer_name = peewee.CharField(max_length=200)
    amount_cents = peewee.BigIntegerField()
    mode = peewee.CharField(max_length=16)
    details = JSONTextField()  # mode-specific: cheque number, bank, drawer, card ref, cash given...
    invoices = JSONTextField()  # [{number, id, label, share, expected_paid}], in the order sent
    operator = peewee.CharField(max_length=100)  # the name printed on the receipt
    desk = peewee.CharField(max_length=100)
    desk_code = peewee.CharField(max_length=8)  # the desk's code (domain.desk_code_problem; schema 9)
    created_at = AwareDateTimeField()
    session = peewee.IntegerField(null=True, index=True)  # the cash session it was taken in (store/day.py)
    operator_login = peewee.CharField(max_length=64, null=True, index=True)  # the account (schema 7)
    # The caller's idempotency key (`pay --request-id`, schema 10): a second
    # recording with the same key answers this payment instead (store/payments.py).
    request_id = peewee.CharField(max_length=100, null=True, unique=True)

    class Meta:
        indexes = ((("family", "regie"), False),)


class ReceiptCounter(BaseModel):
    """Gap-free receipt numbers per régie and year (shared by the desks of one
    database; each desk's code is in the number too); its row also locks the régie
    while a payment is recorded (SQLite and PostgreSQL alike)."""

    regie = peewee.IntegerField()
    year = peewee.IntegerField()
    last = peewee.IntegerField(default=0)

    class Meta:
        primary_key = peewee.CompositeKey("regie", "year")


class Outbox(BaseModel):
    """A payment's journey to Maelis (see services/transmission.py)."""

    payment = peewee.CharField(primary_key=True, max_length=36)
    family = peewee.IntegerField()
    regie = peewee.IntegerField()
    state = EnumField(PaymentState, max_length=16, index=True)
    attempts = peewee.IntegerField(default=0)
    next_attempt_at = AwareDateTimeField()
    lease_owner = peewee.CharField(max_length=100, null=True)
    lease_until = AwareDateTimeField(null=True)
    baseline = JSONTextField(null=True)  # {invoice number: amountPaid read just before sending}
    sent_at = AwareDateTimeField(null=True)  # when the last payInvoices left
    ack = peewee.TextField(null=True)
    last_error = peewee.TextField(null=True)
    updated_at = AwareDateTimeField()

    class Meta:
        indexes = ((("family", "regie"), False),)


class Attempt(BaseModel):
    """Every step of every transmission, for the supervisor and the audit."""

    payment = peewee.CharField(max_length=36, index=True)
    at = AwareDateTimeField()
    desk = peewee.CharField(max_length=100)
    action = peewee.CharField(max_length=32)  # send, reconcile, confirm, recover
    outcome = peewee.CharField(max_length=32)
    detail = peewee.TextField(null=True)


PAYMENT_MODELS = [Payment, ReceiptCounter, Outbox, Attempt]


# --- operators, cancellations, the journal (schema version 7) -----------------------


class Operator(BaseModel):
    """A desk account; never deleted (the journal and the payments name it)."""

    login = peewee.CharField(primary_key=True, max_length=64)
    full_name = peewee.CharField(max_length=200)
    role = peewee.CharField(max_length=16)  # domain.Role
    active = peewee.BooleanField(default=True)
    password_hash = peewee.CharField(max_length=255)  # Argon2id, argon2-cffi's encoded form
    created_at = AwareDateTimeField()
    updated_at = AwareDateTimeField()


class Cancellation(BaseModel):
    """A payment cancelled by a régisseur; the payment itself stays as written.

    `status`: waiting (its send was in flight: settled by the transmitter's next
    step), cancelled (never applied in Maelis: nothing else to do),
    to_regularize (applied in Maelis, which cannot cancel: to correct there),
    regularized (a régisseur said it was corrected in Maelis)."""

    payment = peewee.CharField(primary_key=True, max_length=36)
    reason = peewee.CharField(max_length=16)
    comment = peewee.TextField(null=True)
    operator_login = peewee.CharField(max_length=64)
    operator_name = peewee.CharField(max_length=200)
    at = AwareDateTimeField()
    state_before = peewee.CharField(max_length=16)  # the outbox's state when asked
    status = peewee.CharField(max_length=16, index=True)
    settled_at = AwareDateTimeField(null=True)
    regularized_at = AwareDateTimeField(null=True)
    regularized_by = peewee.CharField(max_length=64, null=True)
    regularized_note = peewee.TextField(null=True)


class JournalEntry(BaseModel):
    """One event touching money, chained by SHA-256; appended, never changed."""

    seq = peewee.BigIntegerField(primary_key=True)  # 1, 2, 3... without gaps
    at = AwareDateTimeField()
    kind = peewee.CharField(max_length=48)
    operator = peewee.CharField(max_length=64, null=True)  # login; None: the desk itself
    desk = peewee.CharField(max_length=100)
    payment = peewee.CharField(max_length=36, null=True, index=True)
    receipt = peewee.CharField(max_length=32, null=True)
    amount_cents = peewee.BigIntegerField(null=True)
    data = peewee.TextField()  # canonical JSON of the event's facts
    prev_hash = peewee.CharField(max_length=64)
    hash = peewee.CharField(max_length=64)


class JournalHead(BaseModel):
    """The journal's last entry, one row: updating it first serialises appends
    across desks (its row lock on PostgreSQL, the write lock on SQLite)."""

    id = peewee.IntegerField(primary_key=True)
    seq = peewee.BigIntegerField(default=0)
    hash = peewee.CharField(max_length=64)


AUDIT_MODELS = [Operator, Cancellation, JournalEntry, JournalHead]


class DeskClaim(BaseModel):
    """Which desk holds a desk code in this database: the settings folder
    (MAELIS_DESK_HOME, its `desk-id` file) that claimed it, and when it was
    last opened. Two desks of one machine are two folders, so two claims."""

    code = peewee.CharField(max_length=8, primary_key=True)
    home_id = peewee.CharField(max_length=64)
    name = peewee.CharField(max_length=100)  # the machine's name
    home = peewee.CharField(max_length=500)  # the folder, for the message of a refusal
    seen_at = AwareDateTimeField()


DESK_MODELS = [DeskClaim]
