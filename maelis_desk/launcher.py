"""Starting the desk: settings, and the built-in demo Maelis when none is configured.

This is the only production module that imports the simulator.
"""

from __future__ import annotations

import logging
from dataclasses import replace

from .config import Settings

log = logging.getLogger(__name__)


def start_demo(settings: Settings):
    """When no Maelis URL is configured, run the demo Maelis in this process.

    Returns (settings pointing at it, the running simulator or None)."""
    if not settings.demo or settings.offline:
        return settings, None
    from .simulator import Simulator

    sim = Simulator(
        host="127.0.0.1",
        port=0,
        families=settings.demo_families,
        state_dir=settings.profile_dir / "simulator",
        user=settings.user,
        password=settings.password or "",
    ).start()
    log.info("Demo Maelis started at %s", sim.url)
    return replace(settings, demo_url=sim.url), sim


def demo_family_numbers(settings: Settings) -> list[int]:
    """The demo Maelis' family numbers (for the demo's first cache fill)."""
    from .simulator.data import FIRST_FAMILY

    return list(range(FIRST_FAMILY, FIRST_FAMILY + settings.demo_families))
