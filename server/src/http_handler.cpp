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

HttpResponse errorResponse(const HttpRequest& request, http::status status, std::string_view code, std::string message) {
  return jsonResponse(request, status, {{"error", code}, {"message", std::move(message)}});
}

}  // namespace

HttpResponse handleHttp(const HttpRequest& request, ServerState& state) {
  const auto target = request.target();
  const auto path = target.substr(0, target.find('?'));
  if (path == "/healthz") {
    if (request.method() != http::verb::get && request.method() != http::verb::head) {
      return errorResponse(request, http::status::method_not_allowed, "method_not_allowed", "use GET");
    }
    return jsonResponse(request, http::status::ok,
                        {{"status", "ok"}, {"incarnation", state.store.incarnationId()}});
  }
  return errorResponse(request, http::status::not_found, "not_found", "no such path: " + std::string(path));
}

}  // namespace communesync::server
