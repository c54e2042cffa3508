#!/usr/bin/env bash
# Run the whole test suite (unit, integration, GUI offscreen, and the window on a
# real X server: tests/x, scripts/x-check.sh), after setting up.
# The store, payment and CLI tests run on SQLite and on a throw-away PostgreSQL
# server started here (scripts/postgres.sh; MAELIS_DESK_TEST_POSTGRES=<url> uses
# yours, MAELIS_DESK_TEST_POSTGRES=none skips them, saying why).
set -euo pipefail
cd "$(dirname "$0")"
scripts/setup.sh --test
. scripts/system-packages.sh
. scripts/postgres.sh
postgres_start || true
export QT_QPA_PLATFORM=offscreen
status=0
.venv/bin/python -m pytest "$@" || status=$?
postgres_stop
exit $status
