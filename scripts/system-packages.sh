# Sourced by scripts/setup.sh and scripts/x-check.sh: install Debian/Ubuntu
# packages that are missing, with apt-get (as root, or through sudo).
#   have_lib SONAME      true if the dynamic linker knows SONAME
#   have_cmd COMMAND     true if COMMAND is on the PATH
#   apt_install PKG...   install PKG... (a t64 variant where Debian renamed it)

_ldcache=""
have_lib() {
  # No `ldconfig -p | grep -q`: under `set -o pipefail` grep's early exit kills
  # ldconfig with SIGPIPE and the library is reported missing when it is not.
  [ -n "$_ldcache" ] || _ldcache=$(ldconfig -p 2>/dev/null || /sbin/ldconfig -p 2>/dev/null || true)
  case "$_ldcache" in *"$1 "*) return 0 ;; *) return 1 ;; esac
}

have_cmd() { command -v "$1" >/dev/null 2>&1; }

_apt_updated=""
apt_install() {
  [ "$#" -gt 0 ] || return 0
  if ! have_cmd apt-get; then
    echo "Paquets système manquants ($*) et pas d'apt-get : installez-les avec le gestionnaire de paquets du système." >&2
    return 1
  fi
  local sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    have_cmd sudo || { echo "Paquets système manquants ($*) : installez-les en root (apt-get install $*)." >&2; return 1; }
    sudo="sudo"
  fi
  local apt=($sudo env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=120 -o Acquire::Retries=3)
  if [ -z "$_apt_updated" ]; then
    "${apt[@]}" update -qq
    _apt_updated=1
  fi
  local pkgs=() p
  for p in "$@"; do
    # libglib2.0-0 was renamed libglib2.0-0t64 on newer Debian/Ubuntu: take whichever exists.
    if apt-cache show "$p" >/dev/null 2>&1; then pkgs+=("$p"); else pkgs+=("${p}t64"); fi
  done
  echo "Installation des paquets système : ${pkgs[*]}"
  "${apt[@]}" install -y -qq --no-install-recommends "${pkgs[@]}" >/dev/null
  _ldcache=""
}
