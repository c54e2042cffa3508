"""An answer the size cap lets through but whose element count would cost the
desk hundreds of megabytes is refused before zeep reads it (issue 8 point 11)."""

from __future__ import annotations

import os
import subprocess
import sys

from soap_envelopes import envelope, invoice, regie, wsdl

from maelis_desk.maelis import transport

from loopback import LoopbackServer

HUGE = envelope("readInvoices", "".join(invoice(i + 1) for i in range(6000))).encode()  # ~3.8 MB, 126,000 elements
REGIES = envelope("readRegieList", f"<return>{regie()}</return>").encode()


def answer(method, path, body):
    if method == "GET":
        return 200, "text/xml", wsdl(path.split("?", 1)[0].rsplit("/", 1)[-1]).encode()
    if b"readRegieList" in body:
        return 200, "text/xml", REGIES
    return 200, "text/xml", HUGE


def test_cli_refuses_an_oversized_answer_as_a_protocol_error(tmp_path):
    assert len(HUGE) < transport.MAX_BODY  # the size cap alone lets it through
    with LoopbackServer(answer) as server:
        env = dict(os.environ, MAELIS_DESK_HOME=str(tmp_path / "home"),
                   MAELIS_DESK_URL=f"{server.origin}/maelisws-recette/services",
                   MAELIS_DESK_USER="demo", MAELIS_DESK_PASSWORD="demo")
        result = subprocess.run([sys.executable, "-m", "maelis_desk", "invoices", "1312", "--timeout", "10"],
                                capture_output=True, text=True, env=env, timeout=60)
    assert result.returncode == 6, (result.returncode, result.stdout, result.stderr)
    assert "trop volumineuse" in result.stderr and "100\u202f000 éléments XML" in result.stderr, result.stderr
    assert "Traceback" not in result.stderr
