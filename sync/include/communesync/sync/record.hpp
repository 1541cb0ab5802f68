// A record is one filled form: (collection, id) in a scope, with fields each carrying its value
// and the stamp of the write that set it, and a record-level tombstone.
#pragma once

#include <compare>
#include <cstdint>
#include <map>
#include <string>

#include "communesync/sync/stamp.hpp"
#include "communesync/sync/value.hpp"

namespace communesync::sync {

//! An administrative unit code ("xa-001", a commune's official code): who may see a record.
using Scope = std::string;

struct RecordKey {
  std::string collection;  //!< the form or table, e.g. "household"
  std::string id;          //!< made on the device: 128-bit, time-ordered, hex

  auto operator<=>(const RecordKey&) const = default;
};

//! One field's merged state.
struct FieldState {
  Value value;
  Stamp stamp;           //!< the write that set `value`; the greatest stamp ever written to this field
  Stamp seen;            //!< the field's stamp as that write's device saw it (see merge.hpp)
  Stamp seen_tombstone;  //!< the record's tombstone as that write's device saw it
  bool operator==(const FieldState&) const = default;
};

//! The newest delete of a record.
struct Tombstone {
  Stamp stamp;                                     //!< zero: never deleted
  std::map<std::string, Stamp, std::less<>> seen;  //!< each field as the deleting device saw it
  bool operator==(const Tombstone&) const = default;
};

struct Record {
  RecordKey key;
  Scope scope;
  std::uint32_t form_version = 0;  //!< the form version the record was filled with (0: free-form)
  std::map<std::string, FieldState, std::less<>> fields;
  Tombstone tombstone;
  std::int64_t capture_time_ms = 0;  //!< latest device capture time (clock-corrected) of any change received
  std::int64_t receive_time_ms = 0;  //!< latest server receive time of a change that altered the record

  //! Deleted iff the tombstone is newer than every field's stamp; a newer edit brings it back whole.
  bool deleted() const;
  //! The greatest field stamp (zero if no field was ever written).
  Stamp maxFieldStamp() const;
  //! The field's stamp, or zero if the field was never written.
  Stamp fieldStamp(std::string_view field) const;

  bool operator==(const Record&) const = default;
};

}  // namespace communesync::sync
