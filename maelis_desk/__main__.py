"""`maelis-desk` and `python -m maelis_desk`: the window, or a command."""

from __future__ import annotations

import os
import sys

#: the reader of our output went away (`maelis-desk invoices 1312 | head -3`): 128 + SIGPIPE,
#: as a command killed by the signal would end, and nothing printed (it is not the desk's failure)
EXIT_PIPE_CLOSED = 141

#: what the desk writes (its database, logs, WSDL copies, receipts, reports, dockets) carries
#: families' names and money: its user's alone, files 0600 and folders 0700 (issue 8 point 8)
PRIVATE_UMASK = 0o077


def main(argv: list[str] | None = None) -> int:
    from .cli import run

    os.umask(PRIVATE_UMASK)
    try:
        code = run(argv)
        sys.stdout.flush()  # what is still buffered fails here, not in the interpreter's exit
        return code
    except BrokenPipeError:
        # Python's advice: point stdout at /dev/null, so the exit's own flush does not fail again
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_PIPE_CLOSED


if __name__ == "__main__":
    sys.exit(main())
