// THE route table of the server's HTTP side: every /login, /api/ and /admin/ route is declared once
// in routes.cpp, with its method, its path pattern, the right it needs and its handler. The router
// checks the right in one place before any handler runs:
//
//   kAnyone  health and login: no token
//   kUser    /api/: a user's token (or the admin token); 401 without one. What the user may read
//            or settle within is the handler's business (Asker: every answer limited to it)
//   kAdmin   /admin/: the admin token or a user granted admin, from loopback unless admin_remote
//   kMetrics /metrics: the admin token (or an admin user) from anywhere, or no token from the
//            addresses of the config's "metrics_from" (a Prometheus server)
//
// Paths not in the table are the dashboard's files (web_files.hpp), or 404. A path that matches a
// route but not its method gets 405 naming the methods that would.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "http/api_request.hpp"
#include "http/server_state.hpp"

namespace communesync::server {

enum class Right : std::uint8_t { kAnyone, kUser, kAdmin, kMetrics };

using Handler = HttpResponse (*)(const ApiCall& call);

struct Route {
  http::verb method;
  //! "/api/conflicts/{id}/resolve": a {name} matches one segment (no '/'); a {name*} matches one or
  //! more segments and may only be followed by literal segments.
  std::string_view pattern;
  Right right;
  Handler handler;
  //! A search, an export or a report: it may read much of the store. A user runs one at a time
  //! (tuning::kMaxHeavyRequestsPerUser) so one user cannot slow everyone.
  bool heavy = false;
};

//! Every route, in the order they are tried.
const std::vector<Route>& routes();

//! Whether `path` matches `pattern`; fills `parts` with what the placeholders matched.
bool matchRoute(std::string_view pattern, std::string_view path, std::vector<std::string>& parts);

//! Ok if the request carries no Origin or an allowed one; else kForbidden.
Status checkOrigin(const HttpRequest& request, const ServerState& state);

//! Answers one HTTP request from `peer` (an IP address). Never throws; unknown paths get 404 with
//! a JSON error body.
HttpResponse handleHttp(const HttpRequest& request, ServerState& state, const std::string& peer, bool peer_is_loopback);

}  // namespace communesync::server
