// The replicator's state and steps, shared by replicator.cpp (hello, push, pull) and
// replicator_files.cpp (files). Private to client-lib.
#pragma once

#include <algorithm>
#include <map>
#include <thread>

#include "communesync/client/replicator.hpp"
#include "communesync/client/tuning.hpp"
#include "communesync/sync/frame.hpp"

namespace communesync::client {

namespace proto = sync::proto;

inline std::chrono::milliseconds systemNow() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch());
}

//! Keeps what the device sends under a share of the rates the server allows a session (the server
//! closes a session that floods it): a token bucket of one second's worth.
class Pacer {
 public:
  void configure(double messages_per_second, double bytes_per_second) {
    messages_rate_ = messages_per_second * tuning::kRateShare;
    bytes_rate_ = bytes_per_second * tuning::kRateShare;
    messages_ = messages_rate_;
    bytes_ = bytes_rate_;
    last_ = std::chrono::steady_clock::now();
  }
  //! Waits until one message of `bytes` may go.
  void take(std::size_t bytes) {
    if (messages_rate_ <= 0 || bytes_rate_ <= 0) return;  // the server did not say: no pacing
    const auto now = std::chrono::steady_clock::now();
    const std::chrono::duration<double> elapsed = now - last_;
    last_ = now;
    messages_ = std::min(messages_rate_, messages_ + elapsed.count() * messages_rate_);
    bytes_ = std::min(std::max(bytes_rate_, static_cast<double>(bytes)), bytes_ + elapsed.count() * bytes_rate_);
    const double wait =
        std::max({0.0, (1 - messages_) / messages_rate_, (static_cast<double>(bytes) - bytes_) / bytes_rate_});
    if (wait > 0) {
      std::this_thread::sleep_for(std::chrono::duration<double>(wait));
      last_ = std::chrono::steady_clock::now();
      messages_ += wait * messages_rate_;
      bytes_ += wait * bytes_rate_;
    }
    messages_ -= 1;
    bytes_ -= static_cast<double>(bytes);
  }

 private:
  double messages_rate_ = 0;
  double bytes_rate_ = 0;
  double messages_ = 0;
  double bytes_ = 0;
  std::chrono::steady_clock::time_point last_;
};

struct Replicator::Impl {
  Impl(LocalStore& store, Transport& transport, SyncOptions options)
      : store_(store),
        transport_(transport),
        options_(std::move(options)),
        timeout_(options_.reply_timeout.count() > 0 ? options_.reply_timeout
                                                    : std::chrono::milliseconds(tuning::kReplyTimeout)),
        clock_(options_.clock ? options_.clock : systemNow) {}  // options_: `options` was moved from

  Status connect() {
    progress_ = {};
    progress(SyncProgress::Phase::kConnecting);
    connected_ = false;
    carried_ = 0;
    link_estimate_ = store_.files().linkEstimate();
    stored_link_estimate_ = link_estimate_;
    CS_RETURN_IF_ERROR(transport_.connect());
    CS_RETURN_IF_ERROR(hello());
    connected_ = true;
    return Status::ok();
  }

  Status sync() {
    const bool reused = connected_;
    const SyncReport before = *report_;
    auto status = syncAttempt();
    // A connection kept open since an earlier sync may have been closed meanwhile (the server ends
    // sessions idle past its timeout; a phone moves between networks): that is no reason to fail.
    // Connect again and sync once more; everything a sync sends is safe to send twice.
    if (!status && reused && status.code() == ErrorCode::kUnavailable) {
      *report_ = before;
      status = syncAttempt();
    }
    return status;
  }

  Status syncAttempt() {
    // The welcome's word on what is new holds only when this sync made the connection.
    latest_current_ = !connected_;
    awaiting_pull_ = 0;
    if (!connected_) CS_RETURN_IF_ERROR(connect());
    auto status = [&]() -> Status {
      CS_RETURN_IF_ERROR(push());
      CS_RETURN_IF_ERROR(pull());
      // Files follow the records, and never hold them back: changes made meanwhile go first.
      pushed_during_files_ = false;
      if (options_.metered) {
        auto waiting = filesWaiting();
        if (!waiting) return waiting.status();
        report_->files_deferred = *waiting;
      } else {
        CS_RETURN_IF_ERROR(files());
      }
      if (pushed_during_files_) CS_RETURN_IF_ERROR(pull());
      progress(SyncProgress::Phase::kDone);
      return store_.setLastSync(clock_());
    }();
    if (!status) connected_ = false;
    learnLink(status);
    return status;
  }

  Result<bool> waitForNotify(std::chrono::milliseconds timeout) {
    if (!connected_) return Status::error(ErrorCode::kUnavailable, "not connected");
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      auto fresh = behind();
      if (!fresh) return fresh.status();
      if (*fresh) return true;
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return false;
      auto frame = transport_.poll(left);
      if (!frame) {
        connected_ = false;
        return frame.status();
      }
      if (!frame->has_value()) return false;
      auto envelope = proto::decodeFrame(**frame, tuning::kMaxMessageBytes);
      if (!envelope) return envelope.status();
      auto unsolicited = onUnsolicited(*envelope);
      if (!unsolicited) return unsolicited.status();
      if (!*unsolicited && envelope->type == proto::MessageType::kError) {
        connected_ = false;
        return errorStatus(*envelope);
      }
    }
  }

  // True if the server has changes the device has not pulled: some scope's latest (as told by
  // welcome, access and notify messages) is past the device's checkpoint there.
  Result<bool> behind() {
    auto checkpoints = store_.checkpoints();
    if (!checkpoints) return checkpoints.status();
    for (const auto& [scope, seq] : latest_) {
      auto it = checkpoints->find(scope);
      if (it == checkpoints->end() || it->second < seq) return true;
    }
    return false;
  }

  void learnLatest(const proto::Checkpoints& latest) {
    for (const auto& [scope, seq] : latest) latest_[scope] = std::max(latest_[scope], seq);
  }

  // Handles a message the server sends on its own (notify, access). True if it was one.
  Result<bool> onUnsolicited(const proto::Envelope& envelope) {
    if (envelope.type == proto::MessageType::kNotify) {
      auto notify = proto::unwrap<proto::Notify>(envelope);
      if (!notify) return notify.status();
      learnLatest(notify->latest);
      return true;
    }
    if (envelope.type == proto::MessageType::kAccess) {
      auto access = proto::unwrap<proto::Access>(envelope);
      if (!access) return access.status();
      CS_RETURN_IF_ERROR(adoptAccess(access->scopes, access->latest));
      return true;
    }
    return false;
  }

  // The units the device may read: purge the rest, and forget what is known of them.
  Status adoptAccess(const std::vector<Scope>& scopes, const proto::Checkpoints& latest) {
    auto purged = store_.restrictTo(scopes);
    if (!purged) return purged.status();
    if (report_ != nullptr) report_->purged += *purged;
    welcome_.scopes = scopes;
    std::erase_if(latest_, [&](const auto& e) { return !std::binary_search(scopes.begin(), scopes.end(), e.first); });
    learnLatest(latest);
    return Status::ok();
  }

  static Status errorStatus(const proto::Envelope& envelope) {
    auto error = proto::unwrap<proto::Error>(envelope);
    if (!error) return error.status();
    auto code = static_cast<ErrorCode>(error->code);
    return Status::error(code == ErrorCode::kOk ? ErrorCode::kProtocol : code, "server: " + error->message);
  }

  SyncReport* report_ = nullptr;
  bool connected_ = false;
  proto::Checkpoints latest_;  // each readable scope's latest seq, as last heard
  Status cancelled() const {
    if (options_.cancel != nullptr && options_.cancel->load()) {
      return Status::error(ErrorCode::kCancelled, "sync cancelled");
    }
    if (options_.deadline && std::chrono::steady_clock::now() >= *options_.deadline) {
      return Status::error(
          ErrorCode::kDeadlineExceeded,
          "sync stopped at its deadline; what the server acknowledged is kept, the rest goes next time");
    }
    return Status::ok();
  }

  // How long to wait for the next reply: the reply timeout, or less when the deadline comes first.
  std::chrono::milliseconds replyWait() const {
    if (!options_.deadline) return timeout_;
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(*options_.deadline - std::chrono::steady_clock::now());
    return std::clamp(left, std::chrono::milliseconds(1), timeout_);
  }

  void progress(SyncProgress::Phase phase) {
    progress_.phase = phase;
    if (options_.on_progress) options_.on_progress(progress_);
  }

  template <class T>
  Status send(const T& message, std::uint64_t request_id) {
    // Every request keeps under the rates the server announced, so a device that syncs often on
    // one connection (or sends a file) slows down instead of being closed for flooding.
    auto frame = proto::frameOf(message, request_id);
    pacer_.take(frame.size());
    return transport_.send(frame);
  }

  // The next reply; notifies are skipped, an Error becomes a Status (unless `errors`, then an
  // error answering a request is returned as an envelope like any reply).
  Result<proto::Envelope> receive(bool errors = false) {
    for (;;) {
      CS_RETURN_IF_ERROR(cancelled());
      auto frame = transport_.receive(replyWait());
      if (!frame) {
        CS_RETURN_IF_ERROR(cancelled());  // the wait ended at the deadline: say so, not "timed out"
        return frame.status();
      }
      auto envelope = proto::decodeFrame(*frame, tuning::kMaxMessageBytes);
      if (!envelope) return envelope.status();
      // Notifies are remembered for waitForNotify (a sync under way may fetch them anyway).
      auto unsolicited = onUnsolicited(*envelope);
      if (!unsolicited) return unsolicited.status();
      if (*unsolicited) continue;
      if (envelope->type == proto::MessageType::kError && (!errors || envelope->request_id == 0)) {
        return errorStatus(*envelope);
      }
      return envelope;
    }
  }

  Status hello() {
    proto::Hello hello;
    hello.device = store_.deviceId();
    hello.client_version = options_.client_version;
    const auto sent_at = clock_();
    hello.device_time_ms = sent_at.count();
    CS_RETURN_IF_ERROR(send(hello, next_request_++));
    auto reply = receive();
    if (!reply) return reply.status();
    auto welcome = proto::unwrap<proto::Welcome>(*reply);
    if (!welcome) return welcome.status();
    const auto received_at = clock_();
    // The server read its clock about halfway through the round trip.
    const auto device_mid = sent_at + (received_at - sent_at) / 2;
    CS_RETURN_IF_ERROR(store_.setClockOffset(std::chrono::milliseconds(welcome->server_time_ms) - device_mid));
    limits_ = welcome->limits;
    pacer_.configure(limits_.messages_per_second, limits_.bytes_per_second);
    if (limits_.max_file_bytes != 0) CS_RETURN_IF_ERROR(store_.files().setMaxFileBytes(limits_.max_file_bytes));
    welcome_ = *welcome;
    report_->user = welcome->user;
    report_->scopes = welcome->scopes;
    latest_.clear();
    CS_RETURN_IF_ERROR(adoptAccess(welcome->scopes, welcome->latest));
    auto reset = store_.adoptIncarnation(welcome->incarnation, welcome->latest);
    if (!reset) return reset.status();
    report_->server_reset = *reset;
    return Status::ok();
  }

  Status push() {
    auto status = store_.status();
    if (!status) return status.status();
    progress_.to_push = status->pending;
    progress(SyncProgress::Phase::kPushing);
    const std::size_t max_changes = std::max<std::uint32_t>(1, limits_.max_changes_per_push);
    const std::size_t window = std::clamp<std::uint32_t>(limits_.max_pushes_in_flight, 1, tuning::kMaxPushesInFlight);
    const std::size_t max_bytes = std::min<std::size_t>(tuning::kPushBatchBytes, limits_.max_message_bytes / 2);
    std::uint64_t after = 0;
    // The oldest change still waiting when this sync began: every one before it has its result
    // here, so the server may forget theirs (protocol.md, 5.2).
    std::uint64_t acknowledged_below = 0;
    bool exhausted = false;
    // Request id -> the changes it carries, kept to apply their results without re-reading the outbox
    // (at most `window` pushes of `max_changes`).
    std::map<std::uint64_t, std::vector<sync::Change>> in_flight;

    for (;;) {
      while (!exhausted && in_flight.size() < window) {
        CS_RETURN_IF_ERROR(cancelled());
        auto batch = store_.pending(after, max_changes, max_bytes);
        if (!batch) return batch.status();
        if (batch->empty()) {
          exhausted = true;
          break;
        }
        proto::Push push;
        push.restore = batch->front().restore;
        if (acknowledged_below == 0) acknowledged_below = batch->front().change.id.seq;
        push.acknowledged_below = acknowledged_below;
        for (auto& p : *batch) push.changes.push_back(std::move(p.change));
        after = push.changes.back().id.seq;
        const auto id = next_request_++;
        CS_RETURN_IF_ERROR(send(push, id));
        report_->pushed += push.changes.size();
        in_flight[id] = std::move(push.changes);
      }
      if (in_flight.empty()) return Status::ok();
      auto reply = receive();
      if (!reply) return reply.status();
      if (in_flight.count(reply->request_id) == 0) {
        return Status::error(ErrorCode::kProtocol, "a reply to a request never sent");
      }
      auto result = proto::unwrap<proto::PushResult>(*reply);
      if (!result) return result.status();
      LocalStore::ResultsApplied applied;
      CS_RETURN_IF_ERROR(store_.applyResults(result->results, clock_(), &in_flight[reply->request_id], &applied));
      awaiting_pull_ += applied.awaiting;
      // The server's word on what is latest, read after this sync's commit: as good as a welcome's.
      if (!result->latest.empty()) {
        learnLatest(result->latest);
        latest_current_ = true;
      }
      in_flight.erase(reply->request_id);
      for (const auto& r : result->results) {
        if (r.outcome == proto::Outcome::kAccepted) {
          ++report_->accepted;
        } else {
          ++report_->rejected;
        }
      }
      progress_.pushed += result->results.size();
      progress(SyncProgress::Phase::kPushing);
    }
  }

  Status pull() {
    progress(SyncProgress::Phase::kPulling);
    // Nothing to fetch (nothing of ours to pull back: every acceptance was exact and its record is
    // here; no scope behind, as the welcome of this very sync said, or our own exact records moved
    // the checkpoints as far as the scopes went): the sync ends without a round trip. On a
    // connection kept open since an earlier sync, what the device knows comes from notifications,
    // and one may be on its way: it asks.
    auto is_behind = behind();
    if (!is_behind) return is_behind.status();
    if (awaiting_pull_ == 0 && latest_current_ && !*is_behind) return Status::ok();
    for (;;) {
      CS_RETURN_IF_ERROR(cancelled());
      auto checkpoints = store_.checkpoints();
      if (!checkpoints) return checkpoints.status();
      auto resyncing = store_.resyncUnderWay();
      if (!resyncing) return resyncing.status();
      proto::Pull pull{*checkpoints, std::min<std::uint64_t>(tuning::kPullBatchBytes, limits_.max_pull_bytes)};
      // Our own exact records are here already (not while a unit is pulled afresh: then the
      // server's copies were set aside and every record must come again).
      pull.steps_over_own = !*resyncing;
      CS_RETURN_IF_ERROR(send(pull, next_request_++));
      auto reply = receive();
      if (!reply) return reply.status();
      auto batch = proto::unwrap<proto::PullBatch>(*reply);
      if (!batch) return batch.status();
      LocalStore::PullApplied applied;
      CS_RETURN_IF_ERROR(store_.applyPull(*batch, &applied));
      report_->resynced += applied.resync_started;
      report_->resync_dropped += applied.resync_dropped;
      // Files of eagerly fetched collections are fetched in this sync's files phase.
      if (auto wanted = store_.files().wantFor(batch->records); !wanted) return wanted.status();
      report_->pulled += batch->records.size();
      report_->conflicts += batch->conflicts.size();
      progress_.pulled += batch->records.size();
      progress(SyncProgress::Phase::kPulling);
      if (!batch->more) return Status::ok();
    }
  }

  // ---- files (replicator_files.cpp) ----
  Status files();
  // Metered: whether files() would have had anything to send or fetch.
  Result<bool> filesWaiting();
  Status uploadFiles();
  Status uploadOne(const LocalFile& file, std::uint64_t server_have);
  Status fetchWanted();
  Status fetchFile(const std::string& hash);
  Status download(const std::string& hash, std::uint64_t size);
  Result<std::vector<proto::FileState>> queryFiles(const std::vector<std::string>& hashes);
  bool changesWaiting() const;
  std::size_t pieceBytes() const;
  void carried(std::uint64_t bytes);
  void learnLink(const Status& status);

  Pacer pacer_;
  //! This sync made the connection, so `latest_` is the server's word from its welcome (not only
  //! what notifications said since an earlier sync).
  bool latest_current_ = false;
  //! Accepted changes of this sync whose record the device waits to pull (not exact).
  std::size_t awaiting_pull_ = 0;
  std::uint64_t link_estimate_ = tuning::kInitialLinkEstimateBytes;  // see LocalFiles::linkEstimate
  std::uint64_t stored_link_estimate_ = 0;  // what the store holds, so unchanged estimates are not written
  std::uint64_t carried_ = 0;               // file bytes this connection carried (acknowledged or received)
  bool in_files_ = false;                   // the files phase is under way (a cut there teaches the link estimate)
  bool pushed_during_files_ = false;

  LocalStore& store_;
  Transport& transport_;
  SyncOptions options_;
  std::chrono::milliseconds timeout_;
  std::function<std::chrono::milliseconds()> clock_;
  SyncProgress progress_;
  proto::Limits limits_;
  proto::Welcome welcome_;
  std::uint64_t next_request_ = 1;
};

}  // namespace communesync::client
