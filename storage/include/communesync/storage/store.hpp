// THE STORE BOUNDARY: an ordered key-value store with a fixed set of named columns, atomic batches
// and consistent snapshots. Everything communesync keeps goes through it.
//
// Two backends implement it, each passing the same conformance suite (tests/storage/store_test.cpp):
//   - RocksDB (Store::open): a folder, the default, embedded; the only place that touches RocksDB.
//   - PostgreSQL (storage/postgres_store.hpp): a table per column, for a server past one machine.
// Writes go through atomic WriteBatches, committed either durably (on stable storage before commit()
// returns) or buffered (survives a process crash, not a power cut). Reads may use a Snapshot for a
// consistent view across several calls. No backend type appears in this header.
//
// Thread safety: a Store may be used from many threads at once. Concurrent durable commits are
// grouped by RocksDB into one fsync (group commit). WriteBatch, Cursor and Snapshot are not
// thread-safe; each belongs to one thread at a time. Cursors and Snapshots must not outlive the Store.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "communesync/storage/result.hpp"
#include "communesync/storage/tuning.hpp"

namespace communesync::storage {

//! The column families of a store. Server and device stores use the same set; each uses its part.
enum class Column : std::uint8_t {
  kMeta = 0,     //!< store identity and settings: incarnation id, format version, counters
  kRecords,      //!< merged records by (collection, id)
  kLog,          //!< the change log by server sequence (server) or by device sequence (device outbox)
  kScopeIndex,   //!< (scope, server sequence) -> record key: what a pull reads
  kDevices,      //!< per-device state: checkpoints, last contact, tokens
  kConflicts,    //!< open and resolved conflicts
  kIdempotency,  //!< change id -> its first result (server); rejected changes (device)
  kOutbox,       //!< device: local changes not yet acknowledged, by device sequence
  kBase,         //!< device: the server's latest state of each record, under the local view
  kUnits,        //!< server: the administrative unit tree, by unit code
  kAudit,        //!< server: the audit log (logins, user, grant and unit changes), by sequence
  kFiles,        //!< both: what is known of each file (size, bytes held, verified); server: references, quotas
  kChunks,       //!< both: file content in pieces, by (hash, end offset); large values kept in blob files
  kHistory,      //!< server: each accepted change of a record, by (record, log sequence): who and when
  kViews,        //!< server: what the central pages read, kept with each change (server/store/views.hpp)
  kSearch,       //!< server: the search's word index, kept with each change (server/store/views.hpp)
  kCount
};

//! The RocksDB name of a column family ("records", "log", ...).
std::string_view columnName(Column column);

//! How hard commit() works to make a batch survive.
enum class Durability : std::uint8_t {
  kSynced,    //!< WAL fsynced before commit() returns: survives a power cut. For acknowledgements.
  kBuffered,  //!< WAL written, not fsynced: survives a process crash only. For caches and counters.
};

//! Options for Store::open. Each can only be set at open time.
struct StoreOptions {
  //! Create the directory and an empty store if none exists. Default: true.
  bool create_if_missing = true;
  //! Bytes of the LRU block cache shared by all column families. Default: 64 MiB (server).
  std::size_t block_cache_bytes = tuning::kServerBlockCacheBytes;
  //! Bytes of each column family's memtable before it is flushed. Default: 16 MiB (server).
  std::size_t write_buffer_bytes = tuning::kServerWriteBufferBytes;
  //! Bytes of all memtables together: past it the largest is flushed, whatever the column family.
  //! Default: 48 MiB (server); with a dozen column families each may otherwise grow to its own cap.
  std::size_t total_write_buffer_bytes = tuning::kServerTotalWriteBufferBytes;
  //! Background flush and compaction threads. Default: 2.
  int background_jobs = tuning::kServerBackgroundJobs;
  //! Compress the last level with zstd (smaller, costlier); otherwise LZ4 throughout. Default: true
  //! (a server's disk holds the province); a phone saves its CPU and battery instead.
  bool zstd_bottommost = true;
  //! Open an existing store to read only (a backup being checked): nothing is written, not even
  //! its identity; a write fails. Implies create_if_missing = false. Default: false.
  bool read_only = false;

  //! The defaults for a phone: small cache and memtables, one background thread.
  static StoreOptions forDevice() {
    StoreOptions o;
    o.block_cache_bytes = tuning::kDeviceBlockCacheBytes;
    o.write_buffer_bytes = tuning::kDeviceWriteBufferBytes;
    o.total_write_buffer_bytes = tuning::kDeviceTotalWriteBufferBytes;
    o.background_jobs = tuning::kDeviceBackgroundJobs;
    o.zstd_bottommost = false;
    return o;
  }
};

//! A set of puts and deletes applied all together or not at all.
class WriteBatch {
 public:
  WriteBatch();
  ~WriteBatch();
  WriteBatch(WriteBatch&&) noexcept;
  WriteBatch& operator=(WriteBatch&&) noexcept;
  WriteBatch(const WriteBatch&) = delete;
  WriteBatch& operator=(const WriteBatch&) = delete;

  void put(Column column, std::string_view key, std::string_view value);
  void erase(Column column, std::string_view key);
  //! One put or delete, as the backends apply them (in order).
  struct Op {
    Column column;
    bool is_delete;
    std::string key;
    std::string value;
  };
  const std::vector<Op>& ops() const;
  //! Number of puts and deletes.
  std::size_t count() const;
  //! Approximate encoded size in bytes.
  std::size_t bytes() const;
  bool empty() const { return count() == 0; }
  void clear();

  //! A short text sent, once the batch commits, to every other process listening on the store
  //! (Store::listen: PostgreSQL's NOTIFY, in the batch's own transaction, so a notice never tells of
  //! a write that did not happen). At most tuning::kMaxNoticeBytes. RocksDB has no other process
  //! and drops it. A batch of notices alone still sends them.
  void notice(std::string text);
  const std::vector<std::string>& notices() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

//! A consistent, read-only view of the store at one moment. Release it by destroying it.
class Snapshot {
 public:
  ~Snapshot();
  Snapshot(Snapshot&&) noexcept;
  Snapshot& operator=(Snapshot&&) noexcept;
  Snapshot(const Snapshot&) = delete;
  Snapshot& operator=(const Snapshot&) = delete;

  // For the backends (store_backend.hpp): what the snapshot is in the store that made it.
  struct Impl;
  explicit Snapshot(std::unique_ptr<Impl> impl);
  Impl* impl() const { return impl_.get(); }

 private:
  std::unique_ptr<Impl> impl_;
};

//! The locks a store serialises work with, across every process that uses it.
enum class LockName : std::uint8_t {
  kWriter = 1,   //!< the server's group commits and sweeps (server/store/server_store.hpp)
  kSearchIndex,  //!< the search index's slices
  kDirectory,    //!< users, tokens, units and the audit log
};

//! A lock held from Store::lock until destroyed. Belongs to the thread that took it.
class StoreLock {
 public:
  ~StoreLock();
  StoreLock(StoreLock&&) noexcept;
  StoreLock& operator=(StoreLock&&) noexcept;
  StoreLock(const StoreLock&) = delete;
  StoreLock& operator=(const StoreLock&) = delete;

  // For the backends (store_backend.hpp).
  struct Impl;
  explicit StoreLock(std::unique_ptr<Impl> impl);

 private:
  std::unique_ptr<Impl> impl_;
};

//! Iterates keys in ascending byte order within [lower, upper). Check status() when !valid().
class Cursor {
 public:
  ~Cursor();
  Cursor(Cursor&&) noexcept;
  Cursor& operator=(Cursor&&) noexcept;
  Cursor(const Cursor&) = delete;
  Cursor& operator=(const Cursor&) = delete;

  bool valid() const;
  void next();
  //! Moves to the first key at or after `key` (within the scan's bounds): a jump over what lies
  //! between, for intersecting sorted lists.
  void seek(std::string_view key);
  //! Valid until next(), seek() or destruction.
  std::string_view key() const;
  std::string_view value() const;
  //! Ok unless iteration stopped on an error (corruption, I/O).
  Status status() const;

  // For the backends (store_backend.hpp).
  struct Impl;
  explicit Cursor(std::unique_ptr<Impl> impl);

 private:
  std::unique_ptr<Impl> impl_;
};

class Store {
 public:
  //! Opens (or creates) the RocksDB store at `path`.
  //! Errors: kLocked (another process has it open), kPermissionDenied, kNoSpace, kCorruption,
  //! kInvalidArgument (not a store, or written by a newer version), kIoError. Each message names the path.
  static Result<std::unique_ptr<Store>> open(const std::filesystem::path& path, const StoreOptions& options = {});

  virtual ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  //! A random id made when the store was first created and kept for its life. A store restored
  //! from elsewhere or recreated has another one: devices use it to notice the server went back in time.
  const std::string& incarnationId() const { return incarnation_id_; }
  //! The folder of a RocksDB store; a PostgreSQL store's is empty (see location()).
  const std::filesystem::path& path() const { return path_; }
  //! Where the store is, for messages: its folder, or its database (without a password).
  virtual std::string location() const { return path_.string(); }
  //! Whether the store is a folder on this machine (RocksDB): checkpoints and their backups, and
  //! no other process writes it. A store that is not local may be written by several servers at
  //! once: what a process keeps in memory of it must be read again under a lock (Store::lock).
  virtual bool local() const { return true; }

  //! Takes `name`, waiting up to `wait` for its holder (in this process or another) to let go.
  //! While the lock is held, the calling thread's reads see every commit made before it was taken,
  //! and its commits are made through the lock itself: on PostgreSQL the lock is a session advisory
  //! lock and the thread's reads and commits use that session, so should the session end (the
  //! process killed, the network cut), the lock goes with it and nothing more the holder writes can
  //! commit. On RocksDB (one process) it is a mutex. The same thread may take a lock it holds again.
  //! Errors: kBusy (still held after `wait`), kUnavailable (the database cannot be reached).
  virtual Result<StoreLock> lock(LockName name, std::chrono::milliseconds wait) = 0;

  //! What Store::listen calls with each notice (WriteBatch::notice) another process committed, or
  //! with an empty one when some may have been missed (the connection to the database dropped and
  //! came back): the listener should then read again whatever it keeps.
  using Listener = std::function<void(std::string_view notice)>;
  //! Calls `listener` on a thread of the store's until the store is destroyed, or listen() is called
  //! with an empty one (which returns once a call in progress is over: before what the listener
  //! refers to goes). One listener at a time. RocksDB has no other process: it never calls it.
  //! Errors: kUnavailable, kInvalidArgument (a listener already).
  virtual Status listen(Listener listener) = 0;

  //! The value at `key`, or std::nullopt if absent.
  virtual Result<std::optional<std::string>> get(Column column, std::string_view key,
                                                 const Snapshot* snapshot = nullptr) const = 0;

  //! The values at `keys`, in their order (std::nullopt where absent): one round trip where the
  //! backend has them (PostgreSQL), RocksDB's MultiGet otherwise.
  virtual Result<std::vector<std::optional<std::string>>> multiGet(Column column, const std::vector<std::string>& keys,
                                                                   const Snapshot* snapshot = nullptr) const = 0;

  //! Applies the batch atomically. With kSynced, returns only once the batch is on stable storage.
  //! Errors: kNoSpace, kIoError (kUnavailable: the database cannot be reached); on error nothing of
  //! the batch is applied.
  virtual Status commit(WriteBatch& batch, Durability durability) = 0;

  //! A consistent view for reads across several calls.
  virtual Snapshot snapshot() const = 0;

  //! Keys in [lower, upper); an empty `upper` means to the end of the column. Without a snapshot a
  //! RocksDB cursor reads the store as it was when the scan began; a PostgreSQL one reads it in
  //! pages and may show what was committed while it runs (never a key twice, always in order).
  virtual Cursor scan(Column column, std::string_view lower, std::string_view upper,
                      const Snapshot* snapshot = nullptr) const = 0;
  //! Keys starting with `prefix`.
  Cursor scanPrefix(Column column, std::string_view prefix, const Snapshot* snapshot = nullptr) const;
  //! The greatest key starting with `prefix` (one backward seek), or std::nullopt if none.
  virtual Result<std::optional<std::string>> lastKey(Column column, std::string_view prefix) const = 0;

  //! Flushes memtables and syncs the WAL; called on graceful shutdown.
  virtual Status flush() = 0;
  //! Compacts every column whole (old versions and deleted keys dropped), waiting until done: for
  //! measuring a store's size, and after a bulk removal. Errors: the store's.
  virtual Status compactAll() = 0;

  //! Approximate bytes on disk of live data (SST files and memtables), for metrics.
  virtual std::uint64_t approximateSizeBytes() const = 0;

  //! What RocksDB says of the store's health, for the server's metrics (zeros for PostgreSQL,
  //! whose own statistics views say more).
  struct Stats {
    std::uint64_t sst_bytes = 0;   //!< every SST file of every column
    std::uint64_t blob_bytes = 0;  //!< blob files (large file pieces)
    std::uint64_t wal_bytes = 0;   //!< write-ahead log files alive
    std::uint64_t memtable_bytes = 0;
    std::uint64_t block_cache_capacity_bytes = 0;  //!< the block cache's size (config "cache_mb")
    std::uint64_t block_cache_usage_bytes = 0;     //!< what it holds now (blocks read, index and filter blocks)
    std::uint64_t pending_compaction_bytes = 0;    //!< RocksDB's estimate of what compaction still owes
    std::uint64_t write_slowdowns = 0;             //!< since open: writes delayed for compaction to catch up
    std::uint64_t write_stops = 0;                 //!< since open: writes stopped until it did
    bool writes_stopped = false;                   //!< right now
  };
  virtual Stats stats() const = 0;

  //! A consistent copy of the whole store in `dir` (which must not exist), made while it is in use:
  //! RocksDB's checkpoint (hard links to the immutable files where the file system allows, copies
  //! otherwise, with the WAL flushed into it). The copy opens as a store of its own, with this
  //! store's incarnation id. Errors: kInvalidArgument (dir exists; or a PostgreSQL store, whose
  //! backups are the database's: docs/operations.md), kIoError, kNoSpace.
  virtual Status checkpoint(const std::filesystem::path& dir) const = 0;
  //! Reads every block of every file and checks its checksum (a fetched backup's last check).
  //! Errors: kCorruption naming the file.
  virtual Status verifyChecksums() const = 0;

  //! Gives the store a new incarnation id, durably: a copy restored from a backup is a server that
  //! went back in time, and every device must notice (design.md, "Server log and acknowledgement").
  virtual Status renewIncarnation() = 0;

 protected:
  Store(std::filesystem::path path, std::string incarnation_id)
      : path_(std::move(path)), incarnation_id_(std::move(incarnation_id)) {}
  std::filesystem::path path_;
  std::string incarnation_id_;
};

//! The smallest key greater than every key starting with `prefix` (empty if there is none).
std::string prefixSuccessor(std::string_view prefix);

}  // namespace communesync::storage
