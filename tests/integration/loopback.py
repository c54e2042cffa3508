"""Small real HTTP(S) servers on 127.0.0.1 for the fault tests: another origin
that counts what reaches it, a server that hangs, a server serving a fixed body."""

from __future__ import annotations

import http.server
import threading
from typing import Callable


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"

    def log_message(self, format, *args):  # quiet
        pass

    def _any(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        self.server.received.append((self.command, self.path, dict(self.headers), body))
        status, content_type, payload = self.server.answer(self.command, self.path, body)
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = do_PUT = _any


class LoopbackServer:
    """A threaded HTTP server on 127.0.0.1:<free port> recording every request.

    `answer(method, path, body) -> (status, content type, bytes)`; default 404."""

    def __init__(self, answer: Callable[[str, str, bytes], tuple[int, str, bytes]] | None = None,
                 ssl_context=None):
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.httpd.daemon_threads = True
        self.httpd.received = []
        self.httpd.answer = answer or (lambda m, p, b: (404, "text/plain", b"nothing here\n"))
        scheme = "http"
        if ssl_context is not None:
            self.httpd.socket = ssl_context.wrap_socket(self.httpd.socket, server_side=True)
            scheme = "https"
        self.origin = f"{scheme}://127.0.0.1:{self.httpd.server_address[1]}"
        self._thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)

    @property
    def received(self) -> list:
        return self.httpd.received

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()
        self._thread.join()
