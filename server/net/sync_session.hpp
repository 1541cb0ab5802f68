// One device's WebSocket session. Like Beast's chat example: a strand per session (the socket's
// executor), shared_from_this() bound into every handler, one read and one write in flight, and a
// bounded send queue (a device that does not read is closed rather than allowed to eat memory).
// What the messages mean is SyncHandler's business; this class only moves frames, and enforces the
// per-session limits: message rate, byte rate, queued bytes.
//
// Stream is beast::tcp_stream (ws://) or beast::ssl_stream<beast::tcp_stream> (wss://).
#pragma once

#include <deque>
#include <memory>
#include <optional>
#include <string>

#include "base/log.hpp"
#include "http/router.hpp"
#include "net/context.hpp"
#include "net/net.hpp"
#include "net/rate_limiter.hpp"
#include "protocol/sync_handler.hpp"

namespace communesync::server {

template <class Stream>
class SyncSession : public LiveSession, public std::enable_shared_from_this<SyncSession<Stream>>, private PushSink {
 public:
  //! `tickets` hold this session's places (its connection, its user's session count).
  SyncSession(Stream&& stream, ServerContext& context, std::string token, Principal principal,
              std::vector<Admission::Ticket> tickets);
  //! Completes the WebSocket handshake for the already-read upgrade request, then serves.
  void run(HttpRequest request);
  void notify(const sync::proto::Checkpoints& latest) override;
  void recheck() override;
  void closeGoingAway() override;

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
  //! Logs, once per session, why it ended (base/log.hpp: event session_end).
  void ended(LogLevel level, const std::string& why);

  websocket::stream<Stream> ws_;
  beast::flat_buffer buffer_;
  ServerContext& context_;
  std::string token_;
  Principal principal_;
  std::vector<Admission::Ticket> tickets_;
  std::optional<SyncHandler> handler_;
  RateLimiter messages_;
  RateLimiter bytes_;
  bool closing_ = false;
  bool end_logged_ = false;
  bool joined_hub_ = false;
  std::deque<std::string> queue_;
  std::size_t queued_bytes_ = 0;
};

}  // namespace communesync::server
