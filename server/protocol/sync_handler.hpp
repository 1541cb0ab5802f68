// The server's side of the sync protocol, without a network: envelopes in, frames out. A
// SyncSession feeds it from a WebSocket; the simulation tests feed it from a simulated network.
//
// One handler serves one connection and is used from one thread (or strand) at a time. Pushes go
// to a PushSink (the Writer in the server); their results come back through the sink's callback,
// which must run on the handler's thread.
//
// Every message is authorised with the rights the user holds at that moment: when the directory's
// generation moved, the handler checks its token again (a revoked one ends the session) and
// rebuilds its Access (a changed set of readable units is sent to the device as an Access message).
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <set>
#include <string>

#include "communesync/sync/messages.hpp"
#include "directory/directory.hpp"
#include "store/server_store.hpp"

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

  //! Called with the readable units after the hello and whenever they change (the server
  //! registers the session for notifies there).
  using Joined = std::function<void(const std::vector<Scope>&)>;

  //! `token` is what the device presented and `principal` who it was then. `send` is called with
  //! every frame to write, in order.
  SyncHandler(ServerStore& store, Directory& directory, PushSink& sink, std::string token, Principal principal,
              Send send, Clock clock, Joined joined = {});

  //! Handles one message from the device. Returns an error when the connection must be closed
  //! (the reason has already been sent as an error message).
  Status handle(const sync::proto::Envelope& envelope);
  //! A frame that did not decode: answers with an error; the connection must be closed.
  void undecodable(const Status& status);
  //! Scopes changed on the server: send a notify naming those the device reads and has not
  //! pulled, unless one is pending.
  void notify(const sync::proto::Checkpoints& latest);
  //! The directory changed: checks the token and the device again and updates the rights. An
  //! error (kUnauthorized, kForbidden) means the session must be closed; it was sent to the device.
  Status recheck();

  //! The message and byte rates this session may sustain (told to the device in Welcome so it
  //! paces large uploads instead of being closed).
  void setRates(double messages_per_second, double bytes_per_second) {
    messages_per_second_ = messages_per_second;
    bytes_per_second_ = bytes_per_second;
  }

  bool helloDone() const { return hello_done_; }
  const Principal& principal() const { return principal_; }
  //! The device, once its hello named it (zero before).
  const sync::DeviceId& device() const { return device_; }

 private:
  Status onHello(const sync::proto::Envelope& envelope);
  void onPush(const sync::proto::Envelope& envelope);
  void onPull(const sync::proto::Envelope& envelope);
  void onFileQuery(const sync::proto::Envelope& envelope);
  void onFilePut(const sync::proto::Envelope& envelope);
  void onFileGet(const sync::proto::Envelope& envelope);
  // Queues a job for the sink, counting it against the pushes in flight; `reply` runs once it is
  // durable. False if it could not be queued (an error was sent).
  bool submit(std::uint64_t request_id, const std::shared_ptr<PushJob>& job, std::function<void(PushJob&)> reply);
  void sendPushResult(std::uint64_t request_id, std::vector<sync::proto::ChangeResult> results);
  void sendError(std::uint64_t request_id, const Status& status);

  ServerStore& store_;
  Directory& directory_;
  PushSink& sink_;
  std::string token_;
  Principal principal_;
  std::shared_ptr<const Access> access_;
  std::uint64_t generation_ = 0;  // the directory generation access_ was built at
  Send send_;
  Clock clock_;
  Joined joined_;
  sync::DeviceId device_;
  bool hello_done_ = false;
  bool zstd_ = true;                // the device reads compressed frames (the field app's WebAssembly does not)
  bool pending_age_noted_ = false;  // the session's first push noted how old the oldest change was
  bool notify_pending_ = false;     // a notify was sent and the device has not pulled since
  // Per scope, what the device knows of: what its last complete pull reached, or the latest a
  // push's answer told it (as a notify would). A notify is sent only for what is beyond.
  sync::proto::Checkpoints pulled_;
  std::shared_ptr<std::uint32_t> pushes_in_flight_ = std::make_shared<std::uint32_t>(0);
  double messages_per_second_ = 0;
  double bytes_per_second_ = 0;
};

}  // namespace communesync::server
