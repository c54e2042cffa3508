"""The cache's tables. Only the store package touches them.

Each invoice keeps its whole contract data as JSON (`data`), keyed by
(régie, number); `InvoiceList` remembers when a family's list in a régie was
read, also when it was empty, so "nothing owed" is a cached answer too.
"""

from __future__ import annotations

import peewee

from .database import db
from .fields import AwareDateTimeField, JSONTextField


class BaseModel(peewee.Model):
    class Meta:
        database = db
        legacy_table_names = False


class SchemaVersion(BaseModel):
    version = peewee.IntegerField()
    applied_at = AwareDateTimeField()


class Setting(BaseModel):
    """Small facts kept by the store: when the régies were read, etc."""

    key = peewee.CharField(primary_key=True, max_length=64)
    value = JSONTextField()


class Regie(BaseModel):
    code = peewee.IntegerField(primary_key=True)
    label = peewee.CharField(max_length=200)
    position = peewee.IntegerField(default=0)


class Family(BaseModel):
    number = peewee.IntegerField(primary_key=True)
    data = JSONTextField()  # domain.Family.to_json()
    complete = peewee.BooleanField(default=False)  # read with readFamily, not only a search summary
    fetched_at = AwareDateTimeField()
    opened_at = AwareDateTimeField(null=True)  # last time a desk opened it


class FamilyWord(BaseModel):
    """Normalised words (names, number) for the offline search: prefix ranges."""

    word = peewee.CharField(max_length=64)
    family = peewee.IntegerField()

    class Meta:
        primary_key = peewee.CompositeKey("word", "family")
        indexes = ((("family",), False),)


class InvoiceList(BaseModel):
    family = peewee.IntegerField()
    regie = peewee.IntegerField()
    fetched_at = AwareDateTimeField()
    checked_at = AwareDateTimeField(null=True)  # last attempt, successful or not

    class Meta:
        primary_key = peewee.CompositeKey("family", "regie")


class Invoice(BaseModel):
    regie = peewee.IntegerField()
    number = peewee.IntegerField()
    family = peewee.IntegerField()
    data = JSONTextField()  # domain.Invoice.to_json()

    class Meta:
        primary_key = peewee.CompositeKey("regie", "number")
        indexes = ((("family", "regie"), False),)


CACHE_MODELS = [SchemaVersion, Setting, Regie, Family, FamilyWord, InvoiceList, Invoice]
