"""The command line as a user runs it: a real process, real HTTP, exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from decimal import Decimal

import pytest

from integration_helpers import DEMO_FAMILY


def run(*args, url=None, password="demo", env_extra=None, timeout=60):
    env = dict(os.environ)
    if url:
        env.update({"MAELIS_DESK_URL": url, "MAELIS_DESK_USER": "demo", "MAELIS_DESK_PASSWORD": password})
    env.update(env_extra or {})
    return subprocess.run(
        [sys.executable, "-m", "maelis_desk", *args],
        capture_output=True, text=True, env=env, timeout=timeout,
    )


def test_demo_with_nothing_configured():
    result = run("invoices", str(DEMO_FAMILY), "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["family"] == DEMO_FAMILY and data["invoices"]
    inv = data["invoices"][0]
    for key in ("regie", "regie_label", "number", "id", "label", "date", "deadline", "amount", "paid",
                "paid_treasury", "remaining", "status", "source", "fetched_at", "lines"):
        assert key in inv
    assert all(i["status"] == "to_pay" and i["source"] == "maelis" for i in data["invoices"])
    assert all(Decimal(i["remaining"]) == Decimal(i["amount"]) - Decimal(i["paid"]) - Decimal(i["paid_treasury"])
               for i in data["invoices"])
    assert all(len(i["amount"].split(".")[1]) == 2 for i in data["invoices"])


def test_history_json(simulator):
    result = run("invoices", str(DEMO_FAMILY), "--history", "--json", url=simulator.url)
    assert result.returncode == 0, result.stderr
    statuses = {i["status"] for i in json.loads(result.stdout)["invoices"]}
    assert statuses <= {"paid", "transmitted"} and statuses


def test_text_output_in_french(simulator):
    result = run("invoices", str(DEMO_FAMILY), url=simulator.url)
    assert result.returncode == 0 and "reste dû" in result.stdout and "€" in result.stdout
    result = run("families", str(DEMO_FAMILY), url=simulator.url)
    assert result.returncode == 0 and str(DEMO_FAMILY) in result.stdout
    result = run("regies", "--json", url=simulator.url)
    assert len(json.loads(result.stdout)) == 9


def test_family_and_pdf(simulator, tmp_path):
    result = run("family", str(DEMO_FAMILY), "--json", url=simulator.url)
    assert json.loads(result.stdout)["number"] == DEMO_FAMILY
    invoices = json.loads(run("invoices", str(DEMO_FAMILY), "--json", url=simulator.url).stdout)["invoices"]
    out = tmp_path / "f.pdf"
    result = run("pdf", str(invoices[0]["regie"]), str(invoices[0]["number"]), "-o", str(out), url=simulator.url)
    assert result.returncode == 0 and out.read_bytes().startswith(b"%PDF")


@pytest.mark.parametrize(
    "args,code,message",
    [
        (("family", "999999"), 5, "E02"),
        (("invoices", "abc"), 2, "entier"),
        (("nonsense",), 2, "erreur"),
        (("invoices", str(DEMO_FAMILY), "--regie", "999"), 5, "Régie"),
    ],
)
def test_exit_codes(simulator, args, code, message):
    result = run(*args, url=simulator.url)
    assert result.returncode == code, result.stderr
    assert message in result.stderr and "Traceback" not in result.stderr


def test_auth_refused(simulator):
    result = run("regies", url=simulator.url, password="wrong")
    assert result.returncode == 4 and "mot de passe" in result.stderr and "Traceback" not in result.stderr


def test_unreachable_and_nothing_cached():
    result = run("invoices", str(DEMO_FAMILY), url="http://127.0.0.1:9/maelis/services",
                 env_extra={"MAELIS_DESK_TIMEOUT": "1"})
    assert result.returncode == 3 and "Traceback" not in result.stderr


def test_protocol_error_and_nothing_cached(simulator):
    simulator.set_fault("garbage")
    result = run("regies", url=simulator.url)
    assert result.returncode == 6 and "illisible" in result.stderr


def test_cached_answer_is_labelled(simulator):
    assert run("invoices", str(DEMO_FAMILY), url=simulator.url).returncode == 0
    simulator.set_fault("down")
    result = run("invoices", str(DEMO_FAMILY), "--json", url=simulator.url, env_extra={"MAELIS_DESK_TIMEOUT": "1"})
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["invoices"] and all(i["source"] == "cache" for i in data["invoices"])
    assert "cache" in result.stderr


def test_offline_search(simulator):
    assert run("family", str(DEMO_FAMILY), url=simulator.url).returncode == 0
    result = run("families", str(DEMO_FAMILY), "--offline", "--json", url=simulator.url)
    assert result.returncode == 0 and json.loads(result.stdout)[0]["number"] == DEMO_FAMILY


def test_simulator_command_prints_its_url_first(tmp_path):
    proc = subprocess.Popen(
        [sys.executable, "-m", "maelis_desk", "simulator", "--port", "0", "--families", "20",
         "--state-dir", str(tmp_path)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        first = proc.stdout.readline().strip()
        assert first.startswith("http://127.0.0.1:") and first.endswith("/services")
        result = run("regies", url=first)
        assert result.returncode == 0 and "CANTINE" in result.stdout
    finally:
        proc.terminate()
        proc.communicate(timeout=10)


def test_pay_outbox_transmit_receipt(simulator, tmp_path):
    invoices = json.loads(run("invoices", str(DEMO_FAMILY), "--regie", "102", "--json", url=simulator.url).stdout)
    first = invoices["invoices"][0]
    assert run("session", "open", "--float", "0", url=simulator.url).returncode == 0
    paid = run("pay", str(DEMO_FAMILY), "--regie", "102", "--invoice", str(first["number"]), "--amount", "1,00",
               "--mode", "carte", "--card-reference", "A1", "--no-transmit", "--json", url=simulator.url)
    assert paid.returncode == 0, paid.stderr
    receipt = json.loads(paid.stdout)["receipt"]
    waiting = json.loads(run("outbox", "--json", url=simulator.url).stdout)
    assert [p["receipt"] for p in waiting] == [receipt] and waiting[0]["state"] == "pending"
    shown = json.loads(run("invoices", str(DEMO_FAMILY), "--regie", "102", "--json", url=simulator.url).stdout)
    assert next(i for i in shown["invoices"] if i["number"] == first["number"])["status"] == "pending"
    sent = run("transmit", url=simulator.url)
    assert sent.returncode == 0 and "Restent non confirmés : 0." in sent.stdout
    assert json.loads(run("outbox", "--json", url=simulator.url).stdout) == []
    out = tmp_path / "q.pdf"
    assert run("receipt", receipt, "-o", str(out), url=simulator.url).returncode == 0
    assert out.read_bytes().startswith(b"%PDF")
    assert [p["ref"] for p in simulator.applied_payments()] == [f"MD-{json.loads(paid.stdout)['id']}"]


def test_an_invoice_is_named_as_the_window_shows_it(simulator, tmp_path):
    """Issue 9 point 11: the printed number (F…) the window and the PDF show is accepted
    wherever an invoice is named, as well as the régie's number."""
    invoices = json.loads(run("invoices", str(DEMO_FAMILY), "--regie", "102", "--json", url=simulator.url).stdout)
    first = invoices["invoices"][0]
    out = tmp_path / "f.pdf"
    by_id = run("pdf", "102", first["id"].lower(), "-o", str(out), url=simulator.url)
    assert by_id.returncode == 0, by_id.stderr
    assert out.read_bytes().startswith(b"%PDF")
    unknown = run("pdf", "102", "F99999999999", "-o", str(out), url=simulator.url)
    assert unknown.returncode == 5 and "Facture F99999999999 inconnue" in unknown.stderr
    assert "Traceback" not in unknown.stderr
    assert run("session", "open", "--float", "0", url=simulator.url).returncode == 0
    paid = run("pay", str(DEMO_FAMILY), "--regie", "102", "--invoice", first["id"], "--amount", "1,00",
               "--mode", "carte", "--card-reference", "A1", "--no-transmit", "--json", url=simulator.url)
    assert paid.returncode == 0, paid.stderr
    record = json.loads(paid.stdout)
    assert [i["number"] for i in record["invoices"]] == [first["number"]]
    assert Decimal(record["invoices"][0]["remaining_after"]) == Decimal(first["remaining"]) - 1


@pytest.mark.parametrize("args", [("invoices", str(DEMO_FAMILY), "--history"), ("regies",)])
def test_a_reader_that_went_away_is_no_error(simulator, args):
    """`maelis-desk invoices 1312 | head -3`: the reader closes the pipe; the desk printed
    « Erreur : Broken pipe () » (and Python's « Exception ignored… »). It now ends quietly, 141."""
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader is gone before the desk writes anything: its first write fails
    env = {**os.environ, "MAELIS_DESK_URL": simulator.url, "MAELIS_DESK_USER": "demo",
           "MAELIS_DESK_PASSWORD": "demo"}
    try:
        result = subprocess.run([sys.executable, "-m", "maelis_desk", *args], stdout=write_end,
                                stderr=subprocess.PIPE, text=True, env=env, timeout=60)
    finally:
        os.close(write_end)
    assert result.stderr == ""
    assert result.returncode == 141
