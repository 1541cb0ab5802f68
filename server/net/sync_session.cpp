#include "net/sync_session.hpp"

#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <chrono>

#include "base/log.hpp"
#include "base/tuning.hpp"
#include "communesync/sync/frame.hpp"

namespace communesync::server {

namespace proto = sync::proto;

template <class Stream>
SyncSession<Stream>::SyncSession(Stream&& stream, ServerContext& context, std::string token, Principal principal,
                                 std::vector<Admission::Ticket> tickets)
    : ws_(std::move(stream)),
      context_(context),
      token_(std::move(token)),
      principal_(std::move(principal)),
      tickets_(std::move(tickets)),
      // A burst may spend kBurstSeconds of the rate at once (and the bytes of one largest message).
      messages_(context.limits.messages_per_second,
                std::max(1.0, context.limits.messages_per_second * tuning::kBurstSeconds)),
      bytes_(context.limits.bytes_per_second, std::max(static_cast<double>(tuning::kMaxMessageBytes),
                                                       context.limits.bytes_per_second * tuning::kBurstSeconds)) {}

template <class Stream>
void SyncSession<Stream>::run(HttpRequest request) {
  std::weak_ptr<SyncSession> weak = this->shared_from_this();
  handler_.emplace(
      context_.state.data, context_.state.directory, static_cast<PushSink&>(*this), std::move(token_),
      std::move(principal_),
      [weak](std::string frame) {
        if (auto self = weak.lock()) self->send(std::move(frame));
      },
      [] {
        return std::chrono::duration_cast<std::chrono::milliseconds>(
            std::chrono::system_clock::now().time_since_epoch());
      },
      [weak, this](const std::vector<Scope>& scopes) {
        if (auto self = weak.lock()) context_.hub.join(scopes, self, !std::exchange(joined_hub_, true));
      });
  handler_->setRates(context_.limits.messages_per_second, context_.limits.bytes_per_second);

  beast::get_lowest_layer(ws_).expires_never();  // the websocket stream's own timeouts take over
  websocket::stream_base::timeout timeouts{};
  timeouts.handshake_timeout = context_.limits.handshake_timeout;
  timeouts.idle_timeout = context_.limits.session_idle_timeout;
  timeouts.keep_alive_pings = true;  // pings at half the idle timeout; no traffic, no polling
  ws_.set_option(timeouts);
  ws_.set_option(websocket::stream_base::decorator([](websocket::response_type& res) {
    res.set(http::field::server, "communesync");
    res.set(http::field::sec_websocket_protocol, proto::kSubprotocol);
  }));
  // A larger message is refused by Beast with close code 1009 (message too big).
  ws_.read_message_max(tuning::kMaxMessageBytes);
  ws_.binary(true);
  ws_.async_accept(request, beast::bind_front_handler(&SyncSession::onAccept, this->shared_from_this()));
}

// Why a read or a write failed, for the operator: the socket's own words, or what it means here.
std::pair<LogLevel, std::string> endOfSocket(const beast::error_code& ec) {
  if (ec == websocket::error::closed) return {LogLevel::kDebug, "closed by the device"};
  if (ec == beast::error::timeout) return {LogLevel::kInfo, "timed out (no message or pong within the idle timeout)"};
  if (ec == websocket::error::message_too_big) return {LogLevel::kWarn, "a message over the limit (close 1009)"};
  if (ec == net::error::operation_aborted) return {LogLevel::kDebug, "closed by the server"};
  return {LogLevel::kInfo, "socket error: " + ec.message()};
}

template <class Stream>
void SyncSession<Stream>::ended(LogLevel level, const std::string& why) {
  if (std::exchange(end_logged_, true) || !logEnabled(level)) return;
  const auto& who = handler_ ? handler_->principal() : principal_;
  const auto device = handler_ && !handler_->device().isNil() ? handler_->device() : who.device;
  logEvent(level, "session_end", {{"user", who.user}, {"device", device.hex()}, {"reason", why}});
}

template <class Stream>
void SyncSession<Stream>::onAccept(beast::error_code ec) {
  if (ec) {  // the device went away during the handshake, or was too slow
    auto [level, why] = endOfSocket(ec);
    return ended(level, "handshake: " + why);
  }
  doRead();
}

template <class Stream>
void SyncSession<Stream>::doRead() {
  ws_.async_read(buffer_, beast::bind_front_handler(&SyncSession::onRead, this->shared_from_this()));
}

template <class Stream>
void SyncSession<Stream>::onRead(beast::error_code ec, std::size_t bytes) {
  if (ec) {
    closing_ = true;  // closed by the device, timed out, cut, or too big (Beast sent 1009)
    auto [level, why] = endOfSocket(ec);
    return ended(level, why);
  }
  if (!messages_.take(1) || !bytes_.take(static_cast<double>(bytes))) {
    return fail(websocket::close_code::policy_error, "too many messages; slow down");
  }
  const auto data = buffer_.data();
  std::string_view frame(static_cast<const char*>(data.data()), data.size());
  auto envelope = proto::decodeFrame(frame, tuning::kMaxMessageBytes);
  buffer_.consume(buffer_.size());
  if (!envelope) {
    handler_->undecodable(envelope.status());
    return fail(envelope.status().code() == ErrorCode::kLimitExceeded ? websocket::close_code::too_big
                                                                      : websocket::close_code::policy_error,
                "undecodable message");
  }
  if (auto s = handler_->handle(*envelope); !s) {
    return fail(
        s.code() == ErrorCode::kProtocol ? websocket::close_code::protocol_error : websocket::close_code::policy_error,
        s.message().substr(0, 100));
  }
  if (!closing_) doRead();
}

template <class Stream>
bool SyncSession<Stream>::submit(std::shared_ptr<PushJob> job, std::function<void(const Status&)> done) {
  auto self = this->shared_from_this();
  return context_.writer.submit(std::move(job), [self, done = std::move(done)](const Status& status) {
    // On the writer thread: hand over to the session's strand (the session, and so its handler,
    // kept alive until `done` has run: the reply touches the handler's state).
    net::post(self->ws_.get_executor(), [self, done, status] { done(status); });
  });
}

template <class Stream>
void SyncSession<Stream>::notify(const proto::Checkpoints& latest) {
  net::post(ws_.get_executor(), [self = this->shared_from_this(), latest] {
    if (!self->closing_) self->handler_->notify(latest);
  });
}

template <class Stream>
void SyncSession<Stream>::recheck() {
  net::post(ws_.get_executor(), [self = this->shared_from_this()] {
    if (self->closing_) return;
    if (auto s = self->handler_->recheck(); !s) {
      self->fail(websocket::close_code::policy_error, s.message().substr(0, 100));
    }
  });
}

template <class Stream>
void SyncSession<Stream>::closeGoingAway() {
  net::post(ws_.get_executor(),
            [self = this->shared_from_this()] { self->fail(websocket::close_code::going_away, "server stopping"); });
}

template <class Stream>
void SyncSession<Stream>::send(std::string frame) {
  if (closing_) return;
  if (queue_.size() >= tuning::kMaxSendQueue || queued_bytes_ + frame.size() > tuning::kMaxSendQueueBytes) {
    return fail(websocket::close_code::try_again_later, "the device does not read its messages");
  }
  queued_bytes_ += frame.size();
  queue_.push_back(std::move(frame));
  if (queue_.size() == 1) doWrite();
}

template <class Stream>
void SyncSession<Stream>::doWrite() {
  ws_.async_write(net::buffer(queue_.front()),
                  beast::bind_front_handler(&SyncSession::onWrite, this->shared_from_this()));
}

template <class Stream>
void SyncSession<Stream>::onWrite(beast::error_code ec, std::size_t /*bytes*/) {
  if (ec) {
    closing_ = true;
    auto [level, why] = endOfSocket(ec);
    return ended(level, "writing: " + why);
  }
  queued_bytes_ -= queue_.front().size();
  queue_.pop_front();
  if (!queue_.empty()) doWrite();
}

template <class Stream>
void SyncSession<Stream>::fail(websocket::close_code code, const std::string& reason) {
  if (closing_) return;
  closing_ = true;
  // The server stopping is no news about the device; every other close by the server is.
  ended(code == websocket::close_code::going_away ? LogLevel::kDebug : LogLevel::kWarn,
        "closed by the server (" + std::to_string(static_cast<int>(code)) + "): " + reason);
  // Beast lets a close wait for a write in flight to finish.
  ws_.async_close(websocket::close_reason(code, reason), [self = this->shared_from_this()](beast::error_code) {});
}

template class SyncSession<beast::tcp_stream>;
template class SyncSession<beast::ssl_stream<beast::tcp_stream>>;

}  // namespace communesync::server
