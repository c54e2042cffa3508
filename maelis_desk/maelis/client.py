"""The Maelis SOAP client: zeep clients built at run time from the WSDLs.

One zeep client per service (`FamilyService`, `InvoiceService`), built on
first use from `<base>/<Service>?wsdl` (from its copy on disk at once when
there is one, the copy refreshed in the background: see transport.py; calls
queued behind a WSDL read that failed share its error instead of waiting
for another timeout), every request signed with a
WS-Security UsernameToken (PasswordText). Calls go to `<base>/<Service>`
whatever address the WSDL declares, so a WSDL copied from another host (or
our on-disk copy) still talks to the configured server.

It returns domain objects only (see convert.py) and raises only the typed
errors of errors.py. It knows nothing of the cache.
"""

from __future__ import annotations

import hashlib
import logging
import re
import threading
import time
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from lxml import etree

from ..domain import Family, Invoice, Regie
from . import convert
from .errors import BUSINESS_CODES, MaelisAuthError, MaelisError, MaelisFault, MaelisProtocolError

if TYPE_CHECKING:
    import requests
    import zeep.exceptions

    from .transport import MaelisTransport

log = logging.getLogger(__name__)

SERVICES = ("FamilyService", "InvoiceService")
_CODE = re.compile(r"^\s*(E\d{2,3})\s*:?\s*(.*)$", re.S)

# zeep reports a value of the wrong type (a decimal "abc") only by logging it
# and returning None. We catch those log records, per thread, so that the
# call fails with a protocol error instead of reading a silent None.
_type_errors = threading.local()


class _TypeErrorCatcher(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if record.getMessage().startswith("Error during xml -> python translation"):
            errors = getattr(_type_errors, "errors", None)
            if errors is not None:
                errors.append(str(record.exc_info[1]) if record.exc_info else "?")
                return False  # reported as MaelisProtocolError instead
        return True


logging.getLogger("zeep.xsd.types.simple").addFilter(_TypeErrorCatcher())


class _BytesReader:
    """A file over `bytes` without copying them (io.BytesIO would copy a big answer)."""

    def __init__(self, data: bytes):
        self._view = memoryview(data)
        self._at = 0

    def read(self, size: int = -1) -> bytes:
        end = len(self._view) if size is None or size < 0 else self._at + size
        chunk = self._view[self._at:end].tobytes()
        self._at += len(chunk)
        return chunk


def _zeep():
    """zeep (with requests, urllib3 and the transport on them), imported by the client's first use:
    ~0.1 s of the window's start-up that its first screen does not need (tests/perf/bench_startup.py)."""
    import zeep
    import zeep.exceptions
    import zeep.wsse.username  # noqa: F401

    return zeep


class MaelisClient:
    """Typed access to the operations of the contract."""

    def __init__(
        self,
        base_url: str,
        user: str,
        password: str,
        *,
        timeout: float = 5.0,
        wsdl_dir: Path | None = None,
        session: requests.Session | None = None,
    ):
        self.base_url = base_url.rstrip("/")
        self.user = user
        self._password = password
        self.timeout = timeout
        self._wsdl_dir = wsdl_dir
        self._session = session
        self._transport: MaelisTransport | None = None  # built with zeep's settings at the first use
        self._settings = None
        self._transport_lock = threading.Lock()
        self._services: dict[str, Any] = {}
        #: per service, the last failed WSDL read: (when it ended, its error)
        self._wsdl_failures: dict[str, tuple[float, MaelisError]] = {}
        self._lock = threading.Lock()

    def __repr__(self) -> str:  # never show the password
        return f"MaelisClient({self.base_url!r}, user={self.user!r})"

    @property
    def transport(self) -> MaelisTransport:
        """The HTTP transport under zeep (built, with zeep imported, at the first use)."""
        with self._transport_lock:
            if self._transport is None:
                zeep = _zeep()
                from .transport import MaelisTransport

                self._transport = MaelisTransport(
                    timeout=self.timeout, wsdl_dir=self._wsdl_dir, session=self._session, origin_url=self.base_url
                )
                # strict=False: ignore fields we do not know (contract rule 2). The
                # transport has already refused malformed XML, so lxml's recover mode
                # that strict=False also enables never gets to "repair" a body.
                self._settings = zeep.Settings(
                    strict=False, forbid_dtd=True, forbid_entities=True, forbid_external=True, force_https=False,
                    # match fields by name wherever they stand, so that an unknown field
                    # in the middle of a sequence does not hide the known ones after it
                    xsd_ignore_sequence_order=True,
                )
            return self._transport

    @property
    def settings(self):
        """zeep's settings for both services."""
        self.transport  # noqa: B018 - builds them with the transport
        return self._settings

    def load_modules(self) -> None:
        """Import zeep and build the transport now, calling nothing: what the first call would
        do first. The window runs it in the background once it is usable."""
        self.transport  # noqa: B018

    def close(self) -> None:
        with self._transport_lock:
            transport = self._transport
        if transport is not None:
            transport.session.close()
        elif self._session is not None:
            self._session.close()

    def credentials_fingerprint(self, salt: bytes) -> str:
        """A salted, slow digest of (URL, user, password): tells whether these
        exact credentials are the ones Maelis refused, without keeping the password."""
        secret = "\n".join((self.base_url, self.user, self._password)).encode()
        return hashlib.pbkdf2_hmac("sha256", secret, salt, 100_000).hex()

    # -- plumbing -------------------------------------------------------------

    def _service(self, name: str):
        asked = time.monotonic()
        with self._lock:
            service = self._services.get(name)
            if service is None:
                failed = self._wsdl_failures.get(name)
                if failed is not None and failed[0] >= asked:
                    # This thread queued behind an attempt that just failed:
                    # share its answer rather than wait for a timeout again.
                    raise failed[1]
                zeep = _zeep()
                try:
                    client = self._guard(
                        lambda: zeep.Client(
                            f"{self.base_url}/{name}?wsdl",
                            transport=self.transport,
                            settings=self.settings,
                            wsse=zeep.wsse.username.UsernameToken(self.user, self._password),
                        ),
                        what="WSDL",
                    )
                except MaelisError as exc:
                    self._wsdl_failures[name] = (time.monotonic(), exc)
                    raise
                binding = next(iter(next(iter(client.wsdl.services.values())).ports.values())).binding
                service = client.create_service(binding.name, f"{self.base_url}/{name}")
                service._client = client  # keep the client alive with its service
                self._services[name] = service
            return service

    def _guard(self, call: Callable[[], Any], *, what: str) -> Any:
        """Run a zeep call, turning every failure into a typed MaelisError."""
        zeep = _zeep()
        _type_errors.errors = []
        try:
            result = call()
            if _type_errors.errors:
                raise MaelisProtocolError(
                    f"Réponse de Maelis non conforme ({what}) : une valeur n'a pas le type attendu.",
                    detail="; ".join(_type_errors.errors),
                )
            return result
        except MaelisError:
            raise
        except zeep.exceptions.Fault as fault:
            raise self._fault(fault) from None
        except (zeep.exceptions.DTDForbidden, zeep.exceptions.EntitiesForbidden) as exc:
            raise MaelisProtocolError(
                f"Maelis a renvoyé un XML avec une DTD ou des entités, refusé par sécurité ({what}).",
                detail=str(exc),
            ) from None
        except zeep.exceptions.Error as exc:
            raise MaelisProtocolError(
                f"Réponse de Maelis non conforme au contrat ({what}).", detail=str(exc)
            ) from None
        except (ValueError, TypeError, AttributeError, LookupError, ArithmeticError) as exc:
            # zeep failing deep inside on a shape it did not expect
            raise MaelisProtocolError(
                f"Réponse de Maelis non conforme au contrat ({what}).",
                detail=f"{type(exc).__name__}: {exc}",
            ) from None
        finally:
            _type_errors.errors = None

    @staticmethod
    def _fault(fault: zeep.exceptions.Fault) -> MaelisError:
        text = (fault.message or "").strip()
        if "Security" in text:
            return MaelisAuthError(
                "Maelis a refusé l'identification : vérifiez l'utilisateur et le mot de passe.",
                detail=text,
            )
        match = _CODE.match(text)
        if match and match.group(1) in BUSINESS_CODES:
            code, rest = match.groups()
            return MaelisFault(f"Maelis a refusé l'opération ({code}) : {rest.strip()}", code=code, text=text)
        # « anything else: server error » — a code the contract does not list is no refusal: the
        # operation may have been done (a payment: in doubt, never « refusé »)
        return MaelisFault(f"Erreur du serveur Maelis : {text or 'sans message'}", code=None, text=text)

    def _call(self, service: str, operation: str, **params) -> Any:
        svc = self._service(service)
        return self._guard(lambda: getattr(svc, operation)(**params), what=operation)

    def _call_streamed(self, service: str, operation: str, each: Callable[[Any], Any], **params) -> list:
        """Call `operation` and turn each `<return>` of its answer into `each(value)`,
        one at a time, so that a long list never exists whole as a tree or as zeep objects.

        Memory (issue 8 point 11): zeep parses the whole answer into an lxml tree, then
        builds objects for every element, ~17 times the answer's size at the peak (4,000
        invoices, 2.5 MB, cost 43 MB); the domain objects kept cost ~1.2 times. Here the
        body is read with iterparse; each `<return>` is typed by zeep's own schema element
        (the same checks and the same type errors as a whole-answer read), converted, then
        dropped from the tree. A Fault, or anything that is not a 200 answer, goes through
        zeep's usual path (a small answer)."""
        svc = self._service(service)
        client = svc._client
        binding = svc._binding
        with client.settings(raw_response=True):
            response = self._guard(lambda: getattr(svc, operation)(**params), what=operation)
        operation_obj = binding.get(operation)
        body = response.content
        if response.status_code != 200 or b"Fault" in body:
            # a Fault (or a word "Fault" in some label): zeep's whole-answer path
            result = self._guard(lambda: binding.process_reply(client, operation_obj, response), what=operation)
            return self._convert(operation, lambda: [each(x) for x in convert.as_list(result)])
        del response
        answer = operation_obj.output.body  # the <…Response> element
        returns = dict(answer.type.elements)
        item = returns.get("return") or returns.get("_return")
        if item is None:
            raise MaelisProtocolError(f"Le WSDL de Maelis ne décrit pas la réponse de {operation}.")
        schema = client.wsdl.types
        from zeep.xsd.context import XmlParserContext  # zeep is imported: _service above

        context = XmlParserContext(settings=client.settings)
        results: list = []
        _type_errors.errors = []
        try:
            seen_answer = False
            for _event, element in etree.iterparse(
                _BytesReader(body), events=("end",), resolve_entities=False, no_network=True,
                load_dtd=False, huge_tree=False, recover=False,
            ):
                name = etree.QName(element).localname
                parent = element.getparent()
                if name == "return" and parent is not None and etree.QName(parent).localname == answer.name:
                    value = item.parse(element, schema, context=context)
                    if _type_errors.errors:
                        raise MaelisProtocolError(
                            f"Réponse de Maelis non conforme ({operation}) : une valeur n'a pas le type attendu.",
                            detail="; ".join(_type_errors.errors),
                        )
                    results.append(self._convert(operation, lambda: each(value)))
                    element.clear()
                    while element.getprevious() is not None:  # the <return> already read
                        del parent[0]
                elif name == answer.name:
                    seen_answer = True
            if not seen_answer:
                raise MaelisProtocolError(f"Réponse de Maelis non conforme au contrat ({operation}).",
                                          detail=f"no {answer.name} in the answer")
        except etree.XMLSyntaxError as exc:  # checked by the transport already; kept for safety
            raise MaelisProtocolError(f"Maelis a renvoyé une réponse illisible ({operation}).",
                                      detail=str(exc)) from None
        except MaelisError:
            raise
        except (ValueError, TypeError, AttributeError, LookupError, ArithmeticError) as exc:
            raise MaelisProtocolError(f"Réponse de Maelis non conforme au contrat ({operation}).",
                                      detail=f"{type(exc).__name__}: {exc}") from None
        finally:
            _type_errors.errors = None
        return results

    def _convert(self, what: str, func: Callable[[], Any]) -> Any:
        try:
            return func()
        except MaelisError:
            raise
        except (ValueError, TypeError, AttributeError) as exc:
            raise MaelisProtocolError(
                f"Réponse de Maelis non conforme au contrat ({what}).", detail=str(exc)
            ) from None

    # -- the contract's operations -----------------------------------------

    def connect(self) -> None:
        """Build both zeep clients now (fetching the WSDLs): a connection test."""
        for name in SERVICES:
            self._service(name)

    def read_family(self, number: int) -> Family:
        result = self._call("FamilyService", "readFamily", dossierNumber=number)
        return self._convert("readFamily", lambda: convert.family(result, complete=True))

    def search_families(self, fullname: str) -> list[Family]:
        result = self._call("FamilyService", "readFamilyListFromFullName", fullname=fullname)
        return self._convert(
            "readFamilyListFromFullName",
            lambda: [convert.family(x, complete=False) for x in convert.as_list(result)],
        )

    def read_regies(self) -> list[Regie]:
        result = self._call("InvoiceService", "readRegieList")
        return self._convert("readRegieList", lambda: [convert.regie(x) for x in convert.as_list(result)])

    def read_invoices(self, family: int, regie: int, start: datetime, end: datetime) -> list[Invoice]:
        return self._call_streamed(
            "InvoiceService", "readInvoices", convert.invoice,
            numDossier=family, codeRegie=regie, dateStart=start, dateEnd=end,
        )

    def invoice_pdf(self, regie: int, number: int) -> bytes:
        result = self._call("InvoiceService", "getInvoicePDF", codeRegie=regie, numInvoice=number)
        if not isinstance(result, bytes) or not result.startswith(b"%PDF"):
            raise MaelisProtocolError("Maelis n'a pas renvoyé de PDF pour cette facture.")
        return result

    def pay_invoices(
        self,
        *,
        family: int,
        regie: int,
        amount: Decimal,
        paid_at: datetime,
        reference: str,
        invoices: list[int],
    ) -> str:
        """Send one payment. Returns Maelis' acknowledgement (kept, not interpreted).

        Maelis does not deduplicate: the caller must never send the same
        payment twice (see services/payments.py).
        """
        result = self._call(
            "InvoiceService",
            "payInvoices",
            numDossier=family,
            codeRegie=regie,
            amount=amount,
            datePaiement=paid_at,
            refTransaction=reference,
            numInvoices=list(invoices),
        )
        return "" if result is None else str(result)
