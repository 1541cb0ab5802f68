#!/usr/bin/env bash
# A commune's day of work over a 2G link, for communesync and for PouchDB (docs/benchmarks.md).
#
#   sudo tools/bench/village-2g.sh [--households N] [--photo-kib K] [--rate RATE] [--rtt MS] [--cut S]
#                                  [--no-peer] [--build DIR]
#
# A phone in a network namespace this script creates, behind a veth link shaped by tc tbf to RATE
# (default 64kbit) in each direction, reaches the server through link-proxy.mjs, which adds the
# round trip (default 500 ms) and cuts every connection every S seconds (default 120). The day:
# N households (default 50), each with a survey, one photo of K KiB (default 60; random bytes,
# as incompressible as a JPEG) and a needs proposal, recorded offline, then synced until done
# (a cut sync is run again, as the app would). Reported: the time to get everything to the server,
# and the bytes that crossed the link. Then the same day through PouchDB (photos as attachments)
# replicating to pouchdb-server (installed by vs-pouchdb.sh into its scratch folder); it gets three
# times communesync's time and a minute, and the table says if it did not finish.
# Needs root (network namespaces), node, and a release build. Everything it starts it stops by pid,
# and the namespace and link are removed on exit.
set -euo pipefail

households=50
photo_kib=60
rate=64kbit
rtt=500
cut=120
peer=1
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
build="$root/build/release"
scratch="${TMPDIR:-/tmp}/communesync-vs-pouchdb"
while [ $# -gt 0 ]; do
  case "$1" in
    --households) households="$2"; shift 2 ;;
    --photo-kib) photo_kib="$2"; shift 2 ;;
    --rate) rate="$2"; shift 2 ;;
    --rtt) rtt="$2"; shift 2 ;;
    --cut) cut="$2"; shift 2 ;;
    --no-peer) peer=0; shift ;;
    --build) build="$2"; shift 2 ;;
    *) echo "usage: $0 [--households N] [--photo-kib K] [--rate RATE] [--rtt MS] [--cut S] [--no-peer] [--build DIR]" >&2
       exit 2 ;;
  esac
done
build="$(cd "$build" 2> /dev/null && pwd || echo "$build")"
[ "$(id -u)" = 0 ] || { echo "village-2g: needs root for the network namespace" >&2; exit 1; }
for b in server/communesync-server tools/communesync tools/communesync-admin; do
  [ -x "$build/$b" ] || { echo "village-2g: no $build/$b; build the release preset first" >&2; exit 1; }
done
if [ "$peer" = 1 ] && [ ! -d "$scratch/node_modules/pouchdb-server" ]; then
  echo "village-2g: the peer is not installed; run tools/bench/vs-pouchdb.sh once (or pass --no-peer)" >&2
  exit 1
fi

run="$(mktemp -d "${TMPDIR:-/tmp}/communesync-village.XXXXXX")"
ns="csvil$$"
veth_host="csh$$"
veth_phone="csp$$"
net="10.78.$(($$ % 250))"
host_ip="$net.1"
phone_ip="$net.2"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2> /dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2> /dev/null || true; done
  ip link del "$veth_host" 2> /dev/null || true
  ip netns del "$ns" 2> /dev/null || true
  rm -rf "$run"
}
trap cleanup EXIT
trap "exit 130" INT TERM

# The link: a veth pair into a namespace, shaped in both directions.
ip netns add "$ns"
ip link add "$veth_host" type veth peer name "$veth_phone"
ip link set "$veth_phone" netns "$ns"
ip addr add "$host_ip/24" dev "$veth_host"
ip link set "$veth_host" up
ip netns exec "$ns" ip addr add "$phone_ip/24" dev "$veth_phone"
ip netns exec "$ns" ip link set "$veth_phone" up
ip netns exec "$ns" ip link set lo up
tc qdisc add dev "$veth_host" root tbf rate "$rate" burst 4kb latency 2s
ip netns exec "$ns" tc qdisc add dev "$veth_phone" root tbf rate "$rate" burst 4kb latency 2s
in_phone() { ip netns exec "$ns" "$@"; }

wait_port() {  # HOST PORT
  for _ in $(seq 1 100); do
    if node -e "require('net').connect($2, '$1').on('connect', () => process.exit(0)).on('error', () => process.exit(1))"; then
      return 0
    fi
    sleep 0.2
  done
  echo "village-2g: nothing answers on $1:$2" >&2
  return 1
}

# Photos: random bytes, the same for both systems.
mkdir -p "$run/photos"
for i in $(seq 1 "$households"); do head -c $((photo_kib * 1024)) /dev/urandom > "$run/photos/$i.jpg"; done

# The link's bytes and cuts, from the proxy's stats: "up down cuts connections".
link_stats() { node -e "const s = require('$1'); console.log(s.up, s.down, s.cuts, s.connections)"; }

# ---- communesync ----
port_server=$((20000 + $$ % 10000))
port_link=$((port_server + 1))
"$build/server/communesync-server" --data "$run/server" --listen "127.0.0.1:$port_server" --forms "$root/forms" \
  > /dev/null 2> "$run/server.log" &
pids+=($!)
wait_port 127.0.0.1 "$port_server"
admin="$(cat "$run/server/admin.token")"
token="$("$build/tools/communesync-admin" --server "http://127.0.0.1:$port_server" --token "$admin" \
  user add tuan --scope MAU-X01)"
node "$here/link-proxy.mjs" --listen "$host_ip:$port_link" --to "127.0.0.1:$port_server" --delay $((rtt / 2)) \
  --cut "$cut" --stats "$run/cs-link.json" &
pids+=($!)
wait_port "$host_ip" "$port_link"
phone() { in_phone "$build/tools/communesync" --home "$run/phone" "$@"; }
phone login --server "ws://$host_ip:$port_link" --token "$token" > /dev/null
until phone sync > /dev/null 2>&1; do sleep 1; done  # the forms, before the day starts

echo "== communesync: recording $households households offline"
for i in $(seq 1 "$households"); do
  id="$("$build/tools/communesync" --home "$run/phone" put household_survey --scope MAU-X01 \
    chu_ho="Hộ gia đình số $i" thon="Thôn $((i % 5 + 1))" so_nhan_khau:=$((i % 7 + 2)) tinh_trang_ngheo=ngheo \
    nha_tam:=true ly_do_ngheo="Thiếu đất sản xuất, không có vốn" ngay_khao_sat=2026-03-02 \
    tam_tu_nguyen_vong="Mong được hỗ trợ bò giống và tập huấn kỹ thuật chăn nuôi")"
  "$build/tools/communesync" --home "$run/phone" attach household_survey "$id" anh_nha "$run/photos/$i.jpg" > /dev/null
  "$build/tools/communesync" --home "$run/phone" put needs_proposal --scope MAU-X01 nam:=2026 linh_vuc=chan_nuoi \
    vat_nuoi=bo_sinh_san noi_dung="Hỗ trợ bò sinh sản cho hộ số $i" dia_diem="Thôn $((i % 5 + 1))" \
    so_ho_tham_gia:=1 kinh_phi_du_kien:=15000000 > /dev/null
done
read -r up0 down0 cuts0 conns0 < <(link_stats "$run/cs-link.json")
echo "== communesync: syncing over the link"
start=$(date +%s.%N)
attempts=1
until phone sync --json > "$run/sync.json" 2> "$run/sync.err"; do
  attempts=$((attempts + 1))
  [ "$attempts" -le 500 ] || { echo "village-2g: communesync did not finish in 500 syncs" >&2; exit 1; }
  sleep 1
done
cs_seconds=$(awk "BEGIN { printf \"%.1f\", $(date +%s.%N) - $start }")
sleep 1.2  # the proxy writes its stats every second
read -r up1 down1 cuts1 conns1 < <(link_stats "$run/cs-link.json")
cs_row="| communesync | $cs_seconds | $((up1 - up0)) | $((down1 - down0)) | $((cuts1 - cuts0)) | $attempts |"

# ---- the peer ----
peer_row=""
if [ "$peer" = 1 ]; then
  port_peer=$((port_server + 2))
  port_peer_link=$((port_server + 3))
  mkdir -p "$run/peer-db"
  node "$scratch/node_modules/pouchdb-server/bin/pouchdb-server" --host 127.0.0.1 --port "$port_peer" \
    --dir "$run/peer-db" --config "$run/peer-config.json" --no-stdout-logs > "$run/peer.log" 2>&1 &
  pids+=($!)
  wait_port 127.0.0.1 "$port_peer"
  node "$here/link-proxy.mjs" --listen "$host_ip:$port_peer_link" --to "127.0.0.1:$port_peer" \
    --delay $((rtt / 2)) --cut "$cut" --stats "$run/peer-link.json" &
  pids+=($!)
  wait_port "$host_ip" "$port_peer_link"
  cp "$here/pouchdb-village.mjs" "$scratch/pouchdb-village.mjs"  # imports resolve from the scratch folder
  echo "== pouchdb: recording and replicating $households households"
  read -r up0 down0 cuts0 conns0 < <(link_stats "$run/peer-link.json")
  in_phone node "$scratch/pouchdb-village.mjs" --remote "http://$host_ip:$port_peer_link/village" \
    --households "$households" --photos "$run/photos" --work "$run/peer-phone" \
    --max-seconds "$(awk "BEGIN { printf \"%d\", 3 * $cs_seconds + 60 }")" > "$run/peer-day.json"
  sleep 1.2
  read -r up1 down1 cuts1 conns1 < <(link_stats "$run/peer-link.json")
  peer_seconds=$(node -e "console.log(require('$run/peer-day.json').seconds.toFixed(1))")
  peer_attempts=$(node -e "console.log(require('$run/peer-day.json').attempts)")
  peer_finished=$(node -e "console.log(require('$run/peer-day.json').finished ? '' : ' (did not finish)')")
  peer_row="| PouchDB to pouchdb-server | $peer_seconds$peer_finished | $((up1 - up0)) | $((down1 - down0)) | $((cuts1 - cuts0)) | $peer_attempts |"
fi

echo
echo "A commune's day: $households households (survey, ${photo_kib} KiB photo, needs proposal), link $rate each way,"
echo "${rtt} ms round trip, cut every ${cut} s"
echo
echo "| system | seconds to the server | link bytes up | link bytes down | cuts during the sync | sync attempts |"
echo "|---|---|---|---|---|---|"
echo "$cs_row"
[ -z "$peer_row" ] || echo "$peer_row"
