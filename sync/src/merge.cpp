#include "communesync/sync/merge.hpp"

#include <algorithm>

namespace communesync::sync {
namespace {

// Collects conflicts for one merge, each once.
class ConflictSink {
 public:
  ConflictSink(const Record& record, std::int64_t now_ms, std::vector<Conflict>& out)
      : record_(record), now_ms_(now_ms), out_(out) {}

  void add(std::string field, ConflictSide lost, ConflictSide kept) {
    Conflict c;
    c.key = record_.key;
    c.scope = record_.scope;
    c.field = std::move(field);
    c.lost = std::move(lost);
    c.kept = std::move(kept);
    c.detected_ms = now_ms_;
    auto same = [&](const Conflict& o) { return o.field == c.field && o.lost.stamp == c.lost.stamp; };
    if (std::none_of(out_.begin(), out_.end(), same)) out_.push_back(std::move(c));
  }

 private:
  const Record& record_;
  std::int64_t now_ms_;
  std::vector<Conflict>& out_;
};

ConflictSide deletionSide(const Stamp& stamp) {
  return ConflictSide{std::nullopt, stamp};
}
ConflictSide valueSide(const Value& value, const Stamp& stamp) {
  return ConflictSide{value, stamp};
}

Stamp seenIn(const std::map<std::string, Stamp, std::less<>>& seen, std::string_view field) {
  auto it = seen.find(field);
  return it == seen.end() ? Stamp{} : it->second;
}

void applyAssignments(Record& r, const Change& change, ConflictSink& conflicts, bool& changed) {
  const bool was_deleted = r.deleted();
  const Tombstone& tomb = r.tombstone;
  for (const auto& a : change.assignments) {
    auto it = r.fields.find(a.field);
    const Stamp c = it == r.fields.end() ? Stamp{} : it->second.stamp;
    if (a.stamp == c) continue;  // this very write is already here

    // Rule 1: against the field's current value.
    if (!c.isZero() && a.seen != c) {
      if (a.stamp > c) {
        conflicts.add(a.field, valueSide(it->second.value, c), valueSide(a.value, a.stamp));
      } else if (it->second.seen != a.stamp) {
        conflicts.add(a.field, valueSide(a.value, a.stamp), valueSide(it->second.value, c));
      }
    }
    // Rule 2: against the tombstone.
    if (!tomb.stamp.isZero() && change.seen_tombstone != tomb.stamp) {
      if (a.stamp > tomb.stamp) {
        if (was_deleted) conflicts.add("", deletionSide(tomb.stamp), valueSide(a.value, a.stamp));
      } else if (seenIn(tomb.seen, a.field) != a.stamp) {
        conflicts.add(a.field, valueSide(a.value, a.stamp), deletionSide(tomb.stamp));
      }
    }

    if (a.stamp > c) {
      r.fields.insert_or_assign(a.field, FieldState{a.value, a.stamp, a.seen, change.seen_tombstone});
      changed = true;
    }
  }
}

void applyDeletion(Record& r, const Deletion& d, ConflictSink& conflicts, bool& changed) {
  if (d.stamp == r.tombstone.stamp) return;  // this very delete is already here
  // Rule 3: against each field value the deleting device did not see.
  for (const auto& [name, state] : r.fields) {
    if (seenIn(d.seen, name) == state.stamp) continue;
    if (d.stamp > state.stamp) {
      conflicts.add(name, valueSide(state.value, state.stamp), deletionSide(d.stamp));
    } else if (state.seen_tombstone != d.stamp) {
      conflicts.add("", deletionSide(d.stamp), valueSide(state.value, state.stamp));
    }
  }
  if (d.stamp > r.tombstone.stamp) {
    r.tombstone = Tombstone{d.stamp, d.seen};
    changed = true;
  }
}

}  // namespace

MergeOutcome merge(const std::optional<Record>& current, const Change& change, std::int64_t receive_time_ms) {
  MergeOutcome out;
  if (current) {
    out.record = *current;
  } else {
    out.record.key = change.key;
    out.record.scope = change.scope;
    out.record.form_version = change.form_version;
  }
  Record& r = out.record;
  ConflictSink conflicts(r, receive_time_ms, out.conflicts);

  if (change.deletion) {
    applyDeletion(r, *change.deletion, conflicts, out.changed);
  } else {
    applyAssignments(r, change, conflicts, out.changed);
  }

  // Maxima over every change received, not "the last one applied", so the result does not depend on
  // the order of delivery (a change whose writes all lost still counts as captured).
  r.capture_time_ms = std::max(r.capture_time_ms, change.capture_time_ms);
  r.form_version = std::max(r.form_version, change.form_version);
  if (out.changed) r.receive_time_ms = std::max(r.receive_time_ms, receive_time_ms);
  return out;
}

bool holdsWrites(const Record& record, const Change& change) {
  if (change.deletion) return record.tombstone.stamp >= change.deletion->stamp;
  return std::all_of(change.assignments.begin(), change.assignments.end(),
                     [&](const FieldAssignment& a) { return record.fieldStamp(a.field) >= a.stamp; });
}

}  // namespace communesync::sync
