// One TCP connection speaking HTTP/1.1: reads requests one at a time and answers them, with a
// deadline on every read and write. A WebSocket upgrade on /sync is handed to a SyncSession.
//
// Stream is beast::tcp_stream, or beast::ssl_stream<beast::tcp_stream> when the port speaks TLS
// (the TLS handshake comes first, under the handshake timeout).
#pragma once

#include <memory>
#include <optional>

#include "base/tuning.hpp"
#include "http/router.hpp"
#include "net/admission.hpp"
#include "net/client_address.hpp"
#include "net/context.hpp"
#include "net/net.hpp"

namespace communesync::server {

template <class Stream>
class HttpSession : public std::enable_shared_from_this<HttpSession<Stream>> {
 public:
  //! `ticket` holds this connection's place among its address's.
  HttpSession(Stream&& stream, ServerContext& context, Admission::Ticket ticket);
  void run();

 private:
  void onHandshake(beast::error_code ec);
  void doRead();
  // The header is in: decide how much body this request may bring, and read it.
  void onHeader(beast::error_code ec, std::size_t bytes);
  void onRead(beast::error_code ec, std::size_t bytes);
  void onWrite(bool keep_alive, beast::error_code ec, std::size_t bytes);
  void doClose();
  //! Hands a WebSocket upgrade to a SyncSession after checking path, subprotocol, origin and token.
  void upgrade(HttpRequest request);
  void reply(HttpResponse response);
  //! Who sent `request`: the peer, or the client a trusted proxy names (net/client_address.hpp).
  ClientAddress clientOf(const HttpRequest& request);

  Stream stream_;
  // What was read and not yet parsed: a header at most (a body goes into the parser's request).
  beast::flat_buffer buffer_{tuning::kMaxHttpHeaderBytes + 4096};
  ServerContext& context_;
  Admission::Ticket ticket_;
  Admission::Ticket body_ticket_;  // the current request's body bytes among the server's
  std::optional<http::request_parser<http::string_body>> parser_;
  std::shared_ptr<HttpResponse> response_;  // kept alive until its write completes
  std::size_t served_ = 0;                  // requests answered on this connection
};

//! Starts the right kind of session for a freshly accepted socket.
void startHttpSession(tcp::socket socket, ServerContext& context);

}  // namespace communesync::server
