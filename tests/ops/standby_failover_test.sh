#!/usr/bin/env bash
# The failover docs/operations.md describes ("Two servers on one PostgreSQL, behind nginx, with a
# standby"), done for real: a primary and a streaming-replication standby (synchronous), the server
# on a two-host URL with target_session_attrs=read-write; a device syncs, the primary dies (an
# immediate stop, as a crash), the standby is promoted, the device syncs again without the server
# being touched, and a new device holds both changes: nothing acknowledged was lost.
#
#   standby_failover_test.sh SERVER CLI SCRATCH_SCRIPT
#
# Both clusters listen on Unix sockets in a scratch folder only; the server listens on 127.0.0.1.
# Everything started here is stopped by its pid (the clusters by pg_ctl on their own pid files).
set -euo pipefail

server_bin=$1 cli_bin=$2 scratch=$3
bin=/usr/lib/postgresql/15/bin
work=$(mktemp -d /tmp/cs-failover-XXXX)  # short: a socket path has a length limit
as_owner() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
user=$(if [ "$(id -u)" -eq 0 ]; then echo postgres; else id -un; fi)
[ "$(id -u)" -eq 0 ] && chown postgres: "$work"
server_pid=""
cleanup() {
  [ -n "$server_pid" ] && { kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; }
  for c in p s; do
    [ -f "$work/$c/data/postmaster.pid" ] && as_owner "$bin/pg_ctl" -D "$work/$c/data" -m immediate -w stop >/dev/null 2>&1
  done
  rm -rf "$work"
}
trap cleanup EXIT
fail() {
  echo "FAIL: $*"
  for f in server.log p/server.log s/server.log; do echo "--- $f"; tail -15 "$work/$f" 2>/dev/null || true; done
  exit 1
}
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# The primary, then the standby from a base backup of it, following it synchronously.
"$scratch" start "$work/p" > /dev/null || fail "the primary did not start"
mkdir -p "$work/s"
[ "$(id -u)" -eq 0 ] && chown postgres: "$work/s"
as_owner "$bin/pg_basebackup" -h "$work/p" -U "$user" -D "$work/s/data" -R -X stream \
  -d "application_name=standby" > /dev/null 2>&1 || fail "pg_basebackup"
"$scratch" start "$work/s" > /dev/null || fail "the standby did not start"
as_owner "$bin/psql" -qX -h "$work/p" -U "$user" -d postgres \
  -c "ALTER SYSTEM SET synchronous_standby_names = 'standby'" -c "SELECT pg_reload_conf()" > /dev/null
for _ in $(seq 50); do
  state=$(as_owner "$bin/psql" -qAtX -h "$work/p" -U "$user" -d postgres \
    -c "SELECT sync_state FROM pg_stat_replication WHERE application_name = 'standby'")
  [ "$state" = sync ] && break
  sleep 0.2
done
[ "$state" = sync ] || fail "the standby is not synchronous ($state)"

port=$(free_port)
store="postgresql:///postgres?host=$work/p,$work/s&user=$user&target_session_attrs=read-write"
"$server_bin" --store "$store" --data "$work/data" --listen "127.0.0.1:$port" > "$work/server.out" 2> "$work/server.log" &
server_pid=$!
for _ in $(seq 100); do grep -q "listening on" "$work/server.out" && break; sleep 0.1; done
grep -q "listening on" "$work/server.out" || fail "the server did not start"
admin=$(cat "$work/data/admin.token")
add_user() {
  curl -s -X POST -H "Authorization: Bearer $admin" -H 'Content-Type: application/json' \
    -d "{\"name\":\"$1\",\"scopes\":[\"xa-01\"]}" "http://127.0.0.1:$port/admin/users" \
    | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])'
}
"$cli_bin" --home "$work/an" login --server "ws://127.0.0.1:$port" --token "$(add_user an)" > /dev/null || fail "login"
"$cli_bin" --home "$work/an" put household chu_ho="Vàng A Sử" so_nhan_khau:=5 > /dev/null
"$cli_bin" --home "$work/an" sync > "$work/sync1.out" 2>&1 || { cat "$work/sync1.out"; fail "the first sync"; }
grep -q "(1 accepted" "$work/sync1.out" || { cat "$work/sync1.out"; fail "the first change was not accepted"; }

# The primary dies; the standby is promoted. The server is left alone.
as_owner "$bin/pg_ctl" -D "$work/p/data" -m immediate -w stop > /dev/null
as_owner "$bin/pg_ctl" -D "$work/s/data" -w promote > /dev/null || fail "promote"
"$cli_bin" --home "$work/an" put household chu_ho="Thào Thị Dua" so_nhan_khau:=3 > /dev/null
synced=""
for _ in $(seq 20); do
  if "$cli_bin" --home "$work/an" sync > "$work/sync2.out" 2>&1; then synced=1; break; fi
  sleep 1
done
[ -n "$synced" ] || { cat "$work/sync2.out"; fail "no sync after the failover"; }
grep -q "(1 accepted" "$work/sync2.out" || { cat "$work/sync2.out"; fail "the second change was not accepted"; }

"$cli_bin" --home "$work/binh" login --server "ws://127.0.0.1:$port" --token "$(add_user binh)" > /dev/null || fail "login 2"
"$cli_bin" --home "$work/binh" sync > /dev/null 2>&1 || fail "the new device's sync"
exported=$("$cli_bin" --home "$work/binh" export)
echo "$exported" | grep -q "Vàng A Sử" || fail "the change acknowledged before the failover was lost: $exported"
echo "$exported" | grep -q "Thào Thị Dua" || fail "the change after the failover is missing: $exported"
echo "PASS: the primary died, the standby was promoted, the server carried on and lost nothing acknowledged"
