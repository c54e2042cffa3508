"""HTTP under zeep: bounded in time and size, strict about XML, and keeping
on disk a copy of the WSDLs it last fetched.

zeep's own Transport waits as long as a server trickles bytes, parses bodies
in lxml's *recover* mode when `strict=False` (which we need so that unknown
fields are ignored), and logs whole envelopes (password included) at debug
level. This transport closes those three holes before zeep sees a byte:

* every request has a connect and read timeout, and the whole body must
  arrive before a deadline (so no call waits without a bound);
* a body that is not well-formed XML, carries a DTD or entities, is an HTML
  page or an unexpected HTTP status becomes a typed error here;
* an answer of more than MAX_ELEMENTS elements is refused before zeep
  builds its objects (memory: the size cap alone does not bound a read);
* nothing it logs contains the request body;
* a WSDL with a copy on disk is read from the copy at once, the copy
  refreshed in the background (see `_load_remote_data`);
* a redirect is never followed to another origin (scheme, host, port) than
  the configured one: requests would re-send a 307/308 POST, envelope and
  password included, to whatever host the `Location` names. Such a redirect
  is a protocol error naming where it pointed; one within the configured
  origin is followed (a few hops at most).
"""

from __future__ import annotations

import hashlib
import io
import logging
import os
import threading
import time
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import requests
from lxml import etree
from zeep.transports import Transport

from .errors import MaelisProtocolError, MaelisUnavailable

log = logging.getLogger(__name__)

MAX_BODY = 64 * 1024 * 1024  # a 64 MiB answer is not an invoice list any more
#: XML elements an answer may hold. zeep turns each into Python objects
#: (~17 times the answer's size in all: 60,000 invoices, 38 MB, cost 604 MB),
#: so the size cap alone does not bound a read: past this count (~4,500
#: invoices, 2.8 MB; a family has a few dozen invoices) the answer is refused
#: before zeep sees it. readInvoices, the only long list, is moreover read one
#: `<return>` at a time (client._call_streamed): its largest answer costs ~4
#: times its size (tests/perf/bench_memory.py). Big texts (a PDF) cost a few
#: times their size.
MAX_ELEMENTS = 100_000
_CHUNK = 64 * 1024
MAX_REDIRECTS = 3
_REDIRECTS = (301, 302, 303, 307, 308)
_DEFAULT_PORTS = {"http": 80, "https": 443}


def origin(url: str) -> tuple[str, str, int | None]:
    """(scheme, host, port) of a URL, the port made explicit: what "the same server" means."""
    parts = urlsplit(url)
    scheme = (parts.scheme or "").lower()
    try:
        port = parts.port
    except ValueError:  # a port that is not a number
        port = -1
    return scheme, (parts.hostname or "").lower(), port or _DEFAULT_PORTS.get(scheme)

_STRICT_PARSER = etree.XMLParser(
    resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False, recover=False
)


def _check_head(body: bytes, what: str) -> None:
    """An empty answer or an HTML page where XML was expected."""
    head = body.lstrip()[:512].lower()
    if not head:
        raise MaelisProtocolError(f"Maelis a renvoyé une réponse vide ({what}).")
    if head.startswith((b"<!doctype html", b"<html")):
        raise MaelisProtocolError(
            f"Maelis a renvoyé une page HTML au lieu d'une réponse SOAP ({what}).",
            detail=body[:500].decode("utf-8", "replace"),
        )


def _unreadable(exc: etree.XMLSyntaxError, what: str) -> MaelisProtocolError:
    return MaelisProtocolError(
        f"Maelis a renvoyé une réponse illisible (XML invalide ou tronqué, {what}).",
        detail=str(exc),
    )


def _check_no_dtd(root: etree._Element, what: str) -> None:
    docinfo = root.getroottree().docinfo
    if docinfo.doctype or (docinfo.internalDTD is not None):
        raise MaelisProtocolError(
            f"Maelis a renvoyé un XML avec une DTD, refusé par sécurité ({what}).",
            detail=docinfo.doctype,
        )


def check_xml(body: bytes, *, what: str) -> etree._Element:
    """Parse `body` strictly; refuse DTDs and entities. Raise MaelisProtocolError."""
    _check_head(body, what)
    try:
        root = etree.fromstring(body, parser=_STRICT_PARSER)
    except etree.XMLSyntaxError as exc:
        raise _unreadable(exc, what) from None
    _check_no_dtd(root, what)
    return root


def check_answer(body: bytes, *, what: str, max_elements: int | None = None) -> None:
    """Check a SOAP answer as `check_xml` does, streaming (no tree kept), and
    refuse one of more than `max_elements` (default MAX_ELEMENTS) elements."""
    limit = MAX_ELEMENTS if max_elements is None else max_elements
    _check_head(body, what)
    count = 0
    events = etree.iterparse(
        io.BytesIO(body), events=("end",), resolve_entities=False, no_network=True, load_dtd=False,
        huge_tree=False, recover=False,
    )
    try:
        for _event, element in events:
            count += 1
            if count > limit:
                elements = f"{limit:,}".replace(",", "\u202f")
                size = f"{len(body) / 1e6:.1f}".replace(".", ",")
                raise MaelisProtocolError(
                    f"La réponse de Maelis est trop volumineuse : plus de {elements} éléments XML "
                    f"({size} Mo), refusée pour ne pas saturer la mémoire du poste ({what}). "
                    "Restreignez la recherche ou la période.",
                    detail=f"{len(body)} bytes, more than {limit} elements",
                )
            element.clear()  # keep no tree: the check costs next to nothing
    except etree.XMLSyntaxError as exc:
        raise _unreadable(exc, what) from None
    _check_no_dtd(events.root, what)


def _timeout_error(exc: Exception, *, sent: bool, timeout: float) -> MaelisUnavailable:
    if not sent:
        msg = "Maelis est injoignable (connexion impossible)."
    elif isinstance(exc, (requests.Timeout, TimeoutError)):
        msg = f"Maelis n'a pas répondu à temps (délai de {timeout:g} s dépassé)."
    else:
        msg = "La connexion avec Maelis a été coupée avant sa réponse."
    return MaelisUnavailable(msg, request_sent=sent, detail=f"{type(exc).__name__}: {exc}")


#: OpenSSL's reasons for refusing a certificate, as a cashier's technician reads them
_TLS_REASONS = (
    ("self-signed certificate in certificate chain", "la chaîne de certificats aboutit à un certificat auto-signé "
                                                     "que le poste ne reconnaît pas"),
    ("self-signed certificate", "le certificat est auto-signé"),
    ("self signed certificate", "le certificat est auto-signé"),
    ("certificate has expired", "le certificat a expiré"),
    ("certificate is not yet valid", "le certificat n'est pas encore valide"),
    ("hostname mismatch", "le certificat n'est pas celui de ce nom de serveur"),
    ("ip address mismatch", "le certificat n'est pas celui de cette adresse"),
    ("unable to get local issuer certificate", "l'autorité qui l'a signé est inconnue du poste"),
    ("unable to get issuer certificate", "l'autorité qui l'a signé est inconnue du poste"),
    ("certificate has been revoked", "le certificat a été révoqué"),
    ("wrong version number", "le serveur ne parle pas TLS à cette adresse (http:// plutôt que https:// ?)"),
)


def _tls_error(exc: Exception, url: str) -> MaelisUnavailable:
    """A TLS handshake that failed: the certificate refused (and why), or TLS itself."""
    text = str(exc)
    lowered = text.lower()
    reason = next((fr for en, fr in _TLS_REASONS if en in lowered), None)
    host = urlsplit(url).netloc
    if "certificate verify failed" in lowered or "certificate" in lowered:
        msg = (f"Le certificat du serveur Maelis ({host}) a été refusé : "
               f"{reason or 'il ne peut pas être vérifié'}. Rien n'a été envoyé. Vérifiez l'adresse de "
               "Maelis, ou faites installer sur le poste l'autorité de certification du serveur "
               "(variable REQUESTS_CA_BUNDLE).")
    else:
        msg = (f"La connexion sécurisée (TLS) avec Maelis ({host}) a échoué : "
               f"{reason or 'la négociation a été refusée'}. Rien n'a été envoyé.")
    return MaelisUnavailable(msg, request_sent=False, detail=f"{type(exc).__name__}: {text}")


class MaelisTransport(Transport):
    """A zeep Transport with bounded calls, strict XML and WSDL copies on disk."""

    def __init__(self, *, timeout: float, wsdl_dir: Path | None, session: requests.Session | None = None,
                 origin_url: str | None = None):
        super().__init__(timeout=timeout, operation_timeout=timeout, session=session)
        self.timeout = timeout
        self.wsdl_dir = wsdl_dir
        #: the only origin requests may go to (None: the first request's own)
        self.origin = origin(origin_url) if origin_url else None
        self._refresh_lock = threading.Lock()
        self._refreshes: dict[str, threading.Thread] = {}

    # -- bounded HTTP ----------------------------------------------------------

    def _read_body(self, response: requests.Response, deadline: float) -> bytes:
        chunks, size = [], 0
        for chunk in response.iter_content(_CHUNK):
            chunks.append(chunk)
            size += len(chunk)
            if size > MAX_BODY:
                raise MaelisProtocolError("La réponse de Maelis est anormalement volumineuse.")
            if time.monotonic() > deadline:
                raise requests.Timeout("body not received before the deadline")
        return b"".join(chunks)

    def _redirect_target(self, response: requests.Response, url: str, method: str) -> str:
        """Where a redirect answer points, if we may follow it; else a protocol error."""
        location = response.headers.get("Location", "")
        target = urljoin(url, location)
        allowed = self.origin or origin(url)
        if not location or origin(target) != allowed:
            raise MaelisProtocolError(
                f"Maelis a répondu par une redirection (HTTP {response.status_code}) vers "
                f"« {location or '(aucune adresse)'} », hors du serveur configuré "
                f"({allowed[0]}://{allowed[1]}:{allowed[2]}) : rien n'y a été envoyé. "
                "Vérifiez l'adresse de Maelis dans les réglages.",
                detail=f"{method} {url} -> {response.status_code} {location}",
            )
        if method == "POST" and response.status_code not in (307, 308):
            # 301/302/303 would turn the POST into a GET without its envelope
            raise MaelisProtocolError(
                f"Maelis a répondu par une redirection (HTTP {response.status_code}) vers « {location} » "
                "qu'un appel SOAP ne peut pas suivre.",
                detail=f"{method} {url} -> {response.status_code} {location}",
            )
        return target

    def _request(self, method: str, url: str, **kwargs) -> requests.Response:
        """One bounded request; its body read whole into `response._content`.

        Redirects are followed by hand, within the configured origin only."""
        deadline = time.monotonic() + self.timeout
        sent = False
        try:
            for _hop in range(MAX_REDIRECTS + 1):
                # A ConnectionError raised before the request left is "not sent".
                response = self.session.request(
                    method, url, timeout=(self.timeout, self.timeout), stream=True, allow_redirects=False,
                    **kwargs
                )
                sent = True
                with response:
                    if response.status_code in _REDIRECTS:
                        url = self._redirect_target(response, url, method)
                        continue
                    response._content = self._read_body(response, deadline)
                return response
            raise MaelisProtocolError(
                f"Maelis a renvoyé plus de {MAX_REDIRECTS} redirections de suite.", detail=url
            )
        except requests.ConnectTimeout as exc:
            raise _timeout_error(exc, sent=False, timeout=self.timeout) from None
        except requests.exceptions.SSLError as exc:
            # before the ConnectionError it extends: the handshake failed, so nothing was sent
            raise _tls_error(exc, url) from None
        except requests.ConnectionError as exc:
            # urllib3 raises ConnectionError both when it cannot connect and
            # when the peer hangs up after the request left; only the first
            # proves nothing was sent.
            reason = str(exc)
            refused = any(
                s in reason
                for s in ("NewConnectionError", "Connection refused", "Failed to resolve", "Name or service")
            )
            raise _timeout_error(exc, sent=sent or not refused, timeout=self.timeout) from None
        except (requests.Timeout, TimeoutError) as exc:
            raise _timeout_error(exc, sent=True, timeout=self.timeout) from None
        except requests.RequestException as exc:
            raise _timeout_error(exc, sent=True, timeout=self.timeout) from None

    def post(self, address, message, headers):
        log.debug("SOAP POST %s (%d octets)", address, len(message))
        response = self._request("POST", address, data=message, headers=headers)
        status = response.status_code
        what = f"HTTP {status}"
        if status in (502, 503, 504):
            raise MaelisUnavailable(
                f"Maelis est indisponible (erreur {status} du serveur).",
                request_sent=True,
                detail=response.content[:500].decode("utf-8", "replace"),
            )
        if status not in (200, 500):
            raise MaelisProtocolError(
                f"Maelis a répondu par une erreur HTTP {status}.",
                detail=response.content[:500].decode("utf-8", "replace"),
            )
        # A SOAP Fault comes with status 500; anything else on 500 is an error page.
        check_answer(response.content, what=what)
        log.debug("SOAP answer %s from %s (%d octets)", status, address, len(response.content))
        return response

    # -- WSDLs, with the last copy on disk ------------------------------------

    def _copy_path(self, url: str) -> Path | None:
        if self.wsdl_dir is None:
            return None
        name = url.rsplit("/", 1)[-1].split("?", 1)[0] or "document"
        digest = hashlib.sha256(url.encode()).hexdigest()[:16]
        return self.wsdl_dir / f"{name}-{digest}.wsdl"

    def _load_remote_data(self, url):
        """The WSDL at `url`: the copy on disk at once when there is one (and
        fetched again in the background, for next time), else from Maelis.

        Waiting for the WSDL first would make a hanging Maelis cost two
        timeouts before a read falls back on the cache (the WSDL's, then the
        call's); with the copy, only the call's."""
        copy = self._copy_path(url)
        kept = self._read_copy(copy)
        if kept is not None:
            self._refresh_later(url, copy)
            return kept
        try:
            return self._fetch_wsdl(url, copy)
        except (MaelisUnavailable, MaelisProtocolError):
            kept = self._read_copy(copy)  # written meanwhile by another client
            if kept is not None:
                log.info("WSDL unreachable, using the copy on disk: %s", copy)
                return kept
            raise

    @staticmethod
    def _read_copy(copy: Path | None) -> bytes | None:
        if copy is None:
            return None
        try:
            data = copy.read_bytes()
            check_xml(data, what="copie du WSDL")
        except FileNotFoundError:
            return None
        except (OSError, MaelisProtocolError) as exc:  # a damaged copy: fetch it again
            log.warning("Ignoring the WSDL copy %s: %s", copy, exc)
            return None
        return data

    def _fetch_wsdl(self, url: str, copy: Path | None) -> bytes:
        response = self._request("GET", url)
        if response.status_code != 200:
            raise MaelisProtocolError(
                f"Le WSDL de Maelis est inaccessible (HTTP {response.status_code}).",
                detail=url,
            )
        check_xml(response.content, what="WSDL")
        if copy is not None:
            try:
                copy.parent.mkdir(parents=True, exist_ok=True)
                # one temporary name per thread: two refreshes never mix their bytes
                tmp = copy.with_name(f"{copy.name}.{os.getpid()}-{threading.get_ident()}.tmp")
                tmp.write_bytes(response.content)
                tmp.replace(copy)
            except OSError as exc:  # a read-only disk must not stop the desk
                log.warning("Could not keep a copy of the WSDL: %s", exc)
        return response.content

    def _refresh_later(self, url: str, copy: Path | None) -> None:
        """Fetch `url` again in a daemon thread (once per transport and URL)
        and replace the copy when Maelis answers; a failure only logs."""
        with self._refresh_lock:
            if url in self._refreshes:
                return

            def refresh() -> None:
                try:
                    self._fetch_wsdl(url, copy)
                except Exception as exc:  # noqa: BLE001 - a background refresh must never surface
                    log.info("WSDL copy not refreshed (%s): %s", url, exc)

            thread = threading.Thread(target=refresh, name="maelis-wsdl-refresh", daemon=True)
            self._refreshes[url] = thread
            thread.start()

    def wait_refreshed(self, timeout: float | None = None) -> bool:
        """Wait for the background WSDL refreshes started so far; True when all ended."""
        with self._refresh_lock:
            threads = list(self._refreshes.values())
        for thread in threads:
            thread.join(timeout)
        return not any(t.is_alive() for t in threads)
