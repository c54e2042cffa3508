"""Operator accounts: kept, never deleted; every creation and change journaled
in the same transaction. Password hashes are made and checked by the services
(argon2); this module only keeps them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from . import journal
from .database import db
from .models import Operator


@dataclass(frozen=True)
class OperatorRow:
    login: str
    full_name: str
    role: str
    active: bool
    password_hash: str
    created_at: datetime
    updated_at: datetime


def _row(o: Operator) -> OperatorRow:
    return OperatorRow(o.login, o.full_name, o.role, bool(o.active), o.password_hash, o.created_at, o.updated_at)


class OperatorExists(ValueError):
    pass


class Operators:
    def count(self, *, active_only: bool = False) -> int:
        query = Operator.select()
        if active_only:
            query = query.where(Operator.active == True)  # noqa: E712 - peewee expression
        return query.count()

    def get(self, login: str) -> OperatorRow | None:
        o = Operator.get_or_none(Operator.login == login)
        return None if o is None else _row(o)

    def list(self) -> list[OperatorRow]:
        return [_row(o) for o in Operator.select().order_by(Operator.login)]

    def active_with_role(self, role: str) -> list[str]:
        return [o.login for o in Operator.select(Operator.login).where(
            (Operator.role == role) & (Operator.active == True))]  # noqa: E712

    def create(self, *, login: str, full_name: str, role: str, password_hash: str, at: datetime,
               by: str | None, desk: str) -> OperatorRow:
        with db.atomic():
            if Operator.get_or_none(Operator.login == login) is not None:
                raise OperatorExists(login)
            o = Operator.create(login=login, full_name=full_name, role=role, active=True,
                                password_hash=password_hash, created_at=at, updated_at=at)
            journal.append("operator.created", at=at, desk=desk, operator=by,
                           data={"login": login, "full_name": full_name, "role": role})
        return _row(o)

    def update(self, login: str, *, at: datetime, by: str | None, desk: str, journaled: bool = True,
               **changes) -> OperatorRow:
        """Change an account (full_name, role, active, password_hash); the
        journal says what changed (never the hash itself)."""
        with db.atomic():
            o = Operator.get(Operator.login == login)
            changed = {k: v for k, v in changes.items() if getattr(o, k) != v}
            if changed:
                Operator.update(updated_at=at, **changed).where(Operator.login == login).execute()
                if journaled:
                    facts = {k: v for k, v in changed.items() if k != "password_hash"}
                    if "password_hash" in changed:
                        facts["password"] = "changé"
                    journal.append("operator.changed", at=at, desk=desk, operator=by,
                                   data={"login": login, **facts})
            o = Operator.get(Operator.login == login)
        return _row(o)
