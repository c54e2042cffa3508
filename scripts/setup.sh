#!/usr/bin/env bash
# Set up everything Maelis Desk needs on a fresh machine, idempotently:
# the system libraries Qt needs (Debian/Ubuntu, even offscreen), a virtual
# environment in .venv, and the package with its test extra.
set -euo pipefail
cd "$(dirname "$0")/.."

# --- system libraries Qt loads even with QT_QPA_PLATFORM=offscreen ----------
qt_libs=(libglib2.0-0 libgl1 libxkbcommon0 libegl1 libfreetype6 libfontconfig1 libdbus-1-3)
sonames=(libglib-2.0.so.0 libGL.so.1 libxkbcommon.so.0 libEGL.so.1 libfreetype.so.6 libfontconfig.so.1 libdbus-1.so.3)
missing=()
if [ "$(uname -s)" = Linux ] && command -v ldconfig >/dev/null 2>&1; then
  for i in "${!sonames[@]}"; do
    ldconfig -p | grep -q "${sonames[$i]}" || missing+=("${qt_libs[$i]}")
  done
fi
if [ "${#missing[@]}" -gt 0 ]; then
  echo "Installing system libraries for Qt: ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  if command -v apt-get >/dev/null 2>&1; then
    $SUDO apt-get update -qq
    # libglib2.0-0 was renamed libglib2.0-0t64 on newer Debian; take whichever exists.
    pkgs=()
    for p in "${missing[@]}"; do
      if apt-cache show "$p" >/dev/null 2>&1; then pkgs+=("$p"); else pkgs+=("${p}t64"); fi
    done
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${pkgs[@]}" >/dev/null
  else
    echo "Missing system libraries (${missing[*]}) and no apt-get: install them with your package manager." >&2
    exit 1
  fi
fi

# --- Python -------------------------------------------------------------------
PYTHON=${PYTHON:-python3}
"$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' || {
  echo "Python 3.11 or later is required (found $("$PYTHON" --version 2>&1))." >&2; exit 1; }
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
stamp=.venv/.installed-$(cat pyproject.toml | sha256sum | cut -c1-16)
if [ ! -f "$stamp" ]; then
  echo "Installing Maelis Desk and its dependencies into .venv (log: .venv/pip.log)"
  { .venv/bin/python -m pip install --upgrade pip && .venv/bin/python -m pip install -e '.[test]'; } \
    >.venv/pip.log 2>&1 || { tail -n 40 .venv/pip.log >&2; exit 1; }
  .venv/bin/python -c 'import PySide6.QtPdf, PySide6.QtPdfWidgets, zeep, peewee, pytestqt, responses' 
  rm -f .venv/.installed-*
  touch "$stamp"
fi
