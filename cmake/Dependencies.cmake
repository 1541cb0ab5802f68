# Every dependency comes from Debian 12 packages (tools/scripts/install-deps.sh).
find_package(Threads REQUIRED)
find_package(Boost 1.81 REQUIRED CONFIG)          # libboost1.81-dev: Beast, Asio are header-only
find_package(RocksDB REQUIRED CONFIG)             # librocksdb-dev
find_package(cereal REQUIRED CONFIG)              # libcereal-dev
find_package(OpenSSL REQUIRED)                    # libssl-dev
find_package(zstd REQUIRED CONFIG)                # libzstd-dev
if(NOT COMMUNESYNC_CLIENT_ONLY)
  find_package(CLI11 REQUIRED CONFIG)             # libcli11-dev
  find_package(spdlog REQUIRED CONFIG)            # libspdlog-dev: the server's log
endif()
find_package(nlohmann_json 3.10 REQUIRED CONFIG)  # nlohmann-json3-dev
find_package(PkgConfig REQUIRED)
pkg_check_modules(UTF8PROC REQUIRED IMPORTED_TARGET libutf8proc)
pkg_check_modules(SODIUM REQUIRED IMPORTED_TARGET libsodium)
if(NOT COMMUNESYNC_CLIENT_ONLY)
  pkg_check_modules(XLSXWRITER REQUIRED IMPORTED_TARGET xlsxwriter)  # libxlsxwriter-dev: spreadsheets
  pkg_check_modules(LIBPQ REQUIRED IMPORTED_TARGET libpq)            # libpq-dev: the PostgreSQL store
  if(COMMUNESYNC_JEMALLOC)
    pkg_check_modules(JEMALLOC REQUIRED IMPORTED_TARGET jemalloc)    # libjemalloc-dev: the server's allocator
  endif()
endif()

if(TARGET zstd::libzstd_shared)
  set(COMMUNESYNC_ZSTD zstd::libzstd_shared)
else()
  set(COMMUNESYNC_ZSTD zstd::libzstd_static)
endif()

if(TARGET RocksDB::rocksdb-shared)
  set(COMMUNESYNC_ROCKSDB RocksDB::rocksdb-shared)
else()
  set(COMMUNESYNC_ROCKSDB RocksDB::rocksdb)
endif()
