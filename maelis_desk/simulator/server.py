"""The demo Maelis server: threaded HTTP, fault control, payments ledger.

In-process use (tests, the desk's demo mode)::

    with Simulator(families=300, state_dir=path) as sim:
        sim.url            # http://127.0.0.1:<port>/maelisws-demo/services
        sim.set_fault("html500")
        sim.set_latency(0.2)
        sim.applied_payments()

From the command line::

    python -m maelis_desk.simulator.server --port 8080 --families 33500

prints the services' base URL alone on the first line, ``control: <url>`` on
the second, then serves until SIGINT/SIGTERM.

Fault modes (:data:`FAULT_MODES`), effective from the next request:

``slow``
    every SOAP answer is delayed by the latency, 30 s when it is 0 (the
    operation runs first: a timed-out ``payInvoices`` was applied).
``down``
    the listening socket is closed (connection refused); leaving the mode
    re-opens it on the same port, so the URL stays valid. Requests in flight
    are dropped.
``html500``
    every SOAP POST gets HTTP 500 with a Tomcat-like HTML page; nothing is
    executed (as when a proxy or the container fails in front of Maelis).
``garbage``
    HTTP 200 ``text/xml`` whose body is not XML; nothing is executed.
``truncated``
    the operation runs and its answer is cut in the middle (HTTP 200).
``lost``
    ``payInvoices`` runs (a valid payment is in the ledger), then the
    connection is closed without any answer, whatever the outcome; other
    operations answer normally.
``redirect307``, ``redirect308``
    every SOAP POST is answered by that redirect to the same path on
    ``sim.redirect_to`` (another origin; default: the control socket), as a
    misconfigured proxy would; nothing is executed. A client that follows it
    re-sends the envelope, password included, to that other server.
``odd_cents``, ``negative_paid``, ``negative_invoice``, ``huge_amount``
    ``readInvoices`` runs normally, but the first invoice it lists carries a
    figure no régie can hold: ``amountInvoice`` 12.055, ``amountPaid``
    -15.5, ``amountInvoice`` -28.98, a 26-digit ``amountInvoice``.

The mode in force when a request arrives decides its fate.

WSDL GETs are never delayed and only ``down`` affects them.

Control over HTTP, for a simulator in another process (no auth; requests
must come from the loopback). It is served on a second, always-up socket,
``sim.control_url`` (e.g. ``http://127.0.0.1:54322/_control``), which keeps
working in ``down`` mode, and also under ``<root>/_control`` on the main
socket (``<root>`` = ``sim.url`` without ``/services``)::

    GET  /_control            {"fault": null, "latency": 0.0, "apply_delay": 0.0, "url": ..., "control_url": ...}
    POST /_control            body {"fault": "down" | null, "latency": 1.5, "apply_delay": 75}, keys optional
    GET  /_control/payments   the ledger, as Simulator.applied_payments()

The ledger is a SQLite database (WAL) in ``state_dir``; payments survive a
restart with the same ``state_dir`` and are added to the generated amounts
paid of the invoices.
"""

from __future__ import annotations

import argparse
import json
import logging
import shutil
import signal
import socket
import socketserver
import sqlite3
import ssl
import sys
import tempfile
import threading
import weakref
from collections.abc import Iterator
from contextlib import closing, contextmanager
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from types import TracebackType
from typing import Any, Self, TextIO
from wsgiref.handlers import SimpleHandler
from wsgiref.simple_server import ServerHandler, WSGIRequestHandler, WSGIServer

from .data import DemoData
from .soap import (
    CONTROL,
    FAULT_MODES,
    ROOT,
    SERVICES,
    AbortConnection,
    Knobs,
    MaelisApp,
)

__all__ = ["FAULT_MODES", "Ledger", "Simulator", "main", "run_simulator"]

log = logging.getLogger("maelis_desk.simulator")

LEDGER_FILE = "maelis-demo-ledger.sqlite3"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS payments (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    ref         TEXT    NOT NULL,
    family      INTEGER NOT NULL,
    regie       INTEGER NOT NULL,
    amount      TEXT    NOT NULL,
    invoices    TEXT    NOT NULL,  -- JSON list of invoice numbers, as sent
    date        TEXT    NOT NULL,  -- datePaiement, ISO 8601
    applied_at  TEXT    NOT NULL   -- when the simulator applied it, ISO 8601
);
CREATE TABLE IF NOT EXISTS allocations (
    payment  INTEGER NOT NULL REFERENCES payments(id),
    family   INTEGER NOT NULL,
    regie    INTEGER NOT NULL,
    invoice  INTEGER NOT NULL,
    amount   TEXT    NOT NULL
);
CREATE INDEX IF NOT EXISTS allocations_by_family ON allocations(family, regie);
"""


# --------------------------------------------------------------------------
# Ledger.
# --------------------------------------------------------------------------

class Ledger:
    """Payments applied by the simulator, in SQLite (WAL).

    One connection shared by the request threads behind :attr:`lock`; the
    lock is also what makes a payment's check-then-record atomic. While the
    ledger is closed, reads open a short-lived connection.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.lock = threading.RLock()
        self._conn: sqlite3.Connection | None = None

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None, timeout=10)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")
        conn.executescript(_SCHEMA)
        return conn

    def open(self) -> None:
        with self.lock:
            if self._conn is None:
                self._conn = self._connect()

    def close(self) -> None:
        with self.lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    @contextmanager
    def _connection(self) -> Iterator[sqlite3.Connection]:
        with self.lock:
            if self._conn is not None:
                yield self._conn
            else:
                with closing(self._connect()) as conn:
                    yield conn

    def applied(self, family: int, regie: int) -> dict[int, Decimal]:
        totals: dict[int, Decimal] = {}
        with self._connection() as conn:
            rows = conn.execute(
                "SELECT invoice, amount FROM allocations WHERE family = ? AND regie = ?", (family, regie)
            ).fetchall()
        for invoice, amount in rows:
            totals[invoice] = totals.get(invoice, Decimal(0)) + Decimal(amount)
        return totals

    def record(self, *, ref: str, family: int, regie: int, amount: Decimal, date: str,
               invoices: list[int], allocations: list[tuple[int, Decimal]]) -> int:
        applied_at = datetime.now().astimezone().isoformat(timespec="seconds")
        with self._connection() as conn:
            conn.execute("BEGIN IMMEDIATE")
            try:
                cursor = conn.execute(
                    "INSERT INTO payments (ref, family, regie, amount, invoices, date, applied_at)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (ref, family, regie, f"{amount:.2f}", json.dumps(invoices), date, applied_at),
                )
                payment = cursor.lastrowid
                conn.executemany(
                    "INSERT INTO allocations (payment, family, regie, invoice, amount) VALUES (?, ?, ?, ?, ?)",
                    [(payment, family, regie, num, f"{share:.2f}") for num, share in allocations],
                )
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
        assert payment is not None
        return payment

    def payments(self) -> list[dict[str, Any]]:
        with self._connection() as conn:
            rows = conn.execute(
                "SELECT ref, family, regie, amount, invoices, date, applied_at FROM payments ORDER BY id"
            ).fetchall()
        return [
            {"ref": ref, "family": family, "regie": regie, "amount": amount,
             "invoices": json.loads(invoices), "date": paid_on, "applied_at": applied_at}
            for ref, family, regie, amount, invoices, paid_on, applied_at in rows
        ]


# --------------------------------------------------------------------------
# HTTP plumbing.
# --------------------------------------------------------------------------

class _ServerHandler(ServerHandler):
    """wsgiref's handler, plus: :class:`AbortConnection` drops the connection."""

    aborted = False

    def handle_error(self) -> None:
        if isinstance(sys.exc_info()[1], AbortConnection):
            self.aborted = True
            SimpleHandler.close(self)  # nothing was written; write nothing
            return
        super().handle_error()

    def log_exception(self, exc_info: Any) -> None:
        log.error("error in the demo Maelis", exc_info=exc_info)


class _RequestHandler(WSGIRequestHandler):
    """One request per connection (HTTP/1.0), quiet, abort-aware."""

    server_version = "Apache-Coyote/1.1"
    sys_version = ""
    timeout = 30  # a silent client cannot hold a thread forever

    def handle(self) -> None:
        self.raw_requestline = self.rfile.readline(65537)
        if len(self.raw_requestline) > 65536:
            self.requestline = ""
            self.request_version = ""
            self.command = ""
            self.send_error(414)
            return
        if not self.parse_request():
            return
        handler = _ServerHandler(self.rfile, self.wfile, self.get_stderr(), self.get_environ(), multithread=True)
        handler.request_handler = self
        handler.run(self.server.get_app())  # type: ignore[attr-defined]

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s - %s", self.address_string(), format % args)


class _HTTPServer(socketserver.ThreadingMixIn, WSGIServer):
    """Threaded WSGI server whose close() joins every request thread."""

    daemon_threads = False
    block_on_close = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], tls: ssl.SSLContext | None = None) -> None:
        self._active: set[socket.socket] = set()
        self._active_lock = threading.Lock()
        self._tls = tls
        super().__init__(address, _RequestHandler)

    def get_request(self) -> tuple[socket.socket, Any]:
        request, address = super().get_request()
        if self._tls is not None:
            # the handshake happens in the request's thread, on its first read: a client
            # refusing the certificate fails that request only
            request = self._tls.wrap_socket(request, server_side=True, do_handshake_on_connect=False)
        return request, address

    def server_bind(self) -> None:
        # HTTPServer.server_bind() would call socket.getfqdn(): a DNS lookup.
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name = str(host)
        self.server_port = int(port)
        self.setup_environ()

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._active_lock:
            self._active.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._active_lock:
            self._active.discard(request)
        super().shutdown_request(request)

    def abort_active(self) -> None:
        """Unblock the threads of the requests in flight (their sockets fail)."""
        with self._active_lock:
            for request in self._active:
                try:
                    request.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Called by socketserver from its except clause: the exception is current.
        log.debug("connection from %s failed: %r", client_address, sys.exc_info()[1])


class _Listener:
    """One listening socket and the thread serving it."""

    def __init__(self, host: str, port: int, app: Any, name: str, tls: ssl.SSLContext | None = None) -> None:
        self.server = _HTTPServer((host, port), tls)
        self.server.set_app(app)
        self.port: int = self.server.server_address[1]
        self._thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.1}, name=name, daemon=True
        )
        self._thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.abort_active()
        self.server.server_close()  # closes the socket, joins the request threads
        self._thread.join()


def _is_loopback(address: str) -> bool:
    return address.startswith("127.") or address in ("::1", "::ffff:127.0.0.1")


# --------------------------------------------------------------------------
# The simulator.
# --------------------------------------------------------------------------

class Simulator:
    """The demo Maelis, served on ``host``:``port`` (0: any free port).

    ``state_dir`` holds the payments ledger (None: a fresh temporary
    directory, removed when the simulator is garbage-collected); ``user`` and
    ``password`` are the WS-Security credentials it accepts; ``latency`` and
    ``fault`` are the initial knobs; ``today`` fixes the date the demo data
    is generated for (tests). ``tls`` (a certificate file and its key file) serves
    the services over HTTPS, to test how the desk takes a certificate it
    trusts, and one it refuses; the control endpoint stays plain HTTP.
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 0, families: int = 300, seed: int = 2023,
                 state_dir: Path | str | None = None, user: str = "demo", password: str = "demo",
                 latency: float = 0.0, fault: str | None = None, *, today: date | None = None,
                 tls: tuple[Path | str, Path | str] | None = None) -> None:
        _check_fault(fault)
        _check_latency(latency)
        self.host = host
        self._requested_port = port
        self._tls: ssl.SSLContext | None = None
        if tls is not None:
            self._tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            self._tls.load_cert_chain(str(tls[0]), str(tls[1]))
        self.data = DemoData(seed=seed, families=families, today=today)
        if state_dir is None:
            self.state_dir = Path(tempfile.mkdtemp(prefix="maelis-demo-"))
            self._cleanup = weakref.finalize(self, shutil.rmtree, str(self.state_dir), ignore_errors=True)
        else:
            self.state_dir = Path(state_dir)
            self.state_dir.mkdir(parents=True, exist_ok=True)
        self.ledger = Ledger(self.state_dir / LEDGER_FILE)
        self.knobs = Knobs(fault=fault, latency=float(latency))
        self.app = MaelisApp(self.data, self.ledger, user=user, password=password, knobs=self.knobs,
                             wait=self._wait, control=self._control_app)
        self._lock = threading.RLock()
        self._wake = threading.Event()
        self._main: _Listener | None = None
        self._control: _Listener | None = None
        self._port: int | None = None
        self._control_port = 0
        self._started = False
        self._helpers: list[threading.Thread] = []

    # ---- life cycle --------------------------------------------------------

    def start(self) -> Self:
        """Start serving (in daemon threads); returns self. No-op if serving."""
        with self._lock:
            if self._started:
                return self
            self.ledger.open()
            try:
                self._wake = threading.Event()
                self._control = _Listener(self.host, self._control_port, self._control_app, "maelis-demo-control")
                self._control_port = self._control.port  # both URLs survive a stop/start
                main = _Listener(self.host, self._requested_port if self._port is None else self._port,
                                 self.app, "maelis-demo", self._tls)
                self._port = main.port
                self.app.base_url = self.origin
                if self.knobs.redirect_to is None:
                    self.knobs.redirect_to = self.control_url.rsplit("/", 1)[0]
                self._main = main
                self._started = True
                if self.knobs.fault == "down":
                    self._take_down()
            except BaseException:
                self._started = True
                self.stop()
                raise
        return self

    def stop(self) -> None:
        """Stop serving, close the sockets, join the threads. Idempotent."""
        while self._helpers:
            self._helpers.pop().join()
        with self._lock:
            if not self._started:
                return
            self._started = False
            self._wake.set()
            for listener in (self._main, self._control):
                if listener is not None:
                    listener.close()
            self._main = self._control = None
            self.ledger.close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    # ---- addresses ---------------------------------------------------------

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("the simulator is not started")
        return self._port

    @property
    def origin(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        if host in ("0.0.0.0", "[::]", ""):
            host = "127.0.0.1"
        return f"{'https' if self._tls else 'http'}://{host}:{self.port}"

    @property
    def url(self) -> str:
        """Base of the services: ``http://127.0.0.1:<port>/maelisws-demo/services``."""
        return self.origin + SERVICES

    @property
    def root(self) -> str:
        """``url`` without ``/services``."""
        return self.origin + ROOT

    @property
    def control_url(self) -> str:
        """The always-up control endpoint: ``http://127.0.0.1:<port>/_control``."""
        if self._control is None:
            raise RuntimeError("the simulator is not started")
        host = self.origin.rsplit(":", 1)[0].replace("https://", "http://", 1)  # always plain HTTP
        return f"{host}:{self._control.port}/_control"

    # ---- knobs -------------------------------------------------------------

    @property
    def fault(self) -> str | None:
        return self.knobs.fault

    @property
    def latency(self) -> float:
        return self.knobs.latency

    def set_fault(self, mode: str | None) -> None:
        """Switch to a fault mode (or None), effective for the next request."""
        _check_fault(mode)
        with self._lock:
            self.knobs.fault = mode
            if not self._started:
                return
            if mode == "down" and self._main is not None:
                self._take_down()
            elif mode != "down" and self._main is None:
                self._main = _Listener(self.host, self.port, self.app, "maelis-demo")

    @property
    def redirect_to(self) -> str | None:
        return self.knobs.redirect_to

    @redirect_to.setter
    def redirect_to(self, origin: str | None) -> None:
        """Where the redirect modes point (``http://127.0.0.1:<port>``)."""
        self.knobs.redirect_to = origin

    def set_latency(self, seconds: float) -> None:
        """Delay added before every SOAP answer (not WSDL GETs)."""
        _check_latency(seconds)
        self.knobs.latency = float(seconds)

    def set_apply_delay(self, seconds: float) -> None:
        """How long Maelis works on a payInvoices before applying it (and answering)."""
        _check_latency(seconds)
        self.knobs.apply_delay = float(seconds)

    def applied_payments(self) -> list[dict[str, Any]]:
        """The payments applied, in order, read from the ledger."""
        return self.ledger.payments()

    def _take_down(self) -> None:
        main, self._main = self._main, None
        self._wake.set()  # requests sleeping in a latency are dropped
        if main is not None:
            main.close()
        self._wake = threading.Event()

    def _wait(self, seconds: float) -> bool:
        """Sleep; False if the server went down or is stopping meanwhile."""
        return not self._wake.wait(seconds)

    # ---- control endpoint --------------------------------------------------

    def _state(self) -> dict[str, Any]:
        return {"fault": self.knobs.fault, "latency": self.knobs.latency, "apply_delay": self.knobs.apply_delay,
                "url": self.url,
                "control_url": self.control_url}

    def _control_app(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        def answer(status: str, payload: Any) -> list[bytes]:
            body = json.dumps(payload, ensure_ascii=False).encode()
            start_response(status, [("Content-Type", "application/json; charset=utf-8"),
                                    ("Content-Length", str(len(body)))])
            return [body]

        if not _is_loopback(environ.get("REMOTE_ADDR", "")):
            return answer("403 Forbidden", {"error": "loopback only"})
        path = environ.get("PATH_INFO", "")
        prefix = CONTROL if environ.get("maelis.via_main") else "/_control"
        method = environ.get("REQUEST_METHOD", "GET")
        if path == prefix + "/payments" and method == "GET":
            return answer("200 OK", self.applied_payments())
        if path not in (prefix, prefix + "/"):
            return answer("404 Not Found", {"error": "not found"})
        if method == "GET":
            return answer("200 OK", self._state())
        if method != "POST":
            return answer("405 Method Not Allowed", {"error": "GET or POST"})
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
            changes = json.loads(environ["wsgi.input"].read(length) or b"{}") if length <= 65536 else None
            if not isinstance(changes, dict) or set(changes) - {"fault", "latency", "apply_delay"}:
                raise ValueError('expected {"fault": ..., "latency": ..., "apply_delay": ...}')
            if "fault" in changes:
                _check_fault(changes["fault"])
            if "latency" in changes:
                _check_latency(changes["latency"])
            if "apply_delay" in changes:
                _check_latency(changes["apply_delay"])
        except (ValueError, TypeError) as exc:
            return answer("400 Bad Request", {"error": str(exc)})
        if "latency" in changes:
            self.set_latency(changes["latency"])
        if "apply_delay" in changes:
            self.set_apply_delay(changes["apply_delay"])
        if "fault" in changes:
            if environ.get("maelis.via_main") and changes["fault"] == "down":
                # Closing the main socket joins its request threads and aborts
                # the requests in flight, this one included: take it down from
                # another thread, started only once this answer is written
                # (WSGI calls the body's close() after sending it).
                self.knobs.fault = "down"
                return _AfterAnswer(answer("200 OK", self._state()), self._take_down_later)
            self.set_fault(changes["fault"])
        return answer("200 OK", self._state())

    def _take_down_later(self) -> None:
        helper = threading.Thread(target=self._take_down_if_down, name="maelis-demo-down")
        self._helpers.append(helper)
        helper.start()

    def _take_down_if_down(self) -> None:
        with self._lock:  # unless the fault was cleared meanwhile
            if self._started and self.knobs.fault == "down" and self._main is not None:
                self._take_down()


class _AfterAnswer:
    """A WSGI body that runs `then` once the server has sent it."""

    def __init__(self, chunks: list[bytes], then: Any) -> None:
        self._chunks = chunks
        self._then = then

    def __iter__(self) -> Iterator[bytes]:
        return iter(self._chunks)

    def close(self) -> None:
        self._then()


def _check_fault(mode: Any) -> None:
    if mode is not None and mode not in FAULT_MODES:
        raise ValueError(f"unknown fault mode {mode!r}; expected None or one of {', '.join(FAULT_MODES)}")


def _check_latency(seconds: Any) -> None:
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or not 0 <= seconds < 3600:
        raise ValueError(f"latency must be a number of seconds in [0, 3600), not {seconds!r}")


# --------------------------------------------------------------------------
# Command line.
# --------------------------------------------------------------------------

def run_simulator(host: str = "127.0.0.1", port: int = 8080, families: int = 300, latency: float = 0.0,
                  fault: str | None = None, state_dir: Path | str | None = None, seed: int = 2023,
                  out: TextIO = sys.stdout) -> int:
    """Serve until SIGINT/SIGTERM. Prints the base URL alone on the first
    line and ``control: <url>`` on the second. Returns 0."""
    stopping = threading.Event()
    previous: dict[int, Any] = {}
    if threading.current_thread() is threading.main_thread():
        for signum in (signal.SIGINT, signal.SIGTERM):
            previous[signum] = signal.signal(signum, lambda *_: stopping.set())
    try:
        with Simulator(host=host, port=port, families=families, seed=seed, state_dir=state_dir,
                       latency=latency, fault=fault) as sim:
            print(sim.url, file=out, flush=True)
            print(f"control: {sim.control_url}", file=out, flush=True)
            try:
                while not stopping.wait(0.5):
                    pass
            except KeyboardInterrupt:
                pass
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m maelis_desk.simulator.server",
                                     description="Demo Maelis SOAP server (see shared/maelis-contract.md).")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--families", type=int, default=300)
    parser.add_argument("--seed", type=int, default=2023)
    parser.add_argument("--latency", type=float, default=0.0, help="seconds added before every SOAP answer")
    parser.add_argument("--fault", choices=FAULT_MODES, default=None)
    parser.add_argument("--state-dir", type=Path, default=None, help="where the payments ledger lives")
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.WARNING,
                        format="%(asctime)s %(levelname)s %(message)s")
    return run_simulator(host=args.host, port=args.port, families=args.families, latency=args.latency,
                         fault=args.fault, state_dir=args.state_dir, seed=args.seed)


if __name__ == "__main__":
    sys.exit(main())
