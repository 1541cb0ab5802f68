// Counted places under a limit per key: connections per address, sessions per user, heavy requests
// per user, bytes of request bodies. A ticket holds its places; they are given back when the last
// copy of the ticket goes. Thread-safe.
#pragma once

#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>

namespace communesync::server {

class Places {
 public:
  using Ticket = std::shared_ptr<void>;

  explicit Places(std::size_t limit) : limit_(limit) {}
  Places(const Places&) = delete;
  Places& operator=(const Places&) = delete;

  //! `amount` places under `key`, or nullptr if they would pass the limit.
  Ticket take(const std::string& key, std::size_t amount = 1) {
    std::lock_guard lock(mutex_);
    auto& n = counts_[key];
    if (amount > limit_ || n > limit_ - amount) {
      if (n == 0) counts_.erase(key);
      return nullptr;
    }
    n += amount;
    // The deleter gives the places back: the owner of the Places outlives every ticket.
    return Ticket(new char, [this, key, amount](void* p) {
      delete static_cast<char*>(p);
      std::lock_guard release_lock(mutex_);
      auto it = counts_.find(key);
      if (it != counts_.end() && (it->second -= amount) == 0) counts_.erase(it);
    });
  }
  std::size_t limit() const { return limit_; }

 private:
  std::size_t limit_;
  std::mutex mutex_;
  std::map<std::string, std::size_t, std::less<>> counts_;
};

}  // namespace communesync::server
