"""Benchmark of the desk's start-up, its peak memory, and how fast a cached family is painted.

Run from the repository root:

    .venv/bin/python tests/perf/bench_startup.py                    # 33,500 families in the cache
    .venv/bin/python tests/perf/bench_startup.py --families 3000 --runs 3 --samples 20   # a quick run

Not a pytest module (the file name does not start with test_); it asserts
nothing about speed. Qt runs offscreen. bench_cache (imported first) points
MAELIS_DESK_HOME at a fresh temporary folder before anything reads the
settings; every launched desk gets its own MAELIS_DESK_HOME inside it; all is
removed at the end (--keep keeps it).

Figures (issue 13, point 3):
  1. start-up: the real process (`python -m maelis_desk`, no command: the
     window) launched with MAELIS_DESK_STARTUP_PROBE=1 (maelis_desk/ui/startup_probe.py
     says what each mark means), from just before the launch to `usable`:
     the window painted, the start-up work of the GUI thread done and the event
     loop about to wait. On the demo with an empty cache, and with the demo's
     database holding --families families (bench_cache's bulk loader: the
     Cache API's rows, checked against it at every run), demo Maelis and
     offline. --runs launches each, median and max, and the median of each
     phase;
  2. peak memory: the peak RSS (VmHWM, reported by the probe; not wait4's ru_maxrss, into
     which Linux carries the benchmark's own peak at the fork) of a desk
     launched with MAELIS_DESK_STARTUP_PROBE=open:N, which opens family N once
     usable and quits once its tables are painted: on the demo (the demo
     Maelis, 300 families, runs inside the desk's process and is counted), and
     offline with the city cache (a cached family);
  3. paint: in this process, a MainWindow on the city cache (offline), and for
     --samples random families read from the cache beforehand: the time from
     handing the family to the window (MainWindow._family_loaded, the slot the
     worker's result runs: models reset, tabs labelled, status bar) to its
     visible tables painted (the next event-loop pass that delivers a paint to
     their viewports); median and p95.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

# bench_cache isolates the run in a temporary MAELIS_DESK_HOME at import and
# brings the generator of realistic families and the bulk loader.
import bench_cache  # noqa: E402

from maelis_desk import config  # noqa: E402
from maelis_desk.store import Cache, open_database  # noqa: E402
from maelis_desk.store.database import db  # noqa: E402
from maelis_desk.ui.startup_probe import ENV as PROBE_ENV, PREFIX as PROBE_PREFIX  # noqa: E402

AIM_STARTUP = 1.0
AIM_RSS_MB = 250
AIM_PAINT = 0.016
PHASES = ["gui", "desk", "window", "shown", "painted", "usable"]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:7.1f} ms"


def percentile(samples: list[float], p: float) -> float:
    return bench_cache.percentile(samples, p)


# --- the desks' homes ------------------------------------------------------------------------


def desk_database(home: Path) -> Path:
    """The database a desk launched with MAELIS_DESK_HOME=home uses on the demo (no URL configured)."""
    return Path(config.Settings(home=home / "data").database_spec)


def fill_city(home: Path, families: int) -> list[int]:
    path = desk_database(home)
    if path.exists():  # --reuse: filled by an earlier --keep run
        import sqlite3

        with sqlite3.connect(path) as conn:
            families = conn.execute('SELECT count(*) FROM "family"').fetchone()[0]
        print(f"  reusing {path}: {families:,} families")
        return list(range(bench_cache.FIRST_NUMBER, bench_cache.FIRST_NUMBER + families))
    path.parent.mkdir(parents=True, exist_ok=True)
    print(f"  filling {path} with {families:,} families (bench_cache.fill, bulk loader)...", flush=True)
    open_database(str(path))
    try:
        stats = bench_cache.fill(Cache(), bench_cache.Generator(seed=2026, invoices_per_family=30), families,
                                 api_families=0, batch=500)
    finally:
        db.close()
    print(f"  filled: {stats['bulk']['families']:,} families, {stats['bulk']['invoices']:,} invoices, "
          f"{path.stat().st_size / 1e6:.0f} MB, in {stats['wall']:.0f} s")
    return list(range(bench_cache.FIRST_NUMBER, bench_cache.FIRST_NUMBER + families))


def child_env(home: Path, probe: str, offline: bool) -> dict:
    env = dict(os.environ)
    for var in ("MAELIS_DESK_URL", "MAELIS_DESK_USER", "MAELIS_DESK_PASSWORD", "MAELIS_DESK_DATABASE",
                "MAELIS_DESK_TIMEOUT", "MAELIS_DESK_OFFLINE", "MAELIS_DESK_OPERATOR",
                "PYTHONDONTWRITEBYTECODE"):  # an installed desk has its bytecode: let the first launch write it
        env.pop(var, None)
    env.update({"MAELIS_DESK_HOME": str(home), PROBE_ENV: probe, "QT_QPA_PLATFORM": "offscreen",
                "PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring",
                "PYTHONPATH": str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")})
    if offline:
        env["MAELIS_DESK_OFFLINE"] = "1"
    return env


def launch(home: Path, probe: str = "1", offline: bool = False, timeout: float = 120.0) -> tuple[dict, float]:
    """Launch the desk; returns (its marks as seconds since the launch, plus "cpu": its user + system
    CPU seconds, whole run; its peak RSS in MB)."""
    command = [sys.executable, "-m", "maelis_desk"]
    env = child_env(home, probe, offline)
    launched = time.monotonic()  # CLOCK_MONOTONIC: the clock of the child's marks too
    proc = subprocess.Popen(command, env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    watchdog = threading.Timer(timeout, proc.kill)
    watchdog.start()
    try:
        out = proc.stdout.read()
        err = proc.stderr.read()
        _, status, usage = os.wait4(proc.pid, 0)
    finally:
        watchdog.cancel()
    proc.returncode = os.waitstatus_to_exitcode(status)
    line = next((ln for ln in out.splitlines() if ln.startswith(PROBE_PREFIX)), None)
    if proc.returncode != 0 or line is None:
        raise SystemExit(f"the desk did not start as expected (exit {proc.returncode}):\n{out}\n{err}")
    marks = {}
    rss_kb = 0
    for item in line.split()[1:]:
        name, value = item.split("=")
        if name == "cpu_usable":
            marks[name] = float(value)  # CPU seconds of the child up to usable, not a clock reading
        elif name == "peak_rss_kb":
            rss_kb = int(value)  # VmHWM: wait4's ru_maxrss would include this process' own peak at the fork
        else:
            marks[name] = float(value) - launched
    marks["cpu"] = usage.ru_utime + usage.ru_stime  # less sensitive than wall-clock to a shared machine's load
    return marks, rss_kb / 1024


# --- 1. start-up ---------------------------------------------------------------------------


def bench_startup(label: str, home: Path, runs: int, offline: bool = False) -> float:
    launch(home, offline=offline)  # not counted: the first launch migrates a fresh database, fills the OS cache
    launches = [launch(home, offline=offline) for _ in range(runs)]
    samples = [marks for marks, _ in launches]
    usable = [m["usable"] for m in samples]
    print(f"  {label:<44} usable: median {ms(statistics.median(usable))}   max {ms(max(usable))}"
          f"   (aim ≤ {AIM_STARTUP * 1000:.0f} ms, {runs} runs)")
    print(f"      CPU time to usable (user + system, every thread; steadier under load): median "
          f"{ms(statistics.median(m['cpu_usable'] for m in samples)).strip()}; of the whole run (to usable and "
          f"quitting): median {ms(statistics.median(m['cpu'] for m in samples)).strip()}")
    print(f"      peak RSS without a family opened: "
          f"median {statistics.median(rss for _, rss in launches):.0f} MB")
    previous = 0.0
    parts = []
    for phase in PHASES:
        at = statistics.median(m[phase] for m in samples)
        parts.append(f"{phase} +{(at - previous) * 1000:.0f}")
        previous = at
    print(f"      median phases (ms since the previous mark): launch → {', '.join(parts)}")
    return statistics.median(usable)


# --- 2. peak memory --------------------------------------------------------------------------


def bench_memory(label: str, home: Path, number: int, offline: bool) -> float:
    marks, rss = launch(home, probe=f"open:{number}", offline=offline)
    print(f"  {label:<44} peak RSS {rss:6.0f} MB   (aim ≤ {AIM_RSS_MB} MB; family {number} opened in "
          f"{ms(marks['opened'] - marks['usable']).strip()}, painted {ms(marks['opened_painted'] - marks['opened']).strip()})")
    return rss


# --- 3. paint ----------------------------------------------------------------------------------


def bench_paint(home: Path, numbers: list[int], samples: int) -> tuple[float, float]:
    from PySide6.QtCore import QEvent, QObject
    from PySide6.QtWidgets import QApplication

    from bench_gui import pump, quiet_offscreen_noise
    from maelis_desk.services import Desk
    from maelis_desk.ui import worker
    from maelis_desk.ui.app import make_application
    from maelis_desk.ui.main_window import MainWindow

    class PaintWatch(QObject):
        def __init__(self):
            super().__init__()
            self.painted: set = set()

        def eventFilter(self, obj, event):  # noqa: N802
            if event.type() == QEvent.Type.Paint:
                self.painted.add(obj)
            return False

    quiet_offscreen_noise()
    app: QApplication = make_application(["bench_startup"])
    settings = config.load_settings({"database": str(desk_database(home)), "offline": True})
    desk = Desk.open(settings)
    window = MainWindow(desk, settings)
    window.show_on_screen()
    watch = PaintWatch()
    try:
        if not pump(app, lambda: not window.family_pane.warming_up, 30):
            raise SystemExit("the régie pages were not built")
        for page in window.family_pane._pages:
            for section in (page.to_pay, page.history):
                section.table.viewport().installEventFilter(watch)
        rng = random.Random(13)
        handed, painted, cpu, rows = [], [], [], []
        for number in rng.sample(numbers, samples + 1):
            view = desk.reader.open_family(number)  # the worker's part, off the clock
            snapshot = desk.health.snapshot()
            pump(app, lambda: False, 0.02)  # what the previous family left to do
            watch.painted.clear()
            started, cpu_started = time.perf_counter(), time.process_time()
            window._family_loaded(number, view, snapshot)
            given = time.perf_counter()
            page = window.family_pane.current_page()
            viewports = {s.table.viewport() for s in (page.to_pay, page.history) if s.table.isVisible()}
            while not viewports <= watch.painted:
                app.processEvents()
                if time.perf_counter() - started > 5:
                    raise SystemExit(f"family {number}: its tables were not painted")
            done = time.perf_counter()
            cpu.append(time.process_time() - cpu_started)
            handed.append(given - started)
            painted.append(done - started)
            rows.append(page.to_pay.model.rowCount() + page.history.model.rowCount())
        handed, painted, cpu = handed[1:], painted[1:], cpu[1:]  # the first one shows the window's first family
        med, p95 = statistics.median(painted), percentile(painted, 95)
        print(f"  handed to the window → visible tables painted: median {ms(med)}   p95 {ms(p95)}"
              f"   max {ms(max(painted))}   (aim ≤ {AIM_PAINT * 1000:.0f} ms, {samples} families)")
        print(f"      of which MainWindow._family_loaded (models reset, tabs, status bar): median "
              f"{ms(statistics.median(handed)).strip()}, p95 {ms(percentile(handed, 95)).strip()}; "
              f"invoices in the shown régie: median {statistics.median(rows):.0f}, max {max(rows)}")
        print(f"      CPU time of this process meanwhile (less sensitive to the machine's load): median "
              f"{ms(statistics.median(cpu)).strip()}, p95 {ms(percentile(cpu, 95)).strip()}")
        return med, p95
    finally:
        window.close()
        worker.shutdown(10)
        desk.close()


def main() -> int:
    parser = argparse.ArgumentParser(description="Benchmark of the desk's start-up, memory and paint.")
    parser.add_argument("--families", type=int, default=33_500, help="families in the city cache (33500)")
    parser.add_argument("--runs", type=int, default=7, help="launches per start-up figure (7)")
    parser.add_argument("--samples", type=int, default=50, help="families painted (50)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder and print its path")
    parser.add_argument("--reuse", metavar="FOLDER", type=Path,
                        help="the folder a --keep run left: its city cache is used instead of filling one (kept)")
    parser.add_argument("--skip-startup", action="store_true")
    parser.add_argument("--skip-memory", action="store_true")
    parser.add_argument("--skip-paint", action="store_true")
    args = parser.parse_args()

    tmp = bench_cache._TMP
    if args.reuse:
        shutil.rmtree(tmp, ignore_errors=True)
        tmp, args.keep = args.reuse, True
    print(f"Maelis Desk start-up benchmark — Python {sys.version.split()[0]}, {os.cpu_count()} CPUs, "
          f"Qt offscreen")
    try:
        demo_home, city_home = tmp / "demo-empty", tmp / "city"
        print("\n[0] The city cache")
        numbers = fill_city(city_home, args.families)
        args.families = len(numbers)
        cached = numbers[len(numbers) // 2]

        if not args.skip_startup:
            print("\n[1] Start-up: launch → window usable")
            bench_startup("demo, empty cache", demo_home, args.runs)
            bench_startup(f"demo, {args.families:,} families cached", city_home, args.runs)
            bench_startup(f"offline, {args.families:,} families cached", city_home, args.runs, offline=True)
        if not args.skip_memory:
            print("\n[2] Peak memory (RSS of the desk's process), a family opened")
            bench_memory("demo, empty cache, family 1312", demo_home, 1312, offline=False)
            bench_memory(f"demo, {args.families:,} cached, family 1312", city_home, 1312, offline=False)
            bench_memory(f"offline, {args.families:,} cached, family {cached}", city_home, cached, offline=True)
        if not args.skip_paint:
            print(f"\n[3] A cached family painted ({args.families:,} families cached, offline)")
            bench_paint(city_home, numbers, args.samples)
    finally:
        if args.keep:
            print(f"\nkept: {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
