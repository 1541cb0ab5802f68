#include "http_session.hpp"

#include "communesync/server/tuning.hpp"

namespace communesync::server {

HttpSession::HttpSession(tcp::socket&& socket, ServerState& state) : stream_(std::move(socket)), state_(state) {}

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
  response_ = std::make_shared<HttpResponse>(handleHttp(request, state_));
  const bool keep_alive = response_->keep_alive();
  stream_.expires_after(tuning::kHandshakeTimeout);
  http::async_write(stream_, *response_,
                    beast::bind_front_handler(&HttpSession::onWrite, shared_from_this(), keep_alive));
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
