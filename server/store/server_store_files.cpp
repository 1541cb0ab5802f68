// ServerStore's files: pieces in a group commit (FileGroup), what a device may know and fetch, and
// the sweep of files nothing refers to any more.
#include <algorithm>

#include "communesync/storage/key_codec.hpp"
#include "communesync/sync/file_ref.hpp"
#include "communesync/sync/stored.hpp"
#include "communesync/sync/tuning.hpp"
#include "store/file_group.hpp"
#include "store/server_store.hpp"

namespace communesync::server {
namespace {

namespace proto = sync::proto;
using storage::Column;

constexpr std::int64_t kDayMs = std::int64_t{24} * 60 * 60 * 1000;

std::string quotaKey(const sync::DeviceId& device, std::int64_t day) {
  std::string out = "d";
  out += device.raw();
  storage::appendUint64(out, static_cast<std::uint64_t>(day));
  return out;
}

std::string megabytes(std::uint64_t bytes) {
  const auto tenths = (bytes * 10 + std::uint64_t{512} * 1024) / (std::uint64_t{1024} * 1024);
  return std::to_string(tenths / 10) + (tenths % 10 != 0 ? "." + std::to_string(tenths % 10) : "") + " MB";
}

proto::FileAck refused(const proto::FilePut& piece, std::uint64_t have, ErrorCode code, std::string reason) {
  return proto::FileAck{piece.hash, have, false, static_cast<std::uint16_t>(code), std::move(reason)};
}

// True if some reference to `hash` comes from a scope in `readable` (sorted).
Result<bool> referencedFrom(const storage::Store& store, std::string_view hash, const std::vector<Scope>& readable,
                            const storage::Snapshot* snapshot = nullptr) {
  const auto prefix = fileRefPrefix(hash);
  auto cursor = store.scanPrefix(Column::kFiles, prefix, snapshot);
  for (; cursor.valid(); cursor.next()) {
    std::size_t pos = prefix.size();
    auto scope = storage::readPart(cursor.key(), pos);
    if (scope && std::binary_search(readable.begin(), readable.end(), *scope)) return true;
  }
  CS_RETURN_IF_ERROR(cursor.status());
  return false;
}

Result<bool> referenced(const storage::Store& store, std::string_view hash) {
  auto cursor = store.scanPrefix(Column::kFiles, fileRefPrefix(hash));
  const bool any = cursor.valid();
  CS_RETURN_IF_ERROR(cursor.status());
  return any;
}

}  // namespace

std::string fileRefPrefix(std::string_view hash, std::string_view scope) {
  std::string out = "r";
  out.append(hash);
  if (!scope.empty()) storage::appendPart(out, scope);
  return out;
}

// ---- FileGroup ----

Result<sync::FileEntry*> FileGroup::entryFor(const std::string& hash, std::uint64_t size) {
  if (auto it = entries_.find(hash); it != entries_.end()) return &it->second;
  auto stored = files_.entry(hash);
  if (!stored) return stored.status();
  auto& entry = entries_[hash];
  if (stored->has_value()) {
    entry = **stored;
  } else {
    entry.size = size;
    entry.touched_ms = now_ms_;
  }
  return &entry;
}

Result<std::uint64_t*> FileGroup::quotaFor(const sync::DeviceId& device) {
  const auto key = quotaKey(device, now_ms_ / kDayMs);
  if (auto it = quotas_.find(key); it != quotas_.end()) return &it->second;
  auto raw = store_.get(Column::kFiles, key);
  if (!raw) return raw.status();
  auto& bytes = quotas_[key];
  bytes = raw->has_value() ? storage::readUint64(**raw).value_or(0) : 0;
  return &bytes;
}

Result<proto::FileAck> FileGroup::applyPiece(storage::WriteBatch& batch, const sync::DeviceId& device,
                                             const proto::FilePut& piece) {
  if (piece.size > limits_.max_file_bytes) {
    return refused(
        piece, 0, ErrorCode::kLimitExceeded,
        "the file is " + megabytes(piece.size) + "; the server takes files up to " + megabytes(limits_.max_file_bytes));
  }
  auto entry = entryFor(piece.hash, piece.size);
  if (!entry) return entry.status();
  auto& e = **entry;
  if (e.size != piece.size) {
    return refused(
        piece, e.have, ErrorCode::kInvalidArgument,
        "the server knows this file as " + std::to_string(e.size) + " bytes, not " + std::to_string(piece.size));
  }
  proto::FileAck ack{piece.hash, e.have, e.complete, 0, {}};
  if (e.complete || piece.offset > e.have) return ack;  // nothing to add; the ack says where to resume
  const std::uint64_t end = piece.offset + piece.data.size();
  if (end > e.size || end < piece.offset) {
    return refused(piece, e.have, ErrorCode::kInvalidArgument, "the piece runs past the end of the file");
  }
  const std::uint64_t fresh = end > e.have ? end - e.have : 0;
  auto quota = quotaFor(device);
  if (!quota) return quota.status();
  if (**quota + fresh > limits_.max_bytes_per_device_day) {
    return refused(piece, e.have, ErrorCode::kLimitExceeded,
                   "this device has sent " + megabytes(**quota) + " of files today; the limit is " +
                       megabytes(limits_.max_bytes_per_device_day) +
                       " a day. The rest is kept on the device and goes tomorrow");
  }
  auto added = sync::FileStore::append(batch, piece.hash, e, piece.offset, piece.data);
  if (!added) return refused(piece, e.have, added.status().code(), added.status().message());
  **quota += *added;
  e.touched_ms = now_ms_;
  if (e.have == e.size) whole_.insert(piece.hash);
  ack.have = e.have;
  return ack;
}

void FileGroup::updateRefs(storage::WriteBatch& batch, const Scope& scope, const sync::RecordKey& key,
                           const std::set<std::string>& before, const std::set<std::string>& after) {
  const auto suffix = sync::recordStorageKey(key);
  for (const auto& hash : before) {
    if (after.count(hash) == 0) batch.erase(Column::kFiles, fileRefPrefix(hash, scope) + suffix);
  }
  for (const auto& hash : after) {
    if (before.count(hash) == 0) batch.put(Column::kFiles, fileRefPrefix(hash, scope) + suffix, "");
  }
}

void FileGroup::addConflictRefs(storage::WriteBatch& batch, const sync::Conflict& conflict) {
  if (!conflict.lost.value) return;
  std::set<std::string> hashes;
  sync::collectFileRefs(*conflict.lost.value, hashes);
  for (const auto& hash : hashes)
    batch.put(Column::kFiles, fileRefPrefix(hash, conflict.scope) + "!" + conflict.id(), "");
}

void FileGroup::writeTo(storage::WriteBatch& batch) const {
  for (const auto& [hash, entry] : entries_) sync::FileStore::putEntry(batch, hash, entry);
  for (const auto& [key, bytes] : quotas_) batch.put(Column::kFiles, key, sync::seqStorageKey(bytes));
}

Status FileGroup::finish(std::vector<PushJob*>& jobs) {
  if (whole_.empty()) return Status::ok();
  storage::WriteBatch batch;
  std::set<std::string> bad;
  for (const auto& hash : whole_) {
    auto& entry = entries_.at(hash);
    auto ok = files_.verify(hash, entry.size);
    if (!ok) return ok.status();
    if (*ok) {
      entry.complete = true;
      sync::FileStore::putEntry(batch, hash, entry);
    } else {
      bad.insert(hash);
      CS_RETURN_IF_ERROR(files_.eraseAll(batch, hash));
    }
  }
  CS_RETURN_IF_ERROR(store_.commit(batch, storage::Durability::kSynced));
  for (PushJob* job : jobs) {
    for (auto& ack : job->acks) {
      if (whole_.count(ack.hash) == 0 || ack.code != 0) continue;
      if (bad.count(ack.hash) != 0) {
        ack = proto::FileAck{ack.hash, 0, false, static_cast<std::uint16_t>(ErrorCode::kCorruption),
                             "the file's bytes do not match its hash; send it again from the start"};
      } else {
        ack.complete = ack.have == entries_.at(ack.hash).size;
      }
    }
  }
  return Status::ok();
}

// ---- ServerStore: what a device may know and fetch ----

Result<std::vector<proto::FileState>> ServerStore::fileStates(const std::vector<std::string>& hashes,
                                                              const std::vector<Scope>& readable) const {
  sync::FileStore files(store_);
  auto snapshot = store_.snapshot();
  std::vector<proto::FileState> out;
  out.reserve(hashes.size());
  for (const auto& hash : hashes) {
    proto::FileState state;
    state.hash = hash;
    auto entry = files.entry(hash, &snapshot);
    if (!entry) return entry.status();
    if (entry->has_value()) {
      state.size = (*entry)->size;
      state.have = (*entry)->have;
      state.complete = (*entry)->complete;
    }
    auto may = referencedFrom(store_, hash, readable, &snapshot);
    if (!may) return may.status();
    state.readable = *may;
    out.push_back(std::move(state));
  }
  return out;
}

Result<proto::FileData> ServerStore::readFile(const std::string& hash, std::uint64_t offset, std::uint64_t max_bytes,
                                              const std::vector<Scope>& readable) const {
  sync::FileStore files(store_);
  auto snapshot = store_.snapshot();
  auto may = referencedFrom(store_, hash, readable, &snapshot);
  if (!may) return may.status();
  if (!*may) {
    return Status::error(ErrorCode::kForbidden,
                         "file " + sync::fileHashToHex(hash) + ": no record you may read refers to it");
  }
  auto entry = files.entry(hash, &snapshot);
  if (!entry) return entry.status();
  if (!entry->has_value() || !(*entry)->complete) {
    const auto have = entry->has_value() ? (*entry)->have : 0;
    const auto size = entry->has_value() ? (*entry)->size : 0;
    return Status::error(ErrorCode::kNotFound, "file " + sync::fileHashToHex(hash) + " is not on the server yet" +
                                                   (size > 0 ? " (" + std::to_string(have) + " of " +
                                                                   std::to_string(size) + " bytes have arrived)"
                                                             : ": the device that made it has not sent it"));
  }
  proto::FileData data;
  data.hash = hash;
  data.size = (*entry)->size;
  data.offset = offset;
  if (offset < data.size) {
    auto bytes =
        files.read(hash, offset, std::min<std::uint64_t>(max_bytes, sync::tuning::kMaxFilePieceBytes), &snapshot);
    if (!bytes) return bytes.status();
    data.data = std::move(bytes).value();
  }
  return data;
}

Result<std::size_t> ServerStore::sweepFiles(std::int64_t now_ms) {
  sync::FileStore files(store_);
  storage::WriteBatch batch;
  std::size_t removed = 0;
  const auto retention = file_limits_.retention.count();
  auto status = files.forEach([&](std::string_view hash, sync::FileEntry entry) -> Status {
    auto in_use = referenced(store_, hash);
    if (!in_use) return in_use.status();
    if (*in_use) {
      if (entry.orphan_since_ms != 0) {
        entry.orphan_since_ms = 0;
        sync::FileStore::putEntry(batch, hash, entry);
      }
      return Status::ok();
    }
    if (entry.orphan_since_ms == 0) {
      entry.orphan_since_ms = now_ms;
      sync::FileStore::putEntry(batch, hash, entry);
      return Status::ok();
    }
    if (now_ms - entry.orphan_since_ms >= retention && now_ms - entry.touched_ms >= retention) {
      ++removed;
      return files.eraseAll(batch, hash);
    }
    return Status::ok();
  });
  CS_RETURN_IF_ERROR(status);
  // Daily counters of days before yesterday are no longer read.
  const auto today = now_ms / kDayMs;
  auto quotas = store_.scanPrefix(Column::kFiles, "d");
  for (; quotas.valid(); quotas.next()) {
    const auto key = quotas.key();
    const auto day = storage::readUint64(key, key.size() - 8).value_or(0);
    if (static_cast<std::int64_t>(day) + 1 < today) batch.erase(Column::kFiles, key);
  }
  CS_RETURN_IF_ERROR(quotas.status());
  if (!batch.empty()) CS_RETURN_IF_ERROR(store_.commit(batch, storage::Durability::kSynced));
  return removed;
}

}  // namespace communesync::server
