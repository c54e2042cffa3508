"""Shared facts of the integration tests."""

from __future__ import annotations

import os
import pwd
import shlex
import subprocess

DEMO_FAMILY = 1312  # the hand-written demo family of the simulator

#: the throw-away PostgreSQL server of scripts/postgres.sh (`pg_ctl -D DATA`), for the tests
#: that stop and restart it mid-run; unset when there is none (or a server of one's own)
POSTGRES_CTL = os.environ.get("MAELIS_DESK_TEST_POSTGRES_CTL")


def postgres_server(action: str) -> None:
    """Stop (at once, as a crash would: `-m immediate`) or start again the test server."""
    pg_ctl, *_, data = shlex.split(POSTGRES_CTL)
    if action == "stop":
        command = [pg_ctl, "-D", data, "-w", "-m", "immediate", "stop"]
    else:  # with the options it was first started with (postmaster.opts: the program, then its options)
        with open(os.path.join(data, "postmaster.opts"), encoding="utf-8") as fh:
            options = shlex.split(fh.read())[1:]
        command = [pg_ctl, "-D", data, "-w", "-l", os.path.join(os.path.dirname(data), "server.log"),
                   "-o", " ".join(shlex.quote(o) for o in options if not o.startswith(("-D", data))), "start"]
    owner = os.stat(data).st_uid
    if os.geteuid() == 0 and owner != 0:  # the server runs as the unprivileged user owning its folder
        command = ["runuser", "-u", pwd.getpwuid(owner).pw_name, "--", *command]
    subprocess.run(command, check=True, capture_output=True, timeout=60)


def postgres_answers(url: str) -> bool:
    """Whether the server at `url` accepts a connection now."""
    import psycopg

    try:
        psycopg.connect(url, connect_timeout=2).close()
    except psycopg.OperationalError:
        return False
    return True
