"""The desk against ANOTHER server honouring the contract (issue 8, « How it is checked »).

tests/contract_server/ is a second Maelis written from the contract text alone
(/work/shared/maelis-contract.md): its own WSDLs (with operations and fields the
desk does not use), envelopes, data and reading of the rules; it imports nothing
of maelis_desk. Where the desk's client and its simulator share a misreading of
the contract, these tests disagree with both.

Every step is the command line in a process of its own (`python -m maelis_desk`),
MAELIS_DESK_URL pointing at that server, the password in MAELIS_DESK_PASSWORD,
its own desk folder (MAELIS_DESK_HOME). Checked: (a) unpaid invoices of any age
listed, a history of more than 100 invoices complete; (b) odd figures refused as
a protocol error, in French, exit 6, nothing cached; (c) a redirect to another
origin refused, nothing reaching it (counted there); (d) a payment the server
applies late (1×, 2×, 10× the settle time, or never; its answer late or never)
applied once at most, never twice, and shown as « constaté » / « à vérifier »,
never « confirmé », where nothing acknowledged it; (e) no traceback on any stderr.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

import pytest

from contract_server import ODD, PASSWORD, USER, ContractServer, CountingServer
from contract_server.server import BASE_PATH

ROOT = Path(__file__).resolve().parents[2]
SETTLE = 0.8  # MAELIS_DESK_SETTLE_SECONDS of the payment checks
HORIZON = 9.0  # beyond ten times the settle time


@pytest.fixture
def maelis():
    with ContractServer() as server:
        yield server
    assert server.errors == [], server.errors[0]  # the contract server's own bugs


class Desk:
    """The desk's CLI, one process per command, on its own desk folder."""

    def __init__(self, home: Path, server: ContractServer, **env):
        self.home = home
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("MAELIS_DESK_")}
        self.env.update({
            "MAELIS_DESK_URL": server.url, "MAELIS_DESK_USER": USER, "MAELIS_DESK_PASSWORD": PASSWORD,
            "MAELIS_DESK_HOME": str(home), "MAELIS_DESK_TZ": "Europe/Paris", "MAELIS_DESK_TIMEOUT": "3",
            "PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring", "MAELIS_DESK_BACKOFF_SECONDS": "0.05",
        })
        self.env.update(env)
        self.stderrs: list[str] = []

    def __call__(self, *args: str, code: int | None = 0) -> subprocess.CompletedProcess:
        result = subprocess.run([sys.executable, "-m", "maelis_desk", *args], capture_output=True, text=True,
                                timeout=90, env=self.env, cwd=ROOT, stdin=subprocess.DEVNULL)
        self.stderrs.append(result.stderr)
        assert "Traceback" not in result.stderr, result.stderr  # (e)
        assert PASSWORD not in result.stdout + result.stderr
        if code is not None:
            assert result.returncode == code, (args, result.returncode, result.stdout[-800:], result.stderr)
        return result

    def json(self, *args: str):
        return json.loads(self(*args, "--json").stdout)

    def keeps_no_password(self) -> None:
        """Nothing the desk wrote (database, logs, WSDL copies) holds the password."""
        for path in self.home.rglob("*"):
            if path.is_file():
                assert PASSWORD.encode() not in path.read_bytes(), path


@pytest.fixture
def desk(tmp_path, maelis):
    d = Desk(tmp_path / "home", maelis)
    yield d
    d.keeps_no_password()


def _listed(invoices: list[dict]) -> dict[tuple[int, int], dict]:
    return {(i["regie"], i["number"]): i for i in invoices}


# -- (a) every unpaid invoice, whatever its age; a long history whole ------------------------


def test_unpaid_invoices_of_any_age_are_listed(desk, maelis):
    to_pay = _listed(desk.json("invoices", "1312")["invoices"])
    assert set(to_pay) == {(102, 3), (102, 5), (102, 8), (102, 11), (109, 21)}
    assert {i["date"][:4] for i in to_pay.values()} == {"2021", "2022", "2023"}
    assert to_pay[(102, 3)]["date"] == "2021-10-05" and to_pay[(109, 21)]["date"] == "2021-01-12"
    # remaining = amountInvoice − amountPaid − amountPaidTG (absent: 0)
    assert [to_pay[k]["remaining"] for k in [(102, 3), (102, 5), (102, 8), (102, 11)]] == \
        ["31.05", "21.40", "28.98", "30.00"]
    assert to_pay[(102, 11)]["paid_treasury"] == "15.54" and to_pay[(102, 3)]["paid_treasury"] == "0.00"
    assert all(i["source"] == "maelis" for i in to_pay.values())
    history = _listed(desk.json("invoices", "1312", "--history")["invoices"])
    assert set(history) == {(102, 6), (102, 9), (109, 22)}
    # transmitted to the treasury: history (not payable at the régie), though unpaid
    assert history[(102, 6)]["status"] != "to_pay" and history[(102, 6)]["transmitted_at"].startswith("2023-01-15")
    assert history[(102, 9)]["amount"] == "12.50"  # written « 12.5 » by the server
    shown = desk("invoices", "1312").stdout
    assert "reste dû : 111,43\u00a0€" in shown and "05/10/2021" in shown


def test_a_history_of_more_than_100_invoices_is_complete(desk, maelis):
    history = desk.json("invoices", "4242", "--history")["invoices"]
    to_pay = desk.json("invoices", "4242")["invoices"]
    held = [k for k, inv in maelis.invoices.items() if inv.family == 4242]
    assert len(held) == 134
    assert len(history) == 128 and len(to_pay) == 6
    assert set(_listed(history)) | set(_listed(to_pay)) == set(held)
    assert {i["date"][:4] for i in to_pay} == {"2023"}
    assert min(i["date"] for i in history) == "2013-01-28"


def test_a_family_without_invoices_and_the_name_search(desk):
    assert "Aucune facture à payer." in desk("invoices", "6000").stdout
    found = desk.json("families", "eleonore")  # accents and case ignored by the server
    assert [f["number"] for f in found] == [6000]


def test_wrong_credentials_are_refused_as_such(tmp_path, maelis):
    wrong = Desk(tmp_path / "home", maelis, MAELIS_DESK_PASSWORD="pas-le-bon")
    result = wrong("regies", code=4)
    assert "identification" in result.stderr


def test_the_wsdl_s_declared_address_is_not_where_the_envelope_goes(desk, maelis):
    """The WSDLs name another host as the services' address: the desk still calls <base>/<Service>."""
    with CountingServer() as elsewhere:
        maelis.address = elsewhere.origin + BASE_PATH
        assert desk.json("invoices", "5100")["invoices"]
        assert elsewhere.requests == []


# -- (b) odd figures: a protocol error, in French, nothing cached -----------------------------

WHY = {
    "three_decimals": "a plus de 2 décimales",
    "three_decimals_paid": "a plus de 2 décimales",
    "negative_paid": "est négatif",
    "negative_invoice": "est négatif",
    "huge_amount": "dépasse tout montant possible",
    "huge_paid_tg": "dépasse tout montant possible",
}


@pytest.mark.parametrize("mode", sorted(ODD))
def test_odd_figures_are_refused_and_never_cached(desk, maelis, mode):
    field, text = ODD[mode]
    maelis.odd_figure(mode, family=1312)
    refused = desk("invoices", "1312", "--regie", "102", "--json", code=6)
    assert refused.stdout == ""
    assert "non conforme" in refused.stderr and f"InvoiceBean.{field}" in refused.stderr
    assert WHY[mode] in refused.stderr and "ni affiché ni gardé" in refused.stderr
    # nothing of that answer reached the cache (not even the invoices before the odd one)
    offline = desk("invoices", "1312", "--regie", "102", "--offline", "--json", code=3)
    assert "Aucune facture de la famille 1312 en cache" in offline.stderr
    # a good answer is cached; an odd one afterwards leaves it as it was, and says why
    maelis.odd_figure(None)
    good = desk.json("invoices", "1312", "--regie", "102")["invoices"]
    maelis.odd_figure(mode, family=1312)
    again = desk("invoices", "1312", "--regie", "102", "--json")
    assert "Données du cache" in again.stderr and WHY[mode] in again.stderr
    shown = json.loads(again.stdout)["invoices"]
    assert [(i["number"], i["amount"], i["paid"], i["remaining"]) for i in shown] == \
        [(i["number"], i["amount"], i["paid"], i["remaining"]) for i in good]
    assert {i["source"] for i in shown} == {"cache"}


# -- (c) a redirect to another origin: refused, nothing sent there ------------------------------


@pytest.mark.parametrize("status", [307, 308])
@pytest.mark.parametrize("wsdl", [False, True], ids=["soap", "soap+wsdl"])
def test_a_redirect_to_another_port_carries_nothing_there(desk, maelis, status, wsdl):
    desk("session", "open", "--float", "0")
    paid = desk.json("pay", "5100", "--regie", "105", "--invoice", "3001", "--amount", "5,00", "--mode", "carte",
                     "--card-reference", "A1", "--no-transmit")
    with CountingServer() as elsewhere:
        maelis.redirect(status, elsewhere.origin, wsdl=wsdl)
        if wsdl:  # a desk that never fetched the WSDLs
            fresh = Desk(desk.home.parent / "other-home", maelis)
            refused = fresh("invoices", "5100", "--json", code=6)
        else:
            refused = desk("invoices", "5100", "--regie", "102", "--json", code=6)
        assert "redirection" in refused.stderr and str(status) in refused.stderr
        assert elsewhere.origin in refused.stderr and "rien n'y a été envoyé" in refused.stderr
        sent = desk("transmit")
        assert "à réessayer : 1" in sent.stdout  # the baseline read refused: nothing sent
        assert "rien n'est parti, à réessayer" in sent.stderr and "redirection" in sent.stderr  # and why
        assert elsewhere.requests == []  # neither an envelope nor a password went there
        assert maelis.calls("payInvoices") == [] and maelis.applied() == []
        [waiting] = desk.json("outbox")
        assert waiting["receipt"] == paid["receipt"] and waiting["state"] == "pending"
        assert "redirection" in waiting["last_error"]
        maelis.redirect(None)
    deadline = time.monotonic() + 30
    while desk.json("outbox", "--all")[0]["state"] != "confirmed" and time.monotonic() < deadline:
        desk("transmit")
        time.sleep(0.2)
    assert desk.json("outbox", "--all")[0]["state"] == "confirmed"
    assert len(maelis.applied(paid["reference"])) == 1 and len(maelis.calls("payInvoices")) == 1


# -- (d) a payment applied late is applied once ----------------------------------------------------


def _payment_desk(tmp_path, maelis) -> Desk:
    return Desk(tmp_path / "home", maelis, MAELIS_DESK_TIMEOUT="0.5", MAELIS_DESK_SETTLE_SECONDS=str(SETTLE),
                MAELIS_DESK_HORIZON_SECONDS=str(HORIZON), MAELIS_DESK_BACKOFF_SECONDS="0.05",
                MAELIS_DESK_LEASE_SECONDS="3")


def _transmit_until(desk: Desk, receipt: str, states: set[str], seconds: float) -> dict:
    deadline = time.monotonic() + seconds
    while True:
        desk("transmit")
        history = desk.json("history", receipt)
        if history["state"] in states or time.monotonic() > deadline:
            return history
        time.sleep(0.2)


@pytest.mark.parametrize("times_settle, answer", [(1, "late"), (2, "never"), (10, "late"), (10, "never"),
                                                  (None, "never")],
                         ids=["1x-late", "2x-never", "10x-late", "10x-never", "never-applied"])
def test_a_payment_applied_late_is_applied_once_at_most(tmp_path, maelis, times_settle, answer):
    desk = _payment_desk(tmp_path, maelis)
    desk("session", "open", "--float", "0")
    paid = desk.json("pay", "5100", "--regie", "105", "--invoice", "3001", "--amount", "10,00", "--mode", "carte",
                     "--card-reference", "A1", "--no-transmit")
    receipt, ref = paid["receipt"], paid["reference"]
    assert paid["state"] == "pending" and maelis.calls("payInvoices") == []
    maelis.pay_behaviour(apply_after=None if times_settle is None else times_settle * SETTLE, answer=answer)
    started = time.monotonic()
    desk("transmit")
    assert desk.json("history", receipt)["state"] == "uncertain"  # the desk gave up waiting after 0.5 s
    seen = _transmit_until(desk, receipt, {"matched", "review", "confirmed", "rejected"}, HORIZON + 10)
    took = time.monotonic() - started
    applied = len(maelis.applied(ref))
    print(f"\n{times_settle} × settle, answer {answer}: {seen['state']} after {took:.1f} s; payInvoices "
          f"received {len(maelis.calls('payInvoices'))}, applied {applied}")
    assert len(maelis.calls("payInvoices")) == 1  # sent once, never again by itself
    assert applied == (0 if times_settle is None else 1)
    if times_settle is None:
        assert seen["state"] == "review" and "toujours pas" in (seen["last_error"] or "")
    else:
        # the figures moved by exactly its amount, but nothing acknowledged it: « constaté », to check
        assert seen["state"] == "matched" and seen["confirmation"] == "inferred"
        assert maelis.paid(105, 3001) == Decimal("10.00")
    assert seen["to_check"] and seen["needs_person"]
    assert not any(s["outcome"] == "sent" for s in seen["steps"])  # no acknowledgement recorded
    assert [r["receipt"] for r in desk.json("outbox", "--to-check")] == [receipt]
    # nothing more happens by itself
    for _ in range(3):
        desk("transmit")
    assert len(maelis.calls("payInvoices")) == 1 and len(maelis.applied(ref)) == applied
    assert desk.json("history", receipt)["state"] == seen["state"]
    outbox = desk("outbox").stdout
    assert receipt in outbox and "Confirmé par Maelis" not in outbox


def test_a_payment_acknowledged_at_once_and_applied_later_is_confirmed_once(tmp_path, maelis):
    """An acknowledgement is the one thing that lets the desk say « confirmé » by itself."""
    desk = _payment_desk(tmp_path, maelis)
    desk("session", "open", "--float", "0")
    maelis.pay_behaviour(apply_after=2 * SETTLE, answer="now")
    paid = desk.json("pay", "5100", "--regie", "105", "--invoice", "3002", "--invoice", "3001", "--amount", "30,00",
                     "--mode", "carte", "--card-reference", "A2")
    assert paid["state"] == "sent"
    seen = _transmit_until(desk, paid["receipt"], {"confirmed", "matched", "review"}, 20)
    assert seen["state"] == "confirmed" and seen["confirmation"] == "acknowledged" and not seen["to_check"]
    assert len(maelis.calls("payInvoices")) == 1 and len(maelis.applied(paid["reference"])) == 1
    # applied in the order given: 3002 whole, the rest on 3001
    assert maelis.paid(105, 3002) == Decimal("25.50") and maelis.paid(105, 3001) == Decimal("4.50")


# -- a fault code the contract does not list --------------------------------------------------------


def test_an_unlisted_fault_code_is_a_server_error(desk, maelis):
    """The contract's Faults table: a faultstring starting with a code it does not list (E99) is
    « anything else: server error: show it, keep working » — the desk took every E-code for a
    business refusal: readInvoices exited 5 instead of showing the cache, and a payInvoices so
    answered was « refusé par Maelis » (taken as not applied) instead of in doubt."""
    desk.json("invoices", "5100", "--regie", "105")
    maelis.fault("readInvoices", "E99 : erreur interne du serveur")
    shown = desk("invoices", "5100", "--regie", "105", "--json", code=None)
    assert shown.returncode == 0 and "Données du cache" in shown.stderr
    maelis.fault("readInvoices", None)
    desk("session", "open", "--float", "0")
    maelis.fault("payInvoices", "E99 : erreur interne du serveur")
    paid = desk.json("pay", "5100", "--regie", "105", "--invoice", "3001", "--amount", "10,00", "--mode", "carte",
                     "--card-reference", "A1")
    assert paid["state"] == "uncertain"  # a server error on a payment: it may have been applied
