// Records, values and conflicts as JSON: the one shape the CLI, the C API, exports and the server's
// HTTP API share:
//   {"collection":"household","fields":{"head":"Lò Văn Pá","members":6},"id":"0190…","scope":"xa-01"}
// Keys are sorted and numbers printed one way, so two devices holding the same records print the
// same bytes. A bytes value is {"$bytes": "<hex>"}; integers stay integers, decimals stay doubles.
#pragma once

#include <nlohmann/json.hpp>

#include "communesync/sync/conflict.hpp"
#include "communesync/sync/record.hpp"

namespace communesync::sync {

nlohmann::json valueToJson(const Value& value);
//! Errors: kInvalidArgument for JSON that has no Value (e.g. an unsigned number above 2^63).
Result<Value> valueFromJson(const nlohmann::json& json);

//! The live fields of a record as the export line.
nlohmann::json recordToJson(const Record& record);
//! One side of a conflict: {"side","value" | "deleted":true,"stamp","device","time_ms"}.
nlohmann::json conflictSideToJson(const ConflictSide& side, const char* name);
//! A conflict: {"id","collection","record","scope","field","status","detected_ms","values":[kept, lost],
//! "kept","lost"} and, once settled, "resolved_by","resolved_ms","reason","resolution".
nlohmann::json conflictToJson(const Conflict& conflict);

}  // namespace communesync::sync
