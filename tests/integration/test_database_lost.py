"""The shared PostgreSQL server lost mid-day (issue 10 point 3).

No money is taken unrecorded: a payment while the server is down is refused in
French, exit 10 (database unreachable), with nothing recorded; once the server
is back the same desk works again. The server is the throw-away one of
scripts/postgres.sh, stopped and restarted here (MAELIS_DESK_TEST_POSTGRES_CTL)."""

from __future__ import annotations

import json
import os
import pwd
import shlex
import subprocess
import sys
from decimal import Decimal

import pytest

from maelis_desk.services.errors import EXIT_DATABASE, DatabaseUnreachable, as_desk_error
from maelis_desk.services.payments import Mode, PaymentRequest
from maelis_desk.store.database import DatabaseUnavailable

from integration_helpers import DEMO_FAMILY

POSTGRES_URL = os.environ.get("MAELIS_DESK_TEST_POSTGRES")
CTL = os.environ.get("MAELIS_DESK_TEST_POSTGRES_CTL")
pytestmark = pytest.mark.skipif(not (POSTGRES_URL and CTL), reason=(
    "MAELIS_DESK_TEST_POSTGRES(_CTL) non définis : pas de serveur PostgreSQL de test à arrêter (test.sh en démarre un)"))


def server(action: str) -> None:
    """Stop (at once, as a crash would) or start again the test server."""
    pg_ctl, *_, data = shlex.split(CTL)
    if action == "stop":
        command = [pg_ctl, "-D", data, "-w", "-m", "immediate", "stop"]
    else:  # with the options it was first started with (postmaster.opts: the program, then its options)
        with open(os.path.join(data, "postmaster.opts"), encoding="utf-8") as fh:
            options = shlex.split(fh.read())[1:]
        command = [pg_ctl, "-D", data, "-w", "-l", os.path.join(os.path.dirname(data), "server.log"),
                   "-o", " ".join(shlex.quote(o) for o in options if not o.startswith(("-D", data))), "start"]
    owner = os.stat(data).st_uid
    if os.geteuid() == 0 and owner != 0:  # the server runs as the unprivileged user owning its folder
        command = ["runuser", "-u", pwd.getpwuid(owner).pw_name, "--", *command]
    subprocess.run(command, check=True, capture_output=True, timeout=60)


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
        try:
            psycopg.connect(url, connect_timeout=2).close()
        except Exception:  # noqa: BLE001 - left stopped by a failed test: start it for the others
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
