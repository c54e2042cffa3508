"""Crash injection for the payment pipeline's tests.

Production code calls `failpoint(step)` at each durable step of recording and
transmitting a payment; it does nothing unless the environment variable
`MAELIS_DESK_FAILPOINT` names that step, in which case the process is killed
on the spot (SIGKILL: no clean-up, no flush, like a power cut).
"""

from __future__ import annotations

import logging
import os
import signal

log = logging.getLogger(__name__)


def failpoint(step: str) -> None:
    """Crash tests: `MAELIS_DESK_FAILPOINT=<step>` kills this process (SIGKILL,
    no clean-up at all) when the pipeline reaches `step`. Steps: claimed,
    sending, answered, sent, uncertain, recorded."""
    if os.environ.get("MAELIS_DESK_FAILPOINT") == step:
        log.warning("failpoint %s: killing the process", step)
        os.kill(os.getpid(), getattr(signal, "SIGKILL", signal.SIGTERM))
