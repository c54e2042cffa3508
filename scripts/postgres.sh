# Sourced by test.sh: a throw-away PostgreSQL server for the tests.
#   postgres_start   installs the distribution's postgresql when missing, runs
#                    initdb in a temporary folder as an unprivileged user (initdb
#                    refuses root), starts the server on 127.0.0.1 on a free port
#                    and exports MAELIS_DESK_TEST_POSTGRES (a postgresql:// URL)
#   postgres_stop    stops it and removes the folder (also called on exit)
# Nothing is started when MAELIS_DESK_TEST_POSTGRES is already set (a server of
# your own), or when MAELIS_DESK_TEST_POSTGRES=none (the PostgreSQL tests are
# then skipped, saying why).

_pg_dir=""
_pg_bin=""
_pg_user=""

_pg_find_bin() {
  local d
  for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    [ -x "$d/initdb" ] && { echo "$d"; return 0; }
  done
  have_cmd initdb && { dirname "$(command -v initdb)"; return 0; }
  return 1
}

_pg_as() {  # run a command as the server's user
  if [ "$(id -u)" -eq 0 ]; then
    # from /: the server's user may not enter the project's folder (a clone in
    # /root, or in a home that is 0700), and initdb, pg_ctl and createdb then
    # print « could not change directory to ... : Permission denied ».
    (cd / && runuser -u "$_pg_user" -- "$@")
  else
    "$@"
  fi
}

postgres_start() {
  if [ -n "${MAELIS_DESK_TEST_POSTGRES:-}" ]; then
    [ "$MAELIS_DESK_TEST_POSTGRES" = none ] && unset MAELIS_DESK_TEST_POSTGRES
    return 0
  fi
  _pg_bin=$(_pg_find_bin) || { apt_install postgresql && _pg_bin=$(_pg_find_bin); } || {
    echo "PostgreSQL introuvable et non installable : les tests PostgreSQL seront sautés." >&2
    return 1
  }
  _pg_user=$(id -un)
  if [ "$(id -u)" -eq 0 ]; then
    # initdb refuses root: the distribution's postgres user, or one made for the tests.
    if id postgres >/dev/null 2>&1; then
      _pg_user=postgres
    else
      id maelis-test >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin maelis-test
      _pg_user=maelis-test
    fi
  fi
  _pg_dir=$(mktemp -d /tmp/maelis-desk-pg.XXXXXX)
  chmod 700 "$_pg_dir"
  [ "$(id -u)" -eq 0 ] && chown "$_pg_user" "$_pg_dir"
  local port
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  _pg_as "$_pg_bin/initdb" -D "$_pg_dir/data" -U maelis --auth=trust -E UTF8 --locale=C >"$_pg_dir/initdb.log" 2>&1 || {
    cat "$_pg_dir/initdb.log" >&2; echo "initdb a échoué : les tests PostgreSQL seront sautés." >&2; return 1; }
  _pg_as "$_pg_bin/pg_ctl" -D "$_pg_dir/data" -l "$_pg_dir/server.log" -w \
    -o "-c listen_addresses=127.0.0.1 -p $port -k $_pg_dir -c fsync=off -c max_connections=200" start >/dev/null || {
    cat "$_pg_dir/server.log" >&2; echo "Le serveur PostgreSQL n'a pas démarré : les tests PostgreSQL seront sautés." >&2; return 1; }
  _pg_as "$_pg_bin/createdb" -h 127.0.0.1 -p "$port" -U maelis maelis_test
  export MAELIS_DESK_TEST_POSTGRES="postgresql://maelis@127.0.0.1:$port/maelis_test"
  # the tests that restart the server mid-run find it here
  export MAELIS_DESK_TEST_POSTGRES_CTL="$_pg_bin/pg_ctl -D $_pg_dir/data"
  trap postgres_stop EXIT
  echo "PostgreSQL de test : $MAELIS_DESK_TEST_POSTGRES"
}

postgres_stop() {
  [ -n "$_pg_dir" ] || return 0
  _pg_as "$_pg_bin/pg_ctl" -D "$_pg_dir/data" -m immediate -w stop >/dev/null 2>&1 || true
  rm -rf "$_pg_dir"
  _pg_dir=""
}
