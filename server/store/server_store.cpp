#include "store/server_store.hpp"

#include <functional>

#include "base/tuning.hpp"
#include "communesync/storage/key_codec.hpp"
#include "communesync/sync/file_ref.hpp"
#include "communesync/sync/hybrid_clock.hpp"
#include "communesync/sync/merge.hpp"
#include "communesync/sync/review.hpp"
#include "communesync/sync/stored.hpp"
#include "communesync/sync/text.hpp"
#include "communesync/sync/tuning.hpp"
#include "store/file_group.hpp"
#include "store/group_commit.hpp"
#include "store/history_group.hpp"
#include "store/store_keys.hpp"
#include "store/stored_types.hpp"
#include "store/views.hpp"

namespace communesync::server {

using storage::Column;
using sync::proto::ChangeResult;

Result<std::unique_ptr<ServerStore>> ServerStore::open(storage::Store& store) {
  std::unique_ptr<ServerStore> out(new ServerStore(store));
  auto raw = store.get(Column::kMeta, kLastSeqKey);
  if (!raw) return raw.status();
  if (raw->has_value()) {
    auto seq = storage::readUint64(**raw);
    if (!seq) return Status::error(ErrorCode::kCorruption, "the stored last sequence number is malformed");
    out->last_seq_.store(*seq);
    out->synced_seq_ = *seq;
  }
  if (auto loaded = out->loadScopeSeqs(); !loaded) return loaded.status();
  CS_RETURN_IF_ERROR(out->loadPurgeHorizons());
  auto current = out->viewsCurrent();
  if (!current) return current.status();
  if (*current) {
    CS_RETURN_IF_ERROR(out->counts_.load(store));
    return out;
  }
  // A store from before the views (or whose views were dropped) gets them built once, here, under
  // the writer lock: on a database several servers share, no commit lands between the build's
  // snapshot and its last batch, and two servers starting together build them once (the second
  // finds them built when the lock comes to it). The search index's lock too, so no indexer
  // of another server writes postings while the index is rebuilt.
  auto writer = store.lock(storage::LockName::kWriter, tuning::kViewsBuildLockWait);
  if (!writer) return Status::error(writer.status().code(), "building the views: " + writer.status().message());
  if (!store.local()) CS_RETURN_IF_ERROR(out->catchUpWithOthers());  // the build's last seq is the store's
  current = out->viewsCurrent();
  if (!current) return current.status();
  if (*current) {
    CS_RETURN_IF_ERROR(out->counts_.load(store));
    return out;
  }
  std::optional<storage::StoreLock> indexer;
  if (!store.local()) {
    auto held = store.lock(storage::LockName::kSearchIndex, tuning::kViewsBuildLockWait);
    if (!held) return Status::error(held.status().code(), "building the views: " + held.status().message());
    indexer.emplace(std::move(held).value());
  }
  CS_RETURN_IF_ERROR(out->rebuildViews());  // loads the counters it built
  return out;
}

Result<bool> ServerStore::viewsCurrent() const {
  auto views = store_.get(Column::kMeta, kViewsVersionKey);
  if (!views) return views.status();
  return views->has_value() && storage::readUint64(**views).value_or(0) == kViewsVersion;
}

Result<std::uint64_t> ServerStore::lastSeqIn(const storage::Store& store) {
  auto raw = store.get(Column::kMeta, kLastSeqKey);
  if (!raw) return raw.status();
  if (!raw->has_value()) return std::uint64_t{0};
  auto seq = storage::readUint64(**raw);
  if (!seq) return Status::error(ErrorCode::kCorruption, "the stored last sequence number is malformed");
  return *seq;
}

Result<bool> ServerStore::loadScopeSeqs() {
  sync::proto::Checkpoints seqs;
  auto cursor = store_.scanPrefix(Column::kMeta, "q");
  for (; cursor.valid(); cursor.next()) {
    auto seq = storage::readUint64(cursor.value());
    if (!seq) return Status::error(ErrorCode::kCorruption, "a stored scope sequence number is malformed");
    seqs[std::string(cursor.key().substr(1))] = *seq;
  }
  CS_RETURN_IF_ERROR(cursor.status());
  if (seqs.empty()) {
    // A store of the sync issue numbered its scope index with the server-wide sequence, which
    // also rises within each scope: its highest entry per scope is that scope's latest.
    auto index = store_.scan(Column::kScopeIndex, "", "");
    for (; index.valid(); index.next()) {
      const auto key = index.key();
      const auto end = key.find('\0');
      if (end == std::string_view::npos || key.size() < 8) continue;
      auto seq = storage::readUint64(key, key.size() - 8);
      if (seq) seqs[std::string(key.substr(0, end))] = std::max(seqs[std::string(key.substr(0, end))], *seq);
    }
    CS_RETURN_IF_ERROR(index.status());
  }
  return raiseScopeSeqs(seqs);
}

// Raised, never lowered: a notice of another server's commit may have been taken meanwhile.
bool ServerStore::raiseScopeSeqs(const sync::proto::Checkpoints& seqs) const {
  bool forms_moved = false;
  std::lock_guard lock(scope_mutex_);
  for (const auto& [scope, seq] : seqs) {
    auto& known = scope_seq_[scope];
    if (seq > known && scope == kFormsScope) forms_moved = true;
    known = std::max(known, seq);
  }
  return forms_moved;
}

void ServerStore::raiseLastSeq(std::uint64_t seq) {
  auto known = last_seq_.load(std::memory_order_acquire);
  while (known < seq && !last_seq_.compare_exchange_weak(known, seq, std::memory_order_acq_rel)) {
  }
}

// ---- several servers on one store ----

Result<storage::StoreLock> ServerStore::lockWriter() {
  auto lock = store_.lock(storage::LockName::kWriter, tuning::kStoreLockWait);
  if (!lock) return lock.status();
  if (!store_.local()) CS_RETURN_IF_ERROR(catchUpWithOthers());
  return lock;
}

// Under the writer lock nothing moves, so what is read here is exact until the lock goes. The
// horizons are read each time (a purge moves them without moving the log: a few rows); the rest
// only when another server's commit moved the log since this one's last.
Status ServerStore::catchUpWithOthers() {
  CS_RETURN_IF_ERROR(loadPurgeHorizons());
  auto stored = lastSeqIn(store_);
  if (!stored) return stored.status();
  if (*stored == synced_seq_) return Status::ok();
  CS_RETURN_IF_ERROR(rereadSequences(*stored));
  synced_seq_ = *stored;
  return Status::ok();
}

// What another server's commits (through `log_seq`) may have moved in this one's memory.
Status ServerStore::rereadSequences(std::uint64_t log_seq) {
  auto forms_moved = loadScopeSeqs();
  if (!forms_moved) return forms_moved.status();
  raiseLastSeq(log_seq);
  counts_.markStale();
  if (*forms_moved && forms_ != nullptr) CS_RETURN_IF_ERROR(forms_->reload(store_));
  return Status::ok();
}

void ServerStore::othersCommitted(const CommitNotice& notice) {
  raiseLastSeq(notice.log_seq);
  const bool forms_moved = raiseScopeSeqs(notice.scopes);
  counts_.markStale();
  // A form another server published: this one checks changes against it from now on (its writer
  // reads the forms again under the lock too, should this reload fail).
  if (forms_moved && forms_ != nullptr) (void)forms_->reload(store_);
}

Result<sync::proto::Checkpoints> ServerStore::othersMayHaveCommitted() {
  auto stored = lastSeqIn(store_);
  if (!stored) return stored.status();
  CS_RETURN_IF_ERROR(rereadSequences(*stored));
  std::lock_guard lock(scope_mutex_);
  return scope_seq_;
}

std::vector<Scope> ServerStore::scopes() const {
  std::lock_guard lock(scope_mutex_);
  std::vector<Scope> out;
  for (const auto& [scope, seq] : scope_seq_) out.push_back(scope);
  return out;
}

Result<sync::proto::Checkpoints> ServerStore::latest(const std::vector<Scope>& scopes) const {
  if (!store_.local()) {
    // Another server may have committed a moment ago and the device pulled it there: what it is
    // told here must never be below what it holds, or it takes this server for one restored from
    // an old backup and sends everything again. So the store says, not this server's memory.
    std::vector<std::string> keys;
    keys.reserve(scopes.size());
    for (const auto& scope : scopes) keys.push_back(scopeSeqKey(scope));
    auto values = store_.multiGet(Column::kMeta, keys);
    if (!values) return values.status();
    sync::proto::Checkpoints stored;
    for (std::size_t i = 0; i < scopes.size(); ++i) {
      if ((*values)[i]) stored[scopes[i]] = storage::readUint64(*(*values)[i]).value_or(0);
    }
    (void)raiseScopeSeqs(stored);
  }
  return latestInMemory(scopes);
}

sync::proto::Checkpoints ServerStore::latestIfAlone(const std::vector<Scope>& scopes) const {
  return store_.local() ? latestInMemory(scopes) : sync::proto::Checkpoints();
}

sync::proto::Checkpoints ServerStore::latestInMemory(const std::vector<Scope>& scopes) const {
  sync::proto::Checkpoints out;
  std::lock_guard lock(scope_mutex_);
  for (const auto& scope : scopes) {
    if (auto it = scope_seq_.find(scope); it != scope_seq_.end()) out.emplace(scope, it->second);
  }
  return out;
}

// ---- push ----

std::uint64_t ServerStore::committedScopeSeq(const Scope& scope) const {
  std::lock_guard lock(scope_mutex_);
  auto it = scope_seq_.find(scope);
  return it == scope_seq_.end() ? std::uint64_t{0} : it->second;
}

Status ServerStore::apply(std::vector<PushJob*>& jobs, std::int64_t now_ms, sync::proto::Checkpoints& touched) {
  auto lock = lockWriter();
  if (!lock) return lock.status();
  GroupCommit group(*this, now_ms);
  CS_RETURN_IF_ERROR(group.prefetch(jobs));
  for (PushJob* job : jobs) CS_RETURN_IF_ERROR(group.add(*job));
  auto finished = group.finish();
  if (!finished) return finished.status();
  auto& batch = **finished;
  if (batch.empty()) return Status::ok();
  // THE durability boundary of the server: nothing of this group is acknowledged before this returns.
  auto status = store_.commit(batch, storage::Durability::kSynced);
  if (!status) {
    for (PushJob* job : jobs) {
      job->results.clear();
      job->acks.clear();
    }
    return status;
  }
  return group.committed(jobs, touched);
}

Result<std::optional<ChangeResult>> ServerStore::previousResult(const sync::ChangeId& id) const {
  return sync::readDecoded<ChangeResult>(store_, Column::kIdempotency, idempotencyKey(id));
}

// ---- pull ----

Result<sync::proto::EncodedPullBatch> ServerStore::pullEncoded(const std::vector<Scope>& readable,
                                                               const sync::proto::Checkpoints& checkpoints,
                                                               std::uint64_t max_bytes,
                                                               const sync::DeviceId* steps_over) const {
  auto snapshot = store_.snapshot();
  // Read after the snapshot: a purge raises the horizon before its tombstones go. Another server's
  // purge raised only its own memory: on a shared store the horizons are the snapshot's.
  sync::proto::Checkpoints horizons;
  if (store_.local()) {
    std::lock_guard lock(scope_mutex_);
    horizons = purge_horizon_;
  } else {
    auto read = purgeHorizonsIn(snapshot);
    if (!read) return read.status();
    horizons = std::move(read).value();
  }
  sync::proto::EncodedPullBatch batch;
  std::uint64_t bytes = 0;
  for (const auto& scope : readable) {
    auto cp_it = checkpoints.find(scope);
    const std::uint64_t from = cp_it == checkpoints.end() ? 0 : cp_it->second;
    // A deletion this device has not seen may be gone: it must pull the unit afresh (design:
    // docs/architecture.md, "What the store keeps"). A device starting from 0 holds nothing to drop.
    if (auto h = horizons.find(scope); from > 0 && h != horizons.end() && from < h->second) {
      batch.resync.push_back(scope);
      batch.more = true;
      continue;
    }
    if (bytes >= max_bytes) {
      batch.more = true;
      break;
    }
    // The highest index entry of a scope is its latest seq (the record changed last sits there),
    // so the checkpoint only ever names seqs of this scope: nothing about other scopes shows.
    std::uint64_t reached = from;
    bool full = false;
    // A device pulling from 0 holds nothing of the scope (it is new to it, or pulls it afresh): it
    // is sent everything, its own records too.
    const std::string_view own = steps_over != nullptr && from > 0 ? steps_over->raw() : std::string_view();
    auto cursor =
        store_.scan(Column::kScopeIndex, scopeIndexKey(scope, from + 1), scopeIndexKey(scope, UINT64_MAX), &snapshot);
    for (; cursor.valid(); cursor.next()) {
      if (bytes >= max_bytes) {
        full = true;
        batch.more = true;
        break;
      }
      const auto seq = storage::readUint64(cursor.key(), cursor.key().size() - 8).value_or(0);
      const auto entry = readScopeIndexValue(cursor.value());
      if (!entry) return Status::error(ErrorCode::kCorruption, "a scope index entry is malformed");
      if (!own.empty() && entry->exact_for == own) {
        // Stepped over, and counted, so that a long run of them still ends the batch.
        bytes += cursor.key().size() + cursor.value().size();
        reached = seq;
        continue;
      }
      auto stored = store_.get(Column::kRecords, entry->record_key, &snapshot);
      if (!stored) return stored.status();
      if (!stored->has_value()) {
        return Status::error(ErrorCode::kCorruption, "the scope index points at a missing record");
      }
      // Spliced, not decoded: the stored bytes are the record's wire bytes (RocksDB checks each
      // block's checksum as it reads it, so what we wrote is what we send).
      auto record_bytes = storedRecordBytes(**stored);
      if (!record_bytes) return record_bytes.status();
      bytes += record_bytes->size();
      batch.add(*record_bytes);
      reached = seq;
    }
    CS_RETURN_IF_ERROR(cursor.status());
    if (reached == from) continue;
    batch.checkpoints[scope] = reached;

    std::string lower = "s";
    storage::appendPart(lower, scope);
    std::string upper = lower;
    storage::appendUint64(lower, from + 1);
    storage::appendUint64(upper, reached + 1);
    for (auto c = store_.scan(Column::kConflicts, lower, upper, &snapshot); c.valid(); c.next()) {
      auto conflict = sync::decode<sync::Conflict>(c.value());
      if (!conflict) return Status::error(ErrorCode::kCorruption, "a stored conflict does not decode");
      batch.conflicts.push_back(std::move(conflict).value());
    }
    if (full) break;
  }
  return batch;
}

Result<sync::proto::PullBatch> ServerStore::pull(const std::vector<Scope>& readable,
                                                 const sync::proto::Checkpoints& checkpoints, std::uint64_t max_bytes,
                                                 const sync::DeviceId* steps_over) const {
  auto encoded = pullEncoded(readable, checkpoints, max_bytes, steps_over);
  if (!encoded) return encoded.status();
  auto batch = sync::decode<sync::proto::PullBatch>(sync::encode(*encoded));
  if (!batch)
    return Status::error(ErrorCode::kCorruption, "a stored record does not decode: " + batch.status().message());
  return batch;
}

Result<std::vector<sync::Change>> ServerStore::logForTesting() const {
  std::vector<sync::Change> out;
  auto cursor = store_.scan(Column::kLog, "", "");
  for (; cursor.valid(); cursor.next()) {
    auto change = sync::decode<sync::Change>(cursor.value());
    if (!change) return change.status();
    out.push_back(std::move(change).value());
  }
  CS_RETURN_IF_ERROR(cursor.status());
  return out;
}

Result<std::vector<sync::Record>> ServerStore::recordsForTesting() const {
  std::vector<sync::Record> out;
  auto cursor = store_.scan(Column::kRecords, "", "");
  for (; cursor.valid(); cursor.next()) {
    auto stored = sync::decode<StoredRecord>(cursor.value());
    if (!stored) return stored.status();
    out.push_back(std::move(stored->record));
  }
  CS_RETURN_IF_ERROR(cursor.status());
  return out;
}

Result<std::vector<sync::Conflict>> ServerStore::conflictsForTesting() const {
  std::vector<sync::Conflict> out;
  auto cursor = store_.scanPrefix(Column::kConflicts, "s");
  for (; cursor.valid(); cursor.next()) {
    auto conflict = sync::decode<sync::Conflict>(cursor.value());
    if (!conflict) return conflict.status();
    out.push_back(std::move(conflict).value());
  }
  CS_RETURN_IF_ERROR(cursor.status());
  return out;
}

}  // namespace communesync::server
