#!/usr/bin/env bash
# Installs the Debian 12 packages communesync needs to build and test.
# Only what is missing is installed; run as root or through sudo.
set -euo pipefail

packages=(
  build-essential cmake ninja-build ccache pkg-config git curl clang-format clang-tidy python3
  libboost1.81-dev          # Beast, Asio (header-only parts)
  librocksdb-dev            # the embedded store
  libjemalloc-dev           # the server program's allocator
  libcereal-dev             # portable binary serialisation
  libgtest-dev libgmock-dev # tests
  libbenchmark-dev          # micro benchmarks
  libssl-dev                # TLS, SHA-256
  openssl                   # the tests make a test CA and certificates with it
  libsodium-dev             # tokens, password hashing
  libzstd-dev               # payload compression
  libutf8proc-dev           # Unicode NFC
  libcli11-dev              # command lines
  libspdlog-dev             # the server's log (base/log.hpp)
  nlohmann-json3-dev        # JSON for the CLI, admin API, config
  zlib1g-dev                # permessage-deflate comparison (tools/wire_size.cpp)
  clang libclang-rt-14-dev  # libFuzzer targets (tools/scripts/run-fuzz.sh)
  libxlsxwriter-dev         # XLSX exports and reports
  libpq-dev                 # the PostgreSQL store (storage/postgres_store.hpp)
  postgresql-15             # its server: the tests start a scratch cluster (tools/scripts/postgres-scratch.sh)
  unzip                     # the tests read exported XLSX back
  default-jdk-headless      # the Java wrapper over the C API (client-lib/jni) and its test
  chromium                  # the dashboard's end-to-end tests (tests/web), driven by playwright-core
  emscripten                # the field app's WebAssembly sync core (client-lib/wasm)
  nginx-light               # the reverse proxy test (tests/ops/nginx_proxy_test.sh)
  systemd                   # systemd-analyze checks the package's unit (tests/ops/package_test.sh)
)
# Node.js and npm run the dashboard's browser tests. Debian's nodejs and npm, unless this machine
# already has a node and npm (another packaging of Node must not be replaced).
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  packages+=(nodejs npm)
fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all packages present"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
