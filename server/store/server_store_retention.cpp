// What the server store forgets, and when: the history of old changes and old tombstones (by the
// config's retention). Idempotency results go as devices acknowledge them
// (GroupCommit::forgetAcknowledged).
#include "base/sweep_oldest.hpp"
#include "store/server_store.hpp"
#include "store/store_keys.hpp"
#include "store/stored_types.hpp"
#include "store/views.hpp"

namespace communesync::server {

using storage::Column;

// The log is in the order changes were accepted, so the oldest history is at its start: the sweep
// reads from there, and stops at the first change received on or after `before_ms`. Each log entry
// names its record, whose history key holds when it arrived.
Result<std::size_t> ServerStore::sweepHistory(std::int64_t before_ms) {
  auto lock = lockWriter();
  if (!lock) return lock.status();
  return sweepOldest(store_, Column::kLog,
                     [&](std::string_view log_key, std::string_view value, storage::WriteBatch& batch) -> Result<bool> {
                       const auto log_seq = storage::readUint64(log_key).value_or(0);
                       auto change = sync::decode<sync::Change>(value);
                       if (!change) {
                         return Status::error(ErrorCode::kCorruption,
                                              "log entry " + std::to_string(log_seq) + " does not decode");
                       }
                       const auto key = historyKey(change->key, log_seq);
                       auto meta = sync::readDecoded<HistoryMeta>(store_, Column::kHistory, key);
                       if (!meta) return meta.status();
                       if (meta->has_value() && (*meta)->receive_ms >= before_ms) return false;
                       batch.erase(Column::kHistory, key);
                       return true;
                     });
}

namespace {

// How far a unit's tombstones are purged: the highest seq removed, and the seq the purge has read
// the unit's index through (everything up to it is kept for good or gone).
struct PurgeMark {
  std::uint64_t horizon = 0;
  std::uint64_t scanned = 0;
  bool operator==(const PurgeMark&) const = default;
};

std::string encodePurgeMark(const PurgeMark& mark) {
  std::string out;
  storage::appendUint64(out, mark.horizon);
  storage::appendUint64(out, mark.scanned);
  return out;
}

Result<PurgeMark> decodePurgeMark(std::string_view bytes) {
  auto horizon = storage::readUint64(bytes);
  auto scanned = storage::readUint64(bytes, 8);
  if (!horizon || !scanned || bytes.size() != 16)
    return Status::error(ErrorCode::kCorruption, "a stored purge horizon is malformed");
  return PurgeMark{*horizon, *scanned};
}

}  // namespace

namespace {

// Each unit's purge horizon as the store (or `snapshot`) holds it.
Result<sync::proto::Checkpoints> readPurgeHorizons(const storage::Store& store, const storage::Snapshot* snapshot) {
  sync::proto::Checkpoints horizons;
  auto cursor = store.scanPrefix(Column::kMeta, "p", snapshot);
  for (; cursor.valid(); cursor.next()) {
    auto mark = decodePurgeMark(cursor.value());
    if (!mark) return mark.status();
    if (mark->horizon > 0) horizons[std::string(cursor.key().substr(1))] = mark->horizon;
  }
  CS_RETURN_IF_ERROR(cursor.status());
  return horizons;
}

}  // namespace

Status ServerStore::loadPurgeHorizons() {
  auto horizons = readPurgeHorizons(store_, nullptr);
  if (!horizons) return horizons.status();
  std::lock_guard lock(scope_mutex_);
  purge_horizon_ = std::move(horizons).value();
  return Status::ok();
}

Result<sync::proto::Checkpoints> ServerStore::purgeHorizonsIn(const storage::Snapshot& snapshot) const {
  return readPurgeHorizons(store_, &snapshot);
}

std::uint64_t ServerStore::purgeHorizon(const Scope& scope) const {
  std::lock_guard lock(scope_mutex_);
  auto it = purge_horizon_.find(scope);
  return it == purge_horizon_.end() ? 0 : it->second;
}

// A unit's index is in the order its changes were accepted (each record once, at its latest), so
// the walk stops at the first record changed on or after `before_ms`: what follows was accepted
// later. Live records and the server's own collections' tombstones are passed over and kept.
Result<std::size_t> ServerStore::purgeTombstones(std::int64_t before_ms) {
  auto lock = lockWriter();
  if (!lock) return lock.status();
  std::size_t purged = 0;
  std::size_t read = 0;
  for (const auto& scope : scopes()) {
    if (read >= tuning::kMaxSweptPerRun) break;
    auto stored_mark = store_.get(Column::kMeta, purgeMarkKey(scope));
    if (!stored_mark) return stored_mark.status();
    PurgeMark mark;
    if (stored_mark->has_value()) {
      auto decoded = decodePurgeMark(**stored_mark);
      if (!decoded) return decoded.status();
      mark = *decoded;
    }
    bool done = false;
    while (!done && read < tuning::kMaxSweptPerRun) {
      const PurgeMark was = mark;
      storage::WriteBatch batch;
      std::size_t in_batch = 0;
      done = true;
      auto cursor =
          store_.scan(Column::kScopeIndex, scopeIndexKey(scope, mark.scanned + 1), scopeIndexKey(scope, UINT64_MAX));
      for (; cursor.valid(); cursor.next()) {
        if (in_batch == tuning::kRetentionBatch || read == tuning::kMaxSweptPerRun) {
          done = false;
          break;
        }
        ++read;
        const auto seq = storage::readUint64(cursor.key(), cursor.key().size() - 8).value_or(0);
        const auto entry = readScopeIndexValue(cursor.value());
        if (!entry) return Status::error(ErrorCode::kCorruption, "a scope index entry is malformed");
        const std::string record_key(entry->record_key);
        auto stored = sync::readDecoded<StoredRecord>(store_, Column::kRecords, record_key);
        if (!stored) return stored.status();
        if (!stored->has_value())
          return Status::error(ErrorCode::kCorruption, "the scope index points at a missing record");
        const auto& record = (*stored)->record;
        if (record.receive_time_ms >= before_ms) break;
        if (record.deleted() && !serverCollection(record.key.collection)) {
          batch.erase(Column::kRecords, record_key);
          batch.erase(Column::kScopeIndex, cursor.key());
          mark.horizon = seq;
          ++in_batch;
          ++purged;
        }
        mark.scanned = seq;
      }
      CS_RETURN_IF_ERROR(cursor.status());
      if (mark == was) break;
      batch.put(Column::kMeta, purgeMarkKey(scope), encodePurgeMark(mark));
      if (mark.horizon != was.horizon) {
        std::lock_guard horizons_lock(scope_mutex_);
        purge_horizon_[scope] = mark.horizon;  // before the tombstones go (see pullEncoded)
      }
      CS_RETURN_IF_ERROR(store_.commit(batch, storage::Durability::kSynced));
    }
  }
  return purged;
}

}  // namespace communesync::server
