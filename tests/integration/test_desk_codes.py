"""Two desks of one machine on one database are two desks (issue 10 point 2).

A desk is its settings folder (MAELIS_DESK_HOME) and its code. Seen before:
two folders of one machine, codes A and B, shared one cash session (it was keyed
by the machine's name) — B's payments went into A's session. Now the till is
the code's, and a code held by one folder is refused to another (exit 13), so
two folders left to the code the machine's name gives cannot both work.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

from maelis_desk.services.errors import EXIT_DESK_CODE_TAKEN

from integration_helpers import DEMO_FAMILY


def run(tmp_path, folder, database, simulator, *args, code=None):
    env = dict(os.environ, MAELIS_DESK_HOME=str(tmp_path / folder), MAELIS_DESK_URL=simulator.url,
               MAELIS_DESK_USER="demo", MAELIS_DESK_PASSWORD="demo", MAELIS_DESK_DATABASE=str(database))
    env.pop("MAELIS_DESK_CODE", None)
    if code:
        env["MAELIS_DESK_CODE"] = code
    return subprocess.run([sys.executable, "-m", "maelis_desk", *args], capture_output=True, text=True,
                          env=env, timeout=90)


def pay(tmp_path, folder, database, simulator, invoice, code=None):
    done = run(tmp_path, folder, database, simulator, "pay", str(DEMO_FAMILY), "--regie", "102",
               "--invoice", str(invoice), "--amount", "1,00", "--mode", "especes", "--no-transmit", "--json",
               code=code)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_two_desks_of_one_machine_have_each_their_till(tmp_path, simulator, database_spec):
    for folder, code in (("desk-a", "A"), ("desk-b", "B")):
        opened = run(tmp_path, folder, database_spec, simulator, "session", "open", "--float", "10", code=code)
        assert opened.returncode == 0, opened.stderr  # B's till is not A's: B opens its own
    invoices = json.loads(run(tmp_path, "desk-a", database_spec, simulator, "invoices", str(DEMO_FAMILY),
                              "--regie", "102", "--json", code="A").stdout)["invoices"]
    a = pay(tmp_path, "desk-a", database_spec, simulator, invoices[0]["number"], code="A")
    b = pay(tmp_path, "desk-b", database_spec, simulator, invoices[0]["number"], code="B")
    assert a["receipt"].endswith("-A-000001") and b["receipt"].endswith("-B-000002")
    shown = {}
    for folder, code in (("desk-a", "A"), ("desk-b", "B")):
        status = run(tmp_path, folder, database_spec, simulator, "session", "status", code=code)
        assert status.returncode == 0, status.stderr
        shown[code] = status.stdout
    # each till holds its own payment and its own float, nothing of the other desk's
    assert a["receipt"] in shown["A"] and b["receipt"] not in shown["A"], shown["A"]
    assert b["receipt"] in shown["B"] and a["receipt"] not in shown["B"], shown["B"]


def test_a_code_held_by_another_folder_is_refused(tmp_path, simulator, database_spec):
    first = run(tmp_path, "desk-a", database_spec, simulator, "desk")  # the code the machine's name gives
    assert first.returncode == 0, first.stderr
    second = run(tmp_path, "desk-b", database_spec, simulator, "desk")
    assert second.returncode == EXIT_DESK_CODE_TAKEN, second.stdout + second.stderr
    assert "est déjà celui d'un autre poste" in second.stderr and str(tmp_path / "desk-a") in second.stderr
    assert "--desk-code" in second.stderr and "Traceback" not in second.stderr
    # the same folder opens again and again; the other with a code of its own too
    assert run(tmp_path, "desk-a", database_spec, simulator, "desk").returncode == 0
    saved = run(tmp_path, "desk-b", database_spec, simulator, "--desk-code", "B", "desk", "--save")
    assert saved.returncode == 0, saved.stderr
    # its code is kept in its folder: no option needed any more
    again = run(tmp_path, "desk-b", database_spec, simulator, "desk", "--json")
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["code"] == "B"
