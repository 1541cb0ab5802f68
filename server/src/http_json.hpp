// JSON answers of the server's HTTP side, shared by the admin API and the reconciliation API.
// Private to server/.
#pragma once

#include <nlohmann/json.hpp>
#include <variant>

#include "communesync/server/http_handler.hpp"

namespace communesync::server {

inline HttpResponse jsonResponse(const HttpRequest& request, http::status status, const nlohmann::json& body) {
  HttpResponse res{status, request.version()};
  res.set(http::field::server, "communesync");
  res.set(http::field::content_type, "application/json; charset=utf-8");
  res.set(http::field::cache_control, "no-store");
  res.keep_alive(request.keep_alive());
  res.body() = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  res.prepare_payload();
  return res;
}

inline HttpResponse errorResponse(const HttpRequest& request, http::status status, std::string_view code,
                                  std::string message) {
  return jsonResponse(request, status, {{"error", code}, {"message", std::move(message)}});
}

inline http::status httpStatusOf(const Status& s) {
  switch (s.code()) {
    case ErrorCode::kInvalidArgument:
      return s.message().find("already exists") != std::string::npos ? http::status::conflict
                                                                     : http::status::bad_request;
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

inline HttpResponse statusResponse(const HttpRequest& request, const Status& s) {
  return errorResponse(request, httpStatusOf(s), errorCodeName(s.code()), s.message());
}

// The body as a JSON object, or an error response.
inline std::variant<nlohmann::json, HttpResponse> jsonBody(const HttpRequest& request) {
  nlohmann::json body = nlohmann::json::parse(request.body(), nullptr, false);
  if (body.is_discarded() || !body.is_object()) {
    return errorResponse(request, http::status::bad_request, "invalid_argument", "the body must be a JSON object");
  }
  return body;
}

}  // namespace communesync::server
