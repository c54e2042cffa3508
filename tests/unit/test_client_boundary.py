"""The client's boundary (issue 8): redirects stay within the configured origin,
figures are checked before they become domain objects. `responses` + real envelopes."""

from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal

import pytest
import responses

from maelis_desk.maelis import MaelisClient, MaelisProtocolError
from soap_envelopes import BASE, envelope, invoice, wsdl

START = datetime(2023, 1, 1, tzinfo=timezone.utc)
END = datetime(2023, 12, 31, tzinfo=timezone.utc)


@pytest.fixture
def client(tmp_path):
    c = MaelisClient(BASE, "agent", "s3cret-P4ss", timeout=2, wsdl_dir=tmp_path / "wsdl")
    yield c
    c.close()


@pytest.fixture
def http():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


def _wsdls(http):
    for service in ("FamilyService", "InvoiceService"):
        http.get(f"{BASE}/{service}?wsdl", body=wsdl(service), content_type="text/xml")


@pytest.mark.parametrize("location", [
    "https://evil.test/maelisws-recette/services/InvoiceService",
    "http://maelis.test/maelisws-recette/services/InvoiceService",  # same host, other scheme
    "https://maelis.test:8443/maelisws-recette/services/InvoiceService",  # other port
])
def test_a_post_redirected_to_another_origin_is_refused_and_not_followed(http, client, location):
    _wsdls(http)
    http.post(f"{BASE}/InvoiceService", status=307, headers={"Location": location})
    with pytest.raises(MaelisProtocolError) as caught:
        client.read_invoices(1312, 102, START, END)
    assert location in caught.value.message and "https://maelis.test:443" in caught.value.message
    assert [c.request.method for c in http.calls].count("POST") == 1  # nothing sent to the Location


def test_a_wsdl_redirected_to_another_origin_is_refused(http, client):
    http.get(f"{BASE}/InvoiceService?wsdl", status=302, headers={"Location": "https://evil.test/x?wsdl"})
    with pytest.raises(MaelisProtocolError) as caught:
        client.read_regies()
    assert "evil.test" in caught.value.message and len(http.calls) == 1


def test_a_redirect_within_the_origin_is_followed_with_the_envelope(http, client):
    _wsdls(http)
    moved = BASE.replace("/services", "/v2/services") + "/InvoiceService"
    http.post(f"{BASE}/InvoiceService", status=308, headers={"Location": moved})
    http.post(moved, body=envelope("readInvoices", invoice()), content_type="text/xml")
    [inv] = client.read_invoices(1312, 102, START, END)
    assert inv.number == 8 and b"s3cret-P4ss" in http.calls[-1].request.body


def test_a_post_turned_into_a_get_by_303_is_refused(http, client):
    _wsdls(http)
    http.post(f"{BASE}/InvoiceService", status=303, headers={"Location": f"{BASE}/elsewhere"})
    with pytest.raises(MaelisProtocolError, match="303"):
        client.read_invoices(1312, 102, START, END)


def test_endless_redirects_stop(http, client):
    _wsdls(http)
    http.post(f"{BASE}/InvoiceService", status=307, headers={"Location": f"{BASE}/InvoiceService"})
    with pytest.raises(MaelisProtocolError, match="redirections"):
        client.read_invoices(1312, 102, START, END)


@pytest.mark.parametrize("field, value, why", [
    ("amountInvoice", "12.055", "décimales"),
    ("amountInvoice", "-28.98", "négatif"),
    ("amountPaid", "-1", "négatif"),
    ("amountInvoice", "12345678901234567890123456", "dépasse"),
    ("amountInvoice", "10000000.00", "dépasse"),
])
def test_impossible_invoice_figures_are_protocol_errors(http, client, field, value, why):
    _wsdls(http)
    http.post(f"{BASE}/InvoiceService", body=envelope("readInvoices", invoice(replace={field: value})),
              content_type="text/xml")
    with pytest.raises(MaelisProtocolError) as caught:
        client.read_invoices(1312, 102, START, END)
    assert why in caught.value.message and field in caught.value.message


def test_figures_within_the_rules_are_read_as_they_are(http, client):
    _wsdls(http)
    body = invoice(1, amount="12.050", paid="0", paid_tg="-0") + invoice(2, amount="9999999.99", paid="0.5")
    http.post(f"{BASE}/InvoiceService", body=envelope("readInvoices", body), content_type="text/xml")
    one, two = client.read_invoices(1312, 102, START, END)
    assert one.amount == Decimal("12.05") and two.amount == Decimal("9999999.99")


def test_a_line_may_be_a_reduction_but_not_a_third_decimal_of_cents(http, client):
    _wsdls(http)
    line = ("<lineInvoiceList><numLine>2</numLine><libelleLine>Réduction</libelleLine><quantity>1</quantity>"
            "<unitPrice>-{v}</unitPrice><amountLine>-{v}</amountLine></lineInvoiceList>")
    http.post(f"{BASE}/InvoiceService", body=envelope("readInvoices", invoice(extra=line.format(v="2.5"))),
              content_type="text/xml")
    [inv] = client.read_invoices(1312, 102, START, END)
    assert sorted(line.amount for line in inv.lines) == [Decimal("-2.5"), Decimal("28.98")]
    http.replace(responses.POST, f"{BASE}/InvoiceService",
                 body=envelope("readInvoices", invoice(extra=line.format(v="2.505"))), content_type="text/xml")
    with pytest.raises(MaelisProtocolError, match="amountLine"):
        client.read_invoices(1312, 102, START, END)
