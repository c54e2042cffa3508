"""What the desk knows of Maelis' state: en ligne, lent, hors ligne.

It is also a circuit breaker. Once Maelis failed to answer, the next calls
within `retry_after` seconds go straight to the cache instead of waiting for
the timeout again: opening a family costs one timeout, not nine.
"""

from __future__ import annotations

import enum
import threading
import time
from dataclasses import dataclass


class State(str, enum.Enum):
    UNKNOWN = "unknown"
    ONLINE = "online"
    SLOW = "slow"
    OFFLINE = "offline"
    REFUSED = "refused"  # Maelis answers, but refuses the desk's credentials

    @property
    def label_fr(self) -> str:
        return {"unknown": "Maelis : ?", "online": "Maelis en ligne", "slow": "Maelis lent",
                "offline": "Maelis hors ligne", "refused": "Identification refusée par Maelis"}[self.value]


@dataclass(frozen=True)
class Snapshot:
    state: State
    error: str | None
    last_duration: float | None


class MaelisHealth:
    def __init__(self, *, timeout: float, retry_after: float = 20.0, clock=time.monotonic):
        self.timeout = timeout
        self.retry_after = retry_after
        self._clock = clock
        self._lock = threading.Lock()
        self._state = State.UNKNOWN
        self._error: str | None = None
        self._down_since: float | None = None
        self._last_duration: float | None = None

    def snapshot(self) -> Snapshot:
        with self._lock:
            return Snapshot(self._state, self._error, self._last_duration)

    def should_try(self) -> bool:
        """False while the breaker is open (Maelis failed less than retry_after ago)."""
        with self._lock:
            if self._down_since is None:
                return True
            return self._clock() - self._down_since >= self.retry_after

    def succeeded(self, duration: float) -> None:
        with self._lock:
            self._down_since = None
            self._error = None
            self._last_duration = duration
            self._state = State.SLOW if duration > self.timeout / 2 else State.ONLINE

    def failed(self, error: str) -> None:
        with self._lock:
            self._down_since = self._clock()
            self._error = error
            self._state = State.OFFLINE

    def refused(self, error: str) -> None:
        """Maelis refused the credentials: not an outage, but no use asking again at once."""
        with self._lock:
            self._down_since = self._clock()
            self._error = error
            self._state = State.REFUSED

    def reset(self) -> None:
        with self._lock:
            self._down_since = None
