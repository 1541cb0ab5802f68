// Plain HTTP requests on the server's port: health, login, and the admin API. The API is JSON;
// every error is {"error": CODE, "message": TEXT} with a fitting status. docs/operations.md lists it.
//
//   GET  /healthz                          -> 200 {"status":"ok","incarnation":ID}
//   POST /login   {"user","password","device"}  -> 200 {"user","token","scopes"}    (a device token)
//   POST /login   {"device"} + 'Authorization: Bearer <user token>' -> the same: the token exchanged
//                 401 wrong name or password; 429 "too_many_attempts" + Retry-After (login_throttle.hpp)
//
// Admin API: 'Authorization: Bearer T' with the admin token or the token of a user granted admin;
// answered only to loopback peers unless Config::admin_remote.
//   POST /admin/users        {"name", "grants":["ROLE:UNIT"...] | "scopes":[UNIT...], "password"?}
//                                                  -> 201 {"name","grants","token"}
//   GET  /admin/users                              -> 200
//   {"users":[{"name","grants","has_password","disabled","devices"}]} POST /admin/users/NAME/grant   {"grants":[..]}
//   POST /admin/users/NAME/revoke  {"grants":[..]} | {"device":HEX} | {"all":true}
//   POST /admin/users/NAME/passwd  {"password"}
//   POST /admin/units/import  (body: the CSV)      -> 200 {"added","updated","unchanged"}
//   GET  /admin/units                              -> 200
//   {"units":[{"code","parent_code","level","name","merged_into"}]} POST /admin/units/merge   {"old":[..],"into"} GET
//   /admin/audit?limit=N                      -> 200 {"entries":[{"seq","time_ms","actor","from","action","detail"}]}
#pragma once

#include <boost/beast/http.hpp>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include "communesync/server/directory.hpp"
#include "communesync/server/form_catalog.hpp"
#include "communesync/server/server_store.hpp"
#include "communesync/server/tuning.hpp"
#include "communesync/storage/store.hpp"

namespace communesync::server {

namespace http = boost::beast::http;
using HttpRequest = http::request<http::string_body>;
using HttpResponse = http::response<http::string_body>;

//! What request handlers may read and change. Owned by the Server; outlives every session.
class WebFiles;

struct ServerState {
  storage::Store& store;
  ServerStore& data;
  Directory& directory;
  //! Called after any change to users, grants, tokens or units: live sessions re-check their rights.
  std::function<void()> access_changed;
  //! The published forms.
  FormCatalog& forms;
  //! Publishes a form as the next version of its name; returns it with its version. Blocks until durable.
  std::function<Result<sync::Form>(sync::Form)> publish_form;
  //! Applies a job the server made (a conflict's resolution) through the writer, like any push.
  //! Blocks until it is durable; the job's results say what became of its changes.
  std::function<Status(std::shared_ptr<PushJob>)> apply_job;
  //! Answer the admin API to peers other than loopback.
  bool admin_remote = false;
  //! Browser origins allowed (exact "scheme://host[:port]"); a request with an Origin header not
  //! listed is refused. Requests without Origin (devices, tools) are not browsers and pass.
  std::vector<std::string> allowed_origins;
  //! The config's "report_rules" (report_rules.hpp): per-year overrides of the programme's targets.
  nlohmann::json report_rules;
  //! The dashboard's files, served at "/" (null: not installed; "/" then says so).
  std::shared_ptr<const WebFiles> web;
  //! A device silent for longer stands out on the dashboard's devices page.
  int device_silent_days = tuning::kDeviceSilentDays;
};

//! The bearer token of an Authorization header ("Bearer TOKEN"), or empty.
std::string_view bearerToken(const HttpRequest& request);

//! Ok if the request carries no Origin or an allowed one; else kForbidden.
Status checkOrigin(const HttpRequest& request, const ServerState& state);

//! Answers one HTTP request from `peer` (an IP address). Never throws; unknown paths get 404 with
//! a JSON error body.
HttpResponse handleHttp(const HttpRequest& request, ServerState& state, const std::string& peer, bool peer_is_loopback);

}  // namespace communesync::server
