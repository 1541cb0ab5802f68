#include "communesync/client/record_json.hpp"

#include "communesync/sync/device_id.hpp"
#include "communesync/sync/tuning.hpp"

namespace communesync::client {

nlohmann::json reportToJson(const SyncReport& report) {
  return {{"pushed", report.pushed},
          {"accepted", report.accepted},
          {"rejected", report.rejected},
          {"pulled", report.pulled},
          {"conflicts", report.conflicts},
          {"bytes_sent", report.bytes_sent},
          {"bytes_received", report.bytes_received},
          {"purged", report.purged},
          {"resynced", report.resynced},
          {"resync_dropped", report.resync_dropped},
          {"files_sent", report.files_sent},
          {"files_received", report.files_received},
          {"file_bytes_sent", report.file_bytes_sent},
          {"file_bytes_received", report.file_bytes_received},
          {"files_deferred", report.files_deferred}};
}

nlohmann::json statusToJson(const LocalStatus& status) {
  nlohmann::json j = {{"pending", status.pending},
                      {"last_sync_ms", status.last_sync_ms},
                      {"files_pending", status.files_pending},
                      {"file_bytes_pending", status.file_bytes_pending}};
  j["rejected"] = nlohmann::json::array();
  for (const auto& r : status.rejected) {
    j["rejected"].push_back({{"collection", r.change.key.collection},
                             {"id", r.change.key.id},
                             {"code", errorCodeName(static_cast<ErrorCode>(r.code))},
                             {"reason", r.reason}});
  }
  j["conflicts"] = nlohmann::json::array();
  for (const auto& c : status.conflicts) j["conflicts"].push_back(conflictToJson(c));
  j["reviews"] = nlohmann::json::array();
  for (const auto& r : status.reviews) {
    j["reviews"].push_back({{"collection", r.reviewed.collection},
                            {"record", r.reviewed.id},
                            {"state", sync::reviewStateName(r.state)},
                            {"comment", r.comment},
                            {"by", r.by},
                            {"at_ms", r.at_ms}});
  }
  j["resolved_conflicts"] = nlohmann::json::array();
  for (const auto& c : status.resolved) j["resolved_conflicts"].push_back(conflictToJson(c));
  return j;
}

}  // namespace communesync::client
