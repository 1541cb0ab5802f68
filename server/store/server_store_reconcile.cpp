// ServerStore's reconciliation reads: conflicts with their authors, records, and their history.
#include <algorithm>

#include "base/tuning.hpp"
#include "communesync/sync/review.hpp"
#include "store/server_store.hpp"
#include "store/store_keys.hpp"
#include "store/stored_types.hpp"

namespace communesync::server {
namespace {

using storage::Column;

}  // namespace

Result<std::optional<sync::Conflict>> ServerStore::conflict(const std::string& id) const {
  auto where = store_.get(Column::kConflicts, "i" + id);
  if (!where) return where.status();
  if (!where->has_value()) return std::optional<sync::Conflict>();
  return sync::readDecoded<sync::Conflict>(store_, Column::kConflicts, "s" + **where + id);
}

Result<ConflictAuthors> ServerStore::conflictAuthors(const std::string& id) const {
  auto authors = sync::readDecoded<ConflictAuthors>(store_, Column::kConflicts, "a" + id);
  if (!authors) return authors.status();
  return authors->value_or(ConflictAuthors{});
}

Result<ConflictPage> ServerStore::conflicts(const std::vector<Scope>& readable, const ConflictFilter& filter) const {
  std::vector<Scope> units;
  for (const auto& u : filter.units.empty() ? readable : filter.units) {
    if (std::binary_search(readable.begin(), readable.end(), u)) units.push_back(u);
  }
  std::sort(units.begin(), units.end());
  units.erase(std::unique(units.begin(), units.end()), units.end());
  if (filter.open_only) return openConflictPage(units, filter);
  if (!filter.after.empty()) {
    return Status::error(ErrorCode::kInvalidArgument, "only open conflicts page with after: ask with a limit");
  }
  auto snapshot = store_.snapshot();
  ConflictPage page;
  auto& out = page.conflicts;
  for (const auto& unit : units) {
    std::string prefix = "s";
    storage::appendPart(prefix, unit);
    auto cursor = store_.scanPrefix(Column::kConflicts, prefix, &snapshot);
    for (; cursor.valid(); cursor.next()) {
      auto c = sync::decode<sync::Conflict>(cursor.value());
      if (!c) return Status::error(ErrorCode::kCorruption, "a stored conflict does not decode");
      auto match = conflictMatches(*c, filter);
      if (!match) return match.status();
      if (*match) out.push_back(std::move(c).value());
    }
    CS_RETURN_IF_ERROR(cursor.status());
  }
  std::stable_sort(out.begin(), out.end(),
                   [](const sync::Conflict& a, const sync::Conflict& b) { return a.detected_ms > b.detected_ms; });
  if (out.size() > filter.limit) out.resize(filter.limit);
  return page;
}

Result<bool> ServerStore::conflictMatches(const sync::Conflict& c, const ConflictFilter& filter) const {
  if (filter.open_only && c.status != sync::ConflictStatus::kOpen) return false;
  if (!filter.collection.empty() && c.key.collection != filter.collection) return false;
  if (!filter.field.empty() && c.field != filter.field) return false;
  if (filter.detected_before_ms != 0 && c.detected_ms >= filter.detected_before_ms) return false;
  if (!filter.author.empty()) {
    auto authors = conflictAuthors(c.id());
    if (!authors) return authors.status();
    if (authors->lost_user != filter.author && authors->kept_user != filter.author) return false;
  }
  return true;
}

Result<std::optional<sync::Record>> ServerStore::record(const sync::RecordKey& key) const {
  auto stored = sync::readDecoded<StoredRecord>(store_, Column::kRecords, sync::recordStorageKey(key));
  if (!stored) return stored.status();
  if (!stored->has_value()) return std::optional<sync::Record>();
  return std::optional<sync::Record>(std::move((*stored)->record));
}

Status ServerStore::forEachLiveRecord(std::string_view collection, const std::vector<Scope>& units,
                                      const std::function<bool(const sync::Record&)>& fn) const {
  std::string prefix;
  if (!collection.empty()) storage::appendPart(prefix, collection);
  auto snapshot = store_.snapshot();
  auto cursor = store_.scanPrefix(Column::kRecords, prefix, &snapshot);
  for (; cursor.valid(); cursor.next()) {
    auto stored = sync::decode<StoredRecord>(cursor.value());
    if (!stored) return Status::error(ErrorCode::kCorruption, "a stored record does not decode");
    const auto& r = stored->record;
    // Every collection: the server's own ('_forms', '_reviews', '_grades') are left out; asked by name, they are read.
    const bool own = r.key.collection.empty() || r.key.collection.front() == '_';
    if ((own && collection.empty()) || r.deleted()) continue;
    if (!std::binary_search(units.begin(), units.end(), r.scope)) continue;
    if (!fn(r)) break;
  }
  return cursor.status();
}

Result<std::vector<HistoryEntry>> ServerStore::history(const sync::RecordKey& key) const {
  std::vector<HistoryEntry> out;
  auto snapshot = store_.snapshot();
  auto cursor = store_.scanPrefix(Column::kHistory, sync::recordStorageKey(key), &snapshot);
  for (; cursor.valid(); cursor.next()) {
    const auto seq = storage::readUint64(cursor.key(), cursor.key().size() - 8).value_or(0);
    auto meta = sync::decode<HistoryMeta>(cursor.value());
    if (!meta) return Status::error(ErrorCode::kCorruption, "a history entry does not decode");
    auto change = sync::readDecoded<sync::Change>(store_, Column::kLog, sync::seqStorageKey(seq), &snapshot);
    if (!change) return change.status();
    if (!change->has_value()) return Status::error(ErrorCode::kCorruption, "a history entry points at no change");
    out.push_back(HistoryEntry{seq, meta->receive_ms, meta->user, std::move(**change)});
  }
  CS_RETURN_IF_ERROR(cursor.status());
  return out;
}

}  // namespace communesync::server
