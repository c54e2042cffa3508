"""`maelis-desk sync`: the scheduled refresh from the command line (cron, a
scheduled task), with its progress: a bar on a terminal, dated lines in a log."""

from __future__ import annotations

import shutil
import sys
import time
from datetime import datetime

from .formatting import count_fr, duration_fr
from .services.sync import Progress

LOG_EVERY = 10.0  # seconds between two progress lines in a log


class ProgressPrinter:
    def __init__(self, out=None, *, tty: bool | None = None, clock=time.monotonic):
        self.out = out or sys.stdout
        self.tty = self.out.isatty() if tty is None else tty
        self.clock = clock
        self._last = None
        self._drawn = False

    def __call__(self, progress: Progress) -> None:
        now = self.clock()
        if self.tty:
            if self._last is not None and now - self._last < 0.1:
                return
            self._last = now
            width = shutil.get_terminal_size((80, 20)).columns
            left = f" reste {duration_fr(progress.eta)}" if progress.eta is not None else ""
            tail = (f" {progress.fraction:4.0%} {count_fr(progress.done)}/{count_fr(progress.total)} "
                    f"· {progress.phase}{left}")
            bar_width = max(10, min(40, width - len(tail) - 3))
            filled = int(bar_width * progress.fraction)
            line = f"[{'█' * filled}{'·' * (bar_width - filled)}]{tail}"
            self.out.write("\r" + line[:width - 1].ljust(width - 1))
            self.out.flush()
            self._drawn = True
        else:
            if self._last is not None and now - self._last < LOG_EVERY:
                return
            self._last = now
            stamp = datetime.now().astimezone().strftime("%Y-%m-%d %H:%M:%S")
            print(f"{stamp} {progress.text()} · appels : {count_fr(progress.calls)}", file=self.out, flush=True)

    def done(self) -> None:
        if self.tty and self._drawn:
            self.out.write("\n")
            self.out.flush()


def run_sync(desk, args) -> int:
    printer = ProgressPrinter() if args.progress else None
    try:
        if desk.settings.demo and not desk.settings.offline and desk.refresher.store.total_lists() == 0:
            from .launcher import demo_family_numbers

            numbers = demo_family_numbers(desk.settings)
            print(f"Démo : le cache est vide ; premier remplissage avec les {count_fr(len(numbers))} familles "
                  "du Maelis de démonstration.")
            filled = desk.refresher.fill(numbers, on_progress=printer)
            if printer:
                printer.done()
            print(f"Listes de factures lues : {count_fr(len(filled.refreshed))} ; appels à Maelis : "
                  f"{count_fr(filled.calls)} en {duration_fr(filled.elapsed)}.")
            if filled.stopped:
                print(f"Arrêt : {filled.stopped}.")
                return 0
            printer = ProgressPrinter() if args.progress else None
        report = desk.refresher.run_once(args.budget, new_pass=args.new_pass, on_progress=printer)
    except KeyboardInterrupt:
        desk.refresher.cancel()
        if printer:
            printer.done()
        print("Interrompu : la passe reprendra là où elle en est.", file=sys.stderr)
        return 130
    if printer:
        printer.done()
    for line in report.summary():
        print(line)
    return 0
