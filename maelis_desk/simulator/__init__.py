"""The demo Maelis: a SOAP 1.1 server honouring shared/maelis-contract.md.

Production code never imports this package; only the launcher does, when no
Maelis URL is configured, and the tests.

Public API::

    from maelis_desk.simulator import Simulator, run_simulator, FAULT_MODES

    with Simulator(families=300, state_dir=path) as sim:
        zeep.Client(f"{sim.url}/InvoiceService?wsdl", wsse=UsernameToken("demo", "demo"))
        sim.set_fault("lost"); sim.set_latency(0.5); sim.applied_payments()

See :mod:`.server` for the fault modes and the HTTP control endpoint,
:mod:`.soap` for the SOAP behaviour and :mod:`.data` for the demo data
(family 1312 is the hand-written demo family). From a shell::

    python -m maelis_desk.simulator.server --port 8080

The server classes are imported lazily so that running ``server`` as a
script does not import it twice.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .soap import FAULT_MODES

if TYPE_CHECKING:
    from .server import Simulator, run_simulator

__all__ = ["FAULT_MODES", "Simulator", "run_simulator"]


def __getattr__(name: str) -> Any:
    if name in ("Simulator", "run_simulator"):
        from . import server

        return getattr(server, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
