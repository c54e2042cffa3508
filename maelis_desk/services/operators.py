"""Who is at the counter, and what they may do.

The current operator
--------------------
`OperatorService.current` (also `Desk.operator`) is the `domain.Operator`
acting at this desk right now: every use case asks it, through
`require(action)`, before doing anything that takes, shows or changes money.
Until an account exists the desk is a *one-person desk*: `current` is an
implicit régisseur named after the settings' operator, and `one_person` is
True. Once accounts exist, someone must `login()` (the CLI with
`--operator`, the window with its login screen); `logout()`/`lock()` leave
nobody or a locked desk. `on_change(callback)` is told of every change of
operator (the window updates itself; cash sessions hang on it).

Passwords are hashed with Argon2id (argon2-cffi), salted, never kept in
clear nor journaled; an unknown login costs a hash check too, so timing does
not tell which logins exist.
"""

from __future__ import annotations

import logging
import re
import threading
from typing import Callable

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from ..domain import Action, Operator, Role
from ..store.operators import OperatorExists, OperatorRow, Operators
from .errors import AuthenticationRefused, OperatorRefused, PermissionDenied

log = logging.getLogger(__name__)

# OWASP's Argon2id minimum (m = 19 MiB, t = 2, p = 1): ~20 ms per check on a desk PC.
_HASHER = PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1)
_dummy_hash: str | None = None  # made at the first unknown login, not at import (~30 ms of argon2)


def _dummy() -> str:
    """A hash to verify against when the login is unknown: as slow as a real check, so the
    time does not tell which logins exist."""
    global _dummy_hash
    if _dummy_hash is None:
        _dummy_hash = _HASHER.hash("maelis-desk: no such operator")
    return _dummy_hash

LOGIN_RE = re.compile(r"[a-z0-9][a-z0-9._-]{1,31}")
MIN_PASSWORD = 4

#: the demo's accounts, shown on its login screen (never created outside the demo)
DEMO_ACCOUNTS = (
    ("caisse", "Camille Caissière", Role.CAISSIER, "caisse"),
    ("regie", "Régis Dupont", Role.REGISSEUR, "regie"),
    ("controle", "Claire Contrôle", Role.SUPERVISEUR, "controle"),
)


ACTION_LABELS = {
    Action.READ: "consulter les dossiers",
    Action.TAKE_PAYMENT: "encaisser un paiement",
    Action.PRINT_RECEIPT: "imprimer une quittance",
    Action.SEE_OWN_PAYMENTS: "voir ses paiements",
    Action.SEE_ALL_PAYMENTS: "voir les paiements de tous les opérateurs",
    Action.TRANSMIT: "envoyer les paiements à Maelis",
    Action.CANCEL_PAYMENT: "annuler un paiement",
    Action.REGULARIZE: "marquer une régularisation faite dans Maelis",
    Action.RESOLVE_TRANSMISSION: "dire si un paiement en doute a été appliqué dans Maelis",
    Action.MANAGE_OPERATORS: "gérer les comptes des opérateurs",
    Action.SEE_OPERATORS: "voir les comptes des opérateurs",
    Action.CHANGE_SETTINGS: "modifier les réglages",
    Action.SEE_JOURNAL: "consulter le journal",
    Action.MANAGE_DOCKETS: "préparer, valider ou supprimer un bordereau",
    Action.SEE_DOCKETS: "consulter les bordereaux et l'état mensuel",
}


def _operator(row: OperatorRow) -> Operator:
    return Operator(row.login, row.full_name, Role(row.role), row.active)


class OperatorService:
    def __init__(self, store: Operators, *, desk: str, clock, fallback_name: str):
        self.store = store
        self.desk = desk
        self.clock = clock
        self.fallback_name = fallback_name or "caisse"
        self._current: Operator | None = None
        self._locked = False
        self._lock = threading.Lock()
        self._listeners: list[Callable[[Operator | None], None]] = []

    # -- who is here --------------------------------------------------------------

    def has_accounts(self) -> bool:
        return self.store.count() > 0

    @property
    def one_person(self) -> bool:
        """No account yet: the desk works for one person and says so."""
        return not self.has_accounts()

    @property
    def current(self) -> Operator:
        """The operator acting now; raises AuthenticationRefused when accounts
        exist and nobody is logged in (or the desk is locked)."""
        with self._lock:
            current, locked = self._current, self._locked
        if current is not None and not locked:
            return current
        if current is None and self.one_person:
            return Operator(self.fallback_name, self.fallback_name, Role.REGISSEUR, implicit=True)
        raise AuthenticationRefused("Poste verrouillé : identifiez-vous." if locked else
                                    "Aucun opérateur identifié : connectez-vous d'abord.")

    @property
    def current_or_none(self) -> Operator | None:
        try:
            return self.current
        except AuthenticationRefused:
            return None

    @property
    def locked(self) -> bool:
        return self._locked

    @property
    def present(self) -> tuple[Operator | None, bool]:
        """Who is logged in (kept while locked) and whether the desk is locked; no database read."""
        with self._lock:
            return self._current, self._locked

    def on_change(self, callback: Callable[[Operator | None], None]) -> None:
        self._listeners.append(callback)

    def _set(self, operator: Operator | None, locked: bool = False) -> None:
        with self._lock:
            self._current, self._locked = operator, locked
        for callback in list(self._listeners):
            try:
                callback(operator)
            except Exception:  # noqa: BLE001 - a listener must not stop a login
                log.exception("operator listener failed")

    def _check(self, login: str, password: str) -> OperatorRow:
        row = self.store.get(login.strip().lower()) if login else None
        try:
            _HASHER.verify(row.password_hash if row else _dummy(), password or "")
        except (VerificationError, InvalidHashError):
            raise AuthenticationRefused("Identifiant ou mot de passe incorrect.") from None
        if row is None:  # pragma: no cover - the dummy hash never verifies
            raise AuthenticationRefused("Identifiant ou mot de passe incorrect.")
        if not row.active:
            raise AuthenticationRefused(f"Le compte « {row.login} » est désactivé.")
        if _HASHER.check_needs_rehash(row.password_hash):
            self.store.update(row.login, at=self.clock(), by=row.login, desk=self.desk, journaled=False,
                              password_hash=_HASHER.hash(password))
        return row

    def login(self, login: str, password: str) -> Operator:
        """Check the password and make this operator the current one."""
        operator = _operator(self._check(login, password))
        self._set(operator)
        log.info("Operator %s logged in", operator.login)
        return operator

    def logout(self) -> None:
        self._set(None)

    def lock(self) -> None:
        """Idle desk: the operator stays, but nothing is allowed until unlocked."""
        with self._lock:
            if self._current is None:
                return
            self._locked = True
        for callback in list(self._listeners):
            callback(self._current)

    def unlock(self, password: str) -> Operator:
        with self._lock:
            current = self._current
        if current is None:
            raise AuthenticationRefused("Aucun opérateur à déverrouiller.")
        return self.login(current.login, password)

    # -- what they may do ---------------------------------------------------------

    def require(self, action: Action) -> Operator:
        """The current operator if their role allows `action`; else PermissionDenied."""
        operator = self.current
        if not operator.can(action):
            what = ACTION_LABELS[action]
            of = "d'" if what[0] in "aeiouéèh" else "de "
            raise PermissionDenied(
                f"{operator.full_name} ({operator.role.label_fr.lower()}) n'a pas le droit {of}{what}.", action)
        return operator

    def allowed(self, action: Action) -> bool:
        operator = self.current_or_none
        return operator is not None and operator.can(action)

    def sees_payments_of(self) -> str | None:
        """None: every operator's payments; else the login whose payments only are shown."""
        operator = self.require(Action.SEE_OWN_PAYMENTS)
        return None if operator.can(Action.SEE_ALL_PAYMENTS) else operator.login

    # -- accounts -----------------------------------------------------------------

    def add(self, login: str, full_name: str, role: Role | str, password: str) -> Operator:
        """Create an account. The first one must be a régisseur's (it manages the others)."""
        role = Role(role)
        first = not self.has_accounts()
        by = None
        if first:
            if role is not Role.REGISSEUR:
                raise OperatorRefused("Le premier compte doit être celui du régisseur (rôle regisseur).")
        else:
            by = self.require(Action.MANAGE_OPERATORS).login
        login = (login or "").strip().lower()
        if not LOGIN_RE.fullmatch(login):
            raise OperatorRefused("Identifiant invalide : 2 à 32 lettres minuscules, chiffres, « . », « _ » ou « - ».")
        full_name = (full_name or "").strip()
        if not full_name:
            raise OperatorRefused("Le nom complet est obligatoire.")
        if len(password or "") < MIN_PASSWORD:
            raise OperatorRefused(f"Mot de passe trop court ({MIN_PASSWORD} caractères au moins).")
        try:
            row = self.store.create(login=login, full_name=full_name[:200], role=role.value,
                                    password_hash=_HASHER.hash(password), at=self.clock(), by=by, desk=self.desk)
        except OperatorExists:
            raise OperatorRefused(f"Le compte « {login} » existe déjà.") from None
        return _operator(row)

    def list(self) -> list[Operator]:
        self.require(Action.SEE_OPERATORS)
        return [_operator(r) for r in self.store.list()]

    def _change(self, login: str, **changes) -> Operator:
        by = self.require(Action.MANAGE_OPERATORS).login
        row = self.store.get((login or "").strip().lower())
        if row is None:
            raise OperatorRefused(f"Compte inconnu : « {login} ».")
        demoted = (changes.get("active") is False or changes.get("role", Role.REGISSEUR.value) != Role.REGISSEUR.value)
        if row.role == Role.REGISSEUR.value and row.active and demoted:
            if self.store.active_with_role(Role.REGISSEUR.value) == [row.login]:
                raise OperatorRefused("C'est le dernier compte régisseur actif : créez-en un autre d'abord.")
        return _operator(self.store.update(row.login, at=self.clock(), by=by, desk=self.desk, **changes))

    def disable(self, login: str) -> Operator:
        return self._change(login, active=False)

    def enable(self, login: str) -> Operator:
        return self._change(login, active=True)

    def set_role(self, login: str, role: Role | str) -> Operator:
        return self._change(login, role=Role(role).value)

    def set_password(self, login: str, password: str) -> Operator:
        if len(password or "") < MIN_PASSWORD:
            raise OperatorRefused(f"Mot de passe trop court ({MIN_PASSWORD} caractères au moins).")
        return self._change(login, password_hash=_HASHER.hash(password))

    def seed_demo(self) -> bool:
        """The demo's accounts (DEMO_ACCOUNTS), if the demo database has none yet."""
        if self.has_accounts():
            return False
        for login, name, role, password in sorted(DEMO_ACCOUNTS, key=lambda a: a[2] is not Role.REGISSEUR):
            row = self.store.create(login=login, full_name=name, role=role.value,
                                    password_hash=_HASHER.hash(password), at=self.clock(), by=None, desk=self.desk)
            log.info("Demo account %s created", row.login)
        return True


__all__ = ["AuthenticationRefused", "DEMO_ACCOUNTS", "OperatorRefused", "OperatorService", "PermissionDenied"]
