// THE MERGE RULE. The one place that decides what a record becomes when a change arrives.
//
// Values (order-independent, so every replica converges):
//  - A field takes an assignment iff the assignment's stamp is greater than the field's stamp.
//  - The tombstone takes a deletion iff the deletion's stamp is greater than the tombstone's.
//  - The record is deleted iff its tombstone is newer than every field; a newer edit revives it whole.
//  Applying the same changes in any order, any number of times, gives the same record.
//
// Conflicts (nothing silently lost). Every write carries what its device saw: an assignment, the
// field's stamp and the tombstone's stamp; a deletion, the stamp of every field. A write that meets
// an event it did not see was concurrent with it, and the event that loses becomes a conflict:
//  1. Assignment a (stamp s) against the field's value (stamp c), if a did not see c:
//     s > c: the old value lost;  s < c: a lost, unless the value's writer saw a.
//  2. Assignment a against the tombstone (stamp t), if a's change did not see t:
//     s > t and the record was deleted: the deletion lost (the record comes back);
//     s < t: a is hidden by the deletion, unless the deletion saw a.
//  3. Deletion d (stamp t) against each field value (stamp c) d did not see:
//     t > c: the value is hidden by the deletion;  t < c: d lost, unless the value's writer saw d.
// Deletion against deletion is not a conflict (both ask for the same thing). Conflict ids are
// (record, field, lost stamp), so finding one twice is harmless, and the set found may be larger
// in some delivery orders than in others. Invariant (tested): every write that is neither visible in
// the final record nor seen by a later write appears as the lost side of a conflict.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "communesync/sync/change.hpp"
#include "communesync/sync/conflict.hpp"
#include "communesync/sync/record.hpp"

namespace communesync::sync {

struct MergeOutcome {
  Record record;
  std::vector<Conflict> conflicts;
  bool changed = false;  //!< false when the change was already contained in the record
};

//! Applies `change` to `current` (nullopt: the record does not exist yet). Pure: no clock, no I/O;
//! `receive_time_ms` is the server's time of receipt, stored as the record's receive time.
MergeOutcome merge(const std::optional<Record>& current, const Change& change, std::int64_t receive_time_ms);

//! True if `record` already holds every write of `change`: each assigned field at the assignment's
//! stamp or a later one, the tombstone at the deletion's stamp or later. A copy of the record taken
//! after the change was merged holds it (stamps only ever grow).
bool holdsWrites(const Record& record, const Change& change);

}  // namespace communesync::sync
