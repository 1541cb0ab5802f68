// Records and values as JSON, the shape the CLI, the C API and exports share:
//   {"collection":"household","fields":{"head":"Lò Văn Pá","members":6},"id":"0190…","scope":"xa-01"}
// Keys are sorted and numbers printed one way, so two devices holding the same records print the
// same bytes. A bytes value is {"$bytes": "<hex>"}; integers stay integers, decimals stay doubles.
#pragma once

#include <nlohmann/json.hpp>

#include "communesync/client/local_store.hpp"
#include "communesync/client/replicator.hpp"
#include "communesync/sync/conflict.hpp"
#include "communesync/sync/record.hpp"

namespace communesync::client {

nlohmann::json valueToJson(const sync::Value& value);
//! Errors: kInvalidArgument for JSON that has no Value (e.g. an unsigned number above 2^63).
Result<sync::Value> valueFromJson(const nlohmann::json& json);

//! The live fields of a record as the export line.
nlohmann::json recordToJson(const sync::Record& record);
//! A conflict for status output.
nlohmann::json conflictToJson(const sync::Conflict& conflict);
//! A sync's summary, as `sync --json` prints it: {"pushed","accepted","rejected","pulled","conflicts",
//! "bytes_sent","bytes_received","purged","files_sent","files_received","file_bytes_sent","file_bytes_received"}.
nlohmann::json reportToJson(const SyncReport& report);
//! The device's status, as `status --json` prints it: {"pending","last_sync_ms","files_pending",
//! "file_bytes_pending","rejected":[{"collection","id","code","reason"}],"conflicts":[...]}.
nlohmann::json statusToJson(const LocalStatus& status);

}  // namespace communesync::client
