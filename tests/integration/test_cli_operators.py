"""Operators, cancelling and the journal from the command line: real processes, real HTTP, exit codes."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys

from integration_helpers import DEMO_FAMILY


def run(*args, url, operator=None, password=None, new_password=None, database):
    env = dict(os.environ)
    env.update({"MAELIS_DESK_URL": url, "MAELIS_DESK_USER": "demo", "MAELIS_DESK_PASSWORD": "demo",
                "MAELIS_DESK_DATABASE": str(database)})
    for name, value in (("MAELIS_DESK_OPERATOR", operator), ("MAELIS_DESK_OPERATOR_PASSWORD", password),
                        ("MAELIS_DESK_NEW_OPERATOR_PASSWORD", new_password)):
        env.pop(name, None)
        if value is not None:
            env[name] = value
    return subprocess.run([sys.executable, "-m", "maelis_desk", *args], capture_output=True, text=True,
                          env=env, timeout=60, stdin=subprocess.DEVNULL)


def test_operators_cancel_and_journal(simulator, tmp_path):
    db = tmp_path / "desk.sqlite3"

    def cli(*args, **kw):
        return run(*args, url=simulator.url, database=db, **kw)

    listed = cli("operator", "list")
    assert listed.returncode == 0 and "poste à une personne" in listed.stdout
    refused = cli("operator", "add", "caisse", "--name", "Camille", "--role", "caissier", new_password="caisse")
    assert refused.returncode == 7 and "régisseur" in refused.stderr
    made = cli("operator", "add", "regie", "--name", "Régis Dupont", "--role", "regisseur", new_password="regie")
    assert made.returncode == 0, made.stderr
    # from now on: who acts, with a password from the environment (no terminal here: never asked)
    assert cli("operator", "list").returncode == 4
    assert cli("operator", "list", operator="regie").returncode == 4  # no password
    assert cli("operator", "list", operator="regie", password="wrong").returncode == 4
    regie = {"operator": "regie", "password": "regie"}
    made = cli("--operator", "regie", "operator", "add", "caisse", "--name", "Camille Caisse", "--role",
               "caissier", password="regie", new_password="caisse")
    assert made.returncode == 0, made.stderr
    listed = json.loads(cli("operator", "list", "--json", **regie).stdout)
    assert {(o["login"], o["role"], o["active"]) for o in listed} == {("regie", "regisseur", True),
                                                                     ("caisse", "caissier", True)}
    caisse = {"operator": "caisse", "password": "caisse"}
    invoices = json.loads(cli("invoices", str(DEMO_FAMILY), "--json", **caisse).stdout)["invoices"]
    target = invoices[0]
    assert cli("session", "open", "--float", "0", **caisse).returncode == 0
    paid = cli("pay", str(DEMO_FAMILY), "--regie", str(target["regie"]), "--invoice", str(target["number"]),
               "--amount", "1,00", "--mode", "especes", "--no-transmit", "--json", **caisse)
    assert paid.returncode == 0, paid.stderr
    payment = json.loads(paid.stdout)
    assert payment["operator"] == "Camille Caisse"
    denied = cli("cancel", payment["receipt"], "--reason", "erreur", **caisse)
    assert denied.returncode == 9 and "n'a pas le droit d'annuler" in denied.stderr
    assert cli("operator", "disable", "regie", **caisse).returncode == 9
    assert cli("journal", "verify", **caisse).returncode == 9
    cancelled = cli("cancel", payment["receipt"], "--reason", "autre", "--comment", "doublon", "--json", **regie)
    assert cancelled.returncode == 0, cancelled.stderr
    assert json.loads(cancelled.stdout)["status"] == "cancelled"
    assert cli("cancel", payment["receipt"], "--reason", "erreur", **regie).returncode == 7
    outbox = json.loads(cli("outbox", "--all", "--json", **regie).stdout)
    assert [p["state"] for p in outbox if p["receipt"] == payment["receipt"]] == ["cancelled"]
    # the receipt's history: taken by the cashier, cancelled by the régisseur with the motive she gave
    history = cli("history", payment["receipt"], **caisse)
    assert history.returncode == 0, history.stderr
    assert "pris par Camille Caisse" in history.stdout
    assert "Annulé — par Régis Dupont : Autre (doublon)" in history.stdout
    receipt = tmp_path / "r.pdf"
    assert cli("receipt", payment["receipt"], "-o", str(receipt), **caisse).returncode == 0
    assert receipt.read_bytes().startswith(b"%PDF")
    verified = cli("journal", "verify", **regie)
    assert verified.returncode == 0 and "Journal intègre" in verified.stdout
    entries = json.loads(cli("journal", "--json", **regie).stdout)
    assert [e["kind"] for e in entries] == ["operator.created", "operator.created", "session.opened",
                                            "payment.recorded", "payment.cancelled"]
    opened = entries[2]
    assert opened["operator"] == "caisse" and opened["data"]["session"] >= 1  # who opened the till, logged
    assert cli("journal", "--since", "01/01/2099", **regie).stdout.strip() == "Aucune entrée depuis cette date."
    # someone edits the database behind the desk's back
    with sqlite3.connect(db) as raw:
        raw.execute('UPDATE "journal_entry" SET "amount_cents" = 1 WHERE "kind" = \'payment.recorded\'')
    broken = cli("journal", "verify", **regie)
    assert broken.returncode == 8 and "entrée n° 4" in broken.stdout
    assert cli("operator", "disable", "caisse", **regie).returncode == 0
    assert cli("outbox", **caisse).returncode == 4


def test_an_operator_named_on_a_desk_without_accounts_is_refused(simulator, tmp_path):
    """« --operator caisse » on a desk with no account ran as a one-person desk: the cashier could cancel."""
    listed = run("operator", "list", url=simulator.url, database=tmp_path / "d.sqlite3",
                 operator="caisse", password="caisse")
    assert listed.returncode == 4 and "aucun compte d'opérateur" in listed.stderr
    assert run("operator", "list", url=simulator.url, database=tmp_path / "d.sqlite3").returncode == 0


def test_the_demo_cli_acts_for_its_demo_accounts(tmp_path):
    """On the demo (no URL), --operator logs in to the demo accounts its login screen lists."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAELIS_DESK_") or k == "MAELIS_DESK_HOME"}

    def demo(*args, login):
        return subprocess.run([sys.executable, "-m", "maelis_desk", "--operator", login, *args],
                              capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL,
                              env={**env, "MAELIS_DESK_OPERATOR_PASSWORD": login})

    listed = demo("operator", "list", "--json", login="regie")
    assert listed.returncode == 0, listed.stderr
    assert {"caisse", "regie", "controle"} <= {o["login"] for o in json.loads(listed.stdout)}
    denied = demo("cancel", "102-2026-X-000001", "--reason", "erreur", login="caisse")
    assert denied.returncode == 9 and "n'a pas le droit d'annuler" in denied.stderr, denied.stderr
