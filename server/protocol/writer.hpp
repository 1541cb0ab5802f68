// The single writer: one thread takes every waiting push job, applies them all in one durable
// commit (group commit), then hands each job its results. Sessions never block on a commit.
// A second thread keeps the search's word index after the commits (ServerStore::indexSearch), off
// the write path.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <thread>

#include "base/tuning.hpp"
#include "store/server_store.hpp"

namespace communesync::server {

class Writer {
 public:
  //! Called on the writer thread once the job's commit is durable (or failed): post, do not block.
  using Done = std::function<void(const Status&)>;
  //! Called on the writer thread after each commit with the scopes that changed and their latest seq.
  using Committed = std::function<void(const sync::proto::Checkpoints&)>;

  //! Called on the writer thread at each sweep, after the files, with the time: the rest of what the
  //! server forgets by its retention (ServerStore::sweepHistory, Directory::sweepAudit).
  using Sweep = std::function<void(std::int64_t now_ms)>;

  //! Between commits, every `sweep_every` the writer also sweeps files nothing refers to any more,
  //! then calls `on_sweep`.
  Writer(ServerStore& store, Committed on_committed,
         std::chrono::milliseconds sweep_every = std::chrono::milliseconds(tuning::kFileSweepInterval),
         Sweep on_sweep = {});
  ~Writer();
  Writer(const Writer&) = delete;
  Writer& operator=(const Writer&) = delete;

  //! Queues a job. Returns false (and does not call `done`) if the queue is full or the writer stopped.
  bool submit(std::shared_ptr<PushJob> job, Done done);
  //! Finishes every queued job, then stops the thread. Idempotent.
  void stop();

 private:
  void loop();
  void indexLoop();
  static void count(const std::vector<PushJob*>& jobs, std::chrono::steady_clock::duration took);

  struct Item {
    std::shared_ptr<PushJob> job;
    Done done;
  };
  ServerStore& store_;
  Committed on_committed_;
  Sweep on_sweep_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<Item> queue_;
  std::chrono::milliseconds sweep_every_;
  bool stopping_ = false;
  std::thread thread_;

  std::mutex index_mutex_;
  std::condition_variable index_wake_;
  bool index_pending_ = true;  // at start: what a crash left behind
  bool index_stopping_ = false;
  std::thread index_thread_;
};

}  // namespace communesync::server
