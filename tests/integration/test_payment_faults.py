"""No payment lost, none applied twice: against the demo Maelis cycling through
its fault modes, with the desk killed (SIGKILL) at each step of the pipeline,
and with two desks paying the same invoice at once; the tests taking
`database_spec` run on a SQLite file, then on the test PostgreSQL server
(MAELIS_DESK_TEST_POSTGRES, skipped saying why without it).

The referee is the simulator's ledger: every payInvoices it applied, with its
refTransaction. At the end it must hold each payment the desk recorded
exactly once.
"""

from __future__ import annotations

import collections
import os
import random
import signal
import subprocess
import sys
import time
from decimal import Decimal

import pytest

from maelis_desk.services.payments import Mode, PaymentRequest

from integration_helpers import DEMO_FAMILY

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
