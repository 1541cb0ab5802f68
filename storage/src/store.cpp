#include "communesync/storage/store.hpp"

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
#include <string>
#include <system_error>
#include <vector>

namespace communesync::storage {
namespace {

constexpr std::array<std::string_view, static_cast<std::size_t>(Column::kCount)> kColumnNames = {
    "default",  // kMeta lives in RocksDB's default column family
    "records", "log",   "scope_index", "devices", "conflicts", "idempotency", "outbox", "base",
    "units",   "audit", "files",       "chunks",  "history",   "views",       "search",
};
// A column added to the enum without a name here would open as RocksDB's nameless family.
constexpr bool everyColumnNamed() {
  for (auto name : kColumnNames) {
    if (name.empty()) return false;
  }
  return true;
}
static_assert(everyColumnNamed(), "every storage::Column needs a name in kColumnNames");

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

constexpr std::string_view kIncarnationKey = "incarnation";
constexpr std::string_view kFormatKey = "format_version";

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

std::string randomHex(std::size_t bytes) {
  std::vector<unsigned char> buf(bytes);
  randombytes_buf(buf.data(), buf.size());
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes * 2);
  for (auto b : buf) {
    out.push_back(kHex[b >> 4]);
    out.push_back(kHex[b & 0xf]);
  }
  return out;
}

}  // namespace

std::string_view columnName(Column column) {
  auto i = static_cast<std::size_t>(column);
  return i < kColumnNames.size() ? kColumnNames[i] : "invalid";
}

std::string prefixSuccessor(std::string_view prefix) {
  std::string out(prefix);
  while (!out.empty()) {
    auto& last = out.back();
    if (static_cast<unsigned char>(last) != 0xff) {
      last = static_cast<char>(static_cast<unsigned char>(last) + 1);
      return out;
    }
    out.pop_back();
  }
  return out;
}

// ---- WriteBatch ----

// A batch is filled without a store at hand, so it keeps its operations by column and the store
// turns them into a rocksdb::WriteBatch with its own column family handles at commit time.
struct WriteBatch::Impl {
  struct Op {
    Column column;
    bool is_delete;
    std::string key;
    std::string value;
  };
  std::vector<Op> ops;
  std::size_t bytes = 0;
};

WriteBatch::WriteBatch() : impl_(std::make_unique<Impl>()) {}
WriteBatch::~WriteBatch() = default;
WriteBatch::WriteBatch(WriteBatch&&) noexcept = default;
WriteBatch& WriteBatch::operator=(WriteBatch&&) noexcept = default;

void WriteBatch::put(Column column, std::string_view key, std::string_view value) {
  assert(column < Column::kCount);
  impl_->ops.push_back({column, false, std::string(key), std::string(value)});
  impl_->bytes += key.size() + value.size();
}

void WriteBatch::erase(Column column, std::string_view key) {
  assert(column < Column::kCount);
  impl_->ops.push_back({column, true, std::string(key), {}});
  impl_->bytes += key.size();
}

std::size_t WriteBatch::count() const {
  return impl_->ops.size();
}
std::size_t WriteBatch::bytes() const {
  return impl_->bytes;
}
void WriteBatch::clear() {
  impl_->ops.clear();
  impl_->bytes = 0;
}

// ---- Snapshot ----

struct Snapshot::Impl {
  rocksdb::DB* db = nullptr;
  const rocksdb::Snapshot* snapshot = nullptr;
  ~Impl() {
    if (db != nullptr && snapshot != nullptr) db->ReleaseSnapshot(snapshot);
  }
};

Snapshot::Snapshot(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Snapshot::~Snapshot() = default;
Snapshot::Snapshot(Snapshot&&) noexcept = default;
Snapshot& Snapshot::operator=(Snapshot&&) noexcept = default;

// ---- Cursor ----

struct Cursor::Impl {
  std::string upper;  // owns the bytes iterate_upper_bound points at
  rocksdb::Slice upper_slice;
  std::unique_ptr<rocksdb::Iterator> it;
};

Cursor::Cursor(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Cursor::~Cursor() = default;
Cursor::Cursor(Cursor&&) noexcept = default;
Cursor& Cursor::operator=(Cursor&&) noexcept = default;

bool Cursor::valid() const {
  return impl_->it->Valid();
}
void Cursor::next() {
  impl_->it->Next();
}
void Cursor::seek(std::string_view key) {
  impl_->it->Seek(rocksdb::Slice(key.data(), key.size()));
}
std::string_view Cursor::key() const {
  auto k = impl_->it->key();
  return {k.data(), k.size()};
}
std::string_view Cursor::value() const {
  auto v = impl_->it->value();
  return {v.data(), v.size()};
}
Status Cursor::status() const {
  auto s = impl_->it->status();
  if (s.ok()) return Status::ok();
  return Status::error(s.IsCorruption() ? ErrorCode::kCorruption : ErrorCode::kIoError, "reading: " + s.ToString());
}

// ---- Store ----

struct Store::Impl {
  std::unique_ptr<rocksdb::DB> db;
  std::vector<rocksdb::ColumnFamilyHandle*> handles;  // indexed by Column

  rocksdb::ColumnFamilyHandle* handle(Column c) const { return handles.at(static_cast<std::size_t>(c)); }

  ~Impl() {
    if (db) {
      for (auto* h : handles) {
        if (h != nullptr) (void)db->DestroyColumnFamilyHandle(h);
      }
      (void)db->Close();
    }
  }
};

Store::Store(std::unique_ptr<Impl> impl, std::filesystem::path path, std::string incarnation_id)
    : impl_(std::move(impl)), path_(std::move(path)), incarnation_id_(std::move(incarnation_id)) {}

Store::~Store() = default;

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
  for (std::size_t i = 0; i < kColumnNames.size(); ++i) {
    const bool chunks = i == static_cast<std::size_t>(Column::kChunks);
    rocksdb::ColumnFamilyOptions column = chunks ? chunk_options : cf_options;
    if (const int nuls = insertHintNuls(static_cast<Column>(i)); nuls > 0) {
      column.memtable_insert_with_hint_prefix_extractor = std::make_shared<UpToNuls>(nuls);
    }
    descriptors.emplace_back(std::string(kColumnNames[i]), column);
  }

  auto impl = std::make_unique<Impl>();
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
    int stored = 0;
    try {
      stored = std::stoi(format);
    } catch (...) {
      return Status::error(ErrorCode::kCorruption, "opening " + path.string() + ": unreadable format version");
    }
    if (stored > tuning::kFormatVersion) {
      return Status::error(ErrorCode::kInvalidArgument,
                           "opening " + path.string() + ": written by a newer communesync (format " +
                               std::to_string(stored) + ", this build reads up to " +
                               std::to_string(tuning::kFormatVersion) + "); upgrade this program");
    }
    if (stored < tuning::kOldestReadableFormat) {
      return Status::error(ErrorCode::kInvalidArgument,
                           "opening " + path.string() + ": written in the pre-release format " +
                               std::to_string(stored) + ", which this build does not read (it reads formats " +
                               std::to_string(tuning::kOldestReadableFormat) + " to " +
                               std::to_string(tuning::kFormatVersion) +
                               "); start from an empty folder and let the devices restore their records");
    }
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

  return std::unique_ptr<Store>(new Store(std::move(impl), path, std::move(incarnation)));
}

Result<std::optional<std::string>> Store::get(Column column, std::string_view key, const Snapshot* snapshot) const {
  rocksdb::ReadOptions ro;
  if (snapshot != nullptr) ro.snapshot = snapshot->impl_->snapshot;
  std::string value;
  auto s = impl_->db->Get(ro, impl_->handle(column), rocksdb::Slice(key.data(), key.size()), &value);
  if (s.IsNotFound()) return std::optional<std::string>();
  if (!s.ok()) return translate(s, path_, "reading");
  return std::optional<std::string>(std::move(value));
}

Status Store::commit(WriteBatch& batch, Durability durability) {
  rocksdb::WriteBatch routed(batch.bytes() + 16 * batch.count());
  for (const auto& op : batch.impl_->ops) {
    auto s = op.is_delete ? routed.Delete(impl_->handle(op.column), op.key)
                          : routed.Put(impl_->handle(op.column), op.key, op.value);
    if (!s.ok()) return Status::error(ErrorCode::kInternal, "building a batch: " + s.ToString());
  }
  rocksdb::WriteOptions wo;
  wo.sync = durability == Durability::kSynced;
  auto s = impl_->db->Write(wo, &routed);
  return translate(s, path_, "writing to");
}

Snapshot Store::snapshot() const {
  auto impl = std::make_unique<Snapshot::Impl>();
  impl->db = impl_->db.get();
  impl->snapshot = impl_->db->GetSnapshot();
  return Snapshot(std::move(impl));
}

Cursor Store::scan(Column column, std::string_view lower, std::string_view upper, const Snapshot* snapshot) const {
  auto impl = std::make_unique<Cursor::Impl>();
  rocksdb::ReadOptions ro;
  if (snapshot != nullptr) ro.snapshot = snapshot->impl_->snapshot;
  if (!upper.empty()) {
    impl->upper.assign(upper);
    impl->upper_slice = rocksdb::Slice(impl->upper);
    ro.iterate_upper_bound = &impl->upper_slice;
  }
  impl->it.reset(impl_->db->NewIterator(ro, impl_->handle(column)));
  impl->it->Seek(rocksdb::Slice(lower.data(), lower.size()));
  return Cursor(std::move(impl));
}

Cursor Store::scanPrefix(Column column, std::string_view prefix, const Snapshot* snapshot) const {
  return scan(column, prefix, prefixSuccessor(prefix), snapshot);
}

Result<std::optional<std::string>> Store::lastKey(Column column, std::string_view prefix) const {
  rocksdb::ReadOptions ro;
  const std::string lower(prefix);
  const rocksdb::Slice lower_slice(lower);
  ro.iterate_lower_bound = &lower_slice;
  std::unique_ptr<rocksdb::Iterator> it(impl_->db->NewIterator(ro, impl_->handle(column)));
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

Status Store::flush() {
  rocksdb::FlushOptions fo;
  fo.wait = true;
  auto s = impl_->db->Flush(fo, impl_->handles);
  if (!s.ok()) return translate(s, path_, "flushing");
  return translate(impl_->db->SyncWAL(), path_, "syncing the log of");
}

Status Store::compactAll() {
  rocksdb::CompactRangeOptions options;
  options.bottommost_level_compaction = rocksdb::BottommostLevelCompaction::kForceOptimized;
  for (auto* h : impl_->handles) {
    auto s = impl_->db->CompactRange(options, h, nullptr, nullptr);
    if (!s.ok()) return translate(s, path_, "compacting");
  }
  return Status::ok();
}

std::uint64_t Store::approximateSizeBytes() const {
  std::uint64_t total = 0;
  for (auto* h : impl_->handles) {
    std::uint64_t v = 0;
    if (impl_->db->GetIntProperty(h, "rocksdb.total-sst-files-size", &v)) total += v;
    if (impl_->db->GetIntProperty(h, "rocksdb.cur-size-all-mem-tables", &v)) total += v;
  }
  return total;
}

Store::Stats Store::stats() const {
  Stats out;
  for (auto* h : impl_->handles) {
    std::uint64_t v = 0;
    if (impl_->db->GetIntProperty(h, rocksdb::DB::Properties::kTotalSstFilesSize, &v)) out.sst_bytes += v;
    if (impl_->db->GetIntProperty(h, rocksdb::DB::Properties::kTotalBlobFileSize, &v)) out.blob_bytes += v;
    if (impl_->db->GetIntProperty(h, rocksdb::DB::Properties::kCurSizeAllMemTables, &v)) out.memtable_bytes += v;
    if (impl_->db->GetIntProperty(h, rocksdb::DB::Properties::kEstimatePendingCompactionBytes, &v)) {
      out.pending_compaction_bytes += v;
    }
    // The column's stall counters since open ("io_stalls.*" of its cfstats map).
    std::map<std::string, std::string> cf;
    if (impl_->db->GetMapProperty(h, rocksdb::DB::Properties::kCFStats, &cf)) {
      auto number = [&](const char* key) -> std::uint64_t {
        auto it = cf.find(key);
        return it == cf.end() ? 0 : std::strtoull(it->second.c_str(), nullptr, 10);
      };
      out.write_slowdowns += number("io_stalls.total_slowdown");
      out.write_stops += number("io_stalls.total_stop");
    }
  }
  std::uint64_t stopped = 0;
  if (impl_->db->GetIntProperty(rocksdb::DB::Properties::kIsWriteStopped, &stopped)) out.writes_stopped = stopped != 0;
  rocksdb::VectorLogPtr wal;
  if (impl_->db->GetSortedWalFiles(wal).ok()) {
    for (const auto& file : wal) out.wal_bytes += file->SizeFileBytes();
  }
  return out;
}

Status Store::checkpoint(const std::filesystem::path& dir) const {
  std::error_code ec;
  if (std::filesystem::exists(dir, ec)) {
    return Status::error(ErrorCode::kInvalidArgument, "a checkpoint's folder must not exist: " + dir.string());
  }
  rocksdb::Checkpoint* raw = nullptr;
  auto s = rocksdb::Checkpoint::Create(impl_->db.get(), &raw);
  if (!s.ok()) return translate(s, dir, "preparing a checkpoint into");
  std::unique_ptr<rocksdb::Checkpoint> maker(raw);
  // log_size_for_flush 0: the memtables are flushed first, so the copy needs no WAL replay beyond it.
  s = maker->CreateCheckpoint(dir.string(), /*log_size_for_flush=*/0);
  return translate(s, dir, "writing a checkpoint into");
}

Status Store::verifyChecksums() const {
  return translate(impl_->db->VerifyChecksum(), path_, "verifying the checksums of");
}

Status Store::renewIncarnation() {
  std::string fresh = randomHex(16);
  rocksdb::WriteOptions wo;
  wo.sync = true;
  auto s = impl_->db->Put(wo, impl_->handle(Column::kMeta), std::string(kIncarnationKey), fresh);
  if (!s.ok()) return translate(s, path_, "renewing the incarnation of");
  incarnation_id_ = std::move(fresh);
  return Status::ok();
}

}  // namespace communesync::storage
