#include "sync_session.hpp"

#include <chrono>

#include "communesync/server/tuning.hpp"
#include "communesync/sync/frame.hpp"

namespace communesync::server {
namespace {

namespace proto = sync::proto;

std::int64_t nowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

proto::Limits serverLimits() {
  return proto::Limits{tuning::kMaxMessageBytes, tuning::kMaxChangesPerPush, tuning::kMaxPushesInFlight,
                       tuning::kMaxPullBytes};
}

}  // namespace

SyncSession::SyncSession(tcp::socket&& socket, ServerContext& context, User user)
    : ws_(std::move(socket)), context_(context), user_(std::move(user)), scopes_(user_.scopes.begin(), user_.scopes.end()) {}

void SyncSession::run(HttpRequest request) {
  beast::get_lowest_layer(ws_).expires_never();  // the websocket stream's own timeouts take over
  websocket::stream_base::timeout timeouts{};
  timeouts.handshake_timeout = tuning::kHandshakeTimeout;
  timeouts.idle_timeout = tuning::kSessionIdleTimeout;
  timeouts.keep_alive_pings = true;  // pings at half the idle timeout; no traffic, no polling
  ws_.set_option(timeouts);
  ws_.set_option(websocket::stream_base::decorator([](websocket::response_type& res) {
    res.set(http::field::server, "communesync");
    res.set(http::field::sec_websocket_protocol, sync::proto::kSubprotocol);
  }));
  ws_.read_message_max(tuning::kMaxMessageBytes);
  ws_.binary(true);
  ws_.async_accept(request, beast::bind_front_handler(&SyncSession::onAccept, shared_from_this()));
}

void SyncSession::onAccept(beast::error_code ec) {
  if (ec) return;  // the device went away during the handshake
  doRead();
}

void SyncSession::doRead() {
  ws_.async_read(buffer_, beast::bind_front_handler(&SyncSession::onRead, shared_from_this()));
}

void SyncSession::onRead(beast::error_code ec, std::size_t /*bytes*/) {
  if (ec) {
    closing_ = true;  // closed by the device, timed out, or cut: nothing to answer
    return;
  }
  const auto data = buffer_.data();
  std::string_view frame(static_cast<const char*>(data.data()), data.size());
  auto envelope = proto::decodeFrame(frame, tuning::kMaxMessageBytes);
  buffer_.consume(buffer_.size());
  if (!envelope) {
    sendError(0, envelope.status());
    return fail(websocket::close_code::policy_error, "undecodable message");
  }
  handle(*envelope);
  if (!closing_) doRead();
}

void SyncSession::handle(const proto::Envelope& envelope) {
  switch (envelope.type) {
    case proto::MessageType::kHello: return onHello(envelope);
    case proto::MessageType::kPush: return onPush(envelope);
    case proto::MessageType::kPull: return onPull(envelope);
    default:
      return sendError(envelope.request_id,
                       Status::error(ErrorCode::kProtocol, std::string("a device may not send ") +
                                                               proto::messageTypeName(envelope.type)));
  }
}

void SyncSession::onHello(const proto::Envelope& envelope) {
  auto hello = proto::unwrap<proto::Hello>(envelope);
  if (!hello) return sendError(envelope.request_id, hello.status());
  if (hello->protocol_version != proto::kProtocolVersion) {
    sendError(envelope.request_id, Status::error(ErrorCode::kProtocol, "protocol version " +
                                                                           std::to_string(hello->protocol_version) +
                                                                           " is not spoken here; update the app"));
    return fail(websocket::close_code::protocol_error, "protocol version");
  }
  if (hello->device.isNil()) return sendError(envelope.request_id, Status::error(ErrorCode::kProtocol, "no device id"));
  if (hello_done_ && hello->device != device_) {
    return sendError(envelope.request_id, Status::error(ErrorCode::kProtocol, "a session serves one device"));
  }
  const auto now = nowMs();
  if (auto s = context_.state.data.recordDeviceContact(hello->device, user_.name, now); !s) {
    sendError(envelope.request_id, s);
    return fail(websocket::close_code::policy_error, "device refused");
  }
  device_ = hello->device;
  if (!hello_done_) context_.hub.join(user_.scopes, shared_from_this());
  hello_done_ = true;
  proto::Welcome welcome;
  welcome.device = device_;
  welcome.user = user_.name;
  welcome.scopes = user_.scopes;
  welcome.server_time_ms = now;
  welcome.incarnation = context_.state.data.incarnationId();
  welcome.server_seq = context_.state.data.lastSeq();
  welcome.limits = serverLimits();
  send(proto::frameOf(welcome, envelope.request_id));
}

void SyncSession::onPush(const proto::Envelope& envelope) {
  if (!hello_done_) return sendError(envelope.request_id, Status::error(ErrorCode::kProtocol, "hello first"));
  auto push = proto::unwrap<proto::Push>(envelope);
  if (!push) return sendError(envelope.request_id, push.status());
  if (push->changes.size() > tuning::kMaxChangesPerPush) {
    return sendError(envelope.request_id,
                     Status::error(ErrorCode::kLimitExceeded, std::to_string(push->changes.size()) +
                                                                  " changes in one push; the limit is " +
                                                                  std::to_string(tuning::kMaxChangesPerPush)));
  }
  if (pushes_in_flight_ >= tuning::kMaxPushesInFlight) {
    return sendError(envelope.request_id, Status::error(ErrorCode::kBusy, "too many pushes in flight; wait for results"));
  }

  // Check each change here, on the session; only good ones go to the writer. Results keep push order.
  const std::size_t n = push->changes.size();
  auto results = std::make_shared<std::vector<proto::ChangeResult>>(n);
  auto positions = std::make_shared<std::vector<std::size_t>>();
  auto job = std::make_shared<PushJob>();
  job->user = user_.name;
  job->writable = scopes_;
  job->restore = push->restore;
  for (std::size_t i = 0; i < n; ++i) {
    auto& change = push->changes[i];
    const auto id = change.id;
    if (id.device != device_) {
      (*results)[i] = proto::ChangeResult{id, proto::Outcome::kRejected, 0,
                                          static_cast<std::uint16_t>(ErrorCode::kForbidden),
                                          "a change of another device cannot be pushed by this one", false};
      continue;
    }
    auto valid = sync::validateChange(std::move(change), push->restore);
    if (!valid) {
      (*results)[i] = proto::ChangeResult{id, proto::Outcome::kRejected, 0,
                                          static_cast<std::uint16_t>(valid.status().code()), valid.status().message(),
                                          false};
      continue;
    }
    job->changes.push_back(std::move(valid).value());
    positions->push_back(i);
  }

  const auto request_id = envelope.request_id;
  auto reply = [self = shared_from_this(), results, request_id] {
    self->send(proto::frameOf(proto::PushResult{std::move(*results)}, request_id));
  };
  if (job->changes.empty()) return reply();

  ++pushes_in_flight_;
  auto done = [self = shared_from_this(), job, results, positions, request_id, reply](const Status& status) {
    // On the writer thread: hand over to the session's strand.
    net::post(self->ws_.get_executor(), [self, job, results, positions, request_id, reply, status] {
      --self->pushes_in_flight_;
      if (!status) return self->sendError(request_id, Status::error(ErrorCode::kBusy, "the server could not commit: " +
                                                                                         status.message()));
      for (std::size_t k = 0; k < positions->size(); ++k) (*results)[(*positions)[k]] = job->results[k];
      reply();
    });
  };
  if (!context_.writer.submit(job, std::move(done))) {
    --pushes_in_flight_;
    sendError(request_id, Status::error(ErrorCode::kBusy, "the server is busy or stopping; retry shortly"));
  }
}

void SyncSession::onPull(const proto::Envelope& envelope) {
  if (!hello_done_) return sendError(envelope.request_id, Status::error(ErrorCode::kProtocol, "hello first"));
  auto pull = proto::unwrap<proto::Pull>(envelope);
  if (!pull) return sendError(envelope.request_id, pull.status());
  notify_pending_ = false;
  const auto max_bytes = std::clamp<std::uint64_t>(pull->max_bytes, 1024, tuning::kMaxPullBytes);
  auto batch = context_.state.data.pull(user_.scopes, pull->checkpoints, max_bytes);
  if (!batch) return sendError(envelope.request_id, batch.status());
  send(proto::frameOf(*batch, envelope.request_id));
}

void SyncSession::notify(std::uint64_t seq) {
  net::post(ws_.get_executor(), [self = shared_from_this(), seq] {
    if (!self->hello_done_ || self->notify_pending_ || self->closing_) return;
    self->notify_pending_ = true;
    self->send(proto::frameOf(proto::Notify{seq}, 0));
  });
}

void SyncSession::closeGoingAway() {
  net::post(ws_.get_executor(), [self = shared_from_this()] { self->fail(websocket::close_code::going_away, "server stopping"); });
}

void SyncSession::sendError(std::uint64_t request_id, const Status& status) {
  proto::Error error{static_cast<std::uint16_t>(status.code()), status.message(), status.retryable()};
  send(proto::frameOf(error, request_id));
}

void SyncSession::send(std::string frame) {
  if (closing_) return;
  if (queue_.size() >= tuning::kMaxSendQueue) {
    return fail(websocket::close_code::try_again_later, "the device does not read its messages");
  }
  queue_.push_back(std::move(frame));
  if (queue_.size() == 1) doWrite();
}

void SyncSession::doWrite() {
  ws_.async_write(net::buffer(queue_.front()), beast::bind_front_handler(&SyncSession::onWrite, shared_from_this()));
}

void SyncSession::onWrite(beast::error_code ec, std::size_t /*bytes*/) {
  if (ec) {
    closing_ = true;
    return;
  }
  queue_.pop_front();
  if (!queue_.empty()) doWrite();
}

void SyncSession::fail(websocket::close_code code, const std::string& reason) {
  if (closing_) return;
  closing_ = true;
  // Let a write in flight finish before closing: Beast allows one close while a write is pending.
  ws_.async_close(websocket::close_reason(code, reason), [self = shared_from_this()](beast::error_code) {});
}

}  // namespace communesync::server
