// Every limit and default of storage/, in one place.
#pragma once

#include <chrono>
#include <cstddef>

namespace communesync::storage::tuning {

inline constexpr std::size_t kMiB = std::size_t{1024} * 1024;

//! Block cache for a server store: hot records and index blocks.
inline constexpr std::size_t kServerBlockCacheBytes = std::size_t{32} * kMiB;
//! Block cache for a phone: small, the phone's budget is 64 MB in all.
inline constexpr std::size_t kDeviceBlockCacheBytes = std::size_t{4} * kMiB;
//! Memtable size per column family on the server.
inline constexpr std::size_t kServerWriteBufferBytes = std::size_t{16} * kMiB;
//! Memtable size per column family on a phone.
inline constexpr std::size_t kDeviceWriteBufferBytes = std::size_t{2} * kMiB;
//! Memtables of all column families together, server and device.
inline constexpr std::size_t kServerTotalWriteBufferBytes = std::size_t{32} * kMiB;
inline constexpr std::size_t kDeviceTotalWriteBufferBytes = std::size_t{8} * kMiB;
//! Background flush and compaction threads.
inline constexpr int kServerBackgroundJobs = 2;
inline constexpr int kDeviceBackgroundJobs = 1;
//! Bloom filter bits per key: point lookups (idempotency, records) skip files that lack the key.
inline constexpr double kBloomBitsPerKey = 10.0;
//! Open files kept by RocksDB; bounded so a big store cannot exhaust descriptors.
inline constexpr int kMaxOpenFiles = 512;
//! File pieces at least this large are kept in blob files, apart from the LSM tree.
inline constexpr std::size_t kMinBlobBytes = 1024;
//! Size of one blob file.
inline constexpr std::size_t kBlobFileBytes = std::size_t{64} * kMiB;
//! The on-disk layout this code writes; a store with a higher number is refused.
//! 2: records, changes and conflicts in the compact codec (sync/compact.hpp).
inline constexpr int kFormatVersion = 2;
//! The oldest layout this code reads. Format 1 was never released (its stores came from development
//! builds only), so no migration reads it: such a store is refused with a message saying so.
inline constexpr int kOldestReadableFormat = 2;

// ---- PostgreSQL (postgres_store.hpp) ----

//! Connections a PostgreSQL store opens at most, and how long a caller waits for a free one.
inline constexpr std::size_t kPostgresMaxConnections = 32;
inline constexpr std::chrono::milliseconds kPostgresBusyWait{10000};
//! Rows a cursor reads in its first page; each next page is twice as large, up to the last.
inline constexpr std::size_t kPostgresFirstPageRows = 64;
inline constexpr std::size_t kPostgresMaxPageRows = 4096;
//! The longest notice a batch may carry (PostgreSQL's NOTIFY takes under 8,000 bytes, with the
//! sending store's id in front).
inline constexpr std::size_t kMaxNoticeBytes = 7900;
//! How often the listening thread looks up from waiting for notices (to stop), and how long it
//! waits before connecting again after losing the database.
inline constexpr std::chrono::milliseconds kPostgresListenPoll{200};
inline constexpr std::chrono::milliseconds kPostgresListenRetry{1000};
//! How long connecting may take before the store gives up (libpq's connect_timeout, in seconds).
inline constexpr int kPostgresConnectTimeoutSeconds = 10;

}  // namespace communesync::storage::tuning
