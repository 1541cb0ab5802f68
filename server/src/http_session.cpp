#include "http_session.hpp"

#include <boost/algorithm/string.hpp>

#include "communesync/server/tuning.hpp"
#include "sync_session.hpp"

namespace communesync::server {

HttpSession::HttpSession(tcp::socket&& socket, ServerContext& context)
    : stream_(std::move(socket)), context_(context) {}

void HttpSession::run() {
  // Start on the connection's strand: every handler of this session runs there, one at a time.
  net::dispatch(stream_.get_executor(), beast::bind_front_handler(&HttpSession::doRead, shared_from_this()));
}

void HttpSession::doRead() {
  parser_.emplace();
  parser_->body_limit(tuning::kMaxHttpBodyBytes);
  parser_->header_limit(static_cast<std::uint32_t>(tuning::kMaxHttpHeaderBytes));
  stream_.expires_after(tuning::kHttpIdleTimeout);
  http::async_read(stream_, buffer_, *parser_, beast::bind_front_handler(&HttpSession::onRead, shared_from_this()));
}

void HttpSession::onRead(beast::error_code ec, std::size_t /*bytes*/) {
  if (ec == http::error::end_of_stream || ec == beast::error::timeout || ec == net::error::operation_aborted) {
    return doClose();
  }
  if (ec) {
    // Bad request framing or a limit passed: answer once if we can, then close.
    response_ = std::make_shared<HttpResponse>(http::status::bad_request, 11);
    response_->set(http::field::content_type, "application/json; charset=utf-8");
    response_->body() = std::string(R"({"error":"bad_request","message":")") + ec.message() + "\"}\n";
    response_->keep_alive(false);
    response_->prepare_payload();
    stream_.expires_after(tuning::kHandshakeTimeout);
    return http::async_write(stream_, *response_,
                             beast::bind_front_handler(&HttpSession::onWrite, shared_from_this(), false));
  }
  auto request = parser_->release();
  if (websocket::is_upgrade(request)) return upgrade(std::move(request));
  beast::error_code peer_ec;
  const auto peer = stream_.socket().remote_endpoint(peer_ec).address();
  reply(handleHttp(request, context_.state, peer_ec ? "unknown" : peer.to_string(), !peer_ec && peer.is_loopback()));
}

void HttpSession::reply(HttpResponse response) {
  response_ = std::make_shared<HttpResponse>(std::move(response));
  const bool keep_alive = response_->keep_alive();
  stream_.expires_after(tuning::kHandshakeTimeout);
  http::async_write(stream_, *response_,
                    beast::bind_front_handler(&HttpSession::onWrite, shared_from_this(), keep_alive));
}

void HttpSession::upgrade(HttpRequest request) {
  auto refuse = [&](http::status status, std::string_view code, const std::string& message) {
    HttpResponse res{status, request.version()};
    res.set(http::field::content_type, "application/json; charset=utf-8");
    if (status == http::status::unauthorized) res.set(http::field::www_authenticate, "Bearer");
    res.body() = std::string(R"({"error":")") + std::string(code) + R"(","message":")" + message + "\"}\n";
    res.keep_alive(false);
    res.prepare_payload();
    reply(std::move(res));
  };
  const auto target = request.target();
  if (target.substr(0, target.find('?')) != "/sync") {
    return refuse(http::status::not_found, "not_found", "WebSocket sync is served on /sync");
  }
  bool offered = false;
  if (auto it = request.find(http::field::sec_websocket_protocol); it != request.end()) {
    std::vector<std::string> names;
    boost::split(names, std::string(it->value()), boost::is_any_of(","));
    for (auto& n : names) offered |= boost::trim_copy(n) == sync::proto::kSubprotocol;
  }
  if (!offered) {
    return refuse(http::status::bad_request, "protocol",
                  "offer the WebSocket subprotocol " + std::string(sync::proto::kSubprotocol));
  }
  if (auto s = checkOrigin(request, context_.state); !s)
    return refuse(http::status::forbidden, "forbidden", s.message());
  const std::string token(bearerToken(request));
  auto principal = context_.state.directory.authenticate(token);
  if (!principal) return refuse(http::status::service_unavailable, "busy", principal.status().message());
  if (!principal->has_value()) {
    return refuse(http::status::unauthorized, "unauthorized", "a valid token is needed: Authorization: Bearer <token>");
  }
  std::make_shared<SyncSession>(stream_.release_socket(), context_, token, std::move(**principal))
      ->run(std::move(request));
}

void HttpSession::onWrite(bool keep_alive, beast::error_code ec, std::size_t /*bytes*/) {
  response_.reset();
  if (ec || !keep_alive) return doClose();
  doRead();
}

void HttpSession::doClose() {
  beast::error_code ec;
  stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
  stream_.socket().close(ec);
}

}  // namespace communesync::server
