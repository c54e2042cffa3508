"""What a readInvoices window wide enough for every debt costs, per call, against the old two-year one.

Run from the repository root:

    .venv/bin/python tests/perf/bench_window.py               # 100 calls per case
    .venv/bin/python tests/perf/bench_window.py --samples 50  # a quick run

The demo Maelis (simulator) runs on 127.0.0.1; a real MaelisClient reads the
invoice lists of a few families with both windows:

  * wide: services.clock.invoice_window(), 1900-01-01 .. 2999-12-31 (what the desk asks);
  * two years: from 1 January two years back to a year ahead (what it asked before).

Cases: the archive family with a canteen history of twelve school years
(LONG_HISTORY_FAMILY, régie 102, 120+ invoices), the one with old debts
(OLD_DEBTS_FAMILY, 102), the demo family 1312 (102) and ordinary generated
families (all their régies; their data are two school years, so both windows
answer the same: what the wide window costs when nothing is old).

Per case and window: invoices answered, bytes of the answer, and per call the
median and p95 of (a) the SOAP call alone (HTTP + parse + conversion to the
domain) and (b) the desk's whole read of one régie, Reader.regie_invoices
(the call, the cache write, the pending overlay). Wall-clock on loopback, so
the server's own work (generating and serialising the answer) is included.
Not a pytest module; it asserts nothing about speed.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

TMP = Path(tempfile.mkdtemp(prefix="bench-window-"))
os.environ["MAELIS_DESK_HOME"] = str(TMP)  # before anything reads the settings

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from maelis_desk.config import load_settings  # noqa: E402
from maelis_desk.domain import Regie  # noqa: E402
from maelis_desk.services import Desk  # noqa: E402
from maelis_desk.services import clock, reading  # noqa: E402
from maelis_desk.simulator import Simulator  # noqa: E402
from maelis_desk.simulator.data import FIRST_FAMILY, LONG_HISTORY_FAMILY, OLD_DEBTS_FAMILY  # noqa: E402


def two_year_window(now: datetime) -> tuple[datetime, datetime]:
    """The window the desk used before: 1 January two years back to a year ahead."""
    return datetime(now.year - 2, 1, 1, tzinfo=timezone.utc), now + timedelta(days=366)


class Bytes:
    """Sums the bytes of the answers a requests.Session receives (response hook)."""

    def __init__(self, session):
        self.total = 0
        session.hooks.setdefault("response", []).append(self._hook)

    def _hook(self, response, *args, **kwargs):
        self.total += len(response.content)


def ms(values: list[float]) -> str:
    values = sorted(values)
    p95 = values[min(len(values) - 1, int(len(values) * 0.95))]
    return f"{statistics.median(values) * 1000:7.2f} ms  p95 {p95 * 1000:7.2f} ms"


def measure(desk, counter, family: int, regie: Regie, window, samples: int) -> tuple[int, int, list, list]:
    start, end = window
    client = desk.client
    invoices = client.read_invoices(family, regie.code, start, end)  # warm-up
    before = counter.total
    client.read_invoices(family, regie.code, start, end)
    size = counter.total - before
    call, whole = [], []
    for _ in range(samples):
        t = time.perf_counter()
        client.read_invoices(family, regie.code, start, end)
        call.append(time.perf_counter() - t)
    original = reading.invoice_window
    reading.invoice_window = lambda: window  # the reader asks for this window
    try:
        for _ in range(samples):
            t = time.perf_counter()
            desk.reader.regie_invoices(family, regie)
            whole.append(time.perf_counter() - t)
    finally:
        reading.invoice_window = original
    return len(invoices), size, call, whole


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--samples", type=int, default=100, help="calls per case and window (100)")
    parser.add_argument("--ordinary", type=int, default=5, help="ordinary families measured (5)")
    args = parser.parse_args()
    sim = Simulator(port=0, families=60, state_dir=TMP / "sim").start()
    desk = None
    try:
        settings = load_settings({"url": sim.url, "user": "demo", "password": "demo", "timeout": 10,
                                  "database": str(TMP / "desk.sqlite3")})
        desk = Desk.open(settings)
        counter = Bytes(desk.client.transport.session)
        regies = {r.code: r for r in desk.reader.regies()[0]}
        now = datetime.now(timezone.utc)
        windows = {"wide": clock.invoice_window(), "two years": two_year_window(now)}
        cases = [(f"{LONG_HISTORY_FAMILY} (12 school years)", LONG_HISTORY_FAMILY, 102),
                 (f"{OLD_DEBTS_FAMILY} (old debts)", OLD_DEBTS_FAMILY, 102),
                 (f"{FIRST_FAMILY} (demo family)", FIRST_FAMILY, 102)]
        ordinary = [(f"{n} (ordinary)", n, code)
                    for n in range(FIRST_FAMILY + 1, FIRST_FAMILY + 1 + args.ordinary)
                    for code in sim.data.regies_of(n)]
        print(f"readInvoices, {args.samples} calls per case and window, demo Maelis on 127.0.0.1\n")
        print(f"{'case':<30} {'window':<10} {'invoices':>8} {'bytes':>9}   {'SOAP call':<30} {'Reader.regie_invoices'}")
        totals = {name: ([], []) for name in windows}
        for label, family, code in cases + ordinary:
            for name, window in windows.items():
                count, size, call, whole = measure(desk, counter, family, regies[code], window, args.samples)
                totals[name][0].extend(call)
                totals[name][1].extend(whole)
                print(f"{label + f' r{code}':<30} {name:<10} {count:>8} {size:>9}   {ms(call):<30} {ms(whole)}")
        print()
        for name, (call, whole) in totals.items():
            print(f"all cases, {name:<10} SOAP call {ms(call)}   whole read {ms(whole)}")
    finally:
        if desk is not None:
            desk.close()
        sim.stop()
        import shutil

        shutil.rmtree(TMP, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
