// The merge's promises, checked from the outside: given every change applied (the history), the
// final records and the ids of the conflicts found, is anything wrong? Returns "" when all holds,
// else what broke. Used by the merge property test and the fault simulation.
//  - each field holds the value of its greatest stamp (a value never loses to an older stamp);
//  - each record's tombstone is its greatest delete;
//  - every write that is neither visible at the end nor seen by a later write is the lost side of
//    a conflict; a delete that a later edit undid without seeing it is in a conflict.
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "communesync/sync/change.hpp"
#include "communesync/sync/conflict.hpp"

namespace communesync::testing {

inline std::string conflictIdOf(const sync::RecordKey& key, const std::string& field, const sync::Stamp& lost) {
  sync::Conflict c;
  c.key = key;
  c.field = field;
  c.lost.stamp = lost;
  return c.id();
}

inline std::string checkMergeOracle(const std::vector<sync::Change>& history,
                                    const std::map<sync::RecordKey, sync::Record>& records,
                                    const std::set<std::string>& conflict_ids) {
  // Index the history by record.
  std::map<sync::RecordKey, std::vector<const sync::Change*>> by_key;
  for (const auto& c : history) by_key[c.key].push_back(&c);

  for (const auto& [key, changes] : by_key) {
    auto it = records.find(key);
    if (it == records.end()) return "record " + key.id + " is missing";
    const sync::Record& r = it->second;
    sync::Stamp max_delete;
    std::map<std::string, sync::Stamp> max_field;
    for (const auto* c : changes) {
      for (const auto& a : c->assignments) {
        if (a.stamp > max_field[a.field]) max_field[a.field] = a.stamp;
      }
      if (c->deletion && c->deletion->stamp > max_delete) max_delete = c->deletion->stamp;
    }
    for (const auto& [field, stamp] : max_field) {
      auto f = r.fields.find(field);
      if (f == r.fields.end() || f->second.stamp != stamp) {
        return "record " + key.id + "." + field + " does not hold its newest write " + stamp.toString();
      }
    }
    if (r.tombstone.stamp != max_delete) return "record " + key.id + " does not hold its newest delete";

    for (const auto* c : changes) {
      for (const auto& a : c->assignments) {
        const bool visible = !r.deleted() && r.fields.at(a.field).stamp == a.stamp;
        bool seen_later = false;
        for (const auto* other : changes) {
          for (const auto& b : other->assignments) seen_later |= b.field == a.field && b.seen == a.stamp;
          if (other->deletion) {
            auto s = other->deletion->seen.find(a.field);
            seen_later |= s != other->deletion->seen.end() && s->second == a.stamp;
          }
        }
        if (!visible && !seen_later && conflict_ids.count(conflictIdOf(key, a.field, a.stamp)) == 0) {
          return "write " + a.stamp.toString() + " to " + key.id + "." + a.field +
                 " lost to a concurrent write and is in no conflict";
        }
      }
    }
    if (!max_delete.isZero() && !r.deleted()) {
      bool seen = false;
      for (const auto* c : changes) seen |= c->seen_tombstone == max_delete;
      if (!seen && conflict_ids.count(conflictIdOf(key, "", max_delete)) == 0) {
        return "the delete of " + key.id + " lost to a concurrent edit and is in no conflict";
      }
    }
  }
  return "";
}

}  // namespace communesync::testing
