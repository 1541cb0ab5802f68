// What the web page needs beyond the reconciliation API (docs/admin-api.md, "For the web page"):
//
//   GET /api/me                       -> 200 {"user","admin","reconciler","grants","units","forms",
//                                              "server_time_ms","device_silent_days"}
//   GET /api/overview?year=YYYY&unit=U -> 200 {"year","units":{CODE:{"records":{FORM:n},"conflicts":n,
//                                              "reviews":{STATE:n}}}}   per unit, not rolled up
//   GET /api/records/COLLECTION?unit=U&q=TEXT&review=STATE&offset=N&limit=N
//                                     -> 200 {"collection","columns","total","offset","records":[RECORD+]}
//   GET /api/devices                  -> 200 {"device_silent_days","server_time_ms","devices":[DEVICE]}
//   GET /api/files/HASH               -> the file's bytes (a photo), if a record the asker may read refers to it
//
// Every answer is limited to what the asker may read, like the rest of /api/.
#pragma once

#include <string_view>

#include "api_request.hpp"
#include "communesync/server/http_handler.hpp"

namespace communesync::server {

//! Answers one of the paths above, or std::nullopt when `path` is none of them.
std::optional<HttpResponse> dashboardApi(const HttpRequest& request, ServerState& state, const Asker& asker,
                                         std::string_view path, std::string_view query);

}  // namespace communesync::server
