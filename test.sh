#!/usr/bin/env bash
# Run the whole test suite (unit, integration, GUI offscreen, and the window on a
# real X server: tests/x, scripts/x-check.sh), after setting up.
set -euo pipefail
cd "$(dirname "$0")"
scripts/setup.sh --test
export QT_QPA_PLATFORM=offscreen
exec .venv/bin/python -m pytest "$@"
