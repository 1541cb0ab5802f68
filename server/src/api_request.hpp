// What every /api/ endpoint reads off a request: who asks (and what they may read and settle), the
// query string, and "COLLECTION/ID" paths. Private to server/; shared by the reconciliation, report
// and dashboard endpoints so they agree on who may see what.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "communesync/server/access.hpp"
#include "communesync/server/http_handler.hpp"
#include "communesync/sync/record.hpp"

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

//! "x%20y+z" -> "x y z".
std::string percentDecoded(std::string_view text);
//! "a=1&b=x%20y" -> {a: "1", b: "x y"}.
std::map<std::string, std::string> queryParams(std::string_view query);
//! The parameter's value, or "" when absent.
std::string param(const std::map<std::string, std::string>& params, const std::string& key);

//! The units under the `unit` parameter (a district covers its communes: the tree says what), or
//! std::nullopt when none was given.
std::optional<std::vector<Scope>> unitsAsked(ServerState& state, const std::map<std::string, std::string>& params);
//! The asker's readable units, narrowed to the `unit` parameter when given.
std::vector<Scope> readableAsked(ServerState& state, const Asker& asker,
                                 const std::map<std::string, std::string>& params);

//! "COLLECTION/ID" of a path, or std::nullopt.
std::optional<sync::RecordKey> recordPath(std::string_view rest);

}  // namespace communesync::server
