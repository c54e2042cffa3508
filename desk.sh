#!/usr/bin/env bash
# Run Maelis Desk (with no configuration: on the built-in demo Maelis).
# Arguments go to `maelis-desk` (e.g. ./desk.sh invoices 1312 --json).
set -euo pipefail
cd "$(dirname "$0")"
scripts/setup.sh
exec .venv/bin/maelis-desk "$@"
