"""Deterministic demo data of the demo Maelis: régies, families, invoices.

Everything here is a pure function of ``(seed, families, today)``:

* the seed and the family number (and, for an invoice, the régie and month)
  seed every draw, so two :class:`DemoData` with the same seed give the same
  data and a family never depends on how many others exist;
* ``today`` decides which invoices exist yet (an invoice dated after today is
  not issued) and how far each one got in its life (paid, partly paid, sent to
  the public treasury...).

Nothing is kept for all families but a compact name index (two short strings
per family, about 4 MB for 33,500 families, built in about a second) used by
the name search; a family and its invoices are generated on demand and kept
in small LRU caches.

Realism: households of one or two legal guardians and 0-4 children, French
names with accents, apostrophes and compound names, addresses in Toulouse,
fictional phone numbers (the ARCEP ranges reserved for fiction) and
``example.*`` mail domains. Each family uses 2-5 of the 9 régies, chosen from
its children's ages; each régie bills its own months (the canteen during the
school year, holiday centres in the holidays, the conservatoire each term...)
over the previous and the current school year, at family-quotient prices.

Amounts are :class:`~decimal.Decimal` with two decimals, never floats. Dates
are :class:`datetime.date`; :func:`paris_datetime` turns one into the aware
midnight-in-Paris ``datetime`` Maelis sends.

Payments recorded by the simulator (its ledger) are not known here:
:func:`with_ledger` folds what the ledger applied to an invoice into it.

Invoice numbers encode where the invoice lives: ``numInvoice = family * 1000 +
month`` where ``month`` counts months from January 2000 (the billed month),
unique within a régie since a family gets at most one invoice per régie and
month. The same number may thus exist in several régies (for one family).

Demo family 1312 (the first one) is written by hand so a demo always has the
same story: see :data:`FIRST_FAMILY` and ``_first_family_scenario``.

Two more families, numbered just below it and present whatever ``families``
is, are written by hand so that the demo's data are not all recent (a debt
has no age, Maelis keeps every invoice): :data:`LONG_HISTORY_FAMILY` is
billed by the canteen every month for twelve school years (more than 100
invoices in one régie), :data:`OLD_DEBTS_FAMILY` still owes the régie
invoices three to five years old (see ``_archive_scenario``).
"""

from __future__ import annotations

import hashlib
import random
import unicodedata
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from typing import NamedTuple

__all__ = [
    "CITY",
    "FIRST_FAMILY",
    "LONG_HISTORY_FAMILY",
    "OLD_DEBTS_FAMILY",
    "REGIES",
    "Address",
    "Child",
    "Contact",
    "DemoData",
    "Family",
    "Invoice",
    "Line",
    "Person",
    "Regie",
    "normalize_name",
    "paris_datetime",
    "paris_offset",
    "with_ledger",
]

FIRST_FAMILY = 1312
"""Number of the first demo family; families are numbered upward from it."""

LONG_HISTORY_FAMILY = 1310
"""A family billed by the canteen since twelve school years: 120 invoices and more in régie 102."""

OLD_DEBTS_FAMILY = 1311
"""A family whose only debts at the régies are invoices three to five years old."""

ARCHIVE_FAMILIES = (LONG_HISTORY_FAMILY, OLD_DEBTS_FAMILY)
"""Written by hand, always present, below :data:`FIRST_FAMILY` (search order)."""

#: how many school years back each archive family is billed from
_ARCHIVE_YEARS = {LONG_HISTORY_FAMILY: 12, OLD_DEBTS_FAMILY: 6}

CITY = "TOULOUSE"
CENT = Decimal("0.01")
ZERO = Decimal(0)

MONTHS_FR = (
    "JANVIER", "FÉVRIER", "MARS", "AVRIL", "MAI", "JUIN",
    "JUILLET", "AOÛT", "SEPTEMBRE", "OCTOBRE", "NOVEMBRE", "DÉCEMBRE",
)


# --------------------------------------------------------------------------
# Time: Europe/Paris offsets without depending on the system's tz database.
# --------------------------------------------------------------------------

def _last_sunday(year: int, month: int) -> date:
    day = date(year, month + 1, 1) - timedelta(days=1) if month < 12 else date(year, 12, 31)
    return day - timedelta(days=(day.weekday() - 6) % 7)


def paris_offset(moment: datetime | date) -> timedelta:
    """UTC offset of Paris at a local wall-clock moment (EU rule since 1996).

    Summer time runs from the last Sunday of March, 02:00, to the last Sunday
    of October, 03:00 (local time). A bare ``date`` means its midnight.
    """
    if not isinstance(moment, datetime):
        moment = datetime(moment.year, moment.month, moment.day)
    start = datetime.combine(_last_sunday(moment.year, 3), datetime.min.time()) + timedelta(hours=2)
    end = datetime.combine(_last_sunday(moment.year, 10), datetime.min.time()) + timedelta(hours=3)
    naive = moment.replace(tzinfo=None)
    return timedelta(hours=2) if start <= naive < end else timedelta(hours=1)


def paris_datetime(day: date) -> datetime:
    """Midnight of ``day`` in Paris, as an aware datetime (``+01:00``/``+02:00``)."""
    moment = datetime(day.year, day.month, day.day)
    return moment.replace(tzinfo=timezone(paris_offset(moment)))


def school_year_start(day: date) -> date:
    """1 September of the school year ``day`` is in."""
    return date(day.year if day.month >= 9 else day.year - 1, 9, 1)


def _month_end(year: int, month: int) -> date:
    if month == 12:
        return date(year, 12, 31)
    return date(year, month + 1, 1) - timedelta(days=1)


def _add_months(year: int, month: int, count: int) -> tuple[int, int]:
    index = year * 12 + month - 1 + count
    return index // 12, index % 12 + 1


def _month_index(year: int, month: int) -> int:
    """Months since January 2000 (January 2000 is 0)."""
    return (year - 2000) * 12 + month - 1


def _money(value: Decimal | int | str) -> Decimal:
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def _seed(*parts: int) -> int:
    """A stable integer seed from a few integers (no ``hash()``: it is salted)."""
    value = 0
    for part in parts:
        value = (value * 1_000_003 + part) & 0xFFFF_FFFF_FFFF_FFFF
    return value


# --------------------------------------------------------------------------
# Names: normalisation for the search.
# --------------------------------------------------------------------------

_LIGATURES = str.maketrans({"Œ": "OE", "œ": "oe", "Æ": "AE", "æ": "ae", "ß": "ss"})


@lru_cache(maxsize=8192)
def normalize_name(text: str) -> str:
    """Uppercase ASCII letters and digits only: ``"N'Diaye-Lefèvre"`` → ``"NDIAYELEFEVRE"``."""
    decomposed = unicodedata.normalize("NFKD", text.translate(_LIGATURES))
    return "".join(ch for ch in decomposed.upper() if ch.isascii() and ch.isalnum())


# --------------------------------------------------------------------------
# Value objects.
# --------------------------------------------------------------------------

@dataclass(frozen=True)
class Regie:
    code: int
    libelle: str


@dataclass(frozen=True)
class Address:
    num: str | None
    street1: str
    zipcode: str
    town: str


@dataclass(frozen=True)
class Contact:
    phone: str | None
    mobile: str | None
    mail: str | None


@dataclass(frozen=True)
class Person:
    """A legal guardian (RL1/RL2) or an invoice's payer."""

    num: int
    lastname: str
    firstname: str
    civility: str | None
    birth: date | None
    address: Address | None
    contact: Contact | None

    @property
    def printed_name(self) -> str:
        """``"LEFÈVRE ANAÏS"``: the name as printed on invoices."""
        return f"{self.lastname} {self.firstname.upper()}"


@dataclass(frozen=True)
class Child:
    num: int
    lastname: str
    firstname: str
    sexe: str | None
    birth: date | None

    @property
    def printed_name(self) -> str:
        return f"{self.lastname} {self.firstname.upper()}"


@dataclass(frozen=True)
class Family:
    number: int
    category: str | None
    situation: str | None
    rl1: Person
    rl2: Person | None
    children: tuple[Child, ...]


@dataclass(frozen=True)
class Line:
    num_line: int
    num_pers: int | None
    name: str | None
    libelle: str
    date_start: date | None
    date_end: date | None
    quantity: Decimal
    unit_price: Decimal
    amount: Decimal


@dataclass(frozen=True)
class Invoice:
    """One invoice; ``paid`` includes what the simulator's ledger applied once
    passed through :func:`with_ledger`."""

    num: int
    id: str
    libelle: str
    regie: Regie
    family: int
    name: str
    date_invoice: date
    date_deadline: date
    amount: Decimal
    paid: Decimal
    paid_tg: Decimal
    date_transmission: date | None
    payer: Person | None
    lines: tuple[Line, ...]

    @property
    def remaining(self) -> Decimal:
        return self.amount - self.paid - self.paid_tg

    @property
    def transmitted(self) -> bool:
        return self.date_transmission is not None


def with_ledger(invoice: Invoice, applied: Decimal) -> Invoice:
    """The invoice once the ledger's payments (``applied``) are added to it.

    The generated history moves on with ``today`` (an old invoice may become
    paid by itself), so the generated part gives way to the ledger: the total
    paid never exceeds the invoice.
    """
    if not applied:
        return invoice
    applied = min(applied, invoice.amount)
    paid_tg = min(invoice.paid_tg, invoice.amount - applied)
    base = min(invoice.paid, invoice.amount - applied - paid_tg)
    return replace(invoice, paid=base + applied, paid_tg=paid_tg)


# --------------------------------------------------------------------------
# Catalogues.
# --------------------------------------------------------------------------

REGIES: tuple[Regie, ...] = (
    Regie(101, "CRÈCHES"),
    Regie(102, "CANTINE / CLAE"),
    Regie(103, "ACCUEILS DE LOISIRS"),
    Regie(104, "SÉJOURS DE VACANCES"),
    Regie(105, "CONSERVATOIRE"),
    Regie(106, "SPORTS"),
    Regie(107, "PISCINES"),
    Regie(108, "MÉDIATHÈQUES"),
    Regie(109, "TRANSPORT SCOLAIRE"),
)
_REGIES_BY_CODE = {regie.code: regie for regie in REGIES}


@dataclass(frozen=True)
class _Tariff:
    libelle: str
    unit_price: Decimal
    quantity: tuple[int, int]
    months: frozenset[int] | None = None  # billed only these months (None: any)


@dataclass(frozen=True)
class _Profile:
    """How a régie bills: which months, whom, what."""

    code: int
    label: str  # first word(s) of libelleTTF
    months: frozenset[int]
    issue_day: int  # day of the month following the billed month
    ages: tuple[int, int]  # children billed, by age at the billed month
    adults: bool  # may bill a legal guardian when no child is concerned
    activity: float  # probability that an enrolled family is billed a given month
    weight: int  # how common the régie is among families
    family_rate: bool  # unit prices follow the family quotient
    tariffs: tuple[_Tariff, ...]


def _t(libelle: str, price: str, low: int, high: int, months: tuple[int, ...] | None = None) -> _Tariff:
    return _Tariff(libelle, Decimal(price), (low, high), frozenset(months) if months else None)


_ALL_MONTHS = frozenset(range(1, 13))
_PROFILES: dict[int, _Profile] = {
    p.code: p
    for p in (
        _Profile(101, "CRÈCHE", _ALL_MONTHS - {8}, 10, (0, 2), False, 0.97, 3, True, (
            _t("Accueil régulier (heures)", "1.92", 60, 160),
            _t("Accueil occasionnel (heures)", "2.10", 4, 20),
        )),
        _Profile(102, "CLAE", frozenset({9, 10, 11, 12, 1, 2, 3, 4, 5, 6}), 24, (3, 10), False, 0.98, 10, True, (
            _t("Repas cantine", "4.14", 5, 18),
            _t("CLAE matin", "0.90", 4, 18),
            _t("CLAE soir", "1.35", 4, 18),
            _t("CLAE mercredi après-midi", "6.20", 1, 4),
        )),
        _Profile(103, "ALSH", frozenset({10, 12, 2, 4, 7, 8}), 15, (3, 13), False, 0.7, 6, True, (
            _t("Journée ALSH", "12.40", 1, 10),
            _t("Demi-journée ALSH", "6.80", 1, 6),
        )),
        _Profile(104, "SÉJOUR", frozenset({2, 4, 7, 8}), 18, (6, 17), False, 0.4, 2, True, (
            _t("Séjour montagne (7 jours)", "285.00", 1, 1),
            _t("Séjour mer (5 jours)", "198.00", 1, 1),
            _t("Mini-camp nature (3 jours)", "96.50", 1, 1),
        )),
        _Profile(105, "CONSERVATOIRE", frozenset({10, 1, 4}), 20, (6, 17), True, 0.95, 3, False, (
            _t("Cours d'instrument (trimestre)", "78.00", 1, 1),
            _t("Formation musicale (trimestre)", "41.50", 1, 1),
            _t("Location d'instrument", "25.00", 1, 1),
        )),
        _Profile(106, "SPORTS", frozenset({10, 1, 4}), 12, (4, 17), False, 0.9, 3, False, (
            _t("École municipale des sports (trimestre)", "45.00", 1, 1),
            _t("Stage multisports (journée)", "14.00", 1, 5),
        )),
        _Profile(107, "PISCINE", _ALL_MONTHS, 8, (0, 17), True, 0.5, 3, False, (
            _t("Entrée piscine", "3.10", 1, 8),
            _t("Leçon de natation", "9.50", 1, 4),
        )),
        _Profile(108, "MÉDIATHÈQUE", _ALL_MONTHS, 5, (0, 17), True, 0.25, 2, False, (
            _t("Abonnement annuel", "15.00", 1, 1, (9,)),
            _t("Pénalité de retard (jour)", "0.20", 3, 30, (10, 11, 12, 1, 2, 3, 4, 5, 6, 7, 8)),
        )),
        _Profile(109, "TRANSPORT SCOLAIRE", frozenset({9, 1, 4}), 6, (6, 17), False, 0.95, 2, False, (
            _t("Abonnement transport scolaire (trimestre)", "36.00", 1, 1),
        )),
    )
}

_FAMILY_RATES = tuple(Decimal(x) for x in ("0.30", "0.45", "0.60", "0.75", "0.90", "1.00", "1.15"))

LASTNAMES = (
    "MARTIN", "BERNARD", "DUBOIS", "THOMAS", "ROBERT", "RICHARD", "PETIT", "DURAND", "LEROY",
    "MOREAU", "SIMON", "LAURENT", "LEFÈVRE", "MICHEL", "GARCIA", "DAVID", "BERTRAND", "ROUX",
    "VINCENT", "FOURNIER", "MOREL", "GIRARD", "ANDRÉ", "MERCIER", "DUPONT", "LAMBERT", "BONNET",
    "FRANÇOIS", "MARTINEZ", "LEGRAND", "GARNIER", "FAURE", "ROUSSEAU", "BLANC", "GUÉRIN", "MULLER",
    "HENRY", "ROUSSEL", "NICOLAS", "PERRIN", "MORIN", "MATHIEU", "CLÉMENT", "GAUTHIER", "DUMONT",
    "LOPEZ", "FONTAINE", "CHEVALIER", "ROBIN", "MASSON", "SANCHEZ", "GÉRARD", "NGUYEN", "BOYER",
    "DENIS", "LEMAIRE", "DUVAL", "JOLY", "ROGER", "ROCHE", "NOËL", "MEYER", "LUCAS", "MEUNIER",
    "PÉREZ", "MARCHAND", "DUFOUR", "BLANCHARD", "BARBIER", "BRUN", "DUMAS", "BRUNET", "SCHMITT",
    "LEROUX", "COLIN", "FERNANDEZ", "RENARD", "ARNAUD", "ROLLAND", "CARON", "AUBERT", "GIRAUD",
    "LECLERC", "VIDAL", "BOURGEOIS", "RENAUD", "LEMOINE", "PICARD", "GAILLARD", "LACROIX", "FABRE",
    "DUPUIS", "OLIVIER", "RODRIGUEZ", "DA SILVA", "HUBERT", "RIVIÈRE", "LE GALL", "GUILLAUME",
    "BERGER", "LECOMTE", "MÉNARD", "FLEURY", "DESCHAMPS", "CARPENTIER", "BENOÎT", "MAILLARD",
    "PRÉVOST", "POIRIER", "HUET", "BAILLY", "HERVÉ", "SCHNEIDER", "N'DIAYE", "DIALLO", "TRAORÉ",
    "BENSAÏD", "HADDAD", "BENALI", "MOREIRA", "FERREIRA", "PEREIRA", "D'ALMEIDA", "N'GUESSAN",
    "KONATÉ", "CISSÉ", "SAINT-JEAN", "DE LA FONTAINE", "ÉTIENNE", "CASTÉRA", "ESCANDE", "CAZENAVE",
    "LABORDE", "SÉGUY", "PUJOL", "FAURÉ", "ABADIE", "SOULA", "LAFFONT", "DELPECH", "BOUSQUET",
    "CAMBON", "ROUQUETTE", "COSTES", "VIGUIÉ", "MAZÈRES", "D'ARAGON", "DUPONT-MOREAU", "LE BIHAN",
    "O'NEILL", "KOWALSKI", "ÇELIK", "YILMAZ", "BOUAZIZ", "MEBARKI", "TRAN", "PHAM", "OUÉDRAOGO",
)

FEMALE_FIRSTNAMES = (
    "Marie", "Anaïs", "Zoé", "Éloïse", "Léa", "Chloé", "Camille", "Manon", "Inès", "Jade", "Louise",
    "Emma", "Alice", "Lina", "Rose", "Anna", "Mila", "Ambre", "Juliette", "Agathe", "Clémence",
    "Hélène", "Sophie", "Nathalie", "Isabelle", "Céline", "Aurélie", "Émilie", "Sandrine", "Karine",
    "Marie-Claire", "Anne-Sophie", "Maëlys", "Noémie", "Océane", "Fatoumata", "Aïcha", "Yasmine",
    "Salomé", "Thaïs", "Bérénice", "Gaëlle", "Solène", "Lou", "Margaux", "Léonie", "Maïa", "Héloïse",
)

MALE_FIRSTNAMES = (
    "Jean", "Jean-Baptiste", "Lucas", "Hugo", "Louis", "Gabriel", "Raphaël", "Arthur", "Jules",
    "Adam", "Léo", "Nathan", "Théo", "Noé", "Maël", "Éthan", "Timothée", "Mathéo", "Loïc", "Benoît",
    "François", "Stéphane", "Frédéric", "Jérôme", "Sébastien", "Cédric", "Grégory", "Jean-Pierre",
    "Pierre-Louis", "Marc-Antoine", "Moussa", "Mamadou", "Karim", "Mehdi", "Yanis", "Rayan",
    "Côme", "Anatole", "Gaëtan", "Joël", "Hervé", "Thibault", "Émile", "Bastien", "Aurélien",
)

STREETS = (
    "rue d'Alsace-Lorraine", "allée Jean-Jaurès", "boulevard de Strasbourg", "rue du Taur",
    "avenue de Muret", "rue des Filatiers", "chemin de la Flambère", "avenue de Lombez",
    "rue de Metz", "avenue Étienne-Billières", "rue Bayard", "route d'Espagne",
    "avenue de Grande-Bretagne", "rue Léo-Lagrange", "allée de Brienne", "avenue Camille-Pujol",
    "rue Pierre-Paul-Riquet", "boulevard Déodat-de-Séverac", "avenue des Minimes",
    "chemin de Lapujade", "rue Gabriel-Péri", "avenue de Rangueil", "rue de la Colombette",
    "allées Jules-Guesde", "rue Saint-Rome", "rue Matabiau", "avenue Jean-Rieux",
    "impasse des Tourterelles", "place Saint-Sernin", "rue des Amidonniers",
)
ZIPCODES = ("31000", "31100", "31200", "31300", "31400", "31500")
SITUATIONS_COUPLE = ("Marié(e)", "Pacsé(e)", "Vie maritale")
SITUATIONS_SINGLE = ("Célibataire", "Divorcé(e)", "Séparé(e)", "Veuf(ve)")
MAIL_DOMAINS = ("example.org", "example.net", "example.com")


# --------------------------------------------------------------------------
# Households (what the name index needs) and families.
# --------------------------------------------------------------------------

class _Member(NamedTuple):
    lastname: str
    firstname: str
    female: bool
    birth: int  # proleptic ordinal (date.toordinal), cheap to draw


class _Household(NamedTuple):
    """The cheap, name-bearing part of a family (all the name index needs)."""

    number: int
    couple: bool
    rl1: _Member
    rl2: _Member | None
    children: tuple[_Member, ...]


def _first_household(today: date) -> _Household:
    """Demo family 1312, written by hand (accents, apostrophe, compound names)."""
    def born(years: int, days: int) -> int:
        return (date(today.year - years, 1, 1) + timedelta(days=days)).toordinal()

    rl1 = _Member("LEFÈVRE", "Anaïs", True, born(38, 95))
    rl2 = _Member("N'DIAYE", "Moussa", False, born(40, 250))
    children = (
        _Member("N'DIAYE-LEFÈVRE", "Zoé", True, born(8, 130)),
        _Member("N'DIAYE-LEFÈVRE", "Jean-Baptiste", False, born(6, 300)),
        _Member("N'DIAYE-LEFÈVRE", "Éloïse", True, born(1, 60)),
    )
    return _Household(FIRST_FAMILY, True, rl1, rl2, children)


_N_LAST, _N_FEMALE, _N_MALE = len(LASTNAMES), len(FEMALE_FIRSTNAMES), len(MALE_FIRSTNAMES)


class _Draws:
    """Cheap deterministic draws for the start-up path: the digits of one
    512-bit BLAKE2b hash of the seeds, taken in mixed radix (``Random()``
    seeding alone would cost a third of a second for 33,500 families)."""

    __slots__ = ("value",)

    def __init__(self, *parts: int) -> None:
        key = b"".join(part.to_bytes(8, "little", signed=True) for part in parts)
        self.value = int.from_bytes(hashlib.blake2b(key, digest_size=64).digest(), "little")

    def below(self, n: int) -> int:
        self.value, digit = divmod(self.value, n)
        return digit

    def chance(self, probability: float) -> bool:
        return self.below(10_000) < probability * 10_000


def _archive_household(number: int, today: date) -> _Household:
    """The archive families, written by hand (births relative to ``today``)."""
    def born(years: int, days: int) -> int:
        return (date(today.year - years, 1, 1) + timedelta(days=days)).toordinal()

    if number == LONG_HISTORY_FAMILY:
        # four children one after the other: one of them at the canteen every year for twelve years
        return _Household(number, True, _Member("CAZALIS", "Hélène", True, born(47, 20)),
                          _Member("CAZALIS", "Jérôme", False, born(49, 200)), (
                              _Member("CAZALIS", "Mathéo", False, born(15, 30)),
                              _Member("CAZALIS", "Inès", True, born(13, 100)),
                              _Member("CAZALIS", "Timothée", False, born(10, 60)),
                              _Member("CAZALIS", "Salomé", True, born(7, 200)),
                          ))
    return _Household(number, False, _Member("BOURDETTE", "Sandrine", True, born(41, 150)), None, (
        _Member("BOURDETTE", "Yanis", False, born(12, 200)),
        _Member("BOURDETTE", "Lou", True, born(9, 40)),
    ))


def _household(seed: int, number: int, today: date) -> _Household:
    """Names, sexes and births of a family. Called for every family at
    start-up (the name index), hence the cheap draws and integer dates."""
    if number == FIRST_FAMILY:
        return _first_household(today)
    if number in ARCHIVE_FAMILIES:
        return _archive_household(number, today)
    draw = _Draws(seed, number)
    below, chance = draw.below, draw.chance
    # Births are drawn back from the start of the school year, not from today:
    # people age, and a family's record and history stay the same from one
    # day to the next (the demo data move on once a year, with the window).
    now = school_year_start(today).toordinal()

    def name(female: bool) -> str:
        return FEMALE_FIRSTNAMES[below(_N_FEMALE)] if female else MALE_FIRSTNAMES[below(_N_MALE)]

    def birth(min_age: int, max_age: int) -> int:
        return now - min_age * 365 - 1 - below((max_age - min_age + 1) * 365)

    couple = chance(0.65)
    rl1_female = chance(0.6 if couple else 0.85)
    last1 = LASTNAMES[below(_N_LAST)]
    rl1 = _Member(last1, name(rl1_female), rl1_female, birth(24, 56))
    rl2 = None
    other = LASTNAMES[below(_N_LAST)]
    if couple:
        last2 = last1 if chance(0.5) else other
        rl2 = _Member(last2, name(not rl1_female), not rl1_female, birth(24, 58))
    roll = below(100)
    count = 0 if roll < 10 else 1 if roll < 38 else 2 if roll < 74 else 3 if roll < 92 else 4
    roll = below(100)
    if rl2 is not None and rl2.lastname != last1:
        if roll < 55:
            child_last = last1 if not rl1_female else rl2.lastname
        elif roll < 80 and " " not in last1 + rl2.lastname and "-" not in last1 + rl2.lastname:
            child_last = f"{rl2.lastname}-{last1}" if rl1_female else f"{last1}-{rl2.lastname}"
        else:
            child_last = last1
    else:
        child_last = last1 if roll < 75 else other
    max_age = min(17, (now - rl1.birth) // 365 - 18)
    children = []
    for _ in range(count):
        female = chance(0.5)
        children.append(_Member(child_last, name(female), female, birth(0, max_age)))
    children.sort(key=lambda c: c.birth)
    return _Household(number, couple, rl1, rl2, tuple(children))


def _person_num(number: int, index: int) -> int:
    """Stable person numbers: RL1 is index 1, RL2 index 2, children 3 and up."""
    return 200_000 + (number - FIRST_FAMILY) * 8 + index


def _phone(rng: random.Random, prefix: str) -> str:
    # ARCEP numbers reserved for fiction: 05 36 49 xx xx and 06 39 98 xx xx.
    return f"{prefix} {rng.randint(0, 99):02d} {rng.randint(0, 99):02d}"


def _ascii_lower(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    kept = "".join(ch for ch in decomposed if ch.isascii() and (ch.isalnum() or ch == "-"))
    return kept.lower()


def _build_family(seed: int, household: _Household) -> Family:
    number = household.number
    rng = random.Random(_seed(seed, number, 2))
    first = number == FIRST_FAMILY
    address = Address(
        num=None if rng.random() < 0.1 else f"{rng.randint(1, 180)}{rng.choice(('', '', '', '', ' bis'))}",
        street1=rng.choice(STREETS),
        zipcode=rng.choice(ZIPCODES),
        town=CITY,
    )
    if first:
        address = Address("12", "rue du Taur", "31000", CITY)

    def contact(member: _Member) -> Contact | None:
        if not first and rng.random() < 0.15:
            return None
        mail = f"{_ascii_lower(member.firstname)}.{_ascii_lower(member.lastname)}@{rng.choice(MAIL_DOMAINS)}"
        return Contact(
            phone=_phone(rng, "05 36 49") if first or rng.random() < 0.4 else None,
            mobile=_phone(rng, "06 39 98") if first or rng.random() < 0.85 else None,
            mail=mail if first or rng.random() < 0.75 else None,
        )

    def person(member: _Member, index: int, own_address: Address | None) -> Person:
        civility = "MME" if member.female else "M."
        return Person(
            num=_person_num(number, index),
            lastname=member.lastname,
            firstname=member.firstname,
            civility=civility if first or rng.random() < 0.9 else None,
            birth=date.fromordinal(member.birth) if first or rng.random() < 0.85 else None,
            address=own_address,
            contact=contact(member),
        )

    rl1 = person(household.rl1, 1, address if first or rng.random() < 0.95 else None)
    rl2 = None
    if household.rl2 is not None:
        rl2 = person(household.rl2, 2, address if first or rng.random() < 0.6 else None)
    children = tuple(
        Child(
            num=_person_num(number, 3 + i),
            lastname=c.lastname,
            firstname=c.firstname,
            sexe=("F" if c.female else "M") if first or rng.random() < 0.9 else None,
            birth=date.fromordinal(c.birth) if first or rng.random() < 0.95 else None,
        )
        for i, c in enumerate(household.children)
    )
    if household.couple:
        category = "BIPARENTALE"
        situation = rng.choice(SITUATIONS_COUPLE)
    else:
        category = "MONOPARENTALE" if household.children else "ISOLÉ"
        situation = rng.choice(SITUATIONS_SINGLE)
    if first:
        situation = "Pacsé(e)"
    return Family(
        number=number,
        category=category if first or rng.random() < 0.85 else None,
        situation=situation if first or rng.random() < 0.8 else None,
        rl1=rl1,
        rl2=rl2,
        children=children,
    )


# --------------------------------------------------------------------------
# Invoices.
# --------------------------------------------------------------------------

@dataclass(frozen=True)
class _Enrolment:
    code: int
    beneficiaries: tuple[int, ...]  # indexes: 0 = RL1, 1.. = children (1-based)


def _age_at(birth: date, day: date) -> int:
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def _eligible(profile: _Profile, household: _Household, first_day: date) -> list[int]:
    low, high = profile.ages
    return [
        i + 1 for i, child in enumerate(household.children)
        if child.birth <= first_day.toordinal()
        and low <= _age_at(date.fromordinal(child.birth), first_day) <= high
    ]


def _enrolments(seed: int, household: _Household, today: date, window_start: date) -> tuple[_Enrolment, ...]:
    """Which régies bill the family, and for whom (children indexes, or RL1)."""
    if household.number == LONG_HISTORY_FAMILY:
        return (_Enrolment(102, (1, 2, 3, 4)), _Enrolment(109, (1, 2, 3, 4)))
    if household.number == OLD_DEBTS_FAMILY:
        return (_Enrolment(102, (1, 2)), _Enrolment(104, (1,)))
    if household.number == FIRST_FAMILY:
        return (
            _Enrolment(101, (3,)),
            _Enrolment(102, (1, 2)),
            _Enrolment(103, (1, 2)),
            _Enrolment(107, (0, 1)),
        )
    rng = random.Random(_seed(seed, household.number, 3))
    # The choice depends on the school years billed, never on the day itself:
    # a child's birthday must not rewrite the family's past invoices (Maelis'
    # history only grows; tests/unit/test_simulator_data.py checks it day by day).
    window_end = date(window_start.year + 2, 8, 31)
    candidates: list[tuple[_Profile, tuple[int, ...]]] = []
    for profile in _PROFILES.values():
        low, high = profile.ages
        kids = tuple(
            i + 1 for i, child in enumerate(household.children)
            # eligible at some point of the two school years billed (a month is
            # billed only for the children eligible then: _eligible)
            if _age_at(date.fromordinal(child.birth), window_end) >= low
            and _age_at(date.fromordinal(child.birth), window_start) <= high
        )
        if kids:
            candidates.append((profile, kids))
        elif profile.adults:
            candidates.append((profile, (0,)))
    wanted = rng.randint(2, 5)
    chosen: list[_Enrolment] = []
    while candidates and len(chosen) < wanted:
        weights = [p.weight for p, _ in candidates]
        index = rng.choices(range(len(candidates)), weights=weights)[0]
        profile, people = candidates.pop(index)
        enrolled = tuple(p for p in people if rng.random() < 0.8) or people[:1]
        chosen.append(_Enrolment(profile.code, enrolled))
    chosen.sort(key=lambda e: e.code)
    return tuple(chosen)


_Settlement = tuple[Decimal, Decimal, date | None]  # (paid, paid at the treasury, transmission)


def _settlement(rng: random.Random, amount: Decimal, deadline: date, today: date) -> _Settlement:
    """(paid at the régie, paid at the treasury, transmission date) of a generated invoice.

    The older the invoice, the likelier it is paid; an invoice still unpaid
    some weeks after its deadline is sent to the public treasury (PES).
    """
    roll = rng.random()
    transmission = deadline + timedelta(days=40 + rng.randint(0, 20))
    partial = max(CENT, _money(amount * rng.choice((Decimal("0.25"), Decimal("0.4"), Decimal("0.5")))))
    transmissible = transmission <= today
    if today <= deadline:
        p_paid, p_partial = 0.30, 0.12
    elif not transmissible:
        p_paid, p_partial = 0.62, 0.12
    else:
        p_paid, p_partial = 0.83, 0.05
    if roll < p_paid or partial >= amount:
        return amount, ZERO, None
    if roll < p_paid + p_partial:
        return partial, ZERO, transmission if transmissible else None
    if transmissible:
        if roll > 0.95:
            return ZERO, amount, transmission  # paid later at the treasury
        return ZERO, ZERO, transmission
    return ZERO, ZERO, None


@dataclass
class _Draft:
    """An invoice before its settlement is decided."""

    num: int
    code: int
    year: int
    month: int
    date_invoice: date
    date_deadline: date
    lines: tuple[Line, ...]
    amount: Decimal
    rng: random.Random


def _first_family_scenario(code: int, drafts: list[_Draft], today: date) -> dict[int, _Settlement]:
    """Settlements of family 1312, by invoice number: every case in a few régies.

    * 101 CRÈCHES: the latest invoice partly paid, the rest paid;
    * 102 CANTINE / CLAE: the latest to pay, the one before partly paid, an
      old one transmitted unpaid, another paid at the treasury, the rest paid;
    * 103 ACCUEILS DE LOISIRS: the latest to pay, an old one transmitted after
      a partial payment, the rest paid;
    * 107 PISCINES: everything paid (the family owes nothing there).
    """
    result: dict[int, _Settlement] = {d.num: (d.amount, ZERO, None) for d in drafts}
    recent = sorted(drafts, key=lambda d: d.date_invoice, reverse=True)

    def transmission(d: _Draft) -> date:
        return d.date_deadline + timedelta(days=45)

    def old(skip: int) -> list[_Draft]:
        """Invoices old enough to have been transmitted, but the ``skip`` latest."""
        return [d for d in recent[skip:] if transmission(d) <= today]

    def half(d: _Draft) -> Decimal:
        return max(CENT, _money(d.amount / 2))

    if code == 101 and recent:
        result[recent[0].num] = (half(recent[0]), ZERO, None)
    elif code == 102:
        if len(recent) > 1:
            result[recent[0].num] = (ZERO, ZERO, None)
            result[recent[1].num] = (half(recent[1]), ZERO, None)
        older = old(2)
        if len(older) > 1:
            result[older[0].num] = (ZERO, ZERO, transmission(older[0]))
            result[older[1].num] = (ZERO, older[1].amount, transmission(older[1]))
    elif code == 103:
        if recent:
            result[recent[0].num] = (ZERO, ZERO, None)
        older = old(1)
        if older:
            result[older[0].num] = (half(older[0]), ZERO, transmission(older[0]))
    return result


def _archive_scenario(number: int, code: int, drafts: list[_Draft], today: date) -> dict[int, _Settlement]:
    """Settlements of the archive families, by invoice number.

    * LONG_HISTORY_FAMILY: the latest canteen invoice to pay, one eight years
      old transmitted unpaid to the treasury, every other invoice paid;
    * OLD_DEBTS_FAMILY: in the canteen, one unpaid invoice of each of the
      school years five, four and three years back and one partly paid four
      years back, never transmitted (the régie keeps chasing them); in the
      holiday stays, the oldest stay unpaid; everything recent paid.
    """
    result: dict[int, _Settlement] = {d.num: (d.amount, ZERO, None) for d in drafts}
    if number == LONG_HISTORY_FAMILY:
        if code == 102 and drafts:
            latest = max(drafts, key=lambda d: d.date_invoice)
            result[latest.num] = (ZERO, ZERO, None)
            old = [d for d in drafts if d.date_invoice.year == today.year - 8]
            if old:
                result[old[0].num] = (ZERO, ZERO, old[0].date_deadline + timedelta(days=45))
        return result
    if code == 102:
        for years_back in (5, 4, 3):
            same_year = [d for d in drafts if d.date_invoice.year == today.year - years_back]
            if same_year:
                result[same_year[len(same_year) // 2].num] = (ZERO, ZERO, None)
        partly = [d for d in drafts if d.date_invoice.year == today.year - 4]
        if partly:
            result[partly[0].num] = (max(CENT, _money(partly[0].amount / 3)), ZERO, None)
    elif code == 104 and drafts:
        oldest = min(drafts, key=lambda d: d.date_invoice)
        result[oldest.num] = (ZERO, ZERO, None)
    return result


def _lines(rng: random.Random, profile: _Profile, family: Family, people: tuple[int, ...],
           year: int, month: int, rate: Decimal) -> tuple[Line, ...]:
    """An invoice's lines: per person billed (0: RL1, else child index), the
    régie's main tariff and maybe others, four lines at most."""
    first_day = date(year, month, 1)
    last_day = _month_end(year, month)
    tariffs = [t for t in profile.tariffs if t.months is None or month in t.months]
    with_dates = family.number % 3 != 0  # line dates are optional: some families have none
    lines: list[Line] = []
    for who in people:
        if who == 0:
            person_num, name = family.rl1.num, family.rl1.printed_name
        else:
            child = family.children[who - 1]
            person_num, name = child.num, child.printed_name
        if len(tariffs) == 1:
            picked = tariffs
        else:
            # the first tariff is the main one (e.g. "Repas cantine"), others come on top
            picked = [tariffs[0]] + [t for t in tariffs[1:] if rng.random() < 0.45]
            if profile.code in (104, 106, 107) and len(picked) > 1:
                picked = [rng.choice(tariffs)]
            picked = picked[:max(1, 4 // len(people))]  # at most 4 lines, shared among people
        for tariff in picked:
            if len(lines) == 4:
                break
            quantity = Decimal(rng.randint(*tariff.quantity))
            unit = _money(tariff.unit_price * rate) if profile.family_rate else tariff.unit_price
            lines.append(Line(
                num_line=len(lines) + 1,
                num_pers=person_num if family.number % 5 != 4 else None,
                name=name,
                libelle=tariff.libelle,
                date_start=first_day if with_dates else None,
                date_end=last_day if with_dates else None,
                quantity=quantity,
                unit_price=unit,
                amount=_money(quantity * unit),
            ))
    return tuple(lines)


# --------------------------------------------------------------------------
# The data set.
# --------------------------------------------------------------------------

class DemoData:
    """The demo data set: ``families`` families numbered from 1312.

    Thread-safe: everything is immutable or generated into LRU caches.
    """

    def __init__(self, seed: int = 2023, families: int = 300, today: date | None = None) -> None:
        if families < 1:
            raise ValueError("families must be at least 1")
        self.seed = seed
        self.count = families
        self.today = today or date.today()
        # Billed months: the previous school year and the current one, up to
        # the month before today.
        self.window_start = school_year_start(self.today).replace(year=school_year_start(self.today).year - 1)
        self.window_end = (self.today.replace(day=1) - timedelta(days=1)).replace(day=1)
        self._last_keys: list[str] = []
        self._first_keys: list[str] = []
        # the search index, in number order: the archive families first
        self._numbers = list(ARCHIVE_FAMILIES) + list(range(FIRST_FAMILY, FIRST_FAMILY + families))
        for number in self._numbers:
            household = _household(seed, number, self.today)
            members = (household.rl1,) + ((household.rl2,) if household.rl2 else ()) + household.children
            self._last_keys.append("|".join({normalize_name(m.lastname): None for m in members}))
            self._first_keys.append("|".join(normalize_name(m.firstname) for m in members))
        self.family = lru_cache(maxsize=2048)(self._family)
        self._invoices = lru_cache(maxsize=512)(self._all_invoices)  # ~16 MB

    # ---- régies ------------------------------------------------------------

    @property
    def regies(self) -> tuple[Regie, ...]:
        return REGIES

    @staticmethod
    def regie(code: int) -> Regie | None:
        return _REGIES_BY_CODE.get(code)

    # ---- families ----------------------------------------------------------

    @property
    def last_family(self) -> int:
        return FIRST_FAMILY + self.count - 1

    def has_family(self, number: int) -> bool:
        return FIRST_FAMILY <= number <= self.last_family or number in ARCHIVE_FAMILIES

    def _family(self, number: int) -> Family | None:
        if not self.has_family(number):
            return None
        return _build_family(self.seed, _household(self.seed, number, self.today))

    def search(self, fullname: str, limit: int = 50) -> list[int]:
        """Family numbers matching ``fullname``, sorted, at most ``limit``.

        The first word is a part of any member's last name; the following
        words, if any, a part of any member's first name. Case, accents,
        hyphens, apostrophes and spaces inside names do not matter.
        """
        words = fullname.split()
        if not words:
            return []
        last = normalize_name(words[0])
        first = normalize_name("".join(words[1:]))
        if not last:
            return []
        found: list[int] = []
        for number, last_key, first_key in zip(self._numbers, self._last_keys, self._first_keys, strict=True):
            if last in last_key and (not first or first in first_key):
                found.append(number)
                if len(found) >= limit:
                    break
        return found

    # ---- invoices ----------------------------------------------------------

    def regies_of(self, number: int) -> tuple[int, ...]:
        """Codes of the régies billing the family (whether it owes them or not)."""
        if not self.has_family(number):
            return ()
        return tuple(sorted(self._invoices(number)))

    def invoices(self, number: int, code: int) -> list[Invoice]:
        """The family's invoices of a régie, oldest first (ledger not applied)."""
        if not self.has_family(number):
            return []
        return list(self._invoices(number).get(code, ()))

    def invoice(self, code: int, num: int) -> Invoice | None:
        """The invoice ``num`` of régie ``code``, or None."""
        number = num // 1000
        for invoice in self._invoices(number).get(code, ()) if self.has_family(number) else ():
            if invoice.num == num:
                return invoice
        return None

    def _months(self, number: int) -> list[tuple[int, int]]:
        """The months billed to a family: two school years, more for the archive families."""
        months = []
        start = self.window_start
        if number in _ARCHIVE_YEARS:
            start = date(start.year + 1 - _ARCHIVE_YEARS[number], 9, 1)
        year, month = start.year, start.month
        while date(year, month, 1) <= self.window_end:
            months.append((year, month))
            year, month = _add_months(year, month, 1)
        return months

    def _all_invoices(self, number: int) -> dict[int, tuple[Invoice, ...]]:
        household = _household(self.seed, number, self.today)
        family = self.family(number)
        assert family is not None
        first = number == FIRST_FAMILY
        scripted = first or number in ARCHIVE_FAMILIES  # billed every month, settled by hand
        payer_member = family.rl1
        payer = payer_member if number % 4 != 3 else None  # the payer bean is optional
        rate_rng = random.Random(_seed(self.seed, number, 4))
        rate = _FAMILY_RATES[rate_rng.randrange(len(_FAMILY_RATES))] if not first else Decimal("0.75")
        result: dict[int, tuple[Invoice, ...]] = {}
        for enrolment in _enrolments(self.seed, household, self.today, self.window_start):
            profile = _PROFILES[enrolment.code]
            regie = _REGIES_BY_CODE[enrolment.code]
            drafts: list[_Draft] = []
            for year, month in self._months(number):
                if month not in profile.months:
                    continue
                month_index = _month_index(year, month)
                rng = random.Random(_seed(self.seed, number, 10_000 + enrolment.code * 1000 + month_index))
                if not scripted and rng.random() >= profile.activity:
                    continue
                first_day = date(year, month, 1)
                eligible = set(_eligible(profile, household, first_day))
                people = tuple(p for p in enrolment.beneficiaries if p == 0 or p in eligible)
                if not people:
                    continue
                issue_year, issue_month = _add_months(year, month, 1)
                date_invoice = date(issue_year, issue_month, profile.issue_day)
                if date_invoice > self.today:
                    continue
                deadline_year, deadline_month = _add_months(issue_year, issue_month, 1)
                lines = _lines(rng, profile, family, people, year, month, rate)
                if not lines:
                    continue
                amount = sum((line.amount for line in lines), ZERO)
                drafts.append(_Draft(number * 1000 + month_index, enrolment.code, year, month, date_invoice,
                                     _month_end(deadline_year, deadline_month), lines, amount, rng))
            if first:
                settlements = _first_family_scenario(enrolment.code, drafts, self.today)
            elif scripted:
                settlements = _archive_scenario(number, enrolment.code, drafts, self.today)
            else:
                settlements = {d.num: _settlement(d.rng, d.amount, d.date_deadline, self.today) for d in drafts}
            invoices = []
            for d in drafts:
                paid, paid_tg, transmission = settlements[d.num]
                invoices.append(Invoice(
                    num=d.num,
                    id=f"F{d.code}{d.num:08d}",
                    libelle=f"{profile.label} {MONTHS_FR[d.month - 1]} {d.year}",
                    regie=regie,
                    family=number,
                    name=payer_member.printed_name,
                    date_invoice=d.date_invoice,
                    date_deadline=d.date_deadline,
                    amount=d.amount,
                    paid=paid,
                    paid_tg=paid_tg,
                    date_transmission=transmission,
                    payer=payer,
                    lines=d.lines,
                ))
            result[enrolment.code] = tuple(invoices)
        return result
