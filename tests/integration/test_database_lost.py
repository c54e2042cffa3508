"""The shared PostgreSQL server lost mid-day (issue 10 point 3).

No money is taken unrecorded: a payment while the server is down is refused in
French, exit 10 (database unreachable), with nothing recorded; once the server
is back the same desk works again. The server is the throw-away one of
scripts/postgres.sh, stopped and restarted here (MAELIS_DESK_TEST_POSTGRES_CTL)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from decimal import Decimal

import pytest

from maelis_desk.services.errors import EXIT_DATABASE, EXIT_RECORDED_BUT, DatabaseUnreachable, as_desk_error
from maelis_desk.services.payments import Mode, PaymentRequest
from maelis_desk.store.database import DatabaseUnavailable

from integration_helpers import DEMO_FAMILY, POSTGRES_CTL, postgres_answers
from integration_helpers import postgres_server as server

POSTGRES_URL = os.environ.get("MAELIS_DESK_TEST_POSTGRES")
pytestmark = pytest.mark.skipif(not (POSTGRES_URL and POSTGRES_CTL), reason=(
    "MAELIS_DESK_TEST_POSTGRES(_CTL) non définis : pas de serveur PostgreSQL de test à arrêter (test.sh en démarre un)"))


@pytest.fixture
def restartable_server():
    import psycopg

    with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:  # an empty database
        conn.execute("DROP SCHEMA IF EXISTS public CASCADE")
        conn.execute("CREATE SCHEMA public")
    url = POSTGRES_URL
    try:
        yield url
    finally:
        if not postgres_answers(url):  # left stopped by a failed test: start it for the others
            server("start")


def run(*args, url, timeout=90):
    env = dict(os.environ, MAELIS_DESK_URL=url, MAELIS_DESK_USER="demo", MAELIS_DESK_PASSWORD="demo")
    return subprocess.run([sys.executable, "-m", "maelis_desk", *args], capture_output=True, text=True,
                          env=env, timeout=timeout)


def test_pay_while_the_server_is_down_is_refused_and_works_after_its_restart(simulator, restartable_server):
    db = ["--database", restartable_server]
    assert run(*db, "session", "open", "--float", "0", url=simulator.url).returncode == 0
    invoices = json.loads(run(*db, "invoices", str(DEMO_FAMILY), "--regie", "102", "--json",
                              url=simulator.url).stdout)
    number = str(invoices["invoices"][0]["number"])
    pay = [*db, "pay", str(DEMO_FAMILY), "--regie", "102", "--invoice", number, "--amount", "1,00",
           "--mode", "especes", "--no-transmit", "--json"]

    server("stop")
    refused = run(*pay, url=simulator.url)
    assert refused.returncode == EXIT_DATABASE == 10, refused.stdout + refused.stderr
    assert "Le serveur de base de données" in refused.stderr and "ne répond pas" in refused.stderr
    assert "Traceback" not in refused.stderr and refused.stdout == ""

    server("start")
    outbox = run(*db, "outbox", "--json", url=simulator.url)
    assert outbox.returncode == 0, outbox.stderr
    assert json.loads(outbox.stdout) == []  # nothing was recorded by the refused payment
    paid = run(*pay, url=simulator.url)
    assert paid.returncode == 0, paid.stderr
    receipt = json.loads(paid.stdout)["receipt"]
    assert receipt.endswith("-000001")  # the refused payment took no number either
    assert [p["receipt"] for p in json.loads(run(*db, "outbox", "--json", url=simulator.url).stdout)] == [receipt]
    assert simulator.applied_payments() == []


def test_an_open_desk_refuses_to_record_while_its_server_is_down_then_recovers(make_desk, restartable_server):
    desk = make_desk(database=restartable_server)
    regie_list = next(r for r in desk.reader.open_family(DEMO_FAMILY).regies if r.to_pay)
    inv = regie_list.to_pay[0]
    request = PaymentRequest(family=DEMO_FAMILY, regie=inv.regie.code, invoices=[inv.number],
                             amount=Decimal("1.00"), mode=Mode.ESPECES)
    first = desk.payments.record(request)

    server("stop")
    with pytest.raises(DatabaseUnavailable) as lost:
        desk.payments.record(request)
    said = as_desk_error(lost.value)
    assert isinstance(said, DatabaseUnreachable) and said.exit_code == 10
    assert "ne répond plus" in said.message and "secret" not in said.message
    # reading falls back where it needs no database: the dossier and a search come from Maelis, said not cached
    family, freshness = desk.reader.family(DEMO_FAMILY)
    assert family.number == DEMO_FAMILY and freshness.source == "maelis"
    assert "non gardé dans le cache" in freshness.error
    found, freshness = desk.reader.search(str(DEMO_FAMILY))
    assert [f.number for f in found] == [DEMO_FAMILY] and "ne répond plus" in freshness.error

    server("start")
    second = desk.payments.record(request)  # the same desk, a fresh connection
    assert second.receipt.split("-")[-1] == "000002" and first.receipt.split("-")[-1] == "000001"


def test_a_transmission_pass_cut_by_the_lost_server_ends_in_french_without_a_traceback(simulator,
                                                                                        restartable_server):
    """The server goes away while `transmit` waits for Maelis' answer to a payInvoices: the
    pass stops there, saying so in one French line (the entry left `sending`, durable, for
    the next pass to reconcile), and the command ends with exit 10, no Python traceback."""
    import psycopg

    db = ["--database", restartable_server]
    assert run(*db, "session", "open", "--float", "0", url=simulator.url).returncode == 0
    invoices = json.loads(run(*db, "invoices", str(DEMO_FAMILY), "--regie", "102", "--json",
                              url=simulator.url).stdout)["invoices"]
    receipts = []
    for inv in invoices[:2]:
        paid = run(*db, "pay", str(DEMO_FAMILY), "--regie", "102", "--invoice", str(inv["number"]),
                   "--amount", "1,00", "--mode", "especes", "--no-transmit", "--json", url=simulator.url)
        assert paid.returncode == 0, paid.stderr
        receipts.append(json.loads(paid.stdout)["receipt"])
    simulator.set_latency(2.0)  # each answer of Maelis comes 2 s late: time to lose the server meanwhile
    env = dict(os.environ, MAELIS_DESK_URL=simulator.url, MAELIS_DESK_USER="demo", MAELIS_DESK_PASSWORD="demo",
               MAELIS_DESK_TIMEOUT="10")
    transmit = subprocess.Popen([sys.executable, "-m", "maelis_desk", *db, "transmit"], env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        with psycopg.connect(restartable_server, autocommit=True) as conn:
            while conn.execute("SELECT count(*) FROM outbox WHERE state = 'sending'").fetchone()[0] == 0:
                assert transmit.poll() is None, transmit.communicate()
                time.sleep(0.05)
        server("stop")  # the payInvoices has left; its answer will find no database to write to
        out, err = transmit.communicate(timeout=60)
    finally:
        if transmit.poll() is None:
            transmit.kill()
    print(f"\nstdout: {out}\nstderr: {err}")
    assert transmit.returncode == EXIT_DATABASE, out + err
    assert "Traceback" not in err and "erreur inattendue" not in err, err
    lines = [line for line in err.splitlines() if line.strip()]
    assert lines[0].startswith(f"⚠ {receipts[0]} : La base de données partagée") and "ne répond plus" in lines[0]
    assert len([line for line in lines if line.startswith("⚠")]) == 1, err  # the pass stopped at the first
    assert lines[-1].startswith("Erreur : ") and "ne répond plus" in lines[-1]

    server("start")
    simulator.set_latency(0)
    outbox = {p["receipt"]: p for p in json.loads(run(*db, "outbox", "--json", url=simulator.url).stdout)}
    # the one sent stays `sending` (an unknown outcome, for the next pass to reconcile, never to
    # resend blindly); the other was never touched
    assert {r: p["state"] for r, p in outbox.items()} == {receipts[0]: "sending", receipts[1]: "pending"}
    assert [p["ref"] for p in simulator.applied_payments()] == [outbox[receipts[0]]["reference"]]


def test_a_payment_recorded_then_its_server_lost_while_sending_says_so_in_french(simulator, restartable_server):
    """`pay` records, then sends: the server goes away during the send. The payment IS recorded,
    so exit 11 with its receipt, and the failure after it said in French (not « (DatabaseUnavailable) »)."""
    import psycopg

    db = ["--database", restartable_server]
    assert run(*db, "session", "open", "--float", "0", url=simulator.url).returncode == 0
    number = json.loads(run(*db, "invoices", str(DEMO_FAMILY), "--regie", "102", "--json",
                            url=simulator.url).stdout)["invoices"][0]["number"]
    simulator.set_latency(2.0)
    env = dict(os.environ, MAELIS_DESK_URL=simulator.url, MAELIS_DESK_USER="demo", MAELIS_DESK_PASSWORD="demo",
               MAELIS_DESK_TIMEOUT="10")
    pay = subprocess.Popen([sys.executable, "-m", "maelis_desk", *db, "pay", str(DEMO_FAMILY), "--regie", "102",
                            "--invoice", str(number), "--amount", "1,00", "--mode", "especes", "--json"],
                           env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        with psycopg.connect(restartable_server, autocommit=True) as conn:
            while conn.execute("SELECT count(*) FROM outbox WHERE state = 'sending'").fetchone()[0] == 0:
                assert pay.poll() is None, pay.communicate()
                time.sleep(0.05)
        server("stop")
        out, err = pay.communicate(timeout=60)
    finally:
        if pay.poll() is None:
            pay.kill()
    assert pay.returncode == EXIT_RECORDED_BUT == 11, out + err
    receipt = json.loads(out)["receipt"]
    assert "Traceback" not in err and "DatabaseUnavailable" not in err, err
    assert f"Paiement ENREGISTRÉ : quittance n° {receipt}" in err
    assert "la suite a échoué : La base de données partagée" in err and "ne répond plus" in err, err
    server("start")
    simulator.set_latency(0)
    assert [p["receipt"] for p in json.loads(run(*db, "outbox", "--json", url=simulator.url).stdout)] == [receipt]
