#include "communesync/sync/restore.hpp"

#include <map>

namespace communesync::sync {

std::vector<Change> restoreChanges(const Record& record) {
  std::vector<Change> out;
  // Forms and reviews are the server's own ('_' collections): no device may write them, and the
  // server publishes its forms again from its forms folder.
  if (record.key.collection.empty() || record.key.collection.front() == '_') return out;
  auto start = [&]() -> Change& {
    Change& change = out.emplace_back();
    change.key = record.key;
    change.scope = record.scope;
    change.form_version = record.form_version;
    change.capture_time_ms = record.capture_time_ms;
    return change;
  };
  std::map<Stamp, std::vector<const std::pair<const std::string, FieldState>*>> groups;
  for (const auto& field : record.fields) groups[field.second.seen_tombstone].push_back(&field);
  for (const auto& [seen_tombstone, fields] : groups) {
    Change& change = start();
    change.seen_tombstone = seen_tombstone;
    for (const auto* f : fields)
      change.assignments.push_back({f->first, f->second.value, f->second.stamp, f->second.seen});
  }
  if (!record.tombstone.stamp.isZero()) start().deletion = Deletion{record.tombstone.stamp, record.tombstone.seen};
  return out;
}

}  // namespace communesync::sync
