#!/usr/bin/env bash
# The Debian packages, built by cpack from this build tree, installed by dpkg into a scratch root
# (dpkg --root with chrootless maintainer scripts: the postinst runs for real, with $DPKG_ROOT), the
# server started from that root as its systemd unit starts it (the unit's own command line and
# config), then upgraded in place: the conffile an operator edited is kept, the store is kept, and
# the unit manager is told to restart the server.
#
#   package_test.sh BUILD_DIR WORK_DIR
#
# Everything listens on 127.0.0.1 on a free port; the server is ended by its pid on exit.
set -euo pipefail

build=$1 work=$2
rm -rf "$work"
mkdir -p "$work"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
}
trap cleanup EXIT
fail() {
  echo "FAIL: $*"
  [ -f "$work/server.log" ] && { echo "--- server log"; tail -20 "$work/server.log"; }
  exit 1
}
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# 1. The packages (gzip instead of xz: the same files, made in seconds).
(cd "$build" && cpack -G DEB -D CPACK_DEBIAN_COMPRESSION_TYPE=gzip -B "$work/pkg" > "$work/cpack.log" 2>&1) \
  || { cat "$work/cpack.log"; fail "cpack -G DEB"; }
server_deb=$(ls "$work"/pkg/communesync-server_*.deb)
tools_deb=$(ls "$work"/pkg/communesync-tools_*.deb)
dpkg-deb -I "$server_deb" conffiles | grep -qx /etc/communesync/config.json || fail "config.json is not a conffile"
dpkg-deb -c "$server_deb" | awk '{print $6}' > "$work/server.files"
for path in ./usr/bin/communesync-server ./usr/lib/systemd/system/communesync-server.service ./etc/communesync/config.json \
            ./usr/share/communesync/web/index.html ./usr/share/communesync/web/app/index.html \
            ./usr/share/communesync/forms/household_survey.json; do
  grep -qx "$path" "$work/server.files" || fail "the server package lacks $path"
done
dpkg-deb -c "$tools_deb" | awk '{print $6}' | grep -qx ./usr/bin/communesync-admin || fail "the tools package lacks communesync-admin"

# 2. The unit: hardened (systemd's own exposure score), and well-formed once installed.
command -v systemd-analyze > /dev/null || fail "systemd-analyze is missing (tools/scripts/install-deps.sh installs systemd)"
dpkg-deb --fsys-tarfile "$server_deb" | tar -xO ./usr/lib/systemd/system/communesync-server.service > "$work/unit.service"
systemd-analyze security --offline=true --threshold=25 "$work/unit.service" > "$work/security.txt" 2>&1 \
  || { tail -3 "$work/security.txt"; fail "the unit's exposure is above 2.5"; }
grep -q "ProtectSystem=strict" "$work/unit.service" || fail "the unit does not protect the system"

# 3. A real dpkg install into a scratch root: the postinst makes the service's user; systemd "runs"
#    there (a stand-in systemctl records what the scripts ask of it).
root="$work/root"
mkdir -p "$root/var/lib/dpkg/info" "$root/var/lib/dpkg/updates" "$root/etc" "$root/run/systemd/system" "$work/bin"
touch "$root/var/lib/dpkg/status" "$root/var/lib/dpkg/available"
for f in passwd group shadow gshadow; do : > "$root/etc/$f"; done
cat > "$work/bin/systemctl" <<SH
#!/bin/sh
echo "\$*" >> "$work/systemctl.log"
SH
chmod +x "$work/bin/systemctl"
install_deb() {
  PATH="$work/bin:$PATH" dpkg --root="$root" --force-script-chrootless --force-not-root --force-depends \
    --force-confold --log=/dev/null -i "$@" > "$work/dpkg.log" 2>&1 || { cat "$work/dpkg.log"; fail "dpkg -i $*"; }
}
install_deb "$server_deb" "$tools_deb"
grep -q '^communesync:' "$root/etc/passwd" || fail "the postinst made no communesync user"
grep -qx "enable --now communesync-server.service" "$work/systemctl.log" || fail "a first install does not start the unit: $(cat "$work/systemctl.log")"
# verify checks that ExecStart's program exists: point it at the installed one.
mkdir -p "$work/verify"
sed "s|^ExecStart=/usr/bin/|ExecStart=$root/usr/bin/|" "$root/usr/lib/systemd/system/communesync-server.service" \
  > "$work/verify/communesync-server.service"
systemd-analyze verify "$work/verify/communesync-server.service" > "$work/verify.txt" 2>&1 \
  || { cat "$work/verify.txt"; fail "systemd-analyze verify"; }

# 4. Start the installed server as the unit does (ExecStart, its config), with the data folder and
#    port moved into this test's scratch space.
exec_start=$(sed -n 's/^ExecStart=//p' "$root/usr/lib/systemd/system/communesync-server.service")
[ "$exec_start" = "/usr/bin/communesync-server --config /etc/communesync/config.json" ] || fail "ExecStart is '$exec_start'"
port=$(free_port)
python3 - "$root/etc/communesync/config.json" "$root" "$port" <<'PY'
import json, sys
path, root, port = sys.argv[1:]
c = json.load(open(path))
assert c["data"] == "/var/lib/communesync", c
c["data"] = root + c["data"]
c["forms_dir"] = root + c["forms_dir"]
c["listen"] = "127.0.0.1:" + port
c["device_silent_days"] = 9   # the operator's own edit: an upgrade must keep it
json.dump(c, open(path, "w"), indent=2)
PY
start_server() {
  # As under systemd, stderr is "the journal": $JOURNAL_STREAM names it (device:inode), and the server
  # then starts each line with its syslog priority.
  sh -c 'JOURNAL_STREAM=$(stat -L -c "%d:%i" /proc/self/fd/2) exec "$0" --config "$1"' \
    "$root/usr/bin/communesync-server" "$root/etc/communesync/config.json" > "$work/server.out" 2> "$work/server.log" &
  pids+=($!)
  server_pid=$!
  for _ in $(seq 100); do
    curl -sf -o /dev/null "http://127.0.0.1:$port/healthz" && return 0
    sleep 0.1
  done
  fail "the installed server did not answer /healthz"
}
stop_server() {
  kill -TERM "$server_pid"
  wait "$server_pid" || fail "the server did not stop cleanly"
}
start_server
curl -sf "http://127.0.0.1:$port/healthz" | grep -q '"status":"ok"' || fail "healthz"
grep -q '^<6>20[0-9-]*T[0-9:.]*Z info connection_limit ' "$work/server.log" \
  || fail "the log lines do not carry journald's priority: $(head -2 "$work/server.log")"
grep -q 'admin token is in' "$work/server.out" || fail "the server did not say where the admin token is"
grep -qE '^[0-9a-f]{64}$' "$work/server.out" && fail "a server without a terminal printed the admin token"
curl -sf "http://127.0.0.1:$port/" | grep -q "<html" || fail "the dashboard is not served from /usr/share/communesync/web"
admin=$(cat "$root/var/lib/communesync/admin.token")
forms=$("$root/usr/bin/communesync-admin" --server "http://127.0.0.1:$port" --token "$admin" forms list) || fail "forms list"
echo "$forms" | grep -q household_survey || fail "the packaged forms were not published: $forms"
"$root/usr/bin/communesync-admin" --server "http://127.0.0.1:$port" --token "$admin" user add an --scope xa-01 > /dev/null \
  || fail "user add"
incarnation=$(curl -sf "http://127.0.0.1:$port/healthz")
stop_server

# 5. Upgrade in place: the same package again is dpkg's upgrade path (prerm upgrade, postinst
#    configure OLD_VERSION).
: > "$work/systemctl.log"
install_deb "$server_deb"
grep -q '"device_silent_days": 9' "$root/etc/communesync/config.json" || fail "the upgrade replaced the operator's config"
grep -qx "try-restart communesync-server.service" "$work/systemctl.log" || fail "an upgrade does not restart the unit: $(cat "$work/systemctl.log")"
start_server
[ "$(curl -sf "http://127.0.0.1:$port/healthz")" = "$incarnation" ] || fail "the upgrade lost the store (another incarnation)"
users=$("$root/usr/bin/communesync-admin" --server "http://127.0.0.1:$port" --token "$admin" user list)
echo "$users" | grep -q "^an" || fail "the upgrade lost the store's users: $users"
stop_server

echo "PASS: packages built, installed by dpkg into a scratch root, started as the unit, upgraded keeping config and store"
