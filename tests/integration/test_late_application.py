"""A payment Maelis applies long after the desk gave up is applied once, and a
confirmation inferred from amounts alone is never taken for an acknowledged one
(issue 8 points 2 and 3).

The demo Maelis over loopback HTTP: `apply_delay` makes it work on a
payInvoices that long before applying it (the desk's call times out long
before), `dropped` loses the request inside Maelis (never applied). The
referee is Maelis' ledger, every payInvoices it applied with its refTransaction.
"""

from __future__ import annotations

import json
import time
from decimal import Decimal

import pytest

from maelis_desk.domain import Confirmation, PaymentState
from maelis_desk.services.payments import Mode, PaymentRequest

from integration_helpers import DEMO_FAMILY

SETTLE = 0.8
HORIZON = 12.0  # beyond ten times the settle time


@pytest.fixture
def slow_backend(monkeypatch):
    monkeypatch.setenv("MAELIS_DESK_SETTLE_SECONDS", str(SETTLE))
    monkeypatch.setenv("MAELIS_DESK_HORIZON_SECONDS", str(HORIZON))
    monkeypatch.setenv("MAELIS_DESK_BACKOFF_SECONDS", "0.05")
    monkeypatch.setenv("MAELIS_DESK_LEASE_SECONDS", "3")


def _pay(desk, amount=None):
    regies = desk.reader.open_family(DEMO_FAMILY).regies
    inv = next(i for r in regies for i in r.to_pay if i.remaining >= 2)
    return desk.payments.record(PaymentRequest(
        family=DEMO_FAMILY, regie=inv.regie.code, invoices=[inv.number],
        amount=amount or Decimal("1.50"), mode=Mode.ESPECES)), inv


def _applied(simulator, record) -> int:
    return sum(1 for p in simulator.applied_payments() if p["ref"] == record.reference)


def _sends(desk, record) -> int:
    return sum(1 for a in desk.payments_store.attempts(record.id) if a["action"] == "send"
               and a["outcome"] == "sending")


def _run_until(desk, record, states, seconds):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        desk.transmitter.run_once()
        current = desk.payments_store.get(record.id)
        if current.state.value in states:
            return current
        time.sleep(0.1)
    return desk.payments_store.get(record.id)


@pytest.mark.parametrize("times_settle", [1, 2, 10])
def test_applied_late_is_applied_once_and_left_to_a_person(make_desk, simulator, slow_backend, times_settle):
    """Maelis applies the payment 1×, 2× and 10× the settle time after the desk's
    call gave up: the desk never sends it again; when its figures show the
    amount, it is « constaté », listed for a supervisor, not « confirmé »."""
    desk = make_desk(timeout=0.4)
    simulator.set_apply_delay(times_settle * SETTLE)
    record, _inv = _pay(desk)
    started = time.monotonic()
    desk.transmitter.run_once()
    assert desk.payments_store.get(record.id).state is PaymentState.UNCERTAIN
    # what the desk waits for, and since when, in the outbox and the CLI
    explained = desk.transmitter.explain(desk.payments_store.get(record.id))
    assert "Réponse perdue" in explained and "Jamais renvoyé" in explained
    seen = _run_until(desk, record, {"matched", "review", "confirmed"}, HORIZON + 5)
    took = time.monotonic() - started
    print(f"\napplied after {times_settle} × settle: {seen.state.value} after {took:.1f} s, "
          f"sends {_sends(desk, record)}, applied by Maelis {_applied(simulator, record)}")
    assert seen.state is PaymentState.MATCHED, seen
    assert took >= times_settle * SETTLE
    assert _sends(desk, record) == 1 and _applied(simulator, record) == 1
    # listed for a supervisor, told apart from an acknowledged confirmation
    assert seen.state.needs_person and not seen.state.is_confirmed
    assert "sans accusé" in seen.state.label_fr
    assert [r.receipt for r in desk.payments.outbox() if r.state.needs_person] == [record.receipt]
    # nothing more happens by itself
    for _ in range(5):
        desk.transmitter.run_once()
    assert _sends(desk, record) == 1 and _applied(simulator, record) == 1
    # the régisseur checked in Maelis: confirmed by a person, recorded so
    assert desk.payments.history(record.receipt).confirmation is Confirmation.INFERRED
    done = desk.resolve_payment(record.receipt, applied=True, note="vu dans Maelis")
    assert done.state is PaymentState.CONFIRMED
    history = desk.payments.history(record.receipt)
    assert history.confirmation is Confirmation.VERIFIED and not history.to_check  # a person's check, not Maelis'
    assert any(a["action"] == "resolve" for a in desk.payments_store.attempts(record.id))


def test_never_applied_goes_to_a_person_then_is_sent_once(make_desk, simulator, slow_backend):
    """Maelis loses the request: the desk re-reads up to the horizon, then asks a
    person (never resends by itself); sent again only once a person said so."""
    desk = make_desk(timeout=0.4)
    simulator.set_fault("dropped")
    record, _inv = _pay(desk)
    desk.transmitter.run_once()
    assert desk.payments_store.get(record.id).state is PaymentState.UNCERTAIN
    simulator.set_fault(None)
    started = time.monotonic()
    seen = _run_until(desk, record, {"matched", "review", "confirmed", "pending"}, HORIZON + 5)
    took = time.monotonic() - started
    reads = sum(1 for a in desk.payments_store.attempts(record.id) if a["action"] == "reconcile")
    print(f"\nnever applied: {seen.state.value} after {took:.1f} s and {reads} readings")
    assert seen.state is PaymentState.REVIEW and "toujours pas" in (seen.last_error or "")
    assert took >= HORIZON - SETTLE - 1 and 3 <= reads <= 8  # settle, 2×, 4×, 8×..., the horizon
    assert _sends(desk, record) == 1 and _applied(simulator, record) == 0
    for _ in range(5):
        desk.transmitter.run_once()
    assert _sends(desk, record) == 1  # still waiting for a person
    desk.resolve_payment(record.receipt, applied=False, note="absent de Maelis")
    done = _run_until(desk, record, {"confirmed"}, 10)
    assert done.state is PaymentState.CONFIRMED  # acknowledged this time
    assert _sends(desk, record) == 2 and _applied(simulator, record) == 1


def _cli(simulator, desk, capsys):
    """The CLI, in this process, on the test desk's database: its output."""
    from maelis_desk.cli import run

    def cli(*args):
        capsys.readouterr()
        code = run(["--url", simulator.url, "--user", "demo", "--database", str(desk.settings.database_spec),
                    "--offline", *args])
        out = capsys.readouterr().out
        assert code == 0, out
        return out
    return cli


def test_the_same_amount_paid_elsewhere_is_not_a_confirmation(make_desk, simulator, slow_backend, capsys):
    """Our request is lost; meanwhile the family pays the same amount on the same
    invoice online: Maelis' figures look exactly as if ours had landed. The desk
    says « constaté, à vérifier », never « confirmé par Maelis »; the supervisor
    finds it is not ours, and it is sent: the family paid twice, as it did."""
    desk = make_desk(timeout=0.4)
    simulator.set_fault("dropped")
    record, inv = _pay(desk)
    desk.transmitter.run_once()
    simulator.set_fault(None)
    simulator.ledger.record(ref="PORTAIL-1", family=DEMO_FAMILY, regie=inv.regie.code, amount=record.amount,
                            date="2026-12-04T10:00:00+01:00", invoices=[inv.number],
                            allocations=[(inv.number, record.amount)])
    seen = _run_until(desk, record, {"matched", "review", "confirmed"}, HORIZON)
    assert seen.state is PaymentState.MATCHED and not seen.state.is_confirmed
    assert _applied(simulator, record) == 0
    assert "pas d'un paiement fait ailleurs" in (seen.last_error or "") or "ailleurs" in (seen.last_error or "")
    # the receipt's history says what was seen, and that it is no acknowledgement
    history = desk.payments.history(record.receipt)
    assert history.confirmation is Confirmation.INFERRED and history.to_check
    flagged = [s for s in history.steps if s.needs_check]
    assert [(s.action, s.outcome) for s in flagged] == [("reconcile", "matched")]
    assert "SANS accusé" in flagged[0].label_fr and "augmenté de 1,50\u00a0€" in flagged[0].detail
    assert not any(s.outcome == "sent" for s in history.steps)  # Maelis never acknowledged it
    # listed for a supervisor, in the services and on the command line
    assert [r.receipt for r in desk.payments.to_check()] == [record.receipt]
    cli = _cli(simulator, desk, capsys)
    out = cli("outbox", "--to-check")
    assert record.receipt in out and "sans accusé" in out
    out = cli("history", record.receipt)
    assert "déduit des montants seuls" in out and "⚠" in out and "resolve" in out
    steps = json.loads(cli("history", record.receipt, "--json"))
    assert steps["confirmation"] == "inferred" and steps["to_check"]
    assert [s["action"] for s in steps["steps"]][:2] == ["record", "send"]

    desk.resolve_payment(record.receipt, applied=False, note="le paiement vu est celui du portail")
    done = _run_until(desk, record, {"confirmed"}, 10)
    assert done.state is PaymentState.CONFIRMED and _applied(simulator, record) == 1
    # sent again and acknowledged: now the desk's own confirmation, nothing left to check
    history = desk.payments.history(record.receipt)
    assert history.confirmation is Confirmation.ACKNOWLEDGED and not history.to_check
    assert desk.payments.to_check() == []
    assert "Aucun paiement à vérifier" in cli("outbox", "--to-check")


def test_only_a_regisseur_decides(make_desk, simulator, slow_backend):
    from maelis_desk.services.errors import PermissionDenied

    desk = make_desk(timeout=0.4)
    desk.operators.add("chef", "Régine Chef", "regisseur", "motdepasse-chef")
    desk.operators.login("chef", "motdepasse-chef")
    desk.operators.add("caisse", "Camille Caisse", "caissier", "motdepasse-caisse")
    desk.operators.login("caisse", "motdepasse-caisse")
    simulator.set_fault("dropped")
    record, _inv = _pay(desk)
    desk.transmitter.run_once()
    with pytest.raises(PermissionDenied):
        desk.resolve_payment(record.receipt, applied=False)
    desk.operators.login("chef", "motdepasse-chef")
    with pytest.raises(Exception, match="n'attend pas de décision"):
        desk.resolve_payment(record.receipt, applied=False)  # uncertain: the desk is still reading Maelis
