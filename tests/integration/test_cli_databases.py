"""The command line on either database: a SQLite file or a PostgreSQL server
(`--database postgresql://…`), and the French refusals when the database
cannot be opened (exit 10, no traceback)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys

from maelis_desk.domain import desk_code_from
from maelis_desk.store.database import public_url

from integration_helpers import DEMO_FAMILY


def socket_code() -> str:
    return desk_code_from(socket.gethostname())


def run(*args, url=None, env_extra=None, code=None, timeout=90):
    env = dict(os.environ)
    if url:
        env.update({"MAELIS_DESK_URL": url, "MAELIS_DESK_USER": "demo", "MAELIS_DESK_PASSWORD": "demo"})
    env.update(env_extra or {})
    command = [sys.executable, "-c", code, *args] if code else [sys.executable, "-m", "maelis_desk", *args]
    return subprocess.run(command, capture_output=True, text=True, env=env, timeout=timeout)


def test_regies_and_a_payment_sent_on_either_database(simulator, database_spec):
    db = ["--database", database_spec]
    regies = run(*db, "regies", "--json", url=simulator.url)
    assert regies.returncode == 0, regies.stderr
    assert len(json.loads(regies.stdout)) == 9
    invoices = json.loads(run(*db, "invoices", str(DEMO_FAMILY), "--regie", "102", "--json",
                              url=simulator.url).stdout)
    first = invoices["invoices"][0]
    assert run(*db, "session", "open", "--float", "0", url=simulator.url).returncode == 0
    paid = run(*db, "pay", str(DEMO_FAMILY), "--regie", "102", "--invoice", str(first["number"]), "--amount", "1,00",
               "--mode", "carte", "--card-reference", "A1", "--no-transmit", "--json", url=simulator.url)
    assert paid.returncode == 0, paid.stderr
    receipt = json.loads(paid.stdout)["receipt"]
    assert json.loads(paid.stdout)["desk_code"] == socket_code()  # derived from the host name
    other = run(*db, "--desk-code", "b2", "desk", "--json")
    assert other.returncode == 0, other.stderr
    assert json.loads(other.stdout) == {"name": socket.gethostname(), "code": "B2", "code_set": True,
                                        "database": public_url(database_spec),
                                        "shared": database_spec.startswith("postgresql://"),
                                        "home": os.environ["MAELIS_DESK_HOME"] + "/data"}
    shown = run(*db, "desk", env_extra={"MAELIS_DESK_CODE": "c3"})
    assert "Code du poste : C3\n" in shown.stdout and "secret" not in shown.stdout
    waiting = json.loads(run(*db, "outbox", "--json", url=simulator.url).stdout)
    assert [p["receipt"] for p in waiting] == [receipt]
    sent = run(*db, "transmit", url=simulator.url)
    assert sent.returncode == 0 and "Restent non confirmés : 0." in sent.stdout, sent.stdout + sent.stderr
    assert [p["ref"] for p in simulator.applied_payments()] == [f"MD-{json.loads(paid.stdout)['id']}"]
    # the cache was written there: offline, the régies come from it
    offline = run(*db, "--offline", "regies", "--json")
    assert offline.returncode == 0 and len(json.loads(offline.stdout)) == 9


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_an_unreachable_server_is_said_in_french_with_exit_10():
    url = f"postgresql://caisse:secret@127.0.0.1:{_free_port()}/maelis"
    result = run("--database", url, "--offline", "regies")
    assert result.returncode == 10, result.stderr
    assert "Le serveur de base de données postgresql://caisse@127.0.0.1" in result.stderr
    assert "ne répond pas" in result.stderr
    assert "Traceback" not in result.stderr and "secret" not in result.stderr


def test_a_missing_driver_says_which_extra_to_install():
    # psycopg made unimportable in this process, as on a desk installed without the extra
    code = "import sys; sys.modules['psycopg'] = None; from maelis_desk.__main__ import main; sys.exit(main())"
    result = run("--database", "postgresql://caisse@127.0.0.1:1/maelis", "--offline", "regies", code=code)
    assert result.returncode == 10, result.stderr
    assert "pip install 'maelis-desk[postgres]'" in result.stderr and "Traceback" not in result.stderr
