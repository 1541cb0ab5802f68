#!/usr/bin/env bash
# Runs clang-tidy (the checks in .clang-tidy) over every source file of the libraries, the server and
# the tools, and fails on any finding. Used by .ci/run.
#   tools/scripts/run-clang-tidy.sh [--preset debug] [FILE...]
#
# A file whose preprocessed text, compile flags, .clang-tidy and clang-tidy version are unchanged since
# it last passed is not checked again: its key is kept in $COMMUNESYNC_TIDY_CACHE (default
# ~/.cache/communesync-clang-tidy), which outlives a fresh clone the way ccache's folder does. Parsing
# Beast takes clang-tidy 20-90 s per file on this machine; preprocessing takes about one.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
preset=debug
if [ "${1:-}" = "--preset" ]; then
  preset="$2"
  shift 2
fi
cd "$root"
db="build/$preset/compile_commands.json"
if [ ! -f "$db" ]; then
  echo "run-clang-tidy: no $db; configure first (cmake --preset $preset)" >&2
  exit 2
fi
cache="${COMMUNESYNC_TIDY_CACHE:-$HOME/.cache/communesync-clang-tidy}"
mkdir -p "$cache"
jobs="${COMMUNESYNC_TIDY_JOBS:-$(nproc)}"
if [ $# -gt 0 ]; then
  files=("$@")
else
  mapfile -t files < <(git ls-files 'storage/*.cpp' 'sync/*.cpp' 'server/*.cpp' 'client-lib/*.cpp' 'tools/*.cpp')
fi
salt="$(clang-tidy --version | sha256sum | cut -c1-16)$(git ls-files '*.clang-tidy' | xargs cat | sha256sum | cut -c1-16)"
export db cache salt root
check_one() {
  local file="$1"
  # The file's compile command from the database, run with -E: what clang-tidy will parse.
  local cmd
  cmd=$(python3 - "$db" "$root/$file" <<'PY'
import json, shlex, sys
for e in json.load(open(sys.argv[1])):
    if e["file"] == sys.argv[2]:
        args = shlex.split(e["command"])
        out, skip = [], False
        for a in args:
            if skip: skip = False; continue
            if a == "-o": skip = True; continue
            if a in ("-c", "-MD") or a.startswith("-MF") or a.startswith("-MT"): continue
            out.append(a)
        if "-MF" in args or "-MT" in args:
            cleaned, it = [], iter(out)
            for a in it:
                if a in ("-MF", "-MT"): next(it, None); continue
                cleaned.append(a)
            out = cleaned
        print(e["directory"]); print(shlex.join(out)); break
PY
)
  if [ -z "$cmd" ]; then
    echo "run-clang-tidy: $file is not in the compile database (not built by this preset): skipped"
    return 0
  fi
  local dir line
  dir=$(echo "$cmd" | sed -n 1p)
  line=$(echo "$cmd" | sed -n 2p)
  local key
  # The checkout's own path is taken out (it is in __FILE__ and in the flags): a clone at another path
  # finds the verdicts an earlier clone left.
  key=$( (cd "$dir" && eval "$line -E -P" 2>/dev/null; echo "$line"; echo "$salt") | sed "s#$root##g" | sha256sum | cut -c1-40)
  if [ -f "$cache/$key" ]; then return 0; fi
  local out
  if out=$(clang-tidy -p "$(dirname "$db")" --quiet "$root/$file" 2>/dev/null) && ! grep -q "warning:\|error:" <<<"$out"; then
    touch "$cache/$key"
    echo "clang-tidy: $file clean"
  else
    echo "$out" | grep -A3 "warning:\|error:"
    echo "clang-tidy: $file has findings"
    return 1
  fi
}
export -f check_one
status=0
printf '%s\n' "${files[@]}" | xargs -P "$jobs" -I{} bash -c 'check_one "$@"' _ {} || status=1
if [ $status -ne 0 ]; then
  echo "== clang-tidy found something: see above (the checks are in .clang-tidy)"
  exit 1
fi
echo "== clang-tidy: ${#files[@]} files clean"
