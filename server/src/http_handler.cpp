#include "communesync/server/http_handler.hpp"

#include <charconv>
#include <nlohmann/json.hpp>

#include "communesync/server/tuning.hpp"
#include "http_json.hpp"
#include "reconcile_api.hpp"
#include "web_files.hpp"

namespace communesync::server {
namespace {

using nlohmann::json;

// A list of strings under `key` (absent: empty), or an error message.
std::variant<std::vector<std::string>, std::string> stringList(const json& body, const char* key) {
  std::vector<std::string> out;
  if (!body.contains(key)) return out;
  if (!body[key].is_array()) return std::string("\"") + key + "\" must be a list of strings";
  for (const auto& v : body[key]) {
    if (!v.is_string()) return std::string("every entry of \"") + key + "\" must be a string";
    out.push_back(v.get<std::string>());
  }
  return out;
}

std::string stringField(const json& body, const char* key) {
  return body.contains(key) && body[key].is_string() ? body[key].get<std::string>() : std::string();
}

json grantsJson(const std::vector<Grant>& grants) {
  json out = json::array();
  for (const auto& g : grants) out.push_back(grantText(g));
  return out;
}

// Grants from "grants" (ROLE:UNIT) and "scopes" (UNIT: field, the sync issue's contract).
std::variant<std::vector<Grant>, Status> grantsOf(const json& body) {
  std::vector<Grant> grants;
  for (const char* key : {"grants", "scopes"}) {
    auto list = stringList(body, key);
    if (auto* e = std::get_if<std::string>(&list)) return Status::error(ErrorCode::kInvalidArgument, *e);
    for (const auto& text : std::get<std::vector<std::string>>(list)) {
      auto g = parseGrant(text);
      if (!g) return g.status();
      if (std::string_view(key) == "scopes" && text.find(':') != std::string::npos) {
        return Status::error(ErrorCode::kInvalidArgument, "\"scopes\" holds unit codes; use \"grants\" for ROLE:UNIT");
      }
      grants.push_back(*g);
    }
  }
  return grants;
}

// ---- login ----

HttpResponse login(const HttpRequest& request, ServerState& state, const std::string& peer) {
  if (request.method() != http::verb::post) {
    return errorResponse(request, http::status::method_not_allowed, "method_not_allowed", "use POST");
  }
  auto parsed = jsonBody(request);
  if (auto* res = std::get_if<HttpResponse>(&parsed)) return std::move(*res);
  const auto& body = std::get<json>(parsed);
  auto device = sync::DeviceId::fromHex(stringField(body, "device"));
  if (!device) {
    return errorResponse(request, http::status::bad_request, "invalid_argument",
                         "\"device\" must be the device id (32 hex digits)");
  }
  // A name and password, or (no password) the bearer token of `user add` exchanged for the device's own.
  const bool with_password = body.contains("password");
  const std::string name = with_password ? stringField(body, "user") : std::string();
  auto token = with_password ? state.directory.login(name, stringField(body, "password"), *device, peer)
                             : state.directory.exchangeToken(bearerToken(request), *device, peer);
  if (!token) {
    const auto wait = state.directory.loginWait(peer, name);
    if (token.status().code() == ErrorCode::kBusy && wait > std::chrono::steady_clock::duration::zero()) {
      auto res = errorResponse(request, http::status::too_many_requests, "too_many_attempts", token.status().message());
      res.set(http::field::retry_after, std::to_string(waitSeconds(wait)));
      return res;
    }
    return statusResponse(request, token.status());
  }
  state.access_changed();  // a new login replaced the device's old token
  auto principal = state.directory.authenticate(*token);
  if (!principal || !principal->has_value()) {
    return errorResponse(request, http::status::service_unavailable, "busy", "retry the login");
  }
  json scopes = state.directory.accessOf((*principal)->grants).readable();
  return jsonResponse(request, http::status::ok, {{"user", (*principal)->user}, {"token", *token}, {"scopes", scopes}});
}

// ---- admin API ----

// Who is asking, if allowed to administer.
std::optional<Actor> adminActor(const HttpRequest& request, ServerState& state, const std::string& peer) {
  const auto token = bearerToken(request);
  if (state.directory.isAdminToken(token)) return Actor{"admin", peer};
  auto principal = state.directory.authenticate(token);
  if (!principal || !principal->has_value()) return std::nullopt;
  if (!state.directory.accessOf((*principal)->grants).isAdmin()) return std::nullopt;
  return Actor{(*principal)->user, peer};
}

HttpResponse changed(const HttpRequest& request, ServerState& state, const Status& s, json ok_body) {
  if (!s) return statusResponse(request, s);
  state.access_changed();
  return jsonResponse(request, http::status::ok, ok_body);
}

HttpResponse addUser(const HttpRequest& request, ServerState& state, const Actor& actor) {
  auto parsed = jsonBody(request);
  if (auto* res = std::get_if<HttpResponse>(&parsed)) return std::move(*res);
  const auto& body = std::get<json>(parsed);
  if (!body.contains("name") || !body["name"].is_string()) {
    return errorResponse(request, http::status::bad_request, "invalid_argument", "\"name\" must be a string");
  }
  auto grants = grantsOf(body);
  if (auto* s = std::get_if<Status>(&grants)) return statusResponse(request, *s);
  const auto name = body["name"].get<std::string>();
  const auto& list = std::get<std::vector<Grant>>(grants);
  auto token = state.directory.addUser(name, list, stringField(body, "password"), actor);
  if (!token) return statusResponse(request, token.status());
  state.access_changed();
  json scopes = json::array();
  for (const auto& g : list) scopes.push_back(g.unit);
  return jsonResponse(request, http::status::created,
                      {{"name", name}, {"grants", grantsJson(list)}, {"scopes", scopes}, {"token", *token}});
}

HttpResponse listUsers(const HttpRequest& request, ServerState& state) {
  auto users = state.directory.listUsers();
  if (!users) return statusResponse(request, users.status());
  json out = json::array();
  for (const auto& u : *users) {
    out.push_back({{"name", u.name},
                   {"grants", grantsJson(u.grants)},
                   {"has_password", u.has_password},
                   {"disabled", u.disabled},
                   {"devices", u.devices}});
  }
  return jsonResponse(request, http::status::ok, {{"users", out}});
}

HttpResponse userAction(const HttpRequest& request, ServerState& state, const Actor& actor, const std::string& name,
                        std::string_view action) {
  auto parsed = jsonBody(request);
  if (auto* res = std::get_if<HttpResponse>(&parsed)) return std::move(*res);
  const auto& body = std::get<json>(parsed);
  if (action == "passwd") {
    return changed(request, state, state.directory.setPassword(name, stringField(body, "password"), actor),
                   {{"name", name}});
  }
  if (action == "revoke" && body.value("all", false)) {
    return changed(request, state, state.directory.disableUser(name, actor), {{"name", name}, {"disabled", true}});
  }
  if (action == "revoke" && body.contains("device")) {
    auto device = sync::DeviceId::fromHex(stringField(body, "device"));
    if (!device) {
      return errorResponse(request, http::status::bad_request, "invalid_argument", "\"device\" must be 32 hex digits");
    }
    return changed(request, state, state.directory.revokeDevice(name, *device, actor),
                   {{"name", name}, {"device", device->hex()}});
  }
  auto grants = grantsOf(body);
  if (auto* s = std::get_if<Status>(&grants)) return statusResponse(request, *s);
  const auto& list = std::get<std::vector<Grant>>(grants);
  if (list.empty()) {
    return errorResponse(request, http::status::bad_request, "invalid_argument",
                         action == "grant" ? "give \"grants\"" : "give \"grants\", \"device\" or \"all\"");
  }
  const auto s =
      action == "grant" ? state.directory.grant(name, list, actor) : state.directory.revokeGrants(name, list, actor);
  return changed(request, state, s, {{"name", name}, {"grants", grantsJson(list)}});
}

HttpResponse importUnits(const HttpRequest& request, ServerState& state, const Actor& actor) {
  auto units = parseUnitsCsv(request.body());
  if (!units) return statusResponse(request, units.status());
  auto summary = state.directory.importUnits(*units, actor);
  if (!summary) return statusResponse(request, summary.status());
  if (summary->added + summary->updated > 0) state.access_changed();
  return jsonResponse(request, http::status::ok,
                      {{"added", summary->added}, {"updated", summary->updated}, {"unchanged", summary->unchanged}});
}

HttpResponse listUnits(const HttpRequest& request, ServerState& state) {
  auto tree = state.directory.units();
  json out = json::array();
  for (const auto& u : tree->all()) {
    out.push_back({{"code", u.code},
                   {"parent_code", u.parent_code},
                   {"level", unitLevelName(u.level)},
                   {"name", u.name},
                   {"merged_into", u.merged_into}});
  }
  return jsonResponse(request, http::status::ok, {{"units", out}});
}

HttpResponse mergeUnits(const HttpRequest& request, ServerState& state, const Actor& actor) {
  auto parsed = jsonBody(request);
  if (auto* res = std::get_if<HttpResponse>(&parsed)) return std::move(*res);
  const auto& body = std::get<json>(parsed);
  auto old = stringList(body, "old");
  if (auto* e = std::get_if<std::string>(&old)) {
    return errorResponse(request, http::status::bad_request, "invalid_argument", *e);
  }
  const auto into = stringField(body, "into");
  return changed(request, state, state.directory.mergeUnits(std::get<std::vector<std::string>>(old), into, actor),
                 {{"into", into}});
}

HttpResponse publishForm(const HttpRequest& request, ServerState& state, const Actor& actor) {
  auto form = sync::parseForm(request.body());
  if (!form) return statusResponse(request, form.status());
  form->version = 0;  // the server numbers versions
  auto published = state.publish_form(std::move(form).value());
  if (!published) return statusResponse(request, published.status());
  state.directory.audit(actor, "form_publish", published->name + "@" + std::to_string(published->version));
  return jsonResponse(request, http::status::created, {{"name", published->name}, {"version", published->version}});
}

HttpResponse listForms(const HttpRequest& request, ServerState& state) {
  json out = json::array();
  for (const auto& f : state.forms.all()) {
    out.push_back({{"name", f->name}, {"version", f->version}, {"title", {{"vi", f->title.vi}, {"en", f->title.en}}}});
  }
  return jsonResponse(request, http::status::ok, {{"forms", out}});
}

HttpResponse showForm(const HttpRequest& request, ServerState& state, std::string_view name, std::string_view query) {
  std::uint32_t version = 0;
  if (auto at = query.find("version="); at != std::string_view::npos) {
    auto text = query.substr(at + 8);
    text = text.substr(0, text.find('&'));
    std::from_chars(text.data(), text.data() + text.size(), version);
  }
  auto form = state.forms.find(name, version);
  if (form == nullptr) {
    return errorResponse(
        request, http::status::not_found, "not_found",
        "no form '" + std::string(name) + "'" + (version != 0 ? " version " + std::to_string(version) : ""));
  }
  HttpResponse res = jsonResponse(request, http::status::ok, json::parse(sync::formToJson(*form)));
  return res;
}

HttpResponse auditLog(const HttpRequest& request, ServerState& state, std::string_view query) {
  std::size_t limit = 100;
  if (auto at = query.find("limit="); at != std::string_view::npos) {
    auto text = query.substr(at + 6);
    text = text.substr(0, text.find('&'));
    std::from_chars(text.data(), text.data() + text.size(), limit);
  }
  auto entries = state.directory.auditLog(limit);
  if (!entries) return statusResponse(request, entries.status());
  json out = json::array();
  for (const auto& e : *entries) {
    out.push_back({{"seq", e.seq},
                   {"time_ms", e.time_ms},
                   {"actor", e.actor},
                   {"from", e.from},
                   {"action", e.action},
                   {"detail", e.detail}});
  }
  return jsonResponse(request, http::status::ok, {{"entries", out}});
}

HttpResponse admin(const HttpRequest& request, ServerState& state, const std::string& peer, std::string_view path,
                   std::string_view query) {
  auto actor = adminActor(request, state, peer);
  if (!actor) {
    auto res = errorResponse(request, http::status::unauthorized, "unauthorized",
                             "the admin API needs 'Authorization: Bearer <token>' with the admin token "
                             "(<data>/admin.token) or the token of a user granted admin");
    res.set(http::field::www_authenticate, "Bearer");
    return res;
  }
  const auto method = request.method();
  auto wrongMethod = [&](const char* use) {
    return errorResponse(request, http::status::method_not_allowed, "method_not_allowed", std::string("use ") + use);
  };
  if (path == "/admin/users") {
    if (method == http::verb::post) return addUser(request, state, *actor);
    if (method == http::verb::get) return listUsers(request, state);
    return wrongMethod("GET or POST");
  }
  if (path.substr(0, 13) == "/admin/users/") {
    auto rest = path.substr(13);
    auto slash = rest.rfind('/');
    if (slash != std::string_view::npos && slash > 0) {
      const auto action = rest.substr(slash + 1);
      if (action == "grant" || action == "revoke" || action == "passwd") {
        if (method != http::verb::post) return wrongMethod("POST");
        return userAction(request, state, *actor, std::string(rest.substr(0, slash)), action);
      }
    }
  }
  if (path == "/admin/units") {
    if (method != http::verb::get) return wrongMethod("GET");
    return listUnits(request, state);
  }
  if (path == "/admin/units/import") {
    if (method != http::verb::post) return wrongMethod("POST");
    return importUnits(request, state, *actor);
  }
  if (path == "/admin/units/merge") {
    if (method != http::verb::post) return wrongMethod("POST");
    return mergeUnits(request, state, *actor);
  }
  if (path == "/admin/forms") {
    if (method == http::verb::post) return publishForm(request, state, *actor);
    if (method == http::verb::get) return listForms(request, state);
    return wrongMethod("GET or POST");
  }
  if (path.substr(0, 13) == "/admin/forms/") {
    if (method != http::verb::get) return wrongMethod("GET");
    return showForm(request, state, path.substr(13), query);
  }
  if (path == "/admin/audit") {
    if (method != http::verb::get) return wrongMethod("GET");
    return auditLog(request, state, query);
  }
  return errorResponse(request, http::status::not_found, "not_found", "no such path: " + std::string(path));
}

}  // namespace

std::string_view bearerToken(const HttpRequest& request) {
  auto it = request.find(http::field::authorization);
  if (it == request.end()) return {};
  std::string_view value = it->value();
  constexpr std::string_view kPrefix = "Bearer ";
  if (value.size() <= kPrefix.size() || value.substr(0, kPrefix.size()) != kPrefix) return {};
  return value.substr(kPrefix.size());
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

HttpResponse handleHttp(const HttpRequest& request, ServerState& state, const std::string& peer,
                        bool peer_is_loopback) {
  if (auto s = checkOrigin(request, state); !s) return statusResponse(request, s);
  const std::string_view target(request.target().data(), request.target().size());
  const auto question = target.find('?');
  const auto path = target.substr(0, question);
  const auto query = question == std::string_view::npos ? std::string_view() : target.substr(question + 1);
  if (path == "/healthz") {
    if (request.method() != http::verb::get && request.method() != http::verb::head) {
      return errorResponse(request, http::status::method_not_allowed, "method_not_allowed", "use GET");
    }
    return jsonResponse(request, http::status::ok, {{"status", "ok"}, {"incarnation", state.store.incarnationId()}});
  }
  if (path == "/login") return login(request, state, peer);
  if (path.substr(0, 5) == "/api/") return reconcileApi(request, state, peer, path, query);
  if (path.substr(0, 7) == "/admin/") {
    if (!peer_is_loopback && !state.admin_remote) {
      return errorResponse(request, http::status::forbidden, "forbidden",
                           "the admin API answers only on this machine (loopback); see admin_remote in "
                           "docs/operations.md");
    }
    return admin(request, state, peer, path, query);
  }
  if (state.web) return serveWebFile(request, *state.web, path);
  if (path == "/" || path == "/index.html") {
    return errorResponse(request, http::status::not_found, "not_found",
                         "the dashboard's files are not installed here (see web_dir in docs/operations.md)");
  }
  return errorResponse(request, http::status::not_found, "not_found", "no such path: " + std::string(path));
}

}  // namespace communesync::server
