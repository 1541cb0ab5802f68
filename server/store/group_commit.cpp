#include "store/group_commit.hpp"

#include <algorithm>

#include "base/tuning.hpp"
#include "communesync/sync/file_ref.hpp"
#include "communesync/sync/hybrid_clock.hpp"
#include "communesync/sync/merge.hpp"
#include "communesync/sync/review.hpp"
#include "communesync/sync/stored.hpp"
#include "communesync/sync/tuning.hpp"
#include "store/store_keys.hpp"

namespace communesync::server {
namespace {

using storage::Column;
using sync::proto::ChangeResult;
using sync::proto::Outcome;

ChangeResult rejected(const sync::ChangeId& id, ErrorCode code, std::string reason) {
  ChangeResult r;
  r.id = id;
  r.outcome = Outcome::kRejected;
  r.code = static_cast<std::uint16_t>(code);
  r.reason = std::move(reason);
  return r;
}

ChangeResult rejected(const sync::ChangeId& id, const Status& why) {
  return rejected(id, why.code(), why.message());
}

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

// A device's push: its changes carry the device's own ids (the server's own changes, resolutions and
// reviews are numbered by the server, and no device acknowledges them).
bool numberedByDevice(const PushJob& job) {
  return !job.server && !job.resolution && !job.server_numbered;
}

// The edit was made on a copy of the record the device held (it had seen a field or a deletion).
bool editsAHeldCopy(const sync::Change& change) {
  if (!change.seen_tombstone.isZero()) return true;
  return std::any_of(change.assignments.begin(), change.assignments.end(),
                     [](const sync::FieldAssignment& a) { return !a.seen.isZero(); });
}

std::string recordName(const sync::RecordKey& key) {
  return key.collection + "/" + key.id;
}

}  // namespace

GroupCommit::GroupCommit(ServerStore& store, std::int64_t now_ms)
    : store_(store),
      db_(store.store_),
      now_ms_(now_ms),
      ceiling_ms_(now_ms + std::chrono::milliseconds(sync::tuning::kMaxStampAhead).count()),
      files_(store.store_, store.file_limits_, now_ms),
      history_(store.store_, now_ms),
      views_(
          store.store_,
          [this](const std::string& key) -> Result<std::optional<sync::Record>> {
            auto stored = record(key);
            if (!stored) return stored.status();
            if (!stored->has_value()) return std::optional<sync::Record>();
            return std::optional<sync::Record>((*stored)->record);
          },
          [&store](const std::string& key) -> Result<std::optional<std::string>> {
            // Another server may have moved a counter since this one cached it: on a shared store
            // the group reads it from the store (under the writer lock, so it is exact).
            if (!store.store_.local()) return store.store_.get(storage::Column::kViews, key);
            return store.counts_.get(key);
          }),
      log_seq_(store.lastSeq()) {}

// ---- the group's own state, read before the store ----

Status GroupCommit::prefetch(const std::vector<PushJob*>& jobs) {
  std::vector<std::string> keys;
  for (const PushJob* job : jobs) {
    for (const auto& change : job->changes) keys.push_back(sync::recordStorageKey(change.key));
  }
  std::sort(keys.begin(), keys.end());
  keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
  auto values = db_.multiGet(Column::kRecords, keys);
  if (!values) return values.status();
  for (std::size_t i = 0; i < keys.size(); ++i) prefetched_.emplace(std::move(keys[i]), std::move((*values)[i]));
  return Status::ok();
}

Result<std::optional<StoredRecord>> GroupCommit::record(const std::string& key) {
  if (auto it = records_.find(key); it != records_.end()) return std::optional<StoredRecord>(it->second);
  if (auto it = prefetched_.find(key); it != prefetched_.end()) {
    return sync::decodeStored<StoredRecord>(Column::kRecords, it->second);
  }
  return sync::readDecoded<StoredRecord>(db_, Column::kRecords, key);
}

// Idempotency without a read per change: a result is stored for every change applied, keyed by
// (device, seq), so a change whose seq is above the greatest stored for its device has never been
// applied, whatever order pushes arrived in (a device's other connection, a retry after a cut).
// That greatest seq costs one backward seek per device per group; only a change at or below it (a
// replay, or one overtaken by a later push) is looked up.
Result<std::optional<ChangeResult>> GroupCommit::previousResult(const sync::ChangeId& id) {
  const auto key = idempotencyKey(id);
  if (auto it = results_.find(key); it != results_.end()) return std::optional<ChangeResult>(it->second);
  auto seen = max_seen_.find(id.device);
  if (seen == max_seen_.end()) {
    auto last = db_.lastKey(Column::kIdempotency, id.device.raw());
    if (!last) return last.status();
    const auto max = last->has_value() ? storage::readUint64(**last, id.device.raw().size()).value_or(0) : 0;
    seen = max_seen_.emplace(id.device, max).first;
  }
  if (id.seq > seen->second) return std::optional<ChangeResult>();
  return sync::readDecoded<ChangeResult>(db_, Column::kIdempotency, key);
}

Result<bool> GroupCommit::conflictKnown(const std::string& id) {
  if (conflicts_.count(id) != 0) return true;
  auto raw = db_.get(Column::kConflicts, "i" + id);
  if (!raw) return raw.status();
  return raw->has_value();
}

Result<sync::StampClamp*> GroupCommit::clampFor(const sync::DeviceId& device) {
  if (auto it = clamps_.find(device); it != clamps_.end()) return &it->second;
  auto last = sync::readDecoded<sync::Stamp>(db_, Column::kDevices, clampKey(device));
  if (!last) return last.status();
  auto& clamp = clamps_[device];
  if (last->has_value()) {
    clamp = sync::StampClamp(**last);
  } else {  // stores of the sync issue kept it in the device's state
    auto state = sync::readDecoded<DeviceState>(db_, Column::kDevices, deviceKey(device));
    if (!state) return state.status();
    if (state->has_value()) clamp = sync::StampClamp((*state)->last_clamped);
  }
  return &clamp;
}

Result<std::uint64_t> GroupCommit::acknowledgedBelow(const sync::DeviceId& device) {
  if (auto it = acknowledged_.find(device); it != acknowledged_.end()) return it->second;
  auto raw = db_.get(Column::kDevices, acknowledgedKey(device));
  if (!raw) return raw.status();
  const std::uint64_t mark = raw->has_value() ? storage::readUint64(**raw, 0).value_or(0) : 0;
  acknowledged_.emplace(device, mark);
  return mark;
}

std::uint64_t GroupCommit::scopeSeq(const Scope& scope) const {
  if (auto it = scope_seqs_.find(scope); it != scope_seqs_.end()) return it->second;
  return store_.committedScopeSeq(scope);
}

void GroupCommit::keep(PushJob& job, ChangeResult result) {
  const auto key = idempotencyKey(result.id);
  batch_.put(Column::kIdempotency, key, sync::encode(result));
  // (A device not yet looked up is read from the store when first asked; this group's own results
  // are found in results_ first.)
  if (auto seen = max_seen_.find(result.id.device); seen != max_seen_.end()) {
    seen->second = std::max(seen->second, result.id.seq);
  }
  results_[key] = result;
  job.results.push_back(std::move(result));
}

// ---- one push ----

// 0. forget: a result is kept only to answer a replay, and the device says it will never replay a
// change below its acknowledged_below, so those results go (retention: docs/architecture.md). The
// erasing starts at the device's previous mark (the ones below it went then) and is bounded per
// push; the mark stored is where it stopped, never past what the device said.
Status GroupCommit::forgetAcknowledged(const PushJob& job) {
  if (job.acknowledged_below == 0 || job.device.isNil() || !numberedByDevice(job)) return Status::ok();
  auto known = acknowledgedBelow(job.device);
  if (!known) return known.status();
  if (*known >= job.acknowledged_below) return Status::ok();
  auto mark = job.acknowledged_below;
  std::size_t erased = 0;
  auto cursor = db_.scan(Column::kIdempotency, idempotencyKey({job.device, *known}),
                         idempotencyKey({job.device, job.acknowledged_below}));
  for (; cursor.valid(); cursor.next()) {
    if (erased == tuning::kMaxResultsForgottenPerPush) {
      mark = storage::readUint64(cursor.key(), job.device.raw().size()).value_or(*known);
      break;
    }
    batch_.erase(Column::kIdempotency, cursor.key());
    ++erased;
  }
  CS_RETURN_IF_ERROR(cursor.status());
  std::string value;
  storage::appendUint64(value, mark);
  batch_.put(Column::kDevices, acknowledgedKey(job.device), value);
  acknowledged_[job.device] = mark;
  return Status::ok();
}

Status GroupCommit::add(PushJob& job) {
  CS_RETURN_IF_ERROR(forgetAcknowledged(job));
  job.acks.clear();
  for (const auto& piece : job.pieces) {
    auto ack = files_.applyPiece(batch_, job.user, piece);
    if (!ack) return ack.status();
    job.acks.push_back(std::move(ack).value());
  }
  job.results.clear();
  job.results.reserve(job.changes.size());
  for (sync::Change& change : job.changes) CS_RETURN_IF_ERROR(applyChange(job, change));
  return Status::ok();
}

Status GroupCommit::applyChange(PushJob& job, sync::Change& change) {
  // 1. number
  if (job.resolution || job.server_numbered) CS_RETURN_IF_ERROR(number(change));
  // 2. replay: its first result, nothing applied again
  auto previous = previousResult(change.id);
  if (!previous) return previous.status();
  if (previous->has_value()) {
    job.results.push_back(**previous);
    return Status::ok();
  }
  if (numberedByDevice(job)) {
    auto mark = acknowledgedBelow(change.id.device);
    if (!mark) return mark.status();
    if (change.id.seq < *mark) {  // not kept: nothing is stored below the mark
      job.results.push_back(rejected(change.id, ErrorCode::kInvalidArgument,
                                     "change " + std::to_string(change.id.seq) +
                                         " is below what this device said it had acknowledged (" +
                                         std::to_string(*mark) + "); it is not applied again"));
      return Status::ok();
    }
  }
  // 3. authorise, 4. pin the form
  const auto form_version_sent = change.form_version;
  Status refusal;
  CS_RETURN_IF_ERROR(authorise(job, change, refusal));
  if (!refusal) {
    keep(job, rejected(change.id, refusal));
    return Status::ok();
  }
  // 5. same unit
  const auto key = sync::recordStorageKey(change.key);
  auto current = record(key);
  if (!current) return current.status();
  if (current->has_value() && (*current)->record.scope != change.scope) {
    // Said without naming the other unit, or that there is one: the pusher may not read it.
    keep(job, rejected(change.id, ErrorCode::kInvalidArgument,
                       "record " + recordName(change.key) + " cannot be written in unit " + change.scope +
                           ": its id is taken; a new record needs a new id"));
    return Status::ok();
  }
  // 5b. an edit of a copy the server no longer holds: the record was deleted and its tombstone
  // purged (ServerStore::purgeTombstones). Merging it would bring back a record of this edit's
  // fields alone, against a deletion it may never have seen; it is refused, and the device keeps
  // it for the user to make again.
  if (!current->has_value() && !job.restore && editsAHeldCopy(change) && store_.purgeHorizon(change.scope) > 0) {
    keep(job, rejected(change.id, ErrorCode::kRejected,
                       "record " + recordName(change.key) +
                           " was deleted long ago and the server no longer keeps it; this edit is not applied. "
                           "Bản ghi đã bị xoá từ lâu; hãy nhập lại nếu vẫn cần."));
    return Status::ok();
  }
  // 6. clamp
  ChangeResult result;
  result.id = change.id;
  auto clamp = clampFor(change.id.device);
  if (!clamp) return clamp.status();
  result.clamped = clampChange(change, **clamp, ceiling_ms_);
  // 7. merge; the record as this change leaves it must fit its form and the size limit, else the
  // change is refused alone
  std::optional<sync::Record> before;
  std::uint64_t old_seq = 0;
  if (current->has_value()) {
    before = std::move((*current)->record);
    old_seq = (*current)->seq;
  }
  const auto refs_before = before ? sync::fileRefs(*before) : std::set<std::string>();
  auto merged = sync::merge(before, change, now_ms_);
  if (auto fits = store_.forms_ != nullptr ? store_.forms_->check(merged.record) : Status::ok(); !fits) {
    keep(job, rejected(change.id, fits));
    return Status::ok();
  }
  const auto scope_seq = scopeSeq(change.scope) + 1;
  StoredRecord stored{std::move(merged.record), scope_seq};
  std::string encoded = sync::encode(stored);
  if (encoded.size() > sync::tuning::kMaxRecordBytes) {
    keep(job, rejected(change.id, ErrorCode::kLimitExceeded,
                       "record " + recordName(change.key) + " would grow to " + std::to_string(encoded.size()) +
                           " bytes; the limit is " + std::to_string(sync::tuning::kMaxRecordBytes)));
    return Status::ok();
  }
  // 8. log, index, record, history, file references. The device can work out the record itself
  // when this change made it as sent (exact): it is told so, and its pulls step over the entry.
  result.exact =
      numberedByDevice(job) && !job.restore && !before && !result.clamped && change.form_version == form_version_sent;
  if (result.exact) result.receive_time_ms = now_ms_;
  CS_RETURN_IF_ERROR(log(job, change, key, std::move(stored), encoded, old_seq, refs_before, scope_seq,
                         result.exact ? &change.id.device : nullptr));
  if (store_.keep_views_)
    CS_RETURN_IF_ERROR(views_.recordChanged(batch_, key, before, records_.at(key).record, now_ms_));
  result.outcome = Outcome::kAccepted;
  result.server_seq = scope_seq;
  // 9. conflicts
  CS_RETURN_IF_ERROR(recordConflicts(job, change, merged.conflicts, scope_seq));
  // 10. settle
  if (job.resolution) {
    auto settled = history_.resolve(batch_, *job.resolution, change, scope_seq);
    if (!settled) return settled.status();
    views_.conflictSettled(batch_, *settled);
  }
  // 11. reopen
  if (!job.server) CS_RETURN_IF_ERROR(reopenReview(change));
  keep(job, std::move(result));
  return Status::ok();
}

Status GroupCommit::number(sync::Change& change) {
  auto id = history_.nextServerChangeId(batch_);
  if (!id) return id.status();
  change.id = *id;
  return Status::ok();
}

// Steps 3 and 4: sets `refusal` when the change may not be applied; the return is a store error.
Status GroupCommit::authorise(const PushJob& job, sync::Change& change, Status& refusal) {
  if (!job.server) {
    refusal = job.access ? job.access->mayWrite(change.scope, change.key.collection)
                         : Status::error(ErrorCode::kForbidden, "no access");
    if (!refusal) return Status::ok();
  }
  if (store_.forms_ != nullptr) {
    refusal = store_.forms_->pin(change);
    if (!refusal) return Status::ok();
  }
  if (job.resolution) {
    auto open = store_.conflict(job.resolution->conflict_id);
    if (!open) return open.status();
    if (!open->has_value() || (*open)->status != sync::ConflictStatus::kOpen) {
      refusal = Status::error(ErrorCode::kInvalidArgument,
                              "conflict " + job.resolution->conflict_id + " is not open (settled already, or unknown)");
    }
  }
  return Status::ok();
}

Status GroupCommit::log(PushJob& job, const sync::Change& change, const std::string& key, StoredRecord stored,
                        const std::string& encoded, std::uint64_t old_seq, const std::set<std::string>& refs_before,
                        std::uint64_t scope_seq, const sync::DeviceId* exact_for) {
  ++log_seq_;
  scope_seqs_[change.scope] = scope_seq;
  batch_.put(Column::kLog, sync::seqStorageKey(log_seq_), sync::encode(change));
  history_.accepted(batch_, log_seq_, job.user, change);
  // Every accepted change moves its record to the head of the scope index, even one whose writes
  // all lost: the pushing device then pulls the record and drops its local overlay, unless the
  // entry names it (it holds the record already: an exact result).
  if (old_seq != 0) batch_.erase(Column::kScopeIndex, scopeIndexKey(change.scope, old_seq));
  batch_.put(Column::kScopeIndex, scopeIndexKey(change.scope, scope_seq), scopeIndexValue(key, exact_for));
  batch_.put(Column::kRecords, key, encoded);
  CS_RETURN_IF_ERROR(files_.updateRefs(batch_, change.scope, change.key, refs_before, sync::fileRefs(stored.record)));
  records_[key] = std::move(stored);
  return Status::ok();
}

Status GroupCommit::recordConflicts(const PushJob& job, const sync::Change& change,
                                    std::vector<sync::Conflict>& conflicts, std::uint64_t scope_seq) {
  for (auto& conflict : conflicts) {
    const auto id = conflict.id();
    auto known = conflictKnown(id);
    if (!known) return known.status();
    if (*known) continue;  // found again in another delivery order: harmless, kept once
    batch_.put(Column::kConflicts, conflictScopeKey(change.scope, scope_seq, id), sync::encode(conflict));
    batch_.put(Column::kConflicts, "i" + id, conflictWhere(change.scope, scope_seq));
    CS_RETURN_IF_ERROR(files_.addConflictRefs(batch_, conflict));
    CS_RETURN_IF_ERROR(history_.authors(batch_, conflict, change, job.user));
    views_.conflictOpened(batch_, conflict);
    conflicts_.insert(id);
  }
  return Status::ok();
}

// The server's change reopening the review of the record `change` edited, if it was approved or
// needed edits: applied in this group like any change, as the server's.
Status GroupCommit::reopenReview(const sync::Change& change) {
  if (change.key.collection.empty() || change.key.collection.front() == '_') return Status::ok();
  const auto review_key =
      sync::recordStorageKey({std::string(sync::kReviewsCollection), sync::reviewRecordId(change.key)});
  auto current = record(review_key);
  if (!current) return current.status();
  if (!current->has_value()) return Status::ok();
  auto review = sync::reviewOf((*current)->record);
  if (!review || (review->state != sync::ReviewState::kApproved && review->state != sync::ReviewState::kNeedsEdits)) {
    return Status::ok();
  }
  auto id = history_.nextServerChangeId(batch_);
  if (!id) return id.status();
  sync::Review reopened{change.key, sync::ReviewState::kReceived, review->comment, "server", now_ms_};
  PushJob server_job;
  server_job.server = true;
  server_job.user = "server";
  // Kept by the group: the history refers to every change applied in it until the group ends.
  auto& reopen =
      server_changes_.emplace_back(sync::reviewChange(reopened, change.scope, (*current)->record, *id, now_ms_));
  return applyChange(server_job, reopen);
}

// ---- the end of the group ----

Result<storage::WriteBatch*> GroupCommit::finish() {
  CS_RETURN_IF_ERROR(views_.writeTo(batch_));
  for (const auto& [device, clamp] : clamps_) {
    if (clamp.last().isZero()) continue;
    batch_.put(Column::kDevices, clampKey(device), sync::encode(clamp.last()));
  }
  files_.writeTo(batch_);
  if (log_seq_ == store_.lastSeq() && batch_.empty()) return &batch_;
  batch_.put(Column::kMeta, kLastSeqKey, sync::seqStorageKey(log_seq_));
  for (const auto& [scope, scope_seq] : scope_seqs_) {
    batch_.put(Column::kMeta, scopeSeqKey(scope), sync::seqStorageKey(scope_seq));
  }
  // The other servers on the store hear of it when (and only if) it commits.
  if (!db_.local()) {
    for (auto& text : commitNotices({log_seq_, scope_seqs_})) batch_.notice(std::move(text));
  }
  return &batch_;
}

Status GroupCommit::committed(std::vector<PushJob*>& jobs, sync::proto::Checkpoints& touched) {
  store_.last_seq_.store(log_seq_, std::memory_order_release);
  store_.synced_seq_ = log_seq_;
  {
    std::lock_guard lock(store_.scope_mutex_);
    for (const auto& [scope, scope_seq] : scope_seqs_) store_.scope_seq_[scope] = scope_seq;
  }
  for (const auto& [scope, scope_seq] : scope_seqs_) touched[scope] = scope_seq;
  store_.counts_.apply(views_.written());
  // Files that became whole count as present only once their hash is checked (a second commit).
  return files_.finish(jobs);
}

}  // namespace communesync::server
