// One device's WebSocket session. Like Beast's chat example: a strand per session (the socket's
// executor), shared_from_this() bound into every handler, one read and one write in flight, and a
// bounded send queue (a device that does not read is closed rather than allowed to eat memory).
//
// Message flow: hello -> welcome; then any number of pull and push requests, pushes pipelined up
// to the window in Limits. Push results are sent only after the writer's durable commit.
#pragma once

#include <deque>
#include <memory>
#include <set>
#include <string>

#include "communesync/server/http_handler.hpp"
#include "communesync/sync/messages.hpp"
#include "context.hpp"
#include "net.hpp"

namespace communesync::server {

class SyncSession : public std::enable_shared_from_this<SyncSession> {
 public:
  SyncSession(tcp::socket&& socket, ServerContext& context, User user);
  //! Completes the WebSocket handshake for the already-read upgrade request, then serves.
  void run(HttpRequest request);
  //! Thread-safe: tells the device its scopes have new data (coalesced until it pulls).
  void notify(std::uint64_t seq);
  //! Thread-safe: closes with "going away" (server shutdown).
  void closeGoingAway();

 private:
  void onAccept(beast::error_code ec);
  void doRead();
  void onRead(beast::error_code ec, std::size_t bytes);
  void handle(const sync::proto::Envelope& envelope);
  void onHello(const sync::proto::Envelope& envelope);
  void onPush(const sync::proto::Envelope& envelope);
  void onPull(const sync::proto::Envelope& envelope);
  void sendError(std::uint64_t request_id, const Status& status);
  void send(std::string frame);
  void doWrite();
  void onWrite(beast::error_code ec, std::size_t bytes);
  void fail(websocket::close_code code, const std::string& reason);

  websocket::stream<beast::tcp_stream> ws_;
  beast::flat_buffer buffer_;
  ServerContext& context_;
  User user_;
  std::set<sync::Scope, std::less<>> scopes_;
  sync::DeviceId device_;
  bool hello_done_ = false;
  bool notify_pending_ = false;
  bool closing_ = false;
  std::uint32_t pushes_in_flight_ = 0;
  std::deque<std::string> queue_;
};

}  // namespace communesync::server
