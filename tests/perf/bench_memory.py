"""Peak memory of reading a huge but valid invoice list (issue 8 point 11).

    .venv/bin/python tests/perf/bench_memory.py                 # 60,000 and 10,000 invoices, ~1 min
    .venv/bin/python tests/perf/bench_memory.py --invoices 60000 20000 5000

Each size in a fresh process: a valid `readInvoicesResponse` envelope of N
invoices (the shape of tests/soap_envelopes.py) served over 127.0.0.1 by a
plain HTTP server in that process, read by a real `MaelisClient`
(`read_invoices`). It prints the answer's size, whether it was read or
refused (and the French message), the peak RSS (VmHWM) and the peak over the
RSS just before the read (the body already built: what the read itself cost),
as a multiple of the answer's size.
"""

from __future__ import annotations

import argparse
import http.server
import json
import subprocess
import sys
import threading
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]


def _status(key: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1]) * 1024
    raise KeyError(key)


def child(count: int) -> None:
    from soap_envelopes import envelope, invoice

    from maelis_desk.maelis import MaelisClient, MaelisError

    body = envelope("readInvoices", "".join(invoice(i + 1) for i in range(count))).encode()

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.0"

        def log_message(self, *args):
            pass

        def do_GET(self):  # the WSDL
            from soap_envelopes import wsdl
            self._send(wsdl("InvoiceService").encode())

        def do_POST(self):
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            self._send(body)

        def _send(self, payload: bytes):
            self.send_response(200)
            self.send_header("Content-Type", "text/xml; charset=utf-8")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    client = MaelisClient(f"http://127.0.0.1:{server.server_address[1]}/services", "a", "b", timeout=60)
    client.connect()
    before = _status("VmRSS")
    started = time.perf_counter()
    try:
        result = f"read, {len(client.read_invoices(1312, 102, datetime(2023, 1, 1, tzinfo=timezone.utc), datetime(2023, 12, 31, tzinfo=timezone.utc)))} invoices"
        exit_code = 0
    except MaelisError as exc:
        result = f"refused (exit {exc.exit_code}): {exc.message}"
        exit_code = exc.exit_code
    elapsed = time.perf_counter() - started
    peak = _status("VmHWM")
    print(json.dumps({"invoices": count, "size": len(body), "before": before, "peak": peak,
                      "result": result, "exit": exit_code, "seconds": elapsed}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--invoices", type=int, nargs="+", default=[60000, 10000])
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        child(args.child)
        return
    mb = 1024 * 1024
    print(f"{'invoices':>9} {'answer':>9} {'peak RSS':>9} {'read cost':>10} {'× size':>7} {'time':>6}  result")
    for count in args.invoices:
        out = subprocess.run([sys.executable, __file__, "--child", str(count)], capture_output=True, text=True,
                             check=True).stdout
        r = json.loads(out.strip().splitlines()[-1])
        cost = r["peak"] - r["before"]
        print(f"{count:>9} {r['size'] / mb:>7.1f}MB {r['peak'] / mb:>7.0f}MB {cost / mb:>8.0f}MB "
              f"{cost / r['size']:>7.1f} {r['seconds']:>5.1f}s  {r['result']}", flush=True)


if __name__ == "__main__":
    main()
