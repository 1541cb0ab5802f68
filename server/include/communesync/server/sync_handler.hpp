// The server's side of the sync protocol, without a network: envelopes in, frames out. A
// SyncSession feeds it from a WebSocket; the simulation tests feed it from a simulated network.
//
// One handler serves one connection and is used from one thread (or strand) at a time. Pushes go
// to a PushSink (the Writer in the server); their results come back through the sink's callback,
// which must run on the handler's thread.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <set>
#include <string>

#include "communesync/server/server_store.hpp"
#include "communesync/sync/messages.hpp"

namespace communesync::server {

//! Where checked pushes go to be made durable.
class PushSink {
 public:
  virtual ~PushSink() = default;
  //! Queues the job; `done` is called once it is durable (or failed), on the handler's thread.
  //! Returns false if the job cannot be taken (queue full, stopping): `done` is then never called.
  virtual bool submit(std::shared_ptr<PushJob> job, std::function<void(const Status&)> done) = 0;
};

class SyncHandler {
 public:
  using Send = std::function<void(std::string frame)>;
  using Clock = std::function<std::chrono::milliseconds()>;

  //! `send` is called with every frame to write, in order. `joined` is called once after a
  //! successful hello (the server registers the session for notifies there).
  SyncHandler(ServerStore& store, PushSink& sink, User user, Send send, Clock clock, std::function<void()> joined = {});

  //! Handles one message from the device. Returns an error when the connection must be closed
  //! (the reason has already been sent as an error message).
  Status handle(const sync::proto::Envelope& envelope);
  //! A frame that did not decode: answers with an error; the connection must be closed.
  void undecodable(const Status& status);
  //! The device's scopes changed on the server: send a notify unless one is pending.
  void notify(std::uint64_t seq);

  bool helloDone() const { return hello_done_; }
  const User& user() const { return user_; }

 private:
  Status onHello(const sync::proto::Envelope& envelope);
  void onPush(const sync::proto::Envelope& envelope);
  void onPull(const sync::proto::Envelope& envelope);
  void sendError(std::uint64_t request_id, const Status& status);

  ServerStore& store_;
  PushSink& sink_;
  User user_;
  std::set<sync::Scope, std::less<>> scopes_;
  Send send_;
  Clock clock_;
  std::function<void()> joined_;
  sync::DeviceId device_;
  bool hello_done_ = false;
  bool notify_pending_ = false;   // a notify was sent and the device has not pulled since
  std::uint64_t pulled_seq_ = 0;  // the device has pulled every change up to this sequence
  std::shared_ptr<std::uint32_t> pushes_in_flight_ = std::make_shared<std::uint32_t>(0);
};

}  // namespace communesync::server
