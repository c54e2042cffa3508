"""The journal: every event that touches money, chained by SHA-256, append-only.

`append(kind, ...)` is the one way in. Call it **inside the transaction that
makes the change** (a payment recorded, a state changed, a cancellation, an
operator created, a cash session closed...): the event and the change commit
or vanish together. It opens a nested `db.atomic()`, so it also works alone.

Each entry carries `prev_hash`, the SHA-256 of the entry before it (64 zeros
for the first), and `hash`, the SHA-256 of its own content *with* prev_hash:
changing, removing, inserting or reordering entries breaks the chain at that
place. Appends are serialised by updating the one `journal_head` row first
(a row lock on PostgreSQL, the write lock on SQLite), which also remembers the
last entry, so removing entries at the end shows too.

Nothing in the desk ever updates or deletes an entry: this module has no
function for it. `verify()` (services/journal.py adds the payments' check)
recomputes the chain from the rows as they are in the database.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Iterator

from .database import db
from .fields import utc_text
from .models import JournalEntry, JournalHead

GENESIS = "0" * 64
_HEAD = 1


def canonical(value: Any) -> str:
    """The one text form hashed: sorted keys, no spaces, UTF-8 kept."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def entry_hash(*, seq: int, at: str, kind: str, operator: str | None, desk: str, payment: str | None,
               receipt: str | None, amount_cents: int | None, data: str, prev_hash: str) -> str:
    content = canonical({
        "seq": seq, "at": at, "kind": kind, "operator": operator, "desk": desk, "payment": payment,
        "receipt": receipt, "amount_cents": amount_cents, "data": data, "prev": prev_hash,
    })
    return hashlib.sha256(content.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class JournalRecord:
    seq: int
    at: datetime
    kind: str
    operator: str | None
    desk: str
    payment: str | None
    receipt: str | None
    amount_cents: int | None
    data: dict[str, Any]
    prev_hash: str
    hash: str


def _record(row: JournalEntry) -> JournalRecord:
    try:
        data = json.loads(row.data)
    except (TypeError, ValueError):
        data = {"illisible": row.data}
    return JournalRecord(row.seq, row.at, row.kind, row.operator, row.desk, row.payment, row.receipt,
                         row.amount_cents, data, row.prev_hash, row.hash)


def append(kind: str, *, at: datetime, desk: str, operator: str | None = None, payment: str | None = None,
           receipt: str | None = None, amount_cents: int | None = None,
           data: dict[str, Any] | None = None) -> JournalRecord:
    """Append one event to the journal, inside the caller's transaction.

    `kind`: what happened, dotted (`payment.recorded`, `payment.state`,
    `payment.cancelled`, `operator.created`, `session.closed`...); `operator`:
    the login acting (None for the desk's own work, e.g. the transmitter);
    `data`: the event's facts, JSON-serialisable (amounts as text or cents)."""
    text = canonical(data or {})
    at_text = utc_text(at)
    with db.atomic():
        JournalHead.insert(id=_HEAD, seq=0, hash=GENESIS).on_conflict_ignore().execute()
        # Taking the head's row first: concurrent appends wait here, one after the other.
        JournalHead.update(seq=JournalHead.seq + 1).where(JournalHead.id == _HEAD).execute()
        head = JournalHead.get_by_id(_HEAD)
        seq, prev = head.seq, head.hash
        digest = entry_hash(seq=seq, at=at_text, kind=kind, operator=operator, desk=desk, payment=payment,
                            receipt=receipt, amount_cents=amount_cents, data=text, prev_hash=prev)
        JournalEntry.insert(seq=seq, at=at, kind=kind, operator=operator, desk=desk, payment=payment,
                            receipt=receipt, amount_cents=amount_cents, data=text, prev_hash=prev,
                            hash=digest).execute()
        JournalHead.update(hash=digest).where(JournalHead.id == _HEAD).execute()
    return JournalRecord(seq, at, kind, operator, desk, payment, receipt, amount_cents, data or {}, prev, digest)


def entries(*, since: datetime | None = None, payment: str | None = None,
            kinds: tuple[str, ...] | None = None) -> list[JournalRecord]:
    query = JournalEntry.select().order_by(JournalEntry.seq)
    if since is not None:
        query = query.where(JournalEntry.at >= since)
    if payment is not None:
        query = query.where(JournalEntry.payment == payment)
    if kinds:
        query = query.where(JournalEntry.kind.in_(list(kinds)))
    return [_record(row) for row in query]


def head() -> tuple[int, str]:
    row = JournalHead.get_or_none(JournalHead.id == _HEAD)
    return (0, GENESIS) if row is None else (row.seq, row.hash)


@dataclass(frozen=True)
class Break:
    """Where the chain does not hold: the entry's number (seq) and why, in French."""

    seq: int
    message: str


@dataclass
class ChainReport:
    count: int = 0
    last_seq: int = 0
    last_hash: str = GENESIS
    breaks: list[Break] = field(default_factory=list)

    @property
    def intact(self) -> bool:
        return not self.breaks


def _raw_rows() -> Iterator[tuple]:
    """The rows as stored (the text hashed), in the order of their numbers."""
    cursor = db.execute_sql(
        'SELECT "seq", "at", "kind", "operator", "desk", "payment", "receipt", "amount_cents", "data", '
        '"prev_hash", "hash" FROM "journal_entry" ORDER BY "seq"'
    )
    yield from cursor


def verify_chain() -> ChainReport:
    """Recompute the chain from the stored rows; every place it breaks, in order."""
    report = ChainReport()
    expected_seq, prev = 1, GENESIS
    for seq, at, kind, operator, desk, payment, receipt, amount_cents, data, prev_hash, digest in _raw_rows():
        report.count += 1
        seq = int(seq)
        if seq != expected_seq:
            if seq > expected_seq:
                missing = (f"n° {expected_seq}" if seq == expected_seq + 1
                           else f"n° {expected_seq} à {seq - 1}")
                report.breaks.append(Break(expected_seq, f"entrée {missing} absente (supprimée ?)"))
            else:  # pragma: no cover - seq is the primary key, ordered
                report.breaks.append(Break(seq, f"entrée n° {seq} en double"))
        if prev_hash != prev:
            report.breaks.append(Break(seq, f"entrée n° {seq} : ne suit pas l'entrée qui la précède "
                                            "(insérée, déplacée, ou la précédente a été changée)"))
        recomputed = entry_hash(
            seq=seq, at=at, kind=kind, operator=operator, desk=desk, payment=payment, receipt=receipt,
            amount_cents=None if amount_cents is None else int(amount_cents), data=data, prev_hash=prev_hash,
        )
        if recomputed != digest:
            report.breaks.append(Break(seq, f"entrée n° {seq} : son contenu a été modifié "
                                            "(l'empreinte SHA-256 ne correspond plus)"))
        expected_seq, prev = seq + 1, digest
        report.last_seq, report.last_hash = seq, digest
    head_seq, head_hash = head()
    if head_seq != report.last_seq or (head_seq and head_hash != report.last_hash):
        if head_seq > report.last_seq:
            report.breaks.append(Break(report.last_seq + 1, f"entrées n° {report.last_seq + 1} à {head_seq} "
                                                            "absentes (supprimées à la fin du journal ?)"))
        else:
            report.breaks.append(Break(head_seq or 1, f"la tête du journal (n° {head_seq}) ne désigne pas sa "
                                                      f"dernière entrée (n° {report.last_seq})"))
    return report


#: events that move a payment's outbox state: their data's "to"
_STATE_EVENTS = ("payment.state", "payment.cancelled", "payment.cancel_settled")


def verify_payments() -> list[Break]:
    """The payments, their outbox states and their cancellations, as the journal tells them.

    Each payment must have its `payment.recorded` entry with the same facts;
    its outbox's state must be the last one journaled; each cancellation
    must be journaled with the same status; and no journaled payment may be missing."""
    from .models import Cancellation, Outbox, Payment
    from .payments import payment_facts

    recorded: dict[str, JournalRecord] = {}
    state: dict[str, tuple[str, int]] = {}
    cancel_status: dict[str, tuple[str, int]] = {}
    for record in entries(kinds=("payment.recorded", "payment.regularized") + _STATE_EVENTS):
        if record.payment is None:
            continue
        if record.kind == "payment.recorded":
            recorded.setdefault(record.payment, record)
            state[record.payment] = ("pending", record.seq)
            continue
        if "to" in record.data:
            state[record.payment] = (record.data["to"], record.seq)
        if record.kind in ("payment.cancelled", "payment.cancel_settled"):
            cancel_status[record.payment] = (record.data.get("status"), record.seq)
        elif record.kind == "payment.regularized":
            cancel_status[record.payment] = ("regularized", record.seq)
    breaks: list[Break] = []
    seen: set[str] = set()
    outbox = {o.payment: getattr(o.state, "value", o.state) for o in Outbox.select(Outbox.payment, Outbox.state)}
    for p in Payment.select().order_by(Payment.created_at, Payment.receipt):
        seen.add(p.id)
        entry = recorded.get(p.id)
        if entry is None:
            breaks.append(Break(0, f"paiement {p.receipt} : absent du journal (ajouté en base sans passer par le poste ?)"))
            continue
        facts = payment_facts(p)
        told = {k: v for k, v in entry.data.items() if k != "taken_before_journal"}
        if facts != told or entry.amount_cents != p.amount_cents or entry.receipt != p.receipt:
            changed = sorted(k for k in set(facts) | set(told) if facts.get(k) != told.get(k))
            if entry.receipt != p.receipt and "receipt" not in changed:
                changed.append("receipt")
            breaks.append(Break(entry.seq, f"paiement {p.receipt} : diffère de son entrée n° {entry.seq} "
                                           f"({', '.join(changed)} modifié en base)"))
        journaled, at_seq = state.get(p.id, ("pending", entry.seq))
        actual = outbox.get(p.id)
        if actual is None:
            breaks.append(Break(at_seq, f"paiement {p.receipt} : son envoi à Maelis (outbox) a disparu de la base"))
        elif actual != journaled:
            breaks.append(Break(at_seq, f"paiement {p.receipt} : état « {actual} » en base, « {journaled} » "
                                        f"au journal (entrée n° {at_seq})"))
    for payment_id, entry in recorded.items():
        if payment_id not in seen:
            breaks.append(Break(entry.seq, f"paiement {entry.receipt} (entrée n° {entry.seq}) : supprimé de la base"))
    for c in Cancellation.select():
        journaled = cancel_status.get(c.payment)
        if journaled is None:
            breaks.append(Break(0, f"annulation du paiement {c.payment} : absente du journal"))
        elif journaled[0] != c.status:
            breaks.append(Break(journaled[1], f"annulation du paiement {c.payment} : « {c.status} » en base, "
                                              f"« {journaled[0]} » au journal (entrée n° {journaled[1]})"))
    for payment_id, (status, seq) in cancel_status.items():
        if payment_id in seen and Cancellation.get_or_none(Cancellation.payment == payment_id) is None:
            breaks.append(Break(seq, f"annulation du paiement (entrée n° {seq}) : supprimée de la base"))
    return sorted(breaks, key=lambda b: (b.seq == 0, b.seq))
