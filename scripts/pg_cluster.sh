#!/usr/bin/env bash
# A throw-away PostgreSQL cluster for the example's `warehouse` suite and its tests.
#
#   scripts/pg_cluster.sh start DIR [PORT]   initdb DIR (once) and start a server listening only on a
#                                            unix socket in DIR; prints the PG* variables to export
#   scripts/pg_cluster.sh stop DIR           stop it (fast shutdown) and leave DIR for inspection
#
# PostgreSQL refuses to run as root, so when run as root the server runs as the `postgres` user
# (Debian's package creates it) or `nobody`. The binaries come from PATH or, as Debian installs
# them, /usr/lib/postgresql/<version>/bin. No TCP port is opened: PORT only names the socket.
set -euo pipefail

usage() { echo "usage: $0 start DIR [PORT] | stop DIR" >&2; exit 2; }
[ $# -ge 2 ] || usage
action=$1
dir=$(mkdir -p "$2" && cd "$2" && pwd)
port=${3:-54329}

bindir=""
if command -v initdb >/dev/null 2>&1; then
  bindir=$(dirname "$(command -v initdb)")
else
  for candidate in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    if [ -x "$candidate/initdb" ]; then bindir=$candidate; break; fi
  done
fi
if [ -z "$bindir" ]; then
  echo "error: no PostgreSQL server found (initdb is neither on PATH nor in /usr/lib/postgresql/*/bin);" >&2
  echo "       install it, e.g. apt-get install postgresql" >&2
  exit 1
fi

as_server() {
  if [ "$(id -u)" = 0 ]; then
    local user=postgres
    id -u postgres >/dev/null 2>&1 || user=nobody
    chown -R "$user" "$dir"
    runuser -u "$user" -- "$@"
  else
    "$@"
  fi
}

case $action in
  start)
    if [ ! -f "$dir/data/PG_VERSION" ]; then
      as_server "$bindir/initdb" --pgdata "$dir/data" --username postgres --auth trust \
        --encoding UTF8 --locale C >"$dir/initdb.log" 2>&1 \
        || { echo "error: initdb failed, see $dir/initdb.log:" >&2; tail -5 "$dir/initdb.log" >&2; exit 1; }
    fi
    if ! as_server "$bindir/pg_ctl" --pgdata "$dir/data" status >/dev/null 2>&1; then
      as_server "$bindir/pg_ctl" --pgdata "$dir/data" --log "$dir/server.log" --wait --timeout 60 \
      -o "-c listen_addresses='' -k $dir -p $port -c fsync=off -c full_page_writes=off -c shared_buffers=32MB -c max_connections=20 -c dynamic_shared_memory_type=mmap" start >/dev/null \
      || { echo "error: the server did not start, see $dir/server.log:" >&2; tail -5 "$dir/server.log" >&2; exit 1; }
    fi
    echo "export PGHOST=$dir PGPORT=$port PGUSER=postgres PGDATABASE=postgres"
    ;;
  stop)
    if [ -f "$dir/data/postmaster.pid" ]; then
      as_server "$bindir/pg_ctl" --pgdata "$dir/data" --mode fast --wait stop >/dev/null
    fi
    ;;
  *) usage ;;
esac
