// The incarnation rule's resend (docs/protocol.md, "Incarnation" and 5.3): when a device finds the
// server went back in time, it pushes every record it holds again, with the original stamps and
// what each writer saw, in pushes marked `restore`. Shared by the C++ client's store and the field
// app (WebAssembly), so both resend exactly the same changes.
#pragma once

#include <vector>

#include "communesync/sync/change.hpp"
#include "communesync/sync/record.hpp"

namespace communesync::sync {

//! The changes that carry `record` whole: one per distinct tombstone its writers saw (so each field
//! keeps what its writer saw), and the deletion if it was ever deleted. Key, scope, form version and
//! capture time are the record's; the ids are left for the caller (the device's next sequence).
//! None for the server's own collections ('_forms', '_reviews'), which no device may write.
std::vector<Change> restoreChanges(const Record& record);

}  // namespace communesync::sync
