#!/usr/bin/env bash
# Quick start, command 2: install what is missing, build, and run the whole test suite with ctest.
#   tools/scripts/run-tests.sh                 # debug preset
#   tools/scripts/run-tests.sh --preset asan   # AddressSanitizer + UndefinedBehaviorSanitizer
# Extra arguments after the preset go to ctest (e.g. -R Merge).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
preset=debug
if [ "${1:-}" = "--preset" ]; then
  preset="$2"
  shift 2
fi
"$here/install-deps.sh"
# ccache's folder is its default one in the home directory; with the checkout as its base directory
# a fresh clone elsewhere reuses what an earlier clone compiled.
export CCACHE_BASEDIR="${CCACHE_BASEDIR:-$root}" CCACHE_NOHASHDIR="${CCACHE_NOHASHDIR:-true}"
cd "$root"
# The dashboard's browser test: playwright-core at the version package-lock.json pins (no browser
# download: it drives Debian's /usr/bin/chromium).
if [ ! -d tests/web/node_modules/playwright-core ]; then
  (cd tests/web && npm ci --no-audit --no-fund --loglevel=error)
fi
cmake --preset "$preset" >/dev/null
cmake --build --preset "$preset"
ctest --preset "$preset" "$@"
