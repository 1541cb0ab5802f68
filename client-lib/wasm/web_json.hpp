// The sync types as JSON for the field app's JavaScript: stamps, changes, records with their field
// stamps, and the wire messages a device sends and receives. Built into the WebAssembly module
// (web_api.cpp) and into the native tests, which check it against the C++ types directly.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "communesync/storage/result.hpp"
#include "communesync/sync/change.hpp"
#include "communesync/sync/messages.hpp"

namespace communesync::web {

//! The largest frame the field app decodes: the server's own limit on a message (4 MiB).
inline constexpr std::size_t kMaxFrameBytes = std::size_t{4} * 1024 * 1024;

nlohmann::json stampToJson(const sync::Stamp& stamp);
Result<sync::Stamp> stampFromJson(const nlohmann::json& j);

//! {"id": {"device", "seq"}, "collection", "record", "scope", "form_version", "capture_time_ms",
//!  "assignments": [{"field", "value", "stamp", "seen"}], "deletion": {"stamp", "seen": {field: stamp}},
//!  "seen_tombstone"}
nlohmann::json changeToJson(const sync::Change& change);
Result<sync::Change> changeFromJson(const nlohmann::json& j);

//! A record with what a device needs to edit it: {"collection", "id", "scope", "form_version",
//!  "fields": {name: value}, "stamps": {name: stamp}, "deleted", "tombstone", "capture_time_ms",
//!  "line": the record's canonical JSON line, byte for byte what `communesync export` prints}.
//!  "seen", "seen_tombstones" and "tombstone_seen": what each writer saw, for the restore pushes}.
nlohmann::json deviceRecordToJson(const sync::Record& record);
//! The record back from what deviceRecordToJson made (the field app keeps that JSON).
Result<sync::Record> deviceRecordFromJson(const nlohmann::json& j);

//! The record a phone holds after an exact result (sync::proto::ChangeResult::exact) of `change`:
//! the change merged into nothing at the result's `receive_time_ms`, as deviceRecordToJson shows
//! it; nullopt when `held` (the server's copy the phone keeps, or null) already holds the change's
//! writes (a pull after a cut brought a later copy: it stays).
Result<std::optional<nlohmann::json>> exactRecord(const nlohmann::json& change, std::int64_t receive_time_ms,
                                                  const nlohmann::json& held);

//! {name: value} of a form's fields, as the page holds them.
Result<std::map<std::string, sync::Value>> fieldsFromJson(const nlohmann::json& j);

//! A message the device sends, from {"type": "hello" | "push" | "pull" | "file_query",
//! "request_id": N, ...its fields}. Hello says the device reads plain frames only.
Result<std::string> encodeMessage(const nlohmann::json& message);
//! A piece of a file, {"request_id", "hash" (hex), "size", "offset"} and its bytes: the one message
//! with bytes the page holds as bytes (a photo's piece), not JSON.
Result<std::string> encodeFilePut(const nlohmann::json& header, std::string_view data);
//! A message the server sent, as {"type", "request_id", ...its fields}.
Result<nlohmann::json> decodeMessage(const sync::proto::Envelope& envelope);

}  // namespace communesync::web
