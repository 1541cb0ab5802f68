// JSON answers of the server's HTTP side: every answer and every error is built here. An error is
// {"error": CODE, "message": TEXT}; its HTTP status follows from the ErrorCode alone. Private to server/.
#pragma once

#include <nlohmann/json.hpp>

#include "http/server_state.hpp"

namespace communesync::server {

inline HttpResponse jsonResponse(const HttpRequest& request, http::status status, const nlohmann::json& body) {
  HttpResponse res{status, request.version()};
  res.set(http::field::server, "communesync");
  res.set(http::field::content_type, "application/json; charset=utf-8");
  res.set(http::field::cache_control, "no-store");
  res.set("X-Content-Type-Options", "nosniff");
  res.keep_alive(request.keep_alive());
  res.body() = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  res.prepare_payload();
  return res;
}

//! An error answer with a status and code of its own: for what no ErrorCode names (405, 429).
inline HttpResponse errorResponse(const HttpRequest& request, http::status status, std::string_view code,
                                  std::string message) {
  return jsonResponse(request, status, {{"error", code}, {"message", std::move(message)}});
}

//! The HTTP status of an error: from its code, never from its message.
constexpr http::status httpStatusOf(ErrorCode code) {
  switch (code) {
    case ErrorCode::kOk:
      return http::status::ok;
    case ErrorCode::kInvalidArgument:
    case ErrorCode::kRejected:
      return http::status::bad_request;
    case ErrorCode::kAlreadyExists:
      return http::status::conflict;
    case ErrorCode::kNotFound:
      return http::status::not_found;
    case ErrorCode::kUnauthorized:
      return http::status::unauthorized;
    case ErrorCode::kForbidden:
    case ErrorCode::kPermissionDenied:
      return http::status::forbidden;
    case ErrorCode::kLimitExceeded:
      return http::status::payload_too_large;
    case ErrorCode::kBusy:
    case ErrorCode::kUnavailable:
      return http::status::service_unavailable;
    case ErrorCode::kDeadlineExceeded:
      return http::status::gateway_timeout;
    case ErrorCode::kLocked:
    case ErrorCode::kNoSpace:
    case ErrorCode::kCorruption:
    case ErrorCode::kIoError:
    case ErrorCode::kProtocol:
    case ErrorCode::kCancelled:
    case ErrorCode::kInternal:
      return http::status::internal_server_error;
  }
  return http::status::internal_server_error;
}

inline HttpResponse statusResponse(const HttpRequest& request, const Status& s) {
  return errorResponse(request, httpStatusOf(s.code()), errorCodeName(s.code()), s.message());
}

}  // namespace communesync::server
