"""The nightly refresh at the city's scale: what it asks of Maelis, what it catches.

Run from the repository root (2 cores: ~15-25 minutes at full scale):

    .venv/bin/python tests/perf/bench_sync.py                      # 33,500 families, 9 régies
    .venv/bin/python tests/perf/bench_sync.py --families 2000      # a quick run (~2 min)
    .venv/bin/python tests/perf/bench_sync.py --day 2026-11-24     # the canteen's billing day

The world:

* the demo Maelis (simulator/data.py: deterministic data, a pure function of
  the family and the day) with ``--families`` families and its 9 régies;
* a desk whose cache holds every (family, régie) list, empty ones too, as
  Maelis had them on the evening before ``--day``: the families and lists are
  generated in-process from the demo data of that day, mapped to the beans
  the contract describes and turned into the domain by the client's very
  converters (maelis/convert.py), then bulk-loaded (tests/perf/bench_cache.py
  bulk_save, checked against the Cache API there). The mapping is checked at
  every run against what the client reads over SOAP for a sample of
  families; the bench stops if a single stored byte differs;
* when each list was last read: spread evenly over the ``--checked-days``
  (35) days before (a nightly rotation that comes back to each list every
  four to five weeks); families opened at a desk on the day: ``--opened``
  (1 %);
* the day itself: the demo Maelis of ``--day`` (the day's billing run: on
  2026-11-10 the crèches bill, 1.6 % of the lists get a new invoice; the
  turning of due dates and treasury transmissions), plus ``--payments``
  (0.5 %) families paying an invoice elsewhere (online, at the treasury)
  that day, written in the demo Maelis' ledger.

Then the refresh pass the desk would run that night (services/sync.py,
``Refresher.run_once`` with no budget limit, the desk's own policy) against
the demo Maelis served by a separate process on 127.0.0.1 over real HTTP.
Every HTTP request is counted (a response hook on the client's session).

Changed lists: those whose figures differ between the evening before and the
night (store/sync.py list_facts digests of the truth). Caught: changed lists
whose cached digest, after the pass, equals the night's truth.

Time is scaled: the pass runs with no injected latency, and the duration at
100 ms a call (``--latency``) is projected from the calls it made,
IN_FLIGHT at a time, and the desk's own cost per call measured in that run
(per-stream wall time per call; it includes the demo Maelis' CPU, since both
share this machine, so the projection errs on the slow side):

    T = calls / IN_FLIGHT × (latency + own cost per call)

The projection is checked at the end: ``--check-calls`` (400) more reads
with the demo Maelis really answering after ``--latency``, measured rate
beside the projected one.

Not a pytest module; it asserts nothing about speed. Everything happens in
a temporary folder (MAELIS_DESK_HOME points there), removed at the end
unless ``--keep``.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import threading
import time
import urllib.request
from collections import Counter
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_cache  # noqa: E402  (sets MAELIS_DESK_HOME to its temporary folder first)

TMP = bench_cache._TMP

from maelis_desk.config import load_settings  # noqa: E402
from maelis_desk.maelis import convert  # noqa: E402
from maelis_desk.services import Desk  # noqa: E402
from maelis_desk.services import sync as sync_policy  # noqa: E402
from maelis_desk.services.clock import invoice_window  # noqa: E402
from maelis_desk.simulator import Simulator  # noqa: E402
from maelis_desk.simulator.data import FIRST_FAMILY, DemoData, paris_datetime, with_ledger  # noqa: E402
from maelis_desk.simulator.server import LEDGER_FILE, Ledger  # noqa: E402
from maelis_desk.simulator.soap import format_decimal  # noqa: E402
from maelis_desk.store.cache import _stored  # noqa: E402
from maelis_desk.store.database import db  # noqa: E402
from maelis_desk.store.sync import list_facts  # noqa: E402

PARIS = timezone(timedelta(hours=1))  # November
HTTP_OK = 200


# --- the demo data as the client would read them ------------------------------------------


def _when(day: date | None) -> datetime | None:
    return None if day is None else paris_datetime(day)


def _figure(value: Decimal) -> Decimal:
    return Decimal(format_decimal(value))  # as it travels: "12.5", "0"


def _person(p) -> dict | None:
    if p is None:
        return None
    return {
        "num": p.num, "lastname": p.lastname, "firstname": p.firstname, "civility": p.civility,
        "birth": {"dateBirth": _when(p.birth)} if p.birth is not None else None,
        "adresse": None if p.address is None else {
            "num": p.address.num, "street1": p.address.street1, "zipcode": p.address.zipcode,
            "town": p.address.town},
        # a contact with every field absent reads as no contact (convert._nil)
        "contact": None if p.contact is None or not (p.contact.phone or p.contact.mobile or p.contact.mail) else {
            "phone": p.contact.phone, "mobile": p.contact.mobile, "mail": p.contact.mail},
    }


def family_bean(f) -> dict:
    return {
        "number": f.number, "category": f.category, "situation": f.situation,
        "RL1": _person(f.rl1), "RL2": _person(f.rl2),
        "childList": [{"num": c.num, "lastname": c.lastname, "firstname": c.firstname, "sexe": c.sexe,
                       "birth": {"dateBirth": _when(c.birth)} if c.birth is not None else None}
                      for c in f.children],
    }


def invoice_bean(i) -> dict:
    return {
        "numInvoice": i.num, "idInvoice": i.id, "libelleTTF": i.libelle,
        "regie": {"code": i.regie.code, "libelle": i.regie.libelle},
        "numFamily": i.family, "name": i.name,
        "dateInvoice": _when(i.date_invoice), "dateDeadline": _when(i.date_deadline),
        "amountInvoice": _figure(i.amount), "amountPaid": _figure(i.paid),
        "amountPaidTG": _figure(i.paid_tg) if i.paid_tg else None,
        "dateTransmissionPES": _when(i.date_transmission),
        "payer": _person(i.payer),
        "lineInvoiceList": [{
            "numLine": x.num_line, "numPers": x.num_pers, "name": x.name, "libelleLine": x.libelle,
            "dateStart": _when(x.date_start), "dateEnd": _when(x.date_end),
            "quantity": _figure(x.quantity), "unitPrice": _figure(x.unit_price), "amountLine": _figure(x.amount),
        } for x in i.lines],
    }


class Truth:
    """Maelis' data of one day, as the desk's domain, with the ledger's payments applied."""

    def __init__(self, families: int, day: date, applied: dict | None = None):
        self.data = DemoData(families=families, today=day)
        self.codes = [r.code for r in self.data.regies]
        self.applied = applied or {}

    def family(self, number: int):
        return convert.family(family_bean(self.data.family(number)), complete=True)

    def invoices(self, number: int, code: int) -> list:
        paid = self.applied.get((number, code), {})
        return [convert.invoice(invoice_bean(with_ledger(i, paid.get(i.num, Decimal(0)))))
                for i in self.data.invoices(number, code)]

    def lists(self, number: int) -> dict[int, list]:
        return {code: self.invoices(number, code) for code in self.codes}


def check_mapping(truth: Truth, day: date, numbers: list[int]) -> int:
    """What the client reads over SOAP from the demo Maelis of `day` == the in-process mapping."""
    from maelis_desk.maelis.client import MaelisClient

    start, end = invoice_window()
    compared = 0
    with Simulator(families=truth.data.count, today=day, state_dir=TMP / "check") as sim:
        client = MaelisClient(sim.url, "demo", "demo", timeout=30)
        try:
            for number in numbers:
                by_soap = client.read_family(number).to_json()
                mine = truth.family(number).to_json()
                if by_soap != mine:
                    sys.exit(f"bench_sync: the family mapping differs from the SOAP read for {number}:\n"
                             f"  SOAP: {by_soap}\n  here: {mine}")
                for code in truth.codes:
                    by_soap = [_stored(i) for i in client.read_invoices(number, code, start, end)]
                    mine = [_stored(i) for i in truth.invoices(number, code)]
                    if by_soap != mine:
                        sys.exit(f"bench_sync: the invoice mapping differs from the SOAP read for family "
                                 f"{number}, régie {code}:\n  SOAP: {by_soap[:1]}\n  here: {mine[:1]}")
                    compared += len(mine)
        finally:
            client.close()
    return compared


# --- the demo Maelis in a process of its own ---------------------------------------------


class MaelisProcess:
    """The demo Maelis of `day` served by another process (its CPU is not the desk's)."""

    SCRIPT = (
        "import sys, json\n"
        "from datetime import date\n"
        "from maelis_desk.simulator import Simulator\n"
        "a = json.loads(sys.argv[1])\n"
        "s = Simulator(families=a['families'], state_dir=a['state'], today=date.fromisoformat(a['day']),"
        " latency=a['latency']).start()\n"
        "print(s.url, s.control_url, flush=True)\n"
        "sys.stdin.read()\n"
        "s.stop()\n"
    )

    def __init__(self, families: int, day: date, state: Path, latency: float = 0.0):
        args = json.dumps({"families": families, "day": day.isoformat(), "state": str(state), "latency": latency})
        env = dict(os.environ, PYTHONPATH=str(ROOT))
        self.proc = subprocess.Popen([sys.executable, "-c", self.SCRIPT, args], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True, env=env)
        line = self.proc.stdout.readline().split()
        if len(line) != 2:
            sys.exit("bench_sync: the demo Maelis did not start")
        self.url, self.control_url = line

    def set_latency(self, seconds: float) -> None:
        request = urllib.request.Request(self.control_url, data=json.dumps({"latency": seconds}).encode(),
                                         headers={"Content-Type": "application/json"}, method="POST")
        with urllib.request.urlopen(request, timeout=10) as answer:
            assert answer.status == HTTP_OK

    def cpu_seconds(self) -> float | None:
        try:
            fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except (OSError, IndexError, ValueError):
            return None

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.stdin.close()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()


# --- the bench ---------------------------------------------------------------------------


def fill(desk_cache, before: Truth, numbers: list[int], evening: datetime, rng: random.Random,
         checked_days: int, opened: set[int], opened_at: datetime, batch: int = 500) -> dict:
    """Bulk-load every list of every family as Maelis had them on the evening before."""
    spread = timedelta(days=checked_days).total_seconds()
    checked = {}

    def checked_at(number: int, code: int) -> datetime:
        moment = evening - timedelta(seconds=rng.random() * spread)
        checked[(number, code)] = moment
        return moment

    digests: dict[tuple[int, int], str] = {}
    counts = Counter()
    for k in range(0, len(numbers), batch):
        work = []
        for number in numbers[k:k + batch]:
            lists = before.lists(number)
            for code, invoices in lists.items():
                digests[(number, code)] = list_facts(invoices)[2]
                counts["invoices"] += len(invoices)
                counts["empty"] += not invoices
                counts["to_pay"] += any(i.to_pay_at_regie for i in invoices)
            work.append((before.family(number), lists))
        bench_cache.bulk_save(work, evening, checked_at=checked_at,
                              opened_at=lambda n: opened_at if n in opened else None)
        done = min(k + batch, len(numbers))
        if done % 5000 < batch or done == len(numbers):
            print(f"    {done:,} families loaded", flush=True)
    counts["lists"] = len(digests)
    return {"digests": digests, "counts": counts, "checked": checked}


def day_payments(before: Truth, numbers: list[int], share: float, day: date, state: Path,
                 rng: random.Random) -> dict:
    """Families paying one invoice elsewhere on the day (online...), in the demo Maelis' ledger."""
    after_data = DemoData(families=before.data.count, today=day)
    applied: dict[tuple[int, int], dict[int, Decimal]] = {}
    ledger = Ledger(state / LEDGER_FILE)
    ledger.open()
    paid = 0
    try:
        for number in rng.sample(numbers, max(1, int(share * len(numbers)))):
            owed = [i for code in before.codes for i in after_data.invoices(number, code)
                    if i.remaining > 0 and i.date_transmission is None]
            if not owed:
                continue
            invoice = rng.choice(owed)
            amount = invoice.remaining if rng.random() < 0.8 else max(Decimal("1.00"), invoice.remaining / 2)
            amount = amount.quantize(Decimal("0.01"))
            ledger.record(ref=f"bench-{number}-{invoice.num}", family=number, regie=invoice.regie.code,
                          amount=amount, date=f"{day.isoformat()}T11:00:00+01:00", invoices=[invoice.num],
                          allocations=[(invoice.num, amount)])
            applied.setdefault((number, invoice.regie.code), {})[invoice.num] = amount
            paid += 1
    finally:
        ledger.close()
    return applied


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--families", type=int, default=33500, help="families of the demo Maelis (33500)")
    parser.add_argument("--day", type=date.fromisoformat, default=date(2026, 11, 10),
                        help="the day whose night is refreshed (2026-11-10: the crèches bill)")
    parser.add_argument("--latency", type=float, default=0.100, help="Maelis' answer time projected (0.100 s)")
    parser.add_argument("--checked-days", type=int, default=35,
                        help="lists were last read over this many days before (35)")
    parser.add_argument("--opened", type=float, default=0.01, help="share of families opened on the day (0.01)")
    parser.add_argument("--payments", type=float, default=0.005,
                        help="share of families paying elsewhere on the day (0.005)")
    parser.add_argument("--check-calls", type=int, default=400,
                        help="reads at the real latency that check the projection (400; 0 skips it)")
    parser.add_argument("--sample", type=int, default=40, help="families read over SOAP to check the mapping (40)")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder and print its path")
    args = parser.parse_args(argv)

    rng = random.Random(args.seed)
    day, before_day = args.day, args.day - timedelta(days=1)
    evening = datetime.combine(before_day, datetime.min.time(), PARIS) + timedelta(hours=21)
    night = datetime.combine(day, datetime.min.time(), PARIS) + timedelta(hours=22)
    started = time.perf_counter()
    print("Maelis Desk — the nightly refresh at the city's scale")
    print(f"  python {sys.version.split()[0]}, {os.cpu_count()} CPUs, folder {TMP}")
    try:
        before = Truth(args.families, before_day)
        numbers = list(range(FIRST_FAMILY, FIRST_FAMILY + args.families))
        n_lists = len(numbers) * len(before.codes)
        sample = sorted(set(rng.sample(numbers, min(args.sample, len(numbers)))) | {FIRST_FAMILY})
        t0 = time.perf_counter()
        compared = check_mapping(before, before_day, sample)
        print(f"\n[1] Mapping checked: {len(sample)} families, {compared:,} invoices read over SOAP from the demo "
              f"Maelis of {before_day:%d/%m/%Y} equal the in-process ones, byte for byte ({time.perf_counter() - t0:.1f} s)")

        desk = Desk.open(load_settings({"url": "http://127.0.0.1:9/", "user": "demo", "password": "demo",
                                        "timeout": 5.0, "database": str(TMP / "desk.sqlite3")}))
        opened = set(rng.sample(numbers, int(args.opened * len(numbers))))
        opened_at = datetime.combine(day, datetime.min.time(), PARIS) + timedelta(hours=10)
        t0 = time.perf_counter()
        print(f"\n[2] The cache of the evening of {before_day:%d/%m/%Y}: {len(numbers):,} families × "
              f"{len(before.codes)} régies")
        filled = fill(desk.cache, before, numbers, evening, rng, args.checked_days, opened, opened_at)
        counts = filled["counts"]
        desk.close()
        print(f"  lists {counts['lists']:,} ({counts['empty']:,} empty, {counts['to_pay']:,} with something to "
              f"pay), invoices {counts['invoices']:,}; read over the last {args.checked_days} days; "
              f"{len(opened):,} families opened on the day  ({time.perf_counter() - t0:.0f} s)")

        state = TMP / "maelis"
        state.mkdir()
        applied = day_payments(before, numbers, args.payments, day, state, rng)
        after = Truth(args.families, day, applied)
        t0 = time.perf_counter()
        changed, kinds = set(), Counter()
        new_digests = {}
        for number in numbers:
            for code in after.codes:
                new = after.invoices(number, code)
                digest = list_facts(new)[2]
                new_digests[(number, code)] = digest
                if digest != filled["digests"][(number, code)]:
                    changed.add((number, code))
                    old_count = sum(1 for _ in before.data.invoices(number, code))
                    kinds["new invoice" if len(new) > old_count else
                          "paid elsewhere" if (number, code) in applied else "due date / treasury"] += 1
        print(f"\n[3] The day {day:%d/%m/%Y}: {len(changed):,} lists changed "
              f"({len(changed) / n_lists:.2%} of n × m): "
              + ", ".join(f"{k} {v:,}" for k, v in kinds.most_common())
              + f"; {sum(len(v) for v in applied.values()):,} payments made elsewhere  "
                f"({time.perf_counter() - t0:.0f} s)")
        del before

        maelis = MaelisProcess(args.families, day, state)
        try:
            desk = Desk.open(load_settings({"url": maelis.url, "user": "demo", "password": "demo",
                                            "timeout": 30.0, "database": str(TMP / "desk.sqlite3")}))
            desk.reader.clock = lambda: night
            desk.reader.regies()  # the régie list, as a desk has it before the night
            counter = bench_cache.PostCounter(desk.client.transport.session)
            before_calls = len(counter.operations)
            phases: Counter = Counter()  # calls per phase of the pass
            last = {"phase": None, "calls": 0}
            guard = threading.Lock()

            def progress(p) -> None:
                with guard:
                    if last["phase"] is not None:
                        phases[last["phase"]] += p.calls - last["calls"]
                    if p.phase != last["phase"]:
                        print(f"    {p.phase} (after {p.calls:,} calls; pass estimate {p.total:,} lists)",
                              flush=True)
                    last["phase"], last["calls"] = p.phase, p.calls

            print(f"\n[4] The night's pass (no injected latency; {sync_policy.IN_FLIGHT} calls in flight)")
            cpu0, server0 = time.process_time(), maelis.cpu_seconds()
            t0 = time.perf_counter()
            report = desk.refresher.run_once(budget=10 * n_lists, new_pass=True, on_progress=progress)
            wall = time.perf_counter() - t0
            cpu, server = time.process_time() - cpu0, (maelis.cpu_seconds() or 0) - (server0 or 0)
            if report.stopped or not report.finished:
                sys.exit(f"bench_sync: the pass did not finish: {report.stopped or report.idle}")
            ops = Counter(counter.operations[before_calls:])
            calls = sum(ops.values())
            if last["phase"] is not None:
                phases[last["phase"]] += report.calls - last["calls"]
            read = set(report.refreshed)
            cached = {}
            for number, code in changed:
                cached[(number, code)] = list_facts(desk.cache.load_invoices(number, code)[code].invoices)[2]
            caught = {k for k in changed if cached[k] == new_digests[k]}
            missed = sorted(changed - caught)
            per_call = wall * sync_policy.IN_FLIGHT / max(calls, 1)
            projected = calls / sync_policy.IN_FLIGHT * (args.latency + per_call)
            print(f"  HTTP requests         {calls:>10,}   ({', '.join(f'{k} {v:,}' for k, v in ops.most_common())})")
            print(f"  lists read            {len(read):>10,}   refreshed {report.calls:,} calls by the refresher, "
                  f"{report.changed:,} found changed, {report.failed:,} failed")
            print(f"  calls per phase       {', '.join(f'{k} {v:,}' for k, v in phases.items())}")
            print(f"  régies seen billing   {', '.join(map(str, report.new_regies)) or '-'}")
            print(f"  naive n × m           {n_lists:>10,}   -> the pass asks {calls / n_lists:.1%} of it")
            print(f"  changed lists caught  {len(caught):>10,} / {len(changed):,}   "
                  f"({(len(caught) / len(changed)) if changed else 1:.2%}; missed {len(missed):,}"
                  f"{': ' + str(missed[:10]) if missed else ''})")
            print(f"  wall                  {wall:>10.1f} s   desk CPU {cpu:.0f} s, demo Maelis CPU {server:.0f} s; "
                  f"own cost per call and stream {per_call * 1000:.1f} ms")
            print(f"  projection            {calls:,} calls / {sync_policy.IN_FLIGHT} in flight × "
                  f"({args.latency * 1000:.0f} ms + {per_call * 1000:.1f} ms) = {projected / 60:.0f} min")

            if args.check_calls:
                maelis.set_latency(args.latency)
                items = [k for k in rng.sample(sorted(filled["digests"]), min(args.check_calls, n_lists))]
                lock = threading.Lock()
                errors = []

                def reader_thread() -> None:
                    from maelis_desk.store import release_connection

                    try:
                        while True:
                            with lock:
                                if not items:
                                    return
                                number, code = items.pop()
                            desk.reader.refresh_list(number, code)
                    except Exception as exc:  # noqa: BLE001
                        errors.append(exc)
                    finally:
                        release_connection()

                k = len(items)
                t0 = time.perf_counter()
                threads = [threading.Thread(target=reader_thread) for _ in range(sync_policy.IN_FLIGHT)]
                for t in threads:
                    t.start()
                for t in threads:
                    t.join()
                took = time.perf_counter() - t0
                if errors:
                    sys.exit(f"bench_sync: the check at real latency failed: {errors[0]!r}")
                measured = k / took
                expected = sync_policy.IN_FLIGHT / (args.latency + per_call)
                print(f"\n[5] Check at the real latency ({args.latency * 1000:.0f} ms a call, {k} reads, "
                      f"{sync_policy.IN_FLIGHT} in flight): {measured:.1f} calls/s measured, {expected:.1f} "
                      f"projected -> the whole pass in {calls / measured / 60:.0f} min at that rate")
            desk.close()
        finally:
            maelis.stop()

        hours, minutes = divmod(int(round(projected / 60)), 60)
        print(f"\nPeak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB; "
              f"bench wall {time.perf_counter() - started:.0f} s")
        print(f"projected nightly refresh: {hours} h {minutes:02d} min, {calls:,} calls "
              f"({calls / n_lists:.1%} of n × m)")
        return 0
    finally:
        if args.keep:
            print(f"(kept: {TMP})")
        else:
            shutil.rmtree(TMP, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
