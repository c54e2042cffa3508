"""The local database (peewee): the invoice cache and, later, the payments.

Knows nothing of SOAP. Opens SQLite by default and PostgreSQL by URL.
"""

from .cache import Cache, CachedList, normalise
from .database import open_database, release_connection

__all__ = ["Cache", "CachedList", "normalise", "open_database", "release_connection"]
