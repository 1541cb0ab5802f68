// One TCP connection speaking HTTP/1.1: reads requests one at a time and answers them, with a
// deadline on every read and write. A WebSocket upgrade on /sync is handed to a SyncSession.
#pragma once

#include <memory>
#include <optional>

#include "communesync/server/http_handler.hpp"
#include "context.hpp"
#include "net.hpp"

namespace communesync::server {

class HttpSession : public std::enable_shared_from_this<HttpSession> {
 public:
  HttpSession(tcp::socket&& socket, ServerContext& context);
  void run();

 private:
  void doRead();
  void onRead(beast::error_code ec, std::size_t bytes);
  void onWrite(bool keep_alive, beast::error_code ec, std::size_t bytes);
  void doClose();
  //! Hands a WebSocket upgrade to a SyncSession after checking path, subprotocol and token.
  void upgrade(HttpRequest request);
  void reply(HttpResponse response);

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  ServerContext& context_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::shared_ptr<HttpResponse> response_;  // kept alive until its write completes
};

}  // namespace communesync::server
