// What every store backend shares: column names, batches, the cursor and snapshot handles, the
// identity check. The backends: rocks_store.cpp (RocksDB), postgres_store.cpp (PostgreSQL).
#include <sodium.h>

#include <array>
#include <cassert>
#include <string>
#include <vector>

#include "communesync/storage/store.hpp"
#include "communesync/storage/store_backend.hpp"

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
  std::vector<Op> ops;
  std::size_t bytes = 0;
  std::vector<std::string> notices;
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

const std::vector<WriteBatch::Op>& WriteBatch::ops() const {
  return impl_->ops;
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
  impl_->notices.clear();
}
void WriteBatch::notice(std::string text) {
  assert(text.size() <= tuning::kMaxNoticeBytes);
  impl_->notices.push_back(std::move(text));
}
const std::vector<std::string>& WriteBatch::notices() const {
  return impl_->notices;
}

// ---- StoreLock: the backend's ----

StoreLock::StoreLock(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
StoreLock::~StoreLock() = default;
StoreLock::StoreLock(StoreLock&&) noexcept = default;
StoreLock& StoreLock::operator=(StoreLock&&) noexcept = default;

// ---- Snapshot, Cursor: the backend's ----

Snapshot::Snapshot(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Snapshot::~Snapshot() = default;
Snapshot::Snapshot(Snapshot&&) noexcept = default;
Snapshot& Snapshot::operator=(Snapshot&&) noexcept = default;

Cursor::Cursor(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Cursor::~Cursor() = default;
Cursor::Cursor(Cursor&&) noexcept = default;
Cursor& Cursor::operator=(Cursor&&) noexcept = default;

bool Cursor::valid() const {
  return impl_->valid();
}
void Cursor::next() {
  impl_->next();
}
void Cursor::seek(std::string_view key) {
  impl_->seek(key);
}
std::string_view Cursor::key() const {
  return impl_->key();
}
std::string_view Cursor::value() const {
  return impl_->value();
}
Status Cursor::status() const {
  return impl_->status();
}

// ---- Store ----

Store::~Store() = default;

Cursor Store::scanPrefix(Column column, std::string_view prefix, const Snapshot* snapshot) const {
  return scan(column, prefix, prefixSuccessor(prefix), snapshot);
}

Status checkFormat(std::string_view format, const std::string& where) {
  int stored = 0;
  try {
    stored = std::stoi(std::string(format));
  } catch (...) {
    return Status::error(ErrorCode::kCorruption, "opening " + where + ": unreadable format version");
  }
  if (stored > tuning::kFormatVersion) {
    return Status::error(ErrorCode::kInvalidArgument, "opening " + where + ": written by a newer communesync (format " +
                                                          std::to_string(stored) + ", this build reads up to " +
                                                          std::to_string(tuning::kFormatVersion) +
                                                          "); upgrade this program");
  }
  if (stored < tuning::kOldestReadableFormat) {
    return Status::error(ErrorCode::kInvalidArgument,
                         "opening " + where + ": written in the pre-release format " + std::to_string(stored) +
                             ", which this build does not read (it reads formats " +
                             std::to_string(tuning::kOldestReadableFormat) + " to " +
                             std::to_string(tuning::kFormatVersion) +
                             "); start from an empty folder and let the devices restore their records");
  }
  return Status::ok();
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

}  // namespace communesync::storage
