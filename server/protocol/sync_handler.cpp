#include "protocol/sync_handler.hpp"

#include <algorithm>

#include "base/metrics.hpp"
#include "base/tuning.hpp"
#include "communesync/sync/file_ref.hpp"
#include "communesync/sync/frame.hpp"
#include "communesync/sync/tuning.hpp"

namespace communesync::server {
namespace {

namespace proto = sync::proto;

bool isHash(const std::string& hash) {
  return hash.size() == sync::kFileHashBytes;
}

proto::ChangeResult rejectedResult(const sync::ChangeId& id, ErrorCode code, std::string reason) {
  return proto::ChangeResult{id,   proto::Outcome::kRejected, 0, static_cast<std::uint16_t>(code), std::move(reason),
                             false};
}

}  // namespace

SyncHandler::SyncHandler(ServerStore& store, Directory& directory, PushSink& sink, std::string token,
                         Principal principal, Send send, Clock clock, Joined joined)
    : store_(store),
      directory_(directory),
      sink_(sink),
      token_(std::move(token)),
      principal_(std::move(principal)),
      generation_(directory.generation()),
      send_(std::move(send)),
      clock_(std::move(clock)),
      joined_(std::move(joined)) {
  access_ = std::make_shared<const Access>(directory_.accessOf(principal_.grants));
}

Status SyncHandler::recheck() {
  const auto generation = directory_.generation();
  if (generation == generation_) return Status::ok();
  auto principal = directory_.authenticate(token_);
  if (!principal) return Status::ok();  // the store could not be read: keep the rights held, try next time
  if (!principal->has_value()) {
    auto s = Status::error(ErrorCode::kUnauthorized, "your access was revoked; log in again");
    sendError(0, s);
    return s;
  }
  if (hello_done_) {
    if (auto s = directory_.checkDevice(**principal, device_); !s) {
      sendError(0, s);
      return s;
    }
  }
  generation_ = generation;
  principal_ = std::move(**principal);
  auto access = std::make_shared<const Access>(directory_.accessOf(principal_.grants));
  const bool moved = access->readable() != access_->readable();
  access_ = std::move(access);
  if (moved && hello_done_) {
    std::erase_if(pulled_, [&](const auto& entry) { return !access_->mayRead(entry.first); });
    auto latest = store_.latest(access_->readable());
    if (!latest) {
      sendError(0, latest.status());
      return latest.status();
    }
    send_(proto::frameOf(proto::Access{access_->readable(), std::move(latest).value()}, 0, zstd_));
    if (joined_) joined_(access_->readable());
  }
  return Status::ok();
}

Status SyncHandler::handle(const proto::Envelope& envelope) {
  CS_RETURN_IF_ERROR(recheck());
  switch (envelope.type) {
    case proto::MessageType::kHello:
      return onHello(envelope);
    case proto::MessageType::kPush:
      onPush(envelope);
      return Status::ok();
    case proto::MessageType::kPull:
      onPull(envelope);
      return Status::ok();
    case proto::MessageType::kFileQuery:
      onFileQuery(envelope);
      return Status::ok();
    case proto::MessageType::kFilePut:
      onFilePut(envelope);
      return Status::ok();
    case proto::MessageType::kFileGet:
      onFileGet(envelope);
      return Status::ok();
    default:
      sendError(envelope.request_id, Status::error(ErrorCode::kProtocol, std::string("a device may not send ") +
                                                                             proto::messageTypeName(envelope.type)));
      return Status::ok();
  }
}

void SyncHandler::undecodable(const Status& status) {
  sendError(0, status);
}

Status SyncHandler::onHello(const proto::Envelope& envelope) {
  auto hello = proto::unwrap<proto::Hello>(envelope);
  if (!hello) {
    sendError(envelope.request_id, hello.status());
    return Status::ok();
  }
  if (hello->protocol_version != proto::kProtocolVersion) {
    auto s = Status::error(ErrorCode::kProtocol, "protocol version " + std::to_string(hello->protocol_version) +
                                                     " is not spoken here; update the app");
    sendError(envelope.request_id, s);
    return s;
  }
  if (hello->device.isNil() || isServerDeviceId(hello->device)) {
    sendError(envelope.request_id, Status::error(ErrorCode::kProtocol, "no device id, or one reserved for the server"));
    return Status::ok();
  }
  if (hello_done_ && hello->device != device_) {
    sendError(envelope.request_id, Status::error(ErrorCode::kProtocol, "a session serves one device"));
    return Status::ok();
  }
  const auto now = clock_().count();
  if (auto s = directory_.recordDeviceContact(principal_, hello->device, now,
                                              DeviceHello{hello->client_version, hello->device_time_ms});
      !s) {
    sendError(envelope.request_id, s);
    return s;
  }
  device_ = hello->device;
  zstd_ = hello->reads_zstd;
  if (!hello_done_ && joined_) joined_(access_->readable());
  if (!hello_done_) metrics().sessions_opened.fetch_add(1, std::memory_order_relaxed);
  hello_done_ = true;
  proto::Welcome welcome;
  welcome.device = device_;
  welcome.user = principal_.user;
  welcome.scopes = access_->readable();
  welcome.server_time_ms = now;
  welcome.incarnation = store_.incarnationId();
  auto latest = store_.latest(access_->readable());
  if (!latest) {
    sendError(envelope.request_id, latest.status());
    return latest.status();
  }
  welcome.latest = std::move(latest).value();
  welcome.limits = proto::Limits{tuning::kMaxMessageBytes,
                                 tuning::kMaxChangesPerPush,
                                 tuning::kMaxPushesInFlight,
                                 tuning::kMaxPullBytes,
                                 store_.fileLimits().max_file_bytes,
                                 static_cast<std::uint32_t>(sync::tuning::kMaxFilePieceBytes),
                                 messages_per_second_,
                                 bytes_per_second_};
  send_(proto::frameOf(welcome, envelope.request_id, zstd_));
  return Status::ok();
}

void SyncHandler::onPush(const proto::Envelope& envelope) {
  if (!hello_done_) return sendError(envelope.request_id, Status::error(ErrorCode::kProtocol, "hello first"));
  auto push = proto::unwrap<proto::Push>(envelope);
  if (!push) return sendError(envelope.request_id, push.status());
  if (push->changes.size() > tuning::kMaxChangesPerPush) {
    return sendError(envelope.request_id,
                     Status::error(ErrorCode::kLimitExceeded, std::to_string(push->changes.size()) +
                                                                  " changes in one push; the limit is " +
                                                                  std::to_string(tuning::kMaxChangesPerPush)));
  }
  // Check each change here; only good ones go to the sink. Results keep the push's order.
  const std::size_t n = push->changes.size();
  auto results = std::make_shared<std::vector<proto::ChangeResult>>(n);
  auto positions = std::make_shared<std::vector<std::size_t>>();
  auto job = std::make_shared<PushJob>();
  job->user = principal_.user;
  job->access = access_;
  job->restore = push->restore;
  job->device = device_;
  job->acknowledged_below = push->acknowledged_below;
  for (std::size_t i = 0; i < n; ++i) {
    auto& change = push->changes[i];
    const auto id = change.id;
    if (id.device != device_) {
      (*results)[i] =
          rejectedResult(id, ErrorCode::kForbidden, "a change of another device cannot be pushed by this one");
      continue;
    }
    auto valid = sync::validateChange(std::move(change), push->restore);
    if (!valid) {
      (*results)[i] = rejectedResult(id, valid.status().code(), valid.status().message());
      continue;
    }
    job->changes.push_back(std::move(valid).value());
    positions->push_back(i);
  }

  if (!pending_age_noted_ && !job->changes.empty()) {
    // The outbox sends oldest first, so the first push holds the oldest change the device had waiting.
    pending_age_noted_ = true;
    std::int64_t oldest = job->changes.front().capture_time_ms;
    for (const auto& c : job->changes) oldest = std::min(oldest, c.capture_time_ms);
    (void)directory_.recordPendingAge(device_, clock_().count() - oldest);  // informational only
  }
  const auto request_id = envelope.request_id;
  if (job->changes.empty()) return sendPushResult(request_id, std::move(*results));
  // On this handler's thread once durable (PushSink), the session kept alive until then.
  submit(request_id, job, [this, results, positions, request_id](PushJob& done) {
    for (std::size_t k = 0; k < positions->size(); ++k) (*results)[(*positions)[k]] = done.results[k];
    sendPushResult(request_id, std::move(*results));
  });
}

// With the results goes what is latest in each unit the device reads, read after the commit: with
// its own exact records the device may know it has nothing to pull (docs/protocol.md 5.4). Told
// that, it needs no notify up to there, and the next commit beyond is notified again.
void SyncHandler::sendPushResult(std::uint64_t request_id, std::vector<proto::ChangeResult> results) {
  proto::PushResult reply{std::move(results), store_.latestIfAlone(access_->readable())};
  if (!reply.latest.empty()) {
    for (const auto& [scope, seq] : reply.latest) pulled_[scope] = std::max(pulled_[scope], seq);
    notify_pending_ = false;
  }
  send_(proto::frameOf(reply, request_id, zstd_));
}

bool SyncHandler::submit(std::uint64_t request_id, const std::shared_ptr<PushJob>& job,
                         std::function<void(PushJob&)> reply) {
  if (*pushes_in_flight_ >= tuning::kMaxPushesInFlight) {
    sendError(request_id, Status::error(ErrorCode::kBusy, "too many pushes in flight; wait for results"));
    return false;
  }
  ++*pushes_in_flight_;
  auto in_flight = pushes_in_flight_;
  auto send = send_;
  auto done = [job, request_id, send, in_flight, zstd = zstd_, reply = std::move(reply)](const Status& status) {
    --*in_flight;
    if (!status) {
      proto::Error error{static_cast<std::uint16_t>(ErrorCode::kBusy),
                         "the server could not commit: " + status.message(), true};
      return send(proto::frameOf(error, request_id, zstd));
    }
    reply(*job);
  };
  if (!sink_.submit(job, std::move(done))) {
    --*pushes_in_flight_;
    sendError(request_id, Status::error(ErrorCode::kBusy, "the server is busy or stopping; retry shortly"));
    return false;
  }
  return true;
}

void SyncHandler::onPull(const proto::Envelope& envelope) {
  if (!hello_done_) return sendError(envelope.request_id, Status::error(ErrorCode::kProtocol, "hello first"));
  auto pull = proto::unwrap<proto::Pull>(envelope);
  if (!pull) return sendError(envelope.request_id, pull.status());
  notify_pending_ = false;
  const auto max_bytes = std::clamp<std::uint64_t>(pull->max_bytes, 1024, tuning::kMaxPullBytes);
  auto batch =
      store_.pullEncoded(access_->readable(), pull->checkpoints, max_bytes, pull->steps_over_own ? &device_ : nullptr);
  if (!batch) return sendError(envelope.request_id, batch.status());
  if (!batch->more) {
    // Caught up: the device holds every change up to its checkpoints, old and new.
    for (const auto& scopes : {&pull->checkpoints, &batch->checkpoints}) {
      for (const auto& [scope, seq] : *scopes) {
        if (access_->mayRead(scope)) pulled_[scope] = std::max(pulled_[scope], seq);
      }
    }
  }
  auto frame = proto::frameOf(*batch, envelope.request_id, zstd_);
  auto& m = metrics();
  m.pull_batches.fetch_add(1, std::memory_order_relaxed);
  m.pull_records.fetch_add(batch->record_count, std::memory_order_relaxed);
  m.pull_bytes.fetch_add(frame.size(), std::memory_order_relaxed);
  send_(std::move(frame));
}

void SyncHandler::onFileQuery(const proto::Envelope& envelope) {
  if (!hello_done_) return sendError(envelope.request_id, Status::error(ErrorCode::kProtocol, "hello first"));
  auto query = proto::unwrap<proto::FileQuery>(envelope);
  if (!query) return sendError(envelope.request_id, query.status());
  if (query->hashes.size() > sync::tuning::kMaxFilesPerQuery) {
    return sendError(envelope.request_id,
                     Status::error(ErrorCode::kLimitExceeded, std::to_string(query->hashes.size()) +
                                                                  " files in one query; the limit is " +
                                                                  std::to_string(sync::tuning::kMaxFilesPerQuery)));
  }
  if (!std::all_of(query->hashes.begin(), query->hashes.end(), isHash)) {
    return sendError(envelope.request_id, Status::error(ErrorCode::kProtocol, "a file hash is not 32 bytes"));
  }
  auto states = store_.fileStates(query->hashes, access_->readable(), principal_.user);
  if (!states) return sendError(envelope.request_id, states.status());
  send_(proto::frameOf(proto::FileStates{std::move(states).value()}, envelope.request_id, zstd_));
}

void SyncHandler::onFilePut(const proto::Envelope& envelope) {
  if (!hello_done_) return sendError(envelope.request_id, Status::error(ErrorCode::kProtocol, "hello first"));
  auto put = proto::unwrap<proto::FilePut>(envelope);
  if (!put) return sendError(envelope.request_id, put.status());
  if (!isHash(put->hash)) {
    return sendError(envelope.request_id, Status::error(ErrorCode::kProtocol, "a file hash is not 32 bytes"));
  }
  if (put->data.size() > sync::tuning::kMaxFilePieceBytes) {
    return sendError(envelope.request_id,
                     Status::error(ErrorCode::kLimitExceeded, "a file piece of " + std::to_string(put->data.size()) +
                                                                  " bytes; the limit is " +
                                                                  std::to_string(sync::tuning::kMaxFilePieceBytes)));
  }
  auto job = std::make_shared<PushJob>();
  job->user = principal_.user;
  job->access = access_;
  job->device = device_;
  job->pieces.push_back(std::move(put).value());
  const auto request_id = envelope.request_id;
  auto send = send_;
  submit(request_id, job, [request_id, send, zstd = zstd_](PushJob& done) {
    if (done.acks.empty()) return;
    send(proto::frameOf(done.acks.front(), request_id, zstd));
  });
}

void SyncHandler::onFileGet(const proto::Envelope& envelope) {
  if (!hello_done_) return sendError(envelope.request_id, Status::error(ErrorCode::kProtocol, "hello first"));
  auto get = proto::unwrap<proto::FileGet>(envelope);
  if (!get) return sendError(envelope.request_id, get.status());
  if (!isHash(get->hash)) {
    return sendError(envelope.request_id, Status::error(ErrorCode::kProtocol, "a file hash is not 32 bytes"));
  }
  auto data =
      store_.readFile(get->hash, get->offset, std::max<std::uint32_t>(get->max_bytes, 1024), access_->readable());
  if (!data) return sendError(envelope.request_id, data.status());
  metrics().file_bytes_sent.fetch_add(data->data.size(), std::memory_order_relaxed);
  send_(proto::frameOf(*data, envelope.request_id, zstd_));
}

void SyncHandler::notify(const proto::Checkpoints& latest) {
  if (!hello_done_ || notify_pending_) return;
  proto::Notify notify;
  for (const auto& [scope, seq] : latest) {
    // A change the device already pulled (the writer's notify can trail the device's own pull on
    // the strand) is stale: it must not block the next real notify.
    auto pulled = pulled_.find(scope);
    if (access_->mayRead(scope) && (pulled == pulled_.end() || seq > pulled->second)) notify.latest.emplace(scope, seq);
  }
  if (notify.latest.empty()) return;
  notify_pending_ = true;
  send_(proto::frameOf(notify, 0, zstd_));
}

void SyncHandler::sendError(std::uint64_t request_id, const Status& status) {
  proto::Error error{static_cast<std::uint16_t>(status.code()), status.message(), status.retryable()};
  send_(proto::frameOf(error, request_id, zstd_));
}

}  // namespace communesync::server
