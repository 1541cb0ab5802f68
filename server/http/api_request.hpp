// One HTTP request as a handler sees it (ApiCall), and what handlers read off requests over and
// over: who asks and what they may read and settle, the query string, a JSON body, whole-number and
// year parameters with their limits, "COLLECTION/ID" paths, and a job submitted to the writer.
// Private to server/; shared by every handler so they agree on who may see what.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "access/access.hpp"
#include "communesync/sync/record.hpp"
#include "directory/directory.hpp"
#include "http/http_json.hpp"
#include "http/server_state.hpp"

namespace communesync::server {

//! Who asks, and what they may read and settle.
struct Asker {
  std::string name;
  bool admin_token = false;  //!< the server's admin token: every unit
  Access access;
  std::vector<Scope> readable;

  bool mayRead(const Scope& scope) const { return admin_token || access.mayRead(scope); }
  bool maySettle(const Scope& scope) const { return admin_token || access.mayReconcile(scope); }
  bool isAdmin() const { return admin_token || access.isAdmin(); }
};

//! The asker behind the request's bearer token, or std::nullopt (no token, or an unknown one).
std::optional<Asker> askerOf(const HttpRequest& request, ServerState& state);

//! The bearer token of an Authorization header ("Bearer TOKEN"), or empty.
std::string_view bearerToken(const HttpRequest& request);

//! The token of a WebSocket upgrade: the bearer token, or else the one a browser offers among its
//! subprotocols as "communesync.token.TOKEN" (a browser's WebSocket cannot set Authorization; the
//! server selects only "communesync.v1", so the token is never echoed back). Empty if neither.
std::string_view upgradeToken(const HttpRequest& request);

using Query = std::map<std::string, std::string>;

//! "x%20y+z" -> "x y z".
std::string percentDecoded(std::string_view text);
//! "a=1&b=x%20y" -> {a: "1", b: "x y"}.
Query queryParams(std::string_view query);
//! The parameter's value, or "" when absent.
std::string param(const Query& params, const std::string& key);

//! The units under the `unit` parameter (a district covers its communes: the tree says what), or
//! std::nullopt when none was given.
std::optional<std::vector<Scope>> unitsAsked(ServerState& state, const Query& params);
//! The asker's readable units, narrowed to the `unit` parameter when given.
std::vector<Scope> readableAsked(ServerState& state, const Asker& asker, const Query& params);

//! "COLLECTION/ID" of a path, or std::nullopt.
std::optional<sync::RecordKey> recordPath(std::string_view rest);

//! The string under `key` of a JSON body, or "" when absent or not a string (never throws).
std::string stringField(const nlohmann::json& body, const char* key);
//! The request's body as a JSON object. Errors: kInvalidArgument.
Result<nlohmann::json> jsonBody(const HttpRequest& request);
//! The whole-number parameter `key` in [min, max] (a larger one is taken as max), `fallback` when
//! absent. Errors: kInvalidArgument naming the parameter.
Result<std::uint64_t> countParam(const Query& params, const std::string& key, std::uint64_t fallback, std::uint64_t min,
                                 std::uint64_t max);
//! The `year` parameter (2000 to 2100). Errors: kInvalidArgument.
Result<int> yearParam(const Query& params);

//! Applies a job the server made (a resolution, a review) through the writer and waits until it is
//! durable. Errors: the writer's, or kRejected "the WHAT was refused: REASON" when its change was not
//! accepted.
Status submitJob(ServerState& state, const std::shared_ptr<PushJob>& job, std::string_view what);

//! One request as its handler sees it; the router (routes.cpp) fills it after checking the route's right.
struct ApiCall {
  const HttpRequest& request;
  ServerState& state;
  const std::string& peer;
  Query query;                     //!< the query string, decoded
  std::vector<std::string> parts;  //!< what the route's {placeholders} matched, in order, as sent
  const Asker* asker = nullptr;    //!< set on routes that need a user (or the admin token)
  Actor actor;                     //!< who, for the audit log (the asker's name, from `peer`)

  //! 200 (or `status`) with a JSON body.
  HttpResponse ok(const nlohmann::json& body, http::status status = http::status::ok) const {
    return jsonResponse(request, status, body);
  }
  //! The error's answer: its HTTP status from its code.
  HttpResponse fail(const Status& s) const { return statusResponse(request, s); }
};

}  // namespace communesync::server
