"""Testing a connection to Maelis with settings not saved yet (the settings dialog)."""

from __future__ import annotations

from ..config import Settings
from ..domain import Regie
from ..maelis import MaelisClient, MaelisError
from .errors import from_maelis


def test_connection(settings: Settings) -> list[Regie]:
    """Fetch both WSDLs and the régie list with these settings.

    Returns the régies on success; raises the precise DeskError otherwise
    (unreachable, authentication refused, protocol error...)."""
    client = MaelisClient(
        settings.maelis_url or "",
        settings.user,
        settings.password or "",
        timeout=settings.timeout,
        wsdl_dir=None,  # a test must really reach Maelis, not an old copy
    )
    try:
        client.connect()
        return client.read_regies()
    except MaelisError as exc:
        raise from_maelis(exc) from exc
    finally:
        client.close()


test_connection.__test__ = False  # not a pytest test, despite its name
