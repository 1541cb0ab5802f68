// The views' counters in memory, as committed: the tallies ('t'), the survey tallies ('s') and the
// open conflict counts ('c') of store/views.hpp. A few per unit, year and form (thousands for a
// province), read by every overview and written by every group commit: reading them from RocksDB
// cost a seek each, which grew with the store (the overview of 200 communes took 3x longer at a
// million records than at ten thousand), and the writer read each before adding to it. The store
// stays the truth; this is loaded from it at open and after a rebuild, and the writer applies what
// each group wrote once its commit is durable.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "communesync/storage/store.hpp"

namespace communesync::server {

class CountCache {
 public:
  //! What a group wrote: each key and its new value (nullopt: erased).
  using Written = std::vector<std::pair<std::string, std::optional<std::string>>>;

  //! Reads every counter of the views column (replacing what was held).
  Status load(const storage::Store& store);
  //! A counter's value as committed, or nullopt.
  std::optional<std::string> get(const std::string& key) const;
  //! Calls `fn` with each counter whose key starts with `prefix`, in key order, until it returns an
  //! error (which is returned).
  Status forEach(std::string_view prefix,
                 const std::function<Status(std::string_view key, std::string_view value)>& fn) const;
  //! After a durable commit: the group's writes.
  void apply(const Written& written);
  //! Another server moved the counters (a store several servers write): the next refresh() reads
  //! them again.
  void markStale() { stale_.store(true, std::memory_order_release); }
  //! Reads every counter again if markStale() was called since the last read. Before a read of the
  //! counters that must include other servers' commits (the overview, the totals).
  Status refresh(const storage::Store& store);

  //! Whether a views key is one of the counters.
  static bool isCounter(std::string_view key) {
    return !key.empty() && (key.front() == 't' || key.front() == 's' || key.front() == 'c');
  }

 private:
  mutable std::mutex mutex_;
  std::map<std::string, std::string, std::less<>> counts_;
  std::atomic<bool> stale_{false};
};

}  // namespace communesync::server
