"""The demo Maelis over real HTTP on 127.0.0.1, with requests and zeep.

Covers every operation, every business fault, WS-Security, every fault mode,
the control endpoint, the ledger's persistence, determinism and scale.
"""

from __future__ import annotations

import base64
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
import requests
import zeep
import zeep.exceptions
from lxml import etree
from zeep.transports import Transport
from zeep.wsse.username import UsernameToken

from maelis_desk.simulator import FAULT_MODES, Simulator, run_simulator
from maelis_desk.simulator.data import DemoData

NS = "ws.maelis.sigec.com"
SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
XSI_NIL = "{http://www.w3.org/2001/XMLSchema-instance}nil"
ALL_TIME = {"dateStart": "2000-01-01T00:00:00+01:00", "dateEnd": "2099-12-31T23:59:59+01:00"}
PAID_ON = "2026-03-02T10:15:00+01:00"
FAMILY_SERVICE_OPS = ("readFamily", "readFamilyListFromFullName")


# --------------------------------------------------------------------------
# Helpers and fixtures.
# --------------------------------------------------------------------------

@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Simulator]:
    """A simulator for read-mostly tests (payments go to families >= 1400)."""
    with Simulator(families=300, state_dir=tmp_path_factory.mktemp("shared")) as sim:
        yield sim


@pytest.fixture
def sim(tmp_path: Path) -> Iterator[Simulator]:
    """A private simulator, for tests that pay or change the fault mode."""
    with Simulator(families=60, state_dir=tmp_path / "state") as simulator:
        yield simulator


def client(sim: Simulator, service: str = "InvoiceService", password: str = "demo",
           timeout: float = 10) -> zeep.Client:
    transport = Transport(timeout=timeout, operation_timeout=timeout)
    return zeep.Client(f"{sim.url}/{service}?wsdl", wsse=UsernameToken("demo", password), transport=transport)


def envelope(operation: str, params: str = "", password: str | None = "demo") -> bytes:
    security = ""
    if password is not None:
        security = (
            '<soap:Header><wsse:Security xmlns:wsse="http://docs.oasis-open.org/wss/2004/01/'
            'oasis-200401-wss-wssecurity-secext-1.0.xsd"><wsse:UsernameToken>'
            f"<wsse:Username>demo</wsse:Username><wsse:Password>{password}</wsse:Password>"
            "</wsse:UsernameToken></wsse:Security></soap:Header>"
        )
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><soap:Envelope xmlns:soap="{SOAP_ENV}">{security}'
        f'<soap:Body><ns0:{operation} xmlns:ns0="{NS}">{params}</ns0:{operation}></soap:Body></soap:Envelope>'
    ).encode()


def post(sim: Simulator, operation: str, params: str = "", password: str | None = "demo",
         body: bytes | None = None, timeout: float = 10) -> requests.Response:
    service = "FamilyService" if operation in FAMILY_SERVICE_OPS else "InvoiceService"
    data = body if body is not None else envelope(operation, params, password)
    headers = {"Content-Type": "text/xml; charset=utf-8", "SOAPAction": '""'}
    return requests.post(f"{sim.url}/{service}", data=data, headers=headers, timeout=timeout)


def fault_string(response: requests.Response) -> str:
    assert response.status_code == 500
    assert response.headers["Content-Type"].startswith("text/xml")
    root = etree.fromstring(response.content)
    return root.findtext(f"{{{SOAP_ENV}}}Body/{{{SOAP_ENV}}}Fault/faultstring")


def fault_code(response: requests.Response) -> str:
    root = etree.fromstring(response.content)
    return root.findtext(f"{{{SOAP_ENV}}}Body/{{{SOAP_ENV}}}Fault/faultcode")


def expect_fault(call, code: str) -> str:
    with pytest.raises(zeep.exceptions.Fault) as info:
        call()
    assert info.value.message.startswith(f"{code} : "), info.value.message
    return info.value.message


def invoices(c: zeep.Client, family: int, regie: int) -> list:
    return c.service.readInvoices(numDossier=family, codeRegie=regie, **ALL_TIME)


def remaining(invoice) -> Decimal:
    return invoice.amountInvoice - invoice.amountPaid - (invoice.amountPaidTG or 0)


def payable(invoice) -> bool:
    return remaining(invoice) > 0 and invoice.dateTransmissionPES is None


def find_payable(sim: Simulator, c: zeep.Client, start: int = 1312) -> tuple[int, int, list]:
    """(family, régie, payable invoices) of the first family with something to pay."""
    for family in range(start, start + 200):
        for regie in sim.data.regies_of(family):
            found = [inv for inv in invoices(c, family, regie) if payable(inv)]
            if len(found) >= 2:
                return family, regie, found
    raise AssertionError("no family with two invoices to pay")


def pay(c: zeep.Client, family: int, regie: int, amount: str, nums: list[int], ref: str = "REF-1") -> str:
    return c.service.payInvoices(numDossier=family, codeRegie=regie, amount=Decimal(amount),
                                 datePaiement=PAID_ON, refTransaction=ref, numInvoices=nums)


# --------------------------------------------------------------------------
# WSDL and routing.
# --------------------------------------------------------------------------

@pytest.mark.parametrize("service", ["FamilyService", "InvoiceService"])
def test_wsdl_is_served_with_the_real_address(shared: Simulator, service: str) -> None:
    response = requests.get(f"{shared.url}/{service}?wsdl", timeout=5)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/xml")
    root = etree.fromstring(response.content)
    assert root.get("targetNamespace") == NS
    locations = root.xpath("//soap:address/@location", namespaces={"soap": "http://schemas.xmlsoap.org/wsdl/soap/"})
    assert locations == [f"{shared.url}/{service}"]


def test_other_gets_and_paths_are_404(shared: Simulator) -> None:
    for url in (f"{shared.url}/InvoiceService", f"{shared.url}/Nope?wsdl", f"{shared.root}/", shared.url):
        assert requests.get(url, timeout=5).status_code == 404, url
    assert requests.post(f"{shared.url}/Nope", data=b"<x/>", timeout=5).status_code == 404


def test_public_api() -> None:
    assert {"slow", "down", "html500", "garbage", "truncated", "lost"} <= set(FAULT_MODES)
    with pytest.raises(ValueError):
        Simulator(fault="nope")


# --------------------------------------------------------------------------
# FamilyService.
# --------------------------------------------------------------------------

def test_read_family(shared: Simulator) -> None:
    with client(shared, "FamilyService") as c:
        family = c.service.readFamily(dossierNumber=1312)
        assert family.number == 1312
        assert (family.RL1.lastname, family.RL1.firstname) == ("LEFÈVRE", "Anaïs")
        assert family.RL2.lastname == "N'DIAYE"
        assert [child.firstname for child in family.childList] == ["Zoé", "Jean-Baptiste", "Éloïse"]
        assert family.RL1.adresse.town == "TOULOUSE"
        last = c.service.readFamily(dossierNumber=1312 + 299)
        assert last.number == 1611
        message = expect_fault(lambda: c.service.readFamily(dossierNumber=999), "E02")
        assert message == "E02 : Dossier famille 999 inconnu"
        expect_fault(lambda: c.service.readFamily(dossierNumber=1612), "E02")


def test_search_is_case_and_accent_insensitive(shared: Simulator) -> None:
    with client(shared, "FamilyService") as c:
        for query in ("lefèvre", "LEFEVRE", "Lefev", "ndiaye zoe", "N'DIAYE-LEF jean-baptiste", "diaye ÉLOÏSE"):
            numbers = [f.number for f in c.service.readFamilyListFromFullName(fullname=query)]
            assert 1312 in numbers, query
            assert numbers == sorted(numbers)
        assert c.service.readFamilyListFromFullName(fullname="lefevre zzzz") == []
        assert c.service.readFamilyListFromFullName(fullname="zzzzzz") == []
        summary = c.service.readFamilyListFromFullName(fullname="lefèvre anaïs")[0]
        assert summary.number == 1312 and summary.RL1.firstname == "Anaïs" and len(summary.childList) == 3
        many = [f.number for f in c.service.readFamilyListFromFullName(fullname="e")]
        assert len(many) == 50 and many == sorted(many)


# --------------------------------------------------------------------------
# InvoiceService: reads.
# --------------------------------------------------------------------------

def test_read_regie_list(shared: Simulator) -> None:
    with client(shared) as c:
        regies = c.service.readRegieList()
    assert len(regies) == 9
    assert {r.code: r.libelle for r in regies}[102] == "CANTINE / CLAE"


def test_read_invoices_and_date_filter(shared: Simulator) -> None:
    with client(shared) as c:
        everything = invoices(c, 1312, 102)
        assert len(everything) >= 5
        for invoice in everything:
            assert invoice.numFamily == 1312 and invoice.regie.code == 102
            assert invoice.amountInvoice == sum(line.amountLine for line in invoice.lineInvoiceList)
            assert invoice.dateInvoice.utcoffset() is not None
            assert re.fullmatch(r"F102\d{8}", invoice.idInvoice)
            assert invoice.name == "LEFÈVRE ANAÏS"
            assert isinstance(invoice.amountInvoice, Decimal)
        middle = everything[len(everything) // 2].dateInvoice
        some = c.service.readInvoices(numDossier=1312, codeRegie=102, dateStart=middle, dateEnd=middle)
        assert [inv.numInvoice for inv in some] == [everything[len(everything) // 2].numInvoice]
        assert c.service.readInvoices(numDossier=1312, codeRegie=102, dateStart="1990-01-01T00:00:00+01:00",
                                      dateEnd="1990-12-31T00:00:00+01:00") == []
        assert invoices(c, 1312, 104) == []  # a régie the family never used
        assert expect_fault(lambda: invoices(c, 999, 102), "E02") == "E02 : Dossier famille 999 inconnu"
        expect_fault(lambda: invoices(c, 1312, 999), "E05")


def test_family_1312_covers_every_case(shared: Simulator) -> None:
    with client(shared) as c:
        by_regie = {regie: invoices(c, 1312, regie) for regie in (101, 102, 103, 107)}
    all_invoices = [inv for found in by_regie.values() for inv in found]
    to_pay = [inv for inv in all_invoices if payable(inv)]
    assert any(inv.amountPaid == 0 for inv in to_pay), "an invoice to pay"
    assert any(inv.amountPaid > 0 for inv in to_pay), "a partly paid invoice"
    assert any(inv.dateTransmissionPES is not None and remaining(inv) > 0 for inv in all_invoices), "transmitted"
    assert any((inv.amountPaidTG or 0) > 0 for inv in all_invoices), "paid at the treasury"
    assert any(remaining(inv) == 0 and inv.amountPaid > 0 for inv in all_invoices), "fully paid"
    assert by_regie[107] and not any(payable(inv) for inv in by_regie[107]), "a régie where it owes nothing"
    assert sum(1 for found in by_regie.values() if any(payable(inv) for inv in found)) >= 2


def test_optional_fields_are_sometimes_nil_and_sometimes_omitted(shared: Simulator) -> None:
    def nil_count(family: int) -> int:
        response = post(shared, "readFamily", f"<dossierNumber>{family}</dossierNumber>")
        assert response.status_code == 200
        root = etree.fromstring(response.content)
        body = root.find(f"{{{SOAP_ENV}}}Body")[0]
        assert body.tag == f"{{{NS}}}readFamilyResponse"
        assert body[0].tag == "return"  # unqualified
        return sum(1 for e in root.iter() if e.get(XSI_NIL) == "true")

    odd = [nil_count(f) for f in range(1313, 1353, 2)]
    even = [nil_count(f) for f in range(1314, 1354, 2)]
    assert sum(odd) > 0 and sum(even) == 0


def test_get_invoice_pdf(shared: Simulator) -> None:
    with client(shared) as c:
        invoice = invoices(c, 1312, 102)[-1]
        document = c.service.getInvoicePDF(codeRegie=102, numInvoice=invoice.numInvoice)
        assert document.startswith(b"%PDF")
        assert len(re.findall(rb"/Type\s*/Page\b(?!s)", document)) == 1
        assert document == c.service.getInvoicePDF(codeRegie=102, numInvoice=invoice.numInvoice)
        expect_fault(lambda: c.service.getInvoicePDF(codeRegie=102, numInvoice=42), "E06")
        expect_fault(lambda: c.service.getInvoicePDF(codeRegie=105, numInvoice=invoice.numInvoice), "E06")


def test_pdf_is_base64_in_the_raw_answer(shared: Simulator) -> None:
    num = shared.data.invoices(1312, 101)[-1].num
    response = post(shared, "getInvoicePDF", f"<codeRegie>101</codeRegie><numInvoice>{num}</numInvoice>")
    text = etree.fromstring(response.content).findtext(f".//{{{NS}}}getInvoicePDFResponse/return")
    assert base64.b64decode(text).startswith(b"%PDF")


# --------------------------------------------------------------------------
# InvoiceService: payments.
# --------------------------------------------------------------------------

def test_pay_invoices_applies_in_order_and_is_not_deduplicated(sim: Simulator) -> None:
    with client(sim) as c:
        family, regie, found = find_payable(sim, c)
        first, second = found[0], found[1]
        amount = remaining(first) + Decimal("0.01")
        ack = pay(c, family, regie, str(amount), [first.numInvoice, second.numInvoice], ref="T-42")
        assert re.fullmatch(r"PAY-\d{6} OK", ack)
        after = {inv.numInvoice: inv for inv in invoices(c, family, regie)}
        assert remaining(after[first.numInvoice]) == 0
        assert remaining(after[second.numInvoice]) == remaining(second) - Decimal("0.01")
        # The same call twice is two payments.
        pay(c, family, regie, "0.01", [second.numInvoice], ref="T-43")
        pay(c, family, regie, "0.01", [second.numInvoice], ref="T-43")
        again = {inv.numInvoice: inv for inv in invoices(c, family, regie)}
        assert remaining(again[second.numInvoice]) == remaining(second) - Decimal("0.03")
    payments = sim.applied_payments()
    assert [p["ref"] for p in payments] == ["T-42", "T-43", "T-43"]
    assert payments[0] == {
        "ref": "T-42", "family": family, "regie": regie, "amount": f"{amount:.2f}",
        "invoices": [first.numInvoice, second.numInvoice], "date": PAID_ON,
        "applied_at": payments[0]["applied_at"],
    }
    assert payments[0]["applied_at"][:4].isdigit()


def test_pay_invoices_faults(sim: Simulator) -> None:
    with client(sim) as c:
        family, regie, found = find_payable(sim, c)
        num = found[0].numInvoice
        due = remaining(found[0])
        expect_fault(lambda: pay(c, family, regie, "0", [num]), "E10")
        expect_fault(lambda: pay(c, family, regie, "-5", [num]), "E10")
        expect_fault(lambda: pay(c, family, regie, str(due + Decimal("0.01")), [num]), "E10")
        expect_fault(lambda: pay(c, family, regie, "0.001", [num]), "E10")
        expect_fault(lambda: pay(c, 999, regie, "1", [num]), "E02")
        expect_fault(lambda: pay(c, family, 999, "1", [num]), "E05")
        expect_fault(lambda: pay(c, family, regie, "1", [num, 42]), "E06")
        # numInvoice is unique within a régie only: take a régie the family never used.
        other_regie = next(r for r in range(101, 110) if r not in sim.data.regies_of(family))
        expect_fault(lambda: pay(c, family, other_regie, "1", [num]), "E06")
        other = next(f for f in range(1313, 1372) if f != family and sim.data.invoices(f, regie))
        expect_fault(lambda: pay(c, other, regie, "1", [num]), "E06")
        transmitted = next(inv for inv in invoices(c, 1312, 102) if inv.dateTransmissionPES and remaining(inv) > 0)
        expect_fault(lambda: pay(c, 1312, 102, "1", [transmitted.numInvoice]), "E11")
    assert sim.applied_payments() == []


def test_concurrent_payments_cannot_overpay(sim: Simulator) -> None:
    with client(sim) as c:
        family, regie, found = find_payable(sim, c)
        target = found[0]
    results: list[str] = []

    def attempt() -> None:
        with client(sim) as own:
            try:
                pay(own, family, regie, str(remaining(target)), [target.numInvoice])
                results.append("ok")
            except zeep.exceptions.Fault as fault:
                results.append(fault.message[:3])

    threads = [threading.Thread(target=attempt) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == ["E10", "E10", "E10", "ok"]


# --------------------------------------------------------------------------
# Security and malformed requests.
# --------------------------------------------------------------------------

def test_wrong_or_missing_credentials(shared: Simulator) -> None:
    with client(shared, password="wrong") as c, pytest.raises(zeep.exceptions.Fault) as info:
        c.service.readRegieList()
    assert "Security" in info.value.message
    for password in (None, "wrong"):
        response = post(shared, "readRegieList", password=password)
        assert "Security" in fault_string(response)


def test_password_digest_is_accepted(shared: Simulator) -> None:
    transport = Transport(timeout=5)
    with zeep.Client(f"{shared.url}/InvoiceService?wsdl", transport=transport,
                     wsse=UsernameToken("demo", "demo", use_digest=True)) as c:
        assert len(c.service.readRegieList()) == 9


def test_malformed_requests_are_client_faults(shared: Simulator) -> None:
    doctype = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e "boom">]>' + envelope("readRegieList")[21:]
    for body in (doctype, b"not xml", b"<a>no envelope</a>"):
        response = post(shared, "readRegieList", body=body)
        assert fault_code(response) == "soap:Client", body
        fault_string(response)
    response = post(shared, "readInvoices", "<numDossier>abc</numDossier>")
    assert fault_code(response) == "soap:Client"
    # Parameters must be unqualified, as the WSDL says.
    response = post(shared, "readFamily", f'<ns0:dossierNumber xmlns:ns0="{NS}">1312</ns0:dossierNumber>')
    assert fault_code(response) == "soap:Client"


def test_unknown_operation(shared: Simulator) -> None:
    assert fault_string(post(shared, "deleteEverything")) == "Opération inconnue : deleteEverything"
    # An InvoiceService operation sent to FamilyService.
    response = requests.post(f"{shared.url}/FamilyService", data=envelope("readRegieList"), timeout=5)
    assert fault_string(response) == "Opération inconnue : readRegieList"


def test_concurrent_requests_are_served_in_parallel(sim: Simulator) -> None:
    sim.set_latency(0.4)
    results: list[int] = []

    def read(family: int) -> None:
        results.append(post(sim, "readFamily", f"<dossierNumber>{family}</dossierNumber>").status_code)

    start = time.monotonic()
    threads = [threading.Thread(target=read, args=(1312 + i,)) for i in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [200] * 10
    assert time.monotonic() - start < 2.0


# --------------------------------------------------------------------------
# Latency and fault modes.
# --------------------------------------------------------------------------

def test_latency_delays_soap_but_not_wsdl(sim: Simulator) -> None:
    with client(sim) as c:
        sim.set_latency(0.3)
        start = time.monotonic()
        c.service.readRegieList()
        assert time.monotonic() - start >= 0.3
        start = time.monotonic()
        requests.get(f"{sim.url}/InvoiceService?wsdl", timeout=5).raise_for_status()
        assert time.monotonic() - start < 0.25
        sim.set_latency(0)
        start = time.monotonic()
        c.service.readRegieList()
        assert time.monotonic() - start < 0.25


def test_slow_times_out_but_applies_the_payment(sim: Simulator) -> None:
    with client(sim) as c:
        family, regie, found = find_payable(sim, c)
    sim.set_fault("slow")  # 30 s: stop() must not wait for it
    with client(sim, timeout=0.3) as c:
        with pytest.raises(requests.exceptions.Timeout):
            c.service.readRegieList()
        with pytest.raises(requests.exceptions.Timeout):
            pay(c, family, regie, "1.00", [found[0].numInvoice], ref="SLOW")
    assert [p["ref"] for p in sim.applied_payments()] == ["SLOW"]
    start = time.monotonic()
    sim.stop()
    assert time.monotonic() - start < 3


def test_down_refuses_connections_then_comes_back(sim: Simulator) -> None:
    url = sim.url
    with client(sim) as c:
        sim.set_fault("down")
        assert sim.url == url
        with pytest.raises(requests.ConnectionError):
            c.service.readRegieList()
        with pytest.raises(requests.ConnectionError):
            requests.get(f"{url}/InvoiceService?wsdl", timeout=5)
        sim.set_fault("down")  # idempotent
        sim.set_fault(None)
        assert sim.url == url
        assert len(c.service.readRegieList()) == 9


def test_html500(sim: Simulator) -> None:
    sim.set_fault("html500")
    response = post(sim, "readRegieList")
    assert response.status_code == 500
    assert response.headers["Content-Type"].startswith("text/html")
    assert b"<html" in response.content
    assert requests.get(f"{sim.url}/InvoiceService?wsdl", timeout=5).status_code == 200
    sim.set_fault(None)
    with client(sim) as c:
        family, regie, found = find_payable(sim, c)
        sim.set_fault("html500")
        with pytest.raises(zeep.exceptions.TransportError):
            pay(c, family, regie, "1", [found[0].numInvoice])
    assert sim.applied_payments() == []  # nothing reached Maelis


def test_garbage(sim: Simulator) -> None:
    sim.set_fault("garbage")
    response = post(sim, "readRegieList")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/xml")
    with pytest.raises(etree.XMLSyntaxError):
        etree.fromstring(response.content)
    with client(sim) as c, pytest.raises(zeep.exceptions.Error):
        c.service.readRegieList()


def test_truncated(sim: Simulator) -> None:
    sim.set_fault("truncated")
    response = post(sim, "readInvoices", "<numDossier>1312</numDossier><codeRegie>102</codeRegie>"
                    "<dateStart>2000-01-01T00:00:00</dateStart><dateEnd>2099-01-01T00:00:00</dateEnd>")
    assert response.status_code == 200
    assert response.content.startswith(b"<?xml")
    assert b"<soap:Envelope" in response.content and b"</soap:Envelope>" not in response.content
    with pytest.raises(etree.XMLSyntaxError):
        etree.fromstring(response.content)
    with client(sim) as c, pytest.raises(zeep.exceptions.Error):
        c.service.readRegieList()


def test_lost_applies_the_payment_but_drops_the_answer(sim: Simulator) -> None:
    with client(sim) as c:
        family, regie, found = find_payable(sim, c)
        target = found[0]
        sim.set_fault("lost")
        assert len(c.service.readRegieList()) == 9  # other operations answer
        with pytest.raises(requests.ConnectionError):
            pay(c, family, regie, "1.00", [target.numInvoice], ref="LOST-1")
        assert [p["ref"] for p in sim.applied_payments()] == ["LOST-1"]
        sim.set_fault(None)
        after = {inv.numInvoice: inv for inv in invoices(c, family, regie)}
        assert remaining(after[target.numInvoice]) == remaining(target) - 1


def test_control_endpoint(sim: Simulator) -> None:
    control = sim.control_url
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+/_control", control)
    state = requests.get(control, timeout=5).json()
    assert state == {"fault": None, "latency": 0.0, "apply_delay": 0.0, "url": sim.url, "control_url": control}
    assert requests.post(control, json={"fault": "html500", "latency": 0.05}, timeout=5).json()["fault"] == "html500"
    assert sim.fault == "html500" and sim.latency == 0.05
    assert post(sim, "readRegieList").status_code == 500
    assert requests.post(control, json={"fault": "down"}, timeout=5).status_code == 200
    with pytest.raises(requests.ConnectionError):
        post(sim, "readRegieList")
    assert requests.post(control, json={"fault": None, "latency": 0}, timeout=5).status_code == 200
    assert post(sim, "readRegieList").status_code == 200
    assert requests.post(control, json={"fault": "nope"}, timeout=5).status_code == 400
    assert requests.post(control, data=b"{", timeout=5).status_code == 400
    assert requests.get(f"{control}/payments", timeout=5).json() == []
    # The same endpoint under the services' root, "down" included.
    root_control = f"{sim.root}/_control"
    assert requests.get(root_control, timeout=5).json()["fault"] is None
    assert requests.post(root_control, json={"fault": "down"}, timeout=5).status_code == 200
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        try:
            requests.get(f"{sim.url}/InvoiceService?wsdl", timeout=1).close()
        except requests.ConnectionError:
            break
        time.sleep(0.05)
    else:
        pytest.fail("the simulator did not go down")
    requests.post(control, json={"fault": None}, timeout=5)
    assert requests.get(f"{root_control}/payments", timeout=5).json() == []


def test_down_through_the_main_port_answers_before_closing(sim: Simulator, monkeypatch) -> None:
    """The flake of test_control_endpoint (RemoteDisconnected about 1 run in 7 on a
    loaded machine): asked for "down" through the main port, the simulator closed
    that port, aborting the requests in flight, before its own answer was written.
    The answering thread is held back here as a busy machine does it."""
    from maelis_desk.simulator import server

    write = server._ServerHandler.finish_response

    def late(self) -> None:
        if self.environ.get("maelis.via_main"):
            time.sleep(0.3)
        write(self)

    monkeypatch.setattr(server._ServerHandler, "finish_response", late)
    answer = requests.post(f"{sim.root}/_control", json={"fault": "down"}, timeout=5)
    assert answer.status_code == 200 and answer.json()["fault"] == "down"
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        try:
            requests.get(f"{sim.url}/InvoiceService?wsdl", timeout=1).close()
        except requests.ConnectionError:
            break
        time.sleep(0.05)
    else:
        pytest.fail("the simulator did not go down")
    # Cleared before the take-down could run, "down" does not come back later.
    assert requests.post(sim.control_url, json={"fault": None}, timeout=5).status_code == 200
    assert post(sim, "readRegieList").status_code == 200


def test_down_cleared_before_the_take_down(sim: Simulator, monkeypatch) -> None:
    started = threading.Event()
    release = threading.Event()
    take_down_if_down = Simulator._take_down_if_down

    def held(self) -> None:
        started.set()
        release.wait(5)
        take_down_if_down(self)

    monkeypatch.setattr(Simulator, "_take_down_if_down", held)
    assert requests.post(f"{sim.root}/_control", json={"fault": "down"}, timeout=5).status_code == 200
    assert started.wait(5)
    assert requests.post(sim.control_url, json={"fault": None}, timeout=5).status_code == 200
    release.set()
    for helper in list(sim._helpers):
        helper.join(5)
    assert sim.fault is None
    assert post(sim, "readRegieList").status_code == 200


def test_control_endpoint_lists_payments(sim: Simulator) -> None:
    with client(sim) as c:
        family, regie, found = find_payable(sim, c)
        pay(c, family, regie, "2.50", [found[0].numInvoice], ref="CTRL")
    listed = requests.get(f"{sim.control_url}/payments", timeout=5).json()
    assert listed == sim.applied_payments()
    assert listed[0]["amount"] == "2.50" and listed[0]["ref"] == "CTRL"


# --------------------------------------------------------------------------
# Persistence, determinism, scale, command line.
# --------------------------------------------------------------------------

def test_payments_survive_a_restart(tmp_path: Path) -> None:
    with Simulator(families=40, state_dir=tmp_path) as first:
        with client(first) as c:
            family, regie, found = find_payable(first, c)
            pay(c, family, regie, "3.00", [found[0].numInvoice], ref="PERSIST")
        port = first.port
    assert first.applied_payments()[0]["ref"] == "PERSIST"  # readable once stopped too
    first.stop()  # idempotent
    with Simulator(families=40, state_dir=tmp_path, port=port) as second:
        assert [p["ref"] for p in second.applied_payments()] == ["PERSIST"]
        with client(second) as c:
            after = {inv.numInvoice: inv for inv in invoices(c, family, regie)}
            assert remaining(after[found[0].numInvoice]) == remaining(found[0]) - 3
            ack = pay(c, family, regie, "1.00", [found[0].numInvoice], ref="AGAIN")
        assert ack == "PAY-000002 OK"


def test_same_seed_same_data(tmp_path: Path) -> None:
    def answers(seed: int) -> list[bytes]:
        with Simulator(families=30, seed=seed, state_dir=tmp_path / str(seed)) as s:
            out = [post(s, "readFamily", f"<dossierNumber>{f}</dossierNumber>").content for f in (1313, 1330)]
            for family in (1313, 1325):
                for regie in s.data.regies_of(family):
                    out.append(post(s, "readInvoices", f"<numDossier>{family}</numDossier><codeRegie>{regie}"
                                    "</codeRegie><dateStart>2000-01-01T00:00:00+01:00</dateStart>"
                                    "<dateEnd>2099-01-01T00:00:00+01:00</dateEnd>").content)
            return out

    assert answers(7) == answers(7)
    assert answers(7) != answers(8)
    one, two = DemoData(seed=5, families=100, today=date(2024, 3, 1)), DemoData(seed=5, families=5000,
                                                                                 today=date(2024, 3, 1))
    assert all(one.family(n) == two.family(n) for n in range(1312, 1412))
    assert all(one.invoices(n, r) == two.invoices(n, r) for n in range(1312, 1340) for r in one.regies_of(n))


def test_a_city_sized_simulator(tmp_path: Path) -> None:
    start = time.monotonic()
    with Simulator(families=33_500, state_dir=tmp_path) as big:
        assert time.monotonic() - start < 3.0
        with client(big, "FamilyService") as c:
            assert c.service.readFamily(dossierNumber=1312 + 33_499).number == 34_811
            expect_fault(lambda: c.service.readFamily(dossierNumber=34_812), "E02")
            start = time.monotonic()
            found = c.service.readFamilyListFromFullName(fullname="martin")
            assert time.monotonic() - start < 0.5
            assert len(found) == 50
            start = time.monotonic()
            assert c.service.readFamilyListFromFullName(fullname="zzzz") == []
            assert time.monotonic() - start < 0.5


def test_run_simulator_prints_the_url_and_stops_on_sigint(tmp_path: Path) -> None:
    class Out:
        def __init__(self) -> None:
            self.lines: list[str] = []
            self.ready = threading.Event()

        def write(self, text: str) -> None:
            self.lines.extend(line for line in text.splitlines() if line)
            if len(self.lines) >= 2:
                self.ready.set()

        def flush(self) -> None:
            pass

    out = Out()
    seen: dict[str, int] = {}

    def drive() -> None:  # runs beside run_simulator, which owns the main thread
        try:
            if out.ready.wait(10):
                seen["wsdl"] = requests.get(f"{out.lines[0]}/FamilyService?wsdl", timeout=5).status_code
        finally:
            os.kill(os.getpid(), signal.SIGINT)

    driver = threading.Thread(target=drive)
    driver.start()
    code = run_simulator(port=0, families=20, state_dir=tmp_path, out=out)
    driver.join()
    assert code == 0
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+/maelisws-demo/services", out.lines[0])
    assert re.fullmatch(r"control: http://127\.0\.0\.1:\d+/_control", out.lines[1])
    assert seen == {"wsdl": 200}


def test_command_line_serves_until_sigterm(tmp_path: Path) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "maelis_desk.simulator.server", "--port", "0", "--families", "50",
         "--state-dir", str(tmp_path)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        url = process.stdout.readline().strip()
        control = process.stdout.readline().strip()
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+/maelisws-demo/services", url), url
        assert control.startswith("control: ")
        with zeep.Client(f"{url}/InvoiceService?wsdl", wsse=UsernameToken("demo", "demo")) as c:
            assert len(c.service.readRegieList()) == 9
        requests.post(control.split(" ", 1)[1], json={"latency": 0.01}, timeout=5).raise_for_status()
        process.terminate()
        assert process.wait(10) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        stderr = process.stderr.read()
        process.stdout.close()
        process.stderr.close()
    assert "Traceback" not in stderr, stderr
