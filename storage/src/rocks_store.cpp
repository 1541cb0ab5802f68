// The RocksDB backend of storage::Store: a folder, embedded; the only file that touches RocksDB.
#include <rocksdb/cache.h>
#include <rocksdb/db.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/options.h>
#include <rocksdb/slice_transform.h>
#include <rocksdb/table.h>
#include <rocksdb/utilities/checkpoint.h>
#include <rocksdb/utilities/options_util.h>
#include <rocksdb/write_batch.h>
#include <sodium.h>

#include <array>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <system_error>
#include <vector>

#include "communesync/storage/store.hpp"
#include "communesync/storage/store_backend.hpp"

namespace communesync::storage {
namespace {

// Where the keys of a column cluster, for the memtable's insert hints: a new key of
// the views goes at the head or tail of its unit's list ('n' scope \0 collection \0 ..., 'o' scope \0 ...),
// one of the scope index at the tail of its scope's (scope \0 seq). RocksDB keeps, per prefix, where
// the last key of that prefix went, so such an insert starts there instead of at the skiplist's top:
// measured, the memtable's inserts were a third of the server's CPU while it took pushes with the
// views kept (docs/benchmarks.md). The prefix is the key up to its Nth NUL byte; keys with fewer
// are inserted without a hint. Columns keyed at random (records, history) or in sequence (log,
// idempotency: the skiplist's own last-insert splice serves them) have none, nor has the search
// index since it writes a chunk per word and group (server/store/word_postings.hpp).
class UpToNuls final : public rocksdb::SliceTransform {
 public:
  explicit UpToNuls(int nuls) : nuls_(nuls), name_("communesync.UpToNuls" + std::to_string(nuls)) {}
  const char* Name() const override { return name_.c_str(); }
  rocksdb::Slice Transform(const rocksdb::Slice& key) const override { return {key.data(), end(key)}; }
  bool InDomain(const rocksdb::Slice& key) const override { return end(key) != 0; }

 private:
  // The length of the prefix (0: fewer NULs than that).
  std::size_t end(const rocksdb::Slice& key) const {
    int seen = 0;
    for (std::size_t i = 0; i < key.size(); ++i) {
      if (key[i] == '\0' && ++seen == nuls_) return i + 1;
    }
    return 0;
  }
  int nuls_;
  std::string name_;
};

int insertHintNuls(Column column) {
  switch (column) {
    case Column::kViews:
      return 2;
    case Column::kScopeIndex:
      return 1;
    default:
      return 0;
  }
}

bool contains(const std::string& haystack, std::string_view needle) {
  return haystack.find(needle) != std::string::npos;
}

// Turns a rocksdb::Status into one of ours, naming the path and the cause in words.
Status translate(const rocksdb::Status& s, const std::filesystem::path& path, std::string_view doing) {
  if (s.ok()) return Status::ok();
  const std::string raw = s.ToString();
  std::string where = std::string(doing) + " " + path.string() + ": ";
  if (contains(raw, "/LOCK") || contains(raw, "lock hold")) {
    return Status::error(ErrorCode::kLocked,
                         where + "the store is in use by another process (is another server or client running on it?)");
  }
  if (s.IsNoSpace() || contains(raw, "No space left")) {
    return Status::error(ErrorCode::kNoSpace, where + "no space left on the device; free some space and retry");
  }
  if (contains(raw, "Permission denied")) {
    return Status::error(ErrorCode::kPermissionDenied,
                         where + "permission denied; check the owner and mode of the folder");
  }
  if (s.IsCorruption()) {
    return Status::error(ErrorCode::kCorruption,
                         where + "the store is corrupt (" + raw + "); restore it from a backup");
  }
  if (s.IsInvalidArgument()) {
    return Status::error(ErrorCode::kInvalidArgument, where + raw);
  }
  if (s.IsBusy() || s.IsTryAgain()) return Status::error(ErrorCode::kBusy, where + raw);
  if (s.IsNotFound()) return Status::error(ErrorCode::kNotFound, where + raw);
  return Status::error(ErrorCode::kIoError, where + raw);
}

struct RocksSnapshot final : Snapshot::Impl {
  rocksdb::DB* db = nullptr;
  const rocksdb::Snapshot* snapshot = nullptr;
  ~RocksSnapshot() override {
    if (db != nullptr && snapshot != nullptr) db->ReleaseSnapshot(snapshot);
  }
};

const rocksdb::Snapshot* rocksSnapshot(const Snapshot* snapshot) {
  return snapshot == nullptr ? nullptr : static_cast<const RocksSnapshot*>(snapshot->impl())->snapshot;
}

struct RocksCursor final : Cursor::Impl {
  std::string upper;  // owns the bytes iterate_upper_bound points at
  rocksdb::Slice upper_slice;
  std::unique_ptr<rocksdb::Iterator> it;

  bool valid() const override { return it->Valid(); }
  void next() override { it->Next(); }
  void seek(std::string_view key) override { it->Seek(rocksdb::Slice(key.data(), key.size())); }
  std::string_view key() const override {
    auto k = it->key();
    return {k.data(), k.size()};
  }
  std::string_view value() const override {
    auto v = it->value();
    return {v.data(), v.size()};
  }
  Status status() const override {
    auto s = it->status();
    if (s.ok()) return Status::ok();
    return Status::error(s.IsCorruption() ? ErrorCode::kCorruption : ErrorCode::kIoError, "reading: " + s.ToString());
  }
};

class RocksStore final : public Store {
 public:
  RocksStore(std::filesystem::path path, std::string incarnation_id)
      : Store(std::move(path), std::move(incarnation_id)) {}
  ~RocksStore() override {
    if (db) {
      for (auto* h : handles) {
        if (h != nullptr) (void)db->DestroyColumnFamilyHandle(h);
      }
      (void)db->Close();
    }
  }

  Result<std::optional<std::string>> get(Column column, std::string_view key, const Snapshot* snapshot) const override;
  Result<std::vector<std::optional<std::string>>> multiGet(Column column, const std::vector<std::string>& keys,
                                                           const Snapshot* snapshot) const override;
  Status commit(WriteBatch& batch, Durability durability) override;
  Snapshot snapshot() const override;
  Cursor scan(Column column, std::string_view lower, std::string_view upper, const Snapshot* snapshot) const override;
  Result<std::optional<std::string>> lastKey(Column column, std::string_view prefix) const override;
  Status flush() override;
  Status compactAll() override;
  std::uint64_t approximateSizeBytes() const override;
  Stats stats() const override;
  Status checkpoint(const std::filesystem::path& dir) const override;
  Status verifyChecksums() const override;
  Status renewIncarnation() override;
  Result<StoreLock> lock(LockName name, std::chrono::milliseconds wait) override;
  // One process writes the folder (RocksDB's LOCK file): nobody else sends a notice.
  Status listen(Listener /*listener*/) override { return Status::ok(); }

  rocksdb::ColumnFamilyHandle* handle(Column c) const { return handles.at(static_cast<std::size_t>(c)); }
  void setIncarnation(std::string id) { incarnation_id_ = std::move(id); }

  std::unique_ptr<rocksdb::DB> db;
  std::vector<rocksdb::ColumnFamilyHandle*> handles;  // indexed by Column
  // Store::lock: the folder is this process's alone, so a mutex per name is the whole lock.
  std::array<std::recursive_timed_mutex, 4> locks;
};

struct RocksLock final : StoreLock::Impl {
  explicit RocksLock(std::recursive_timed_mutex& m) : held(m, std::adopt_lock) {}
  std::unique_lock<std::recursive_timed_mutex> held;
};

}  // namespace

Result<std::unique_ptr<Store>> Store::open(const std::filesystem::path& path, const StoreOptions& options) {
  if (sodium_init() < 0) return Status::error(ErrorCode::kInternal, "libsodium failed to initialise");

  std::error_code ec;
  if (options.create_if_missing && !options.read_only) {
    std::filesystem::create_directories(path, ec);
    if (ec) {
      auto code = ec == std::errc::permission_denied    ? ErrorCode::kPermissionDenied
                  : ec == std::errc::no_space_on_device ? ErrorCode::kNoSpace
                                                        : ErrorCode::kIoError;
      return Status::error(code, "creating " + path.string() + ": " + ec.message());
    }
  } else if (!std::filesystem::exists(path / "CURRENT", ec)) {
    return Status::error(ErrorCode::kNotFound, "opening " + path.string() + ": no store there");
  }

  rocksdb::BlockBasedTableOptions table;
  table.block_cache = rocksdb::NewLRUCache(options.block_cache_bytes);
  table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(tuning::kBloomBitsPerKey));
  table.cache_index_and_filter_blocks = true;  // keeps memory bounded by the cache, not by store size
  // Filters and indexes in small partitions under a pinned top level: a point read loads a few KiB
  // of filter, not the whole file's. With whole filters (a megabyte per file of a million keys) a
  // cache smaller than the store's filters reloaded and checksummed one per missing key: pushes of
  // new records into a store of 300,000 ran at half their speed (docs/benchmarks.md).
  table.index_type = rocksdb::BlockBasedTableOptions::kTwoLevelIndexSearch;
  table.partition_filters = true;
  table.metadata_block_size = 4096;
  table.cache_index_and_filter_blocks_with_high_priority = true;
  table.pin_top_level_index_and_filter = true;
  table.format_version = 5;
  // Index blocks stay uncompressed: with a small cache (a phone's) they are read again often, and
  // decompressing them was a third of a device's CPU while it pushed 60,000 records.
  table.enable_index_compression = false;

  rocksdb::ColumnFamilyOptions cf_options;
  cf_options.write_buffer_size = options.write_buffer_bytes;
  cf_options.max_write_buffer_number = 2;
  cf_options.compression = rocksdb::kLZ4Compression;
  // With dynamic level sizes most data lives in the last level, so its codec is the store's codec:
  // measured on a device pushing 50,000 records, zstd there took most of the device's CPU.
  cf_options.bottommost_compression = options.zstd_bottommost ? rocksdb::kZSTD : rocksdb::kLZ4Compression;
  cf_options.level_compaction_dynamic_level_bytes = true;
  // Files a few memtables large: their index blocks are small enough to stay in the cache.
  cf_options.target_file_size_base = 4 * options.write_buffer_bytes;
  cf_options.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));

  rocksdb::DBOptions db_options;
  db_options.create_if_missing = options.create_if_missing;
  db_options.create_missing_column_families = true;
  db_options.max_background_jobs = options.background_jobs;
  db_options.db_write_buffer_size = options.total_write_buffer_bytes;
  db_options.max_open_files = tuning::kMaxOpenFiles;
  db_options.keep_log_file_num = 5;
  db_options.max_total_wal_size = 4 * options.write_buffer_bytes * static_cast<std::size_t>(Column::kCount);
  // Several threads committing durably at once share one fsync.
  db_options.enable_pipelined_write = true;

  // File content: pieces of a few KiB to 64 KiB, written once, read in order, deleted whole. Kept in
  // RocksDB's blob files (key-value separation) so compactions move only the small keys, not the
  // bytes; the WAL makes a piece durable with the same synced commit as its file entry, so "this
  // piece is acknowledged" and "this piece is on disk" cannot disagree. docs/architecture.md has
  // the measurement against plain files.
  rocksdb::ColumnFamilyOptions chunk_options = cf_options;
  chunk_options.enable_blob_files = true;
  chunk_options.min_blob_size = tuning::kMinBlobBytes;
  chunk_options.blob_file_size = tuning::kBlobFileBytes;
  chunk_options.blob_compression_type = rocksdb::kNoCompression;  // photos do not compress
  chunk_options.enable_blob_garbage_collection = true;

  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  for (std::size_t i = 0; i < static_cast<std::size_t>(Column::kCount); ++i) {
    const bool chunks = i == static_cast<std::size_t>(Column::kChunks);
    rocksdb::ColumnFamilyOptions column = chunks ? chunk_options : cf_options;
    if (const int nuls = insertHintNuls(static_cast<Column>(i)); nuls > 0) {
      column.memtable_insert_with_hint_prefix_extractor = std::make_shared<UpToNuls>(nuls);
    }
    descriptors.emplace_back(std::string(columnName(static_cast<Column>(i))), column);
  }

  auto impl = std::make_unique<RocksStore>(path, std::string());
  rocksdb::DB* raw = nullptr;
  auto s = options.read_only
               ? rocksdb::DB::OpenForReadOnly(db_options, path.string(), descriptors, &impl->handles, &raw)
               : rocksdb::DB::Open(db_options, path.string(), descriptors, &impl->handles, &raw);
  if (!s.ok()) return translate(s, path, "opening");
  impl->db.reset(raw);

  // Identity: format version and incarnation id, both made at first open.
  auto* meta = impl->handle(Column::kMeta);
  std::string format;
  s = impl->db->Get(rocksdb::ReadOptions(), meta, std::string(kFormatKey), &format);
  if (s.ok()) {
    CS_RETURN_IF_ERROR(checkFormat(format, path.string()));
  } else if (!s.IsNotFound()) {
    return translate(s, path, "reading the format of");
  }

  std::string incarnation;
  s = impl->db->Get(rocksdb::ReadOptions(), meta, std::string(kIncarnationKey), &incarnation);
  if (s.IsNotFound() && options.read_only) {
    return Status::error(ErrorCode::kInvalidArgument, "opening " + path.string() + ": not a communesync store");
  }
  if (s.IsNotFound()) {
    incarnation = randomHex(16);
    rocksdb::WriteBatch init;
    (void)init.Put(meta, std::string(kIncarnationKey), incarnation);
    (void)init.Put(meta, std::string(kFormatKey), std::to_string(tuning::kFormatVersion));
    rocksdb::WriteOptions wo;
    wo.sync = true;
    s = impl->db->Write(wo, &init);
    if (!s.ok()) return translate(s, path, "initialising");
  } else if (!s.ok()) {
    return translate(s, path, "reading the identity of");
  }

  impl->setIncarnation(std::move(incarnation));
  return std::unique_ptr<Store>(std::move(impl));
}

Result<std::optional<std::string>> RocksStore::get(Column column, std::string_view key,
                                                   const Snapshot* snapshot) const {
  rocksdb::ReadOptions ro;
  ro.snapshot = rocksSnapshot(snapshot);
  std::string value;
  auto s = db->Get(ro, handle(column), rocksdb::Slice(key.data(), key.size()), &value);
  if (s.IsNotFound()) return std::optional<std::string>();
  if (!s.ok()) return translate(s, path_, "reading");
  return std::optional<std::string>(std::move(value));
}

Result<std::vector<std::optional<std::string>>> RocksStore::multiGet(Column column,
                                                                     const std::vector<std::string>& keys,
                                                                     const Snapshot* snapshot) const {
  rocksdb::ReadOptions ro;
  ro.snapshot = rocksSnapshot(snapshot);
  std::vector<rocksdb::Slice> slices(keys.begin(), keys.end());
  std::vector<rocksdb::ColumnFamilyHandle*> column_handles(keys.size(), handle(column));
  std::vector<std::string> values;
  auto statuses = db->MultiGet(ro, column_handles, slices, &values);
  std::vector<std::optional<std::string>> out(keys.size());
  for (std::size_t i = 0; i < keys.size(); ++i) {
    if (statuses[i].IsNotFound()) continue;
    if (!statuses[i].ok()) return translate(statuses[i], path_, "reading");
    out[i] = std::move(values[i]);
  }
  return out;
}

Result<StoreLock> RocksStore::lock(LockName name, std::chrono::milliseconds wait) {
  auto& m = locks.at(static_cast<std::size_t>(name));
  if (!m.try_lock_for(wait)) {
    return Status::error(ErrorCode::kBusy, "the store's lock " + std::to_string(static_cast<int>(name)) +
                                               " stayed held for " + std::to_string(wait.count()) + " ms");
  }
  return StoreLock(std::make_unique<RocksLock>(m));
}

Status RocksStore::commit(WriteBatch& batch, Durability durability) {
  rocksdb::WriteBatch routed(batch.bytes() + 16 * batch.count());
  for (const auto& op : batch.ops()) {
    auto s = op.is_delete ? routed.Delete(handle(op.column), op.key) : routed.Put(handle(op.column), op.key, op.value);
    if (!s.ok()) return Status::error(ErrorCode::kInternal, "building a batch: " + s.ToString());
  }
  rocksdb::WriteOptions wo;
  wo.sync = durability == Durability::kSynced;
  auto s = db->Write(wo, &routed);
  return translate(s, path_, "writing to");
}

Snapshot RocksStore::snapshot() const {
  auto impl = std::make_unique<RocksSnapshot>();
  impl->db = db.get();
  impl->snapshot = db->GetSnapshot();
  return Snapshot(std::move(impl));
}

Cursor RocksStore::scan(Column column, std::string_view lower, std::string_view upper, const Snapshot* snapshot) const {
  auto impl = std::make_unique<RocksCursor>();
  rocksdb::ReadOptions ro;
  ro.snapshot = rocksSnapshot(snapshot);
  if (!upper.empty()) {
    impl->upper.assign(upper);
    impl->upper_slice = rocksdb::Slice(impl->upper);
    ro.iterate_upper_bound = &impl->upper_slice;
  }
  impl->it.reset(db->NewIterator(ro, handle(column)));
  impl->it->Seek(rocksdb::Slice(lower.data(), lower.size()));
  return Cursor(std::move(impl));
}

Result<std::optional<std::string>> RocksStore::lastKey(Column column, std::string_view prefix) const {
  rocksdb::ReadOptions ro;
  const std::string lower(prefix);
  const rocksdb::Slice lower_slice(lower);
  ro.iterate_lower_bound = &lower_slice;
  std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(ro, handle(column)));
  const auto upper = prefixSuccessor(prefix);
  if (upper.empty()) {
    it->SeekToLast();
  } else {
    // The last key before the first key past the prefix.
    it->SeekForPrev(rocksdb::Slice(upper.data(), upper.size()));
    if (it->Valid() && it->key().compare(rocksdb::Slice(upper.data(), upper.size())) == 0) it->Prev();
  }
  if (!it->status().ok()) return translate(it->status(), path_, "reading");
  if (!it->Valid() || !it->key().starts_with(rocksdb::Slice(prefix.data(), prefix.size()))) {
    return std::optional<std::string>();
  }
  return std::optional<std::string>(it->key().ToString());
}

Status RocksStore::flush() {
  rocksdb::FlushOptions fo;
  fo.wait = true;
  auto s = db->Flush(fo, handles);
  if (!s.ok()) return translate(s, path_, "flushing");
  return translate(db->SyncWAL(), path_, "syncing the log of");
}

Status RocksStore::compactAll() {
  rocksdb::CompactRangeOptions options;
  options.bottommost_level_compaction = rocksdb::BottommostLevelCompaction::kForceOptimized;
  for (auto* h : handles) {
    auto s = db->CompactRange(options, h, nullptr, nullptr);
    if (!s.ok()) return translate(s, path_, "compacting");
  }
  return Status::ok();
}

std::uint64_t RocksStore::approximateSizeBytes() const {
  std::uint64_t total = 0;
  for (auto* h : handles) {
    std::uint64_t v = 0;
    if (db->GetIntProperty(h, "rocksdb.total-sst-files-size", &v)) total += v;
    if (db->GetIntProperty(h, "rocksdb.cur-size-all-mem-tables", &v)) total += v;
  }
  return total;
}

Store::Stats RocksStore::stats() const {
  Stats out;
  for (auto* h : handles) {
    std::uint64_t v = 0;
    if (db->GetIntProperty(h, rocksdb::DB::Properties::kTotalSstFilesSize, &v)) out.sst_bytes += v;
    if (db->GetIntProperty(h, rocksdb::DB::Properties::kTotalBlobFileSize, &v)) out.blob_bytes += v;
    if (db->GetIntProperty(h, rocksdb::DB::Properties::kCurSizeAllMemTables, &v)) out.memtable_bytes += v;
    if (db->GetIntProperty(h, rocksdb::DB::Properties::kEstimatePendingCompactionBytes, &v)) {
      out.pending_compaction_bytes += v;
    }
    // The column's stall counters since open ("io_stalls.*" of its cfstats map).
    std::map<std::string, std::string> cf;
    if (db->GetMapProperty(h, rocksdb::DB::Properties::kCFStats, &cf)) {
      auto number = [&](const char* key) -> std::uint64_t {
        auto it = cf.find(key);
        return it == cf.end() ? 0 : std::strtoull(it->second.c_str(), nullptr, 10);
      };
      out.write_slowdowns += number("io_stalls.total_slowdown");
      out.write_stops += number("io_stalls.total_stop");
    }
  }
  // Every column shares one block cache: read through any of them, once.
  if (!handles.empty()) {
    std::uint64_t v = 0;
    if (db->GetIntProperty(handles.front(), rocksdb::DB::Properties::kBlockCacheCapacity, &v)) {
      out.block_cache_capacity_bytes = v;
    }
    if (db->GetIntProperty(handles.front(), rocksdb::DB::Properties::kBlockCacheUsage, &v))
      out.block_cache_usage_bytes = v;
  }
  std::uint64_t stopped = 0;
  if (db->GetIntProperty(rocksdb::DB::Properties::kIsWriteStopped, &stopped)) out.writes_stopped = stopped != 0;
  rocksdb::VectorLogPtr wal;
  if (db->GetSortedWalFiles(wal).ok()) {
    for (const auto& file : wal) out.wal_bytes += file->SizeFileBytes();
  }
  return out;
}

Status RocksStore::checkpoint(const std::filesystem::path& dir) const {
  std::error_code ec;
  if (std::filesystem::exists(dir, ec)) {
    return Status::error(ErrorCode::kInvalidArgument, "a checkpoint's folder must not exist: " + dir.string());
  }
  rocksdb::Checkpoint* raw = nullptr;
  auto s = rocksdb::Checkpoint::Create(db.get(), &raw);
  if (!s.ok()) return translate(s, dir, "preparing a checkpoint into");
  std::unique_ptr<rocksdb::Checkpoint> maker(raw);
  // log_size_for_flush 0: the memtables are flushed first, so the copy needs no WAL replay beyond it.
  s = maker->CreateCheckpoint(dir.string(), /*log_size_for_flush=*/0);
  return translate(s, dir, "writing a checkpoint into");
}

Status RocksStore::verifyChecksums() const {
  return translate(db->VerifyChecksum(), path_, "verifying the checksums of");
}

Status RocksStore::renewIncarnation() {
  std::string fresh = randomHex(16);
  rocksdb::WriteOptions wo;
  wo.sync = true;
  auto s = db->Put(wo, handle(Column::kMeta), std::string(kIncarnationKey), fresh);
  if (!s.ok()) return translate(s, path_, "renewing the incarnation of");
  incarnation_id_ = std::move(fresh);
  return Status::ok();
}

}  // namespace communesync::storage
