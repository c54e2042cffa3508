"""Opening and closing a desk, the one way the window and the CLI both use:
settings → the built-in demo Maelis when none is configured → database
(migrated) → Maelis client → services; closed in the reverse order.

This is the only production module that imports the simulator.
"""

from __future__ import annotations

import logging
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Iterator

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


@contextmanager
def open_desk(settings: Settings) -> Iterator["Desk"]:
    """The open desk for `settings` (its `settings` point at the demo Maelis
    when none is configured); everything it opened is closed on leaving,
    also when opening fails half-way."""
    from .services import Desk

    simulator = None
    desk = None
    try:
        settings, simulator = start_demo(settings)
        desk = Desk.open(settings)
        yield desk
    finally:
        if desk is not None:
            desk.close()
        if simulator is not None:
            simulator.stop()


def run_simulator(args) -> int:
    """`maelis-desk simulator`: the demo Maelis alone, until interrupted.
    Returns 0, or 2 for an unknown fault mode."""
    import sys

    from .simulator import FAULT_MODES
    from .simulator import run_simulator as serve

    if args.fault and args.fault not in FAULT_MODES:
        print(f"Mode de panne inconnu : {args.fault} (au choix : {', '.join(FAULT_MODES)})", file=sys.stderr)
        return 2
    serve(
        host=args.host,
        port=args.port,
        families=args.families,
        latency=args.latency,
        fault=args.fault,
        state_dir=Path(args.state_dir) if args.state_dir else None,
        seed=args.seed,
    )
    return 0


def demo_family_numbers(settings: Settings) -> list[int]:
    """The demo Maelis' family numbers (for the demo's first cache fill)."""
    from .simulator.data import FIRST_FAMILY

    return list(range(FIRST_FAMILY, FIRST_FAMILY + settings.demo_families))
