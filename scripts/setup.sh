#!/usr/bin/env bash
# Set up everything Maelis Desk needs on a fresh machine, idempotently:
# the system libraries Qt needs on Debian/Ubuntu (offscreen and a real X
# window: xcb, xkb, fonts), Python's venv module, a virtual environment in
# .venv, and the package with its test extra.
#   scripts/setup.sh --test   also the tools of the real-screen check
#                             (scripts/x-check.sh: Xvfb, openbox, xdotool, ImageMagick)
set -euo pipefail
with_x_tools=""
[ "${1:-}" != "--test" ] || with_x_tools=1
cd "$(dirname "$0")/.."
. scripts/system-packages.sh

# --- system libraries: Qt's core (also offscreen) and its xcb platform ----------
# soname package, one pair a line (the xcb ones are what libqxcb.so links to).
qt_libs="
libglib-2.0.so.0 libglib2.0-0
libGL.so.1 libgl1
libEGL.so.1 libegl1
libxkbcommon.so.0 libxkbcommon0
libfreetype.so.6 libfreetype6
libfontconfig.so.1 libfontconfig1
libdbus-1.so.3 libdbus-1-3
libX11.so.6 libx11-6
libX11-xcb.so.1 libx11-xcb1
libxcb.so.1 libxcb1
libxkbcommon-x11.so.0 libxkbcommon-x11-0
libxcb-cursor.so.0 libxcb-cursor0
libxcb-icccm.so.4 libxcb-icccm4
libxcb-util.so.1 libxcb-util1
libxcb-image.so.0 libxcb-image0
libxcb-keysyms.so.1 libxcb-keysyms1
libxcb-randr.so.0 libxcb-randr0
libxcb-render-util.so.0 libxcb-render-util0
libxcb-render.so.0 libxcb-render0
libxcb-shape.so.0 libxcb-shape0
libxcb-shm.so.0 libxcb-shm0
libxcb-sync.so.1 libxcb-sync1
libxcb-xfixes.so.0 libxcb-xfixes0
libxcb-xkb.so.1 libxcb-xkb1
"
missing=()
if [ "$(uname -s)" = Linux ]; then
  while read -r soname package; do
    [ -n "$soname" ] || continue
    have_lib "$soname" || missing+=("$package")
  done <<<"$qt_libs"
  # Without any font Qt draws no text at all (a minimal Debian has none).
  if ! compgen -G "/usr/share/fonts/truetype/*/*.ttf" >/dev/null && ! compgen -G "/usr/share/fonts/*/*.otf" >/dev/null; then
    missing+=(fonts-dejavu-core)
  fi
  # The X keyboard data xkbcommon reads for a real window.
  [ -d /usr/share/X11/xkb ] || missing+=(xkb-data)
fi

# --- Python and its venv module (Debian ships it apart: python3-venv) -----------
PYTHON=${PYTHON:-python3}
have_cmd "$PYTHON" || { echo "Python 3.11 ou plus récent est nécessaire (pas de « $PYTHON » ici)." >&2; exit 1; }
"$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' || {
  echo "Python 3.11 ou plus récent est nécessaire (trouvé : $("$PYTHON" --version 2>&1))." >&2; exit 1; }
if ! "$PYTHON" -c 'import venv, ensurepip' >/dev/null 2>&1; then
  # python3-venv is the default python3's; another version has its own package.
  version=$("$PYTHON" -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')
  if [ "$(command -v "$PYTHON")" = "$(command -v python3 || true)" ]; then missing+=(python3-venv); else missing+=("python$version-venv"); fi
fi

if [ -n "$with_x_tools" ]; then
  have_cmd Xvfb || missing+=(xvfb)
  have_cmd openbox || missing+=(openbox)
  have_cmd xdotool || missing+=(xdotool)
  have_cmd import || missing+=(imagemagick)
  have_cmd setxkbmap || missing+=(x11-xkb-utils)
fi

if [ "${#missing[@]}" -gt 0 ]; then
  apt_install "${missing[@]}"
fi

# A .venv left half-made (venv without ensurepip makes one with no pip) is made again.
if [ -e .venv ] && ! .venv/bin/python -m pip --version >/dev/null 2>&1; then
  echo "Environnement .venv incomplet : il est refait."
  rm -rf .venv
fi
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
stamp=.venv/.installed-$(sha256sum pyproject.toml | cut -c1-16)
if [ ! -f "$stamp" ]; then
  echo "Installation de Maelis Desk et de ses dépendances dans .venv (journal : .venv/pip.log)"
  { .venv/bin/python -m pip install --upgrade pip && .venv/bin/python -m pip install -e '.[test]'; } \
    >.venv/pip.log 2>&1 || { tail -n 40 .venv/pip.log >&2; exit 1; }
  .venv/bin/python -c 'import PySide6.QtPdf, PySide6.QtPdfWidgets, zeep, peewee, pytestqt, responses'
  rm -f .venv/.installed-*
  touch "$stamp"
fi
