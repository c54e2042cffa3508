"""Once a payment is recorded, the command line says so whatever fails next (issue 8 point 4).

A real process against the simulator over loopback: a receipt file that cannot
be written, a `--request-id` retried by a script."""

from __future__ import annotations

import json

from integration_helpers import DEMO_FAMILY
from test_cli import run

from maelis_desk.services.errors import EXIT_RECORDED_BUT, EXIT_REFUSED


def _first_invoice(simulator) -> dict:
    shown = run("invoices", str(DEMO_FAMILY), "--regie", "102", "--json", url=simulator.url)
    assert shown.returncode == 0, shown.stderr
    return json.loads(shown.stdout)["invoices"][0]


def _pay(simulator, invoice, *extra, amount="1,00"):
    return run("pay", str(DEMO_FAMILY), "--regie", "102", "--invoice", str(invoice["number"]), "--amount", amount,
               "--mode", "carte", "--card-reference", "A1", *extra, url=simulator.url)


def _outbox(simulator) -> list[dict]:
    return json.loads(run("outbox", "--all", "--json", url=simulator.url).stdout)


def test_a_receipt_file_that_cannot_be_written_says_the_payment_is_recorded(simulator, tmp_path):
    invoice = _first_invoice(simulator)
    assert run("session", "open", "--float", "0", url=simulator.url).returncode == 0
    paid = _pay(simulator, invoice, "--receipt", str(tmp_path / "no" / "such" / "dir" / "q.pdf"))
    assert paid.returncode == EXIT_RECORDED_BUT == 11, paid.stderr
    recorded = _outbox(simulator)
    assert len(recorded) == 1
    receipt = recorded[0]["receipt"]
    assert f"Paiement ENREGISTRÉ : quittance n° {receipt}" in paid.stderr
    assert "le dossier n'existe pas" in paid.stderr and "seconde fois" in paid.stderr
    assert "No such file" not in paid.stderr and "Traceback" not in paid.stderr
    # The transmission still happened after the failed file: exactly one payment in Maelis.
    assert [p["ref"] for p in simulator.applied_payments()] == [f"MD-{recorded[0]['id']}"]


def test_a_second_pay_with_the_same_request_id_records_nothing(simulator, tmp_path):
    invoice = _first_invoice(simulator)
    assert run("session", "open", "--float", "0", url=simulator.url).returncode == 0
    out = tmp_path / "q.pdf"
    first = _pay(simulator, invoice, "--request-id", "script-42", "--json", "--receipt", str(tmp_path / "x" / "q.pdf"))
    assert first.returncode == EXIT_RECORDED_BUT, first.stderr
    receipt = _outbox(simulator)[0]["receipt"]
    again = _pay(simulator, invoice, "--request-id", "script-42", "--json", "--receipt", str(out))
    assert again.returncode == 0, again.stderr
    answer = json.loads(again.stdout)
    assert answer["receipt"] == receipt and answer["replayed"] is True
    assert "déjà enregistré" in again.stderr and receipt in again.stderr
    assert out.read_bytes().startswith(b"%PDF")
    assert [p["receipt"] for p in _outbox(simulator)] == [receipt]
    assert len(simulator.applied_payments()) == 1
    # Another payment under a used key is refused, and records nothing either.
    other = _pay(simulator, invoice, "--request-id", "script-42", amount="2,00")
    assert other.returncode == EXIT_REFUSED, other.stderr
    assert "script-42" in other.stderr and receipt in other.stderr
    assert len(_outbox(simulator)) == 1
    # Without a key, or with another one, a payment is recorded as before.
    assert _pay(simulator, invoice, "--request-id", "script-43").returncode == 0
    assert len(_outbox(simulator)) == 2


def test_the_exit_codes_are_in_the_help():
    shown = run("--help")
    assert shown.returncode == 0
    assert "11 paiement ENREGISTRÉ" in shown.stdout and "12 la base de données" in shown.stdout
    assert "--request-id" in run("pay", "--help").stdout
