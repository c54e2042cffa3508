"""The desk's vocabulary: plain dataclasses and the contract's money rules.

No I/O here. Amounts are `Decimal` from the XML to the screen, never `float`;
dates are timezone-aware `datetime`. Every rule of shared/maelis-contract.md
about what an invoice's figures mean lives in this module, and only here.

Each dataclass converts to and from a JSON-friendly dict (`to_json` /
`from_json`) so the cache can keep the contract data whole.
"""

from __future__ import annotations

import enum
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from decimal import Decimal
from typing import Any

ZERO = Decimal("0")
_APOSTROPHES = re.compile("['\u2019]")
_NAME_SEPARATORS = re.compile("[\\s'\u2019-]+")
CENT = Decimal("0.01")


#: The largest figure the desk takes from Maelis: ten million euros less a
#: cent. No régie invoice comes near it; anything above is a broken answer,
#: and the bound keeps every figure inside what Decimal formatting, integer
#: cents and the database columns hold.
MAX_AMOUNT = Decimal("9999999.99")


def to_cents(amount: Decimal) -> int:
    """A sum of money as whole cents (how the desk's book stores it); refuses fractions of a cent."""
    cents = amount * 100
    if cents != cents.to_integral_value():
        raise ValueError(f"amount {amount} has fractions of a cent")
    return int(cents)


def from_cents(cents: int) -> Decimal:
    return (Decimal(cents) / 100).quantize(CENT)


def amount_problem(value: Decimal, *, places: int = 2, signed: bool = False) -> str | None:
    """Why `value` is no figure a régie can hold, in French; None when it is one.

    An amount has at most `places` decimals (two: cents; `12.050` is fine,
    `12.055` is not), is finite, is not negative unless `signed`, and stays
    within ±MAX_AMOUNT. Rounding `12.055` or showing a negative amount paid
    would present as Maelis' truth a figure Maelis cannot mean."""
    if not isinstance(value, Decimal) or not value.is_finite():
        return "n'est pas un nombre"
    if value < 0 and not signed:
        return f"est négatif ({value})"
    if abs(value) > MAX_AMOUNT:
        return f"dépasse tout montant possible ({len(str(abs(value.to_integral_value())))} chiffres)"
    if value != value.quantize(Decimal(1).scaleb(-places)):
        return f"a plus de {places} décimales ({value})"
    return None


def invoice_problem(invoice: "Invoice") -> str | None:
    """The first figure of an invoice that is no régie amount, as « field: why »; None if all are."""
    for name, value in (("amountInvoice", invoice.amount), ("amountPaid", invoice.paid),
                        ("amountPaidTG", invoice.paid_treasury)):
        problem = amount_problem(value)
        if problem:
            return f"{name} {problem}"
    return None


def _dt(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


# --- people ------------------------------------------------------------------


@dataclass(frozen=True)
class Address:
    street1: str
    zipcode: str
    town: str
    num: str | None = None

    def one_line(self) -> str:
        street = f"{self.num} {self.street1}" if self.num else self.street1
        return f"{street}, {self.zipcode} {self.town}"


@dataclass(frozen=True)
class Contact:
    phone: str | None = None
    mobile: str | None = None
    mail: str | None = None


@dataclass(frozen=True)
class Person:
    num: int
    lastname: str
    firstname: str
    civility: str | None = None
    birth: datetime | None = None
    address: Address | None = None
    contact: Contact | None = None

    @property
    def full_name(self) -> str:
        return f"{self.lastname} {self.firstname}".strip()

    def to_json(self) -> dict[str, Any]:
        return {
            "num": self.num,
            "lastname": self.lastname,
            "firstname": self.firstname,
            "civility": self.civility,
            "birth": _iso(self.birth),
            "address": vars(self.address).copy() if self.address else None,
            "contact": vars(self.contact).copy() if self.contact else None,
        }

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Person:
        return cls(
            num=d["num"],
            lastname=d["lastname"],
            firstname=d["firstname"],
            civility=d.get("civility"),
            birth=_dt(d.get("birth")),
            address=Address(**d["address"]) if d.get("address") else None,
            contact=Contact(**d["contact"]) if d.get("contact") else None,
        )


@dataclass(frozen=True)
class Child:
    num: int
    lastname: str
    firstname: str
    sex: str | None = None
    birth: datetime | None = None

    @property
    def full_name(self) -> str:
        return f"{self.lastname} {self.firstname}".strip()

    def to_json(self) -> dict[str, Any]:
        return {
            "num": self.num,
            "lastname": self.lastname,
            "firstname": self.firstname,
            "sex": self.sex,
            "birth": _iso(self.birth),
        }

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Child:
        return cls(d["num"], d["lastname"], d["firstname"], d.get("sex"), _dt(d.get("birth")))


@dataclass(frozen=True)
class Family:
    """A household's dossier (DUI). `complete` is False for a search summary,
    which lacks the category and situation that only readFamily gives."""

    number: int
    rl1: Person
    rl2: Person | None = None
    children: tuple[Child, ...] = ()
    category: str | None = None
    situation: str | None = None
    complete: bool = True

    @property
    def guardians(self) -> tuple[Person, ...]:
        return (self.rl1, self.rl2) if self.rl2 else (self.rl1,)

    @property
    def guardian_names(self) -> str:
        return " et ".join(p.full_name for p in self.guardians)

    @property
    def children_names(self) -> str:
        """The children's first names; with the last name too for a child who
        does not bear a guardian's (a search for « Dupont » that finds LUCAS
        Camille must show why: « Maïa DUPONT-MOREAU »)."""
        family_names = {p.lastname.casefold() for p in self.guardians}
        return ", ".join(c.firstname if not c.lastname or c.lastname.casefold() in family_names
                         else f"{c.firstname} {c.lastname}" for c in self.children)

    def to_json(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "category": self.category,
            "situation": self.situation,
            "rl1": self.rl1.to_json(),
            "rl2": self.rl2.to_json() if self.rl2 else None,
            "children": [c.to_json() for c in self.children],
            "complete": self.complete,
        }

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Family:
        return cls(
            number=d["number"],
            category=d.get("category"),
            situation=d.get("situation"),
            rl1=Person.from_json(d["rl1"]),
            rl2=Person.from_json(d["rl2"]) if d.get("rl2") else None,
            children=tuple(Child.from_json(c) for c in d.get("children", ())),
            complete=d.get("complete", True),
        )

    def summary_json(self) -> list:
        """What a search result shows (number, guardians, children), compact:
        the offline search decodes fifty of these per keystroke."""
        return [
            self.number,
            [[p.num, p.lastname, p.firstname] for p in self.guardians],
            [[c.num, c.lastname, c.firstname] for c in self.children],
        ]

    @classmethod
    def from_summary(cls, summary: list) -> Family:
        number, guardians, children = summary
        people = [Person(*g) for g in guardians]
        return cls(
            number=number,
            rl1=people[0],
            rl2=people[1] if len(people) > 1 else None,
            children=tuple(Child(*c) for c in children),
            complete=False,
        )

    def search_words(self) -> set[str]:
        """Every word the offline search may match (normalised by the store)."""
        words = {str(self.number)}
        for p in (*self.guardians, *self.children):
            for name in (p.lastname, p.firstname):
                words.update(w for w in _NAME_SEPARATORS.split(name) if w)  # N'DIAYE-LEFÈVRE → N, DIAYE, LEFÈVRE
                no_apostrophe = _APOSTROPHES.sub("", name)
                words.update(w for w in re.split(r"[\s-]+", no_apostrophe) if w)  # NDIAYE: typed without it
                words.add(_NAME_SEPARATORS.sub("", name))  # NDIAYELEFÈVRE
        return words


# --- régies and invoices -----------------------------------------------------


@dataclass(frozen=True)
class Regie:
    code: int
    label: str


class InvoiceStatus(str, enum.Enum):
    """Where an invoice stands. Values are those of the CLI's `--json`."""

    TO_PAY = "to_pay"  # remaining > 0, not transmitted: the régie takes payment
    PENDING = "pending"  # paid at this desk, transmission to Maelis not confirmed yet
    PAID = "paid"  # nothing remains
    TRANSMITTED = "transmitted"  # sent to the public treasury: pay there

    @property
    def label_fr(self) -> str:
        return {
            "to_pay": "À payer",
            "pending": "Payée, transmission en attente",
            "paid": "Payée",
            "transmitted": "Transmise au Trésor public",
        }[self.value]


class PaymentState(str, enum.Enum):
    """Where a payment taken at the desk stands on its way to Maelis (the
    outbox's state machine, see services/transmission.py). Values are those
    stored in the database and printed by the CLI's `--json`."""

    PENDING = "pending"  # recorded, not sent yet (or to be sent again)
    SENDING = "sending"  # the request may be leaving right now
    UNCERTAIN = "uncertain"  # the request left, its answer was lost: to reconcile
    SENT = "sent"  # acknowledged by Maelis, not yet seen in its invoices
    CONFIRMED = "confirmed"  # Maelis shows it: done
    REJECTED = "rejected"  # Maelis refused it (business fault): a person decides
    REVIEW = "review"  # the desk cannot tell whether it was applied: a supervisor checks
    #: no acknowledgement, but Maelis' paid amounts grew by exactly its amount:
    #: very likely applied, yet the same amount paid elsewhere looks the same (a supervisor checks)
    MATCHED = "matched"
    CANCELLED = "cancelled"  # cancelled by a régisseur: never sent again (services/cancellations.py)

    @property
    def label_fr(self) -> str:
        return _PAYMENT_STATE_LABELS[self]

    @property
    def is_confirmed(self) -> bool:
        return self is PaymentState.CONFIRMED

    @property
    def is_waiting(self) -> bool:
        """The transmitter still works on it by itself (not confirmed, nobody needed)."""
        return self in (PaymentState.PENDING, PaymentState.SENDING, PaymentState.UNCERTAIN, PaymentState.SENT)

    @property
    def not_acknowledged(self) -> bool:
        """Waiting, and Maelis has not acknowledged it yet: still to be sent (or its lost
        answer checked) by the transmitter, at the next start if the desk is closed."""
        return self.is_waiting and self is not PaymentState.SENT

    @property
    def needs_person(self) -> bool:
        """Stuck until a cashier or a supervisor decides (never retried by itself)."""
        return self in (PaymentState.REJECTED, PaymentState.REVIEW, PaymentState.MATCHED)

    @property
    def in_outbox(self) -> bool:
        """Shown by the outbox views: everything Maelis has not confirmed, but cancelled payments."""
        return not self.is_confirmed and self is not PaymentState.CANCELLED

    @property
    def counts_as_paid(self) -> bool:
        """The money was taken and Maelis may yet show it: the desk shows the
        invoices as paid (pending) meanwhile. A rejected payment was not applied."""
        return self.is_waiting or self is PaymentState.REVIEW

    @classmethod
    def waiting(cls) -> tuple[PaymentState, ...]:
        return tuple(s for s in cls if s.is_waiting)

    @classmethod
    def needing_person(cls) -> tuple[PaymentState, ...]:
        return tuple(s for s in cls if s.needs_person)

    @classmethod
    def outbox(cls) -> tuple[PaymentState, ...]:
        return tuple(s for s in cls if s.in_outbox)

    @classmethod
    def paid_not_confirmed(cls) -> tuple[PaymentState, ...]:
        return tuple(s for s in cls if s.counts_as_paid)


_PAYMENT_STATE_LABELS = {
    PaymentState.PENDING: "En attente d'envoi",
    PaymentState.SENDING: "Envoi en cours",
    PaymentState.UNCERTAIN: "Réponse perdue : vérification en cours",
    PaymentState.SENT: "Envoyé, confirmation attendue",
    PaymentState.CONFIRMED: "Confirmé par Maelis",
    PaymentState.REJECTED: "Refusé par Maelis",
    PaymentState.REVIEW: "À vérifier par un superviseur",
    PaymentState.MATCHED: "Constaté dans Maelis sans accusé : à vérifier",
    PaymentState.CANCELLED: "Annulé",
}


# --- a payment's history (store.models.Attempt, one row a step) -----------------------

class Confirmation(str, enum.Enum):
    """How the desk came to hold a payment as applied in Maelis: the one thing a
    supervisor must never confuse (issue 8 point 3)."""

    ACKNOWLEDGED = "acknowledged"  # Maelis acknowledged the call, then showed the payment
    INFERRED = "inferred"  # no acknowledgement: the paid amounts grew by its amount (could be another payment)
    VERIFIED = "verified"  # a person who looked in Maelis said it was applied

    @property
    def label_fr(self) -> str:
        return _CONFIRMATION_LABELS[self]


_CONFIRMATION_LABELS = {
    Confirmation.ACKNOWLEDGED: "accusé de réception de Maelis",
    Confirmation.INFERRED: "déduit des montants seuls, sans accusé de Maelis : à vérifier",
    Confirmation.VERIFIED: "vérifié dans Maelis par une personne",
}

#: (action, outcome) of a step, as its history says it; the actions are written by
#: store.payments (record), services.transmission and store.cancellations
_STEP_LABELS = {
    ("record", "pending"): "Paiement enregistré au poste",
    ("baseline", "retry"): "Lecture de Maelis avant l'envoi impossible : rien n'est parti, à réessayer",
    ("send", "sending"): "Envoi à Maelis",
    ("send", "sent"): "Accusé de réception de Maelis",
    ("send", "rejected"): "Refusé par Maelis",
    ("send", "retry"): "Envoi impossible : rien n'est parti, à réessayer",
    ("send", "uncertain"): "Réponse de Maelis perdue : le paiement a pu être appliqué",
    ("recover", "uncertain"): "Envoi interrompu (arrêt du poste ?) : le paiement a pu partir",
    ("reconcile", "retry"): "Vérification dans Maelis impossible : à réessayer",
    ("reconcile", "not-yet"): "Pas encore visible dans Maelis",
    ("reconcile", "matched"): "Montant constaté dans Maelis SANS accusé de réception : "
                              "à vérifier (il peut venir d'un autre paiement)",
    ("reconcile", "unseen"): "Toujours pas visible dans Maelis : à vérifier",
    ("reconcile", "review"): "Montants incohérents dans Maelis : à vérifier",
    ("resolve", "applied"): "Vérifié par une personne : appliqué dans Maelis",
    ("resolve", "resend"): "Vérifié par une personne : non appliqué, à renvoyer",
    ("confirm", "retry"): "Lecture de Maelis impossible : confirmation à réessayer",
    ("confirm", "not-yet"): "Accusé, pas encore visible dans Maelis",
    ("confirm", "confirmed"): "Confirmé : Maelis montre le paiement accusé",
    ("cancel", "cancelled"): "Annulé",
}


@dataclass(frozen=True)
class PaymentStep:
    """One step of a payment's life: when, on which desk (its code), what, and why."""

    at: datetime
    desk_code: str
    action: str
    outcome: str
    detail: str | None = None

    @property
    def label_fr(self) -> str:
        return _STEP_LABELS.get((self.action, self.outcome), f"{self.action} : {self.outcome}")

    @property
    def needs_check(self) -> bool:
        """A step a supervisor must look at (an inference, a doubt, a refusal)."""
        return (self.action, self.outcome) in (("reconcile", "matched"), ("reconcile", "unseen"),
                                               ("reconcile", "review"), ("send", "rejected"))


def confirmation_of(steps: Sequence[PaymentStep]) -> Confirmation | None:
    """How the payment whose steps these are was taken as applied; None while it is not.

    The last step that decided it counts: a person's check outranks an inference it
    checked; an acknowledgement followed by Maelis showing the payment is the only
    confirmation the desk makes by itself."""
    how = None
    for step in steps:
        pair = (step.action, step.outcome)
        if pair == ("reconcile", "matched"):
            how = Confirmation.INFERRED
        elif pair == ("resolve", "applied"):
            how = Confirmation.VERIFIED
        elif pair == ("confirm", "confirmed"):
            how = Confirmation.ACKNOWLEDGED
        elif pair in (("resolve", "resend"), ("send", "sending")):
            how = None  # sent again: what came before no longer decides
    return how


# --- desks -----------------------------------------------------------------------

#: A desk's code: a few capitals and digits, unique among the desks of a régie;
#: recorded on every payment it takes.
DESK_CODE_MAX = 8
_DESK_CODE = re.compile(f"[A-Z0-9]{{1,{DESK_CODE_MAX}}}")


def desk_code_problem(code: str) -> str | None:
    """Why `code` cannot be a desk's code, in French; None when it can."""
    if not _DESK_CODE.fullmatch(code):
        return (f"le code du poste « {code} » doit faire de 1 à {DESK_CODE_MAX} caractères, "
                "lettres majuscules sans accent et chiffres (par exemple A, C2, ACCUEIL)")
    return None


# --- where a desk's database is ------------------------------------------------------

#: A database setting that is a PostgreSQL URL rather than a SQLite path.
POSTGRES_SCHEMES = ("postgresql://", "postgres://")
POSTGRES_PORT = 5432


def is_postgres_url(spec) -> bool:
    return str(spec).startswith(POSTGRES_SCHEMES)


def split_database_password(spec: str) -> tuple[str, str | None]:
    """A database URL without its password, and the password (None when it has none).

    `postgresql://caisse:MOT@serveur/base` → (`postgresql://caisse@serveur/base`, `MOT`); a path
    is returned as it is. The first is what may be shown, logged or written to a file."""
    from urllib.parse import unquote, urlsplit, urlunsplit

    text = str(spec)
    if "://" not in text:
        return text, None
    parts = urlsplit(text)
    if parts.password is None:
        return text, None
    host = parts.hostname or ""
    if ":" in host:  # IPv6
        host = f"[{host}]"
    netloc = f"{parts.username}@{host}" if parts.username else host
    if parts.port:
        netloc += f":{parts.port}"
    return urlunsplit(parts._replace(netloc=netloc)), unquote(parts.password)


@dataclass(frozen=True)
class PostgresPlace:
    """A PostgreSQL database as the settings dialog shows it: server, port, base, user."""

    host: str
    port: int = POSTGRES_PORT
    base: str = ""
    user: str = ""

    @property
    def url(self) -> str:
        """`postgresql://user@host:port/base`, never with a password."""
        from urllib.parse import quote

        host = f"[{self.host}]" if ":" in self.host else self.host
        user = f"{quote(self.user, safe='')}@" if self.user else ""
        return f"postgresql://{user}{host}:{self.port}/{quote(self.base, safe='')}"

    @classmethod
    def from_url(cls, url: str) -> "PostgresPlace | None":
        """The parts of a postgresql:// URL (its password left out); None for anything else."""
        from urllib.parse import unquote, urlsplit

        if not is_postgres_url(url):
            return None
        parts = urlsplit(url)
        try:
            port = parts.port or POSTGRES_PORT
        except ValueError:
            port = POSTGRES_PORT
        return cls(host=parts.hostname or "", port=port, base=unquote(parts.path.lstrip("/")),
                   user=unquote(parts.username or ""))


@dataclass(frozen=True)
class ReceiptNumber:
    """A receipt (quittance) number: « 102-2026-A-000001 », the régie, the year, the
    code of the desk that took it and its place in the régie's sequence for that
    year. Numbers from before desk codes (« 102-2026-000001 ») have no code."""

    regie: int
    year: int
    desk_code: str | None
    seq: int

    def __str__(self) -> str:
        code = f"{self.desk_code}-" if self.desk_code else ""
        return f"{self.regie}-{self.year}-{code}{self.seq:06d}"


_RECEIPT = re.compile(r"(\d+)-(\d{4})-(?:([A-Z0-9]{1,%d})-)?(\d+)" % DESK_CODE_MAX)


def receipt_number(regie: int, year: int, desk_code: str, seq: int) -> str:
    """The number printed on a new receipt."""
    return str(ReceiptNumber(regie, year, desk_code, seq))


def parse_receipt(text: str) -> ReceiptNumber | None:
    """A receipt number as typed (spaces, lower case, an unpadded sequence accepted), either
    form; None when it is none."""
    match = _RECEIPT.fullmatch(text.strip().upper().replace(" ", ""))
    if match is None:
        return None
    regie, year, code, seq = match.groups()
    return ReceiptNumber(int(regie), int(year), code, int(seq))


def desk_code_from(name: str) -> str:
    """A desk's default code, from its name (the host name): its first label,
    upper-cased, letters and digits only; a long one keeps its first four and
    last four characters, where host names of one site usually differ
    (« mairie-caisse-01 » → MAIRSE01). Set the code when two desks' names would
    give the same one."""
    import unicodedata

    label = name.split(".")[0]
    plain = unicodedata.normalize("NFKD", label).encode("ascii", "ignore").decode().upper()
    code = "".join(c for c in plain if c.isascii() and c.isalnum()) or "POSTE"
    return code if len(code) <= DESK_CODE_MAX else code[:4] + code[-4:]


@dataclass(frozen=True)
class InvoiceLine:
    number: int
    label: str
    quantity: Decimal
    unit_price: Decimal
    amount: Decimal
    person_num: int | None = None
    person_name: str | None = None
    start: datetime | None = None
    end: datetime | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "label": self.label,
            "quantity": str(self.quantity),
            "unit_price": str(self.unit_price),
            "amount": str(self.amount),
            "person_num": self.person_num,
            "person_name": self.person_name,
            "start": _iso(self.start),
            "end": _iso(self.end),
        }

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> InvoiceLine:
        return cls(
            number=d["number"],
            label=d["label"],
            quantity=Decimal(d["quantity"]),
            unit_price=Decimal(d["unit_price"]),
            amount=Decimal(d["amount"]),
            person_num=d.get("person_num"),
            person_name=d.get("person_name"),
            start=_dt(d.get("start")),
            end=_dt(d.get("end")),
        )


class LazyLines(Sequence):
    """An invoice's lines kept as JSON text until someone looks at them.

    Tables and totals never need the lines, the detail pane does: reading a
    family from the cache decodes only what is shown (see store.cache)."""

    __slots__ = ("_raw", "_lines")

    def __init__(self, raw: str):
        self._raw = raw
        self._lines: tuple[InvoiceLine, ...] | None = None

    def _decoded(self) -> tuple[InvoiceLine, ...]:
        if self._lines is None:
            self._lines = tuple(InvoiceLine.from_json(x) for x in json.loads(self._raw))
        return self._lines

    def __getitem__(self, index):
        return self._decoded()[index]

    def __len__(self) -> int:
        return len(self._decoded())

    def __eq__(self, other) -> bool:
        return isinstance(other, (tuple, LazyLines)) and tuple(self) == tuple(other)

    def __hash__(self) -> int:
        return hash(self._decoded())

    def __repr__(self) -> str:
        return repr(self._decoded())


@dataclass(frozen=True)
class Invoice:
    """One invoice as Maelis describes it (InvoiceBean), plus, when the desk
    took money for it that Maelis does not reflect yet, `pending_paid`."""

    regie: Regie
    number: int  # numInvoice, unique within a régie
    id: str  # idInvoice, the printed number
    label: str
    family: int
    payer_name: str
    date: datetime
    deadline: datetime
    amount: Decimal
    paid: Decimal
    paid_treasury: Decimal = ZERO
    transmitted_at: datetime | None = None
    payer: Person | None = None
    lines: tuple[InvoiceLine, ...] = ()
    pending_paid: Decimal = ZERO  # recorded at the desk, not yet reflected by Maelis

    # -- the contract's money rules --------------------------------------------

    @property
    def remaining_in_maelis(self) -> Decimal:
        """remaining = amountInvoice - amountPaid - amountPaidTG, as Maelis sees it."""
        return self.amount - self.paid - self.paid_treasury

    @property
    def remaining(self) -> Decimal:
        """What is left to pay, counting the desk's payments not yet reflected."""
        return max(ZERO, self.remaining_in_maelis - self.pending_paid)

    @property
    def paid_total(self) -> Decimal:
        """Paid at the régies, including the desk's pending payments."""
        return self.paid + self.pending_paid

    @property
    def paid_everywhere(self) -> Decimal:
        """Everything paid on it: at the régies (with the desk's pending payments) and at the
        public treasury, so that amount = paid everywhere + remaining for an invoice not overpaid."""
        return self.paid_total + self.paid_treasury

    @property
    def is_transmitted(self) -> bool:
        return self.transmitted_at is not None

    @property
    def to_pay_at_regie(self) -> bool:
        """The régie may take payment: something remains and it was not transmitted."""
        return self.remaining > 0 and not self.is_transmitted

    @property
    def status(self) -> InvoiceStatus:
        if self.pending_paid > 0:
            return InvoiceStatus.PENDING
        if self.remaining <= 0:
            return InvoiceStatus.PAID
        if self.is_transmitted:
            return InvoiceStatus.TRANSMITTED
        return InvoiceStatus.TO_PAY

    @property
    def is_history(self) -> bool:
        """Everything not to pay at the régie is history (paid or transmitted)."""
        return not self.to_pay_at_regie

    def is_overdue(self, today: date) -> bool:
        """Past its deadline, the deadline read as a date of the desk's time zone."""
        from .formatting import local

        return self.to_pay_at_regie and local(self.deadline).date() < today

    @property
    def refusal_reason(self) -> str | None:
        """Why the régie may not take payment for this invoice, in French; None if it may."""
        if self.is_transmitted and self.remaining > 0:
            from .formatting import fr_date  # pure formatting, no I/O

            return (
                f"Facture transmise au Trésor public le {fr_date(self.transmitted_at)} : "
                "la famille doit la régler auprès du Trésor public."
            )
        if self.remaining <= 0:
            return "Facture déjà soldée."
        return None

    def with_pending(self, amount: Decimal) -> Invoice:
        return replace(self, pending_paid=amount)

    # -- JSON (the cache) -------------------------------------------------------

    def to_json(self) -> dict[str, Any]:
        return {
            "regie": self.regie.code,
            "regie_label": self.regie.label,
            "number": self.number,
            "id": self.id,
            "label": self.label,
            "family": self.family,
            "payer_name": self.payer_name,
            "date": _iso(self.date),
            "deadline": _iso(self.deadline),
            "amount": str(self.amount),
            "paid": str(self.paid),
            "paid_treasury": str(self.paid_treasury),
            "transmitted_at": _iso(self.transmitted_at),
            "payer": self.payer.to_json() if self.payer else None,
            "lines": [line.to_json() for line in self.lines],
        }

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Invoice:
        return cls(
            regie=Regie(d["regie"], d["regie_label"]),
            number=d["number"],
            id=d["id"],
            label=d["label"],
            family=d["family"],
            payer_name=d["payer_name"],
            date=datetime.fromisoformat(d["date"]),
            deadline=datetime.fromisoformat(d["deadline"]),
            amount=Decimal(d["amount"]),
            paid=Decimal(d["paid"]),
            paid_treasury=Decimal(d["paid_treasury"]),
            transmitted_at=_dt(d.get("transmitted_at")),
            payer=Person.from_json(d["payer"]) if d.get("payer") else None,
            lines=(LazyLines(d["lines"]) if isinstance(d.get("lines"), str)
                   else tuple(InvoiceLine.from_json(x) for x in d.get("lines", ()))),
        )


def total_due(invoices: list[Invoice] | tuple[Invoice, ...]) -> Decimal:
    """What the family owes at the régie(s) for these invoices."""
    return sum((i.remaining for i in invoices if i.to_pay_at_regie), ZERO)


@dataclass(frozen=True)
class Freshness:
    """Where shown data comes from: Maelis just now, or the cache (and since when)."""

    source: str  # "maelis" or "cache"
    fetched_at: datetime | None  # when it was read from Maelis; None: never read
    error: str | None = None  # why Maelis was not used, in French

    @property
    def from_cache(self) -> bool:
        return self.source == "cache"


@dataclass
class RegieInvoices:
    """One régie's invoices for one family, with their freshness."""

    regie: Regie
    invoices: list[Invoice] = field(default_factory=list)
    freshness: Freshness = field(default_factory=lambda: Freshness("cache", None))
    failure: Exception | None = field(default=None, compare=False, repr=False)  # why Maelis was not used

    @property
    def to_pay(self) -> list[Invoice]:
        return [i for i in self.invoices if i.to_pay_at_regie]

    @property
    def history(self) -> list[Invoice]:
        return [i for i in self.invoices if i.is_history]

    @property
    def due(self) -> Decimal:
        return total_due(self.invoices)


# --- who is at the counter: operators, their roles and what each may do -------


class Action(str, enum.Enum):
    """What a person at the desk may ask of it; the services check each one."""

    READ = "read"  # families, invoices, histories (every role, offline too)
    TAKE_PAYMENT = "take_payment"
    PRINT_RECEIPT = "print_receipt"  # print and reprint (a cashier: their own payments)
    SEE_OWN_PAYMENTS = "see_own_payments"
    SEE_ALL_PAYMENTS = "see_all_payments"
    TRANSMIT = "transmit"  # send the outbox to Maelis now
    CANCEL_PAYMENT = "cancel_payment"
    REGULARIZE = "regularize"  # mark a cancelled payment done in Maelis
    RESOLVE_TRANSMISSION = "resolve_transmission"  # say, after checking Maelis, whether a payment in doubt was applied
    MANAGE_OPERATORS = "manage_operators"
    SEE_OPERATORS = "see_operators"
    CHANGE_SETTINGS = "change_settings"
    SEE_JOURNAL = "see_journal"
    MANAGE_DOCKETS = "manage_dockets"  # prepare, validate or discard a docket (bordereau): money leaves the régie
    SEE_DOCKETS = "see_dockets"  # the dockets, their exports and the monthly statement


class Role(str, enum.Enum):
    CAISSIER = "caissier"
    REGISSEUR = "regisseur"
    SUPERVISEUR = "superviseur"

    @property
    def label_fr(self) -> str:
        return {"caissier": "Caissier", "regisseur": "Régisseur", "superviseur": "Superviseur (consultation)"}[
            self.value
        ]

    def can(self, action: Action) -> bool:
        return action in ROLE_ACTIONS[self]


_CASHIER = {Action.READ, Action.TAKE_PAYMENT, Action.PRINT_RECEIPT, Action.SEE_OWN_PAYMENTS, Action.TRANSMIT}
ROLE_ACTIONS: dict[Role, frozenset[Action]] = {
    Role.CAISSIER: frozenset(_CASHIER),
    # the régisseur does everything
    Role.REGISSEUR: frozenset(Action),
    # consultation: reads everything, never takes or changes money
    Role.SUPERVISEUR: frozenset({Action.READ, Action.SEE_OWN_PAYMENTS, Action.SEE_ALL_PAYMENTS,
                                 Action.SEE_OPERATORS, Action.SEE_JOURNAL, Action.SEE_DOCKETS}),
}


@dataclass(frozen=True)
class Operator:
    """A person at the counter. `implicit`: the one-person desk's operator, used
    while no account exists (named after the settings' operator, régisseur)."""

    login: str
    full_name: str
    role: Role
    active: bool = True
    implicit: bool = False

    def can(self, action: Action) -> bool:
        return self.active and self.role.can(action)

    @property
    def label(self) -> str:
        return f"{self.full_name} ({self.role.label_fr.lower()})"
