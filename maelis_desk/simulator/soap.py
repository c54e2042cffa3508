"""The demo Maelis' WSGI application: SOAP 1.1 over HTTP, as the contract says.

Routes (``ROOT`` is ``/maelisws-demo``)::

    GET  ROOT/services/FamilyService?wsdl    the WSDL, soap:address rewritten
    GET  ROOT/services/InvoiceService?wsdl   to the address the client used
    POST ROOT/services/FamilyService         readFamily, readFamilyListFromFullName
    POST ROOT/services/InvoiceService        readRegieList, readInvoices,
                                             getInvoicePDF, payInvoices
    *    ROOT/_control...                    handed to the server's control app
    anything else                            404

A SOAP request goes through:

1. the fault mode, if any (:data:`FAULT_MODES`): ``html500`` and ``garbage``
   answer at once, as a broken proxy in front of Maelis would (nothing is
   executed); ``down`` is the server's business (closed socket);
2. a hardened parse (no DTD, no entities, no network, size limit) of a SOAP
   1.1 envelope; anything else is a ``soap:Client`` fault;
3. the WS-Security ``UsernameToken`` check (``PasswordText``, and
   ``PasswordDigest`` too); a failure is a fault whose faultstring contains
   ``Security``;
4. the operation (first child of ``soap:Body``, namespace
   ``ws.maelis.sigec.com``, unqualified parameters); business errors are
   ``soap:Server`` faults whose faultstring starts with the contract's code
   (``E02 : ...``);
5. the latency (``Knobs.latency``, or 30 s in ``slow`` mode when no latency is
   set), *after* executing the operation: a payment that times out on the
   client's side was applied all the same, as the contract warns;
6. ``truncated`` mode cuts the answer in the middle (HTTP 200, the operation
   was executed); ``lost`` mode drops the connection instead of answering a
   ``payInvoices`` (the payment was applied): the app raises
   :class:`AbortConnection` and the server closes the socket; ``dropped``
   mode loses a ``payInvoices`` inside Maelis: never applied, the connection
   closed after the latency;
7. ``Knobs.apply_delay``: Maelis works that long on a ``payInvoices`` before
   applying it and answering, whether or not the client still waits (a
   back-end that keeps working after its client gave up: the contract's
   "applied late").

Optional fields are sometimes omitted and sometimes sent ``xsi:nil="true"``,
by family number parity (odd: nil, even: omitted), so clients meet both.
Decimals are sent in their shortest form (``12.5``, ``0``, ``28.98``),
dateTimes with the Paris offset (``2023-02-24T00:00:00+01:00``).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import re
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, timezone
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Protocol

from lxml import etree

from .data import (
    Child,
    DemoData,
    Family,
    Invoice,
    Person,
    Regie,
    paris_datetime,
    paris_offset,
    with_ledger,
)

__all__ = [
    "FAULT_MODES",
    "NS",
    "ROOT",
    "SERVICES",
    "AbortConnection",
    "Knobs",
    "LedgerProtocol",
    "MaelisApp",
    "SoapFault",
]

log = logging.getLogger("maelis_desk.simulator")

NS = "ws.maelis.sigec.com"
SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
SOAP12_ENV = "http://www.w3.org/2003/05/soap-envelope"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
WSU = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"
_TOKEN_PROFILE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0"
PASSWORD_TEXT = _TOKEN_PROFILE + "#PasswordText"
PASSWORD_DIGEST = _TOKEN_PROFILE + "#PasswordDigest"
WSDL_SOAP = "http://schemas.xmlsoap.org/wsdl/soap/"

ROOT = "/maelisws-demo"
SERVICES = ROOT + "/services"
CONTROL = ROOT + "/_control"

REDIRECT_MODES = ("redirect307", "redirect308")
"""SOAP POSTs answered by a redirect to ``Knobs.redirect_to`` (another server)."""

FIGURE_MODES = {
    "odd_cents": ("amountInvoice", "12.055"),
    "negative_paid": ("amountPaid", "-15.5"),
    "negative_invoice": ("amountInvoice", "-28.98"),
    "huge_amount": ("amountInvoice", "12345678901234567890123456"),
}
"""``readInvoices`` answers with this figure in the first invoice it lists (operation run normally)."""

FAULT_MODES = ("slow", "down", "html500", "garbage", "truncated", "lost", "dropped") + REDIRECT_MODES + tuple(FIGURE_MODES)
"""Fault modes of the simulator; see the module docstring of ``server``."""

SLOW_DEFAULT = 30.0
"""Delay of ``slow`` mode when no latency is set, in seconds."""

MAX_BODY = 2 * 1024 * 1024
SECURITY_MESSAGE = "Security : authentification refusée (UsernameToken invalide)"
MAX_SEARCH_RESULTS = 50

_WSDL_DIR = Path(__file__).with_name("wsdl")
_HOST_RE = re.compile(r"^[A-Za-z0-9.\-]+(:\d{1,5})?$|^\[[0-9A-Fa-f:.]+\](:\d{1,5})?$")
_INT_RE = re.compile(r"^[+-]?\d{1,10}$")
_DECIMAL_RE = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)$")
_XSI_NIL = f"{{{XSI}}}nil"
_CENT = Decimal("0.01")

_PARSER = etree.XMLParser(
    resolve_entities=False,
    no_network=True,
    load_dtd=False,
    dtd_validation=False,
    huge_tree=False,
    remove_comments=True,
    remove_pis=True,
)

_HTML_500 = """<!doctype html><html lang="en"><head><title>HTTP Status 500 – Internal Server Error</title>
<style type="text/css">body {font-family:Tahoma,Arial,sans-serif;} h1 {color:white;background-color:#525D76;}</style>
</head><body><h1>HTTP Status 500 – Internal Server Error</h1><hr class="line" />
<p><b>Type</b> Exception Report</p>
<p><b>Message</b> Request processing failed; nested exception is java.lang.IllegalStateException:
Connection pool exhausted (maelis-ds)</p>
<p><b>Description</b> The server encountered an unexpected condition that prevented it from fulfilling
the request.</p><hr class="line" /><h3>Apache Tomcat/9.0.83</h3></body></html>
""".encode()

_GARBAGE = (
    b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03 ERR#5031 upstream reset ]]>>> "
    b"\xff\xfe\x00garbage \x00\x01\x02 this is not XML at all {\"oops\": true}\n"
)


class AbortConnection(Exception):
    """Raised by the app: the server must close the connection without answering."""


class SoapFault(Exception):
    """A SOAP fault to answer (HTTP 500)."""

    def __init__(self, message: str, code: str = "soap:Server", business: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.business = business


def _business(code: str, message: str) -> SoapFault:
    return SoapFault(f"{code} : {message}", business=True)


def _client(message: str) -> SoapFault:
    return SoapFault(message, code="soap:Client")


@dataclass
class Knobs:
    """What the server can turn while running (read on every request)."""

    fault: str | None = None
    latency: float = 0.0
    #: origin the redirect modes send clients to (``http://127.0.0.1:<port>``); None: the control socket
    redirect_to: str | None = None
    #: seconds Maelis works on a payInvoices before applying it (and answering)
    apply_delay: float = 0.0

    def delay(self) -> float:
        if self.latency > 0:
            return self.latency
        return SLOW_DEFAULT if self.fault == "slow" else 0.0


class LedgerProtocol(Protocol):
    """The payments ledger as the app needs it (implemented in ``server``)."""

    lock: threading.RLock

    def applied(self, family: int, regie: int) -> dict[int, Decimal]:
        """Amounts the ledger applied to the family's invoices of a régie, by invoice number."""

    def record(self, *, ref: str, family: int, regie: int, amount: Decimal, date: str,
               invoices: list[int], allocations: list[tuple[int, Decimal]]) -> int:
        """Persist a payment; returns its sequence number."""


# --------------------------------------------------------------------------
# Serialisation helpers.
# --------------------------------------------------------------------------

def format_decimal(value: Decimal) -> str:
    """Shortest plain form: ``Decimal("12.50")`` → ``"12.5"``, zero → ``"0"``."""
    text = format(value.normalize(), "f")
    return "0" if text in ("-0", "0") else text


def format_datetime(value: date | datetime) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    return paris_datetime(value).isoformat()


class _Writer:
    """Builds unqualified children; ``nil`` decides how absent optionals look."""

    def __init__(self, nil: bool) -> None:
        self.nil = nil

    @staticmethod
    def add(parent: etree._Element, name: str, text: str | None = None) -> etree._Element:
        element = etree.SubElement(parent, name)
        if text is not None:
            element.text = text
        return element

    def absent(self, parent: etree._Element, name: str) -> None:
        if self.nil:
            etree.SubElement(parent, name).set(_XSI_NIL, "true")

    def optional(self, parent: etree._Element, name: str, text: str | None) -> None:
        if text is None:
            self.absent(parent, name)
        else:
            self.add(parent, name, text)

    def birth(self, parent: etree._Element, born: date | None) -> None:
        if born is None:
            self.absent(parent, "birth")
        else:
            self.add(self.add(parent, "birth"), "dateBirth", format_datetime(born))

    def person(self, parent: etree._Element, name: str, person: Person | None) -> None:
        if person is None:
            self.absent(parent, name)
            return
        element = self.add(parent, name)
        self.add(element, "num", str(person.num))
        self.add(element, "lastname", person.lastname)
        self.add(element, "firstname", person.firstname)
        self.optional(element, "civility", person.civility)
        self.birth(element, person.birth)
        if person.address is None:
            self.absent(element, "adresse")
        else:
            address = self.add(element, "adresse")
            self.optional(address, "num", person.address.num)
            self.add(address, "street1", person.address.street1)
            self.add(address, "zipcode", person.address.zipcode)
            self.add(address, "town", person.address.town)
        if person.contact is None:
            self.absent(element, "contact")
        else:
            contact = self.add(element, "contact")
            self.optional(contact, "phone", person.contact.phone)
            self.optional(contact, "mobile", person.contact.mobile)
            self.optional(contact, "mail", person.contact.mail)

    def child(self, parent: etree._Element, child: Child) -> None:
        element = self.add(parent, "childList")
        self.add(element, "num", str(child.num))
        self.add(element, "lastname", child.lastname)
        self.add(element, "firstname", child.firstname)
        self.optional(element, "sexe", child.sexe)
        self.birth(element, child.birth)

    def family(self, parent: etree._Element, family: Family, summary: bool) -> None:
        element = self.add(parent, "return")
        self.add(element, "number", str(family.number))
        if not summary:
            self.optional(element, "category", family.category)
            self.optional(element, "situation", family.situation)
        self.person(element, "RL1", family.rl1)
        self.person(element, "RL2", family.rl2)
        for child in family.children:
            self.child(element, child)

    @staticmethod
    def regie(parent: etree._Element, name: str, regie: Regie) -> None:
        element = etree.SubElement(parent, name)
        etree.SubElement(element, "code").text = str(regie.code)
        etree.SubElement(element, "libelle").text = regie.libelle

    def invoice(self, parent: etree._Element, invoice: Invoice) -> None:
        add = self.add
        element = add(parent, "return")
        add(element, "numInvoice", str(invoice.num))
        add(element, "idInvoice", invoice.id)
        add(element, "libelleTTF", invoice.libelle)
        self.regie(element, "regie", invoice.regie)
        add(element, "numFamily", str(invoice.family))
        add(element, "name", invoice.name)
        add(element, "dateInvoice", format_datetime(invoice.date_invoice))
        add(element, "dateDeadline", format_datetime(invoice.date_deadline))
        add(element, "amountInvoice", format_decimal(invoice.amount))
        add(element, "amountPaid", format_decimal(invoice.paid))
        if invoice.paid_tg:
            add(element, "amountPaidTG", format_decimal(invoice.paid_tg))
        elif invoice.family % 3 == 0:
            add(element, "amountPaidTG", "0")  # as in the contract's example
        elif invoice.family % 3 == 2:
            etree.SubElement(element, "amountPaidTG").set(_XSI_NIL, "true")
        # family % 3 == 1: omitted ("absent means 0")
        if invoice.date_transmission is None:
            self.absent(element, "dateTransmissionPES")
        else:
            add(element, "dateTransmissionPES", format_datetime(invoice.date_transmission))
        self.person(element, "payer", invoice.payer)
        for line in invoice.lines:
            item = add(element, "lineInvoiceList")
            add(item, "numLine", str(line.num_line))
            self.optional(item, "numPers", None if line.num_pers is None else str(line.num_pers))
            self.optional(item, "name", line.name)
            add(item, "libelleLine", line.libelle)
            self.optional(item, "dateStart", None if line.date_start is None else format_datetime(line.date_start))
            self.optional(item, "dateEnd", None if line.date_end is None else format_datetime(line.date_end))
            add(item, "quantity", format_decimal(line.quantity))
            add(item, "unitPrice", format_decimal(line.unit_price))
            add(item, "amountLine", format_decimal(line.amount))


def _envelope() -> tuple[etree._Element, etree._Element]:
    envelope = etree.Element(f"{{{SOAP_ENV}}}Envelope", nsmap={"soap": SOAP_ENV, "xsi": XSI})
    body = etree.SubElement(envelope, f"{{{SOAP_ENV}}}Body")
    return envelope, body


def _serialize(envelope: etree._Element) -> bytes:
    return etree.tostring(envelope, xml_declaration=True, encoding="UTF-8")


def fault_envelope(fault: SoapFault) -> bytes:
    nsmap = {"soap": SOAP_ENV}
    if fault.code.startswith("wsse:"):
        nsmap["wsse"] = WSSE
    envelope = etree.Element(f"{{{SOAP_ENV}}}Envelope", nsmap=nsmap)
    body = etree.SubElement(envelope, f"{{{SOAP_ENV}}}Body")
    element = etree.SubElement(body, f"{{{SOAP_ENV}}}Fault")
    etree.SubElement(element, "faultcode").text = fault.code
    etree.SubElement(element, "faultstring").text = fault.message
    if fault.business:
        detail = etree.SubElement(element, "detail")
        maelis = etree.SubElement(detail, f"{{{NS}}}MaelisFault", nsmap={"ns2": NS})
        etree.SubElement(maelis, "message").text = fault.message
    return _serialize(envelope)


# --------------------------------------------------------------------------
# Request parsing helpers.
# --------------------------------------------------------------------------

def parse_envelope(payload: bytes) -> etree._Element:
    """The request's envelope; refuses DTDs, entities and non-SOAP-1.1 documents."""
    if b"<!DOCTYPE" in payload.upper() or b"<!ENTITY" in payload.upper():
        raise _client("Requête refusée : DOCTYPE interdit")
    try:
        root = etree.fromstring(payload, _PARSER)
    except etree.XMLSyntaxError as exc:
        raise _client(f"Requête illisible : XML mal formé ({exc})") from None
    if root.getroottree().docinfo.doctype:
        raise _client("Requête refusée : DOCTYPE interdit")
    if root.tag == f"{{{SOAP12_ENV}}}Envelope":
        raise SoapFault("SOAP 1.2 non supporté : ce service parle SOAP 1.1", code="soap:VersionMismatch")
    if root.tag != f"{{{SOAP_ENV}}}Envelope":
        raise _client("Requête invalide : enveloppe SOAP 1.1 attendue")
    return root


def _elements(parent: etree._Element) -> list[etree._Element]:
    return [child for child in parent if isinstance(child.tag, str)]


class _Params:
    """Unqualified parameters of an operation element, typed on access."""

    def __init__(self, operation: etree._Element) -> None:
        self.values: dict[str, list[etree._Element]] = {}
        for child in _elements(operation):
            self.values.setdefault(child.tag, []).append(child)  # qualified tags won't match

    def _texts(self, name: str) -> list[str]:
        found = [e for e in self.values.get(name, []) if e.get(_XSI_NIL) not in ("true", "1")]
        return [(e.text or "").strip() for e in found]

    def _one(self, name: str) -> str:
        texts = self._texts(name)
        if not texts:
            raise _client(f"Paramètre manquant : {name}")
        return texts[0]

    @staticmethod
    def _int(name: str, text: str) -> int:
        if not _INT_RE.match(text) or not -(2**31) <= int(text) < 2**31:
            raise _client(f"Paramètre invalide : {name} = {text!r} (xs:int attendu)")
        return int(text)

    def int(self, name: str) -> int:
        return self._int(name, self._one(name))

    def ints(self, name: str) -> list[int]:
        texts = self._texts(name)
        if not texts:
            raise _client(f"Paramètre manquant : {name}")
        return [self._int(name, text) for text in texts]

    def string(self, name: str) -> str:
        return self._one(name)

    def decimal(self, name: str) -> Decimal:
        text = self._one(name)
        try:
            if not _DECIMAL_RE.match(text):
                raise InvalidOperation
            return Decimal(text)
        except InvalidOperation:
            raise _client(f"Paramètre invalide : {name} = {text!r} (xs:decimal attendu)") from None

    def datetime(self, name: str) -> datetime:
        text = self._one(name)
        try:
            value = datetime.fromisoformat(text)
        except ValueError:
            raise _client(f"Paramètre invalide : {name} = {text!r} (xs:dateTime attendu)") from None
        if value.tzinfo is None:  # no offset: Maelis reads it as Paris time
            value = value.replace(tzinfo=timezone(paris_offset(value)))
        return value


# --------------------------------------------------------------------------
# The application.
# --------------------------------------------------------------------------

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class MaelisApp:
    """The WSGI application of the demo Maelis.

    ``wait(seconds)`` sleeps and returns False if the server is stopping (the
    request is then dropped); ``control`` is the WSGI app answering
    ``ROOT/_control...``; ``base_url`` is used in the WSDLs when the request
    has no usable ``Host`` header.
    """

    def __init__(self, data: DemoData, ledger: LedgerProtocol, *, user: str, password: str,
                 knobs: Knobs, wait: Callable[[float], bool], control: WSGIApp | None = None,
                 base_url: str = "http://127.0.0.1") -> None:
        self.data = data
        self.ledger = ledger
        self.user = user
        self.password = password
        self.knobs = knobs
        self.wait = wait
        self.control = control
        self.base_url = base_url
        self._wsdl_sources = {
            name: etree.parse(str(_WSDL_DIR / f"{name}.wsdl"), etree.XMLParser(resolve_entities=False))
            for name in ("FamilyService", "InvoiceService")
        }
        self._wsdl_cache: dict[tuple[str, str], bytes] = {}
        self._wsdl_lock = threading.Lock()
        self.operations: dict[str, dict[str, Callable[[_Params], bytes]]] = {
            "FamilyService": {
                "readFamily": self.read_family,
                "readFamilyListFromFullName": self.read_family_list,
            },
            "InvoiceService": {
                "readRegieList": self.read_regie_list,
                "readInvoices": self.read_invoices,
                "getInvoicePDF": self.get_invoice_pdf,
                "payInvoices": self.pay_invoices,
            },
        }

    # ---- WSGI --------------------------------------------------------------

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        method = environ.get("REQUEST_METHOD", "GET")
        if path == CONTROL or path.startswith(CONTROL + "/"):
            if self.control is None:
                return _plain(start_response, "404 Not Found", "Not Found")
            environ["maelis.via_main"] = True
            return self.control(environ, start_response)
        service = path[len(SERVICES) + 1:] if path.startswith(SERVICES + "/") else None
        if service not in self.operations:
            return _plain(start_response, "404 Not Found", "Not Found")
        if method in ("GET", "HEAD"):
            if environ.get("QUERY_STRING", "").lower().split("&")[0].split("=")[0] == "wsdl":
                body = self._wsdl(service, self._base(environ))
                return _respond(start_response, "200 OK", "text/xml; charset=utf-8", body,
                                head=method == "HEAD")
            return _plain(start_response, "404 Not Found", "Not Found")
        if method != "POST":
            return _plain(start_response, "405 Method Not Allowed", "Method Not Allowed",
                          extra=[("Allow", "GET, POST")])
        return self._soap_post(service, environ, start_response)

    def _base(self, environ: dict[str, Any]) -> str:
        host = environ.get("HTTP_HOST", "")
        if host and _HOST_RE.match(host):
            return f"{environ.get('wsgi.url_scheme', 'http')}://{host}{SERVICES}"
        return self.base_url.rstrip("/") + SERVICES

    def _wsdl(self, service: str, base: str) -> bytes:
        key = (service, base)
        with self._wsdl_lock:
            cached = self._wsdl_cache.get(key)
            if cached is None:
                tree = self._wsdl_sources[service]
                document = etree.fromstring(etree.tostring(tree))
                for address in document.iter(f"{{{WSDL_SOAP}}}address"):
                    address.set("location", f"{base}/{service}")
                cached = etree.tostring(document, xml_declaration=True, encoding="UTF-8")
                if len(self._wsdl_cache) < 64:
                    self._wsdl_cache[key] = cached
            return cached

    def _soap_post(self, service: str, environ: dict[str, Any],
                   start_response: Callable[..., Any]) -> Iterable[bytes]:
        try:
            length = int(environ.get("CONTENT_LENGTH") or "-1")
        except ValueError:
            length = -1
        if length < 0:
            return _plain(start_response, "411 Length Required", "Length Required")
        if length > MAX_BODY:
            return _plain(start_response, "413 Payload Too Large", "Payload Too Large")
        payload = environ["wsgi.input"].read(length) if length else b""

        fault_mode = self.knobs.fault  # the mode when the request arrived rules it
        if fault_mode in REDIRECT_MODES:
            # As a misconfigured proxy or load balancer would: nothing executed here.
            target = (self.knobs.redirect_to or self.base_url).rstrip("/") + environ.get("PATH_INFO", "")
            status = "307 Temporary Redirect" if fault_mode == "redirect307" else "308 Permanent Redirect"
            return _respond(start_response, status, "text/plain; charset=utf-8", b"moved\n",
                            extra=[("Location", target)])
        if fault_mode in ("html500", "garbage"):
            self._sleep(self.knobs.delay())
            if fault_mode == "html500":
                return _respond(start_response, "500 Internal Server Error", "text/html;charset=utf-8", _HTML_500)
            return _respond(start_response, "200 OK", "text/xml;charset=utf-8", _GARBAGE)

        operation, status, body = self.handle_soap(service, payload)
        self._sleep(self.knobs.delay())
        if fault_mode == "lost" and operation == "payInvoices":
            log.info("fault mode 'lost': dropping the answer to payInvoices")
            raise AbortConnection
        if fault_mode == "truncated":
            cut = min(max(len(body) // 2, body.find(b"<soap:Body>") + 20), len(body) - 8)
            return _respond(start_response, "200 OK", "text/xml; charset=utf-8", body[:cut])
        return _respond(start_response, status, "text/xml; charset=utf-8", body)

    def _sleep(self, seconds: float) -> None:
        if seconds > 0 and not self.wait(seconds):
            raise AbortConnection  # the server is stopping

    # ---- SOAP --------------------------------------------------------------

    def handle_soap(self, service: str, payload: bytes) -> tuple[str | None, str, bytes]:
        """Execute one SOAP request: (operation name or None, HTTP status, body)."""
        operation = None
        try:
            envelope = parse_envelope(payload)
            body = envelope.find(f"{{{SOAP_ENV}}}Body")
            children = _elements(body) if body is not None else []
            if not children:
                raise _client("Requête invalide : soap:Body vide")
            self._check_security(envelope)
            element = children[0]
            qname = etree.QName(element)
            operation = qname.localname
            handler = self.operations[service].get(operation) if qname.namespace == NS else None
            if handler is None:
                label = operation if qname.namespace == NS else element.tag
                raise SoapFault(f"Opération inconnue : {label}")
            response = handler(_Params(element))
            log.debug("%s.%s OK", service, operation)
            return operation, "200 OK", response
        except AbortConnection:
            raise
        except SoapFault as fault:
            log.info("%s.%s fault: %s", service, operation, fault.message)
            return operation, "500 Internal Server Error", fault_envelope(fault)
        except Exception as exc:  # a bug here must still look like Maelis
            log.exception("%s.%s failed", service, operation)
            fault = SoapFault(f"Erreur interne du serveur : {type(exc).__name__}")
            return operation, "500 Internal Server Error", fault_envelope(fault)

    def _check_security(self, envelope: etree._Element) -> None:
        header = envelope.find(f"{{{SOAP_ENV}}}Header")
        security = header.find(f"{{{WSSE}}}Security") if header is not None else None
        token = security.find(f"{{{WSSE}}}UsernameToken") if security is not None else None
        if token is None or not self._token_ok(token):
            raise SoapFault(SECURITY_MESSAGE, code="wsse:FailedAuthentication")

    def _token_ok(self, token: etree._Element) -> bool:
        username = (token.findtext(f"{{{WSSE}}}Username") or "").strip()
        password = token.find(f"{{{WSSE}}}Password")
        if password is None:
            return False
        kind = password.get("Type", PASSWORD_TEXT)
        given = (password.text or "").encode()
        if kind == PASSWORD_TEXT:
            expected = self.password.encode()
        elif kind == PASSWORD_DIGEST:
            try:
                nonce = base64.b64decode(token.findtext(f"{{{WSSE}}}Nonce") or "", validate=True)
            except ValueError:
                return False
            created = (token.findtext(f"{{{WSU}}}Created") or "").encode()
            expected = base64.b64encode(hashlib.sha1(nonce + created + self.password.encode()).digest())
        else:
            return False
        user_ok = hmac.compare_digest(username.encode(), self.user.encode())
        return hmac.compare_digest(given, expected) and user_ok

    @staticmethod
    def _response(operation: str) -> tuple[etree._Element, etree._Element]:
        envelope, body = _envelope()
        response = etree.SubElement(body, f"{{{NS}}}{operation}Response", nsmap={"ns2": NS})
        return envelope, response

    # ---- FamilyService -----------------------------------------------------

    def _family(self, number: int) -> Family:
        family = self.data.family(number)
        if family is None:
            raise _business("E02", f"Dossier famille {number} inconnu")
        return family

    def read_family(self, params: _Params) -> bytes:
        family = self._family(params.int("dossierNumber"))
        envelope, response = self._response("readFamily")
        _Writer(nil=family.number % 2 == 1).family(response, family, summary=False)
        return _serialize(envelope)

    def read_family_list(self, params: _Params) -> bytes:
        numbers = self.data.search(params.string("fullname"), limit=MAX_SEARCH_RESULTS)
        envelope, response = self._response("readFamilyListFromFullName")
        for number in numbers:
            family = self._family(number)
            _Writer(nil=number % 2 == 1).family(response, family, summary=True)
        return _serialize(envelope)

    # ---- InvoiceService ----------------------------------------------------

    def _regie(self, code: int) -> Regie:
        regie = self.data.regie(code)
        if regie is None:
            raise _business("E05", f"Régie {code} inconnue")
        return regie

    def _invoices(self, family: int, regie: int) -> list[Invoice]:
        """The family's invoices of a régie with the ledger's payments applied."""
        applied = self.ledger.applied(family, regie)
        return [with_ledger(inv, applied.get(inv.num, Decimal(0))) for inv in self.data.invoices(family, regie)]

    def read_regie_list(self, params: _Params) -> bytes:
        envelope, response = self._response("readRegieList")
        for regie in self.data.regies:
            _Writer.regie(response, "return", regie)
        return _serialize(envelope)

    def read_invoices(self, params: _Params) -> bytes:
        number = params.int("numDossier")
        code = params.int("codeRegie")
        start = params.datetime("dateStart")
        end = params.datetime("dateEnd")
        self._family(number)
        self._regie(code)
        envelope, response = self._response("readInvoices")
        writer = _Writer(nil=number % 2 == 1)
        for invoice in self._invoices(number, code):
            if start <= paris_datetime(invoice.date_invoice) <= end:
                writer.invoice(response, invoice)
        odd = FIGURE_MODES.get(self.knobs.fault or "")
        if odd is not None and len(response):
            field, text = odd  # a figure no régie can hold, as a broken Maelis would send
            response[0].find(field).text = text
        return _serialize(envelope)

    def get_invoice_pdf(self, params: _Params) -> bytes:
        code = params.int("codeRegie")
        num = params.int("numInvoice")
        invoice = self.data.invoice(code, num)
        if invoice is None:
            raise _business("E06", f"Facture {num} inconnue pour la régie {code}")
        applied = self.ledger.applied(invoice.family, code).get(num, Decimal(0))
        from .pdf import invoice_pdf  # fpdf is imported by the first PDF asked, not at the desk's start

        document = invoice_pdf(with_ledger(invoice, applied))
        envelope, response = self._response("getInvoicePDF")
        etree.SubElement(response, "return").text = base64.b64encode(document).decode("ascii")
        return _serialize(envelope)

    def pay_invoices(self, params: _Params) -> bytes:
        number = params.int("numDossier")
        code = params.int("codeRegie")
        amount = params.decimal("amount")
        paid_on = params.datetime("datePaiement")
        reference = params.string("refTransaction")
        nums = params.ints("numInvoices")
        self._family(number)
        self._regie(code)
        if len(set(nums)) != len(nums):
            raise _client("Requête invalide : une facture figure deux fois dans numInvoices")
        if self.knobs.fault == "dropped":
            log.info("fault mode 'dropped': payInvoices %s lost inside Maelis, never applied", reference)
            self._sleep(self.knobs.delay())
            raise AbortConnection
        if self.knobs.apply_delay > 0:
            log.info("payInvoices %s: applied in %.1f s", reference, self.knobs.apply_delay)
            self._sleep(self.knobs.apply_delay)  # the client may be long gone: applied all the same
        with self.ledger.lock:  # validate and record atomically
            invoices = {inv.num: inv for inv in self._invoices(number, code)}
            for num in nums:
                if num not in invoices:
                    raise _business("E06", f"Facture {num} inconnue pour le dossier {number} et la régie {code}")
            for num in nums:
                sent = invoices[num].date_transmission
                if sent is not None:
                    raise _business(
                        "E11", f"Facture {num} transmise au Trésor public le {sent:%d/%m/%Y} : "
                        "paiement impossible en régie")
            due = sum((max(invoices[num].remaining, Decimal(0)) for num in nums), Decimal(0))
            if amount <= 0:
                raise _business("E10", f"Montant {amount} invalide : il doit être positif")
            if amount > due:
                raise _business("E10", f"Montant {amount} supérieur au reste à payer ({format_decimal(due)})")
            if amount.quantize(_CENT) != amount:
                raise _business("E10", f"Montant {amount} invalide : deux décimales au plus")
            left = amount
            allocations: list[tuple[int, Decimal]] = []
            for num in nums:
                share = min(left, max(invoices[num].remaining, Decimal(0)))
                if share > 0:
                    allocations.append((num, share))
                    left -= share
            sequence = self.ledger.record(
                ref=reference, family=number, regie=code, amount=amount, date=paid_on.isoformat(),
                invoices=nums, allocations=allocations,
            )
        log.info("payment PAY-%06d: family %s, régie %s, %s € on %s (ref %s)",
                 sequence, number, code, amount, nums, reference)
        envelope, response = self._response("payInvoices")
        etree.SubElement(response, "return").text = f"PAY-{sequence:06d} OK"
        return _serialize(envelope)


def _respond(start_response: Callable[..., Any], status: str, content_type: str, body: bytes,
             extra: list[tuple[str, str]] | None = None, head: bool = False) -> list[bytes]:
    headers = [("Content-Type", content_type), ("Content-Length", str(len(body)))]
    start_response(status, headers + (extra or []))
    return [] if head else [body]


def _plain(start_response: Callable[..., Any], status: str, text: str,
           extra: list[tuple[str, str]] | None = None) -> list[bytes]:
    return _respond(start_response, status, "text/plain; charset=utf-8", (text + "\n").encode(), extra)
