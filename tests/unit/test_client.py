"""The SOAP client against `responses` serving envelopes shaped like the contract."""

from __future__ import annotations

import logging
from datetime import datetime, timezone
from decimal import Decimal

import pytest
import requests
import responses

from maelis_desk.domain import InvoiceStatus
from maelis_desk.maelis import (
    MaelisAuthError,
    MaelisClient,
    MaelisFault,
    MaelisProtocolError,
    MaelisUnavailable,
)
from soap_envelopes import BASE, envelope, family, fault, invoice, person, regie, wsdl

START = datetime(2023, 1, 1, tzinfo=timezone.utc)
END = datetime(2023, 12, 31, tzinfo=timezone.utc)


@pytest.fixture
def http():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        for service in ("FamilyService", "InvoiceService"):
            mock.get(f"{BASE}/{service}?wsdl", body=wsdl(service), content_type="text/xml")
        yield mock


@pytest.fixture
def client(tmp_path):
    c = MaelisClient(BASE, "agent", "s3cret-P4ss", timeout=2, wsdl_dir=tmp_path / "wsdl")
    yield c
    c.close()


def answer(http, service, operation, body, status=200, content_type="text/xml; charset=utf-8"):
    http.post(f"{BASE}/{service}", body=body, status=status, content_type=content_type)


# --- happy paths ---------------------------------------------------------------


def test_read_invoices_maps_the_contract_example(http, client):
    answer(http, "InvoiceService", "readInvoices", envelope("readInvoices", invoice()))
    [inv] = client.read_invoices(1312, 102, START, END)
    assert inv.number == 8 and inv.id == "F10055590008"
    assert inv.regie.code == 102 and inv.regie.label == "CANTINE / CLAE"
    assert inv.amount == Decimal("28.98") and isinstance(inv.amount, Decimal)
    assert inv.date.utcoffset().total_seconds() == 3600
    assert inv.deadline.isoformat() == "2023-03-31T00:00:00+02:00"
    assert inv.status is InvoiceStatus.TO_PAY and inv.remaining == Decimal("28.98")
    [line] = inv.lines
    assert line.person_name == "SIMPSON BART" and line.quantity == 7 and line.unit_price == Decimal("4.14")


def test_request_is_signed_and_shaped_like_the_contract(http, client):
    answer(http, "InvoiceService", "readInvoices", envelope("readInvoices", ""))
    client.read_invoices(1312, 102, START, END)
    sent = http.calls[-1].request.body.decode()
    assert "<numDossier>1312</numDossier>" in sent and "<codeRegie>102</codeRegie>" in sent
    assert "ws.maelis.sigec.com" in sent
    assert "UsernameToken" in sent and "#PasswordText" in sent and "s3cret-P4ss" in sent


def test_zero_returns_is_an_empty_list(http, client):
    answer(http, "InvoiceService", "readInvoices", envelope("readInvoices", ""))
    assert client.read_invoices(1312, 102, START, END) == []


def test_optional_fields_absent_or_nil(http, client):
    body = invoice(1, paid_tg=None, transmitted="nil") + invoice(
        2, paid_tg=None, transmitted=None, extra='<payer xsi:nil="true"/>'
    )
    answer(http, "InvoiceService", "readInvoices", envelope("readInvoices", body))
    first, second = client.read_invoices(1312, 102, START, END)
    assert first.paid_treasury == 0 and first.transmitted_at is None
    assert second.payer is None


def test_unknown_fields_are_ignored(http, client):
    body = invoice(extra="<futureField>42</futureField><another><deep>x</deep></another>")
    answer(http, "InvoiceService", "readInvoices", envelope("readInvoices", body))
    [inv] = client.read_invoices(1312, 102, START, END)
    assert inv.amount == Decimal("28.98")


def test_statuses_follow_the_contract(http, client):
    body = (
        invoice(1, amount="10", paid="10")
        + invoice(2, amount="10", paid="4", paid_tg="6")
        + invoice(3, amount="10", paid="0", transmitted="2023-06-01T00:00:00+02:00")
        + invoice(4, amount="10", paid="3")
    )
    answer(http, "InvoiceService", "readInvoices", envelope("readInvoices", body))
    statuses = [i.status.value for i in client.read_invoices(1312, 102, START, END)]
    assert statuses == ["paid", "paid", "transmitted", "to_pay"]


def test_read_family_and_search(http, client):
    answer(http, "FamilyService", "readFamily", envelope("readFamily", family(rl2=person(7, "BOUVIER", "Homer"))))
    fam = client.read_family(1312)
    assert fam.number == 1312 and fam.rl1.address.town == "Toulouse" and fam.rl2.firstname == "Homer"
    assert [c.firstname for c in fam.children] == ["Bart"] and fam.complete
    http.replace(
        responses.POST,
        f"{BASE}/FamilyService",
        body=envelope("readFamilyListFromFullName", family(1, children=0) + family(2, children=3)),
        content_type="text/xml",
    )
    found = client.search_families("simpson")
    assert [f.number for f in found] == [1, 2] and not found[0].complete


def test_regies_and_pdf_and_pay(http, client):
    answer(http, "InvoiceService", "readRegieList", envelope("readRegieList", f"<return>{regie()}</return>"))
    assert client.read_regies()[0].label == "CANTINE / CLAE"
    http.replace(responses.POST, f"{BASE}/InvoiceService",
                 body=envelope("getInvoicePDF", "<return>JVBERi0xLjQK</return>"), content_type="text/xml")
    assert client.invoice_pdf(102, 8).startswith(b"%PDF")
    http.replace(responses.POST, f"{BASE}/InvoiceService",
                 body=envelope("payInvoices", "<return>OK 123</return>"), content_type="text/xml")
    ack = client.pay_invoices(family=1312, regie=102, amount=Decimal("12.50"),
                              paid_at=datetime(2023, 3, 1, 10, tzinfo=timezone.utc), reference="MD-1", invoices=[8, 9])
    assert ack == "OK 123"
    sent = http.calls[-1].request.body.decode()
    assert "<amount>12.50</amount>" in sent and sent.count("<numInvoices>") == 2


def test_calls_go_to_the_configured_address_not_the_wsdl_one(http, client):
    # Our WSDLs declare http://localhost/...; the client must post to BASE.
    answer(http, "InvoiceService", "readRegieList", envelope("readRegieList", ""))
    client.read_regies()
    assert http.calls[-1].request.url == f"{BASE}/InvoiceService"


# --- faults ----------------------------------------------------------------------


@pytest.mark.parametrize("code", ["E02", "E05", "E06", "E10", "E11"])
def test_business_faults_are_typed(http, client, code):
    answer(http, "InvoiceService", "readInvoices", fault(f"{code} : quelque chose"), status=500)
    with pytest.raises(MaelisFault) as info:
        client.read_invoices(1312, 102, START, END)
    assert info.value.code == code and info.value.is_business and info.value.exit_code == 5
    assert code in str(info.value)


def test_security_fault_is_an_auth_error(http, client):
    answer(http, "InvoiceService", "readRegieList", fault("Security : UsernameToken invalide"), status=500)
    with pytest.raises(MaelisAuthError) as info:
        client.read_regies()
    assert "mot de passe" in str(info.value) and info.value.exit_code == 4


def test_other_fault_is_a_server_error(http, client):
    answer(http, "InvoiceService", "readRegieList", fault("java.lang.NullPointerException"), status=500)
    with pytest.raises(MaelisFault) as info:
        client.read_regies()
    assert info.value.code is None and not info.value.is_business
    assert "NullPointerException" in str(info.value)


# --- broken answers ------------------------------------------------------------


@pytest.mark.parametrize(
    "body,status,content_type,expected",
    [
        ("<html><body><h1>HTTP Status 500</h1></body></html>", 500, "text/html", "page HTML"),
        ("<!DOCTYPE html><html></html>", 200, "text/html", "page HTML"),
        ("Internal error: \x00 not xml at all", 200, "text/xml", "illisible"),
        (envelope("readRegieList", f"<return>{regie()}</return>")[:150], 200, "text/xml", "illisible"),
        ("", 200, "text/xml", "vide"),
        ("<hello/>", 404, "text/xml", "HTTP 404"),
    ],
)
def test_broken_bodies_are_protocol_errors(http, client, body, status, content_type, expected):
    answer(http, "InvoiceService", "readRegieList", body, status=status, content_type=content_type)
    with pytest.raises(MaelisProtocolError) as info:
        client.read_regies()
    assert expected in str(info.value) and info.value.exit_code == 6


def test_proxy_503_is_unavailable(http, client):
    answer(http, "InvoiceService", "readRegieList", "<html>Service Unavailable</html>", status=503,
           content_type="text/html")
    with pytest.raises(MaelisUnavailable):
        client.read_regies()


def test_dtd_and_entities_are_refused_not_expanded(http, client):
    hostile = (
        '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;">]>'
        + envelope("readRegieList", "<return><code>1</code><libelle>&lol2;</libelle></return>").split("?>", 1)[1]
    )
    answer(http, "InvoiceService", "readRegieList", hostile)
    with pytest.raises(MaelisProtocolError) as info:
        client.read_regies()
    assert "DTD" in str(info.value)


def test_external_entity_is_refused(http, client):
    xxe = '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>' + envelope(
        "readRegieList", "<return><code>1</code><libelle>&x;</libelle></return>"
    ).split("?>", 1)[1]
    answer(http, "InvoiceService", "readRegieList", xxe)
    with pytest.raises(MaelisProtocolError):
        client.read_regies()


@pytest.mark.parametrize("field", ["numInvoice", "amountInvoice", "amountPaid", "dateInvoice", "regie", "idInvoice"])
def test_missing_required_field(http, client, field):
    answer(http, "InvoiceService", "readInvoices", envelope("readInvoices", invoice(drop=(field,))))
    with pytest.raises(MaelisProtocolError) as info:
        client.read_invoices(1312, 102, START, END)
    assert field in str(info.value)


@pytest.mark.parametrize(
    "field,value",
    [("amountInvoice", "douze"), ("amountPaid", "1,5"), ("numInvoice", "huit"), ("dateInvoice", "hier")],
)
def test_wrong_type_is_a_protocol_error(http, client, field, value):
    answer(http, "InvoiceService", "readInvoices", envelope("readInvoices", invoice(replace={field: value})))
    with pytest.raises(MaelisProtocolError):
        client.read_invoices(1312, 102, START, END)


def test_wrong_type_in_optional_field_is_not_a_silent_zero(http, client):
    answer(http, "InvoiceService", "readInvoices", envelope("readInvoices", invoice(paid_tg="beaucoup")))
    with pytest.raises(MaelisProtocolError):
        client.read_invoices(1312, 102, START, END)


def test_not_a_pdf(http, client):
    answer(http, "InvoiceService", "getInvoicePDF", envelope("getInvoicePDF", "<return>aGVsbG8=</return>"))
    with pytest.raises(MaelisProtocolError):
        client.invoice_pdf(102, 8)


# --- the network -----------------------------------------------------------------


def test_connection_refused_is_unavailable_and_not_sent(http, client):
    http.post(f"{BASE}/InvoiceService", body=requests.ConnectionError("Failed to establish a new connection: [Errno 111] Connection refused"))
    with pytest.raises(MaelisUnavailable) as info:
        client.read_regies()
    assert not info.value.request_sent and info.value.exit_code == 3


def test_read_timeout_may_have_been_sent(http, client):
    http.post(f"{BASE}/InvoiceService", body=requests.ReadTimeout("read timed out"))
    with pytest.raises(MaelisUnavailable) as info:
        client.read_regies()
    assert info.value.request_sent and "délai" in str(info.value)


def test_connection_dropped_after_sending(http, client):
    http.post(f"{BASE}/InvoiceService", body=requests.ConnectionError("RemoteDisconnected('Remote end closed connection without response')"))
    with pytest.raises(MaelisUnavailable) as info:
        client.read_regies()
    assert info.value.request_sent


def test_wsdl_copy_on_disk_serves_when_maelis_is_down(tmp_path):
    with responses.RequestsMock() as http:
        http.get(f"{BASE}/InvoiceService?wsdl", body=wsdl("InvoiceService"), content_type="text/xml")
        http.post(f"{BASE}/InvoiceService", body=envelope("readRegieList", ""), content_type="text/xml")
        first = MaelisClient(BASE, "a", "b", wsdl_dir=tmp_path)
        first.read_regies()
        first.close()
    with responses.RequestsMock() as http:
        http.get(f"{BASE}/InvoiceService?wsdl", body=requests.ConnectionError("Connection refused"))
        http.post(f"{BASE}/InvoiceService", body=envelope("readRegieList", f"<return>{regie()}</return>"),
                  content_type="text/xml")
        second = MaelisClient(BASE, "a", "b", wsdl_dir=tmp_path)
        assert second.read_regies()[0].code == 102
        assert second.transport.wait_refreshed(5)  # the refresh failed, the copy stays
        assert len(list(tmp_path.glob("*.wsdl"))) == 1
        second.close()


def test_no_wsdl_and_no_copy_is_unavailable(tmp_path):
    with responses.RequestsMock() as http:
        http.get(f"{BASE}/InvoiceService?wsdl", body=requests.ConnectionError("Connection refused"))
        c = MaelisClient(BASE, "a", "b", wsdl_dir=tmp_path)
        with pytest.raises(MaelisUnavailable):
            c.read_regies()
        c.close()


def test_password_never_logged(http, client, caplog):
    caplog.set_level(logging.DEBUG)
    answer(http, "InvoiceService", "readRegieList", envelope("readRegieList", f"<return>{regie()}</return>"))
    client.read_regies()
    answer(http, "InvoiceService", "readRegieList", fault("Security : refusé"), status=500)
    with pytest.raises(MaelisAuthError):
        client.read_regies()
    assert caplog.records, "debug logging was expected to say something"
    assert all("s3cret-P4ss" not in r.getMessage() for r in caplog.records)
    assert "s3cret-P4ss" not in repr(client)


def test_an_answer_of_too_many_elements_is_refused_before_zeep(http, client, monkeypatch):
    from maelis_desk.maelis import transport
    monkeypatch.setattr(transport, "MAX_ELEMENTS", 100)
    answer(http, "InvoiceService", "readInvoices",
           envelope("readInvoices", "".join(invoice(i + 1) for i in range(5))))  # 110 elements
    with pytest.raises(MaelisProtocolError) as info:
        client.read_invoices(1312, 102, START, END)
    assert "trop volumineuse" in info.value.message and "100 éléments XML" in info.value.message
    assert info.value.exit_code == 6
    answer(http, "InvoiceService", "readInvoices",
           envelope("readInvoices", "".join(invoice(i + 1) for i in range(4))))  # 89: read
    assert len(client.read_invoices(1312, 102, START, END)) == 4


def test_the_streaming_check_still_refuses_dtds_and_broken_xml():
    from maelis_desk.maelis.transport import check_answer
    with pytest.raises(MaelisProtocolError, match="DTD"):
        check_answer(b'<?xml version="1.0"?><!DOCTYPE a [<!ELEMENT a ANY>]><a/>', what="t")
    with pytest.raises(MaelisProtocolError, match="illisible"):
        check_answer(b"<a><b></a>", what="t")
    with pytest.raises(MaelisProtocolError, match="HTML"):
        check_answer(b"<html><body>500</body></html>", what="t")
    check_answer(b"<a>" + b"x" * 5_000_000 + b"</a>", what="t")  # one big text (a PDF) is no element flood
