"""`maelis-desk` and `python -m maelis_desk`: the window, or a command."""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    from .cli import run

    return run(argv)


if __name__ == "__main__":
    sys.exit(main())
