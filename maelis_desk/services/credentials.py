"""Credentials Maelis refused: remembered so that nothing retries them blindly.

A wrong password is not an outage. Retrying it every few seconds (the
outbox's pass, the window's reads) changes nothing and may lock the account
on Maelis' side. Once Maelis refused the desk's credentials, the outbox stops
sending until they change (new settings) or a read with them succeeds again
(the account was re-enabled on Maelis' side).

What is remembered, in the database so that every process of the desk knows
it, is a salted PBKDF2 fingerprint of (Maelis URL, user, password): it says
"these exact credentials were refused" without keeping the password.
"""

from __future__ import annotations

import hmac
import logging
import os
import threading

from ..maelis import MaelisClient
from ..store import Cache

log = logging.getLogger(__name__)

KEY = "refused_credentials"

HELD = ("Maelis a refusé l'identification : les paiements restent en attente, sans nouvel essai, "
        "jusqu'à ce que l'utilisateur ou le mot de passe soit corrigé.")


class CredentialsGuard:
    """`known_wrong()`: did Maelis refuse exactly these credentials? Thread-safe."""

    def __init__(self, cache: Cache, client: MaelisClient | None):
        self.cache = cache
        self.client = client
        self._lock = threading.Lock()
        self._known: bool | None = None  # None: not read from the database yet
        #: something in this process was refused, or held back, for these credentials
        self.refused_here = False

    def _stored(self) -> tuple[bytes, str] | None:
        value = self.cache.get_setting(KEY)
        try:
            salt, digest = str(value).split(":", 1)
            return bytes.fromhex(salt), digest
        except (ValueError, AttributeError):
            return None

    def known_wrong(self) -> bool:
        if self.client is None:
            return False
        with self._lock:
            if self._known is None:
                stored = self._stored()
                self._known = stored is not None and hmac.compare_digest(
                    self.client.credentials_fingerprint(stored[0]), stored[1])
            if self._known:
                self.refused_here = True
            return self._known

    def refused(self) -> None:
        """Maelis just refused the credentials."""
        if self.client is None:
            return
        with self._lock:
            self.refused_here = True
            if self._known:
                return
            salt = os.urandom(16)
            self.cache.set_setting(KEY, f"{salt.hex()}:{self.client.credentials_fingerprint(salt)}")
            self._known = True
        log.warning("Maelis refused the credentials of %s: the outbox waits until they change", self.client)

    def accepted(self) -> None:
        """A call with these credentials succeeded: whatever was refused before, they work now."""
        with self._lock:
            if self._known is False:
                return
            if self._known is None and self.cache.get_setting(KEY) is None:
                self._known = False
                return
            self.cache.set_setting(KEY, None)
            self._known = False
