#!/usr/bin/env bash
# communesync and PouchDB side by side, in one run, on the same generated records (docs/benchmarks.md).
#
#   tools/bench/vs-pouchdb.sh [--records N] [--tiny T] [--build DIR] [--scratch DIR]
#
# Installs pouchdb-server and pouchdb from the npm registry into a scratch folder (not the project),
# starts pouchdb-server on 127.0.0.1 with its LevelDB store in that folder, pushes and pulls the
# records communesync-bench generates (`communesync-bench dataset`) through it, then runs
# communesync-bench push, pull, tiny and replay (each server's capacity alone: pre-encoded requests
# from 4 connections, no device store in the loop) with the same count, and prints both and their
# ratios.
# Needs node and npm, and a release build (cmake --preset release && cmake --build --preset release).
# Not part of the test suite. Stops the peer it started (by its pid) whatever happens.
set -euo pipefail

records=10000
tiny=100
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
build="$root/build/release"
scratch="${TMPDIR:-/tmp}/communesync-vs-pouchdb"
while [ $# -gt 0 ]; do
  case "$1" in
    --records) records="$2"; shift 2 ;;
    --tiny) tiny="$2"; shift 2 ;;
    --build) build="$2"; shift 2 ;;
    --scratch) scratch="$2"; shift 2 ;;
    *) echo "usage: $0 [--records N] [--tiny T] [--build DIR] [--scratch DIR]" >&2; exit 2 ;;
  esac
done
build="$(cd "$build" 2> /dev/null && pwd || echo "$build")"
bench="$build/tools/communesync-bench"
[ -x "$bench" ] || { echo "vs-pouchdb: no $bench; build the release preset first" >&2; exit 1; }
command -v npm > /dev/null || { echo "vs-pouchdb: npm is needed (apt-get install npm)" >&2; exit 1; }

mkdir -p "$scratch"
cd "$scratch"
if [ ! -d node_modules/pouchdb-server ] || [ ! -d node_modules/pouchdb ]; then
  echo "== installing pouchdb-server and pouchdb into $scratch"
  npm install --no-audit --no-fund --loglevel=error pouchdb-server@4 pouchdb@9 > npm.log 2>&1 ||
    { cat npm.log >&2; exit 1; }
fi
cp "$here/pouchdb-peer.mjs" "$scratch/pouchdb-peer.mjs"  # imports resolve from the scratch folder
run="$scratch/run-$$"
rm -rf "$run"
mkdir -p "$run/db"

port=$((30000 + $$ % 20000))
node node_modules/pouchdb-server/bin/pouchdb-server --host 127.0.0.1 --port "$port" --dir "$run/db" \
  --config "$run/config.json" --no-stdout-logs > "$run/peer.log" 2>&1 &
peer=$!
trap 'kill "$peer" 2> /dev/null || true; wait "$peer" 2> /dev/null || true' EXIT
trap "exit 130" INT TERM
for _ in $(seq 1 100); do
  if node -e "require('http').get('http://127.0.0.1:$port/', r => process.exit(r.statusCode === 200 ? 0 : 1)).on('error', () => process.exit(1))"; then
    break
  fi
  sleep 0.2
done

echo "== $records records: the dataset"
"$bench" dataset --records "$records" > "$run/dataset.jsonl"
echo "== the peer: PouchDB to pouchdb-server (LevelDB)"
node pouchdb-peer.mjs --remote "http://127.0.0.1:$port" --server-pid "$peer" --dataset "$run/dataset.jsonl" \
  --work "$run/local" --tiny "$tiny" --connections 4 > "$run/peer.json"
echo "== communesync"
"$bench" push --records "$records" --json > "$run/push.json"
"$bench" pull --records "$records" --json > "$run/pull.json"
"$bench" tiny --records "$tiny" --json > "$run/tiny.json"
"$bench" replay --records "$records" --connections 4 --json > "$run/replay.json"

node - "$run" << 'EOF'
const fs = require('fs');
const run = process.argv[2];
const read = (f) => JSON.parse(fs.readFileSync(`${run}/${f}`, 'utf8'));
const peer = read('peer.json'), push = read('push.json'), pull = read('pull.json'), tiny = read('tiny.json');
const replay = read('replay.json');
const rows = [
  ['push records/s', push.records_per_s, peer.push_records_per_s, 'higher'],
  ['push server CPU µs/record', push.server_cpu_us_per_record, peer.push_server_cpu_us_per_record, 'lower'],
  ['push wire bytes/record (up)', push.wire_bytes_per_record, peer.push_wire_bytes_per_record, 'lower'],
  ['pull records/s', pull.records_per_s, peer.pull_records_per_s, 'higher'],
  ['pull server CPU µs/record', pull.server_cpu_us_per_record, peer.pull_server_cpu_us_per_record, 'lower'],
  ['pull wire bytes/record (down)', pull.wire_bytes_per_record, peer.pull_wire_bytes_per_record, 'lower'],
  ['tiny sync p50 ms', tiny.p50_ms, peer.tiny_p50_ms, 'lower'],
  ['tiny sync p99 ms', tiny.p99_ms, peer.tiny_p99_ms, 'lower'],
  ['tiny sync bytes', tiny.bytes_per_sync, peer.tiny_bytes_per_sync, 'lower'],
  ['tiny sync server CPU µs', tiny.server_cpu_us_per_sync, peer.tiny_server_cpu_us_per_sync, 'lower'],
  ['no-op sync bytes', tiny.noop_sync_bytes, peer.noop_sync_bytes, 'lower'],
  ['no-op sync round trips', tiny.noop_round_trips, peer.noop_round_trips, 'lower'],
  ['replay (server alone) records/s', replay.records_per_s, peer.replay_records_per_s, 'higher'],
  ['replay server CPU µs/record', replay.server_cpu_us_per_record, peer.replay_server_cpu_us_per_record, 'lower'],
  ['server peak RSS MB (push+pull)', Math.max(push.peak_rss_mb, pull.peak_rss_mb), peer.peak_rss_mb, 'lower'],
];
const fmt = (x) => (x >= 100 ? Math.round(x).toLocaleString('en') : x.toFixed(2));
console.log(`\n${peer.records} records | communesync | pouchdb-server | communesync better by`);
console.log('|---|---|---|---|');
for (const [what, cs, pd, better] of rows) {
  const ratio = better === 'higher' ? cs / pd : pd / cs;
  const shown = Number.isFinite(ratio) ? `${ratio.toFixed(1)}x` : 'nothing sent';
  console.log(`| ${what} | ${fmt(cs)} | ${fmt(pd)} | ${shown} |`);
}
console.log('\n' + JSON.stringify({ communesync: { push, pull, tiny, replay }, pouchdb: peer }));
EOF
rm -rf "$run"
