#include "communesync/client/local_files.hpp"

#include <fstream>
#include <nlohmann/json.hpp>

#include "communesync/client/tuning.hpp"
#include "communesync/storage/key_codec.hpp"
#include "communesync/sync/file_ref.hpp"
#include "communesync/sync/tuning.hpp"

namespace communesync::client {
namespace {

using storage::Column;
using storage::Durability;

constexpr std::string_view kEagerKey = "eager_file_collections";
constexpr std::string_view kLinkKey = "link_estimate_bytes";
constexpr std::string_view kMaxFileKey = "server_max_file_bytes";

std::uint64_t readNumber(const storage::Store& store, std::string_view key, std::uint64_t otherwise) {
  auto raw = store.get(Column::kMeta, key);
  if (!raw || !raw->has_value()) return otherwise;
  return storage::readUint64(**raw).value_or(otherwise);
}

Status writeNumber(storage::Store& store, std::string_view key, std::uint64_t value) {
  storage::WriteBatch batch;
  std::string bytes;
  storage::appendUint64(bytes, value);
  batch.put(Column::kMeta, key, bytes);
  return store.commit(batch, Durability::kBuffered);
}

Status readError(const std::filesystem::path& path, const std::string& what) {
  return Status::error(ErrorCode::kIoError, "reading " + path.string() + ": " + what);
}

}  // namespace

Result<std::string> LocalFiles::add(const std::filesystem::path& path, std::uint64_t max_bytes) {
  std::error_code ec;
  const auto status = std::filesystem::status(path, ec);
  if (ec || !std::filesystem::exists(status)) return Status::error(ErrorCode::kNotFound, "no file " + path.string());
  if (!std::filesystem::is_regular_file(status)) {
    return Status::error(ErrorCode::kInvalidArgument, path.string() + " is not a regular file");
  }
  const auto size = std::filesystem::file_size(path, ec);
  if (ec) return readError(path, ec.message());
  if (size == 0) return Status::error(ErrorCode::kInvalidArgument, path.string() + " is empty");
  if (size > max_bytes) {
    return Status::error(ErrorCode::kLimitExceeded, path.string() + " is " + std::to_string(size) +
                                                        " bytes; the server takes files up to " +
                                                        std::to_string(max_bytes) + " bytes");
  }
  // First pass: the hash, which names the file. The file is read twice rather than held in memory.
  std::ifstream in(path, std::ios::binary);
  if (!in) return readError(path, "cannot open");
  std::string buffer(tuning::kFileChunkBytes, '\0');
  sync::Sha256 sha;
  std::uint64_t total = 0;
  while (in) {
    in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
    const auto n = static_cast<std::size_t>(in.gcount());
    if (n == 0) break;
    sha.update(std::string_view(buffer.data(), n));
    total += n;
  }
  if (in.bad() || total != size) return readError(path, "the file changed while it was read");
  const std::string hash = sha.finish();

  std::lock_guard lock(mutex_);
  auto known = files_.entry(hash);
  if (!known) return known.status();
  if (known->has_value() && (*known)->complete) return sync::fileHashToHex(hash);  // kept once

  // Second pass: the pieces, in batches; the entry (complete) goes in the last, durable commit,
  // so a crash half-way leaves no entry and the next attach writes the same keys again.
  in.clear();
  in.seekg(0);
  sync::FileEntry entry;
  entry.size = size;
  entry.upload = true;
  entry.name = path.filename().string();
  storage::WriteBatch batch;
  if (known->has_value()) CS_RETURN_IF_ERROR(files_.eraseAll(batch, hash));  // a partial fetch or attach
  sync::Sha256 check;
  while (entry.have < size) {
    in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
    const auto n = static_cast<std::size_t>(in.gcount());
    if (n == 0) return readError(path, "the file changed while it was read");
    const std::string_view piece(buffer.data(), n);
    check.update(piece);
    auto added = sync::FileStore::append(batch, hash, entry, entry.have, piece);
    if (!added) return readError(path, "the file changed while it was read");
    if (batch.bytes() >= tuning::kFileWriteBatchBytes) {
      CS_RETURN_IF_ERROR(store_.commit(batch, Durability::kBuffered));
      batch.clear();
    }
  }
  if (check.finish() != hash) return readError(path, "the file changed while it was read");
  entry.complete = true;
  sync::FileStore::putEntry(batch, hash, entry);
  CS_RETURN_IF_ERROR(store_.commit(batch, Durability::kSynced));
  return sync::fileHashToHex(hash);
}

Result<std::optional<sync::FileEntry>> LocalFiles::entry(std::string_view hash) const {
  return files_.entry(hash);
}

Result<std::vector<LocalFile>> LocalFiles::select(bool (*keep)(const sync::FileEntry&)) const {
  std::vector<LocalFile> out;
  auto status = files_.forEach([&](std::string_view hash, const sync::FileEntry& entry) {
    if (keep(entry)) out.push_back({std::string(hash), entry});
    return Status::ok();
  });
  CS_RETURN_IF_ERROR(status);
  return out;
}

Result<std::vector<LocalFile>> LocalFiles::toUpload() const {
  return select([](const sync::FileEntry& e) { return e.upload && e.complete; });
}

Result<std::vector<LocalFile>> LocalFiles::wanted() const {
  return select([](const sync::FileEntry& e) { return e.want && !e.complete; });
}

Status LocalFiles::markUploaded(std::string_view hash) {
  std::lock_guard lock(mutex_);
  auto entry = files_.entry(hash);
  if (!entry) return entry.status();
  if (!entry->has_value() || !(*entry)->upload) return Status::ok();
  (*entry)->upload = false;
  storage::WriteBatch batch;
  sync::FileStore::putEntry(batch, hash, **entry);
  return store_.commit(batch, Durability::kBuffered);
}

Result<bool> LocalFiles::verify(std::string_view hash) const {
  auto entry = files_.entry(hash);
  if (!entry) return entry.status();
  if (!entry->has_value()) return false;
  return files_.verify(hash, (*entry)->size);
}

Result<std::string> LocalFiles::read(std::string_view hash, std::uint64_t offset, std::uint64_t max_bytes) const {
  return files_.read(hash, offset, max_bytes);
}

Result<bool> LocalFiles::storeFetched(std::string_view hash, std::uint64_t size, std::uint64_t offset,
                                      std::string_view data) {
  std::lock_guard lock(mutex_);
  auto stored = files_.entry(hash);
  if (!stored) return stored.status();
  sync::FileEntry entry = stored->value_or(sync::FileEntry{});
  if (entry.complete) return true;
  if (entry.size != size) {  // first piece, or the size we guessed was wrong: start afresh
    storage::WriteBatch reset;
    CS_RETURN_IF_ERROR(files_.eraseAll(reset, hash));
    CS_RETURN_IF_ERROR(store_.commit(reset, Durability::kBuffered));
    const bool want = entry.want;
    entry = sync::FileEntry{};
    entry.size = size;
    entry.want = want;
  }
  storage::WriteBatch batch;
  auto added = sync::FileStore::append(batch, hash, entry, offset, data);
  if (!added) return added.status();
  if (entry.have < entry.size) {
    sync::FileStore::putEntry(batch, hash, entry);
    CS_RETURN_IF_ERROR(store_.commit(batch, Durability::kBuffered));
    return false;
  }
  CS_RETURN_IF_ERROR(store_.commit(batch, Durability::kBuffered));
  auto ok = files_.verify(hash, entry.size);
  if (!ok) return ok.status();
  storage::WriteBatch done;
  if (!*ok) {
    CS_RETURN_IF_ERROR(files_.eraseAll(done, hash));
    sync::FileEntry again;
    again.want = entry.want;
    if (again.want) sync::FileStore::putEntry(done, hash, again);
    CS_RETURN_IF_ERROR(store_.commit(done, Durability::kSynced));
    return Status::error(ErrorCode::kCorruption,
                         "file " + sync::fileHashToHex(hash) + " arrived with bytes that do not match its hash");
  }
  entry.complete = true;
  entry.want = false;
  sync::FileStore::putEntry(done, hash, entry);
  CS_RETURN_IF_ERROR(store_.commit(done, Durability::kSynced));
  return true;
}

Status LocalFiles::want(std::string_view hash) {
  std::lock_guard lock(mutex_);
  auto entry = files_.entry(hash);
  if (!entry) return entry.status();
  if (entry->has_value() && ((*entry)->complete || (*entry)->want)) return Status::ok();
  sync::FileEntry e = entry->value_or(sync::FileEntry{});
  e.want = true;
  storage::WriteBatch batch;
  sync::FileStore::putEntry(batch, hash, e);
  return store_.commit(batch, Durability::kBuffered);
}

Result<std::size_t> LocalFiles::wantFor(const std::vector<sync::Record>& records) {
  auto eager = eagerCollections();
  if (!eager) return eager.status();
  if (eager->empty()) return std::size_t{0};
  std::size_t marked = 0;
  for (const auto& record : records) {
    if (eager->count(record.key.collection) == 0) continue;
    for (const auto& hash : sync::fileRefs(record)) {
      auto entry = files_.entry(hash);
      if (!entry) return entry.status();
      if (entry->has_value() && ((*entry)->complete || (*entry)->want)) continue;
      CS_RETURN_IF_ERROR(want(hash));
      ++marked;
    }
  }
  return marked;
}

Status LocalFiles::dropUnreferenced(storage::WriteBatch& batch, const std::set<std::string>& keep) const {
  std::vector<std::string> drop;
  auto status = files_.forEach([&](std::string_view hash, const sync::FileEntry& entry) {
    if (!entry.upload && keep.count(std::string(hash)) == 0) drop.emplace_back(hash);
    return Status::ok();
  });
  CS_RETURN_IF_ERROR(status);
  for (const auto& hash : drop) CS_RETURN_IF_ERROR(files_.eraseAll(batch, hash));
  return Status::ok();
}

Status LocalFiles::copyTo(std::string_view hash, const std::filesystem::path& out) const {
  auto entry = files_.entry(hash);
  if (!entry) return entry.status();
  if (!entry->has_value() || !(*entry)->complete) {
    return Status::error(ErrorCode::kNotFound, "file " + sync::fileHashToHex(hash) + " is not on this device");
  }
  const auto tmp = std::filesystem::path(out.string() + ".part");
  {
    std::ofstream file(tmp, std::ios::binary | std::ios::trunc);
    if (!file) return Status::error(ErrorCode::kIoError, "cannot write " + tmp.string());
    for (std::uint64_t at = 0; at < (*entry)->size;) {
      auto bytes = files_.read(hash, at, tuning::kFileChunkBytes);
      if (!bytes) return bytes.status();
      file.write(bytes->data(), static_cast<std::streamsize>(bytes->size()));
      at += bytes->size();
    }
    file.flush();
    if (!file) return Status::error(ErrorCode::kIoError, "cannot write " + tmp.string());
  }
  std::error_code ec;
  std::filesystem::rename(tmp, out, ec);
  if (ec) return Status::error(ErrorCode::kIoError, "cannot write " + out.string() + ": " + ec.message());
  return Status::ok();
}

Result<std::set<std::string>> LocalFiles::eagerCollections() const {
  auto raw = store_.get(Column::kMeta, kEagerKey);
  if (!raw) return raw.status();
  std::set<std::string> out;
  if (!raw->has_value()) return out;
  auto j = nlohmann::json::parse(**raw, nullptr, false);
  if (!j.is_array()) return Status::error(ErrorCode::kCorruption, "the stored eager collections are malformed");
  for (const auto& c : j) {
    if (c.is_string()) out.insert(c.get<std::string>());
  }
  return out;
}

Status LocalFiles::setEagerCollections(const std::set<std::string>& collections) {
  storage::WriteBatch batch;
  batch.put(Column::kMeta, kEagerKey, nlohmann::json(collections).dump());
  return store_.commit(batch, Durability::kSynced);
}

std::uint64_t LocalFiles::maxFileBytes() const {
  return readNumber(store_, kMaxFileKey, tuning::kDefaultMaxFileBytes);
}

Status LocalFiles::setMaxFileBytes(std::uint64_t bytes) {
  if (bytes == maxFileBytes()) return Status::ok();
  return writeNumber(store_, kMaxFileKey, bytes);
}

std::uint64_t LocalFiles::linkEstimate() const {
  return readNumber(store_, kLinkKey, tuning::kInitialLinkEstimateBytes);
}

Status LocalFiles::setLinkEstimate(std::uint64_t bytes) {
  return writeNumber(store_, kLinkKey, bytes);
}

}  // namespace communesync::client
