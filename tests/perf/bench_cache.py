"""Benchmark of the invoice cache at the city's scale, and of what opening a family costs Maelis.

Run from the repository root:

    .venv/bin/python tests/perf/bench_cache.py                 # 33,500 families, ~1,000,000 invoices
    .venv/bin/python tests/perf/bench_cache.py --families 2000  # a quick run

Everything happens in a temporary folder (MAELIS_DESK_HOME is pointed there,
so no real desk's settings or data are touched) that is removed at the end
unless --keep is given. Not a pytest module: pytest does not collect it
(the file name does not start with test_).

Phases:
  1. fill a fresh SQLite cache to the city's scale. Through the real Cache
     API (save_family, save_invoices; many saves per db.atomic()) this costs
     ~1.5 ms of peewee per save_invoices, 8-9 minutes for 301,500 lists:
     so by default the first families are bulk-loaded (executemany of the
     very rows the API writes, checked by reading one back through the API)
     and the last --api-families (4000) go through the real API, on top of a
     nearly full database; the full-API time is extrapolated from them.
     `--api-families 33500` measures it for real;
  2. answer a family's invoices from the cache: Cache.load_invoices and the
     whole offline service path Reader.invoices (client=None);
  3. offline family search (Cache.search_families) once the cache holds
     --search-families families;
  4. SOAP calls made by Reader.open_family against the demo Maelis
     (simulator on 127.0.0.1), cold and warm.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

# Isolate from any real desk before anything reads the settings.
_TMP = Path(tempfile.mkdtemp(prefix="maelis-bench-"))
os.environ["MAELIS_DESK_HOME"] = str(_TMP / "home")
os.environ.setdefault("PYTHON_KEYRING_BACKEND", "keyring.backends.null.Keyring")
for _var in ("MAELIS_DESK_URL", "MAELIS_DESK_USER", "MAELIS_DESK_PASSWORD", "MAELIS_DESK_DATABASE",
             "MAELIS_DESK_TIMEOUT", "MAELIS_DESK_OFFLINE", "MAELIS_DESK_OPERATOR"):
    os.environ.pop(_var, None)

from maelis_desk import domain  # noqa: E402
from maelis_desk.services.health import MaelisHealth  # noqa: E402
from maelis_desk.services.reading import Reader  # noqa: E402
from maelis_desk.store import Cache, open_database  # noqa: E402
from maelis_desk.store.database import db  # noqa: E402
from maelis_desk.store.payments import Payments  # noqa: E402

PARIS_WINTER = timezone(timedelta(hours=1))
PARIS_SUMMER = timezone(timedelta(hours=2))
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)
FIRST_NUMBER = 1312

REGIES = [
    domain.Regie(101, "CRÈCHES"),
    domain.Regie(102, "CANTINE / CLAE"),
    domain.Regie(103, "ACCUEILS DE LOISIRS"),
    domain.Regie(104, "SÉJOURS DE VACANCES"),
    domain.Regie(105, "CONSERVATOIRE"),
    domain.Regie(106, "SPORTS"),
    domain.Regie(107, "PISCINES"),
    domain.Regie(108, "MÉDIATHÈQUES"),
    domain.Regie(109, "TRANSPORT SCOLAIRE"),
]

# (invoice label, line label, unit price) per régie
TARIFFS = {
    101: [("CRECHE", "Heures d'accueil", "2.35"), ("CRECHE", "Repas", "1.10")],
    102: [("CLAE", "Repas cantine", "4.14"), ("CLAE", "Accueil du soir", "0.85"), ("CLAE", "Accueil du matin", "0.60")],
    103: [("ALSH", "Journée de loisirs", "12.40"), ("ALSH", "Demi-journée", "6.80")],
    104: [("SEJOUR", "Séjour montagne", "145.00"), ("SEJOUR", "Transport", "18.00")],
    105: [("CONSERVATOIRE", "Cours d'instrument", "62.00"), ("CONSERVATOIRE", "Formation musicale", "24.00")],
    106: [("SPORT", "École des sports", "31.00")],
    107: [("PISCINE", "Carte 10 entrées", "18.50"), ("PISCINE", "Leçon de natation", "9.20")],
    108: [("MEDIATHEQUE", "Abonnement", "15.00"), ("MEDIATHEQUE", "Pénalité de retard", "1.50")],
    109: [("TRANSPORT", "Carte de transport scolaire", "21.00")],
}

MONTHS = ["JANVIER", "FEVRIER", "MARS", "AVRIL", "MAI", "JUIN", "JUILLET", "AOUT", "SEPTEMBRE", "OCTOBRE",
          "NOVEMBRE", "DECEMBRE"]

SURNAMES = """MARTIN BERNARD THOMAS PETIT ROBERT RICHARD DURAND DUBOIS MOREAU LAURENT SIMON MICHEL LEFÈVRE LEROY
ROUX DAVID BERTRAND MOREL FOURNIER GIRARD BONNET DUPONT LAMBERT FONTAINE ROUSSEAU VINCENT MÜLLER LEFEBVRE FAURE
ANDRÉ MERCIER BLANC GUÉRIN BOYER GARNIER CHEVALIER FRANÇOIS LEGRAND GAUTHIER GARCIA PERRIN ROBIN CLÉMENT MORIN
NICOLAS HENRY ROUSSEL MATHIEU GAUTIER MASSON MARCHAND DUVAL DENIS DUMONT MARIE LEMAIRE NOËL MEYER DUFOUR MEUNIER
BRUN BLANCHARD GIRAUD JOLY RIVIÈRE LUCAS BRUNET GAILLARD BARBIER ARNAUD MARTINEZ GÉRARD ROCHE RENARD SCHMITT ROY
LEROUX COLIN VIDAL CARON PICARD ROGER FABRE AUBERT LEMOINE RENAUD DUMAS LACROIX OLIVIER PHILIPPE BOURGEOIS PIERRE
BENOÎT REY LECLERC PAYET ROLLAND LECLERCQ GUILLAUME LECOMTE LOPEZ JEAN DUPUY GUILLOT HUBERT BERGER CARPENTIER
SANCHEZ DUPUIS MOULIN LOUIS DESCHAMPS HUET VASSEUR PEREZ BOUCHER FLEURY ROYER KLEIN JACQUET ADAM PARIS POIRIER
MARTY AUBRY GUYOT CARRÉ CHARLES RENAULT CHARPENTIER MÉNARD MAILLARD BARON BERTIN BAILLY HERVÉ SCHNEIDER FERNANDEZ
LE_GALL COLLET LÉGER BOUVIER JULIEN PRÉVOST MILLET PERROT DANIEL LE_ROUX COUSIN GERMAIN BRETON BESSON LANGLOIS
N'DIAYE DIALLO TRAORÉ KONÉ BEN_AMAR HADDAD NGUYEN TRAN DA_SILVA DOS_SANTOS FERREIRA PEREIRA D'ALMEIDA O'NEILL
SAINT-MARTIN DUPONT-AIGNAN LEBLANC-ROUX MARTIN-DUVAL""".split()
SURNAMES = [s.replace("_", " ") for s in SURNAMES]

FIRSTNAMES = """Marie Jean Pierre Michel André Philippe Nathalie Isabelle Sylvie Catherine Françoise Nicolas Julien
Sébastien Céline Aurélie Thomas Camille Léa Manon Emma Chloé Inès Jade Louise Zoé Lucas Hugo Louis Gabriel Arthur
Raphaël Jules Adam Léo Noah Ethan Nathan Théo Maël Éloïse Anaïs Clémence Mathilde Océane Margaux Élodie Hélène
Aïssatou Mamadou Fatou Moussa Yasmine Karim Mehdi Sofia Lina Amine Jean-Baptiste Marie-Claire Anne-Sophie Noé Loïc
Gaëlle Joël Benoît Cécile Pénélope Timothée Bérénice Ophélie Héloïse Maëlys Lou Rose Alice Agathe Victor Paul""".split()


def percentile(samples: list[float], p: float) -> float:
    ordered = sorted(samples)
    k = max(0, min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1))))
    return ordered[k]


def fmt_time(seconds: float) -> str:
    if seconds < 1e-3:
        return f"{seconds * 1e6:7.0f} µs"
    if seconds < 1:
        return f"{seconds * 1e3:7.2f} ms"
    return f"{seconds:7.2f} s "


def stats_line(label: str, samples: list[float]) -> str:
    return (f"  {label:<44} n={len(samples):<5} median {fmt_time(statistics.median(samples))}   "
            f"p95 {fmt_time(percentile(samples, 95))}   max {fmt_time(max(samples))}")


def peak_rss_mb() -> float:
    # ru_maxrss is in KiB on Linux, bytes on macOS
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss / (1024 * 1024) if sys.platform == "darwin" else rss / 1024


# --- realistic data ------------------------------------------------------------------


class Generator:
    def __init__(self, seed: int, invoices_per_family: int):
        self.rng = random.Random(seed)
        self.per_family = invoices_per_family
        self.next_invoice = {r.code: 1 for r in REGIES}
        self.next_person = 200000

    def _person_num(self) -> int:
        self.next_person += 1
        return self.next_person

    def person(self, lastname: str, *, full: bool) -> domain.Person:
        rng = self.rng
        return domain.Person(
            num=self._person_num(),
            lastname=lastname,
            firstname=rng.choice(FIRSTNAMES),
            civility=rng.choice(["M", "MME"]) if full else None,
            birth=datetime(rng.randint(1965, 2000), rng.randint(1, 12), rng.randint(1, 28), tzinfo=PARIS_WINTER)
            if full else None,
            address=domain.Address(street1=f"RUE {rng.choice(SURNAMES)}", zipcode=f"310{rng.randint(0, 99):02d}",
                                   town="TOULOUSE", num=str(rng.randint(1, 150))) if full else None,
            contact=domain.Contact(mobile=f"06{rng.randint(0, 99999999):08d}",
                                   mail=f"{lastname.lower().replace(' ', '')}@example.org") if full else None,
        )

    def family(self, number: int, *, complete: bool = True) -> domain.Family:
        rng = self.rng
        last = rng.choice(SURNAMES)
        if rng.random() < 0.08:
            last = f"{last}-{rng.choice(SURNAMES)}"
        rl1 = self.person(last, full=complete)
        rl2 = self.person(last if rng.random() < 0.6 else rng.choice(SURNAMES), full=complete) \
            if rng.random() < 0.65 else None
        children = tuple(
            domain.Child(self._person_num(), last, rng.choice(FIRSTNAMES), rng.choice(["M", "F"]),
                         datetime(rng.randint(2010, 2023), rng.randint(1, 12), rng.randint(1, 28),
                                  tzinfo=PARIS_WINTER))
            for _ in range(rng.choice([1, 1, 2, 2, 2, 3, 4]))
        )
        return domain.Family(number=number, rl1=rl1, rl2=rl2, children=children,
                             category="BI" if complete else None, situation="MARIE" if complete else None,
                             complete=complete)

    def invoices(self, family: domain.Family) -> dict[int, list[domain.Invoice]]:
        """Every régie's list (some empty): on average `per_family` invoices in all."""
        rng = self.rng
        mean = self.per_family / len(REGIES)
        result = {}
        for regie in REGIES:
            count = rng.randint(0, round(2 * mean))
            result[regie.code] = [self.invoice(family, regie, k) for k in range(count)]
        return result

    def invoice(self, family: domain.Family, regie: domain.Regie, k: int) -> domain.Invoice:
        rng = self.rng
        number = self.next_invoice[regie.code]
        self.next_invoice[regie.code] += 1
        month = 1 + (k % 12)
        year = 2024 + (k // 12) % 3
        tz = PARIS_SUMMER if 4 <= month <= 10 else PARIS_WINTER
        lines = []
        for n in range(rng.randint(1, 3)):
            _, line_label, price = rng.choice(TARIFFS[regie.code])
            quantity = Decimal(rng.randint(1, 20))
            unit = Decimal(price)
            child = rng.choice(family.children)
            lines.append(domain.InvoiceLine(
                number=n + 1, label=line_label, quantity=quantity, unit_price=unit, amount=quantity * unit,
                person_num=child.num, person_name=child.full_name.upper(),
                start=datetime(year, month, 1, tzinfo=tz), end=datetime(year, month, 28, tzinfo=tz),
            ))
        amount = sum((line.amount for line in lines), Decimal("0"))
        state = rng.random()
        paid, paid_tg, transmitted = Decimal("0"), Decimal("0"), None
        if state < 0.70:
            paid = amount
        elif state < 0.78:
            paid = (amount / 2).quantize(Decimal("0.01"))
        elif state < 0.84:
            transmitted = datetime(year, month, 20, 10, 0, tzinfo=tz) + timedelta(days=60)
        elif state < 0.87:
            paid_tg = amount
            transmitted = datetime(year, month, 20, 10, 0, tzinfo=tz) + timedelta(days=60)
        prefix = TARIFFS[regie.code][0][0]
        return domain.Invoice(
            regie=regie,
            number=number,
            id=f"F{regie.code}{number:08d}",
            label=f"{prefix} {MONTHS[month - 1]} {year}",
            family=family.number,
            payer_name=family.rl1.full_name.upper(),
            date=datetime(year, month, 24, tzinfo=tz),
            deadline=datetime(year, month, 24, tzinfo=tz) + timedelta(days=35),
            amount=amount,
            paid=paid,
            paid_treasury=paid_tg,
            transmitted_at=transmitted,
            payer=family.rl1 if rng.random() < 0.5 else None,
            lines=tuple(lines),
        )


# --- phases ------------------------------------------------------------------------------


def _insert_sql(model, names: list[str]) -> str:
    columns = ", ".join(f'"{model._meta.fields[n].column_name}"' for n in names)
    marks = ", ".join([db.obj.param] * len(names))  # "?" on SQLite, "%s" on PostgreSQL (psycopg)
    return f'INSERT INTO "{model._meta.table_name}" ({columns}) VALUES ({marks})'


def bulk_save(work: list, fetched_at: datetime, *, opened_at=None, checked_at=None) -> None:
    """Write the rows Cache.save_family(opened=True) and Cache.save_invoices
    write for a fresh database, with executemany: the fast way to reach the
    city's scale before measuring the real API on top of it. `check_bulk_rows`
    proves, at every run, that these are the API's rows exactly.

    `opened_at(number)` and `checked_at(number, regie)`, when given, say when
    a family was last opened at a desk (None: never) and when a list was read
    (tests/perf/bench_sync.py spreads them); by default both are `fetched_at`,
    as the API writes them."""
    from maelis_desk.store import models, normalise
    from maelis_desk.store.cache import _stored
    from maelis_desk.store.sync import list_facts
    from maelis_desk.store.fields import utc_text

    def text(moment):
        return utc_text(moment) if moment is not None else None

    when = utc_text(fetched_at)
    families, words, lists, invoices = [], [], [], []
    for fam, by_regie in work:
        summary = json.dumps(fam.summary_json(), ensure_ascii=False, separators=(",", ":"))
        opened = when if opened_at is None else text(opened_at(fam.number))
        families.append((fam.number, models.Family.data.db_value(fam.to_json()), summary, fam.complete, when,
                         opened))
        found = {w for text_ in fam.search_words() for w in normalise(text_)}
        words += [(w[:64], fam.number) for w in sorted(found)]
        for code, invs in by_regie.items():
            count, newest, digest = list_facts(invs)
            read = when if checked_at is None else utc_text(checked_at(fam.number, code))
            lists.append((fam.number, code, read, read, sum(1 for i in invs if i.to_pay_at_regie), count,
                          text(newest), digest))
            invoices += [(code, i.number, fam.number, _stored(i)) for i in invs]
    with db.atomic():
        # a cursor's executemany: sqlite3's, or psycopg's (pipelined) on PostgreSQL (bench_postgres.py)
        cursor = db.connection().cursor()
        cursor.executemany(
            _insert_sql(models.Family, ["number", "data", "summary", "complete", "fetched_at", "opened_at"]), families
        )
        cursor.executemany(_insert_sql(models.FamilyWord, ["word", "family"]), words)
        cursor.executemany(_insert_sql(models.InvoiceList, ["family", "regie", "fetched_at", "checked_at", "to_pay",
                                                            "invoices", "last_invoice", "digest"]), lists)
        cursor.executemany(_insert_sql(models.Invoice, ["regie", "number", "family", "data"]), invoices)
        cursor.close()


def _family_tables():
    from maelis_desk.store import models

    return [(models.Family, "number"), (models.FamilyWord, "family"), (models.InvoiceList, "family"),
            (models.Invoice, "family")]


def _raw_rows(number: int) -> dict[str, list]:
    """Every column of every row about one family, as stored."""
    rows = {}
    for model, key in _family_tables():
        table, column = model._meta.table_name, model._meta.fields[key].column_name
        cursor = db.execute_sql(f'SELECT * FROM "{table}" WHERE "{column}" = {db.obj.param}', (number,))
        rows[table] = sorted(cursor.fetchall(), key=repr)
    return rows


def check_bulk_rows(cache: Cache, item) -> None:
    """Save one family through the API, then through bulk_save: the stored rows must be identical."""
    fam = item[0]
    api_save(cache, [item], NOW)
    by_api = _raw_rows(fam.number)
    with db.atomic():
        for model, key in _family_tables():
            model.delete().where(getattr(model, key) == fam.number).execute()
    try:
        bulk_save([item], NOW)
    except Exception as exc:  # noqa: BLE001
        sys.exit(f"bench_cache.bulk_save is out of date with store/: {exc}")
    by_bulk = _raw_rows(fam.number)
    if by_bulk != by_api:
        sys.exit(f"bench_cache.bulk_save is out of date with store/ (Cache.save_*):\n  API:  {by_api}\n"
                 f"  bulk: {by_bulk}")
    with db.atomic():
        for model, key in _family_tables():
            model.delete().where(getattr(model, key) == fam.number).execute()


def api_save(cache: Cache, work: list, fetched_at: datetime) -> None:
    """The real API: one save_family and 9 save_invoices per family, in one transaction."""
    with db.atomic():
        for fam, by_regie in work:
            cache.save_family(fam, fetched_at, opened=True)
            for code, invoices in by_regie.items():
                cache.save_invoices(fam.number, code, invoices, fetched_at)


def fill(cache: Cache, gen: Generator, families: int, api_families: int, batch: int) -> dict:
    """The first families bulk-loaded, the last `api_families` through the real Cache API."""
    numbers = list(range(FIRST_NUMBER, FIRST_NUMBER + families))
    api_from = families - api_families
    parts = {p: {"families": 0, "invoices": 0, "lists": 0, "empty": 0, "lines": 0, "seconds": 0.0}
             for p in ("bulk", "api")}
    generate_seconds = 0.0
    started = time.perf_counter()
    cache.save_regies(REGIES, NOW)
    i = 0
    while i < families:
        size = min(batch, (api_from - i) if i < api_from else families - i)
        part = parts["bulk" if i < api_from else "api"]
        t = time.perf_counter()
        work = []
        for number in numbers[i:i + size]:
            fam = gen.family(number)
            work.append((fam, gen.invoices(fam)))
        generate_seconds += time.perf_counter() - t
        if i == 0 and part is parts["bulk"]:
            check_bulk_rows(cache, work[0])
        t = time.perf_counter()
        if part is parts["bulk"]:
            bulk_save(work, NOW)
        else:
            api_save(cache, work, NOW)
        part["seconds"] += time.perf_counter() - t
        part["families"] += size
        for _, lists in work:
            part["lists"] += len(lists)
            for invoices in lists.values():
                part["invoices"] += len(invoices)
                part["empty"] += not invoices
                part["lines"] += sum(len(inv.lines) for inv in invoices)
        i += size
        if i % (batch * 10) == 0 or i == families or i == api_from:
            total = parts["bulk"]["invoices"] + parts["api"]["invoices"]
            print(f"    ... {i:>6} families, {total:>9,} invoices, {time.perf_counter() - started:6.1f} s"
                  f"{'  (bulk part done)' if i == api_from and api_from else ''}", flush=True)
    return {"bulk": parts["bulk"], "api": parts["api"], "generate": generate_seconds,
            "wall": time.perf_counter() - started}


def time_calls(func, args: list) -> list[float]:
    samples = []
    for a in args:
        t = time.perf_counter()
        func(a)
        samples.append(time.perf_counter() - t)
    return samples


def make_queries(rng: random.Random, families: int, n: int) -> dict[str, list[str]]:
    def plain(name: str) -> str:
        return name.split()[0].split("-")[0].split("'")[-1]

    queries: dict[str, list[str]] = {"name prefix (2-6 letters)": [], "family number / prefix": [],
                                     "two words (name + first name)": [], "first name prefix": []}
    for _ in range(n):
        kind = rng.random()
        if kind < 0.40:
            name = plain(rng.choice(SURNAMES)).lower()
            queries["name prefix (2-6 letters)"].append(name[: rng.randint(2, 6)])
        elif kind < 0.60:
            number = str(rng.randint(FIRST_NUMBER, FIRST_NUMBER + families - 1))
            queries["family number / prefix"].append(number[: rng.randint(2, len(number))])
        elif kind < 0.85:
            name = plain(rng.choice(SURNAMES)).lower()
            first = rng.choice(FIRSTNAMES).lower()
            queries["two words (name + first name)"].append(f"{name[: rng.randint(3, 8)]} {first[: rng.randint(2, 5)]}")
        else:
            queries["first name prefix"].append(rng.choice(FIRSTNAMES)[: rng.randint(2, 6)])
    return queries


class PostCounter:
    """Counts the HTTP requests a requests.Session sends (response hook)."""

    def __init__(self, session):
        self.by_method: dict[str, int] = {}
        self.operations: list[str] = []
        session.hooks.setdefault("response", []).append(self._hook)

    def _hook(self, response, *args, **kwargs):
        method = response.request.method
        self.by_method[method] = self.by_method.get(method, 0) + 1
        if method == "POST":
            body = response.request.body or b""
            if isinstance(body, str):
                body = body.encode()
            for op in (b"readFamilyListFromFullName", b"readFamily", b"readRegieList", b"readInvoices",
                       b"getInvoicePDF", b"payInvoices"):
                if b":" + op in body or b"<" + op in body:
                    self.operations.append(op.decode())
                    break
            else:
                self.operations.append("?")
        return response

    def take(self) -> tuple[dict[str, int], list[str]]:
        result = (dict(self.by_method), list(self.operations))
        self.by_method.clear()
        self.operations.clear()
        return result


def soap_calls(tmp: Path) -> None:
    from maelis_desk.config import load_settings
    from maelis_desk.services import Desk
    from maelis_desk.simulator import Simulator

    sim = Simulator(port=0, families=300, state_dir=tmp / "sim").start()
    desk = None
    try:
        settings = load_settings({"url": sim.url, "user": "demo", "password": "demo",
                                  "database": str(tmp / "soap.sqlite3")})
        desk = Desk.open(settings)
        counter = PostCounter(desk.client.transport.session)
        for label in ("cold (first open: WSDLs, régie list)", "warm (second open, régie list cached)"):
            t = time.perf_counter()
            view = desk.reader.open_family(1312)
            elapsed = time.perf_counter() - t
            methods, ops = counter.take()
            summary = ", ".join(f"{ops.count(op)} {op}" for op in dict.fromkeys(ops))
            print(f"  {label:<40} {methods.get('POST', 0):>2} SOAP calls (POST), {methods.get('GET', 0)} GET; "
                  f"{fmt_time(elapsed).strip()}")
            print(f"      {summary}")
            print(f"      family {view.family.number}: {len(view.regies)} régies, "
                  f"{sum(len(r.invoices) for r in view.regies)} invoices, source {view.freshness.source}")
    finally:
        if desk is not None:
            desk.close()
        sim.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--families", type=int, default=33500, help="families in the filled cache (33500)")
    parser.add_argument("--invoices-per-family", type=int, default=30, help="average over 9 régies (30)")
    parser.add_argument("--search-families", type=int, default=50000,
                        help="families in the cache for the search phase (50000)")
    parser.add_argument("--samples", type=int, default=1000, help="samples per latency figure (1000)")
    parser.add_argument("--api-families", type=int, default=4000,
                        help="how many of the families are saved through the real Cache API, the others being "
                        "bulk-loaded first (4000; give --families' value to fill everything through the API, "
                        "~8 minutes at 33,500)")
    parser.add_argument("--batch", type=int, default=500, help="families saved per db.atomic() (500)")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--no-soap", action="store_true", help="skip the simulator phase")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder and print its path")
    args = parser.parse_args(argv)

    rng = random.Random(args.seed)
    path = _TMP / "cache.sqlite3"
    print("Maelis Desk — cache benchmark")
    print(f"  python {sys.version.split()[0]}, sqlite {__import__('sqlite3').sqlite_version}, "
          f"{os.cpu_count()} CPUs, database {path}")
    total_started = time.perf_counter()
    try:
        database = open_database(path)
        cache = Cache()

        api_families = min(args.api_families, args.families)
        print(f"\n[1] Fill a fresh cache: {args.families:,} families, ~{args.invoices_per_family} invoices each "
              f"over {len(REGIES)} régies (every (family, régie) list saved, some empty)")
        print(f"    the first {args.families - api_families:,} families bulk-loaded (executemany of the very rows "
              f"save_family/save_invoices write),")
        print(f"    the last {api_families:,} through the real Cache API (save_family + 9 × save_invoices per family),"
              f" {args.batch} families (~{args.batch * (1 + len(REGIES)):,} saves) per db.atomic() transaction")
        f = fill(cache, Generator(args.seed, args.invoices_per_family), args.families, api_families, args.batch)
        bulk, api = f["bulk"], f["api"]
        n_fam = bulk["families"] + api["families"]
        n_lists = bulk["lists"] + api["lists"]
        n_inv = bulk["invoices"] + api["invoices"]
        size = sum(p.stat().st_size for p in _TMP.glob("cache.sqlite3*"))
        print(f"  families              {n_fam:>10,}")
        print(f"  invoice lists         {n_lists:>10,}   ({bulk['empty'] + api['empty']:,} empty, remembered as empty)")
        print(f"  invoices              {n_inv:>10,}   ({bulk['lines'] + api['lines']:,} lines inside their JSON)")
        if bulk["families"]:
            rows = bulk["families"] + bulk["lists"] + bulk["invoices"]
            print(f"  bulk part             {bulk['seconds']:>10.1f} s   {bulk['families']:,} families, "
                  f"{bulk['invoices']:,} invoices -> {bulk['invoices'] / bulk['seconds']:,.0f} invoices/s, "
                  f"{rows / bulk['seconds']:,.0f} rows/s")
        api_rate = None
        if api["families"]:
            rows = api["families"] + api["lists"] + api["invoices"]
            api_rate = api["seconds"] / api["families"]
            print(f"  real Cache API        {api['seconds']:>10.1f} s   {api['families']:,} families, "
                  f"{api['lists']:,} save_invoices, {api['invoices']:,} invoices -> "
                  f"{api['invoices'] / api['seconds']:,.0f} invoices/s, {rows / api['seconds']:,.0f} rows/s "
                  f"(families + lists + invoices)")
            print(f"                                   {api['seconds'] / api['lists'] * 1e3:.2f} ms per save_invoices "
                  f"(~{api['invoices'] / api['lists']:.1f} invoices), "
                  f"{api['seconds'] / api['families'] * 1e3:.1f} ms per family (1 + 9 saves)")
        if bulk["families"] and api_rate:
            print(f"  => filling all {n_fam:,} families through the Cache API: ~{api_rate * n_fam:,.0f} s "
                  f"(extrapolated; --api-families {args.families} measures it)")
        elif api_rate:
            print(f"  => filled entirely through the Cache API in {api['seconds']:,.1f} s")
        print(f"  generating the data   {f['generate']:>10.1f} s   (not counted above)")
        print(f"  wall                  {f['wall']:>10.1f} s")
        print(f"  database size         {size / 2**20:>10.0f} MiB (with WAL)")
        print(f"  peak RSS after fill   {peak_rss_mb():>10.0f} MiB")

        print(f"\n[2] A family's invoices from the cache ({args.samples} random families of {args.families})")
        numbers = [FIRST_NUMBER + rng.randrange(args.families) for _ in range(args.samples)]
        for n in numbers[:50]:  # warm-up
            cache.load_invoices(n)
        samples = time_calls(cache.load_invoices, numbers)
        counts = [sum(len(c.invoices) for c in cache.load_invoices(n).values()) for n in numbers[:200]]
        print(stats_line("Cache.load_invoices(family)  [9 lists]", samples))
        print(f"      (~{statistics.mean(counts):.0f} invoices per family decoded from JSON)")
        payments = Payments()
        reader = Reader(None, cache, MaelisHealth(timeout=5.0), payments=payments, desk_id="bench")
        numbers = [FIRST_NUMBER + rng.randrange(args.families) for _ in range(args.samples)]
        for n in numbers[:50]:
            reader.invoices(n)
        samples = time_calls(reader.invoices, numbers)
        print(stats_line("Reader.invoices(family), offline", samples))
        print("      (régie list + one cache read + one read of the pending payments + overlay)")

        print(f"\n[3] Offline family search at {args.search_families:,} families")
        extra = args.search_families - args.families
        if extra > 0:
            gen = Generator(args.seed + 1, 0)
            t = time.perf_counter()
            start = FIRST_NUMBER + args.families
            for i in range(0, extra, 1000):
                bulk_save([(gen.family(start + k), {}) for k in range(i, min(i + 1000, extra))], NOW)
            print(f"  bulk-loaded {extra:,} more families (no invoices) in {time.perf_counter() - t:.1f} s")
        total = cache.count_families()
        queries = make_queries(rng, total, args.samples)
        all_samples: list[float] = []
        hits: list[int] = []
        for q in [q for qs in queries.values() for q in qs][:50]:
            cache.search_families(q)
        for kind, qs in queries.items():
            samples = []
            for q in qs:
                t = time.perf_counter()
                found = cache.search_families(q)
                samples.append(time.perf_counter() - t)
                hits.append(len(found))
            all_samples += samples
            examples = ", ".join(repr(q) for q in qs[:4])
            print(stats_line(kind, samples) + f"   e.g. {examples}")
        print(stats_line(f"all queries ({total:,} families in cache)", all_samples))
        print(f"      (results per query: median {statistics.median(hits):.0f}, "
              f"{sum(h == 50 for h in hits) / len(hits):.0%} capped at 50)")
        database.close()

        if not args.no_soap:
            print("\n[4] SOAP calls to open a family (reader.open_family(1312), demo Maelis on 127.0.0.1)")
            soap_calls(_TMP)

        print(f"\nPeak RSS {peak_rss_mb():.0f} MiB; total {time.perf_counter() - total_started:.0f} s")
    finally:
        if not db.is_closed():
            db.close()
        if args.keep:
            print(f"kept: {_TMP}")
        else:
            shutil.rmtree(_TMP, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
