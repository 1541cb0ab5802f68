// One device's WebSocket session. Like Beast's chat example: a strand per session (the socket's
// executor), shared_from_this() bound into every handler, one read and one write in flight, and a
// bounded send queue (a device that does not read is closed rather than allowed to eat memory).
// What the messages mean is SyncHandler's business; this class only moves frames.
#pragma once

#include <deque>
#include <memory>
#include <optional>
#include <string>

#include "communesync/server/http_handler.hpp"
#include "communesync/server/sync_handler.hpp"
#include "context.hpp"
#include "net.hpp"

namespace communesync::server {

class SyncSession : public std::enable_shared_from_this<SyncSession>, private PushSink {
 public:
  SyncSession(tcp::socket&& socket, ServerContext& context, std::string token, Principal principal);
  //! Completes the WebSocket handshake for the already-read upgrade request, then serves.
  void run(HttpRequest request);
  //! Thread-safe: tells the device its scopes have new data (coalesced until it pulls).
  void notify(const sync::proto::Checkpoints& latest);
  //! Thread-safe: the directory changed; the session checks its rights (and closes if revoked).
  void recheck();
  //! Thread-safe: closes with "going away" (server shutdown).
  void closeGoingAway();

 private:
  // PushSink: hands the job to the writer; the result comes back on this session's strand.
  bool submit(std::shared_ptr<PushJob> job, std::function<void(const Status&)> done) override;

  void onAccept(beast::error_code ec);
  void doRead();
  void onRead(beast::error_code ec, std::size_t bytes);
  void send(std::string frame);
  void doWrite();
  void onWrite(beast::error_code ec, std::size_t bytes);
  void fail(websocket::close_code code, const std::string& reason);

  websocket::stream<beast::tcp_stream> ws_;
  beast::flat_buffer buffer_;
  ServerContext& context_;
  std::string token_;
  Principal principal_;
  std::optional<SyncHandler> handler_;
  bool closing_ = false;
  bool joined_hub_ = false;
  std::deque<std::string> queue_;
};

}  // namespace communesync::server
