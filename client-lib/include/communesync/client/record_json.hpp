// The device's JSON: records and values in the shape of sync/json.hpp, and the sync report and
// status that the CLI and the C API print.
#pragma once

#include <nlohmann/json.hpp>

#include "communesync/client/local_store.hpp"
#include "communesync/client/replicator.hpp"
#include "communesync/sync/json.hpp"

namespace communesync::client {

using sync::conflictToJson;
using sync::recordToJson;
using sync::valueFromJson;
using sync::valueToJson;
//! A sync's summary, as `sync --json` prints it: {"pushed","accepted","rejected","pulled","conflicts",
//! "bytes_sent","bytes_received","purged","files_sent","files_received","file_bytes_sent","file_bytes_received"}.
nlohmann::json reportToJson(const SyncReport& report);
//! The device's status, as `status --json` prints it: {"pending","last_sync_ms","files_pending",
//! "file_bytes_pending","rejected":[{"collection","id","code","reason"}],"conflicts":[...]}.
nlohmann::json statusToJson(const LocalStatus& status);

}  // namespace communesync::client
