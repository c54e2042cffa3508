#!/usr/bin/env bash
# The desk on a real X server, driven with the keyboard as a cashier would.
#
#   scripts/x-check.sh [--out DIR]      (default DIR: screenshots/x)
#
# Starts Xvfb (an X server in memory) and a window manager (openbox), then runs
# scripts/x_flow.py with QT_QPA_PLATFORM=xcb against the demo Maelis: search,
# open, F9, pay in cash, confirm, print the receipt to a PDF file, open an
# invoice's PDF and print it. Keys go through the X server (xdotool key);
# a screenshot of the whole screen (ImageMagick's `import -window root`) is
# written to DIR at each step. Exits non-zero on any unexpected error (a Qt
# warning, a traceback, a step that does not happen). xvfb, openbox, xdotool
# and imagemagick are installed when missing (apt-get, as scripts/setup.sh does).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/system-packages.sh

out=screenshots/x
while [ "$#" -gt 0 ]; do
  case "$1" in
    --out) out=$2; shift 2 ;;
    *) echo "usage : scripts/x-check.sh [--out DOSSIER]" >&2; exit 2 ;;
  esac
done

need=()
have_cmd Xvfb || need+=(xvfb)
have_cmd openbox || need+=(openbox)
have_cmd xdotool || need+=(xdotool)
have_cmd import || need+=(imagemagick)
have_cmd setxkbmap || need+=(x11-xkb-utils)
[ "${#need[@]}" -eq 0 ] || apt_install "${need[@]}"
[ -x .venv/bin/python ] || scripts/setup.sh

run=$(mktemp -d "${TMPDIR:-/tmp}/maelis-x.XXXXXX")
pids=()
cleanup() {
  local pid
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$run"
}
trap cleanup EXIT

# Xvfb picks a free display itself and writes its number on fd 3 once it accepts connections.
Xvfb -displayfd 3 -screen 0 1366x768x24 -nolisten tcp -noreset 3>"$run/display" 2>"$run/xvfb.log" &
pids+=($!)
for _ in $(seq 1 200); do
  [ -s "$run/display" ] && break
  kill -0 "${pids[0]}" 2>/dev/null || { cat "$run/xvfb.log" >&2; echo "Xvfb n'a pas démarré." >&2; exit 1; }
  sleep 0.05
done
[ -s "$run/display" ] || { echo "Xvfb n'a pas donné de numéro d'écran." >&2; exit 1; }
export DISPLAY=":$(tr -d '[:space:]' <"$run/display")"

# A French keyboard (AZERTY), as at the counter: « è » is a key of its own, typed as such.
setxkbmap -layout fr

# openbox runs --startup once it manages the screen: that is when windows may open.
openbox --sm-disable --startup "touch $run/wm-ready" >"$run/openbox.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 200); do
  [ -e "$run/wm-ready" ] && break
  kill -0 "${pids[1]}" 2>/dev/null || { cat "$run/openbox.log" >&2; echo "openbox n'a pas démarré." >&2; exit 1; }
  sleep 0.05
done
[ -e "$run/wm-ready" ] || { echo "openbox n'a pas démarré." >&2; exit 1; }

echo "Le poste sur un vrai serveur X ($DISPLAY, openbox) ; captures dans $out"
QT_QPA_PLATFORM=xcb .venv/bin/python scripts/x_flow.py --out "$out"
