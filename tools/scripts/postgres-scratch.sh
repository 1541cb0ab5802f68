#!/usr/bin/env bash
# A scratch PostgreSQL 15 cluster for the tests and benchmarks, in a folder of their own: Unix socket
# only (no TCP port to collide with), stopped by the pid this script started.
#
#   postgres-scratch.sh start DIR   makes DIR/data if missing, starts it; prints the store's URL
#   postgres-scratch.sh stop DIR    stops it (the postmaster whose pid DIR/data/postmaster.pid holds)
#   postgres-scratch.sh url DIR     prints the URL of a started cluster
#
# As root, the cluster runs as the postgres user (PostgreSQL refuses to run as root).
set -euo pipefail

action=${1:?usage: postgres-scratch.sh start|stop|url DIR}
dir=${2:?usage: postgres-scratch.sh start|stop|url DIR}
bin=/usr/lib/postgresql/15/bin
if [ ! -x "$bin/initdb" ]; then
  echo "postgres-scratch: PostgreSQL 15 is not installed (tools/scripts/install-deps.sh installs it)" >&2
  exit 1
fi

as_owner() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}
user=$(if [ "$(id -u)" -eq 0 ]; then echo postgres; else id -un; fi)
url="postgresql:///postgres?host=$dir&user=$user"

case "$action" in
  start)
    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd)
    url="postgresql:///postgres?host=$dir&user=$user"
    if [ "$(id -u)" -eq 0 ]; then chown postgres: "$dir"; fi
    if [ ! -f "$dir/data/PG_VERSION" ]; then
      as_owner "$bin/initdb" -D "$dir/data" -U "$user" -A trust -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 ||
        { cat "$dir/initdb.log" >&2; exit 1; }
    fi
    if [ -f "$dir/data/postmaster.pid" ] && kill -0 "$(head -1 "$dir/data/postmaster.pid")" 2>/dev/null; then
      echo "$url"
      exit 0
    fi
    # fsync stays on: the tests check durability through it. Small shared buffers: a test machine.
    as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
      -o "-c listen_addresses='' -k $dir -c shared_buffers=64MB -c max_connections=200" start >/dev/null ||
      { cat "$dir/server.log" >&2; exit 1; }
    echo "$url"
    ;;
  stop)
    dir=$(cd "$dir" 2>/dev/null && pwd) || exit 0
    if [ -f "$dir/data/postmaster.pid" ]; then
      as_owner "$bin/pg_ctl" -D "$dir/data" -m fast -w -t 60 stop >/dev/null
    fi
    ;;
  url)
    dir=$(cd "$dir" && pwd)
    echo "postgresql:///postgres?host=$dir&user=$user"
    ;;
  *)
    echo "postgres-scratch: unknown action $action (start, stop, url)" >&2
    exit 2
    ;;
esac
