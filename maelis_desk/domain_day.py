"""The régie's day, as plain data: cash sessions, their movements, the count
of the till by denomination, the close (arrêté de caisse) and the dockets
(bordereaux). No I/O; money in Decimal euros, times aware (UTC).

The rules that need the database (one open session per desk, gap-free
numbers, locked payments) live in services/day.py and store/day.py; the
rules that need only the figures live here, so that the CLI, the UI and the
PDFs compute a difference the same way.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

ZERO = Decimal("0.00")

#: euro notes and coins, largest first, in cents
NOTES = (50000, 20000, 10000, 5000, 2000, 1000, 500)
COINS = (200, 100, 50, 20, 10, 5, 2, 1)
DENOMINATIONS = NOTES + COINS


def denomination_label(cents: int) -> str:
    """`50 €`, `2 €`, `0,50 €`: how a denomination is printed on a count."""
    if cents >= 100:
        return f"{cents // 100}\u00a0€"
    return f"0,{cents:02d}\u00a0€"


class DayError(ValueError):
    """A rule of the day refuses an action; `str()` is the French message, `field` what to fix."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class CashCount:
    """The till counted by denomination: {cents of the note or coin: how many}."""

    pieces: dict[int, int] = field(default_factory=dict)

    def __post_init__(self):
        for value, quantity in self.pieces.items():
            if value not in DENOMINATIONS:
                raise DayError(f"Coupure inconnue : {value / 100:.2f} €.", "count")
            if quantity < 0:
                raise DayError("Le nombre de billets ou de pièces ne peut pas être négatif.", "count")

    @property
    def total(self) -> Decimal:
        return (Decimal(sum(v * q for v, q in self.pieces.items())) / 100).quantize(Decimal("0.01"))

    def to_json(self) -> dict[str, int]:
        return {str(v): q for v, q in sorted(self.pieces.items(), reverse=True) if q}

    @classmethod
    def from_json(cls, data: dict | None) -> "CashCount":
        return cls({int(v): int(q) for v, q in (data or {}).items()})


class MoveReason(str, enum.Enum):
    """Why cash enters or leaves the till outside a payment."""

    APPORT = "apport"  # cash brought in (more change)
    VERSEMENT = "versement"  # cash taken out and handed to the comptable public
    RETRAIT = "retrait"  # another withdrawal, explained by its comment

    @property
    def label_fr(self) -> str:
        return MOVE_LABELS[self]

    @property
    def sign(self) -> int:
        return 1 if self is MoveReason.APPORT else -1


MOVE_LABELS = {
    MoveReason.APPORT: "Apport",
    MoveReason.VERSEMENT: "Retrait pour versement au comptable",
    MoveReason.RETRAIT: "Autre retrait",
}


@dataclass(frozen=True)
class CashMovement:
    id: int
    session: int
    at: datetime
    amount: Decimal  # signed: + into the till, − out of it
    reason: MoveReason
    comment: str
    operator: str


class SessionState(str, enum.Enum):
    OPEN = "open"
    CLOSED = "closed"

    @property
    def label_fr(self) -> str:
        return "ouverte" if self is SessionState.OPEN else "arrêtée"


@dataclass(frozen=True)
class Expected:
    """What the desk expects in the till at the close, from its own records."""

    cash: Decimal  # float + cash payments + movements
    cheques_count: int
    cheques_total: Decimal
    card_total: Decimal
    others: dict[str, Decimal] = field(default_factory=dict)  # virement, cesu, ancv: for information

    def to_json(self) -> dict:
        return {
            "cash": f"{self.cash:.2f}", "cheques_count": self.cheques_count,
            "cheques_total": f"{self.cheques_total:.2f}", "card_total": f"{self.card_total:.2f}",
            "others": {k: f"{v:.2f}" for k, v in self.others.items()},
        }

    @classmethod
    def from_json(cls, d: dict) -> "Expected":
        return cls(Decimal(d["cash"]), int(d["cheques_count"]), Decimal(d["cheques_total"]),
                   Decimal(d["card_total"]), {k: Decimal(v) for k, v in d.get("others", {}).items()})


#: the figures counted at the close, each compared with what was expected
CLOSE_LINES = ("cash", "cheques_count", "cheques_total", "card_total")
CLOSE_LABELS = {
    "cash": "Espèces",
    "cheques_count": "Chèques (nombre)",
    "cheques_total": "Chèques (montant)",
    "card_total": "Carte bancaire (ticket du terminal)",
}


@dataclass(frozen=True)
class Counted:
    """What the régisseur counted: the cash by denomination (or its total
    alone, from the command line), the cheques, the card terminal's total."""

    cash: Decimal
    cheques_count: int
    cheques_total: Decimal
    card_total: Decimal
    cash_count: CashCount | None = None  # by denomination, when counted so

    @classmethod
    def from_count(cls, count: CashCount, cheques_count: int, cheques_total: Decimal, card_total: Decimal) -> "Counted":
        return cls(count.total, cheques_count, cheques_total, card_total, count)

    def to_json(self) -> dict:
        return {
            "cash": f"{self.cash:.2f}", "cheques_count": self.cheques_count,
            "cheques_total": f"{self.cheques_total:.2f}", "card_total": f"{self.card_total:.2f}",
            "cash_count": self.cash_count.to_json() if self.cash_count is not None else None,
        }

    @classmethod
    def from_json(cls, d: dict) -> "Counted":
        count = CashCount.from_json(d["cash_count"]) if d.get("cash_count") is not None else None
        return cls(Decimal(d["cash"]), int(d["cheques_count"]), Decimal(d["cheques_total"]),
                   Decimal(d["card_total"]), count)


def differences(expected: Expected, counted: Counted) -> dict[str, Decimal | int]:
    """Counted minus expected, for each line of the close (0 where they agree)."""
    return {name: getattr(counted, name) - getattr(expected, name) for name in CLOSE_LINES}


def check_close(expected: Expected, counted: Counted, comments: dict[str, str]) -> dict[str, str]:
    """Every difference needs its comment; returns the comments kept (of the lines that differ)."""
    if counted.cash < 0 or counted.cheques_count < 0 or counted.cheques_total < 0 or counted.card_total < 0:
        raise DayError("Un montant compté ne peut pas être négatif.", "counted")
    if counted.cash_count is not None and counted.cash_count.total != counted.cash:
        raise DayError("Le total des espèces ne correspond pas au détail des coupures.", "cash")
    kept = {}
    for name, diff in differences(expected, counted).items():
        if not diff:
            continue
        text = (comments.get(name) or "").strip()
        if not text:
            shown = f"{diff:+d}" if isinstance(diff, int) else f"{diff:+.2f}".replace(".", ",") + "\u00a0€"
            raise DayError(f"Écart sur « {CLOSE_LABELS[name]} » ({shown}) : un commentaire est obligatoire.", name)
        kept[name] = text[:500]
    return kept


@dataclass(frozen=True)
class CashSession:
    id: int
    desk: str
    operator: str  # who opened it
    opened_at: datetime
    float_amount: Decimal
    float_count: CashCount | None
    state: SessionState
    payments_count: int = 0
    closed_at: datetime | None = None
    closed_by: str | None = None
    z_number: int | None = None

    def opened_on(self, tz) -> date:
        return self.opened_at.astimezone(tz).date()

    @property
    def is_open(self) -> bool:
        return self.state is SessionState.OPEN


@dataclass(frozen=True)
class Closing:
    """The close of a session, written once: expected, counted, comments, and
    the snapshot the Z report prints (so that a reprint never changes)."""

    session: int
    z_number: int
    closed_at: datetime
    closed_by: str
    expected: Expected
    counted: Counted
    comments: dict[str, str]
    report: dict  # the Z report's figures, frozen at the close

    @property
    def differences(self) -> dict[str, Decimal | int]:
        return differences(self.expected, self.counted)


class DocketType(str, enum.Enum):
    """A docket gathers the payments of one mode: what leaves the régie together."""

    CHEQUE = "cheque"  # the cheque deposit slip, for the bank
    CESU = "cesu"  # CESU remittance, to the CRCESU
    ANCV = "ancv"  # holiday vouchers, to the ANCV
    ESPECES = "especes"  # cash handed to the comptable public

    @property
    def label_fr(self) -> str:
        return DOCKET_LABELS[self]

    @property
    def mode(self) -> str:
        """The payment mode it gathers (services/payments.Mode value)."""
        return self.value


DOCKET_LABELS = {
    DocketType.CHEQUE: "Bordereau de remise de chèques",
    DocketType.CESU: "Bordereau de remise CESU",
    DocketType.ANCV: "Bordereau de remise de chèques-vacances (ANCV)",
    DocketType.ESPECES: "Bordereau de versement d'espèces au comptable public",
}


class DocketState(str, enum.Enum):
    DRAFT = "draft"
    VALIDATED = "validated"

    @property
    def label_fr(self) -> str:
        return "brouillon" if self is DocketState.DRAFT else "validé"


def docket_number(regie: int, year: int, seq: int) -> str:
    return f"B-{regie}-{year}-{seq:04d}"


@dataclass(frozen=True)
class DocketLine:
    payment: str  # payment id
    receipt: str
    created_at: datetime
    family: int
    payer_name: str
    amount: Decimal
    details: dict  # cheque_number, bank, drawer / reference


@dataclass(frozen=True)
class Docket:
    id: int
    regie: int
    regie_label: str
    type: DocketType
    state: DocketState
    created_at: datetime
    created_by: str
    until: date
    lines: tuple[DocketLine, ...] = ()
    number: str | None = None
    validated_at: datetime | None = None
    validated_by: str | None = None

    @property
    def count(self) -> int:
        return len(self.lines)

    @property
    def total(self) -> Decimal:
        return sum((line.amount for line in self.lines), ZERO)
