"""Column types the contract needs and peewee lacks: aware date-times, JSON, enumerations."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import peewee


class AwareDateTimeField(peewee.CharField):
    """A timezone-aware datetime stored as UTC ISO text (sorts as it reads)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 32)
        super().__init__(**kwargs)

    def db_value(self, value):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime refused: the desk stores aware times only")
        return value.astimezone(timezone.utc).isoformat(timespec="microseconds")

    def python_value(self, value):
        return None if value is None else datetime.fromisoformat(value)


def utc_text(value: datetime) -> str:
    """The stored form of an aware datetime, for raw comparisons in queries."""
    return AwareDateTimeField().db_value(value)


class JSONTextField(peewee.TextField):
    """A JSON document kept as text (portable across SQLite and PostgreSQL)."""

    def db_value(self, value):
        return None if value is None else json.dumps(value, ensure_ascii=False, separators=(",", ":"))

    def python_value(self, value):
        return None if value is None else json.loads(value)


class EnumField(peewee.CharField):
    """A `str` enumeration of the domain stored as its value (a VARCHAR)."""

    def __init__(self, enum, **kwargs):
        self.enum = enum
        super().__init__(**kwargs)

    def db_value(self, value):
        return None if value is None else self.enum(value).value

    def python_value(self, value):
        return None if value is None else self.enum(value)
