// A change is what a device sends: some field assignments of one record, or its deletion, with
// the change id that makes resending it harmless.
#pragma once

#include <compare>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "communesync/sync/record.hpp"

namespace communesync::sync {

//! (device, device sequence): unique per change and the idempotency key on the server.
struct ChangeId {
  DeviceId device;
  std::uint64_t seq = 0;  //!< 1, 2, 3... per device, stored atomically with the change
  auto operator<=>(const ChangeId&) const = default;
  std::string toString() const;
};

struct FieldAssignment {
  std::string field;
  Value value;
  Stamp stamp;  //!< this write
  Stamp seen;   //!< Record::fieldStamp(field) on the device when the user made the edit
  bool operator==(const FieldAssignment&) const = default;
};

struct Deletion {
  Stamp stamp;                                     //!< this delete
  std::map<std::string, Stamp, std::less<>> seen;  //!< the stamp of each field the device held
  bool operator==(const Deletion&) const = default;
};

struct Change {
  ChangeId id;
  RecordKey key;
  Scope scope;
  std::uint32_t form_version = 0;
  std::int64_t capture_time_ms = 0;          //!< device clock, corrected by the offset from the server
  std::vector<FieldAssignment> assignments;  //!< an edit: one or more fields (empty for a delete)
  std::optional<Deletion> deletion;          //!< a delete (then no assignments)
  Stamp seen_tombstone;                      //!< the record's tombstone stamp on the device when the user made the edit

  bool operator==(const Change&) const = default;
};

//! Checks a change from outside: names clean and within limits, no duplicate fields, stamps set and
//! from the change's device, every value normalised to NFC. Returns the normalised change.
//! Errors: kInvalidArgument or kLimitExceeded, with a message naming the offending part.
//! `allow_foreign_stamps` admits stamps of other devices (a device restoring what it holds).
Result<Change> validateChange(Change change, bool allow_foreign_stamps = false);

}  // namespace communesync::sync
