"""The contract server's own small data set, written for the checks of issue 8
(not derived from the desk's simulator).

Families
--------
1312  SIMPSON: unpaid invoices of 2021, 2022 and 2023 in two régies, one partly
      paid, one partly paid at the treasury (amountPaidTG), one transmitted to
      the treasury (dateTransmissionPES: history, not payable), paid ones.
4242  DUPONT-LAJOIE: 130 monthly invoices in régie 102 since 2013 (the last
      ones unpaid) and 4 in régie 105: a history longer than 100.
5100  MARTIN: three unpaid invoices, for the payment checks.
6000  ÉLÉONORE: a family with no invoice at all.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from decimal import Decimal

CET = timezone(timedelta(hours=1))
CEST = timezone(timedelta(hours=2))

REGIES = {
    102: "CANTINE / CLAE",
    105: "SPORTS ET LOISIRS",
    109: "CONSERVATOIRE",
}


def _at(year: int, month: int, day: int) -> datetime:
    """Midnight in Paris, with the offset of the season (as Maelis writes dates)."""
    tz = CEST if 4 <= month <= 10 else CET
    return datetime(year, month, day, tzinfo=tz)


@dataclass
class Person:
    num: int
    lastname: str
    firstname: str
    civility: str | None = None
    birth: datetime | None = None
    street: str | None = None


@dataclass
class Family:
    number: int
    rl1: Person
    rl2: Person | None = None
    children: list[Person] = field(default_factory=list)
    category: str | None = None
    situation: str | None = None


@dataclass
class Line:
    num: int
    label: str
    quantity: Decimal
    unit_price: Decimal
    amount: Decimal
    person: Person | None = None


@dataclass
class Invoice:
    num: int
    regie: int
    family: int
    label: str
    name: str
    date: datetime
    amount: Decimal
    paid: Decimal = Decimal("0")
    paid_tg: Decimal | None = None  # None: the element is left out (contract: absent means 0)
    pes: datetime | None = None
    lines: list[Line] = field(default_factory=list)
    #: how amounts are written in the answer, e.g. "12.5" rather than "12.50" (both xs:decimal)
    text: dict[str, str] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return f"F{self.regie}{self.num:08d}"

    @property
    def deadline(self) -> datetime:
        day = self.date + timedelta(days=35)
        return _at(day.year, day.month, day.day)

    @property
    def remaining(self) -> Decimal:
        return self.amount - self.paid - (self.paid_tg or Decimal("0"))


def build() -> tuple[dict[int, Family], dict[tuple[int, int], Invoice]]:
    """Families by number, invoices by (régie, numInvoice). A fresh copy on each call."""
    marge = Person(261480, "SIMPSON", "Marge", "MME", _at(1980, 3, 19), "742 avenue Evergreen")
    homer = Person(261481, "SIMPSON", "Homer", "M.", _at(1978, 5, 12))
    bart = Person(261483, "SIMPSON", "Bart", birth=_at(2013, 4, 1))
    lisa = Person(261484, "SIMPSON", "Lisa", birth=_at(2015, 5, 9))
    jean = Person(300100, "DUPONT-LAJOIE", "Jean", "M.", street="3 rue des Lilas")
    zoe = Person(300102, "DUPONT-LAJOIE", "Zoé", birth=_at(2011, 9, 2))
    paul = Person(510000, "MARTIN", "Paul", "M.", street="12 allée Jean Jaurès")
    lea = Person(510002, "MARTIN", "Léa", birth=_at(2016, 1, 20))
    emilie = Person(600000, "ÉLÉONORE", "Émilie", "MME")
    families = {
        1312: Family(1312, marge, homer, [bart, lisa], category="BI", situation="MARI"),
        4242: Family(4242, jean, None, [zoe]),
        5100: Family(5100, paul, None, [lea], category="MONO"),
        6000: Family(6000, emilie),
    }
    invoices: dict[tuple[int, int], Invoice] = {}

    def add(inv: Invoice) -> None:
        invoices[(inv.regie, inv.num)] = inv

    def meals(person: Person, n: int, price: str) -> list[Line]:
        total = Decimal(price) * n
        return [Line(1, "Repas cantine", Decimal(n), Decimal(price), total, person)]

    # 1312 SIMPSON — unpaid debts of every age, plus history
    add(Invoice(8, 102, 1312, "CLAE JANVIER 2023", "SIMPSON MARGE", _at(2023, 2, 24), Decimal("28.98"),
                lines=meals(bart, 7, "4.14")))
    add(Invoice(3, 102, 1312, "CLAE SEPTEMBRE 2021", "SIMPSON MARGE", _at(2021, 10, 5), Decimal("31.05"),
                lines=meals(bart, 15, "2.07")))
    add(Invoice(5, 102, 1312, "CLAE MARS 2022", "SIMPSON MARGE", _at(2022, 4, 6), Decimal("41.40"),
                paid=Decimal("20"), lines=meals(lisa, 10, "4.14"), text={"amountPaid": "20"}))
    add(Invoice(6, 102, 1312, "CLAE OCTOBRE 2022", "SIMPSON MARGE", _at(2022, 11, 4), Decimal("33.12"),
                pes=_at(2023, 1, 15), lines=meals(bart, 8, "4.14")))  # unpaid, transmitted: treasury
    add(Invoice(9, 102, 1312, "CLAE MARS 2023", "SIMPSON MARGE", _at(2023, 4, 3), Decimal("12.5"),
                paid=Decimal("12.5"), text={"amountInvoice": "12.5", "amountPaid": "12.50"}))  # paid
    add(Invoice(11, 102, 1312, "CLAE MAI 2023", "SIMPSON MARGE", _at(2023, 6, 2), Decimal("45.54"),
                paid=Decimal("0"), paid_tg=Decimal("15.54"), lines=meals(lisa, 11, "4.14")))
    add(Invoice(21, 109, 1312, "CONSERVATOIRE 2020-2021 T2", "SIMPSON HOMER", _at(2021, 1, 12),
                Decimal("96.00"), lines=[Line(1, "Piano", Decimal("1"), Decimal("96.00"), Decimal("96.00"), lisa)]))
    add(Invoice(22, 109, 1312, "CONSERVATOIRE 2022-2023 T1", "SIMPSON HOMER", _at(2022, 12, 1),
                Decimal("96.00"), paid=Decimal("96.00")))

    # 4242 DUPONT-LAJOIE — 130 monthly invoices in 102 (2013-01 .. 2023-10), the last five unpaid
    for k in range(130):
        year, month = 2013 + k // 12, 1 + k % 12
        amount = Decimal("20.70") + Decimal(k % 7)
        unpaid = k >= 125
        add(Invoice(1000 + k, 102, 4242, f"CLAE {month:02d}/{year}", "DUPONT-LAJOIE JEAN", _at(year, month, 28),
                    amount, paid=Decimal("0") if unpaid else amount, lines=meals(zoe, 5, str(amount / 5))))
    for k, (year, amount) in enumerate([(2020, "60.00"), (2021, "60.00"), (2022, "65.00"), (2023, "65.00")]):
        add(Invoice(2000 + k, 105, 4242, f"ÉCOLE DES SPORTS {year}", "DUPONT-LAJOIE JEAN", _at(year, 9, 30),
                    Decimal(amount), paid=Decimal(amount) if year < 2023 else Decimal("0")))

    # 5100 MARTIN — for the payment checks
    add(Invoice(3001, 105, 5100, "STAGE TOUSSAINT 2022", "MARTIN PAUL", _at(2022, 11, 10), Decimal("40.00")))
    add(Invoice(3002, 105, 5100, "STAGE HIVER 2023", "MARTIN PAUL", _at(2023, 2, 27), Decimal("25.50")))
    add(Invoice(3003, 102, 5100, "CLAE JUIN 2021", "MARTIN PAUL", _at(2021, 7, 2), Decimal("18.63"),
                lines=meals(lea, 9, "2.07")))
    return families, invoices
