#!/usr/bin/env bash
# Build the stand-alone desk (PyInstaller, build_spec.py) into dist/maelis-desk/,
# and the archive to copy to a counter PC, dist/maelis-desk-<version>-<system>-<machine>.tar.gz.
#   scripts/build-desk.sh
# Sets up .venv first when needed (scripts/setup.sh), then installs the `build`
# extra's requirements (PyInstaller) into it when they are missing, builds, and
# prints the bundle's size, the archive's size and how long the build took.
set -euo pipefail
cd "$(dirname "$0")/.."
started=$(date +%s)
scripts/setup.sh

# What PyInstaller needs from the system on Linux: objdump (binutils), and the Python
# shared library (Debian's python3 is linked statically; libpython3.X has the .so).
if [ "$(uname -s)" = Linux ]; then
  . scripts/system-packages.sh
  missing=()
  have_cmd objdump || missing+=(binutils)
  read -r libdir soname version < <(.venv/bin/python -c '
import sys, sysconfig
print(sysconfig.get_config_var("LIBDIR"), sysconfig.get_config_var("INSTSONAME"), "%d.%d" % sys.version_info[:2])')
  if [ ! -e "$libdir/$soname" ] && ! have_lib "$soname"; then missing+=("libpython$version"); fi
  if [ "${#missing[@]}" -gt 0 ]; then apt_install "${missing[@]}"; fi
fi

# Only the extra's requirements: the package itself is already installed in .venv (setup.sh);
# pip does nothing (and asks no index) when they are already satisfied.
mapfile -t requirements < <(.venv/bin/python -c '
import tomllib
with open("pyproject.toml", "rb") as f:
    print("\n".join(tomllib.load(f)["project"]["optional-dependencies"]["build"]))')
if ! .venv/bin/python -m pip install "${requirements[@]}" >.venv/pip-build.log 2>&1; then
  tail -n 40 .venv/pip-build.log >&2
  exit 1
fi

.venv/bin/python build_spec.py

bundle=dist/maelis-desk
version=$(.venv/bin/python -c '
import tomllib
with open("pyproject.toml", "rb") as f:
    print(tomllib.load(f)["project"]["version"])')
archive="dist/maelis-desk-$version-$(uname -s | tr '[:upper:]' '[:lower:]')-$(uname -m).tar.gz"
rm -f "$archive"
tar -C dist -czf "$archive" maelis-desk

echo "Poste autonome : $bundle/maelis-desk ($(du -sh "$bundle" | cut -f1))"
echo "Archive à copier sur un poste de caisse : $archive ($(du -sh "$archive" | cut -f1))"
echo "Construit en $(( $(date +%s) - started )) s"
