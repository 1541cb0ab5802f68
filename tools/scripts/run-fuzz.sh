#!/usr/bin/env bash
# Runs every libFuzzer target (clang, ASan+UBSan) for a bounded time, seeded with the corpus kept in
# tests/fuzz/corpus/<target>. New inputs go to build/fuzz/new-corpus/<target> (merge the useful ones
# into the kept corpus by hand); a crash stops the run and leaves its input in build/fuzz/artifacts/:
# copy it to tests/fuzz/regressions/<target>/ so every test run replays it.
#   tools/scripts/run-fuzz.sh [--seconds N]      (default 30 per target)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
seconds=30
if [ "${1:-}" = "--seconds" ]; then seconds="$2"; fi
"$here/install-deps.sh"
# ccache's folder is its default one in the home directory; with the checkout as its base directory
# a fresh clone elsewhere reuses what an earlier clone compiled.
export CCACHE_BASEDIR="${CCACHE_BASEDIR:-$root}" CCACHE_NOHASHDIR="${CCACHE_NOHASHDIR:-true}"
cd "$root"
cmake --preset fuzz >/dev/null
# The targets are those tests/fuzz/CMakeLists.txt lists: built by name, so a target added there is
# built and run here even if the fuzz build preset's list was not updated with it.
targets=$(sed -n 's/^set(COMMUNESYNC_FUZZ_TARGETS \(.*\))$/\1/p' tests/fuzz/CMakeLists.txt)
# shellcheck disable=SC2086 # one word per target
cmake --build --preset fuzz --target $targets
mkdir -p build/fuzz/artifacts
for t in $targets; do
  mkdir -p "build/fuzz/new-corpus/$t" "tests/fuzz/regressions/$t"
  echo "== fuzz $t for ${seconds}s"
  "build/fuzz/tests/fuzz/$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="build/fuzz/artifacts/$t-" \
    "build/fuzz/new-corpus/$t" "tests/fuzz/corpus/$t" "tests/fuzz/regressions/$t" 2>&1 | tail -n 12
done
echo "== fuzzing found no crash"
