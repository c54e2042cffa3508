"""Reading with fallback: ask Maelis with the short timeout, keep the answer,
and when Maelis fails or is too slow, answer from the cache saying so.

Which failures fall back on the cache: Maelis unreachable or too slow, an
error page or garbage, a server error, refused credentials. A business fault
(`E02`: no such family...) is Maelis' true answer and is raised as it is.
"""

from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Callable, TypeVar

from ..domain import ZERO, Family, Freshness, Invoice, PaymentState, Regie, RegieInvoices
from ..maelis import MaelisClient, MaelisError
from ..store import Cache, release_connection
from ..store.database import DatabaseUnavailable
from ..store.payments import Payments
from .clock import invoice_window, utcnow
from .credentials import CredentialsGuard
from .errors import AuthRefused, DeskError, MaelisRefused, NotInCache, Offline, UnknownInvoice, UnknownRegie, from_maelis
from .health import MaelisHealth
from .payments import apply_pending
from .transmission import confirm_from

log = logging.getLogger(__name__)

T = TypeVar("T")

#: the régie list changes a few times a year: re-read it at most this often when opening families
REGIES_MAX_AGE = timedelta(hours=12)
#: at most this many SOAP calls at once for one family (load on Maelis matters more than speed)
PARALLEL_CALLS = 3


@dataclass
class FamilyView:
    """Everything a desk shows of one family: the dossier and every régie's invoices."""

    family: Family
    freshness: Freshness
    regies: list[RegieInvoices]

    @property
    def due(self) -> Decimal:
        return sum((r.due for r in self.regies), ZERO)


class Reader:
    """The read use cases. `client` is None in offline mode."""

    def __init__(
        self,
        client: MaelisClient | None,
        cache: Cache,
        health: MaelisHealth,
        *,
        payments: Payments | None = None,
        desk_id: str = "reader",
        clock: Callable[[], datetime] = utcnow,
        credentials: CredentialsGuard | None = None,
    ):
        self.client = client
        self.cache = cache
        self.health = health
        self.payments = payments
        self.desk_id = desk_id
        self.clock = clock
        self.credentials = credentials
        # The counter comes first: the scheduled refresh waits while a cashier's read is under way.
        self._counter = threading.Condition()
        self._counter_calls = 0
        self._counter_last = 0.0

    # -- telling the truth about the desk's own payments ------------------------

    def _with_pending(self, family: int, regie: Regie, invoices: list[Invoice]) -> list[Invoice]:
        if self.payments is None:
            return invoices
        return apply_pending(invoices, self.payments.expected_paid(family, regie.code))

    def _confirm_sent(self, family: int, regie: Regie, invoices: list[Invoice]) -> None:
        """A fresh Maelis reading may show that acknowledged payments have landed."""
        if self.payments is None:
            return
        by_number = {inv.number: inv for inv in invoices}
        for record in self.payments.list(states=(PaymentState.SENT,), family=family, regie=regie.code):
            if confirm_from(record, by_number):
                self.payments.confirm_if(record.id, self.clock(), self.desk_id, "vu dans une lecture de Maelis")

    @property
    def offline(self) -> bool:
        return self.client is None

    # -- the one fallback mechanism -----------------------------------------

    def _ask(self, call: Callable[[MaelisClient], T], *, background: bool = False) -> T:
        """Call Maelis through the breaker; record how it went. Raises DeskError
        (the client's error, translated: nothing above services/ sees maelis/).
        A counter call (not `background`) is counted so that the scheduled
        refresh holds back its own calls meanwhile (`wait_for_counter`)."""
        if self.client is None:
            raise Offline("Mode hors ligne : Maelis n'est pas interrogé.")
        if not self.health.should_try():
            snapshot = self.health.snapshot()
            raise Offline(snapshot.error or "Maelis hors ligne.")
        if not background:
            with self._counter:
                self._counter_calls += 1
        started = time.monotonic()
        try:
            result = call(self.client)
        except MaelisError as exc:
            error = from_maelis(exc)
            if isinstance(error, MaelisRefused) and error.is_business:
                self.health.succeeded(time.monotonic() - started)  # it answered
                self._credentials_work()
            elif isinstance(error, AuthRefused):
                self.health.refused(error.message)
                if self.credentials is not None:
                    self.credentials.refused()
            else:
                self.health.failed(error.message)
            raise error from exc
        finally:
            if not background:
                with self._counter:
                    self._counter_calls -= 1
                    self._counter_last = time.monotonic()
                    self._counter.notify_all()
        self.health.succeeded(time.monotonic() - started)
        self._credentials_work()
        return result

    def _credentials_work(self) -> None:
        if self.credentials is not None:
            self.credentials.accepted()

    def counter_busy(self, quiet: float = 0.0) -> bool:
        """A counter read is under way (or ended less than `quiet` seconds ago)."""
        with self._counter:
            return self._counter_calls > 0 or time.monotonic() - self._counter_last < quiet

    def wait_for_counter(self, stop: threading.Event, quiet: float = 0.3) -> bool:
        """Block a background call while the counter reads (and `quiet` seconds
        after: opening a family is several calls in a row). False if `stop` was set."""
        with self._counter:
            while not stop.is_set():
                left = self._counter_last + quiet - time.monotonic()
                if self._counter_calls == 0 and left <= 0:
                    return True
                self._counter.wait(min(0.1, max(left, 0.01)))
        return False

    @staticmethod
    def _cache_quietly(write) -> str | None:
        """Keep Maelis' answer in the cache; with the shared database lost, show the
        answer anyway (it needs no database) and say it was not kept. None: kept."""
        try:
            write()
        except DatabaseUnavailable as exc:
            log.warning("Cache not written: %s", exc)
            return f"{exc} Lu dans Maelis, non gardé dans le cache."
        return None

    @staticmethod
    def _falls_back(exc: DeskError) -> bool:
        return not (isinstance(exc, MaelisRefused) and exc.is_business)

    def probe(self) -> None:
        """Ask Maelis once for its régies, so that its state is known from the start (the
        status bar said « Maelis : ? » until a family was opened); the answer is cached like
        any read, a failure only sets the state (the breaker), never raises."""
        try:
            self._ask(lambda c: c.read_regies(), background=True)
        except DeskError:
            pass  # the health service holds what happened

    # -- régies -------------------------------------------------------------

    def regies(self, *, max_age: timedelta | None = None) -> tuple[list[Regie], Freshness]:
        """The régie list; from the cache when younger than `max_age`."""
        cached, fetched_at = self.cache.load_regies()
        if max_age is not None and cached and fetched_at and self.clock() - fetched_at < max_age:
            return cached, Freshness("cache", fetched_at)
        try:
            regies = self._ask(lambda c: c.read_regies())
        except DeskError as exc:
            if not self._falls_back(exc):
                raise
            if not cached:
                raise NotInCache(f"{exc.message} La liste des régies n'a jamais été lue.", exc) from None
            return cached, Freshness("cache", fetched_at, exc.message)
        now = self.clock()
        return regies, Freshness("maelis", now, self._cache_quietly(lambda: self.cache.save_regies(regies, now)))

    # -- families -----------------------------------------------------------

    def family(self, number: int, *, opened: bool = True) -> tuple[Family, Freshness]:
        try:
            family = self._ask(lambda c: c.read_family(number))
        except DeskError as exc:
            if not self._falls_back(exc):
                raise
            cached = self.cache.load_family(number)
            if cached is None:
                raise NotInCache(f"{exc.message} La famille {number} n'est pas dans le cache.", exc) from None
            if opened:
                self.cache.mark_opened(number, self.clock())
            return cached[0], Freshness("cache", cached[1], exc.message)
        now = self.clock()
        return family, Freshness("maelis", now,
                                 self._cache_quietly(lambda: self.cache.save_family(family, now, opened=opened)))

    def search(self, text: str) -> tuple[list[Family], Freshness]:
        """By family number (all digits) or by name; from the cache when Maelis fails."""
        text = text.strip()
        if not text:
            return [], Freshness("cache", None)
        try:
            if text.isdigit():
                try:
                    families = [self._ask(lambda c: c.read_family(int(text)))]
                except MaelisRefused as fault:
                    if fault.code != "E02":
                        raise
                    families = []
            else:
                families = self._ask(lambda c: c.search_families(text))
        except DeskError as exc:
            if not self._falls_back(exc):
                raise
            return self.cache.search_families(text), Freshness("cache", None, exc.message)
        now = self.clock()
        return families, Freshness("maelis", now, self._cache_quietly(lambda: self.cache.save_families(families, now)))

    # -- invoices -----------------------------------------------------------

    def regie_invoices(self, family: int, regie: Regie) -> RegieInvoices:
        """One régie's invoices: Maelis, else the cache (else an empty list marked never read)."""
        start, end = invoice_window()
        try:
            invoices = self._ask(lambda c: c.read_invoices(family, regie.code, start, end))
        except DeskError as exc:
            if not self._falls_back(exc):
                raise
            result = self._from_cache(family, regie, exc.message)
            result.failure = exc
            return result
        now = self.clock()
        self.cache.save_invoices(family, regie.code, invoices, now)
        self._confirm_sent(family, regie, invoices)
        return RegieInvoices(regie, self._with_pending(family, regie, invoices), Freshness("maelis", now))

    def refresh_list(self, family: int, regie: int) -> bool:
        """The scheduled refresh's read of one list, as a background call: keep
        Maelis' answer; True when it differs from the cache. Raises DeskError."""
        start, end = invoice_window()
        invoices = self._ask(lambda c: c.read_invoices(family, regie, start, end), background=True)
        changed = self.cache.save_invoices(family, regie, invoices, self.clock())
        if invoices:
            self._confirm_sent(family, invoices[0].regie, invoices)
        return changed

    def invoices(self, family: int, regie_code: int | None = None) -> list[RegieInvoices]:
        """A family's invoices in every régie (or one), each régie with its freshness.

        Raises NotInCache when Maelis failed and nothing at all is cached."""
        regies, _ = self.regies(max_age=REGIES_MAX_AGE)
        if regie_code is not None:
            regies = [r for r in regies if r.code == regie_code]
            if not regies:
                raise UnknownRegie(regie_code)
        if self.client is None or not self.health.should_try():
            results = self._all_from_cache(family, regies)
        else:
            with ThreadPoolExecutor(PARALLEL_CALLS, thread_name_prefix="maelis-read") as pool:
                results = list(pool.map(lambda r: self._in_worker(family, r), regies))
        if results and all(r.freshness.fetched_at is None for r in results):
            cause = next((r.failure for r in results if r.failure is not None), None)
            error = next((r.freshness.error for r in results if r.freshness.error), None)
            raise NotInCache(f"{error or 'Maelis hors ligne.'} Aucune facture de la famille {family} en cache.",
                             cause)
        return results

    def _in_worker(self, family: int, regie: Regie) -> RegieInvoices:
        """One régie in a short-lived thread: its database connection ends with it."""
        try:
            return self.regie_invoices(family, regie)
        finally:
            release_connection()

    def _all_from_cache(self, family: int, regies: list[Regie]) -> list[RegieInvoices]:
        """Every régie of a family from the cache: two queries, whatever the number of régies."""
        error = "Mode hors ligne." if self.client is None else (self.health.snapshot().error or "Maelis hors ligne.")
        lists = self.cache.load_invoices(family)
        expected = self.payments.expected_paid_by_regie(family) if self.payments is not None else {}
        results = []
        for regie in regies:
            cached = lists.get(regie.code)
            if cached is None:
                results.append(RegieInvoices(regie, [], Freshness("cache", None, error)))
                continue
            invoices = apply_pending(cached.invoices, expected.get(regie.code, {}))
            results.append(RegieInvoices(regie, invoices, Freshness("cache", cached.fetched_at, error)))
        return results

    def _from_cache(self, family: int, regie: Regie, error: str | None = None) -> RegieInvoices:
        if error is None:
            error = "Mode hors ligne." if self.client is None else (self.health.snapshot().error or "Maelis hors ligne.")
        cached = self.cache.load_invoices(family, regie.code).get(regie.code)
        if cached is None:
            return RegieInvoices(regie, [], Freshness("cache", None, error))
        invoices = self._with_pending(family, regie, cached.invoices)
        return RegieInvoices(regie, invoices, Freshness("cache", cached.fetched_at, error))

    def open_family(self, number: int) -> FamilyView:
        """Opening a family: its dossier and all of its régies, read and cached."""
        family, freshness = self.family(number, opened=True)
        try:
            regies = self.invoices(number)
        except NotInCache:
            regies = []
        return FamilyView(family, freshness, regies)

    def with_payments(self, view: FamilyView) -> FamilyView:
        """The same view with the desk's payments as they stand now (a database
        read, no call to Maelis): after recording a payment, or when one got
        sent, confirmed or rejected. A régie whose list in the cache is newer
        than the one shown (the transmitter or the scheduled refresh read
        Maelis since) shows that newer reading, with its time; the others keep
        their freshness: Maelis was not re-read here."""
        number = view.family.number
        lists = self.cache.load_invoices(number)
        regies = []
        for r in view.regies:
            invoices, freshness = r.invoices, r.freshness
            cached = lists.get(r.regie.code)
            if (cached is not None and cached.fetched_at is not None
                    and (freshness.fetched_at is None or cached.fetched_at > freshness.fetched_at)):
                invoices = cached.invoices
                freshness = Freshness(freshness.source, cached.fetched_at, freshness.error)
            regies.append(RegieInvoices(r.regie, self._with_pending(number, r.regie, invoices), freshness, r.failure))
        return FamilyView(view.family, view.freshness, regies)

    def invoice_number(self, regie: int, ref: int | str, family: int | None = None) -> int:
        """An invoice as a person names it: its number in the régie (numInvoice, 8) or its
        printed number (idInvoice, « F10055591232 », what the window and the PDF show).
        A printed number is looked up among the invoices read before (the family's, when
        given, are read first by the caller); raises UnknownInvoice when it is not there
        or is not unique."""
        if isinstance(ref, int):
            return ref
        numbers = self.cache.invoice_numbers(regie, ref, family)
        where = f"de la famille {family} " if family is not None else ""
        if not numbers:
            hint = ("" if family is not None else
                    " : donnez son numéro dans la régie, ou lisez d'abord les factures de la famille "
                    "(« maelis-desk invoices FAMILLE »)")
            raise UnknownInvoice(f"Facture {ref} inconnue {where}dans la régie {regie}{hint}.")
        if len(numbers) > 1:
            raise UnknownInvoice(f"Plusieurs factures {ref} {where}dans la régie {regie} "
                                 f"(n° {', '.join(map(str, numbers))}) : donnez son numéro dans la régie.")
        return numbers[0]

    def invoice_pdf(self, regie: int, number: int) -> bytes:
        """The invoice's PDF, straight from Maelis (never cached)."""
        return self._ask(lambda c: c.invoice_pdf(regie, number))
