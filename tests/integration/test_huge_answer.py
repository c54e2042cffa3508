"""An answer the size cap lets through but whose element count would cost the
desk hundreds of megabytes is refused before zeep reads it (issue 8 point 11)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

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


def test_the_largest_invoice_list_the_caps_let_through_costs_a_few_times_its_size():
    """~4,500 invoices (just under MAX_ELEMENTS) read over loopback by the real
    client: the read's peak RSS over the answer's size. zeep's whole-answer path
    cost ~17 times; the streamed read (client._call_streamed) ~4."""
    bench = Path(__file__).resolve().parents[1] / "perf" / "bench_memory.py"
    out = subprocess.run([sys.executable, str(bench), "--child", "4500"], capture_output=True, text=True,
                         timeout=120, check=True).stdout
    figures = json.loads(out.strip().splitlines()[-1])
    assert figures["exit"] == 0, figures["result"]
    assert figures["result"] == "read, 4500 invoices"
    ratio = (figures["peak"] - figures["before"]) / figures["size"]
    assert ratio <= 6, f"the read cost {ratio:.1f} times the answer's size"


def test_a_label_saying_fault_is_read_as_an_invoice(tmp_path):
    from maelis_desk.maelis import MaelisClient

    body = envelope("readInvoices", invoice(1, replace={"libelleTTF": "Fault de frappe"}) + invoice(2)).encode()

    def answer_fault_word(method, path, data):
        if method == "GET":
            return 200, "text/xml", wsdl(path.split("?", 1)[0].rsplit("/", 1)[-1]).encode()
        return 200, "text/xml", body

    with LoopbackServer(answer_fault_word) as server:
        client = MaelisClient(f"{server.origin}/services", "a", "b", timeout=10)
        invoices = client.read_invoices(1312, 102, datetime(2023, 1, 1, tzinfo=timezone.utc),
                                        datetime(2023, 12, 31, tzinfo=timezone.utc))
    assert [i.label for i in invoices] == ["Fault de frappe", "CLAE JANVIER 2023"]
