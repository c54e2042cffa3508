#!/usr/bin/env bash
# Run the whole test suite (unit, integration, GUI offscreen), after setting up.
set -euo pipefail
cd "$(dirname "$0")"
scripts/setup.sh
export QT_QPA_PLATFORM=offscreen
exec .venv/bin/python -m pytest "$@"
