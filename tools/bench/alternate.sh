#!/bin/bash
# Compares two communesync-server binaries on this noisy machine: runs a communesync-bench scenario
# with each in turn, RUNS times, and prints every result and the medians, so a change is judged by
# ratios of medians from runs interleaved in time, not by one run each.
#
#   tools/bench/alternate.sh BEFORE_SERVER AFTER_SERVER RUNS -- SCENARIO [bench options...]
#   e.g. tools/bench/alternate.sh /tmp/server-before /tmp/server-after 4 -- replay --records 100000
#
# Uses build/release (tools/communesync-bench starts build/release/server/communesync-server): the
# server binary there is swapped for each run and the AFTER one is left in place.
#
# Across a protocol change the benchmark must move with its server: give two release build folders
# instead (BEFORE_BUILD AFTER_BUILD), and each run uses that folder's own communesync-bench.
#   e.g. tools/bench/alternate.sh /tmp/base/build/release build/release 3 -- push --records 100000
set -euo pipefail
before=$1 after=$2 runs=$3
shift 3
[ "${1:-}" = "--" ] && shift
root=$(cd "$(dirname "$0")/../.." && pwd)
bench=$root/build/release/tools/communesync-bench
server=$root/build/release/server/communesync-server
[ -x "$bench" ] || { echo "build the release preset first: cmake --preset release && cmake --build --preset release" >&2; exit 2; }
log=$(mktemp)
if [ -d "$before" ] && [ -d "$after" ]; then
  trap 'rm -f "$log"' EXIT
  for ((i = 1; i <= runs; i++)); do
    for which in before after; do
      echo "$which $("${!which}/tools/communesync-bench" "$@" --json 2>/dev/null)" | tee -a "$log"
    done
  done
else
  trap 'cp "$after" "$server"; rm -f "$log"' EXIT
  for ((i = 1; i <= runs; i++)); do
    for which in before after; do
      cp "${!which}" "$server"
      echo "$which $("$bench" "$@" --json 2>/dev/null)" | tee -a "$log"
    done
  done
fi
python3 - "$log" <<'PY'
import json, statistics, sys
rows = [line.split(' ', 1) for line in open(sys.argv[1]) if ' ' in line]
medians = {}
for which in ('before', 'after'):
    runs = [json.loads(j) for w, j in rows if w == which]
    medians[which] = {k: statistics.median(r[k] for r in runs) for k in runs[0] if isinstance(runs[0][k], (int, float))}
for k in medians['before']:
    b, a = medians['before'][k], medians['after'][k]
    print(f"{k:32} before {b:12.1f}  after {a:12.1f}  ratio {a / b if b else float('nan'):.2f}")
PY
