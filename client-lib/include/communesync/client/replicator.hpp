// One sync: hello, push the outbox (pipelined), pull until caught up. Blocking: runs on the
// caller's thread, which gets progress callbacks on that same thread.
//
// Cut at any byte, a sync leaves the local store consistent and the next sync resumes: outbox
// entries leave only when acknowledged, and a pulled batch lands with its checkpoint atomically.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>

#include "communesync/client/local_store.hpp"
#include "communesync/client/transport.hpp"

namespace communesync::client {

struct SyncProgress {
  enum class Phase : std::uint8_t { kConnecting, kPushing, kPulling, kFiles, kDone };
  Phase phase = Phase::kConnecting;
  std::uint64_t pushed = 0;            //!< changes acknowledged so far
  std::uint64_t to_push = 0;           //!< changes in the outbox at the start
  std::uint64_t pulled = 0;            //!< records received so far
  std::uint64_t file_bytes = 0;        //!< files: bytes of the current file sent or received so far
  std::uint64_t file_bytes_total = 0;  //!< files: size of the current file
  std::uint64_t files_done = 0;        //!< files: sent or received whole so far
  std::uint64_t files_total = 0;       //!< files: to send or fetch in this sync
};

struct SyncOptions {
  std::function<void(const SyncProgress&)> on_progress;  //!< called on the syncing thread
  const std::atomic<bool>* cancel = nullptr;             //!< set to true to stop at the next message
  std::chrono::milliseconds reply_timeout{0};            //!< 0: tuning::kReplyTimeout
  std::string client_version = "communesync/0.1";
  //! The device's clock (uncorrected); the system clock if empty. Simulations inject theirs.
  std::function<std::chrono::milliseconds()> clock;
  //! Stop once this time has passed: at the next message, and a wait for a reply ends then too.
  //! The sync then fails with kDeadlineExceeded and leaves the store as a cut would: what the
  //! server acknowledged is kept, the rest goes at the next sync. Phones give background work short
  //! windows (Android's WorkManager, iOS's BGTaskScheduler). Default: none.
  std::optional<std::chrono::steady_clock::time_point> deadline;
  //! The link is metered (mobile data the user pays for): records go, files attached here and the
  //! files of eager collections wait for a sync on an unmetered link (the report says
  //! files_deferred). An explicit fetch of one file still runs: the user asked for it.
  bool metered = false;
};

struct SyncReport {
  Status status;             //!< ok only if everything pushed was acknowledged and the pull caught up
  std::uint64_t pushed = 0;  //!< changes sent
  std::uint64_t accepted = 0;
  std::uint64_t rejected = 0;
  std::uint64_t pulled = 0;     //!< records received
  std::uint64_t conflicts = 0;  //!< conflicts received
  std::uint64_t bytes_sent = 0;
  std::uint64_t bytes_received = 0;
  bool server_reset = false;              //!< the server's incarnation changed; local data was queued again
  std::uint64_t purged = 0;               //!< records removed because the user may no longer read their unit
  std::uint64_t resynced = 0;             //!< units pulled afresh: the server purged deletions not seen here
  std::uint64_t resync_dropped = 0;       //!< records those resyncs removed (deleted on the server long ago)
  std::uint64_t files_sent = 0;           //!< files that went up whole (or that the server already had)
  std::uint64_t files_received = 0;       //!< files fetched whole (eager collections, or fetch)
  std::uint64_t file_bytes_sent = 0;      //!< bytes of file pieces sent (part of bytes_sent)
  std::uint64_t file_bytes_received = 0;  //!< bytes of file pieces received (part of bytes_received)
  bool files_deferred = false;            //!< metered: files to send or fetch were left for later
  std::string user;
  std::vector<Scope> scopes;
};

//! A connection kept open between syncs: hello once, then syncs whenever there is something to
//! send or the server notifies that there is something to fetch. Not thread-safe: one thread drives it.
class Replicator {
 public:
  Replicator(LocalStore& store, Transport& transport, SyncOptions options = {});
  ~Replicator();
  Replicator(const Replicator&) = delete;
  Replicator& operator=(const Replicator&) = delete;

  //! Connects and says hello (clock offset, incarnation check). Errors: the transport's.
  Status connect();
  //! Pushes the outbox and pulls until caught up over the open connection (connecting first if
  //! needed). The report's status is ok only if both finished.
  SyncReport sync();
  //! Fetches one file (32 raw bytes of hash) into the store, resuming what an earlier fetch held,
  //! connecting first if needed. The report's status is ok once it is held whole and checked.
  //! Errors: kNotFound (not on the server whole yet), kForbidden (no record you may read refers to
  //! it), the transport's.
  SyncReport fetch(const std::string& hash);
  //! Waits up to `timeout` for the server's notify; true if one came (then sync()).
  //! Errors: kUnavailable when the connection is gone.
  Result<bool> waitForNotify(std::chrono::milliseconds timeout);
  //! The server's welcome of the last connect().
  const sync::proto::Welcome& welcome() const;
  //! Closes the connection politely.
  void close();

 private:
  // Runs `step` with a fresh report: bytes on the wire, user and scopes filled in.
  SyncReport run(const std::function<Status()>& step);
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

//! Runs one sync of `store` over `transport`: connect, hello, push, pull, close.
SyncReport syncOnce(LocalStore& store, Transport& transport, const SyncOptions& options = {});

//! Fetches one file over `transport`: connect, hello, fetch, close (see Replicator::fetch).
SyncReport fetchOnce(LocalStore& store, Transport& transport, const std::string& hash, const SyncOptions& options = {});

//! Connects and says hello only (login): checks the token and learns the user's name and scopes.
Result<sync::proto::Welcome> introduce(LocalStore& store, Transport& transport);

}  // namespace communesync::client
