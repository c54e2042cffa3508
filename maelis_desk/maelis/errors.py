"""Typed errors of the SOAP client, each with a French message fit for a cashier.

The services layer decides what to do with each kind: fall back on the cache
(unavailable, protocol, server error), show the business fault as it is, or
ask for the credentials again.
"""

from __future__ import annotations


class MaelisError(Exception):
    """Base of every error the Maelis client raises. `str(e)` is the French message."""

    #: exit code of the command line for this kind of error
    exit_code = 6

    def __init__(self, message: str, *, detail: str | None = None):
        super().__init__(message)
        self.message = message
        self.detail = detail  # technical detail for the log, never shown alone


class MaelisUnavailable(MaelisError):
    """Maelis could not be reached or did not answer in time.

    `request_sent` tells whether the request may have reached Maelis: False
    only when the connection itself failed (nothing was sent), which matters
    for payments: a request that left may have been applied.
    """

    exit_code = 3

    def __init__(self, message: str, *, request_sent: bool, detail: str | None = None):
        super().__init__(message, detail=detail)
        self.request_sent = request_sent


class MaelisAuthError(MaelisError):
    """Maelis refused the credentials (a Fault mentioning `Security`)."""

    exit_code = 4


#: the contract's business faults (its Faults table); any other faultstring, even one that
#: starts with a code (« E99 : erreur interne »), is « server error: show it, keep working »
BUSINESS_CODES = frozenset({"E02", "E05", "E06", "E10", "E11"})


class MaelisFault(MaelisError):
    """A SOAP Fault. `code` is the contract's business code (`E02`...), or None
    for any other server error (its text may still start with a code the contract
    does not list)."""

    exit_code = 5

    def __init__(self, message: str, *, code: str | None, text: str):
        super().__init__(message, detail=text)
        self.code = code
        self.text = text

    @property
    def is_business(self) -> bool:
        return self.code is not None


class MaelisProtocolError(MaelisError):
    """Maelis answered something that breaks the contract: an HTML page,
    non-XML or truncated XML, a DTD, a missing required field, a wrong type."""

    exit_code = 6
