"""Sending recorded payments to Maelis, exactly once.

The outbox (store.models.Outbox) drives this. States:

    pending ──send──▶ sending ──ack──▶ sent ──Maelis reflects it──▶ confirmed
       ▲                 │ business fault ─────────────────────────▶ rejected
       │                 │ nothing left the desk (connection refused) ─▶ pending (backoff)
       │                 └ answer lost / timeout / garbage / crash ─▶ uncertain
       └──── reconcile: Maelis shows none of it ◀── uncertain ──▶ sent / review

Why it never sends a payment twice
----------------------------------
Maelis does not deduplicate on refTransaction: the same call sent twice is
two payments. So the desk must *know* a payment was not applied before it
sends it again, and it finds out from the only witness it has, the invoices'
`amountPaid`:

1. Before sending, the transmitter reads the family's invoices in the régie
   from Maelis and writes that **baseline** (amountPaid of each invoice of
   the payment) in the outbox, with the state `sending`, durably, *then*
   sends. A crash after that write leaves `sending` behind: whoever finds it
   with its lease expired treats it as `uncertain`, because the request may
   have left.
2. Only a definite answer settles a send: an acknowledgement (`sent`), a
   business fault (`rejected`: Maelis refused it whole, a cashier or a
   supervisor must decide; never retried blindly), or a failure to connect
   at all (nothing was sent: back to `pending`). Everything else - a
   timeout, a connection cut after the request left, an HTML error page,
   garbage, a server error - is `uncertain`.
3. An `uncertain` payment is never sent again by the desk itself. Maelis
   may keep working on a request long after its client gave up (a payInvoices
   answered after 75 s to a desk that waited 2 s is ordinary), and no delay
   tells "not applied" apart from "not applied *yet*": a resend in doubt is
   the one way to take a family's money twice. So the transmitter re-reads
   the invoices and compares with the baseline, first `settle` seconds after
   the request left, then at twice that age, four times... up to `horizon`
   (an hour by default, MAELIS_DESK_HORIZON_SECONDS):
   - the paid amounts grew by exactly the payment's amount: very likely
     applied, but nothing acknowledged it, and the same amount paid online
     or at another desk meanwhile looks the same → `matched`, listed for a
     supervisor to check (never shown as « Confirmé par Maelis »);
   - they did not move: still unknown → stays `uncertain`, read again later;
     once `horizon` has passed with nothing seen → `review`;
   - they moved by anything else (someone paid these invoices elsewhere in
     the meantime): the desk cannot tell → `review`.
   `review` and `matched` wait for a person (`resolve`: a régisseur who
   looked in Maelis says "applied", and it is confirmed, or "not applied",
   and only then it is sent again with a fresh baseline). Until then the
   money counts as taken, on every view.
   The comparison is only meaningful if nothing else of ours moves those
   invoices meanwhile, so a payment is never sent while another payment of
   the same family and régie is `sending` or `uncertain`.
4. Two desks sharing the database: each transition happens under a lease
   taken by an atomic UPDATE (store.Payments.claim), so one desk at a time
   works on an entry, and a lease outlives any call it covers. Point 3's
   « one unknown at a time per family and régie » holds across desks too: a
   claim to send locks the family's entries in the régie first (FOR UPDATE on
   PostgreSQL, the write lock on SQLite), so two desks cannot each start
   sending another payment of the same family. A desk that dies mid-send
   leaves its entry `sending`: once its lease has expired, another desk may
   take it only as `sending`, to make it `uncertain` (never as `pending`), and
   reconciles it after `settle` like a lost answer — it is never resent
   before a person said it was not applied.

A `sent` payment becomes `confirmed` as soon as any read of that family's
régie from Maelis shows the amount applied (the transmitter re-reads right
after the acknowledgement; the reader also checks on every refresh): only an
acknowledged payment is ever `confirmed` by the desk itself.

What each entry waits for, and since when, is said by `explain` (the outbox
window and `maelis-desk outbox`).
"""

from __future__ import annotations

import logging
import random
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Callable

from ..domain import ZERO, Invoice, PaymentState
from ..formatting import duration_fr, euros, fr_datetime
from ..maelis import MaelisAuthError, MaelisClient, MaelisError, MaelisFault, MaelisUnavailable
from ..store import Cache
from ..store.database import DatabaseUnavailable
from ..store.payments import PaymentRecord, Payments
from .clock import invoice_window
from .credentials import HELD, CredentialsGuard
from .failpoints import failpoint
from .health import MaelisHealth

log = logging.getLogger(__name__)


@dataclass
class TransmitReport:
    """What one pass of the transmitter did, by outcome."""

    sent: int = 0
    confirmed: int = 0
    retried: int = 0
    uncertain: int = 0
    rejected: int = 0
    review: int = 0
    skipped: int = 0
    errors: list[str] = field(default_factory=list)
    #: nothing sent: Maelis refused these credentials (now or before), see credentials.py
    held: bool = False

    @property
    def worked(self) -> int:
        return self.sent + self.confirmed + self.retried + self.uncertain + self.rejected + self.review


class Transmitter:
    """Works through the outbox. `run_once()` is safe to call from any thread,
    on any number of desks sharing the database."""

    def __init__(
        self,
        client: MaelisClient | None,
        cache: Cache,
        payments: Payments,
        *,
        owner: str,
        clock: Callable[[], datetime],
        settle: float,
        backoff: float,
        lease: float,
        horizon: float,
        credentials: CredentialsGuard | None = None,
        health: MaelisHealth | None = None,
    ):
        self.client = client
        self.health = health  # what the status bar shows: a transmission is a call like any other
        self.credentials = credentials
        self._auth_refused = False
        self.cache = cache
        self.payments = payments
        self.owner = owner
        self.clock = clock
        # how long after a send whose outcome is unknown before reconciling it
        self.settle = timedelta(seconds=settle)
        # how long Maelis is re-read for it before a person is asked (module doc, point 3)
        # (Settings.transmission_horizon gives its default)
        self.horizon = timedelta(seconds=horizon)
        # first retry delay; doubles up to 5 minutes
        self.backoff = backoff
        # a lease covers a baseline read, a send and a confirmation read
        self.lease = timedelta(seconds=lease)

    # -- one pass ---------------------------------------------------------------

    def run_once(self, limit: int = 50) -> TransmitReport:
        report = TransmitReport()
        if self.client is None:
            return report
        if self.credentials is not None and self.credentials.known_wrong():
            report.held = True
            report.errors.append(HELD)
            return report
        self._auth_refused = False
        for record in self.payments.due(self.clock(), limit):
            if self._auth_refused:  # credentials refused mid-pass: stop knocking
                if self.credentials is not None:
                    self.credentials.refused()
                report.held = True
                report.errors.append(HELD)
                break
            try:
                self._work(record, report)
            except MaelisError as exc:  # a read failed mid-way: try again later
                report.errors.append(f"{record.receipt} : {exc.message}")
            except DatabaseUnavailable as exc:
                # The shared database lost mid-pass (its server stopped or unreachable): not a bug,
                # and every other entry would fail the same way, so the pass ends here, said in
                # one French line. What was written stays (a `sending` entry is reconciled by the
                # next pass, module doc point 4); what was not, the server rolled back.
                log.info("Transmission stopped at %s: %s", record.receipt, exc)
                report.errors.append(f"{record.receipt} : {exc}")
                break
            except Exception:  # noqa: BLE001 - one bad entry must not stop the others
                log.exception("Transmission of %s failed unexpectedly", record.receipt)
                report.errors.append(f"{record.receipt} : erreur inattendue (voir le journal)")
        if self._auth_refused and not report.held:
            if self.credentials is not None:
                self.credentials.refused()
            report.held = True
            report.errors.append(HELD)
        return report

    def _work(self, record: PaymentRecord, report: TransmitReport) -> None:
        now = self.clock()
        if record.state is PaymentState.SENDING:
            # Someone (maybe a crashed process) was sending it. If its lease is
            # still running, leave it alone; otherwise the request may have left.
            if not self.payments.claim(record.id, self.owner, now, self.lease, states=(PaymentState.SENDING,)):
                report.skipped += 1
                return
            self.payments.transition(
                record.id, self.owner, now, state=PaymentState.UNCERTAIN, action="recover",
                detail="envoi interrompu (arrêt du poste ?) : le paiement a pu partir",
                sent_at=record.sent_at or now,
            )
            report.uncertain += 1
            return
        if record.state is PaymentState.PENDING:
            self._send(record, report)
        elif record.state is PaymentState.UNCERTAIN:
            self._reconcile(record, report)
        elif record.state is PaymentState.SENT:
            self._confirm(record, report)

    # -- reading Maelis ---------------------------------------------------------

    def _read(self, record: PaymentRecord) -> dict[int, Invoice]:
        """The payment's family and régie, read from Maelis now (and cached)."""
        now = self.clock()
        start, end = invoice_window()
        started = time.monotonic()
        try:
            invoices = self.client.read_invoices(record.family, record.regie, start, end)
        except MaelisAuthError:
            self._auth_refused = True
            raise
        except MaelisUnavailable as exc:
            if self.health is not None:
                self.health.failed(exc.message)
            raise
        if self.health is not None:
            self.health.succeeded(time.monotonic() - started)
        self.cache.save_invoices(record.family, record.regie, invoices, now)
        return {inv.number: inv for inv in invoices}

    @staticmethod
    def _paid(invoices: dict[int, Invoice], numbers: list[int]) -> dict[str, str]:
        return {str(n): f"{invoices[n].paid:.2f}" if n in invoices else "0.00" for n in numbers}

    @staticmethod
    def _delta(record: PaymentRecord, invoices: dict[int, Invoice]) -> Decimal | None:
        """How much the payment's invoices' amountPaid grew since the baseline."""
        if not record.baseline:
            return None
        total = ZERO
        for n in record.invoice_numbers:
            if n not in invoices:
                return None  # an invoice vanished from Maelis: let a person look
            total += invoices[n].paid - Decimal(record.baseline[str(n)])
        return total

    def _retry_at(self, attempts: int) -> datetime:
        delay = min(300.0, self.backoff * (2 ** max(0, attempts - 1)))
        return self.clock() + timedelta(seconds=delay * random.uniform(0.8, 1.2))

    # -- pending → sending → sent | rejected | pending | uncertain ------------

    def _send(self, record: PaymentRecord, report: TransmitReport) -> None:
        now = self.clock()
        # One unknown at a time per family and régie (see the module's point 3).
        if not self.payments.claim(record.id, self.owner, now, self.lease, states=(PaymentState.PENDING,), alone=True):
            report.skipped += 1
            return
        failpoint("claimed")
        try:
            current = self._read(record)
        except MaelisError as exc:
            # Nothing was sent: try again later.
            self.payments.transition(
                record.id, self.owner, self.clock(), state=PaymentState.PENDING, action="baseline", outcome="retry",
                detail=exc.message, attempts=record.attempts + 1, next_attempt_at=self._retry_at(record.attempts + 1),
                last_error=exc.message,
            )
            report.retried += 1
            report.errors.append(f"{record.receipt} : rien n'est parti, à réessayer — {exc.message}")
            return
        baseline = self._paid(current, record.invoice_numbers)
        sent_at = self.clock()
        # Durable before the request leaves: from here on, a crash means "uncertain".
        if not self.payments.transition(
            record.id, self.owner, sent_at, state=PaymentState.SENDING, action="send",
            release=False, baseline=baseline, sent_at=sent_at, attempts=record.attempts + 1,
        ):
            report.skipped += 1
            return
        failpoint("sending")
        try:
            ack = self.client.pay_invoices(
                family=record.family,
                regie=record.regie,
                amount=record.amount,
                paid_at=record.created_at,
                reference=record.reference,
                invoices=record.invoice_numbers,
            )
        except MaelisFault as fault:
            if fault.is_business:
                self.payments.transition(
                    record.id, self.owner, self.clock(), state=PaymentState.REJECTED, action="send",
                    detail=fault.text, last_error=fault.message,
                )
                report.rejected += 1
                return
            self._uncertain(record, fault, report)
            return
        except (MaelisUnavailable, MaelisAuthError) as exc:
            if isinstance(exc, MaelisAuthError) or not exc.request_sent:
                self._auth_refused = self._auth_refused or isinstance(exc, MaelisAuthError)
                # Refused at the door (credentials) or never connected: not applied.
                self.payments.transition(
                    record.id, self.owner, self.clock(), state=PaymentState.PENDING, action="send", outcome="retry",
                    detail=exc.message, next_attempt_at=self._retry_at(record.attempts + 1),
                    last_error=exc.message,
                )
                report.retried += 1
                report.errors.append(f"{record.receipt} : rien n'est parti, à réessayer — {exc.message}")
                return
            self._uncertain(record, exc, report)
            return
        except MaelisError as exc:  # protocol error: the request left, the answer is unreadable
            self._uncertain(record, exc, report)
            return
        failpoint("answered")  # Maelis applied it and said so, and we die before writing it down
        self.payments.transition(
            record.id, self.owner, self.clock(), state=PaymentState.SENT, action="send",
            detail=ack, ack=ack, last_error=None, release=False,
        )
        report.sent += 1
        failpoint("sent")
        self._confirm(self.payments.get(record.id), report, claimed=True)

    def _uncertain(self, record: PaymentRecord, exc: MaelisError, report: TransmitReport) -> None:
        self.payments.transition(
            record.id, self.owner, self.clock(), state=PaymentState.UNCERTAIN, action="send",
            detail=exc.message, last_error=f"Réponse de Maelis perdue : {exc.message}",
            next_attempt_at=self.clock() + self.settle,
        )
        report.uncertain += 1
        failpoint("uncertain")

    # -- uncertain → matched | review (never pending by itself) ----------------

    def _next_check(self, sent_at: datetime, now: datetime) -> datetime:
        """settle, 2 × settle, 4 × settle... after the send, the last one at the horizon."""
        age = now - sent_at
        step = self.settle
        while step <= age and step < self.horizon:
            step *= 2
        return sent_at + min(step, self.horizon)

    def _reconcile(self, record: PaymentRecord, report: TransmitReport) -> None:
        now = self.clock()
        sent_at = record.sent_at or record.created_at
        if now - sent_at < self.settle:
            report.skipped += 1  # Maelis may still be working on it: wait
            return
        if not self.payments.claim(record.id, self.owner, now, self.lease, states=(PaymentState.UNCERTAIN,)):
            report.skipped += 1
            return
        try:
            current = self._read(record)
        except MaelisError as exc:
            self.payments.transition(
                record.id, self.owner, self.clock(), state=PaymentState.UNCERTAIN, action="reconcile", outcome="retry",
                detail=exc.message, next_attempt_at=self._retry_at(record.attempts),
            )
            report.errors.append(f"{record.receipt} : {exc.message}")
            return
        now = self.clock()
        age = duration_fr((now - sent_at).total_seconds())
        delta = self._delta(record, current)
        if delta == record.amount:
            self.payments.transition(
                record.id, self.owner, now, state=PaymentState.MATCHED, action="reconcile", outcome="matched",
                detail=f"sans accusé de réception, les montants payés ont augmenté de {euros(delta)} ({age} après l'envoi)",
                last_error="Maelis montre ce montant sur ces factures, sans accusé de réception : vérifier qu'il "
                           "s'agit bien de ce paiement (et non d'un paiement fait ailleurs).",
            )
            report.review += 1
        elif delta == 0 and now - sent_at < self.horizon:
            self.payments.transition(
                record.id, self.owner, now, state=PaymentState.UNCERTAIN, action="reconcile", outcome="not-yet",
                detail=f"Maelis ne montre pas encore le paiement ({age} après l'envoi)",
                next_attempt_at=self._next_check(sent_at, now),
            )
            report.uncertain += 1
        else:
            if delta == 0:
                why = (f"Maelis ne montre toujours pas le paiement {age} après l'envoi : il a pu être perdu, ou "
                       "Maelis le traite encore. Vérifiez dans Maelis avant de le renvoyer")
            elif delta is None:
                why = "une facture a disparu de Maelis"
            else:
                why = f"les montants payés ont varié de {euros(delta)} au lieu de {euros(record.amount)}"
            self.payments.transition(
                record.id, self.owner, now, state=PaymentState.REVIEW, action="reconcile",
                outcome="unseen" if delta == 0 else None,
                detail=why, last_error=f"À vérifier par un superviseur : {why}.",
            )
            report.review += 1

    # -- review | matched | rejected → confirmed | pending: a person decides ------

    def resolve(self, record: PaymentRecord, *, applied: bool, by: str, note: str | None = None) -> PaymentRecord:
        """A person who looked in Maelis says whether this payment was applied.
        Applied: confirmed (by that person). Not applied: sent again, with a fresh baseline.
        Raises ValueError (in French) when the entry is not waiting for a person."""
        if not record.state.needs_person:
            raise ValueError(f"Le paiement {record.receipt} n'attend pas de décision ({record.state.label_fr}).")
        if record.state is PaymentState.REJECTED and applied:
            raise ValueError(f"Maelis a refusé le paiement {record.receipt} : il n'a pas été appliqué.")
        now = self.clock()
        if not self.payments.claim(record.id, self.owner, now, self.lease, states=(record.state,)):
            raise ValueError(f"Le paiement {record.receipt} est traité par un autre poste en ce moment.")
        said = f"{by}{f' : {note}' if note else ''}"
        if applied:
            self.payments.transition(
                record.id, self.owner, now, state=PaymentState.CONFIRMED, action="resolve", outcome="applied",
                detail=f"appliqué dans Maelis, vérifié par {said}", last_error=None,
            )
        else:
            self.payments.transition(
                record.id, self.owner, now, state=PaymentState.PENDING, action="resolve", outcome="resend",
                detail=f"non appliqué dans Maelis, vérifié par {said} : renvoyé", last_error=None,
                next_attempt_at=now, baseline=None,
            )
        return self.payments.get(record.id)

    # -- what an entry waits for ---------------------------------------------------

    def explain(self, record: PaymentRecord, now: datetime | None = None) -> str:
        """What the desk waits for with this payment, and since when, in French."""
        now = now or self.clock()
        state = record.state
        if state is PaymentState.PENDING:
            if record.next_attempt_at and record.next_attempt_at > now:
                return f"Prochain essai à {fr_datetime(record.next_attempt_at)} (essai {record.attempts + 1})"
            return f"Attend l'envoi depuis {fr_datetime(record.updated_at or record.created_at)}"
        if state is PaymentState.SENDING:
            return f"Envoi parti à {fr_datetime(record.sent_at or record.updated_at)}"
        if state is PaymentState.UNCERTAIN:
            sent_at = record.sent_at or record.created_at
            seen = max(now, sent_at)
            nxt = max(record.next_attempt_at or sent_at + self.settle, sent_at + self.settle)
            return (f"Réponse perdue (envoi de {fr_datetime(sent_at)}, il y a {duration_fr((seen - sent_at).total_seconds())}) "
                    f": Maelis relu pour voir s'il l'a appliqué, prochaine lecture à {fr_datetime(nxt)} ; sans trace à "
                    f"{fr_datetime(sent_at + self.horizon)}, un superviseur décidera. Jamais renvoyé en attendant")
        if state is PaymentState.SENT:
            return f"Accusé reçu à {fr_datetime(record.updated_at)} : attend que Maelis le montre sur les factures"
        if state is PaymentState.MATCHED:
            return ("Maelis montre ce montant sans avoir accusé réception : vérifier dans Maelis que c'est bien ce "
                    "paiement (maelis-desk resolve)")
        if state is PaymentState.REVIEW:
            return "Un superviseur doit vérifier dans Maelis s'il a été appliqué (maelis-desk resolve)"
        if state is PaymentState.REJECTED:
            return "Refusé par Maelis : à reprendre avec la famille (annuler ou corriger)"
        return state.label_fr


    # -- sent → confirmed -------------------------------------------------------

    def _confirm(self, record: PaymentRecord, report: TransmitReport, *, claimed: bool = False) -> None:
        if not claimed and not self.payments.claim(record.id, self.owner, self.clock(), self.lease, states=(PaymentState.SENT,)):
            report.skipped += 1
            return
        try:
            current = self._read(record)
        except MaelisError as exc:
            self.payments.transition(
                record.id, self.owner, self.clock(), state=PaymentState.SENT, action="confirm", outcome="retry",
                detail=exc.message, next_attempt_at=self._retry_at(1),
            )
            return
        if confirm_from(record, current):
            self.payments.transition(
                record.id, self.owner, self.clock(), state=PaymentState.CONFIRMED, action="confirm",
                detail="Maelis montre le paiement",
            )
            report.confirmed += 1
        else:
            self.payments.transition(
                record.id, self.owner, self.clock(), state=PaymentState.SENT, action="confirm", outcome="not-yet",
                detail="accusé reçu, Maelis ne le montre pas encore", next_attempt_at=self._retry_at(2),
            )


def confirm_from(record: PaymentRecord, invoices: dict[int, Invoice]) -> bool:
    """Does this Maelis reading reflect a payment acknowledged by Maelis?"""
    delta = Transmitter._delta(record, invoices)
    return delta is not None and delta >= record.amount
