// The server's own counters, for GET /metrics (http/metrics_api.cpp renders them in Prometheus'
// text format together with the gauges it reads at scrape time: sessions, open conflicts, RocksDB's
// sizes, the process). One set per process, as Prometheus' clients keep theirs: the counters only
// ever grow, and a scrape reads each atomically, so nothing on the hot path takes a lock.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "communesync/storage/result.hpp"

namespace communesync::server {

//! Counts of observations at or below each bound, their number and their sum (Prometheus'
//! histogram: `_bucket{le=...}`, `_count`, `_sum`).
class Histogram {
 public:
  explicit Histogram(std::vector<double> bounds);
  void observe(double value);

  struct Reading {
    std::vector<std::uint64_t> cumulative;  //!< per bound, observations <= it
    std::uint64_t count = 0;
    double sum = 0;
  };
  Reading read() const;
  const std::vector<double>& bounds() const { return bounds_; }

 private:
  std::vector<double> bounds_;
  std::vector<std::atomic<std::uint64_t>> buckets_;  // per bound, observations in (previous, this]
  std::atomic<std::uint64_t> count_{0};
  std::atomic<double> sum_{0};
};

//! HTTP requests answered, by route pattern (as in http/routes.cpp: bounded, not the raw path) and
//! status code, and their time.
class HttpCounts {
 public:
  void observe(std::string_view route, unsigned status, double seconds);

  struct Row {
    std::string route;
    unsigned status = 0;
    std::uint64_t count = 0;
  };
  //! Every (route, status) seen, sorted.
  std::vector<Row> rows() const;
  const Histogram& seconds() const { return seconds_; }

 private:
  mutable std::mutex mutex_;
  std::map<std::pair<std::string, unsigned>, std::uint64_t> counts_;
  Histogram seconds_{{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30}};
};

struct Metrics {
  using Counter = std::atomic<std::uint64_t>;

  Counter sessions_opened{0};  //!< sync sessions that said hello
  Counter pushes{0};           //!< pushes from devices made durable (or failed)
  Counter changes_accepted{0};
  //! Rejected changes by ErrorCode (the `reason` label is errorCodeName).
  std::array<Counter, static_cast<std::size_t>(kLastErrorCode) + 1> changes_rejected{};
  Histogram group_changes{{1, 10, 100, 1000, 5000, 20000}};                                    //!< changes per commit
  Histogram group_seconds{{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5}};  //!< apply + fsync
  Counter pull_batches{0};
  Counter pull_records{0};
  Counter pull_bytes{0};  //!< encoded batches sent
  Counter file_pieces_received{0};
  Counter file_bytes_received{0};  //!< pieces made durable
  Counter file_bytes_sent{0};
  Counter logins_failed{0};     //!< wrong password, unknown user or token, revoked device
  Counter logins_throttled{0};  //!< refused because the address or name failed too often
  HttpCounts http;
};

//! The process' metrics.
Metrics& metrics();

//! What the kernel says of this process (Linux /proc): resident bytes, CPU seconds, open
//! descriptors, start time. Zeros where it cannot be read.
struct ProcessReading {
  std::uint64_t resident_bytes = 0;
  double cpu_seconds = 0;
  std::uint64_t open_fds = 0;
  double start_time_seconds = 0;  //!< since the Unix epoch
};
ProcessReading readProcess();

}  // namespace communesync::server
