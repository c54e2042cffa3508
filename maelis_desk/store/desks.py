"""Desk codes in a database: each is held by one settings folder.

A desk is a settings folder (MAELIS_DESK_HOME, or the user's data folder), not
a machine: two desks of one machine have two folders. The folder's identity is
a random id kept in its `desk-id` file; a code claimed by a folder is refused
to another folder for as long as the first was opened in the last `live_for`,
so two live desks never work under one code (one cash session, one receipt
prefix). A folder silent longer (a reinstalled PC) leaves its code to the next.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from .database import locking, writing
from .models import DeskClaim


@dataclass(frozen=True)
class Claim:
    code: str
    home_id: str
    name: str
    home: str
    seen_at: datetime


class CodeTaken(Exception):
    """The code is another live folder's (`holder`)."""

    def __init__(self, holder: Claim):
        super().__init__(holder.code)
        self.holder = holder


def _claim(row: DeskClaim) -> Claim:
    return Claim(row.code, row.home_id, row.name, row.home, row.seen_at)


def claim(code: str, *, home_id: str, name: str, home: str, at: datetime, live_for: timedelta) -> Claim:
    """Take (or keep) `code` for the folder `home_id`; CodeTaken when another folder
    opened it less than `live_for` ago. One transaction: two desks claiming at once
    are serialised (the row, or the write lock), the second sees the first."""
    with writing():
        row = locking(DeskClaim.select().where(DeskClaim.code == code)).first()
        if row is not None and row.home_id != home_id and at - row.seen_at < live_for:
            raise CodeTaken(_claim(row))
        if row is None:
            DeskClaim.insert(code=code, home_id=home_id, name=name, home=home, seen_at=at).on_conflict_ignore().execute()
            row = DeskClaim.get(DeskClaim.code == code)
            if row.home_id != home_id:  # inserted by another folder in between (PostgreSQL)
                raise CodeTaken(_claim(row))
        else:
            DeskClaim.update(home_id=home_id, name=name, home=home, seen_at=at).where(
                DeskClaim.code == code).execute()
            row = DeskClaim.get(DeskClaim.code == code)
        return _claim(row)

