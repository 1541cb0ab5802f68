#include "protocol/writer.hpp"

#include <pthread.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <iostream>
#include <system_error>

#include "base/clock.hpp"
#include "base/log.hpp"
#include "base/metrics.hpp"
#include "base/tuning.hpp"

namespace communesync::server {

Writer::Writer(ServerStore& store, Committed on_committed, std::chrono::milliseconds sweep_every, Sweep on_sweep)
    : store_(store),
      on_committed_(std::move(on_committed)),
      on_sweep_(std::move(on_sweep)),
      sweep_every_(sweep_every),
      thread_([this] { loop(); }),
      index_thread_([this] { indexLoop(); }) {}

Writer::~Writer() {
  stop();
}

bool Writer::submit(std::shared_ptr<PushJob> job, Done done) {
  {
    std::lock_guard lock(mutex_);
    if (stopping_ || queue_.size() >= tuning::kMaxWriterQueue) return false;
    queue_.push_back({std::move(job), std::move(done)});
  }
  wake_.notify_one();
  return true;
}

void Writer::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
  if (thread_.joinable()) thread_.join();
  {
    std::lock_guard lock(index_mutex_);
    index_stopping_ = true;
  }
  index_wake_.notify_one();
  if (index_thread_.joinable()) index_thread_.join();
}

// tuning::kMaxGroupChanges bounds the group's memory (every change decoded, merged and encoded is
// held until the commit) and how long a small push waits behind bulk restores. Measured
// (docs/benchmarks.md, replay): with only kMaxGroupJobs, four devices pushing 1,000-change frames
// grew the server to 500-600 MB.

// The group's figures for /metrics: its size and time, and what became of each device's changes.
void Writer::count(const std::vector<PushJob*>& jobs, std::chrono::steady_clock::duration took) {
  // Summed here, then added once each: the counters are shared with every scrape.
  auto& m = metrics();
  std::size_t changes = 0, pushes = 0, accepted = 0, pieces = 0, piece_bytes = 0;
  for (const auto* job : jobs) {
    changes += job->changes.size() + job->pieces.size();
    if (job->server) continue;  // the server's own (a publication, a resolution): not a device's push
    if (!job->changes.empty()) ++pushes;
    for (const auto& result : job->results) {
      if (result.outcome == sync::proto::Outcome::kAccepted) {
        ++accepted;
      } else {  // rare: counted as it comes
        const auto code = std::min<std::size_t>(result.code, m.changes_rejected.size() - 1);
        m.changes_rejected[code].fetch_add(1, std::memory_order_relaxed);
      }
    }
    for (std::size_t i = 0; i < job->acks.size() && i < job->pieces.size(); ++i) {
      if (job->acks[i].code != 0) continue;
      ++pieces;
      piece_bytes += job->pieces[i].data.size();
    }
  }
  m.pushes.fetch_add(pushes, std::memory_order_relaxed);
  m.changes_accepted.fetch_add(accepted, std::memory_order_relaxed);
  m.file_pieces_received.fetch_add(pieces, std::memory_order_relaxed);
  m.file_bytes_received.fetch_add(piece_bytes, std::memory_order_relaxed);
  m.group_changes.observe(static_cast<double>(changes));
  m.group_seconds.observe(std::chrono::duration<double>(took).count());
}

void Writer::loop() {
  pthread_setname_np(pthread_self(), "writer");  // so a profile tells it from the sessions' threads
  auto next_sweep = std::chrono::steady_clock::now() + sweep_every_;
  for (;;) {
    if (std::chrono::steady_clock::now() >= next_sweep) {
      // The sweep runs here, between groups, so it never races a piece of the file it removes.
      auto removed = store_.sweepFiles(nowMs());
      if (!removed) logEvent(LogLevel::kError, "file_sweep_failed", {{"error", removed.status().toString()}});
      if (on_sweep_) on_sweep_(nowMs());
      next_sweep = std::chrono::steady_clock::now() + sweep_every_;
    }
    std::vector<Item> group;
    {
      std::unique_lock lock(mutex_);
      wake_.wait_until(lock, next_sweep, [&] { return stopping_ || !queue_.empty(); });
      if (stopping_ && queue_.empty()) return;  // everything queued is done
      if (queue_.empty()) continue;             // time to sweep
      std::size_t changes = 0;
      while (!queue_.empty() && group.size() < tuning::kMaxGroupJobs &&
             (group.empty() || changes < tuning::kMaxGroupChanges)) {
        changes += queue_.front().job->changes.size() + queue_.front().job->pieces.size();
        group.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    std::vector<PushJob*> jobs;
    jobs.reserve(group.size());
    for (auto& item : group) jobs.push_back(item.job.get());
    sync::proto::Checkpoints touched;
    const auto started = std::chrono::steady_clock::now();
    const Status status = store_.apply(jobs, nowMs(), touched);
    if (!status) logEvent(LogLevel::kError, "commit_failed", {{"error", status.toString()}});
    count(jobs, std::chrono::steady_clock::now() - started);
    for (auto& item : group) item.done(status);
    if (status && !touched.empty()) {
      if (on_committed_) on_committed_(touched);
      {
        std::lock_guard lock(index_mutex_);
        index_pending_ = true;
      }
      index_wake_.notify_one();
    }
  }
}

// The search index follows the commits a slice at a time, so a stop waits for one slice at most.
// Its thread runs at a lower priority than the writer's: when the machine is busy, pushes go first
// and the index falls behind, to catch up when there is room (a search catches it up too).
void Writer::indexLoop() {
  pthread_setname_np(pthread_self(), "search-index");
  if (setpriority(PRIO_PROCESS, static_cast<id_t>(gettid()), tuning::kSearchIndexNice) != 0) {
    logEvent(LogLevel::kWarn, "search_index_priority_unchanged",
             {{"error", std::error_code(errno, std::generic_category()).message()}});
  }
  for (;;) {
    {
      std::unique_lock lock(index_mutex_);
      index_wake_.wait(lock, [&] { return index_stopping_ || index_pending_; });
      if (index_stopping_) return;
      index_pending_ = false;
    }
    for (;;) {
      auto caught = store_.indexSearch(tuning::kSearchIndexSlice);
      if (!caught) {
        logEvent(LogLevel::kError, "search_index_failed", {{"error", caught.status().toString()}});
        break;  // the next commit tries again
      }
      std::lock_guard lock(index_mutex_);
      if (*caught || index_stopping_) break;
    }
  }
}

}  // namespace communesync::server
