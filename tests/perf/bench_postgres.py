"""Benchmark of the desk on PostgreSQL beside SQLite, at the city's scale (issue 10, « How it is checked »).

Run from the repository root, with a PostgreSQL server (its URL from
MAELIS_DESK_TEST_POSTGRES or --postgres; scripts/postgres.sh starts a
throw-away one):

    . scripts/system-packages.sh && . scripts/postgres.sh && postgres_start && \\
        .venv/bin/python tests/perf/bench_postgres.py; postgres_stop
    .venv/bin/python tests/perf/bench_postgres.py --postgres postgresql://user@host/db --families 3000

Not a pytest module (the file name does not start with test_); it asserts
nothing about speed. bench_cache (imported first) points MAELIS_DESK_HOME at a
fresh temporary folder before anything reads the settings; the SQLite cache
and the four desks' folders are made there, and the PostgreSQL cache is a
database of its own on the server (--pg-database, dropped and created afresh;
the URL's own database is only used to create it). Both are removed at the
end unless --keep is given.

Phases:
  1. fill a SQLite cache and a PostgreSQL cache with the same data
     (bench_cache's generator and bulk loader: the very rows Cache.save_family
     and Cache.save_invoices write, checked on one family against the API on
     each database at every run): --families families, ~30 invoices each over
     9 régies;
  2. a family's invoices from each cache, in the same run, alternating (the
     same random family on both, the order swapped every sample):
     Cache.load_invoices and the whole offline service path Reader.invoices;
     median, p95 and the PostgreSQL / SQLite ratio;
  3. payments recorded per second by --desks desks at once: as many processes
     (multiprocessing, spawned), each a real Desk (Desk.open, offline) with its
     own desk code and settings folder and its cash session open, recording
     through PaymentService.record, each on invoices of its own families,
     for --seconds seconds: on the PostgreSQL database, then on the SQLite
     file. Payments/s in all and per desk, the latency of a record, and the
     receipt numbers checked afterwards: gap-free and without duplicates per
     régie and year, agreeing with the counters.

scripts/postgres.sh's throw-away server runs with fsync=off: the server's
fsync is printed, and tests/perf/README.md says how its figures were also
taken with fsync=on.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import random
import shutil
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT / "tests"))

PG_DATABASE = "maelis_desk_bench"
SQLITE_NAME = "cache.sqlite3"


def pg_url_for(url: str, database: str) -> str:
    """`url` naming `database` instead of its own."""
    return urlunsplit(urlsplit(url)._replace(path="/" + database))


def fresh_pg_database(url: str, database: str) -> str:
    """Drop and create `database` on the server of `url` (connected through the URL's own
    database, left alone); return its URL."""
    import psycopg
    from psycopg import sql

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(database)))
        conn.execute(sql.SQL("CREATE DATABASE {} ENCODING 'UTF8' TEMPLATE template0").format(
            sql.Identifier(database)))
    return pg_url_for(url, database)


def drop_pg_database(url: str, database: str) -> None:
    import psycopg
    from psycopg import sql

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(database)))


def pg_facts(url: str) -> str:
    import psycopg

    with psycopg.connect(url) as conn:
        version = conn.execute("SHOW server_version").fetchone()[0]
        fsync = conn.execute("SHOW fsync").fetchone()[0]
        commit = conn.execute("SHOW synchronous_commit").fetchone()[0]
        size = conn.execute("SELECT pg_database_size(current_database())").fetchone()[0]
    return f"PostgreSQL {version}, fsync={fsync}, synchronous_commit={commit}, database {size / 2**20:,.0f} MiB"


def stats(samples: list[float]) -> tuple[float, float]:
    import bench_cache

    return statistics.median(samples), bench_cache.percentile(samples, 95)


def ms(seconds: float) -> str:
    return f"{seconds * 1e3:7.2f} ms"


# --- phase 1: filling both caches with the same data --------------------------------------


def fill_both(databases: dict, families: int, per_family: int, seed: int, batch: int) -> dict:
    """Generate each batch once and bulk-load it into every database (bench_cache.bulk_save),
    after checking, on the first family, that bulk_save writes the API's rows on each."""
    import bench_cache
    from maelis_desk.store import Cache
    from maelis_desk.store.database import db

    gen = bench_cache.Generator(seed, per_family)
    cache = Cache()
    seconds = {name: 0.0 for name in databases}
    counts = {"families": 0, "lists": 0, "invoices": 0}
    generate = 0.0
    started = time.perf_counter()
    for database in databases.values():
        db.initialize(database)
        cache.save_regies(bench_cache.REGIES, bench_cache.NOW)
    first = bench_cache.FIRST_NUMBER
    for i in range(0, families, batch):
        t = time.perf_counter()
        work = []
        for number in range(first + i, first + min(i + batch, families)):
            fam = gen.family(number)
            work.append((fam, gen.invoices(fam)))
        generate += time.perf_counter() - t
        for name, database in databases.items():
            db.initialize(database)
            if i == 0:
                bench_cache.check_bulk_rows(cache, work[0])
            t = time.perf_counter()
            bench_cache.bulk_save(work, bench_cache.NOW)
            seconds[name] += time.perf_counter() - t
        counts["families"] += len(work)
        for _, lists in work:
            counts["lists"] += len(lists)
            counts["invoices"] += sum(len(v) for v in lists.values())
        done = i + len(work)
        if done % (batch * 10) == 0 or done == families:
            print(f"    ... {done:>6} families, {counts['invoices']:>9,} invoices, "
                  + ", ".join(f"{n} {s:5.1f} s" for n, s in seconds.items())
                  + f", wall {time.perf_counter() - started:6.1f} s", flush=True)
    return {"seconds": seconds, "generate": generate, **counts}


# --- phase 2: reading a family's invoices from each cache ---------------------------------


def compare_reads(databases: dict, families: int, samples: int, rng: random.Random) -> None:
    """The same random families read from each database, alternating, the order swapped
    every sample; Cache.load_invoices, then Reader.invoices (offline)."""
    import bench_cache
    from maelis_desk.services.health import MaelisHealth
    from maelis_desk.services.reading import Reader
    from maelis_desk.store import Cache
    from maelis_desk.store.database import db
    from maelis_desk.store.payments import Payments

    cache = Cache()
    readers = {name: Reader(None, cache, MaelisHealth(timeout=5.0), payments=Payments(), desk_id="bench")
               for name in databases}
    names = list(databases)
    first = bench_cache.FIRST_NUMBER
    cases = [("Cache.load_invoices(family)  [9 lists]", lambda name: cache.load_invoices),
             ("Reader.invoices(family), offline", lambda name: readers[name].invoices)]
    for label, func_of in cases:
        numbers = [first + rng.randrange(families) for _ in range(samples)]
        for n in numbers[:50]:  # warm-up, both
            for name in names:
                db.initialize(databases[name])
                func_of(name)(n)
        times: dict[str, list[float]] = {name: [] for name in names}
        answers = {}
        for k, n in enumerate(numbers):
            for name in (names if k % 2 == 0 else names[::-1]):
                db.initialize(databases[name])
                func = func_of(name)
                t = time.perf_counter()
                result = func(n)
                times[name].append(time.perf_counter() - t)
                if k < 20:  # both databases answer the same
                    if isinstance(result, dict):
                        answers.setdefault(n, {})[name] = sorted(
                            (c.regie, [i.to_json() for i in c.invoices]) for c in result.values())
                    else:
                        answers.setdefault(n, {})[name] = [(r.regie.code, [i.to_json() for i in r.invoices])
                                                           for r in result]
        same = all(len({repr(v) for v in by_db.values()}) == 1 for by_db in answers.values())
        print(f"  {label}   ({samples} random families of {families:,}; first 20 answers identical on both: "
              f"{'yes' if same else 'NO'})")
        medians = {}
        for name in names:
            med, p95 = stats(times[name])
            medians[name] = (med, p95)
            print(f"    {name:<11} median {ms(med)}   p95 {ms(p95)}   max {ms(max(times[name]))}")
        (sm, sp), (pm, pp) = medians["SQLite"], medians["PostgreSQL"]
        print(f"    PostgreSQL / SQLite: median × {pm / sm:.2f}, p95 × {pp / sp:.2f}")


# --- phase 3: four desks recording payments at once ----------------------------------------


def desk_worker(spec: str, code: str, home: str, families: list[int], seconds: float, limit: int,
                ready, start, results) -> None:
    """One desk in its own process: a real Desk (offline) on `spec`, its cash session open,
    recording payments through PaymentService.record on its own families' invoices."""
    os.environ["MAELIS_DESK_HOME"] = home
    try:
        from maelis_desk.config import load_settings
        from maelis_desk.services import Desk
        from maelis_desk.services.modes import CASH_LIMIT, Mode
        from maelis_desk.services.payments import PaymentRequest
        from session_helpers import open_session

        settings = load_settings({"database": spec, "offline": True, "desk": f"bench-{code.lower()}",
                                  "desk_code": code, "operator": "Anne Bench"})
        desk = Desk.open(settings)
        open_session(desk)
        # what this desk will pay: its families' invoices to pay at the régie, the desk's view
        # (cache + every desk's unconfirmed payments), read before the clock starts
        todo = []
        for family in families:
            for r in desk.reader.invoices(family):
                todo += [inv for inv in r.invoices if inv.to_pay_at_regie and inv.remaining > 0]
            if len(todo) >= limit:
                break
        ready.put((code, len(todo), None))
    except BaseException as exc:  # noqa: BLE001 - told to the parent, which stops
        ready.put((code, 0, f"{type(exc).__name__}: {exc}"))
        return
    start.wait()
    modes = [Mode.ESPECES, Mode.CARTE, Mode.CHEQUE]
    latencies, refused, errors = [], 0, []
    began = time.perf_counter()
    deadline = began + seconds
    k = 0
    while time.perf_counter() < deadline and k < len(todo):
        inv = todo[k]
        mode = modes[k % 3]
        amount = min(inv.remaining, CASH_LIMIT) if mode is Mode.ESPECES else inv.remaining
        details = {Mode.ESPECES: {}, Mode.CARTE: {"card_reference": f"A{k:06d}"},
                   Mode.CHEQUE: {"cheque_number": f"{1000000 + k}"}}[mode]
        request = PaymentRequest(inv.family, inv.regie.code, [inv.number], amount, mode, details)
        k += 1
        t = time.perf_counter()
        try:
            desk.payments.record(request)
        except Exception as exc:  # noqa: BLE001 - counted and shown; the run goes on
            refused += 1
            if len(errors) < 3:
                errors.append(f"{type(exc).__name__}: {exc}")
            continue
        latencies.append(time.perf_counter() - t)
    elapsed = time.perf_counter() - began
    desk.close()
    results.put({"code": code, "count": len(latencies), "elapsed": elapsed, "latencies": latencies,
                 "refused": refused, "errors": errors, "ran_out": k >= len(todo)})


def _get(queue, procs, timeout: float):
    """The next message of a desk process; exits when one died without a word."""
    import queue as queues

    deadline = time.monotonic() + timeout
    while True:
        try:
            return queue.get(timeout=1.0)
        except queues.Empty:
            dead = [p for p in procs if p.exitcode not in (None, 0)]
            if dead or time.monotonic() > deadline:
                for p in procs:
                    if p.is_alive():
                        p.terminate()
                sys.exit(f"a desk process failed: {[(p.name, p.exitcode) for p in dead] or 'timed out'}")


def desks_at_once(name: str, spec: str, workdir: Path, desks: int, families: int, seconds: float,
                  rng: random.Random) -> dict:
    """`desks` desk processes recording payments at once on `spec`; returns their figures."""
    import bench_cache

    ctx = multiprocessing.get_context("spawn")  # no fork of this process' open connections
    ready, results, start = ctx.Queue(), ctx.Queue(), ctx.Event()
    numbers = list(range(bench_cache.FIRST_NUMBER, bench_cache.FIRST_NUMBER + families))
    rng.shuffle(numbers)
    limit = max(2000, int(600 * seconds))  # more than a desk can pay in the time
    procs = []
    for d in range(desks):
        code = f"CAISSE{d + 1}"
        home = workdir / "desks" / code
        mine = numbers[d::desks]  # each desk its own families, so its own invoices
        procs.append(ctx.Process(target=desk_worker, name=f"desk-{code}",
                                 args=(spec, code, str(home), mine, seconds, limit, ready, start, results)))
    for p in procs:
        p.start()
    prepared = [_get(ready, procs, 600) for _ in procs]
    failed = [(code, err) for code, _, err in prepared if err]
    if failed:
        start.set()
        for p in procs:
            p.join(timeout=30)
        sys.exit(f"a desk could not start on {name}: {failed}")
    print(f"  {name}: {desks} desk processes ready "
          f"({', '.join(f'{code} {n:,} invoices to pay' for code, n, _ in sorted(prepared))}); go")
    t0 = time.perf_counter()
    start.set()
    got = [_get(results, procs, seconds + 600) for _ in procs]
    wall = time.perf_counter() - t0
    for p in procs:
        p.join(timeout=60)
    got.sort(key=lambda r: r["code"])
    total = sum(r["count"] for r in got)
    every = [x for r in got for x in r["latencies"]]
    print(f"  {name}: {total:,} payments in {wall:.1f} s -> {total / wall:,.1f} payments/s in all "
          f"(record: median {ms(statistics.median(every)).strip()}, "
          f"p95 {ms(bench_cache.percentile(every, 95)).strip()})" if every else f"  {name}: no payment recorded")
    for r in got:
        rate = r["count"] / r["elapsed"] if r["elapsed"] else 0.0
        line = f"    {r['code']:<9} {r['count']:>6,} payments, {rate:7.1f} /s"
        if r["latencies"]:
            med, p95 = stats(r["latencies"])
            line += f"   record median {ms(med)}   p95 {ms(p95)}"
        if r["refused"]:
            line += f"   {r['refused']} refused or failed: {r['errors']}"
        if r["ran_out"]:
            line += "   (ran out of invoices before the time: the rate is a lower bound)"
        print(line)
    return {"total": total, "wall": wall, "by_desk": {r["code"]: r["count"] for r in got}}


def check_receipts(database, name: str, recorded: dict) -> bool:
    """Receipt numbers gap-free and unique per régie and year, agreeing with the counters
    and with what each desk said it recorded."""
    import collections

    from maelis_desk.domain import parse_receipt
    from maelis_desk.store.database import db
    from maelis_desk.store.models import Payment, ReceiptCounter

    db.initialize(database)
    by_counter = collections.defaultdict(list)
    by_desk = collections.Counter()
    for p in Payment.select(Payment.receipt, Payment.desk_code):
        number = parse_receipt(p.receipt)
        by_counter[(number.regie, number.year)].append(number.seq)
        by_desk[p.desk_code] += 1
    counters = {(c.regie, c.year): c.last for c in ReceiptCounter.select()}
    gaps = dups = 0
    for key, seqs in by_counter.items():
        dups += len(seqs) - len(set(seqs))
        gaps += max(seqs) - len(set(seqs))
    agree = counters == {k: max(v) for k, v in by_counter.items()}
    mine = all(by_desk[code] >= n for code, n in recorded.items())
    ok = gaps == 0 and dups == 0 and agree and mine
    total = sum(len(v) for v in by_counter.values())
    print(f"  {name}: {total:,} receipts over {len(by_counter)} (régie, year) sequences "
          f"({', '.join(f'{r}/{y}: 1..{max(s)}' for (r, y), s in sorted(by_counter.items()))}): "
          f"gaps {gaps}, duplicates {dups}, counters agree: {'yes' if agree else 'NO'}, "
          f"each desk's payments stored: {'yes' if mine else 'NO'} -> {'gap-free' if ok else 'NOT GAP-FREE'}")
    return ok


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog="\n\n".join(__doc__.split("\n\n")[1:]))
    parser.add_argument("--postgres", metavar="URL", default=os.environ.get("MAELIS_DESK_TEST_POSTGRES"),
                        help="a PostgreSQL server's postgresql:// URL (default: MAELIS_DESK_TEST_POSTGRES)")
    parser.add_argument("--pg-database", default=PG_DATABASE,
                        help=f"the database made on that server for the run ({PG_DATABASE}); dropped and "
                        "created afresh, dropped at the end unless --keep")
    parser.add_argument("--families", type=int, default=33500, help="families in each cache (33500)")
    parser.add_argument("--invoices-per-family", type=int, default=30, help="average over 9 régies (30)")
    parser.add_argument("--samples", type=int, default=1000,
                        help="random families read per figure and database (1000; 0 skips the reads)")
    parser.add_argument("--desks", type=int, default=4, help="desk processes recording at once (4)")
    parser.add_argument("--seconds", type=float, default=20.0,
                        help="how long the desks record payments on each database (20; 0 skips it)")
    parser.add_argument("--skip-fill", action="store_true",
                        help="use the caches a --keep run left: the SQLite file in --workdir and the "
                        "database --pg-database (the family count is read from them)")
    parser.add_argument("--workdir", type=Path,
                        help="folder of the SQLite cache and the desks' settings (default: a fresh temporary one)")
    parser.add_argument("--batch", type=int, default=500, help="families bulk-loaded per transaction (500)")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--keep", action="store_true",
                        help="keep the SQLite cache, the desks' folders and the PostgreSQL database")
    args = parser.parse_args(argv)
    if not args.postgres:
        parser.error("no PostgreSQL server: give --postgres URL or set MAELIS_DESK_TEST_POSTGRES")
    if args.skip_fill and args.workdir is None:
        parser.error("--skip-fill needs --workdir (the folder a --keep run printed)")

    # bench_cache points MAELIS_DESK_HOME at a fresh temporary folder at import
    import bench_cache
    from maelis_desk.store import Cache, open_database
    from maelis_desk.store.database import db, public_url

    workdir = args.workdir or bench_cache._TMP
    workdir.mkdir(parents=True, exist_ok=True)
    if workdir != bench_cache._TMP:
        shutil.rmtree(bench_cache._TMP, ignore_errors=True)
    sqlite_path = workdir / SQLITE_NAME
    pg_url = pg_url_for(args.postgres, args.pg_database)
    rng = random.Random(args.seed + 7)
    print("Maelis Desk — PostgreSQL benchmark, beside SQLite")
    print(f"  python {sys.version.split()[0]}, sqlite {__import__('sqlite3').sqlite_version}, {os.cpu_count()} CPUs, "
          f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"  SQLite cache {sqlite_path} (WAL, synchronous=full)")
    print(f"  PostgreSQL cache {public_url(pg_url)}")
    started = time.perf_counter()
    databases: dict = {}
    try:
        if not args.skip_fill:
            if sqlite_path.exists():
                sys.exit(f"{sqlite_path} exists: give another --workdir, or --skip-fill to use it")
            fresh_pg_database(args.postgres, args.pg_database)
        databases["SQLite"] = open_database(sqlite_path)
        databases["PostgreSQL"] = open_database(pg_url)
        cache = Cache()

        if args.skip_fill:
            counts = {}
            for name, database in databases.items():
                db.initialize(database)
                counts[name] = cache.count_families()
            if len(set(counts.values())) != 1 or not counts["SQLite"]:
                sys.exit(f"the caches do not hold the same families: {counts}")
            families = counts["SQLite"]
            print(f"\n[1] Caches kept from an earlier run: {families:,} families in each")
        else:
            families = args.families
            print(f"\n[1] Fill both caches with the same data: {families:,} families, ~{args.invoices_per_family} "
                  f"invoices each over {len(bench_cache.REGIES)} régies (bench_cache's bulk loader, "
                  f"{args.batch} families a transaction; its rows checked against the Cache API's on each)")
            f = fill_both(databases, families, args.invoices_per_family, args.seed, args.batch)
            print(f"  families {f['families']:,}, invoice lists {f['lists']:,}, invoices {f['invoices']:,}")
            for name, s in f["seconds"].items():
                print(f"  bulk load {name:<11} {s:7.1f} s   ({f['invoices'] / s:,.0f} invoices/s)")
            print(f"  generating the data   {f['generate']:5.1f} s (once for both)")
        size = sum(p.stat().st_size for p in workdir.glob(SQLITE_NAME + "*"))
        print(f"  SQLite: {size / 2**20:,.0f} MiB with its WAL; {pg_facts(pg_url)}")

        if args.samples > 0:
            print(f"\n[2] A family's invoices from the cache, SQLite and PostgreSQL alternating "
                  f"(PostgreSQL on {urlsplit(args.postgres).hostname})")
            compare_reads(databases, families, args.samples, rng)

        if args.seconds > 0:
            print(f"\n[3] Payments recorded by {args.desks} desks at once for {args.seconds:g} s "
                  f"(PaymentService.record, one invoice each, cash / card / cheque in turn)")
            facts = pg_facts(pg_url)
            print(f"  PostgreSQL: {facts}")
            if "fsync=off" in facts:
                print("  NB: this server does not flush its commits to disk (fsync=off, as scripts/postgres.sh "
                      "starts it), the SQLite file does (synchronous=full): PostgreSQL's payments/s is flattered")
            for database in databases.values():
                if not database.is_closed():
                    database.close()
            runs = {}
            for name, spec in (("PostgreSQL", pg_url), ("SQLite", str(sqlite_path))):
                runs[name] = desks_at_once(name, spec, workdir, args.desks, families, args.seconds, rng)
            print("  receipt numbers afterwards (every payment in the database):")
            for name, database in databases.items():
                check_receipts(database, name, runs[name]["by_desk"])
            pg, lite = runs["PostgreSQL"], runs["SQLite"]
            if lite["total"]:
                ratio = (pg["total"] / pg["wall"]) / (lite["total"] / lite["wall"])
                print(f"  PostgreSQL / SQLite payments/s: × {ratio:.2f}")
        print(f"\nPeak RSS of this process {bench_cache.peak_rss_mb():.0f} MiB; "
              f"total {time.perf_counter() - started:.0f} s")
    finally:
        for database in databases.values():
            if not database.is_closed():
                database.close()
        if args.keep:
            print(f"kept: {workdir} (SQLite cache, desks' folders) and the database {public_url(pg_url)}; "
                  f"again with: --skip-fill --workdir {workdir}")
        else:
            if args.workdir is None:
                shutil.rmtree(workdir, ignore_errors=True)
            else:  # a folder of the caller's: only what this run made in it
                for made in [*workdir.glob(SQLITE_NAME + "*"), workdir / "desks"]:
                    shutil.rmtree(made, ignore_errors=True) if made.is_dir() else made.unlink(missing_ok=True)
            try:
                drop_pg_database(args.postgres, args.pg_database)
            except Exception as exc:  # noqa: BLE001 - said, not hidden
                print(f"could not drop {args.pg_database}: {exc}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
