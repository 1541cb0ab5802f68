// A conflict: a value that lost to a write made without seeing it. The merge still picks one value
// (the greater stamp) so every replica converges; the conflict keeps the other so nothing is lost.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "communesync/sync/record.hpp"

namespace communesync::sync {

//! One side of a conflict: a field value, or the record's deletion.
struct ConflictSide {
  std::optional<Value> value;  //!< nullopt: this side is the deletion of the record
  Stamp stamp;                 //!< the write; stamp.device is its device
  bool isDeletion() const { return !value.has_value(); }
  bool operator==(const ConflictSide&) const = default;
};

enum class ConflictStatus : std::uint8_t { kOpen = 0, kResolved = 1 };

struct Conflict {
  RecordKey key;
  Scope scope;
  std::string field;             //!< empty: the conflict is about the record's deletion
  ConflictSide lost;             //!< the value the merge did not keep
  ConflictSide kept;             //!< the value the merge kept at the time
  std::int64_t detected_ms = 0;  //!< server time when the merge found it
  ConflictStatus status = ConflictStatus::kOpen;
  // Since version 2: how it was settled (status resolved). The resolution is a change newer than
  // both sides, made by the server for the person who settled it; it syncs like any change.
  std::string resolved_by;       //!< the user who settled it
  std::int64_t resolved_ms = 0;  //!< server time
  std::string reason;            //!< why, in their words
  ConflictSide resolution;       //!< the value (or deletion) that was chosen, with its stamp

  //! Stable identity: (record, field, stamp of the lost write). Finding the same conflict again,
  //! in any order of delivery, gives the same id.
  std::string id() const;
  bool operator==(const Conflict&) const = default;
};

}  // namespace communesync::sync
