"""The desk: one object that holds the open database, the Maelis client and
the use cases, for the CLI and the UI alike."""

from __future__ import annotations

import logging
import uuid
from datetime import timedelta
from pathlib import Path

from ..config import Settings, config_dir, keep_private, save_settings
from ..formatting import fr_datetime, use_time_zone
from ..maelis import MaelisClient
from ..store import Cache, open_database
from ..store.database import DatabaseUnavailable, is_postgres, public_url
from ..store.migrations import SchemaTooNew
from ..store.operators import Operators
from ..store.payments import Payments
from ..store.day import DayStore
from .cancellations import CancelService
from .clock import utcnow
from .day import DayService
from .errors import DatabaseUnreachable, DeskCodeTaken
from .credentials import CredentialsGuard
from .health import MaelisHealth
from .journal import JournalService
from .operators import OperatorService
from .payments import PaymentService
from .receipts import Receipts
from .reading import Reader
from .sync import Refresher
from .transmission import Transmitter

log = logging.getLogger(__name__)


#: a desk code stays its folder's this long after the folder's desk last opened
CODE_LIVE_FOR = timedelta(days=7)


def desk_id(home: Path) -> str:
    """This settings folder's identity (its `desk-id` file, made at its first start)."""
    path = Path(home) / "desk-id"
    try:
        text = path.read_text(encoding="utf-8").strip()
        if text:
            return text
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    text = uuid.uuid4().hex
    path.write_text(text + "\n", encoding="utf-8")
    return text


def claim_code(settings: Settings, *, clock=utcnow) -> None:
    """Hold this desk's code in its database for its settings folder; DeskCodeTaken
    when another folder's desk (on this machine or another) holds it."""
    from ..store.desks import CodeTaken, claim

    try:
        claim(settings.code, home_id=desk_id(settings.home), name=settings.desk[:100],
              home=str(settings.home)[:500], at=clock(), live_for=CODE_LIVE_FOR)
    except CodeTaken as exc:
        holder = exc.holder
        how = ("--desk-code, MAELIS_DESK_CODE ou « Réglages… » > « Code du poste »" if settings.desk_code
               else "il est tiré du nom de la machine ; donnez-en un avec --desk-code, MAELIS_DESK_CODE "
                    "ou « Réglages… » > « Code du poste »")
        raise DeskCodeTaken(
            f"Le code de poste {settings.code} est déjà celui d'un autre poste de cette base "
            f"(machine {holder.name}, dossier {holder.home}, ouvert le {fr_datetime(holder.seen_at)}) : "
            f"chaque poste a son propre code ({how}). Un code libéré par un poste disparu "
            f"se reprend {CODE_LIVE_FOR.days} jours après sa dernière ouverture.") from None


def _cancelled_of(payment_ids: list[str]) -> set[str]:
    from ..store import cancellations

    return set(cancellations.by_payment(payment_ids))


def _motives_of(payment_ids: list[str]) -> dict[str, str]:
    """Each cancelled payment's motive in French, its comment after it: what the Z report prints."""
    from ..store import cancellations
    from .cancellations import motive_text

    return {payment: motive_text(row.reason, row.comment)
            for payment, row in cancellations.by_payment(payment_ids).items()}


def _cancellations_made(regie: int, since, until) -> list[dict]:
    """A régie's cancellations made in [since, until), their motive in French."""
    from ..store import cancellations
    from .cancellations import reason_label

    return [{**row, "reason": reason_label(row["reason"])} for row in cancellations.made_between(regie, since, until)]


class Desk:
    def __init__(self, settings: Settings, *, client: MaelisClient | None, clock=utcnow):
        self.settings = settings
        self.client = client
        self.clock = clock  # the desk's now (tests give a clock of their own); the window reads it too
        self.cache = Cache()
        self.payments_store = Payments()
        self.health = MaelisHealth(timeout=settings.timeout)
        # who is at the counter (`desk.operator`); every use case checks their role
        self.operators = OperatorService(Operators(), desk=settings.desk, clock=clock,
                                         fallback_name=settings.operator)
        # the till is the desk's, and a desk is its code (two desks of one machine: two codes)
        # a cancelled payment leaves the till's expected figures and the dockets, and shows
        # in the monthly statement of the month it was cancelled (store.cancellations)
        self.day = DayService(DayStore(), self.payments_store, desk=settings.code,
                              operator=lambda: self.operators.current.full_name, clock=clock,
                              require=self.operators.require, cancelled=_cancelled_of,
                              cancellations=_cancellations_made, motives=_motives_of)
        self.credentials = CredentialsGuard(self.cache, client)
        self.payments = PaymentService(
            self.cache, self.payments_store, operators=self.operators, desk=settings.desk, clock=clock,
            day=self.day, mode_overrides=settings.regie_modes, desk_code=settings.code,
        )
        self.cancellations = CancelService(self.payments_store, self.operators, desk=settings.desk, clock=clock,
                                          lock_reason=self.day.lock_reason)
        self.journal = JournalService(self.operators, clock=clock)
        self.receipts = Receipts(self.payments_store, self.operators, city=settings.city, clock=clock)
        self.reader = Reader(client, self.cache, self.health, payments=self.payments_store,
                             desk_id=self.payments.desk_id, clock=clock, credentials=self.credentials)
        self.refresher = Refresher(self.reader, self.cache)
        self.transmitter = Transmitter(
            client, self.cache, self.payments_store, owner=self.payments.desk_id, clock=clock,
            settle=settings.transmission_settle, backoff=settings.backoff_seconds, lease=settings.transmission_lease,
            horizon=settings.transmission_horizon, credentials=self.credentials, health=self.health,
        )

    def identity(self) -> dict:
        """This desk as the CLI and the settings show it: name, code, database (without its password)."""
        return {
            "name": self.settings.desk,
            "code": self.settings.code,
            "code_set": self.settings.desk_code is not None,
            "database": public_url(self.settings.database_spec),
            "shared": is_postgres(self.settings.database_spec),
            "home": str(self.settings.home),
        }

    def resolve_payment(self, receipt: str, *, applied: bool, note: str | None = None):
        """A régisseur who checked in Maelis says whether a payment in doubt (to review,
        seen without acknowledgement, refused) was applied: confirmed, or sent again."""
        from ..domain import Action
        from .errors import PaymentRefused

        operator = self.operators.require(Action.RESOLVE_TRANSMISSION)
        record = self.payments.by_receipt(receipt.strip())
        if record is None:
            raise PaymentRefused(f"Quittance inconnue : {receipt}", "receipt")
        try:
            return self.transmitter.resolve(record, applied=applied, by=f"{operator.full_name} ({operator.login})",
                                            note=(note or "").strip() or None)
        except ValueError as exc:
            raise PaymentRefused(str(exc), "receipt") from None

    def save_settings(self, settings: Settings):
        """Write the desk's settings (config.save_settings): the régisseur's (issue 11 point 2),
        or anyone's on a one-person desk. Raises PermissionDenied, writing nothing, otherwise."""
        from ..domain import Action

        self.operators.require(Action.CHANGE_SETTINGS)
        return save_settings(settings)

    @property
    def operator(self):
        """The operator at the counter now (domain.Operator); see services/operators.py."""
        return self.operators.current

    @classmethod
    def open(cls, settings: Settings) -> "Desk":
        """Open the database (migrating it) and prepare, without calling it yet, the client."""
        use_time_zone(settings.tz)
        keep_private(settings.home, config_dir())
        try:
            open_database(settings.database_spec, desk_code=settings.code, password=settings.database_password)
        except (DatabaseUnavailable, SchemaTooNew) as exc:
            raise DatabaseUnreachable(str(exc)) from exc
        try:
            claim_code(settings)
        except DatabaseUnavailable as exc:
            raise DatabaseUnreachable(str(exc)) from exc
        client = None
        if not settings.offline:
            if not settings.maelis_url:
                raise ValueError("no Maelis URL: start the demo first (launcher.start_demo)")
            client = MaelisClient(
                settings.maelis_url,
                settings.user,
                settings.password or "",
                timeout=settings.timeout,
                wsdl_dir=settings.wsdl_dir,
            )
        return cls(settings, client=client)

    def load_modules(self) -> None:
        """Import now, calling nothing, what the first Maelis call needs (zeep): the window runs it
        in the background once usable, so that neither its start nor the first family pays it."""
        if self.client is not None:
            self.client.load_modules()

    def close(self) -> None:
        if self.client is not None:
            self.client.close()
        from ..store.database import db

        if not db.is_closed():
            db.close()
