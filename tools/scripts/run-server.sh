#!/usr/bin/env bash
# Quick start, command 1: install what is missing, build the release preset, and run
# communesync-server on 127.0.0.1:8080 with its store in ./communesync-data (Ctrl-C stops it cleanly);
# a new store starts with the twinning forms and the sample unit tree of forms/.
# Extra arguments go to the server, e.g.  tools/scripts/run-server.sh --listen 0.0.0.0:8080
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
"$here/install-deps.sh"
cd "$root"
cmake --preset release >/dev/null
cmake --build --preset release --target communesync-server
exec "$root/build/release/server/communesync-server" --data "${COMMUNESYNC_DATA:-./communesync-data}" \
  --forms "$root/forms" "$@"
