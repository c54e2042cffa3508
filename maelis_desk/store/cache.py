"""The cache's queries: what was read from Maelis, kept for when it is not there.

Takes and returns domain objects; nobody above this package sees peewee.
"""

from __future__ import annotations

import json
import logging
import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime

import peewee

from .. import domain
from .database import db, upsert
from .fields import utc_text
from .models import Family, FamilyWord, Invoice, InvoiceList, Regie, Setting

log = logging.getLogger(__name__)

SEARCH_LIMIT = 50
_WORD = re.compile(r"[a-z0-9]+")


def normalise(text: str) -> list[str]:
    """Lower-case, accent-free words: "N'Diaye-Lefèvre Zoé" → ["n", "diaye", "lefevre", "zoe"]."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return _WORD.findall(plain)


def _prefix_bounds(prefix: str) -> tuple[str, str]:
    return prefix, prefix[:-1] + chr(ord(prefix[-1]) + 1)


@dataclass(frozen=True)
class CachedList:
    """A family's invoices of one régie as last read from Maelis."""

    regie: int
    invoices: list[domain.Invoice]
    fetched_at: datetime


class Cache:
    """Queries on the invoice cache. All methods are safe from any thread
    (peewee keeps one connection per thread)."""

    # -- small facts ------------------------------------------------------------

    def get_setting(self, key: str, default=None):
        row = Setting.get_or_none(Setting.key == key)
        return default if row is None else row.value

    def set_setting(self, key: str, value) -> None:
        """`value` None removes the setting."""
        if value is None:
            Setting.delete().where(Setting.key == key).execute()
            return
        upsert(Setting.insert(key=key, value=value), [Setting.key], [Setting.value]).execute()

    # -- régies ---------------------------------------------------------------

    def save_regies(self, regies: list[domain.Regie], fetched_at: datetime) -> None:
        with db.atomic():
            Regie.delete().where(Regie.code.not_in([r.code for r in regies] or [-1])).execute()
            for position, r in enumerate(regies):
                upsert(Regie.insert(code=r.code, label=r.label, position=position), [Regie.code],
                       [Regie.label, Regie.position]).execute()
            self.set_setting("regies_fetched_at", utc_text(fetched_at))

    def load_regies(self) -> tuple[list[domain.Regie], datetime | None]:
        regies = [domain.Regie(r.code, r.label) for r in Regie.select().order_by(Regie.position, Regie.code)]
        when = self.get_setting("regies_fetched_at")
        return regies, (datetime.fromisoformat(when) if when else None)

    # -- families -------------------------------------------------------------

    def save_family(self, family: domain.Family, fetched_at: datetime, *, opened: bool = False) -> None:
        """Keep a family (a full dossier, or a search summary that never
        overwrites a full dossier) and its search words."""
        with db.atomic():
            existing = Family.get_or_none(Family.number == family.number)
            if existing is not None and existing.complete and not family.complete:
                return  # a summary knows less than the dossier we have
            upsert(Family.insert(
                number=family.number,
                data=family.to_json(),
                summary=json.dumps(family.summary_json(), ensure_ascii=False, separators=(",", ":")),
                complete=family.complete,
                fetched_at=fetched_at,
                opened_at=fetched_at if opened else (existing.opened_at if existing else None),
            ), [Family.number], [Family.data, Family.summary, Family.complete, Family.fetched_at,
                                 Family.opened_at]).execute()
            FamilyWord.delete().where(FamilyWord.family == family.number).execute()
            words = {w for text in family.search_words() for w in normalise(text)}
            FamilyWord.insert_many(
                [{"word": w[:64], "family": family.number} for w in sorted(words)]
            ).on_conflict_ignore().execute()

    def save_families(self, families: list[domain.Family], fetched_at: datetime) -> None:
        with db.atomic():
            for family in families:
                self.save_family(family, fetched_at)

    def mark_opened(self, number: int, when: datetime) -> None:
        Family.update(opened_at=when).where(Family.number == number).execute()

    def load_family(self, number: int) -> tuple[domain.Family, datetime] | None:
        row = Family.get_or_none(Family.number == number)
        if row is None:
            return None
        return domain.Family.from_json(row.data), row.fetched_at

    def search_families(self, text: str, limit: int = SEARCH_LIMIT) -> list[domain.Family]:
        """Families whose words start with every word of `text` (number or names),
        accents and case ignored; at most `limit`, by number."""
        words = sorted(set(normalise(text)), key=len, reverse=True)
        if not words:
            return []
        if len(words) > 1:  # drive the query by the rarest word, check the others
            words.sort(key=self._frequency)
        lo, hi = _prefix_bounds(words[0])
        query = FamilyWord.select(FamilyWord.family).where((FamilyWord.word >= lo) & (FamilyWord.word < hi))
        for i, word in enumerate(words[1:]):
            other = FamilyWord.alias(f"w{i}")
            lo_i, hi_i = _prefix_bounds(word)
            query = query.where(
                peewee.fn.EXISTS(
                    other.select(peewee.SQL("1")).where(
                        (other.family == FamilyWord.family) & (other.word >= lo_i) & (other.word < hi_i)
                    )
                )
            )
        # No ORDER BY: walking the (word, family) index, the database stops at
        # the `limit`-th family instead of sorting every match of a short prefix;
        # the closest words come first (DUPONT before DUPUIS for "dup").
        numbers = [n for (n,) in query.distinct().limit(limit).tuples()]
        if not numbers:
            return []
        placeholders = ", ".join(db.param for _ in numbers)
        rows = db.execute_sql(
            f'SELECT "summary" FROM "family" WHERE "number" IN ({placeholders}) ORDER BY "number"', numbers
        )
        return [domain.Family.from_summary(json.loads(summary)) for (summary,) in rows]

    @staticmethod
    def _frequency(word: str, cap: int = 2000) -> int:
        """How many search words start with `word`, counted up to `cap` (an index range)."""
        lo, hi = _prefix_bounds(word)
        p = db.param
        sql = (f'SELECT COUNT(*) FROM (SELECT 1 FROM "family_word" WHERE "word" >= {p} AND "word" < {p} '
               f'LIMIT {int(cap)}) AS t')
        return db.execute_sql(sql, (lo, hi)).fetchone()[0]

    def count_families(self) -> int:
        return Family.select().count()

    def opened_families(self) -> list[int]:
        return [r.number for r in Family.select(Family.number).where(Family.opened_at.is_null(False))]

    # -- invoices --------------------------------------------------------------

    def save_invoices(
        self, family: int, regie: int, invoices: list[domain.Invoice], fetched_at: datetime
    ) -> bool:
        """Replace what the cache knows of this family's invoices in this régie;
        True when the list differs from what the cache had (or had nothing)."""
        from .sync import list_facts

        rows = [(regie, i.number, family, _stored(i)) for i in invoices]
        count, newest, digest = list_facts(invoices)
        with db.atomic():
            # The write first: a read first would make this a reader that SQLite
            # refuses to upgrade ("database is locked") when another thread wrote meanwhile.
            Invoice.delete().where((Invoice.family == family) & (Invoice.regie == regie)).execute()
            before = InvoiceList.select(InvoiceList.digest).where(
                (InvoiceList.family == family) & (InvoiceList.regie == regie)).scalar()
            if rows:
                # Plain executemany: peewee's query building cost more than the writes.
                p = db.param
                db.cursor().executemany(
                    f'INSERT INTO "invoice" ("regie", "number", "family", "data") VALUES ({p}, {p}, {p}, {p}) '
                    'ON CONFLICT ("regie", "number") DO UPDATE SET "family" = excluded."family", '
                    '"data" = excluded."data"',
                    rows,
                )
            upsert(InvoiceList.insert(
                family=family, regie=regie, fetched_at=fetched_at, checked_at=fetched_at,
                to_pay=sum(1 for i in invoices if i.to_pay_at_regie),
                invoices=count, last_invoice=newest, digest=digest,
            ), [InvoiceList.family, InvoiceList.regie],
                [InvoiceList.fetched_at, InvoiceList.checked_at, InvoiceList.to_pay, InvoiceList.invoices,
                 InvoiceList.last_invoice, InvoiceList.digest]).execute()
        return before != digest

    def load_invoices(self, family: int, regie: int | None = None) -> dict[int, CachedList]:
        """The cached lists of a family (every régie read at least once), by régie code.

        One indexed query, no query building: this is the read a cashier waits
        for when Maelis is down. Lines stay JSON until looked at (LazyLines)."""
        p = db.param
        where, params = f'"family" = {p}', (family,)
        if regie is not None:
            where, params = where + f' AND "regie" = {p}', params + (regie,)
        result: dict[int, CachedList] = {}
        for code, fetched_at in db.execute_sql(f'SELECT "regie", "fetched_at" FROM "invoice_list" WHERE {where}',
                                               params):
            result[code] = CachedList(code, [], _aware(fetched_at))
        loads, from_json = json.loads, domain.Invoice.from_json
        # Ordered here, not by the query: with `ORDER BY "regie", "number"` and a régie given,
        # SQLite walks the primary key (regie, number) to spare a sort, reading every invoice
        # of the régie (~117,000 at the city's scale: 0.1 s, inside a payment's write lock)
        # instead of this family's few through the (family, regie) index.
        rows = sorted(db.execute_sql(f'SELECT "regie", "number", "data" FROM "invoice" WHERE {where}', params),
                      key=lambda row: (row[0], row[1]))
        unusable: set[int] = set()
        for code, _number, data in rows:
            cached = result.get(code)
            if cached is not None:
                invoice = from_json(loads(data))
                problem = domain.invoice_problem(invoice)
                if problem:  # kept by a version that did not check figures
                    log.warning("Cached invoices of family %s, régie %s unusable: invoice %s: %s",
                                family, code, invoice.number, problem)
                    unusable.add(code)
                cached.invoices.append(invoice)
        for code in unusable:
            # A list with one impossible figure is shown as never read (it
            # will be re-read), rather than crash or show that figure.
            del result[code]
        return result

    def invoice_numbers(self, regie: int, printed_id: str, family: int | None = None) -> list[int]:
        """The numbers (numInvoice) of the cached invoices of a régie whose printed number
        (idInvoice, « F10055591232 ») is `printed_id`, compared without case."""
        wanted = printed_id.strip().casefold()
        fragment = json.dumps(printed_id.strip(), ensure_ascii=False)[1:-1]
        query = Invoice.select(Invoice.number, Invoice.data).where(
            (Invoice.regie == regie)
            # a coarse filter on the JSON text (ILIKE, not through the field's JSON converter), checked below
            & peewee.Expression(Invoice.data, peewee.OP.ILIKE, peewee.Value(f"%{fragment}%", converter=False)))
        if family is not None:
            query = query.where(Invoice.family == family)
        return sorted({row.number for row in query if str(row.data.get("id", "")).casefold() == wanted})

    def load_invoice(self, regie: int, number: int) -> domain.Invoice | None:
        row = Invoice.get_or_none((Invoice.regie == regie) & (Invoice.number == number))
        return None if row is None else domain.Invoice.from_json(row.data)


def _aware(value) -> datetime:
    return datetime.fromisoformat(value) if isinstance(value, str) else value


def _stored(invoice: domain.Invoice) -> str:
    """An invoice as the cache keeps it: its contract data as JSON, with the
    lines as one JSON string inside, decoded only when someone looks at them."""
    data = invoice.to_json()
    data["lines"] = json.dumps(data["lines"], ensure_ascii=False, separators=(",", ":"))
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))
