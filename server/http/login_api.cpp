// Health and device login: the only routes anyone may call (Right::kAnyone).
#include "base/metrics.hpp"
#include "http/handlers.hpp"

namespace communesync::server {

using nlohmann::json;

HttpResponse health(const ApiCall& call) {
  return call.ok({{"status", "ok"}, {"incarnation", call.state.store.incarnationId()}});
}

HttpResponse fieldAppSettings(const ApiCall& call) {
  auto res = call.ok(call.state.field_app);
  res.set(http::field::cache_control, "no-cache");  // the app's service worker revalidates it
  return res;
}

// A name and password, or (no password) the bearer token of `user add` exchanged for the device's own.
HttpResponse login(const ApiCall& call) {
  auto& state = call.state;
  auto body = jsonBody(call.request);
  if (!body) return call.fail(body.status());
  auto device = sync::DeviceId::fromHex(stringField(*body, "device"));
  if (!device) {
    return call.fail(Status::error(ErrorCode::kInvalidArgument, "\"device\" must be the device id (32 hex digits)"));
  }
  const bool with_password = body->contains("password");
  const std::string name = with_password ? stringField(*body, "user") : std::string();
  auto token = with_password ? state.directory.login(name, stringField(*body, "password"), *device, call.peer)
                             : state.directory.exchangeToken(bearerToken(call.request), *device, call.peer);
  if (!token) {
    // A throttled login (login_throttle.hpp) is told apart from "too many password checks at once"
    // (both kBusy) by the wait the throttle still holds for this address and name.
    const auto wait = state.directory.loginWait(call.peer, name);
    if (token.status().code() == ErrorCode::kBusy && wait > std::chrono::steady_clock::duration::zero()) {
      metrics().logins_throttled.fetch_add(1, std::memory_order_relaxed);
      auto res =
          errorResponse(call.request, http::status::too_many_requests, "too_many_attempts", token.status().message());
      res.set(http::field::retry_after, std::to_string(waitSeconds(wait)));
      return res;
    }
    if (token.status().code() == ErrorCode::kUnauthorized || token.status().code() == ErrorCode::kForbidden) {
      metrics().logins_failed.fetch_add(1, std::memory_order_relaxed);
    }
    return call.fail(token.status());
  }
  state.access_changed();  // a new login replaced the device's old token
  auto principal = state.directory.authenticate(*token);
  if (!principal || !principal->has_value()) {
    return call.fail(Status::error(ErrorCode::kBusy, "retry the login"));
  }
  json scopes = state.directory.accessOf((*principal)->grants).readable();
  return call.ok({{"user", (*principal)->user}, {"token", *token}, {"scopes", scopes}});
}

}  // namespace communesync::server
