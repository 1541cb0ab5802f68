#!/usr/bin/env bash
# Cross-compiles the client library and its tests for aarch64 and runs them under qemu-user
# (issue 10; not part of every CI run: it installs a cross toolchain and builds a second tree).
#   sudo tools/scripts/cross-arm64.sh            # install what is missing, build, test
# Tests run in build/arm64 through ctest, each arm64 binary under qemu-aarch64; the sync tests talk
# to a native communesync-server built by the debug preset (its CPU does not matter to them).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive

"$here/install-deps.sh"
if ! dpkg --print-foreign-architectures | grep -qx arm64; then
  $SUDO dpkg --add-architecture arm64
  $SUDO apt-get update -q
fi
# Installed beside the amd64 packages (multiarch): the cross toolchain, qemu, and the arm64
# libraries that Debian marks co-installable.
packages=(crossbuild-essential-arm64 qemu-user libc6:arm64 libssl-dev:arm64 libsodium-dev:arm64 libzstd-dev:arm64
  libutf8proc-dev:arm64 libgtest-dev:arm64 libgmock-dev:arm64 libboost1.81-dev:arm64
  libsnappy-dev:arm64 liblz4-dev:arm64 libbz2-dev:arm64 zlib1g-dev:arm64)  # RocksDB's CMake config finds these
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"; fi

# librocksdb-dev and libgflags-dev cannot be installed for two architectures at once (installing the
# arm64 ones removes the amd64 ones the server needs), so their arm64 packages are downloaded from
# Debian and unpacked here.
deps="$root/build/arm64-deps"
unpacked=(librocksdb-dev librocksdb7.8 libgflags-dev libgflags2.2)
if [ "$(cat "$deps/unpacked" 2>/dev/null)" != "${unpacked[*]}" ]; then
  rm -rf "$deps"
  mkdir -p "$deps/debs"
  chmod 777 "$deps/debs"  # apt's download user writes here
  (cd "$deps/debs" && apt-get download "${unpacked[@]/%/:arm64}")
  for deb in "$deps"/debs/*.deb; do dpkg-deb -x "$deb" "$deps"; done
  echo "${unpacked[*]}" > "$deps/unpacked"
fi

# A native server for the tests that sync (built by the debug preset if it is not there yet).
if [ ! -x "$root/build/debug/server/communesync-server" ]; then
  (cd "$root" && cmake --preset debug >/dev/null && cmake --build --preset debug --target communesync-server)
fi

cd "$root"
cmake -S . -B build/arm64 -G Ninja -DCMAKE_BUILD_TYPE=Debug \
  -DCMAKE_TOOLCHAIN_FILE=cmake/aarch64-linux-gnu.cmake -DCOMMUNESYNC_ARM64_DEPS="$deps" \
  -DCOMMUNESYNC_CLIENT_ONLY=ON -DCOMMUNESYNC_HOST_SERVER="$root/build/debug/server/communesync-server" >/dev/null
cmake --build build/arm64
file build/arm64/tests/client/client_tests | grep -q 'ARM aarch64' || { echo "cross-arm64: not an arm64 binary"; exit 1; }
export LD_LIBRARY_PATH="$deps/usr/lib/aarch64-linux-gnu:/usr/lib/aarch64-linux-gnu"
# The crash tests exec a helper binary of their own, which needs binfmt_misc to run an arm64 program
# from an arm64 one; they run natively in every CI run.
# Each test is bounded (emulation is slow, and a hang must end the run, not stall it).
ctest --test-dir build/arm64 --output-on-failure -j 2 --timeout 300 -E 'Crash' "$@"
echo "cross-arm64: the client library's tests passed on aarch64 under qemu-user"
