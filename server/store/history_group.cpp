#include "store/history_group.hpp"

#include "store/form_catalog.hpp"
#include "store/store_keys.hpp"
#include "store/stored_types.hpp"

namespace communesync::server {
namespace {

using storage::Column;

constexpr std::string_view kResolutionsKey = "resolutions";

}  // namespace

bool wrote(const sync::Change& change, const std::string& field, const sync::Stamp& stamp) {
  if (change.deletion && change.deletion->stamp == stamp) return true;
  for (const auto& a : change.assignments) {
    if (a.stamp == stamp && (field.empty() || a.field == field)) return true;
  }
  return false;
}

Result<sync::ChangeId> HistoryGroup::nextServerChangeId(storage::WriteBatch& batch) {
  if (!resolutions_) {
    auto raw = store_.get(Column::kMeta, kResolutionsKey);
    if (!raw) return raw.status();
    resolutions_ = raw->has_value() ? storage::readUint64(**raw).value_or(0) : 0;
  }
  ++*resolutions_;
  batch.put(Column::kMeta, kResolutionsKey, sync::seqStorageKey(*resolutions_));
  return sync::ChangeId{reconcilerDeviceId(), *resolutions_};
}

void HistoryGroup::accepted(storage::WriteBatch& batch, std::uint64_t log_seq, const std::string& user,
                            const sync::Change& change) {
  batch.put(Column::kHistory, historyKey(change.key, log_seq), sync::encode(HistoryMeta{now_ms_, user}));
  group_[sync::recordStorageKey(change.key)].push_back(Accepted{log_seq, user, &change});
}

Result<std::optional<HistoryEntry>> HistoryGroup::findWrite(const sync::RecordKey& key, const std::string& field,
                                                            const sync::Stamp& stamp) {
  const auto rkey = sync::recordStorageKey(key);
  if (auto it = group_.find(rkey); it != group_.end()) {
    for (const auto& entry : it->second) {
      if (wrote(*entry.change, field, stamp)) {
        return std::optional<HistoryEntry>(HistoryEntry{entry.log_seq, now_ms_, entry.user, *entry.change});
      }
    }
  }
  auto cursor = store_.scanPrefix(Column::kHistory, rkey);
  for (; cursor.valid(); cursor.next()) {
    const auto seq = storage::readUint64(cursor.key(), cursor.key().size() - 8).value_or(0);
    auto change = sync::readDecoded<sync::Change>(store_, Column::kLog, sync::seqStorageKey(seq));
    if (!change) return change.status();
    if (!change->has_value() || !wrote(**change, field, stamp)) continue;
    auto meta = sync::decode<HistoryMeta>(cursor.value());
    if (!meta) return Status::error(ErrorCode::kCorruption, "a history entry does not decode");
    return std::optional<HistoryEntry>(HistoryEntry{seq, meta->receive_ms, meta->user, std::move(**change)});
  }
  CS_RETURN_IF_ERROR(cursor.status());
  return std::optional<HistoryEntry>();
}

Status HistoryGroup::authors(storage::WriteBatch& batch, const sync::Conflict& conflict, const sync::Change& change,
                             const std::string& user) {
  ConflictAuthors out;
  std::optional<sync::Change> lost_change;
  auto side = [&](const sync::ConflictSide& s, std::string& who, std::int64_t& received,
                  std::optional<sync::Change>* keep) -> Status {
    if (wrote(change, conflict.field, s.stamp)) {
      who = user;
      received = now_ms_;
      if (keep != nullptr) *keep = change;
      return Status::ok();
    }
    auto found = findWrite(conflict.key, conflict.field, s.stamp);
    if (!found) return found.status();
    if (found->has_value()) {
      who = (*found)->user;
      received = (*found)->receive_ms;
      if (keep != nullptr) *keep = std::move((*found)->change);
    }
    return Status::ok();
  };
  CS_RETURN_IF_ERROR(side(conflict.lost, out.lost_user, out.lost_received_ms, &lost_change));
  CS_RETURN_IF_ERROR(side(conflict.kept, out.kept_user, out.kept_received_ms, nullptr));
  // What the lost side's writer had seen of the field: the value both sides started from.
  if (lost_change && !conflict.field.empty()) {
    for (const auto& a : lost_change->assignments) {
      if (a.field != conflict.field || a.stamp != conflict.lost.stamp) continue;
      if (a.seen.isZero()) {
        out.agreed_known = true;  // the field was empty for the writer
        out.agreed = sync::ConflictSide{sync::Value(nullptr), a.seen};
        break;
      }
      auto seen = findWrite(conflict.key, conflict.field, a.seen);
      if (!seen) return seen.status();
      if (!seen->has_value()) break;
      for (const auto& b : (*seen)->change.assignments) {
        if (b.field == conflict.field && b.stamp == a.seen) {
          out.agreed_known = true;
          out.agreed = sync::ConflictSide{b.value, b.stamp};
        }
      }
      break;
    }
  }
  batch.put(Column::kConflicts, "a" + conflict.id(), sync::encode(out));
  return Status::ok();
}

Result<sync::Conflict> HistoryGroup::resolve(storage::WriteBatch& batch, const Resolution& resolution,
                                             const sync::Change& change, std::uint64_t scope_seq) {
  auto where = store_.get(Column::kConflicts, "i" + resolution.conflict_id);
  if (!where) return where.status();
  if (!where->has_value()) return Status::error(ErrorCode::kNotFound, "no conflict " + resolution.conflict_id);
  const std::string old_key = "s" + **where + resolution.conflict_id;
  auto conflict = sync::readDecoded<sync::Conflict>(store_, Column::kConflicts, old_key);
  if (!conflict) return conflict.status();
  if (!conflict->has_value()) return Status::error(ErrorCode::kNotFound, "no conflict " + resolution.conflict_id);
  auto& c = **conflict;
  c.status = sync::ConflictStatus::kResolved;
  c.resolved_by = resolution.by;
  c.resolved_ms = now_ms_;
  c.reason = resolution.reason;
  if (change.deletion) {
    c.resolution = sync::ConflictSide{std::nullopt, change.deletion->stamp};
  } else if (!change.assignments.empty()) {
    c.resolution = sync::ConflictSide{change.assignments.front().value, change.assignments.front().stamp};
  }
  batch.erase(Column::kConflicts, old_key);
  batch.put(Column::kConflicts, conflictScopeKey(c.scope, scope_seq, resolution.conflict_id), sync::encode(c));
  batch.put(Column::kConflicts, "i" + resolution.conflict_id, conflictWhere(c.scope, scope_seq));
  return c;
}

}  // namespace communesync::server
