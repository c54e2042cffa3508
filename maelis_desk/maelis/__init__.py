"""The SOAP client of Maelis (zeep over requests). Knows nothing of the cache."""

from .client import MaelisClient
from .errors import MaelisAuthError, MaelisError, MaelisFault, MaelisProtocolError, MaelisUnavailable

__all__ = [
    "MaelisClient",
    "MaelisError",
    "MaelisUnavailable",
    "MaelisAuthError",
    "MaelisFault",
    "MaelisProtocolError",
]
