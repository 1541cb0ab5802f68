#!/usr/bin/env bash
# The server behind a real nginx (Debian's nginx-light), with the configuration docs/operations.md
# gives ("Behind nginx"), taken from the document itself: TLS at nginx, the WebSocket upgrade, and
# the client's own address reaching the server through X-Forwarded-For from a trusted proxy.
#
#   nginx_proxy_test.sh SERVER CLI OPERATIONS_MD WORK_DIR
#
# Everything listens on 127.0.0.1 on free ports; both processes are ended by their pid on exit.
set -euo pipefail
source "$(dirname "$0")/nginx_lib.sh"

server_bin=$1 cli_bin=$2 operations_md=$3 work=$4
nginx_bin=$(command -v nginx || echo /usr/sbin/nginx)
if [ ! -x "$nginx_bin" ]; then
  echo "FAIL: nginx is not installed (tools/scripts/install-deps.sh installs nginx-light)"
  exit 1
fi

rm -rf "$work"
mkdir -p "$work/nginx/logs" "$work/nginx/tmp"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
}
trap cleanup EXIT

fail() {
  echo "FAIL: $*"
  echo "--- server log"; tail -20 "$work/server.log" || true
  echo "--- nginx error log"; tail -20 "$work/nginx/logs/error.log" || true
  exit 1
}

# A certificate for 127.0.0.1, as a province's would name its host.
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=127.0.0.1" -addext "subjectAltName=IP:127.0.0.1" \
  -keyout "$work/key.pem" -out "$work/cert.pem" 2>/dev/null

backend=$(free_port)
front=$(free_port)
cat > "$work/server.json" <<JSON
{"data": "$work/data", "listen": "127.0.0.1:$backend", "trusted_proxies": ["127.0.0.1", "::1"]}
JSON
"$server_bin" --config "$work/server.json" > "$work/server.out" 2> "$work/server.log" &
pids+=($!)

# The document's nginx site, with this test's ports and certificate.
site=$(awk '/^```nginx$/{inside=1; next} /^```$/{if (inside) exit} inside' "$operations_md")
[ -n "$site" ] || fail "no nginx configuration in $operations_md"
site=$(printf '%s\n' "$site" | sed \
  -e "s|listen 443 ssl http2;|listen 127.0.0.1:$front ssl http2;|" \
  -e "s|/etc/ssl/tinh/fullchain.pem|$work/cert.pem|" \
  -e "s|/etc/ssl/tinh/privkey.pem|$work/key.pem|" \
  -e "s|proxy_pass http://127.0.0.1:8080;|proxy_pass http://127.0.0.1:$backend;|")
write_nginx_conf "$work" "$site"
"$nginx_bin" -t -q -p "$work/nginx" -c "$work/nginx/nginx.conf" || fail "nginx refuses the documented configuration"
"$nginx_bin" -p "$work/nginx" -c "$work/nginx/nginx.conf" -g 'daemon off;' &
pids+=($!)

for _ in $(seq 100); do
  grep -q "listening on" "$work/server.out" && curl -sf -o /dev/null --cacert "$work/cert.pem" "https://127.0.0.1:$front/healthz" && break
  sleep 0.1
done
front_url="https://127.0.0.1:$front"
health=$(curl -s --cacert "$work/cert.pem" "$front_url/healthz") || fail "no answer through nginx"
echo "$health" | grep -q '"status":"ok"' || fail "healthz through nginx: $health"
admin=$(cat "$work/data/admin.token")

# A device logs in and syncs through nginx: TLS there, the WebSocket upgrade passed on.
user_token=$(curl -s -X POST -H "Authorization: Bearer $admin" -H 'Content-Type: application/json' \
  -d '{"name":"an","scopes":["xa-01"]}' "http://127.0.0.1:$backend/admin/users" | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
"$cli_bin" --home "$work/an" login --server "wss://127.0.0.1:$front" --token "$user_token" --ca "$work/cert.pem" > /dev/null \
  || fail "login through nginx"
"$cli_bin" --home "$work/an" put household chu_ho="Lò Văn Pá" so_nhan_khau:=6 > /dev/null
"$cli_bin" --home "$work/an" sync > "$work/sync.out" 2>&1 || { cat "$work/sync.out"; fail "sync through nginx"; }
grep -q "(1 accepted" "$work/sync.out" || { cat "$work/sync.out"; fail "the change was not accepted"; }

# /metrics through nginx with the admin token. (That /admin/ forwarded from another machine is not
# loopback is TrustedProxies.* in tests/client/operations_test.cpp: here every client is loopback.)
metrics=$(curl -s -o /dev/null -w '%{http_code}' --cacert "$work/cert.pem" -H "Authorization: Bearer $admin" "$front_url/metrics")
[ "$metrics" = 200 ] || fail "/metrics through nginx with the admin token answered $metrics"
grep_metric=$(curl -s --cacert "$work/cert.pem" -H "Authorization: Bearer $admin" "$front_url/metrics" \
  | grep '^communesync_changes_total{outcome="accepted",reason=""}' || true)
[ "$grep_metric" = 'communesync_changes_total{outcome="accepted",reason=""} 1' ] || fail "metrics say: $grep_metric"

# Failed logins from one client throttle that client only; the audit log names each client, and
# what a client writes into X-Forwarded-For itself is not believed.
login_as() {  # SOURCE_ADDRESS [EXTRA_HEADER]
  curl -s -o /dev/null -w '%{http_code}' --interface "$1" --cacert "$work/cert.pem" ${2:+-H "$2"} \
    -H 'Content-Type: application/json' -d '{"user":"an","password":"sai","device":"00112233445566778899aabbccddeeff"}' \
    "$front_url/login"
}
code=""
for _ in $(seq 30); do
  code=$(login_as 127.0.0.2 "X-Forwarded-For: 203.0.113.77")
  [ "$code" = 429 ] && break
done
[ "$code" = 429 ] || fail "failed logins through nginx were never throttled (last answer $code)"
other=$(login_as 127.0.0.3)
[ "$other" != 429 ] || fail "another client behind nginx was throttled too"
audit=$(curl -s -H "Authorization: Bearer $admin" "http://127.0.0.1:$backend/admin/audit?limit=100")
echo "$audit" | grep -q '"from":"127.0.0.2"' || fail "the audit log does not name the client 127.0.0.2: $audit"
echo "$audit" | grep -q '"from":"127.0.0.3"' || fail "the audit log does not name the client 127.0.0.3"
if echo "$audit" | grep -q '203.0.113.77'; then fail "a client's own X-Forwarded-For was believed"; fi

echo "PASS: healthz, login and sync over wss, /metrics and the login throttle through nginx"
