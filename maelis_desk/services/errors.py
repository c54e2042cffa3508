"""The errors the use cases raise: one type, with a French message and the
command line's exit code, that the CLI and the window catch.

The SOAP client's own errors (maelis/errors.py) stop at the services: each
use case that calls Maelis turns them into these (`from_maelis`), so nothing
above services/ imports maelis/. Exit codes (README): 3 Maelis unreachable
and nothing cached, 4 authentication refused, 5 Maelis business fault (or an
unknown régie), 6 protocol error, 7 payment refused by a rule, 8 the journal
does not hold, 9 not the operator's role, 10 the database cannot be opened,
11 a payment IS recorded (its receipt number is given) but a step after it
failed (receipt file, printing, transmission): never take the money again,
12 the database failed while writing (disk full, I/O error, read-only): what
was being recorded is NOT recorded, 13 the desk's code is held by another
desk (another settings folder) of the same database.
"""

from __future__ import annotations

from ..maelis import MaelisAuthError, MaelisError, MaelisFault, MaelisProtocolError, MaelisUnavailable
from ..store.database import DatabaseUnavailable

EXIT_UNREACHABLE, EXIT_AUTH, EXIT_FAULT, EXIT_PROTOCOL, EXIT_REFUSED = 3, 4, 5, 6, 7
EXIT_JOURNAL_BROKEN, EXIT_DENIED = 8, 9
EXIT_DATABASE = 10
EXIT_RECORDED_BUT = 11
EXIT_NOT_RECORDED = 12
EXIT_DESK_CODE_TAKEN = 13


class DeskError(Exception):
    """An expected failure of a use case. `message` (and `str()`) is the French
    sentence for the cashier; `detail` is for the log only."""

    exit_code = EXIT_PROTOCOL

    def __init__(self, message: str, *, detail: str | None = None):
        super().__init__(message)
        self.message = message
        self.detail = detail


class DatabaseUnreachable(DeskError):
    """The desk's database cannot be opened: no PostgreSQL driver, the server
    does not answer, or its schema is newer than this desk knows (exit 10)."""

    exit_code = EXIT_DATABASE


class DeskCodeTaken(DatabaseUnreachable):
    """Another live desk (another settings folder) of this database holds this
    desk's code: the desk does not open (exit 13), so two desks never share a
    cash session or a receipt prefix."""

    exit_code = EXIT_DESK_CODE_TAKEN


class DatabaseFailed(DeskError):
    """The database failed while writing (disk full, I/O error, read-only, damaged):
    what was being recorded is not (exit 12)."""

    exit_code = EXIT_NOT_RECORDED


def from_store(exc: BaseException, *, doing: str = "L'opération n'est PAS enregistrée") -> DeskError | None:
    """The services' error for a failure of the database, None when `exc` is not one."""
    from ..store.database import storage_reason

    reason = storage_reason(exc)
    if reason is None:
        return None
    return DatabaseFailed(f"{doing} : {reason}. Libérez de la place ou corrigez la base, puis recommencez.",
                          detail=str(exc))


class MaelisUnreachable(DeskError):
    """Maelis could not be reached or did not answer in time."""

    exit_code = EXIT_UNREACHABLE


class AuthRefused(DeskError):
    """Maelis refused the desk's credentials."""

    exit_code = EXIT_AUTH


class MaelisRefused(DeskError):
    """Maelis' own answer: a business fault (`code` is E02, E06...), or a server
    error (`code` None)."""

    exit_code = EXIT_FAULT

    def __init__(self, message: str, *, code: str | None, detail: str | None = None):
        super().__init__(message, detail=detail)
        self.code = code

    @property
    def is_business(self) -> bool:
        return self.code is not None


class MaelisGarbled(DeskError):
    """Maelis answered something that breaks the contract (HTML, garbage, a wrong type)."""

    exit_code = EXIT_PROTOCOL


class Offline(DeskError):
    """Maelis is not asked: offline mode, or the breaker says it is down."""

    exit_code = EXIT_UNREACHABLE


class NotInCache(DeskError):
    """Maelis did not answer and the cache has nothing to show instead.

    Its exit code is its cause's (unreachable 3, authentication 4, protocol 6)."""

    def __init__(self, message: str, cause: DeskError | None = None):
        super().__init__(message, detail=cause.message if cause else None)
        self.cause = cause
        self.exit_code = cause.exit_code if cause is not None else EXIT_UNREACHABLE


class UnknownRegie(DeskError):
    """A régie code that is not in Maelis' list."""

    exit_code = EXIT_FAULT

    def __init__(self, code: int):
        super().__init__(f"Régie {code} inconnue.")
        self.code = code


class UnknownInvoice(DeskError):
    """An invoice named by its printed number (F…) that the desk cannot find in a régie."""

    exit_code = EXIT_FAULT


class PaymentRefused(DeskError):
    """A rule refuses the payment; `str()` is the French message, `field` what to fix."""

    exit_code = EXIT_REFUSED

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


class DayRefused(DeskError):
    """A rule of the régie's day refuses (cash sessions, the close, dockets:
    services/day.py); `field` says what to fix."""

    exit_code = EXIT_REFUSED

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


class AuthenticationRefused(DeskError):
    """The desk's operator: wrong login or password, disabled account, nobody
    logged in, or the desk locked (services/operators.py)."""

    exit_code = EXIT_AUTH


class PermissionDenied(DeskError):
    """The current operator's role does not allow this action."""

    exit_code = EXIT_DENIED

    def __init__(self, message: str, action=None):
        super().__init__(message)
        self.action = action  # domain.Action


class OperatorRefused(DeskError):
    """An operator account that cannot be created or changed as asked."""

    exit_code = EXIT_REFUSED


class CancelRefused(DeskError):
    """A cancellation (or regularization) that cannot be done as asked."""

    exit_code = EXIT_REFUSED


def from_maelis(exc: MaelisError) -> DeskError:
    """The services' error for an error of the SOAP client."""
    if isinstance(exc, MaelisUnavailable):
        return MaelisUnreachable(exc.message, detail=exc.detail)
    if isinstance(exc, MaelisAuthError):
        return AuthRefused(exc.message, detail=exc.detail)
    if isinstance(exc, MaelisFault):
        return MaelisRefused(exc.message, code=exc.code, detail=exc.text)
    if isinstance(exc, MaelisProtocolError):
        return MaelisGarbled(exc.message, detail=exc.detail)
    error = DeskError(exc.message, detail=exc.detail)
    error.exit_code = exc.exit_code
    return error


def as_desk_error(exc: BaseException) -> DeskError | None:
    """The services' error for an error from below that is expected, not a bug: the
    shared database lost mid-day (store.DatabaseUnavailable) is DatabaseUnreachable
    (exit 10), wherever the use case was when its server went away. None: a bug."""
    if isinstance(exc, DeskError):
        return exc
    if isinstance(exc, DatabaseUnavailable):
        return DatabaseUnreachable(str(exc))
    if isinstance(exc, MaelisError):
        return from_maelis(exc)
    return None
