#include "http/router.hpp"

#include <chrono>

#include "base/metrics.hpp"
#include "http/handlers.hpp"
#include "http/http_json.hpp"
#include "http/web_files.hpp"

namespace communesync::server {

using http::verb;

const std::vector<Route>& routes() {
  static const std::vector<Route> table = {
      {verb::get, "/healthz", Right::kAnyone, health},
      {verb::head, "/healthz", Right::kAnyone, health},
      {verb::post, "/login", Right::kAnyone, login},
      {verb::get, "/app/settings.json", Right::kAnyone, fieldAppSettings},
      {verb::get, "/metrics", Right::kMetrics, metricsText},

      // The reconciliation API and the dashboard's (docs/admin-api.md).
      {verb::get, "/api/me", Right::kUser, me},
      {verb::get, "/api/overview", Right::kUser, overview},
      {verb::get, "/api/records/{collection*}", Right::kUser, listRecords, /*heavy=*/true},
      {verb::get, "/api/devices", Right::kUser, listDevices},
      {verb::get, "/api/files/{hash}", Right::kUser, fileBytes},
      {verb::get, "/api/conflicts", Right::kUser, listConflicts},
      {verb::post, "/api/conflicts/{id}/resolve", Right::kUser, resolveConflict},
      {verb::get, "/api/conflicts/{id}", Right::kUser, showConflict},
      {verb::get, "/api/reviews", Right::kUser, listReviews},
      {verb::post, "/api/reviews/{record*}", Right::kUser, setReview},
      {verb::post, "/api/grades", Right::kUser, setCommitteeGrade},
      {verb::get, "/api/history/{record*}", Right::kUser, recordHistory},
      {verb::get, "/api/export/{collection*}", Right::kUser, exportRecords, /*heavy=*/true},
      {verb::get, "/api/reports/{kind*}", Right::kUser, programmeReport, /*heavy=*/true},

      // The admin API (docs/operations.md).
      {verb::post, "/admin/users", Right::kAdmin, addUser},
      {verb::get, "/admin/users", Right::kAdmin, listUsers},
      {verb::post, "/admin/users/{name*}/grant", Right::kAdmin, grantUser},
      {verb::post, "/admin/users/{name*}/revoke", Right::kAdmin, revokeUser},
      {verb::post, "/admin/users/{name*}/passwd", Right::kAdmin, setUserPassword},
      {verb::get, "/admin/units", Right::kAdmin, listUnits},
      {verb::post, "/admin/units/import", Right::kAdmin, importUnits},
      {verb::post, "/admin/units/merge", Right::kAdmin, mergeUnits},
      {verb::post, "/admin/forms", Right::kAdmin, publishForm},
      {verb::get, "/admin/forms", Right::kAdmin, listForms},
      {verb::get, "/admin/forms/{name*}", Right::kAdmin, showForm},
      {verb::get, "/admin/audit", Right::kAdmin, auditLog},
      {verb::post, "/admin/backups", Right::kAdmin, makeBackup, /*heavy=*/true},
      {verb::get, "/admin/backups/{id}/{name}", Right::kAdmin, backupFile},
      {verb::delete_, "/admin/backups/{id}", Right::kAdmin, dropBackup},
  };
  return table;
}

namespace {

std::vector<std::string_view> segments(std::string_view path) {
  std::vector<std::string_view> out;
  if (!path.empty() && path.front() == '/') path.remove_prefix(1);
  while (true) {
    const auto slash = path.find('/');
    out.push_back(path.substr(0, slash));
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }
  return out;
}

bool isPlaceholder(std::string_view s) {
  return s.size() > 2 && s.front() == '{' && s.back() == '}';
}
bool isRest(std::string_view s) {
  return isPlaceholder(s) && s[s.size() - 2] == '*';
}

// "GET or POST" for people, "GET, POST" for the Allow header.
std::string methodsText(const std::vector<verb>& methods, bool for_people) {
  std::string out;
  for (std::size_t i = 0; i < methods.size(); ++i) {
    if (i != 0) out += for_people && i + 1 == methods.size() ? " or " : ", ";
    out += std::string(http::to_string(methods[i]));
  }
  return out;
}

HttpResponse unauthorized(const HttpRequest& request, std::string message) {
  auto res = errorResponse(request, http::status::unauthorized, "unauthorized", std::move(message));
  res.set(http::field::www_authenticate, "Bearer");
  return res;
}

// Who may administer: the admin token, or a user granted admin.
std::optional<Asker> adminAsker(const HttpRequest& request, ServerState& state) {
  auto asker = askerOf(request, state);
  if (!asker || !asker->isAdmin()) return std::nullopt;
  return asker;
}

HttpResponse dispatch(const Route& route, const HttpRequest& request, ServerState& state, const std::string& peer,
                      bool peer_is_loopback, std::vector<std::string> parts, std::string_view query) {
  std::optional<Asker> asker;
  switch (route.right) {
    case Right::kAnyone:
      break;
    case Right::kUser:
      asker = askerOf(request, state);
      if (!asker) {
        return unauthorized(request,
                            "this API needs 'Authorization: Bearer <token>': a user's token or the admin token");
      }
      break;
    case Right::kAdmin:
      if (!peer_is_loopback && !state.admin_remote) {
        return statusResponse(request, Status::error(ErrorCode::kForbidden,
                                                     "the admin API answers only on this machine (loopback); see "
                                                     "admin_remote in docs/operations.md"));
      }
      asker = adminAsker(request, state);
      if (!asker) {
        return unauthorized(request,
                            "the admin API needs 'Authorization: Bearer <token>' with the admin token "
                            "(<data>/admin.token) or the token of a user granted admin");
      }
      break;
    case Right::kMetrics:
      if (state.metrics_from.contains(peer)) break;
      if (!adminAsker(request, state)) {
        return unauthorized(request,
                            "/metrics needs 'Authorization: Bearer <token>' with the admin token, or a request from "
                            "an address in the config's metrics_from");
      }
      break;
  }
  Places::Ticket heavy;
  if (route.heavy && asker) {
    heavy = state.heavy_requests->take(asker->name);
    if (!heavy) {
      auto res = errorResponse(request, http::status::too_many_requests, "busy",
                               "you already have a search, export or report running; this one can start once it ends");
      res.set(http::field::retry_after, "1");
      return res;
    }
  }
  ApiCall call{request,
               state,
               peer,
               queryParams(query),
               std::move(parts),
               asker ? &*asker : nullptr,
               Actor{asker ? asker->name : std::string(), peer}};
  return route.handler(call);
}

}  // namespace

bool matchRoute(std::string_view pattern, std::string_view path, std::vector<std::string>& parts) {
  const auto want = segments(pattern);
  const auto have = segments(path);
  parts.clear();
  std::size_t i = 0;  // pattern
  std::size_t j = 0;  // path
  for (; i < want.size(); ++i) {
    if (isRest(want[i])) {
      // The rest, up to the literal segments after it.
      const std::size_t after = want.size() - i - 1;
      if (have.size() < j + 1 + after) return false;
      const std::size_t end = have.size() - after;
      std::string joined;
      for (std::size_t k = j; k < end; ++k) {
        if (have[k].empty()) return false;
        if (k != j) joined += '/';
        joined += have[k];
      }
      parts.push_back(std::move(joined));
      j = end;
      continue;
    }
    if (j >= have.size()) return false;
    if (isPlaceholder(want[i])) {
      if (have[j].empty()) return false;
      parts.emplace_back(have[j]);
    } else if (want[i] != have[j]) {
      return false;
    }
    ++j;
  }
  return j == have.size();
}

Status checkOrigin(const HttpRequest& request, const ServerState& state) {
  auto it = request.find(http::field::origin);
  if (it == request.end()) return Status::ok();
  const std::string origin(it->value());
  for (const auto& allowed : state.allowed_origins) {
    if (origin == allowed) return Status::ok();
  }
  // The dashboard this server serves: its own origin (scheme://HOST where HOST is the Host header).
  // A page of another site cannot forge its Origin, so a match means the page came from here.
  auto host = request.find(http::field::host);
  const auto scheme_end = origin.find("://");
  if (host != request.end() && scheme_end != std::string::npos && origin.substr(scheme_end + 3) == host->value()) {
    return Status::ok();
  }
  return Status::error(ErrorCode::kForbidden, "origin '" + origin.substr(0, 200) + "' is not allowed here");
}

namespace {

// The answer, and which route gave it (`route`: its pattern, "(web)" for the dashboard's files,
// "(none)" for what matched no route) for /metrics.
HttpResponse routeAndAnswer(const HttpRequest& request, ServerState& state, const std::string& peer,
                            bool peer_is_loopback, std::string_view& route_name) {
  route_name = "(none)";
  if (auto s = checkOrigin(request, state); !s) return statusResponse(request, s);
  const std::string_view target(request.target().data(), request.target().size());
  const auto question = target.find('?');
  const auto path = target.substr(0, question);
  const auto query = question == std::string_view::npos ? std::string_view() : target.substr(question + 1);
  std::vector<verb> other_methods;
  std::vector<std::string> parts;
  for (const auto& route : routes()) {
    if (!matchRoute(route.pattern, path, parts)) continue;
    if (route.method == request.method()) {
      route_name = route.pattern;
      return dispatch(route, request, state, peer, peer_is_loopback, std::move(parts), query);
    }
    other_methods.push_back(route.method);
  }
  if (!other_methods.empty()) {
    auto res = errorResponse(request, http::status::method_not_allowed, "method_not_allowed",
                             "use " + methodsText(other_methods, true));
    res.set(http::field::allow, methodsText(other_methods, false));
    return res;
  }
  const bool api = path.substr(0, 5) == "/api/" || path.substr(0, 7) == "/admin/";
  if (!api && state.web) {
    route_name = "(web)";
    return serveWebFile(request, *state.web, path);
  }
  if (!api && (path == "/" || path == "/index.html")) {
    return statusResponse(request, Status::error(ErrorCode::kNotFound,
                                                 "the dashboard's files are not installed here "
                                                 "(see web_dir in docs/operations.md)"));
  }
  return statusResponse(request, Status::error(ErrorCode::kNotFound, "no such path: " + std::string(path)));
}

}  // namespace

HttpResponse handleHttp(const HttpRequest& request, ServerState& state, const std::string& peer,
                        bool peer_is_loopback) {
  const auto started = std::chrono::steady_clock::now();
  std::string_view route;
  auto response = routeAndAnswer(request, state, peer, peer_is_loopback, route);
  metrics().http.observe(route, response.result_int(),
                         std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
  return response;
}

}  // namespace communesync::server
