"""Benchmark of the desk window: does it stay responsive, how fast does it show a family.

Run from the repository root:

    .venv/bin/python tests/perf/bench_gui.py                    # 33,500 families in the cache
    .venv/bin/python tests/perf/bench_gui.py --families 3000    # a quick run

Not a pytest module (the file name does not start with test_). Qt runs
offscreen unless QT_QPA_PLATFORM says otherwise. Everything happens in a
temporary MAELIS_DESK_HOME, removed at the end.

Figures:
  1. the longest stall of the GUI event loop (a 10 ms QTimer records the
     largest gap between two ticks) while the demo Maelis hangs for 10 s
     (fault "slow", 10 s latency; the desk's timeout is 2 s) and the cashier
     keeps working: refresh (F5), typing searches, opening families and an
     invoice PDF. The breaker is reset before each action so that every one
     of them really waits on the hanging Maelis;
  2. the time from asking to open a family to its tables being filled
     (MainWindow.family_shown), Maelis offline, with the cache filled for
     --families families (33,500 by default) through the real Cache API
     (bench_cache's generator of realistic families): in offline mode (the disk pool, cache only), and with a
     configured Maelis that is unreachable (the network pool, the breaker
     sending calls to the cache).
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import socket
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

# bench_cache isolates the run in a temporary MAELIS_DESK_HOME at import and
# brings a generator of realistic families and invoices.
import bench_cache
from PySide6.QtCore import QTimer, qInstallMessageHandler
from PySide6.QtWidgets import QApplication

from maelis_desk import config
from maelis_desk.services import Desk
from maelis_desk.simulator import Simulator
from maelis_desk.store import Cache, open_database
from maelis_desk.ui import worker
from maelis_desk.ui.app import make_application
from maelis_desk.ui.main_window import MainWindow
from maelis_desk.ui.pdf_dialog import PdfDialog, invoice_dialog

HANG_SECONDS = 10.0
DESK_TIMEOUT = 2.0


class StallMeter:
    """Longest gap between two ticks of a 10 ms QTimer."""

    def __init__(self, interval_ms: int = 10):
        self.timer = QTimer()
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(self._tick)
        self.gaps: list[float] = []
        self._last = 0.0

    def _tick(self) -> None:
        now = time.perf_counter()
        self.gaps.append(now - self._last)
        self._last = now

    def start(self) -> StallMeter:
        self._last = time.perf_counter()
        self.timer.start()
        return self

    def stop(self) -> None:
        self.timer.stop()

    @property
    def longest(self) -> float:
        return max(self.gaps, default=0.0)


def quiet_offscreen_noise() -> None:
    """The offscreen plugin warns at every window size change; nothing else is hidden."""
    def handler(mode, context, message):
        if "propagateSizeHints" not in message:
            sys.stderr.write(message + "\n")
    qInstallMessageHandler(handler)


def pump(app: QApplication, predicate, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        app.processEvents()
        time.sleep(0.002)
    return True


def pump_for(app: QApplication, seconds: float) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        app.processEvents()
        time.sleep(0.002)


def ms(seconds: float) -> str:
    return f"{seconds * 1000:8.1f} ms"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- 1. stall while Maelis hangs -------------------------------------------------------------


def bench_stall(app: QApplication, home: Path) -> None:
    print(f"\n1. GUI event-loop stall while Maelis hangs {HANG_SECONDS:g} s "
          f"(fault 'slow', latency {HANG_SECONDS:g} s, desk timeout {DESK_TIMEOUT:g} s)")
    sim = Simulator(port=0, families=300, state_dir=home / "stall-sim", user="demo", password="demo").start()
    settings = config.load_settings({"url": sim.url, "user": "demo", "password": "demo", "timeout": DESK_TIMEOUT,
                                     "database": str(home / "stall.sqlite3")})
    desk = Desk.open(settings)
    window = MainWindow(desk, settings)
    window.resize(1280, 800)
    window.show()
    pump_for(app, 1.5)  # the cashier types the first search meanwhile; the window builds its pages
    try:
        shown: list[float] = []
        window.family_shown.connect(lambda _n: shown.append(time.perf_counter()))
        # Online first: the families are read and cached.
        healthy = StallMeter().start()
        for number in (1312, 1313, 1314):
            before = len(shown)
            window.open_family(number)
            if not pump(app, lambda before=before: len(shown) > before, 30):
                raise SystemExit(f"family {number} did not open")
        healthy.stop()
        print(f"   with Maelis healthy (3 families opened)      longest stall {ms(healthy.longest)}")

        invoice = next(inv for r in window.view.regies for inv in r.invoices)
        sim.set_fault("slow")
        sim.set_latency(HANG_SECONDS)
        meter = StallMeter().start()
        started = time.perf_counter()
        actions = 0
        texts = ["l", "le", "lef", "lefe", "lefev", "1312", "13", "dupont", "martin"]
        pdfs: list[PdfDialog] = []
        step = 0
        while time.perf_counter() - started < HANG_SECONDS:
            desk.health.reset()  # every action really waits on the hanging Maelis
            kind = step % 4
            if kind == 0:
                window.refresh()
            elif kind == 1:
                window.search_pane.edit.setText(texts[step % len(texts)])
            elif kind == 2:
                window.open_family(1312 + (step // 4) % 3)
            else:
                dialog = invoice_dialog(desk, invoice, window, pool=window.pool)  # as Ctrl+D does
                dialog.show()
                pdfs.append(dialog)
            actions += 1
            step += 1
            pump_for(app, 0.5)
        hang = time.perf_counter() - started
        pump(app, lambda: not worker.in_flight(), 30)
        meter.stop()
        failed_pdfs = sum(1 for d in pdfs if d.stack.currentWidget() is d.error_page)
        gaps = sorted(meter.gaps)
        print(f"   Maelis hanging for {hang:4.1f} s, {actions} actions "
              f"({len(pdfs)} PDF dialogs, {failed_pdfs} said Maelis did not answer)")
        print(f"   longest stall of the GUI event loop           {ms(meter.longest)}")
        print(f"   p99 gap between 10 ms ticks                   {ms(gaps[int(len(gaps) * 0.99)])}"
              f"   ({len(gaps)} ticks)")
        print(f"   banner shown: {window.banner.isVisible()} ({window.banner.kind or '-'}), "
              f"state: {window.state_label.text().split('</span>')[-1].strip()}")
        for dialog in pdfs:
            dialog.close()
    finally:
        window.close()
        worker.shutdown(15)
        desk.close()
        sim.stop()


# --- 2. opening a cached family -------------------------------------------------------------


def fill_cache(database: Path, families: int) -> list[int]:
    """Fill the cache through the real Cache API (save_family, save_invoices for every
    régie), many families per transaction, with bench_cache's realistic generator."""
    from maelis_desk.store.database import db

    print(f"\n2. Opening a family from the cache, Maelis offline ({families:,} families cached)")
    print("   filling the cache through maelis_desk.store.Cache...", flush=True)
    open_database(str(database))
    cache = Cache()
    gen = bench_cache.Generator(seed=2023, invoices_per_family=30)
    now = bench_cache.NOW
    cache.save_regies(bench_cache.REGIES, now)
    numbers = list(range(bench_cache.FIRST_NUMBER, bench_cache.FIRST_NUMBER + families))
    started = time.perf_counter()
    invoices = 0
    batch = 500
    for i in range(0, families, batch):
        with db.atomic():
            for number in numbers[i:i + batch]:
                family = gen.family(number)
                cache.save_family(family, now, opened=True)
                for code, items in gen.invoices(family).items():
                    cache.save_invoices(number, code, items, now)
                    invoices += len(items)
        done = min(i + batch, families)
        if done % 5000 == 0 or done == families:
            print(f"    ... {done:>6,} families, {invoices:>9,} invoices, {time.perf_counter() - started:6.1f} s",
                  flush=True)
    print(f"   filled: {families:,} families, {invoices:,} invoices in {time.perf_counter() - started:.1f} s")
    db.close()
    return numbers


def bench_open(app: QApplication, database: Path, numbers: list[int], label: str, settings_overrides: dict,
               samples: int) -> None:
    settings = config.load_settings({"database": str(database), "timeout": DESK_TIMEOUT, **settings_overrides})
    desk = Desk.open(settings)
    window = MainWindow(desk, settings)
    window.resize(1280, 800)
    window.show()
    pump_for(app, 1.5)
    rng = random.Random(7)
    times: list[float] = []
    rows: list[int] = []
    meter = StallMeter().start()
    try:
        shown: list[int] = []
        window.family_shown.connect(shown.append)
        for number in [numbers[0]] + rng.sample(numbers, samples):
            before = len(shown)
            started = time.perf_counter()
            window.open_family(number)
            if not pump(app, lambda before=before: len(shown) > before, 30):
                raise SystemExit(f"family {number} did not open ({label})")
            times.append(time.perf_counter() - started)
            rows.append(sum(p.to_pay.model.rowCount() + p.history.model.rowCount()
                            for p in window.family_pane.pages.values()))
        meter.stop()
        first, rest = times[0], times[1:]
        rest_sorted = sorted(rest)
        print(f"   {label}")
        print(f"      first family (cold)                         {ms(first)}")
        print(f"      median over {len(rest)} families                     {ms(statistics.median(rest))}"
              f"   p95 {ms(rest_sorted[int(len(rest) * 0.95)])}   max {ms(max(rest))}")
        print(f"      invoices shown per family: median {statistics.median(rows):.0f}, "
              f"banner: {window.banner.kind or '-'}; longest GUI stall meanwhile {ms(meter.longest)}")
    finally:
        window.close()
        worker.shutdown(15)
        desk.close()


def main() -> int:
    parser = argparse.ArgumentParser(description="Benchmark of the desk window.")
    parser.add_argument("--families", type=int, default=33_500)
    parser.add_argument("--samples", type=int, default=50, help="families opened per measure")
    parser.add_argument("--skip-stall", action="store_true")
    parser.add_argument("--skip-open", action="store_true")
    args = parser.parse_args()

    quiet_offscreen_noise()
    home = Path(os.environ["MAELIS_DESK_HOME"])
    home.mkdir(parents=True, exist_ok=True)
    app = make_application(["bench_gui"])
    print(f"Maelis Desk window benchmark — Qt platform: {app.platformName()}, Python {sys.version.split()[0]}")
    try:
        if not args.skip_stall:
            bench_stall(app, home)
        if not args.skip_open:
            database = home / "city.sqlite3"
            numbers = fill_cache(database, args.families)
            bench_open(app, database, numbers, "offline mode (disk pool, cache only):", {"offline": True},
                       args.samples)
            dead = f"http://127.0.0.1:{free_port()}/maelisws/services"
            bench_open(app, database, numbers, "Maelis configured but unreachable (network pool, breaker):",
                       {"url": dead, "user": "caisse", "password": "x"}, args.samples)
    finally:
        shutil.rmtree(bench_cache._TMP, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
