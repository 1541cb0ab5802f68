// ServerStore's files: pieces in a group commit (FileGroup), what a device may know and fetch, and
// the sweep of files nothing refers to any more.
#include <algorithm>
#include <map>

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

// 16 bytes naming a user in counter keys (names are up to 64 bytes; a fixed width keeps the day
// readable from the end of a quota key).
std::string userDigest(std::string_view user) {
  sync::Sha256 sha;
  sha.update(user);
  return sha.finish().substr(0, 16);
}

std::string quotaKey(std::string_view user, std::int64_t day) {
  std::string out = "d";
  out += userDigest(user);
  storage::appendUint64(out, static_cast<std::uint64_t>(day));
  return out;
}

std::string megabytes(std::uint64_t bytes) {
  const auto tenths = (bytes * 10 + std::uint64_t{512} * 1024) / (std::uint64_t{1024} * 1024);
  return std::to_string(tenths / 10) + (tenths % 10 != 0 ? "." + std::to_string(tenths % 10) : "") + " MB";
}

void release(std::uint64_t& counter, std::uint64_t bytes) {
  counter -= std::min(counter, bytes);
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

std::string partialName(std::string_view hash, std::string_view user) {
  sync::Sha256 sha;
  sha.update(std::string_view("communesync partial upload\0", 27));
  sha.update(hash);
  sha.update(user);
  return sha.finish();
}

std::string unreferencedKey(std::string_view user) {
  return "o" + userDigest(user);
}

// ---- FileGroup ----

Result<sync::FileEntry*> FileGroup::entryFor(const std::string& name) {
  auto it = entries_.find(name);
  if (it == entries_.end()) {
    auto stored = files_.entry(name);
    if (!stored) return stored.status();
    it = entries_.emplace(name, std::move(stored).value()).first;
  }
  return it->second ? &*it->second : nullptr;
}

Result<std::uint64_t*> FileGroup::counterFor(const std::string& key) {
  if (auto it = counters_.find(key); it != counters_.end()) return &it->second;
  auto raw = store_.get(Column::kFiles, key);
  if (!raw) return raw.status();
  auto& bytes = counters_[key];
  bytes = raw->has_value() ? storage::readUint64(**raw).value_or(0) : 0;
  return &bytes;
}

Result<proto::FileAck> FileGroup::applyPiece(storage::WriteBatch& batch, const std::string& user,
                                             const proto::FilePut& piece) {
  if (piece.size > limits_.max_file_bytes) {
    return refused(
        piece, 0, ErrorCode::kLimitExceeded,
        "the file is " + megabytes(piece.size) + "; the server takes files up to " + megabytes(limits_.max_file_bytes));
  }
  auto shared = entryFor(piece.hash);
  if (!shared) return shared.status();
  if (*shared != nullptr && (*shared)->complete) {
    if ((*shared)->size != piece.size) {
      return refused(piece, 0, ErrorCode::kInvalidArgument,
                     "this file is " + std::to_string((*shared)->size) + " bytes, not " + std::to_string(piece.size));
    }
    // A partial upload of it by this user is no longer needed.
    const auto mine = partialName(piece.hash, user);
    auto partial = entryFor(mine);
    if (!partial) return partial.status();
    if (*partial != nullptr) {
      auto unreferenced = counterFor(unreferencedKey(user));
      if (!unreferenced) return unreferenced.status();
      release(**unreferenced, (*partial)->have);
      CS_RETURN_IF_ERROR(files_.eraseAll(batch, mine));
      entries_[mine].reset();
    }
    return proto::FileAck{piece.hash, piece.size, true, 0, {}};
  }
  const auto name = partialName(piece.hash, user);
  auto found = entryFor(name);
  if (!found) return found.status();
  sync::FileEntry started;  // the entry of an upload this piece begins; kept only if bytes are added
  if (*found == nullptr) {
    started.size = piece.size;
    started.touched_ms = now_ms_;
    started.uploader = user;
    started.counted = true;
  }
  auto& e = *found != nullptr ? **found : started;
  if (e.size != piece.size) {
    return refused(piece, e.have, ErrorCode::kInvalidArgument,
                   "your upload of this file began as " + std::to_string(e.size) + " bytes, not " +
                       std::to_string(piece.size) + "; it is dropped at the server's next file sweep");
  }
  proto::FileAck ack{piece.hash, e.have, false, 0, {}};
  if (piece.offset > e.have) return ack;  // nothing to add; the ack says where to resume
  const std::uint64_t end = piece.offset + piece.data.size();
  if (end > e.size || end < piece.offset) {
    return refused(piece, e.have, ErrorCode::kInvalidArgument, "the piece runs past the end of the file");
  }
  const std::uint64_t fresh = end > e.have ? end - e.have : 0;
  auto today = counterFor(quotaKey(user, now_ms_ / kDayMs));
  if (!today) return today.status();
  if (**today + fresh > limits_.max_bytes_per_user_day) {
    return refused(piece, e.have, ErrorCode::kLimitExceeded,
                   "your devices have sent " + megabytes(**today) + " of files today; the limit is " +
                       megabytes(limits_.max_bytes_per_user_day) +
                       " a day. The rest is kept on the device and goes tomorrow");
  }
  auto unreferenced = counterFor(unreferencedKey(user));
  if (!unreferenced) return unreferenced.status();
  if (**unreferenced + fresh > limits_.max_unreferenced_bytes_per_user) {
    return refused(piece, e.have, ErrorCode::kLimitExceeded,
                   "you have " + megabytes(**unreferenced) +
                       " of files on the server that no record refers to yet (unfinished uploads, or files sent "
                       "without their record); the limit is " +
                       megabytes(limits_.max_unreferenced_bytes_per_user) +
                       ". The rest is kept on the device and goes once those are settled");
  }
  auto added = sync::FileStore::append(batch, name, e, piece.offset, piece.data);
  if (!added) return refused(piece, e.have, added.status().code(), added.status().message());
  **today += *added;
  **unreferenced += *added;
  e.touched_ms = now_ms_;
  if (e.have == e.size) whole_[name] = Upload{piece.hash, user};
  ack.have = e.have;
  if (&e == &started) entries_[name] = started;
  return ack;
}

Status FileGroup::referred(const std::string& hash) {
  auto entry = entryFor(hash);
  if (!entry) return entry.status();
  auto* e = *entry;
  if (e == nullptr || !e->complete || !e->counted) return Status::ok();
  auto unreferenced = counterFor(unreferencedKey(e->uploader));
  if (!unreferenced) return unreferenced.status();
  release(**unreferenced, e->size);
  e->counted = false;
  return Status::ok();
}

Status FileGroup::updateRefs(storage::WriteBatch& batch, const Scope& scope, const sync::RecordKey& key,
                             const std::set<std::string>& before, const std::set<std::string>& after) {
  const auto suffix = sync::recordStorageKey(key);
  for (const auto& hash : before) {
    if (after.count(hash) == 0) batch.erase(Column::kFiles, fileRefPrefix(hash, scope) + suffix);
  }
  for (const auto& hash : after) {
    if (before.count(hash) != 0) continue;
    batch.put(Column::kFiles, fileRefPrefix(hash, scope) + suffix, "");
    CS_RETURN_IF_ERROR(referred(hash));
  }
  return Status::ok();
}

Status FileGroup::addConflictRefs(storage::WriteBatch& batch, const sync::Conflict& conflict) {
  if (!conflict.lost.value) return Status::ok();
  std::set<std::string> hashes;
  sync::collectFileRefs(*conflict.lost.value, hashes);
  for (const auto& hash : hashes) {
    batch.put(Column::kFiles, fileRefPrefix(hash, conflict.scope) + "!" + conflict.id(), "");
    CS_RETURN_IF_ERROR(referred(hash));
  }
  return Status::ok();
}

void FileGroup::writeTo(storage::WriteBatch& batch) const {
  for (const auto& [name, entry] : entries_) {
    if (entry) sync::FileStore::putEntry(batch, name, *entry);
  }
  for (const auto& [key, bytes] : counters_) batch.put(Column::kFiles, key, sync::seqStorageKey(bytes));
}

// One upload that became whole: true if the file is now held whole (this upload's bytes, or an
// earlier one's), false if its bytes did not hash right (they are erased).
Result<bool> FileGroup::settle(storage::WriteBatch& batch, const std::string& name, const Upload& upload) {
  auto found = entryFor(name);
  if (!found) return found.status();
  const sync::FileEntry partial = **found;
  auto unreferenced = counterFor(unreferencedKey(upload.user));
  if (!unreferenced) return unreferenced.status();
  auto ok = files_.verify(name, partial.size, upload.hash);
  if (!ok) return ok.status();
  auto shared = entryFor(upload.hash);
  if (!shared) return shared.status();
  if (!*ok || (*shared != nullptr && (*shared)->complete)) {
    // Wrong bytes, or another upload of the same file got there first: this one is not needed.
    CS_RETURN_IF_ERROR(files_.eraseAll(batch, name));
    release(**unreferenced, partial.have);
    entries_[name].reset();
    return *ok;
  }
  // Pieces left under the hash itself by a version that shared partial uploads go first.
  if (*shared != nullptr) CS_RETURN_IF_ERROR(files_.eraseAll(batch, upload.hash));
  CS_RETURN_IF_ERROR(files_.movePieces(batch, name, upload.hash));
  batch.erase(Column::kFiles, sync::fileEntryKey(name));
  entries_[name].reset();
  sync::FileEntry whole;
  whole.size = whole.have = partial.size;
  whole.complete = true;
  whole.touched_ms = now_ms_;
  whole.uploader = upload.user;
  auto in_use = referenced(store_, upload.hash);
  if (!in_use) return in_use.status();
  whole.counted = !*in_use;
  if (*in_use) release(**unreferenced, partial.size);
  sync::FileStore::putEntry(batch, upload.hash, whole);
  entries_[upload.hash] = whole;
  return true;
}

Status FileGroup::finish(std::vector<PushJob*>& jobs) {
  if (whole_.empty()) return Status::ok();
  storage::WriteBatch batch;
  std::map<std::pair<std::string, std::string>, bool> settled;  // (user, hash) -> held whole
  for (const auto& [name, upload] : whole_) {
    auto held = settle(batch, name, upload);
    if (!held) return held.status();
    settled[{upload.user, upload.hash}] = *held;
  }
  for (const auto& [key, bytes] : counters_) batch.put(Column::kFiles, key, sync::seqStorageKey(bytes));
  CS_RETURN_IF_ERROR(store_.commit(batch, storage::Durability::kSynced));
  for (PushJob* job : jobs) {
    for (auto& ack : job->acks) {
      auto it = settled.find({job->user, ack.hash});
      if (it == settled.end() || ack.code != 0) continue;
      if (it->second) {
        ack.complete = true;
      } else {
        ack = proto::FileAck{ack.hash, 0, false, static_cast<std::uint16_t>(ErrorCode::kCorruption),
                             "the file's bytes do not match its hash; send it again from the start"};
      }
    }
  }
  return Status::ok();
}

// ---- ServerStore: what a device may know and fetch ----

Result<std::vector<proto::FileState>> ServerStore::fileStates(const std::vector<std::string>& hashes,
                                                              const std::vector<Scope>& readable,
                                                              const std::string& user) const {
  sync::FileStore files(store_);
  auto snapshot = store_.snapshot();
  std::vector<proto::FileState> out;
  out.reserve(hashes.size());
  for (const auto& hash : hashes) {
    proto::FileState state;
    state.hash = hash;
    auto entry = files.entry(hash, &snapshot);
    if (!entry) return entry.status();
    if (!entry->has_value() || !(*entry)->complete) {  // not held whole: how far this user's upload is
      entry = files.entry(partialName(hash, user), &snapshot);
      if (!entry) return entry.status();
    }
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
  auto lock = lockWriter();
  if (!lock) return lock.status();
  sync::FileStore files(store_);
  storage::WriteBatch batch;
  std::size_t removed = 0;
  std::map<std::string, std::uint64_t> released;  // unreferenced-bytes key -> bytes no longer held
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
      if (entry.counted) released[unreferencedKey(entry.uploader)] += entry.have;
      return files.eraseAll(batch, hash);
    }
    return Status::ok();
  });
  CS_RETURN_IF_ERROR(status);
  for (const auto& [key, bytes] : released) {
    auto raw = store_.get(Column::kFiles, key);
    if (!raw) return raw.status();
    auto held = raw->has_value() ? storage::readUint64(**raw).value_or(0) : 0;
    release(held, bytes);
    batch.put(Column::kFiles, key, sync::seqStorageKey(held));
  }
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
