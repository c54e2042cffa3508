"""No payment lost, none applied twice: against the demo Maelis cycling through
its fault modes, with the desk killed (SIGKILL) at each step of the pipeline,
and with two desks paying the same invoice at once; the tests taking
`database_spec` run on a SQLite file, then on the test PostgreSQL server
(MAELIS_DESK_TEST_POSTGRES, skipped saying why without it). Last, four desks
at once, killed mid-pipeline, with the PostgreSQL server restarted mid-run.

The referee is the simulator's ledger: every payInvoices it applied, with its
refTransaction. At the end it must hold each payment the desk recorded
exactly once.
"""

from __future__ import annotations

import collections
import json
import os
import random
import re
import signal
import subprocess
import sys
import time
from decimal import Decimal

import pytest

from maelis_desk.domain import parse_receipt
from maelis_desk.services.payments import Mode, PaymentRequest

from integration_helpers import DEMO_FAMILY, POSTGRES_CTL, postgres_answers, postgres_server

FAMILIES = range(DEMO_FAMILY, DEMO_FAMILY + 8)
FAST = {
    "MAELIS_DESK_SETTLE_SECONDS": "1.5",
    "MAELIS_DESK_BACKOFF_SECONDS": "0.05",
    "MAELIS_DESK_LEASE_SECONDS": "3",
    "MAELIS_DESK_HORIZON_SECONDS": "4",
}
#: nothing left for the transmitter by itself: done, or waiting for a person
SETTLED = {"confirmed", "rejected", "review", "matched"}


@pytest.fixture
def fast_pipeline(monkeypatch):
    for key, value in FAST.items():
        monkeypatch.setenv(key, value)


def payable(desk, families=FAMILIES):
    """(family, régie, invoice) for every invoice to pay, read from Maelis."""
    found = []
    for number in families:
        for regie_list in desk.reader.open_family(number).regies:
            for inv in regie_list.to_pay:
                found.append((number, inv.regie.code, inv))
    return found


def record_some(desk, count, rng, candidates=None):
    """Small payments (1 to 3 €) on random payable invoices, several on the same one sometimes."""
    records = []
    candidates = candidates or payable(desk)
    assert candidates, "the demo data has invoices to pay"
    while len(records) < count:
        family, regie, inv = rng.choice(candidates)
        current = {i.number: i for r in desk.reader.invoices(family, regie) for i in r.invoices}[inv.number]
        if current.remaining < 1:
            continue
        amount = min(current.remaining, Decimal(rng.randint(100, 300)) / 100)
        records.append(desk.payments.record(PaymentRequest(
            family=family, regie=regie, invoices=[inv.number], amount=amount, mode=Mode.ESPECES)))
    return records


def ledger_counts(simulator):
    return collections.Counter(p["ref"] for p in simulator.applied_payments())


def assert_exactly_once(simulator, desk, records):
    applied = ledger_counts(simulator)
    ours = {r.reference for r in records}
    lost = [r.receipt for r in records if applied[r.reference] == 0]
    twice = [r.receipt for r in records if applied[r.reference] > 1]
    strangers = [ref for ref in applied if ref not in ours]
    states = collections.Counter(desk.payments_store.get(r.id).state for r in records)
    print(f"\nrecorded {len(records)}, applied by Maelis {sum(applied.values())}, lost {len(lost)}, "
          f"applied twice {len(twice)}, unknown to the desk {len(strangers)}, states {dict(states)}")
    assert not lost and not twice and not strangers
    for r in records:
        entry = next(p for p in simulator.applied_payments() if p["ref"] == r.reference)
        assert Decimal(entry["amount"]) == r.amount and entry["invoices"] == r.invoice_numbers
    assert states == {"confirmed": len(records)}


def supervise(desk, simulator) -> int:
    """What a supervisor does with the payments the desk will not decide alone
    (to review, seen without acknowledgement): look in Maelis (here its ledger)
    and say whether each was applied. Returns how many were decided."""
    applied = ledger_counts(simulator)
    decided = 0
    for r in desk.payments_store.list():
        if r.state.value in ("review", "matched"):
            desk.resolve_payment(r.receipt, applied=applied[r.reference] > 0, note="vérifié dans Maelis")
            decided += 1
    return decided


def drain(desk, simulator, deadline_s=60):
    """Run the transmitter with Maelis healthy until nothing is left to do, a
    supervisor deciding what the desk leaves to a person."""
    simulator.set_fault(None)
    simulator.set_latency(0)
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        desk.transmitter.run_once()
        counts = desk.payments_store.counts()
        if set(counts) <= SETTLED and not supervise(desk, simulator):
            return counts
        time.sleep(0.1)
    raise AssertionError(f"transmission did not settle: {desk.payments_store.counts()}")


def test_payments_survive_every_fault_mode(make_desk, simulator, fast_pipeline):
    rng = random.Random(74790)
    desk = make_desk(timeout=0.6)
    candidates = payable(desk)
    records = record_some(desk, 4, rng, candidates)
    cycle = [None, "lost", "slow", "down", "html500", "garbage", "truncated", "lost", None, "lost"]
    for round_number in range(3):
        for fault in cycle:
            simulator.set_latency(1.0 if fault == "slow" else 0)
            simulator.set_fault(fault)
            # the cashier keeps taking money, whatever Maelis does
            records += record_some(desk, 1, rng, candidates)
            desk.transmitter.run_once()
            time.sleep(0.15)
    # A lost answer must be reconciled, not resent: at least one went through that path.
    outcomes = collections.Counter(
        a["outcome"] for r in records for a in desk.payments_store.attempts(r.id)
    )
    drain(desk, simulator)
    print(f"attempt outcomes: {dict(outcomes)}")
    assert outcomes["uncertain"] > 0
    assert_exactly_once(simulator, desk, records)
    # And the desk now tells what Maelis tells: nothing pending any more.
    for family in FAMILIES:
        assert all(i.pending_paid == 0 for r in desk.reader.invoices(family) for i in r.invoices)


def test_pending_payment_is_shown_everywhere(make_desk, simulator, fast_pipeline):
    desk = make_desk(timeout=0.6)
    family, regie, inv = payable(desk, [DEMO_FAMILY])[0]
    simulator.set_fault("down")
    record = desk.payments.record(PaymentRequest(family=family, regie=regie, invoices=[inv.number],
                                                 amount=inv.remaining, mode=Mode.ESPECES))
    desk.transmitter.run_once()
    assert desk.payments_store.get(record.id).state == "pending"
    shown = {i.number: i for r in desk.reader.invoices(family, regie) for i in r.invoices}[inv.number]
    assert shown.status.value == "pending" and shown.remaining == 0 and not shown.to_pay_at_regie
    simulator.set_fault(None)
    desk.health.reset()
    drain(desk, simulator)
    shown = {i.number: i for r in desk.reader.invoices(family, regie) for i in r.invoices}[inv.number]
    assert shown.status.value == "paid" and shown.pending_paid == 0
    assert_exactly_once(simulator, desk, [record])


# --- the desk killed at each step -------------------------------------------------


def cli(simulator, database, *args, env_extra=None, timeout=60):
    env = dict(os.environ, **FAST)
    env.update({
        "MAELIS_DESK_URL": simulator.url, "MAELIS_DESK_USER": "demo", "MAELIS_DESK_PASSWORD": "demo",
        "MAELIS_DESK_DATABASE": str(database), "MAELIS_DESK_TIMEOUT": "0.6",
    })
    env.update(env_extra or {})
    return subprocess.run([sys.executable, "-m", "maelis_desk", *args], capture_output=True, text=True,
                          env=env, timeout=timeout)


def restart_until_settled(make_desk, simulator, database):
    """Restart the desk (a `transmit` process) until nothing is left to do; the last desk opened."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert cli(simulator, database, "transmit").returncode == 0
        desk = make_desk(timeout=0.6, database=database)
        if set(desk.payments_store.counts()) <= SETTLED and not supervise(desk, simulator):
            return desk
        desk.close()
        time.sleep(0.3)
    raise AssertionError("the outbox did not settle")


@pytest.mark.parametrize("step,fault", [
    ("claimed", None), ("sending", None), ("answered", None), ("sent", None), ("uncertain", "lost"),
])
def test_killed_at_each_step(make_desk, simulator, database_spec, fast_pipeline, step, fault):
    database = database_spec  # a SQLite file, then a fresh database on the test PostgreSQL server
    desk = make_desk(timeout=0.6, database=database)
    records = record_some(desk, 2, random.Random(step))
    desk.close()
    simulator.set_fault(fault)
    killed = cli(simulator, database, "transmit", env_extra={"MAELIS_DESK_FAILPOINT": step})
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    simulator.set_fault(None)
    assert_exactly_once(simulator, restart_until_settled(make_desk, simulator, database), records)


def test_killed_while_recording_loses_nothing_and_leaves_no_gap(make_desk, simulator, database_spec):
    database = database_spec
    desk = make_desk(database=database)
    family, regie, inv = payable(desk, [DEMO_FAMILY])[0]
    desk.close()
    args = ("pay", str(family), "--regie", str(regie), "--invoice", str(inv.number), "--amount", "1,00",
            "--mode", "especes", "--json", "--no-transmit")
    killed = cli(simulator, database, *args, env_extra={"MAELIS_DESK_FAILPOINT": "recorded"})
    assert killed.returncode == -signal.SIGKILL
    desk = make_desk(database=database)
    assert desk.payments_store.list() == []  # the transaction never committed
    desk.close()
    done = cli(simulator, database, *args)
    assert done.returncode == 0, done.stderr
    assert '"receipt": "%d-' % regie in done.stdout and "-000001" in done.stdout


def test_killed_at_random_moments(make_desk, simulator, database_spec, fast_pipeline):
    database = database_spec
    desk = make_desk(timeout=0.6, database=database)
    rng = random.Random(2023)
    records = record_some(desk, 8, rng)
    desk.close()
    env = dict(os.environ, **FAST)
    env.update({"MAELIS_DESK_URL": simulator.url, "MAELIS_DESK_USER": "demo", "MAELIS_DESK_PASSWORD": "demo",
                "MAELIS_DESK_DATABASE": str(database), "MAELIS_DESK_TIMEOUT": "0.6"})
    kills = 0
    for i in range(12):
        simulator.set_fault(rng.choice([None, None, "lost", "truncated", "html500"]))
        proc = subprocess.Popen([sys.executable, "-m", "maelis_desk", "transmit"], env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(0.3, 1.2))  # start-up takes ~0.3 s: kills land anywhere in the pipeline
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            kills += 1
        proc.wait(timeout=10)
    simulator.set_fault(None)
    print(f"\nkilled {kills} desk processes")
    assert_exactly_once(simulator, restart_until_settled(make_desk, simulator, database), records)


# --- two desks, one invoice ------------------------------------------------------------


def test_two_desks_pay_the_same_invoice_at_once(make_desk, simulator, database_spec):
    database = database_spec
    desk = make_desk(database=database)
    family, regie, inv = payable(desk, [DEMO_FAMILY])[0]
    desk.close()
    env = dict(os.environ)
    env.update({"MAELIS_DESK_URL": simulator.url, "MAELIS_DESK_USER": "demo", "MAELIS_DESK_PASSWORD": "demo",
                "MAELIS_DESK_DATABASE": str(database)})
    amount = f"{inv.remaining:.2f}".replace(".", ",")
    command = [sys.executable, "-m", "maelis_desk", "pay", str(family), "--regie", str(regie),
               "--invoice", str(inv.number), "--amount", amount, "--mode", "cheque", "--cheque-number", "1234567",
               "--no-transmit"]
    procs = [subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(2)]
    results = [p.communicate(timeout=60) + (p.returncode,) for p in procs]
    codes = sorted(r[2] for r in results)
    assert codes == [0, 7], results
    refused = next(r for r in results if r[2] == 7)
    assert "Paiement refusé" in refused[1] and "Traceback" not in refused[1]
    desk = make_desk(database=database)
    assert len(desk.payments_store.list()) == 1


# --- a desk killed mid-send, another desk of the same database takes over --------------


@pytest.mark.parametrize("step", ["sending", "answered"])
def test_a_desk_killed_mid_send_is_taken_over_by_another_desk(make_desk, simulator, database_spec, fast_pipeline,
                                                               step):
    """Desk A dies with a request gone (or answered) and not written down; desk B, on the same
    database (SQLite file or PostgreSQL), finds it `sending`, makes it `uncertain` and
    reconciles it: applied once, never sent again blindly."""
    desk = make_desk(timeout=0.6, database=database_spec, desk_code="A")
    records = record_some(desk, 2, random.Random(step))
    assert {r.desk_code for r in records} == {"A"}
    desk.close()
    killed = cli(simulator, database_spec, "transmit", env_extra={"MAELIS_DESK_FAILPOINT": step,
                                                                  "MAELIS_DESK_CODE": "A"})
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    deadline = time.monotonic() + 60
    while True:
        assert cli(simulator, database_spec, "transmit", env_extra={"MAELIS_DESK_CODE": "B"}).returncode == 0
        desk = make_desk(timeout=0.6, database=database_spec, desk_code="B")
        if set(desk.payments_store.counts()) <= SETTLED and not supervise(desk, simulator):
            break
        desk.close()
        assert time.monotonic() < deadline, "the outbox did not settle"
        time.sleep(0.3)
    assert_exactly_once(simulator, desk, records)
    taken_over = [r for r in records if any(a["action"] == "recover" for a in desk.payments_store.attempts(r.id))]
    assert len(taken_over) == 1, "the entry A was sending when it died"
    steps = [(a["desk"].split(":")[0], a["action"], a["outcome"]) for a in desk.payments_store.attempts(taken_over[0].id)]
    print(f"\n{step}: {steps}")
    assert steps.index(("B", "recover", "uncertain")) == steps.index(("A", "send", "sending")) + 1, steps
    first_b_send = next((i for i, s in enumerate(steps) if s[:2] == ("B", "send")), None)
    if step == "answered":  # Maelis had applied it: B sees it, and never sends it
        assert ("B", "reconcile", "matched") in steps and first_b_send is None, steps
    else:  # A died before the request left: B never resends it by itself, only once a person said
        # Maelis did not apply it (after Maelis showed nothing up to the horizon)
        assert first_b_send is not None, steps
        assert ("B", "reconcile", "unseen") in steps[:first_b_send], steps
        assert ("B", "resolve", "resend") in steps[:first_b_send], steps


# --- four desks at once, killed mid-pipeline, the PostgreSQL server restarted mid-run ---------

DESKS = "ABCD"
#: the pipeline's steps a desk process may be killed at (services/failpoints.py)
STEPS = ("recorded", "claimed", "sending", "answered", "sent")


def desk_env(simulator, database, code, home) -> dict[str, str]:
    """A desk of its own: its settings folder and its code (two folders never claim one code)."""
    env = dict(os.environ, **FAST)
    env.update({"MAELIS_DESK_URL": simulator.url, "MAELIS_DESK_USER": "demo", "MAELIS_DESK_PASSWORD": "demo",
                "MAELIS_DESK_DATABASE": str(database), "MAELIS_DESK_TIMEOUT": "0.6",
                "MAELIS_DESK_CODE": code, "MAELIS_DESK_HOME": str(home)})
    return env


def euros_arg(amount: Decimal) -> str:
    return f"{amount:.2f}".replace(".", ",")


def pay_args(family, regie, inv, amount, *, transmit=True):
    return ["pay", str(family), "--regie", str(regie), "--invoice", str(inv.number), "--amount", euros_arg(amount),
            "--mode", "especes", "--json"] + ([] if transmit else ["--no-transmit"])


class Run:
    """The desk processes of one test, what each was asked and how it ended."""

    def __init__(self, simulator, database, tmp_path):
        self.simulator, self.database = simulator, database
        self.homes = {code: tmp_path / f"desk-{code}" for code in DESKS}
        self.ended: list[dict] = []  # one per process: code, args, failpoint, returncode, stdout, stderr, ...

    def start(self, code, args, *, failpoint=None):
        env = desk_env(self.simulator, self.database, code, self.homes[code])
        if failpoint:
            env["MAELIS_DESK_FAILPOINT"] = failpoint
        proc = subprocess.Popen([sys.executable, "-m", "maelis_desk", *args], env=env, text=True,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        return {"proc": proc, "code": code, "args": args, "failpoint": failpoint, "killed_by_us": False}

    def wait(self, started, *, round_number, server_lost):
        for p in started:
            proc = p.pop("proc")
            p["stdout"], p["stderr"] = proc.communicate(timeout=120)
            p["returncode"], p["round"], p["server_lost"] = proc.returncode, round_number, server_lost
            self.ended.append(p)
        return started


def pipeline_busy(url, started, at_most=5.0) -> float:
    """Wait until one of these desk processes is at work in the database (a payment of this
    round recorded, an entry being sent), or they all ended; when it was (time.monotonic)."""
    import psycopg

    deadline = time.monotonic() + at_most
    with psycopg.connect(url, autocommit=True) as conn:
        def now():
            return conn.execute("SELECT count(*) FROM payment").fetchone()[0], conn.execute(
                "SELECT count(*) FROM outbox WHERE state = 'sending'").fetchone()[0]
        recorded, _ = now()
        while time.monotonic() < deadline and any(p["proc"].poll() is None for p in started):
            count, sending = now()
            if count > recorded or sending:
                break
            time.sleep(0.02)
    return time.monotonic()


def told_receipt(p) -> str | None:
    """The receipt number a `pay` process told its cashier (its JSON, or its exit-11 message)."""
    if p["args"][0] != "pay" or p["returncode"] not in (0, 11):
        return None
    if p["returncode"] == 0 or p["stdout"].strip().startswith("{"):
        return json.loads(p["stdout"])["receipt"]
    return re.search(r"quittance n° (\S+),", p["stderr"]).group(1)


def check_process(p) -> str:
    """How a desk process ended, asserting it ended as a desk may: killed (SIGKILL), done, refused by
    a rule (7: another desk's payment covers the invoice), the database unreachable (10: only while
    the server was lost), or recorded with a later step failed (11). Never a Python traceback."""
    code, err = p["returncode"], p["stderr"]
    what = f"{p['code']} {' '.join(p['args'])} (failpoint {p['failpoint']}): exit {code}\n{p['stdout']}\n{err}"
    assert "Traceback" not in err and "erreur inattendue" not in err, what
    if code == -signal.SIGKILL:
        assert p["failpoint"] or p["killed_by_us"], what
        return "killed"
    if p["args"][0] == "transmit":
        assert code in (0, 10), what
    else:
        assert code in (0, 7, 10, 11), what
    if code == 7:
        assert err.startswith("Paiement refusé : "), what
    if code == 10:
        assert p["server_lost"], what  # never while the server answers
        assert "Erreur : " in err and "base de données" in err, what
        if p["args"][0] == "pay":
            assert p["stdout"] == "", what  # nothing recorded, no receipt given
    if code == 11:
        assert p["server_lost"] and "Paiement ENREGISTRÉ" in err, what
        assert "la suite a échoué : La base de données partagée" in err, what  # said in French
    return {0: "done", 7: "refused", 10: "database lost", 11: "recorded, then the database lost"}[code]


def test_four_desks_at_once_killed_and_the_server_restarted(make_desk, simulator, database_spec, tmp_path,
                                                            fast_pipeline):
    """Desks A, B, C and D (each its folder and code, separate processes) pay at once the same
    invoice and invoices of their own, and send; some are killed (SIGKILL) at a step of the
    pipeline or at a random moment; on PostgreSQL the server is stopped (as a crash) and
    started again twice mid-run, a payment made while it is down refused in French (exit 10).
    Then a healthy Maelis and one more desk drain the outbox. Every payment the database holds
    was applied by Maelis exactly once, none lost, none twice; every receipt a desk gave is in
    it; the receipt numbers of each régie and year run without a gap across the desks."""
    postgres = database_spec.startswith("postgresql://")
    if postgres and not POSTGRES_CTL:
        pytest.skip("MAELIS_DESK_TEST_POSTGRES_CTL non défini : pas de serveur PostgreSQL de test à redémarrer")
    rng = random.Random(1066)
    desk = make_desk(timeout=0.6, database=database_spec)
    by_family = collections.defaultdict(list)
    for family, regie, inv in payable(desk):
        if inv.remaining >= 5:
            by_family[family].append((family, regie, inv))
    families = sorted(by_family)
    for found in by_family.values():  # the largest first: room for many small payments
        found.sort(key=lambda f: -f[2].remaining)
    assert len(families) >= 6, "the demo data has families with invoices to pay"
    shared = by_family[families[0]][0]  # every desk pays this one
    race = by_family[families[1]][0]  # all four pay it in full at once: one only is recorded
    own = {code: by_family[f][0] for code, f in zip(DESKS, families[2:])}  # and each its own family's
    desk.close()
    run = Run(simulator, database_spec, tmp_path)
    for code in DESKS:  # each desk opens its till
        opened = run.wait([run.start(code, ["session", "open", "--float", "0"])], round_number=0,
                          server_lost=False)[0]
        assert opened["returncode"] == 0, opened["stderr"]

    # Four desks take the whole of one invoice at the same moment: one is recorded, three refused.
    family, regie, inv = race
    racing = run.wait([run.start(code, pay_args(family, regie, inv, inv.remaining, transmit=False))
                       for code in DESKS], round_number=0, server_lost=False)
    assert sorted(p["returncode"] for p in racing) == [0, 7, 7, 7], [(p["returncode"], p["stderr"]) for p in racing]

    restarts, random_kills = 0, 0
    restart_rounds = {3, 6} if postgres else set()
    try:
        for round_number in range(1, 9):
            simulator.set_fault(rng.choice([None, None, "lost", "truncated"]))
            # Maelis answers a little late while the server is lost: calls are in flight
            simulator.set_latency(0.3 if round_number in restart_rounds else 0)
            started = []
            for code in DESKS:
                if rng.random() < 0.25:
                    args = ["transmit"]
                else:
                    family, regie, inv = shared if rng.random() < 0.5 else own[code]
                    args = pay_args(family, regie, inv, Decimal(rng.randint(100, 300)) / 100,
                                    transmit=rng.random() < 0.75)
                started.append(run.start(code, args, failpoint=rng.choice((None,) * 5 + STEPS)))
            # a random moment for one of them (start-up takes ~0.3 s: anywhere in the pipeline)
            victim, kill_at = rng.choice(started), rng.uniform(0.3, 1.5)
            began = time.monotonic()
            down_at = None
            if round_number in restart_rounds:
                # the server stops once the desks are at work: a payment being recorded or sent
                down_at = pipeline_busy(database_spec, started) - began + rng.uniform(0, 0.2)
            for at, event in sorted([(kill_at, "kill")] + ([(down_at, "down")] if down_at is not None else [])):
                time.sleep(max(0.0, began + at - time.monotonic()))
                if event == "kill" and victim["proc"].poll() is None:
                    victim["proc"].send_signal(signal.SIGKILL)
                    victim["killed_by_us"] = True
                    random_kills += 1
                elif event == "down":
                    postgres_server("stop")
                    # a payment taken while the server is down: refused in French, nothing recorded
                    family, regie, inv = own["A"]
                    refused = run.wait([run.start("A", pay_args(family, regie, inv, Decimal("1.00")))],
                                       round_number=round_number, server_lost=True)[0]
                    assert refused["returncode"] == 10 and refused["stdout"] == "", refused
                    assert "Le serveur de base de données" in refused["stderr"] and "ne répond pas" in refused["stderr"]
                    postgres_server("start")
                    restarts += 1
            run.wait(started, round_number=round_number, server_lost=round_number in restart_rounds)
    finally:
        if postgres and not postgres_answers(database_spec):  # a failed test left it stopped
            postgres_server("start")
    simulator.set_fault(None)

    outcomes = collections.Counter(check_process(p) for p in run.ended)
    failpoint_kills = sum(1 for p in run.ended if p["returncode"] == -signal.SIGKILL and not p["killed_by_us"])
    desk = make_desk(timeout=0.6, database=database_spec)  # one more desk, healthy, drains what is left
    drain(desk, simulator, deadline_s=180)
    records = desk.payments_store.list()
    applied = ledger_counts(simulator)
    print(f"\n{'PostgreSQL' if postgres else 'SQLite'}: recorded {len(records)}, applied {sum(applied.values())}, "
          f"lost {sum(1 for r in records if applied[r.reference] == 0)}, "
          f"doubled {sum(1 for r in records if applied[r.reference] > 1)}; "
          f"kills {failpoint_kills + random_kills} ({failpoint_kills} at a step, {random_kills} at a random moment), "
          f"server restarts {restarts}; {len(run.ended)} desk processes: {dict(outcomes)}")
    assert_exactly_once(simulator, desk, records)
    told = {t for t in map(told_receipt, run.ended) if t}
    assert told <= {r.receipt for r in records}, "a receipt given to a cashier is not in the database"
    numbers = collections.defaultdict(list)
    for r in records:
        number = parse_receipt(r.receipt)
        assert number.desk_code in DESKS, r.receipt
        numbers[number.regie, number.year].append(number.seq)
    for key, seqs in numbers.items():
        assert sorted(seqs) == list(range(1, len(seqs) + 1)), (key, sorted(seqs))
    assert len({parse_receipt(r.receipt).desk_code for r in records}) >= 2  # one sequence, several desks
    assert failpoint_kills and random_kills and restarts == len(restart_rounds)
