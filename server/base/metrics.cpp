#include "base/metrics.hpp"

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>

namespace communesync::server {

Histogram::Histogram(std::vector<double> bounds) : bounds_(std::move(bounds)), buckets_(bounds_.size()) {}

void Histogram::observe(double value) {
  const auto at = std::lower_bound(bounds_.begin(), bounds_.end(), value) - bounds_.begin();
  if (static_cast<std::size_t>(at) < buckets_.size()) buckets_[static_cast<std::size_t>(at)].fetch_add(1);
  count_.fetch_add(1);
  sum_.fetch_add(value);
}

Histogram::Reading Histogram::read() const {
  Reading out;
  std::uint64_t running = 0;
  for (const auto& b : buckets_) {
    running += b.load();
    out.cumulative.push_back(running);
  }
  out.count = std::max(count_.load(), running);  // read after the buckets: never below them
  out.sum = sum_.load();
  return out;
}

void HttpCounts::observe(std::string_view route, unsigned status, double seconds) {
  seconds_.observe(seconds);
  std::lock_guard lock(mutex_);
  ++counts_[{std::string(route), status}];
}

std::vector<HttpCounts::Row> HttpCounts::rows() const {
  std::lock_guard lock(mutex_);
  std::vector<Row> out;
  out.reserve(counts_.size());
  for (const auto& [key, count] : counts_) out.push_back({key.first, key.second, count});
  return out;
}

Metrics& metrics() {
  static Metrics instance;
  return instance;
}

ProcessReading readProcess() {
  ProcessReading out;
  const auto page = static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE));
  const auto ticks = static_cast<double>(::sysconf(_SC_CLK_TCK));
  if (std::ifstream statm("/proc/self/statm"); statm) {
    std::uint64_t size = 0, resident = 0;
    if (statm >> size >> resident) out.resident_bytes = resident * page;
  }
  // /proc/self/stat: the command name (field 2) may hold spaces; the fields after its ')' are
  // fixed: utime and stime are the 14th and 15th, starttime the 22nd (man 5 proc).
  if (std::ifstream stat("/proc/self/stat"); stat) {
    std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
    const auto close = text.rfind(')');
    if (close != std::string::npos) {
      std::istringstream rest(text.substr(close + 2));
      std::vector<std::string> fields{std::istream_iterator<std::string>(rest), std::istream_iterator<std::string>()};
      // fields[0] is the 3rd field (state).
      if (fields.size() > 19) {
        out.cpu_seconds = (std::stod(fields[11]) + std::stod(fields[12])) / ticks;
        double boot = 0;
        if (std::ifstream uptime_stat("/proc/stat"); uptime_stat) {
          std::string key;
          while (uptime_stat >> key) {
            if (key == "btime") {
              uptime_stat >> boot;
              break;
            }
          }
        }
        out.start_time_seconds = boot + std::stod(fields[19]) / ticks;
      }
    }
  }
  std::error_code ec;
  for (auto it = std::filesystem::directory_iterator("/proc/self/fd", ec);
       !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
    ++out.open_fds;
  }
  return out;
}

}  // namespace communesync::server
