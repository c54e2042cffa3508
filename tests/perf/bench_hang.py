"""How long a read takes to show the cached answer when Maelis hangs (issue 8 point 10).

    .venv/bin/python tests/perf/bench_hang.py            # --timeout 2 and 5, 3 runs each, ~1 min
    .venv/bin/python tests/perf/bench_hang.py --runs 1 --timeouts 2

The demo Maelis (`Simulator`) on 127.0.0.1, behind a small TCP relay of this
script. A first `maelis-desk invoices 1312` with Maelis well fills the cache
(and the WSDL copies). Then, for each timeout, the same command is timed
(wall-clock of the whole process, as a user waits for it) in two states:

* ``slow``: the simulator's own `slow` fault mode (SOAP answers delayed by
  30 s; the simulator never delays a WSDL GET);
* ``hang``: the relay accepts connections and reads, but never answers
  anything, WSDL GETs included: a Maelis whose container hangs.

each "without a WSDL copy" (the copies deleted before the run: what every
run cost before the copy was used at once) and "with a copy". The target is
the timeout + 0.3 s with a copy. Every run must end with exit code 0 and the
cached invoices on stdout (checked), else the script stops.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from maelis_desk.simulator import Simulator  # noqa: E402

FAMILY = 1312


class Relay:
    """127.0.0.1:<port> -> the simulator, or a black hole while `hang` is set."""

    def __init__(self, target: tuple[str, int]):
        self.target = target
        self.hang = False
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                client, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._handle, args=(client,), daemon=True).start()

    def _handle(self, client: socket.socket) -> None:
        if self.hang:  # read whatever comes, answer nothing, until the client gives up
            with client:
                while client.recv(65536):
                    pass
            return
        upstream = socket.create_connection(self.target)

        def pipe(src: socket.socket, dst: socket.socket) -> None:
            try:
                while data := src.recv(65536):
                    dst.sendall(data)
            except OSError:
                pass
            finally:
                for s in (src, dst):
                    try:
                        s.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass

        threading.Thread(target=pipe, args=(upstream, client), daemon=True).start()
        pipe(client, upstream)


def run_cli(env: dict, timeout: float, *extra: str) -> float:
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "maelis_desk", "invoices", str(FAMILY), "--json", "--timeout", f"{timeout:g}",
         *extra],
        capture_output=True, text=True, env=env, timeout=120,
    )
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        sys.exit(f"exit {proc.returncode}: {proc.stderr}")
    data = json.loads(proc.stdout)
    if not data["invoices"]:
        sys.exit(f"no invoices in the answer: {proc.stdout[:300]}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--timeouts", type=float, nargs="+", default=[2.0, 5.0])
    parser.add_argument("--runs", type=int, default=3, help="runs per cell (median shown)")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="bench-hang-"))
    try:
        with Simulator(port=0, families=40, state_dir=work / "maelis") as sim:
            host, port = sim.url.split("//", 1)[1].split("/", 1)[0].split(":")
            relay = Relay((host, int(port)))
            url = sim.url.replace(f"{host}:{port}", f"127.0.0.1:{relay.port}")
            env = dict(os.environ, MAELIS_DESK_HOME=str(work / "home"), MAELIS_DESK_URL=url,
                       MAELIS_DESK_USER="demo", MAELIS_DESK_PASSWORD="demo", PYTHONPATH=str(ROOT))
            run_cli(env, 5)  # fills the cache and the WSDL copies
            copies = {p.name: p.read_bytes() for p in (work / "home").rglob("*.wsdl")}
            if not copies:
                sys.exit("no WSDL copy kept by the first run")
            wsdl_dir = next((work / "home").rglob("*.wsdl")).parent

            def state(copy: bool) -> None:
                shutil.rmtree(wsdl_dir, ignore_errors=True)
                if copy:
                    wsdl_dir.mkdir(parents=True)
                    for name, data in copies.items():
                        (wsdl_dir / name).write_bytes(data)

            floor = statistics.median(run_cli(env, 2, "--offline") for _ in range(args.runs))
            print(f"the same command --offline (start-up and cache, no Maelis): {floor:.2f}s; "
                  "target = timeout + 0.3 s + that")
            print(f"time to the cached answer of `maelis-desk invoices {FAMILY}` (median of {args.runs}, "
                  "wall-clock of the process)")
            print(f"{'mode':6} {'timeout':>8} {'no WSDL copy':>14} {'with a copy':>13} {'target':>8}")
            for mode in ("slow", "hang"):
                sim.set_fault("slow" if mode == "slow" else None)
                relay.hang = mode == "hang"
                for timeout in args.timeouts:
                    cells = []
                    for copy in (False, True):
                        times = []
                        for _ in range(args.runs):
                            state(copy)
                            times.append(run_cli(env, timeout))
                        cells.append(statistics.median(times))
                    print(f"{mode:6} {timeout:>7g}s {cells[0]:>13.2f}s {cells[1]:>12.2f}s {timeout + 0.3 + floor:>7.2f}s",
                          flush=True)
            sim.set_fault(None)
            relay.hang = False
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
