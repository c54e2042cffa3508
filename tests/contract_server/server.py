"""A second server honouring the Maelis contract, written from the contract text
alone (/work/shared/maelis-contract.md), to check the desk against something
other than its own simulator (issue 8, « How it is checked »).

It imports nothing from maelis_desk: its WSDLs (wsdl/), its envelopes (lxml),
its data (data.py) and its reading of the rules are its own, so that where the
desk's client and simulator share a misreading of the contract, this server
disagrees with both.

    with ContractServer() as maelis:
        maelis.url                      # <base>, e.g. http://127.0.0.1:PORT/maelisws-contrat/services
        maelis.pay_behaviour(apply_after=75, answer="late")
        maelis.applied()                # the ledger: every payInvoices applied, with its refTransaction

Knobs (each effective for the next request):

* ``pay_behaviour(apply_after, answer)``: payInvoices is checked at once (its
  faults answered at once), then applied ``apply_after`` seconds later (None:
  never applied, the request lost inside Maelis); its HTTP answer comes
  ``"late"`` (right after applying: a synchronous slow call), ``"never"`` (the
  connection held until the server stops), or ``"now"`` (acknowledged at once).
* ``odd_figure(field, text, family=None)``: the last invoice of each readInvoices
  answer (of that family) carries ``text`` as its ``field`` (see ODD).
* ``redirect(status, origin, wsdl=False)``: every SOAP POST (and the WSDL GETs
  when ``wsdl``) answered by a ``status`` redirect to the same path on ``origin``.
* ``fault(operation, text)``: that operation answers a SOAP Fault ``text``.
* ``address``: the services' address the WSDLs declare (soap:address); default
  this server's own. A client calls ``<base>/<Service>`` (the contract), so
  pointing it elsewhere must change nothing.

Referees: ``applied()`` (the ledger), ``received`` (every SOAP request:
operation, user, refTransaction), ``errors`` (bugs of this server, which a test
should check are none).
"""

from __future__ import annotations

import base64
import copy
import re
import socketserver
import threading
import time
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from urllib.parse import parse_qs
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from lxml import etree

from . import data

SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
PASSWORD_TEXT = ("http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0"
                 "#PasswordText")
XSI = "http://www.w3.org/2001/XMLSchema-instance"
TNS = "ws.maelis.sigec.com"
BASE_PATH = "/maelisws-contrat/services"
SERVICES = ("FamilyService", "InvoiceService")
WSDL_DIR = Path(__file__).with_name("wsdl")

USER, PASSWORD = "agent-regie", "S3cret-contrat!"

#: the odd figures of the checks: (field, text as written in the answer)
ODD = {
    "three_decimals": ("amountInvoice", "28.985"),
    "three_decimals_paid": ("amountPaid", "0.005"),
    "negative_paid": ("amountPaid", "-5.00"),
    "negative_invoice": ("amountInvoice", "-28.98"),
    "huge_amount": ("amountInvoice", "12345678901234567890123456"),  # 26 digits
    "huge_paid_tg": ("amountPaidTG", "99999999999999999999999999.99"),
}

_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
_DECIMAL = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)$")
_INT = re.compile(r"^[+-]?\d+$")


class Fault(Exception):
    """A SOAP Fault to answer: faultcode (soap:Server / soap:Client), faultstring."""

    def __init__(self, text: str, code: str = "soap:Server"):
        super().__init__(text)
        self.text = text
        self.code = code


# -- reading a request ----------------------------------------------------------


def _param(op: etree._Element, name: str, *, required: bool = True) -> str | None:
    """An unqualified child of the operation element (the contract's element form)."""
    found = [c for c in op if isinstance(c.tag, str) and c.tag == name]
    if not found:
        if required:
            raise Fault(f"Unmarshalling Error: missing element '{name}'", "soap:Client")
        return None
    if len(found) > 1:
        raise Fault(f"Unmarshalling Error: element '{name}' repeated", "soap:Client")
    return (found[0].text or "").strip()


def _int(text: str | None, name: str) -> int:
    if text is None or not _INT.match(text):
        raise Fault(f"Unmarshalling Error: '{text}' is not a valid value for int ({name})", "soap:Client")
    value = int(text)
    if not -2**31 <= value < 2**31:
        raise Fault(f"Unmarshalling Error: '{text}' is out of the range of int ({name})", "soap:Client")
    return value


def _decimal(text: str | None, name: str) -> Decimal:
    if text is None or not _DECIMAL.match(text):
        raise Fault(f"Unmarshalling Error: '{text}' is not a valid value for decimal ({name})", "soap:Client")
    try:
        return Decimal(text)
    except InvalidOperation:
        raise Fault(f"Unmarshalling Error: '{text}' is not a decimal ({name})", "soap:Client") from None


def parse_datetime(text: str | None, name: str = "dateTime") -> datetime:
    """xs:dateTime, with or without fractional seconds, Z or an offset (none: Paris winter time)."""
    if not text:
        raise Fault(f"Unmarshalling Error: empty dateTime ({name})", "soap:Client")
    t = text.strip()
    if t.endswith("Z"):
        t = t[:-1] + "+00:00"
    try:
        value = datetime.fromisoformat(t)
    except ValueError:
        raise Fault(f"Unmarshalling Error: '{text}' is not a valid value for dateTime ({name})",
                    "soap:Client") from None
    return value if value.tzinfo is not None else value.replace(tzinfo=data.CET)


def _fold(text: str) -> str:
    """Case and accents folded, for the name search."""
    text = unicodedata.normalize("NFKD", text)
    return "".join(c for c in text if not unicodedata.combining(c)).casefold()


# -- writing an answer ------------------------------------------------------------


def _el(parent: etree._Element, name: str, text=None) -> etree._Element:
    child = etree.SubElement(parent, name)  # unqualified, as the contract says
    if text is not None:
        child.text = text if isinstance(text, str) else str(text)
    return child


def _nil(parent: etree._Element, name: str) -> etree._Element:
    child = etree.SubElement(parent, name)
    child.set(f"{{{XSI}}}nil", "true")
    return child


def _dt(value: datetime, *, millis: bool = False) -> str:
    return value.isoformat(timespec="milliseconds" if millis else "seconds")


def _person(parent: etree._Element, name: str, p: data.Person) -> None:
    el = _el(parent, name)
    _el(el, "num", p.num)
    _el(el, "lastname", p.lastname)
    _el(el, "firstname", p.firstname)
    if p.civility is None:
        _nil(el, "civility")
    else:
        _el(el, "civility", p.civility)
    if p.birth is not None:
        _el(_el(el, "birth"), "dateBirth", _dt(p.birth))
    if p.street:
        adresse = _el(el, "adresse")
        _nil(adresse, "num")
        _el(adresse, "street1", p.street)
        _el(adresse, "town", "TOULOUSE")
        _el(adresse, "zipcode", "31000")
    _nil(el, "contact")


def _family(parent: etree._Element, f: data.Family, *, complete: bool) -> None:
    el = _el(parent, "return")
    _el(el, "number", f.number)
    if complete:
        if f.category is None:
            _nil(el, "category")
        else:
            _el(el, "category", f.category)
        if f.situation is not None:
            _el(el, "situation", f.situation)
        _el(el, "flagCom", "false")
    _person(el, "RL1", f.rl1)
    if f.rl2 is not None:
        _person(el, "RL2", f.rl2)
    elif complete:
        _nil(el, "RL2")
    if complete:
        _el(el, "nbChild", len(f.children))
    for c in f.children:
        child = _el(el, "childList")
        _el(child, "num", c.num)
        _el(child, "lastname", c.lastname)
        _el(child, "firstname", c.firstname)
        _nil(child, "sexe")
        if c.birth is not None:
            _el(_el(child, "birth"), "dateBirth", _dt(c.birth))
        _el(child, "dietCode", "STANDARD")
    if complete:
        q = _el(el, "quotientList")
        _el(q, "yearRev", 2022)
        _el(q, "mtt", "1234.5")


def _amount(inv: data.Invoice, field: str, value: Decimal) -> str:
    return inv.text.get(field, str(value))


def _invoice(parent: etree._Element, inv: data.Invoice, odd: tuple[str, str] | None) -> None:
    millis = inv.family == 4242  # some answers carry milliseconds, as JAX-WS often writes
    figures = {
        "amountInvoice": _amount(inv, "amountInvoice", inv.amount),
        "amountPaid": _amount(inv, "amountPaid", inv.paid),
    }
    if inv.paid_tg is not None:
        figures["amountPaidTG"] = _amount(inv, "amountPaidTG", inv.paid_tg)
    if odd is not None:
        figures[odd[0]] = odd[1]
    el = _el(parent, "return")
    _el(el, "numInvoice", inv.num)
    _el(el, "idInvoice", inv.id)
    _el(el, "libelleTTF", inv.label)
    regie = _el(el, "regie")
    _el(regie, "code", inv.regie)
    _el(regie, "libelle", data.REGIES[inv.regie])
    _nil(regie, "libelle2")
    _el(el, "numFamily", inv.family)
    _el(el, "name", inv.name)
    _el(el, "dateInvoice", _dt(inv.date, millis=millis))
    _el(el, "dateDeadline", _dt(inv.deadline, millis=millis))
    _nil(el, "dateDeadlinePayment")  # a field the contract does not name
    _el(el, "amountInvoice", figures["amountInvoice"])
    _el(el, "amountPaid", figures["amountPaid"])
    if "amountPaidTG" in figures:
        _el(el, "amountPaidTG", figures["amountPaidTG"])
    if inv.pes is not None:
        _el(el, "dateTransmissionPES", _dt(inv.pes))
    elif inv.num % 2:
        _nil(el, "dateTransmissionPES")  # optional: nil here, absent on the others
    if inv.num % 3 == 0:
        _nil(el, "payer")
    for line in inv.lines:
        ln = _el(el, "lineInvoiceList")
        _el(ln, "numLine", line.num)
        if line.person is not None:
            _el(ln, "numPers", line.person.num)
            _el(ln, "name", f"{line.person.lastname} {line.person.firstname}".upper())
        _el(ln, "idActivity", "A10049327")
        _el(ln, "libelleLine", line.label)
        _el(ln, "dateStart", _dt(inv.date))
        _nil(ln, "dateEnd")
        _el(ln, "quantity", line.quantity)
        _el(ln, "unitPrice", line.unit_price)
        _el(ln, "amountLine", line.amount)
    if inv.paid:
        _el(el, "paymentMethod", "CHEQUE")  # another field the contract does not name


def _envelope() -> tuple[etree._Element, etree._Element]:
    env = etree.Element(f"{{{SOAP_ENV}}}Envelope", nsmap={"soap": SOAP_ENV})
    body = etree.SubElement(env, f"{{{SOAP_ENV}}}Body")
    return env, body


def _answer(operation: str) -> tuple[etree._Element, etree._Element]:
    env, body = _envelope()
    response = etree.SubElement(body, f"{{{TNS}}}{operation}Response", nsmap={"ns2": TNS})
    return env, response


def _fault_xml(fault: Fault) -> bytes:
    env, body = _envelope()
    el = etree.SubElement(body, f"{{{SOAP_ENV}}}Fault")
    _el(el, "faultcode", fault.code)
    _el(el, "faultstring", fault.text)
    return etree.tostring(env, xml_declaration=True, encoding="UTF-8")


_PDF = (b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
        b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n")


# -- the server -----------------------------------------------------------------------


@dataclass
class Applied:
    ref: str
    family: int
    regie: int
    amount: Decimal
    invoices: list[int]
    allocations: list[tuple[int, Decimal]]
    received_at: float  # time.monotonic() of the request
    applied_at: float


class _Threading(socketserver.ThreadingMixIn, WSGIServer):
    daemon_threads = True
    allow_reuse_address = True

    def handle_error(self, request, client_address):  # a client that went away is no error
        import sys

        exc = sys.exc_info()[1]
        if isinstance(exc, (ConnectionError, TimeoutError)):
            return
        super().handle_error(request, client_address)


class _Quiet(WSGIRequestHandler):
    def log_message(self, format, *args):
        pass


class ContractServer:
    """The contract's two services on 127.0.0.1 (a free port unless given)."""

    def __init__(self, port: int = 0, *, user: str = USER, password: str = PASSWORD, hold_max: float = 900.0):
        self.user, self.password = user, password
        self.hold_max = hold_max
        self.families, self.invoices = data.build()
        self._lock = threading.RLock()
        self._stop = threading.Event()
        self._ledger: list[Applied] = []
        self.received: list[dict] = []
        self.errors: list[str] = []
        self._ack = 0
        # knobs
        self._apply_after: float | None = 0.0
        self._answer = "late"
        self._odd: tuple[str, str, int | None] | None = None
        self._redirect: tuple[int, str, bool] | None = None
        self._faults: dict[str, str] = {}
        self.address: str | None = None
        self._httpd = make_server("127.0.0.1", port, self._app, server_class=_Threading, handler_class=_Quiet)
        self.port = self._httpd.server_address[1]
        self.origin = f"http://127.0.0.1:{self.port}"
        self.url = self.origin + BASE_PATH
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="contract-server", daemon=True)

    # -- life ---------------------------------------------------------------------

    def start(self) -> ContractServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(5)

    def __enter__(self) -> ContractServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # -- knobs ----------------------------------------------------------------------

    def pay_behaviour(self, apply_after: float | None = 0.0, answer: str = "late") -> None:
        if answer not in ("late", "never", "now"):
            raise ValueError(answer)
        with self._lock:
            self._apply_after, self._answer = apply_after, answer

    def odd_figure(self, mode: str | None, family: int | None = None) -> None:
        with self._lock:
            self._odd = None if mode is None else (*ODD[mode], family)

    def redirect(self, status: int | None, origin: str | None = None, *, wsdl: bool = False) -> None:
        with self._lock:
            self._redirect = None if status is None else (status, origin, wsdl)

    def fault(self, operation: str, text: str | None) -> None:
        with self._lock:
            if text is None:
                self._faults.pop(operation, None)
            else:
                self._faults[operation] = text

    # -- referees -----------------------------------------------------------------

    def applied(self, ref: str | None = None) -> list[Applied]:
        with self._lock:
            return [copy.copy(a) for a in self._ledger if ref is None or a.ref == ref]

    def calls(self, operation: str) -> list[dict]:
        with self._lock:
            return [dict(r) for r in self.received if r["operation"] == operation]

    def paid(self, regie: int, number: int) -> Decimal:
        with self._lock:
            return self.invoices[(regie, number)].paid

    # -- HTTP -------------------------------------------------------------------------

    def _app(self, environ, start_response):
        try:
            status, headers, body = self._handle(environ)
        except Exception as exc:  # noqa: BLE001 - a bug of this server: told to the tests, answered as a Fault
            import traceback

            self.errors.append(traceback.format_exc())
            status, headers, body = "500 Internal Server Error", [("Content-Type", "text/xml; charset=utf-8")], \
                _fault_xml(Fault(f"Erreur interne : {type(exc).__name__}"))
        start_response(status, [*headers, ("Content-Length", str(len(body)))])
        return [body]

    def _handle(self, environ):
        method = environ["REQUEST_METHOD"]
        path = environ.get("PATH_INFO", "")
        query = environ.get("QUERY_STRING", "")
        service = path[len(BASE_PATH) + 1:] if path.startswith(BASE_PATH + "/") else None
        if service not in SERVICES:
            return "404 Not Found", [("Content-Type", "text/html")], b"<html><body>Not Found</body></html>"
        with self._lock:
            redirect = self._redirect
        if redirect is not None and (method == "POST" or redirect[2]):
            status, target, _ = redirect
            location = f"{target}{path}" + (f"?{query}" if query else "")
            reason = {301: "Moved Permanently", 302: "Found", 307: "Temporary Redirect", 308: "Permanent Redirect"}
            return f"{status} {reason.get(status, 'Redirect')}", [("Location", location), ("Content-Type", "text/plain")], \
                b"moved\n"
        if method == "GET" and "wsdl" in {k.lower() for k in parse_qs(query, keep_blank_values=True)}:
            text = (WSDL_DIR / f"{service}.wsdl").read_text(encoding="utf-8").replace("@ADDRESS@", self.address or self.url)
            return "200 OK", [("Content-Type", "text/xml; charset=utf-8")], text.encode("utf-8")
        if method != "POST":
            return "405 Method Not Allowed", [("Content-Type", "text/plain")], b"POST only\n"
        length = int(environ.get("CONTENT_LENGTH") or 0)
        raw = environ["wsgi.input"].read(length) if length else b""
        try:
            answer = self._soap(service, raw)
            return "200 OK", [("Content-Type", "text/xml; charset=utf-8")], answer
        except Fault as fault:
            return "500 Internal Server Error", [("Content-Type", "text/xml; charset=utf-8")], _fault_xml(fault)

    # -- SOAP ---------------------------------------------------------------------------

    def _soap(self, service: str, raw: bytes) -> bytes:
        try:
            env = etree.fromstring(raw, parser=_PARSER)
        except etree.XMLSyntaxError as exc:
            raise Fault(f"Unmarshalling Error: {exc}", "soap:Client") from None
        if env.tag != f"{{{SOAP_ENV}}}Envelope":
            raise Fault("Not a SOAP 1.1 envelope", "soap:VersionMismatch")
        body = env.find(f"{{{SOAP_ENV}}}Body")
        ops = [c for c in (body if body is not None else []) if isinstance(c.tag, str)]
        if len(ops) != 1:
            raise Fault("Unmarshalling Error: one operation element expected in the body", "soap:Client")
        op = ops[0]
        qname = etree.QName(op)
        user = self._authenticate(env)  # before anything else, as a WS-Security interceptor does
        record = {"operation": qname.localname, "service": service, "user": user, "at": time.monotonic()}
        if qname.localname == "payInvoices":
            record["ref"] = _param(op, "refTransaction", required=False)
        with self._lock:
            self.received.append(record)
            fault = self._faults.get(qname.localname)
        if qname.namespace != TNS:
            raise Fault(f"Unexpected wrapper element {{{qname.namespace}}}{qname.localname}", "soap:Client")
        handler = {
            ("FamilyService", "readFamily"): self._read_family,
            ("FamilyService", "readFamilyListFromFullName"): self._search,
            ("InvoiceService", "readRegieList"): self._regies,
            ("InvoiceService", "readInvoices"): self._read_invoices,
            ("InvoiceService", "getInvoicePDF"): self._pdf,
            ("InvoiceService", "payInvoices"): self._pay,
        }.get((service, qname.localname))
        if handler is None:
            raise Fault(f"Cannot find dispatch method for {{{TNS}}}{qname.localname}", "soap:Client")
        if fault is not None:
            raise Fault(fault)
        env_out = handler(op)
        return etree.tostring(env_out, xml_declaration=True, encoding="UTF-8")

    def _authenticate(self, env: etree._Element) -> str:
        header = env.find(f"{{{SOAP_ENV}}}Header")
        token = None if header is None else header.find(f"{{{WSSE}}}Security/{{{WSSE}}}UsernameToken")
        if token is None:
            raise Fault("Security : aucun jeton UsernameToken (WS-Security) dans la requête",
                        "wsse:InvalidSecurity")
        username = token.findtext(f"{{{WSSE}}}Username")
        password_el = token.find(f"{{{WSSE}}}Password")
        kind = password_el.get("Type", PASSWORD_TEXT) if password_el is not None else None
        if (username != self.user or password_el is None or kind != PASSWORD_TEXT
                or password_el.text != self.password):
            raise Fault("Security : identification refusée (utilisateur ou mot de passe invalide)",
                        "wsse:FailedAuthentication")
        return username

    # -- operations ----------------------------------------------------------------------

    def _read_family(self, op):
        number = _int(_param(op, "dossierNumber"), "dossierNumber")
        family = self.families.get(number)
        if family is None:
            raise Fault(f"E02 : Le dossier numéro [{number}] ne correspond à aucune famille")
        env, response = _answer("readFamily")
        _family(response, family, complete=True)
        return env

    def _search(self, op):
        words = _fold(_param(op, "fullname", required=False) or "").split()
        env, response = _answer("readFamilyListFromFullName")
        if not words:
            return env
        found = []
        for family in self.families.values():
            people = [p for p in (family.rl1, family.rl2, *family.children) if p is not None]
            if not any(words[0] in _fold(p.lastname) for p in people):
                continue
            if all(any(w in _fold(p.firstname) for p in people) for w in words[1:]):
                found.append(family)
        for family in found[:50]:
            _family(response, family, complete=False)
        return env

    def _regies(self, op):
        env, response = _answer("readRegieList")
        for code, label in data.REGIES.items():
            regie = _el(response, "return")
            _el(regie, "code", code)
            _el(regie, "libelle", label)
        return env

    def _read_invoices(self, op):
        family = _int(_param(op, "numDossier"), "numDossier")
        regie = _int(_param(op, "codeRegie"), "codeRegie")
        start = parse_datetime(_param(op, "dateStart"), "dateStart")
        end = parse_datetime(_param(op, "dateEnd"), "dateEnd")
        if family not in self.families:
            raise Fault(f"E02 : Le dossier numéro [{family}] ne correspond à aucune famille")
        if regie not in data.REGIES:
            raise Fault(f"E05 : La régie [{regie}] n'existe pas")
        with self._lock:
            chosen = sorted((inv for inv in self.invoices.values()
                             if inv.family == family and inv.regie == regie and start <= inv.date <= end),
                            key=lambda inv: inv.num)
            chosen = [copy.deepcopy(inv) for inv in chosen]
            odd = self._odd
        env, response = _answer("readInvoices")
        for i, inv in enumerate(chosen):
            oddity = None
            if odd is not None and (odd[2] is None or odd[2] == family) and i == len(chosen) - 1:
                oddity = (odd[0], odd[1])
            _invoice(response, inv, oddity)
        return env

    def _pdf(self, op):
        regie = _int(_param(op, "codeRegie"), "codeRegie")
        number = _int(_param(op, "numInvoice"), "numInvoice")
        if (regie, number) not in self.invoices:
            raise Fault(f"E06 : La facture [{number}] n'existe pas dans la régie [{regie}]")
        env, response = _answer("getInvoicePDF")
        _el(response, "return", base64.b64encode(_PDF).decode("ascii"))
        return env

    def _pay(self, op):
        received = time.monotonic()
        family = _int(_param(op, "numDossier"), "numDossier")
        regie = _int(_param(op, "codeRegie"), "codeRegie")
        amount = _decimal(_param(op, "amount"), "amount")
        parse_datetime(_param(op, "datePaiement"), "datePaiement")
        ref = _param(op, "refTransaction")
        numbers_el = [c for c in op if isinstance(c.tag, str) and c.tag == "numInvoices"]
        if not numbers_el:
            raise Fault("Unmarshalling Error: missing element 'numInvoices'", "soap:Client")
        numbers = [_int((c.text or "").strip(), "numInvoices") for c in numbers_el]
        if family not in self.families:
            raise Fault(f"E02 : Le dossier numéro [{family}] ne correspond à aucune famille")
        if regie not in data.REGIES:
            raise Fault(f"E05 : La régie [{regie}] n'existe pas")
        with self._lock:
            invoices = []
            for n in numbers:
                inv = self.invoices.get((regie, n))
                if inv is None or inv.family != family:
                    raise Fault(f"E06 : La facture [{n}] n'existe pas pour ce dossier dans cette régie")
                if inv.pes is not None:
                    raise Fault(f"E11 : La facture [{n}] a été transmise au Trésor public")
                invoices.append(inv)
            due = sum((inv.remaining for inv in invoices), Decimal("0"))
            if amount <= 0 or amount > due:
                raise Fault(f"E10 : Le montant [{amount}] est invalide (reste dû {due})")
            apply_after, answer = self._apply_after, self._answer
            self._ack += 1
            ack = f"Paiement n° {self._ack:06d} reçu, référence {ref}"
        if answer == "now":
            if apply_after is not None:
                threading.Timer(apply_after, self._apply, (ref, family, regie, amount, numbers, received)).start()
            env, response = _answer("payInvoices")
            _el(response, "return", ack)
            return env
        if apply_after is None:
            self._stop.wait(self.hold_max)  # lost inside Maelis: never applied, never answered
            raise Fault("Délai de traitement dépassé")
        if self._stop.wait(apply_after):
            raise Fault("Arrêt du serveur")
        self._apply(ref, family, regie, amount, numbers, received)
        if answer == "never":
            self._stop.wait(self.hold_max)
            raise Fault("Arrêt du serveur")
        env, response = _answer("payInvoices")
        _el(response, "return", ack)
        return env

    def _apply(self, ref, family, regie, amount, numbers, received) -> None:
        """Maelis applies the payment to the invoices in the order given; no deduplication."""
        if self._stop.is_set():
            return
        with self._lock:
            left, allocations = amount, []
            for n in numbers:
                inv = self.invoices[(regie, n)]
                part = min(left, max(inv.remaining, Decimal("0")))
                if part > 0:
                    inv.paid += part
                    inv.text.pop("amountPaid", None)
                    allocations.append((n, part))
                    left -= part
            self._ledger.append(Applied(ref, family, regie, amount, list(numbers), allocations, received,
                                        time.monotonic()))


class CountingServer:
    """Another origin (127.0.0.1, another port) that counts every request reaching it,
    with its headers and body, and answers a plausible empty SOAP answer."""

    def __init__(self):
        self.requests: list[dict] = []
        self._lock = threading.Lock()
        self._httpd = make_server("127.0.0.1", 0, self._app, server_class=_Threading, handler_class=_Quiet)
        self.origin = f"http://127.0.0.1:{self._httpd.server_address[1]}"
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)

    def _app(self, environ, start_response):
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        with self._lock:
            self.requests.append({"method": environ["REQUEST_METHOD"], "path": environ.get("PATH_INFO"),
                                  "authorization": environ.get("HTTP_AUTHORIZATION"), "body": body})
        env, _ = _envelope()
        answer = etree.tostring(env, xml_declaration=True, encoding="UTF-8")
        start_response("200 OK", [("Content-Type", "text/xml; charset=utf-8"), ("Content-Length", str(len(answer)))])
        return [answer]

    def __enter__(self) -> CountingServer:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(5)
