#include "communesync/server/http_handler.hpp"

#include <nlohmann/json.hpp>

namespace communesync::server {
namespace {

HttpResponse jsonResponse(const HttpRequest& request, http::status status, const nlohmann::json& body) {
  HttpResponse res{status, request.version()};
  res.set(http::field::server, "communesync");
  res.set(http::field::content_type, "application/json; charset=utf-8");
  res.set(http::field::cache_control, "no-store");
  res.keep_alive(request.keep_alive());
  res.body() = body.dump() + "\n";
  res.prepare_payload();
  return res;
}

HttpResponse errorResponse(const HttpRequest& request, http::status status, std::string_view code,
                           std::string message) {
  return jsonResponse(request, status, {{"error", code}, {"message", std::move(message)}});
}

http::status httpStatusOf(ErrorCode code) {
  switch (code) {
    case ErrorCode::kInvalidArgument:
      return http::status::bad_request;
    case ErrorCode::kNotFound:
      return http::status::not_found;
    case ErrorCode::kUnauthorized:
      return http::status::unauthorized;
    case ErrorCode::kForbidden:
      return http::status::forbidden;
    case ErrorCode::kLimitExceeded:
      return http::status::payload_too_large;
    case ErrorCode::kBusy:
      return http::status::service_unavailable;
    default:
      return http::status::internal_server_error;
  }
}

HttpResponse addUser(const HttpRequest& request, ServerState& state) {
  nlohmann::json body = nlohmann::json::parse(request.body(), nullptr, false);
  if (body.is_discarded() || !body.is_object()) {
    return errorResponse(request, http::status::bad_request, "invalid_argument", "the body must be a JSON object");
  }
  if (!body.contains("name") || !body["name"].is_string()) {
    return errorResponse(request, http::status::bad_request, "invalid_argument", "\"name\" must be a string");
  }
  if (!body.contains("scopes") || !body["scopes"].is_array()) {
    return errorResponse(request, http::status::bad_request, "invalid_argument",
                         "\"scopes\" must be a list of unit codes");
  }
  std::vector<Scope> scopes;
  for (const auto& s : body["scopes"]) {
    if (!s.is_string()) {
      return errorResponse(request, http::status::bad_request, "invalid_argument", "every scope must be a string");
    }
    scopes.push_back(s.get<std::string>());
  }
  const auto name = body["name"].get<std::string>();
  auto token = state.data.createUser(name, scopes);
  if (!token) {
    const auto code = token.status().code();
    auto status = token.status().message().find("already exists") != std::string::npos ? http::status::conflict
                                                                                       : httpStatusOf(code);
    return errorResponse(request, status, errorCodeName(code), token.status().message());
  }
  return jsonResponse(request, http::status::created, {{"name", name}, {"scopes", scopes}, {"token", *token}});
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

HttpResponse handleHttp(const HttpRequest& request, ServerState& state) {
  const auto target = request.target();
  const auto path = target.substr(0, target.find('?'));
  if (path == "/healthz") {
    if (request.method() != http::verb::get && request.method() != http::verb::head) {
      return errorResponse(request, http::status::method_not_allowed, "method_not_allowed", "use GET");
    }
    return jsonResponse(
        request, http::status::ok,
        {{"status", "ok"}, {"incarnation", state.store.incarnationId()}, {"last_seq", state.data.lastSeq()}});
  }
  if (path.substr(0, 7) == "/admin/") {
    if (!state.data.isAdminToken(bearerToken(request))) {
      auto res = errorResponse(request, http::status::unauthorized, "unauthorized",
                               "the admin API needs 'Authorization: Bearer <admin token>' (see <data>/admin.token)");
      res.set(http::field::www_authenticate, "Bearer");
      return res;
    }
    if (path == "/admin/users") {
      if (request.method() != http::verb::post) {
        return errorResponse(request, http::status::method_not_allowed, "method_not_allowed", "use POST");
      }
      return addUser(request, state);
    }
  }
  return errorResponse(request, http::status::not_found, "not_found", "no such path: " + std::string(path));
}

}  // namespace communesync::server
