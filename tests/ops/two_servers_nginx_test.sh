#!/usr/bin/env bash
# Two servers on one PostgreSQL database behind a real nginx, with the upstream docs/operations.md
# gives ("Two servers behind nginx, with a standby"), taken from the document itself: a device syncs
# through nginx, one server is killed, the device syncs again through nginx (the other server
# answers), and a new device behind nginx holds both changes.
#
#   two_servers_nginx_test.sh SERVER CLI OPERATIONS_MD WORK_DIR ADMIN_POSTGRES_URL
#
# Everything listens on 127.0.0.1 on free ports; the processes are ended by their pid on exit and
# the scratch database dropped.
set -euo pipefail
source "$(dirname "$0")/nginx_lib.sh"

server_bin=$1 cli_bin=$2 operations_md=$3 work=$4 admin_url=$5
nginx_bin=$(command -v nginx || echo /usr/sbin/nginx)
[ -x "$nginx_bin" ] || { echo "FAIL: nginx is not installed (tools/scripts/install-deps.sh installs nginx-light)"; exit 1; }

db="cs_nginx_$$"
store_url=${admin_url/\/postgres\?//$db?}
rm -rf "$work"
mkdir -p "$work/nginx/logs" "$work/nginx/tmp" "$work/b"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  psql "$admin_url" -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" 2>/dev/null || true
}
trap cleanup EXIT
fail() {
  echo "FAIL: $*"
  for f in a.log b.log nginx/logs/error.log; do echo "--- $f"; tail -20 "$work/$f" || true; done
  exit 1
}
wait_listening() { for _ in $(seq 100); do grep -q "listening on" "$1" && return 0; sleep 0.1; done; return 1; }

psql "$admin_url" -qc "CREATE DATABASE $db" || fail "cannot create the scratch database"
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=127.0.0.1" -addext "subjectAltName=IP:127.0.0.1" \
  -keyout "$work/key.pem" -out "$work/cert.pem" 2>/dev/null

port_a=$(free_port) port_b=$(free_port) front=$(free_port)
for s in a b; do
  port_var=port_$s
  cat > "$work/$s.json" <<JSON
{"store": "$store_url", "data": "$work/$s", "listen": "127.0.0.1:${!port_var}", "trusted_proxies": ["127.0.0.1"]}
JSON
done
# The first server alone makes the store and the admin token; the second gets a copy of the token.
"$server_bin" --config "$work/a.json" > "$work/a.out" 2> "$work/a.log" &
pid_a=$!
pids+=($pid_a)
wait_listening "$work/a.out" || fail "server A did not start"
cp "$work/a/admin.token" "$work/b/admin.token"
"$server_bin" --config "$work/b.json" > "$work/b.out" 2> "$work/b.log" &
pids+=($!)
wait_listening "$work/b.out" || fail "server B did not start"

# The document's site (from "Behind nginx") with the document's upstream in place of one address.
site=$(awk '/^```nginx$/{n++; inside=(n==1); next} /^```$/{inside=0} inside' "$operations_md")
upstream=$(awk '/^```nginx$/{n++; inside=(n==2); next} /^```$/{inside=0} inside' "$operations_md" \
  | awk '/^upstream communesync/{on=1} on{print} on && /^}/{exit}')
[ -n "$site" ] && [ -n "$upstream" ] || fail "no nginx site or upstream in $operations_md"
grep -q "proxy_next_upstream error timeout;" "$operations_md" || fail "the document lost proxy_next_upstream"
upstream=$(printf '%s\n' "$upstream" | sed -e "s|10.0.0.11:8080|127.0.0.1:$port_a|" -e "s|10.0.0.12:8080|127.0.0.1:$port_b|")
site=$(printf '%s\n' "$site" | sed \
  -e "s|listen 443 ssl http2;|listen 127.0.0.1:$front ssl http2;|" \
  -e "s|/etc/ssl/tinh/fullchain.pem|$work/cert.pem|" \
  -e "s|/etc/ssl/tinh/privkey.pem|$work/key.pem|" \
  -e "s|proxy_pass http://127.0.0.1:8080;|proxy_pass http://communesync; proxy_next_upstream error timeout;|")
write_nginx_conf "$work" "$upstream
$site"
"$nginx_bin" -t -q -p "$work/nginx" -c "$work/nginx/nginx.conf" || fail "nginx refuses the documented configuration"
"$nginx_bin" -p "$work/nginx" -c "$work/nginx/nginx.conf" -g 'daemon off;' &
pids+=($!)
front_url="wss://127.0.0.1:$front"
for _ in $(seq 100); do curl -sf -o /dev/null --cacert "$work/cert.pem" "https://127.0.0.1:$front/healthz" && break; sleep 0.1; done

admin=$(cat "$work/a/admin.token")
add_user() {
  curl -s -X POST -H "Authorization: Bearer $admin" -H 'Content-Type: application/json' \
    -d "{\"name\":\"$1\",\"scopes\":[\"xa-01\"]}" "http://127.0.0.1:$port_a/admin/users" \
    | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])'
}
token=$(add_user an)
"$cli_bin" --home "$work/an" login --server "$front_url" --token "$token" --ca "$work/cert.pem" > /dev/null || fail "login"
"$cli_bin" --home "$work/an" put household chu_ho="Lò Văn Pá" so_nhan_khau:=6 > /dev/null
"$cli_bin" --home "$work/an" sync > "$work/sync1.out" 2>&1 || { cat "$work/sync1.out"; fail "first sync through nginx"; }

# One server dies; the device syncs again through the same address.
kill -9 "$pid_a"
wait "$pid_a" 2>/dev/null || true
"$cli_bin" --home "$work/an" put household chu_ho="Giàng Thị Mỷ" so_nhan_khau:=4 > /dev/null
for attempt in 1 2 3; do
  "$cli_bin" --home "$work/an" sync > "$work/sync2.out" 2>&1 && break
  [ "$attempt" = 3 ] && { cat "$work/sync2.out"; fail "no sync through nginx after server A died"; }
done
grep -q "(1 accepted" "$work/sync2.out" || { cat "$work/sync2.out"; fail "the second change was not accepted"; }

# A new device behind nginx holds both.
token2=$(curl -s -X POST -H "Authorization: Bearer $admin" -H 'Content-Type: application/json' \
  -d '{"name":"binh","scopes":["xa-01"]}' "http://127.0.0.1:$port_b/admin/users" \
  | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
"$cli_bin" --home "$work/binh" login --server "$front_url" --token "$token2" --ca "$work/cert.pem" > /dev/null || fail "login 2"
"$cli_bin" --home "$work/binh" sync > /dev/null 2>&1 || fail "the new device's sync"
exported=$("$cli_bin" --home "$work/binh" export)
echo "$exported" | grep -q "Lò Văn Pá" || fail "the change through server A is missing: $exported"
echo "$exported" | grep -q "Giàng Thị Mỷ" || fail "the change through server B is missing: $exported"
echo "PASS: two servers on one database behind nginx; one killed, the device carried on through the other"
