"""The desk: one object that holds the open database, the Maelis client and
the use cases, for the CLI and the UI alike."""

from __future__ import annotations

import logging

from ..config import Settings
from ..maelis import MaelisClient
from ..store import Cache, open_database
from .health import MaelisHealth
from .reading import Reader

log = logging.getLogger(__name__)


class Desk:
    def __init__(self, settings: Settings, *, client: MaelisClient | None, cache: Cache, health: MaelisHealth):
        self.settings = settings
        self.client = client
        self.cache = cache
        self.health = health
        self.reader = Reader(client, cache, health)

    @classmethod
    def open(cls, settings: Settings) -> "Desk":
        """Open the database (migrating it) and prepare, without calling it yet, the client."""
        open_database(settings.database_spec)
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
        return cls(settings, client=client, cache=Cache(), health=MaelisHealth(timeout=settings.timeout))

    def close(self) -> None:
        if self.client is not None:
            self.client.close()
        from ..store.database import db

        if not db.is_closed():
            db.close()
