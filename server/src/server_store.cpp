#include "communesync/server/server_store.hpp"

#include <functional>
#include <map>

#include "communesync/server/tuning.hpp"
#include "communesync/storage/key_codec.hpp"
#include "communesync/sync/file_ref.hpp"
#include "communesync/sync/hybrid_clock.hpp"
#include "communesync/sync/merge.hpp"
#include "communesync/sync/review.hpp"
#include "communesync/sync/stored.hpp"
#include "communesync/sync/text.hpp"
#include "communesync/sync/tuning.hpp"
#include "file_group.hpp"
#include "history_group.hpp"
#include "store_keys.hpp"
#include "stored_forms.hpp"

namespace communesync::server {
namespace {

using storage::Column;
using sync::proto::ChangeResult;
using sync::proto::Outcome;

constexpr std::string_view kLastSeqKey = "last_seq";

std::string scopeSeqKey(std::string_view scope) {
  return "q" + std::string(scope);
}
std::string clampKey(const sync::DeviceId& d) {
  return "c" + std::string(d.raw());
}

std::string idempotencyKey(const sync::ChangeId& id) {
  std::string out(id.device.raw());
  storage::appendUint64(out, id.seq);
  return out;
}

ChangeResult rejected(const sync::ChangeId& id, ErrorCode code, std::string reason) {
  ChangeResult r;
  r.id = id;
  r.outcome = Outcome::kRejected;
  r.code = static_cast<std::uint16_t>(code);
  r.reason = std::move(reason);
  return r;
}

// The state of one group commit: what this group has written so far, read before the store.
class GroupOverlay {
 public:
  explicit GroupOverlay(const storage::Store& store) : store_(store) {}

  Result<std::optional<StoredRecord>> record(const std::string& key) {
    if (auto it = records_.find(key); it != records_.end()) return std::optional<StoredRecord>(it->second);
    return sync::readDecoded<StoredRecord>(store_, Column::kRecords, key);
  }
  void putRecord(const std::string& key, StoredRecord r) { records_[key] = std::move(r); }

  Result<std::optional<ChangeResult>> result(const std::string& key) {
    if (auto it = results_.find(key); it != results_.end()) return std::optional<ChangeResult>(it->second);
    return sync::readDecoded<ChangeResult>(store_, Column::kIdempotency, key);
  }
  void putResult(const std::string& key, const ChangeResult& r) { results_[key] = r; }

  Result<bool> conflictKnown(const std::string& id) {
    if (conflicts_.count(id) != 0) return true;
    auto raw = store_.get(Column::kConflicts, "i" + id);
    if (!raw) return raw.status();
    return raw->has_value();
  }
  void addConflict(const std::string& id) { conflicts_.insert(id); }

  Result<sync::StampClamp*> clampFor(const sync::DeviceId& device) {
    if (auto it = clamps_.find(device); it != clamps_.end()) return &it->second;
    auto last = sync::readDecoded<sync::Stamp>(store_, Column::kDevices, clampKey(device));
    if (!last) return last.status();
    auto& clamp = clamps_[device];
    if (last->has_value()) {
      clamp = sync::StampClamp(**last);
    } else {  // stores of the sync issue kept it in the device's state
      auto state = sync::readDecoded<DeviceState>(store_, Column::kDevices, deviceKey(device));
      if (!state) return state.status();
      if (state->has_value()) clamp = sync::StampClamp((*state)->last_clamped);
    }
    return &clamp;
  }
  const std::map<sync::DeviceId, sync::StampClamp>& clamps() const { return clamps_; }

  // The next seq of `scope` in this group (the committed latest, plus this group's).
  std::uint64_t nextScopeSeq(const Scope& scope, std::uint64_t committed) {
    auto [it, inserted] = scope_seqs_.try_emplace(scope, committed);
    return ++it->second;
  }
  const sync::proto::Checkpoints& scopeSeqs() const { return scope_seqs_; }

 private:
  const storage::Store& store_;
  std::map<std::string, StoredRecord> records_;
  std::map<std::string, ChangeResult> results_;
  std::set<std::string> conflicts_;
  std::map<sync::DeviceId, sync::StampClamp> clamps_;
  sync::proto::Checkpoints scope_seqs_;
};

// Clamps every stamp of `change` that runs ahead of the ceiling; true if any was clamped.
bool clampChange(sync::Change& change, sync::StampClamp& clamp, std::int64_t ceiling_ms) {
  bool any = false;
  auto one = [&](sync::Stamp& s) {
    bool clamped = false;
    s = clamp.clamp(s, ceiling_ms, &clamped);
    any |= clamped;
  };
  for (auto& a : change.assignments) one(a.stamp);
  if (change.deletion) one(change.deletion->stamp);
  return any;
}

}  // namespace

Result<std::unique_ptr<ServerStore>> ServerStore::open(storage::Store& store) {
  std::unique_ptr<ServerStore> out(new ServerStore(store));
  auto raw = store.get(Column::kMeta, kLastSeqKey);
  if (!raw) return raw.status();
  if (raw->has_value()) {
    auto seq = storage::readUint64(**raw);
    if (!seq) return Status::error(ErrorCode::kCorruption, "the stored last sequence number is malformed");
    out->last_seq_.store(*seq);
  }
  CS_RETURN_IF_ERROR(out->loadScopeSeqs());
  return out;
}

Status ServerStore::loadScopeSeqs() {
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
  std::lock_guard lock(scope_mutex_);
  scope_seq_ = std::move(seqs);
  return Status::ok();
}

std::vector<Scope> ServerStore::scopes() const {
  std::lock_guard lock(scope_mutex_);
  std::vector<Scope> out;
  for (const auto& [scope, seq] : scope_seq_) out.push_back(scope);
  return out;
}

sync::proto::Checkpoints ServerStore::latest(const std::vector<Scope>& scopes) const {
  sync::proto::Checkpoints out;
  std::lock_guard lock(scope_mutex_);
  for (const auto& scope : scopes) {
    if (auto it = scope_seq_.find(scope); it != scope_seq_.end()) out.emplace(scope, it->second);
  }
  return out;
}

// ---- push ----

Status ServerStore::apply(std::vector<PushJob*>& jobs, std::int64_t now_ms, sync::proto::Checkpoints& touched) {
  GroupOverlay overlay(store_);
  FileGroup files(store_, file_limits_, now_ms);
  HistoryGroup history(store_, now_ms);
  storage::WriteBatch batch;
  std::uint64_t seq = lastSeq();
  const std::int64_t ceiling = now_ms + std::chrono::milliseconds(sync::tuning::kMaxStampAhead).count();
  auto committedScopeSeq = [this](const Scope& scope) {
    std::lock_guard lock(scope_mutex_);
    auto it = scope_seq_.find(scope);
    return it == scope_seq_.end() ? std::uint64_t{0} : it->second;
  };

  // Applies one change of `job` and keeps its result in the job (a store error stops the group).
  std::function<Status(PushJob&, sync::Change&)> applyOne;
  // The server's change reopening the review of the record `change` edited, if it was approved or
  // needed edits.
  auto reopenReview = [&](const sync::Change& change) -> Status {
    if (change.key.collection.empty() || change.key.collection.front() == '_') return Status::ok();
    const auto review_key =
        sync::recordStorageKey({std::string(sync::kReviewsCollection), sync::reviewRecordId(change.key)});
    auto current = overlay.record(review_key);
    if (!current) return current.status();
    if (!current->has_value()) return Status::ok();
    auto review = sync::reviewOf((*current)->record);
    if (!review || (review->state != sync::ReviewState::kApproved && review->state != sync::ReviewState::kNeedsEdits)) {
      return Status::ok();
    }
    auto id = history.nextServerChangeId(batch);
    if (!id) return id.status();
    sync::Review reopened{change.key, sync::ReviewState::kReceived, review->comment, "server", now_ms};
    PushJob server_job;
    server_job.server = true;
    server_job.user = "server";
    auto reopen = sync::reviewChange(reopened, change.scope, (*current)->record, *id, now_ms);
    return applyOne(server_job, reopen);
  };
  applyOne = [&](PushJob& job, sync::Change& change) -> Status {
    if (job.resolution || job.server_numbered) {
      auto id = history.nextServerChangeId(batch);
      if (!id) return id.status();
      change.id = *id;
    }
    const auto idem_key = idempotencyKey(change.id);
    // Every result, accepted or rejected, is kept: a replay gets it again.
    auto keepResult = [&](ChangeResult result) {
      batch.put(Column::kIdempotency, idem_key, sync::encode(result));
      overlay.putResult(idem_key, result);
      job.results.push_back(std::move(result));
    };
    auto previous = overlay.result(idem_key);
    if (!previous) return previous.status();
    if (previous->has_value()) {  // a replay: its first result, nothing applied again
      job.results.push_back(**previous);
      return Status::ok();
    }
    ChangeResult result;
    result.id = change.id;
    auto allowed = job.server   ? Status::ok()
                   : job.access ? job.access->mayWrite(change.scope, change.key.collection)
                                : Status::error(ErrorCode::kForbidden, "no access");
    if (allowed && forms_ != nullptr) allowed = forms_->pin(change);
    if (allowed && job.resolution) {
      auto open = conflict(job.resolution->conflict_id);
      if (!open) return open.status();
      if (!open->has_value() || (*open)->status != sync::ConflictStatus::kOpen) {
        allowed = Status::error(ErrorCode::kInvalidArgument, "conflict " + job.resolution->conflict_id +
                                                                 " is not open (settled already, or unknown)");
      }
    }
    if (!allowed) {
      result = rejected(change.id, allowed.code(), allowed.message());
    } else {
      const auto key = sync::recordStorageKey(change.key);
      auto current = overlay.record(key);
      if (!current) return current.status();
      if (current->has_value() && (*current)->record.scope != change.scope) {
        result = rejected(change.id, ErrorCode::kInvalidArgument,
                          "record " + change.key.collection + "/" + change.key.id +
                              " already exists in another unit; a record cannot move between units");
      } else {
        auto clamp = overlay.clampFor(change.id.device);
        if (!clamp) return clamp.status();
        result.clamped = clampChange(change, **clamp, ceiling);

        std::optional<sync::Record> before;
        std::uint64_t old_seq = 0;
        if (current->has_value()) {
          before = std::move((*current)->record);
          old_seq = (*current)->seq;
        }
        const auto refs_before = before ? sync::fileRefs(*before) : std::set<std::string>();
        auto merged = sync::merge(before, change, now_ms);
        // The record as this change leaves it must fit its form: else the change is refused alone.
        if (auto fits = forms_ != nullptr ? forms_->check(merged.record) : Status::ok(); !fits) {
          keepResult(rejected(change.id, fits.code(), fits.message()));
          return Status::ok();
        }
        const auto scope_seq_now = overlay.scopeSeqs().count(change.scope) != 0 ? overlay.scopeSeqs().at(change.scope)
                                                                                : committedScopeSeq(change.scope);
        StoredRecord stored{std::move(merged.record), scope_seq_now + 1};
        std::string encoded = sync::encode(stored);
        if (encoded.size() > sync::tuning::kMaxRecordBytes) {
          result = rejected(change.id, ErrorCode::kLimitExceeded,
                            "record " + change.key.collection + "/" + change.key.id + " would grow to " +
                                std::to_string(encoded.size()) + " bytes; the limit is " +
                                std::to_string(sync::tuning::kMaxRecordBytes));
          keepResult(std::move(result));
          return Status::ok();
        }
        ++seq;
        const auto scope_seq = overlay.nextScopeSeq(change.scope, scope_seq_now);
        result.outcome = Outcome::kAccepted;
        result.server_seq = scope_seq;
        batch.put(Column::kLog, sync::seqStorageKey(seq), sync::encode(change));
        history.accepted(batch, seq, job.user, change);
        // Every accepted change moves its record to the head of the scope index, even one whose
        // writes all lost: the pushing device then pulls the record and drops its local overlay.
        if (old_seq != 0) batch.erase(Column::kScopeIndex, scopeIndexKey(change.scope, old_seq));
        batch.put(Column::kScopeIndex, scopeIndexKey(change.scope, scope_seq), key);
        batch.put(Column::kRecords, key, encoded);
        FileGroup::updateRefs(batch, change.scope, change.key, refs_before, sync::fileRefs(stored.record));
        overlay.putRecord(key, std::move(stored));
        for (auto& conflict : merged.conflicts) {
          const auto id = conflict.id();
          auto known = overlay.conflictKnown(id);
          if (!known) return known.status();
          if (*known) continue;
          batch.put(Column::kConflicts, conflictScopeKey(change.scope, scope_seq, id), sync::encode(conflict));
          batch.put(Column::kConflicts, "i" + id, conflictWhere(change.scope, scope_seq));
          FileGroup::addConflictRefs(batch, conflict);
          CS_RETURN_IF_ERROR(history.authors(batch, conflict, change, job.user));
          overlay.addConflict(id);
        }
        if (job.resolution) CS_RETURN_IF_ERROR(history.resolve(batch, *job.resolution, change, scope_seq));
        // A device's edit of a record that was approved, or that needed edits, reopens its review.
        if (!job.server) CS_RETURN_IF_ERROR(reopenReview(change));
      }
    }
    keepResult(std::move(result));
    return Status::ok();
  };

  for (PushJob* job : jobs) {
    job->acks.clear();
    for (const auto& piece : job->pieces) {
      auto ack = files.applyPiece(batch, job->device, piece);
      if (!ack) return ack.status();
      job->acks.push_back(std::move(ack).value());
    }
    job->results.clear();
    job->results.reserve(job->changes.size());
    for (sync::Change& change : job->changes) CS_RETURN_IF_ERROR(applyOne(*job, change));
  }

  for (const auto& [device, clamp] : overlay.clamps()) {
    if (clamp.last().isZero()) continue;
    batch.put(Column::kDevices, clampKey(device), sync::encode(clamp.last()));
  }
  files.writeTo(batch);
  if (seq == lastSeq() && batch.empty()) return Status::ok();
  batch.put(Column::kMeta, kLastSeqKey, sync::seqStorageKey(seq));
  for (const auto& [scope, scope_seq] : overlay.scopeSeqs()) {
    batch.put(Column::kMeta, scopeSeqKey(scope), sync::seqStorageKey(scope_seq));
  }
  // THE durability boundary of the server: nothing of this group is acknowledged before this returns.
  auto status = store_.commit(batch, storage::Durability::kSynced);
  if (!status) {
    for (PushJob* job : jobs) {
      job->results.clear();
      job->acks.clear();
    }
    return status;
  }
  last_seq_.store(seq, std::memory_order_release);
  {
    std::lock_guard lock(scope_mutex_);
    for (const auto& [scope, scope_seq] : overlay.scopeSeqs()) scope_seq_[scope] = scope_seq;
  }
  for (const auto& [scope, scope_seq] : overlay.scopeSeqs()) touched[scope] = scope_seq;
  // Files that became whole count as present only once their hash is checked (a second commit).
  return files.finish(jobs);
}

Result<std::optional<ChangeResult>> ServerStore::previousResult(const sync::ChangeId& id) const {
  return sync::readDecoded<ChangeResult>(store_, Column::kIdempotency, idempotencyKey(id));
}

// ---- pull ----

Result<sync::proto::PullBatch> ServerStore::pull(const std::vector<Scope>& readable,
                                                 const sync::proto::Checkpoints& checkpoints,
                                                 std::uint64_t max_bytes) const {
  auto snapshot = store_.snapshot();
  sync::proto::PullBatch batch;
  std::uint64_t bytes = 0;
  for (const auto& scope : readable) {
    auto cp_it = checkpoints.find(scope);
    const std::uint64_t from = cp_it == checkpoints.end() ? 0 : cp_it->second;
    if (bytes >= max_bytes) {
      batch.more = true;
      break;
    }
    // The highest index entry of a scope is its latest seq (the record changed last sits there),
    // so the checkpoint only ever names seqs of this scope: nothing about other scopes shows.
    std::uint64_t reached = from;
    bool full = false;
    auto cursor =
        store_.scan(Column::kScopeIndex, scopeIndexKey(scope, from + 1), scopeIndexKey(scope, UINT64_MAX), &snapshot);
    for (; cursor.valid(); cursor.next()) {
      if (bytes >= max_bytes) {
        full = true;
        batch.more = true;
        break;
      }
      const auto seq = storage::readUint64(cursor.key(), cursor.key().size() - 8).value_or(0);
      auto stored = sync::readDecoded<StoredRecord>(store_, Column::kRecords, cursor.value(), &snapshot);
      if (!stored) return stored.status();
      if (!stored->has_value()) {
        return Status::error(ErrorCode::kCorruption, "the scope index points at a missing record");
      }
      bytes += sync::encode((*stored)->record).size();
      batch.records.push_back(std::move((*stored)->record));
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
