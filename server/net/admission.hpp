// Who may hold a connection, a session, or a place among the HTTP requests waiting for the workers:
// counts per peer address (IPv6 by its /64, base/peer_key.hpp), per user and for the whole server,
// against the limits. A ticket holds one place; the place is given back when the last copy of the
// ticket goes.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>

#include "base/peer_key.hpp"
#include "base/tuning.hpp"

namespace communesync::server {

class Admission {
 public:
  using Ticket = std::shared_ptr<void>;

  //! `connections`: the whole server's connections, below its file descriptor limit (app/descriptors.hpp).
  Admission(std::size_t per_address, std::size_t per_user, std::size_t http_requests, std::size_t connections,
            std::size_t body_bytes = tuning::kMaxBufferedBodyBytes)
      : per_address_(per_address),
        per_user_(per_user),
        http_requests_(http_requests),
        connections_(connections),
        body_bytes_(body_bytes) {}

  //! Why a connection was not admitted.
  enum class Full : std::uint8_t { kNo, kAddress, kServer };

  //! A place for one connection from `address`, or nullptr when the address (its /64 for IPv6) or
  //! the whole server holds its limit; `full` says which.
  Ticket connection(const std::string& address, Full* full = nullptr) {
    auto whole = take(servers_, "", connections_);
    auto mine = whole ? take(addresses_, peerKey(address), per_address_) : nullptr;
    if (full != nullptr) *full = !whole ? Full::kServer : !mine ? Full::kAddress : Full::kNo;
    if (!mine) return nullptr;
    return std::make_shared<std::pair<Ticket, Ticket>>(std::move(whole), std::move(mine));
  }
  //! A place for one sync session of `user`, or nullptr when the user holds its limit.
  Ticket session(const std::string& user) { return take(users_, user, per_user_); }
  //! A place for one HTTP request waiting for or on the HTTP workers, or nullptr when they are full.
  Ticket httpRequest() { return take(requests_, "", http_requests_); }
  //! Room for `bytes` of request bodies among the whole server's, or nullptr when they are held.
  Ticket bodyBytes(std::size_t bytes) { return take(bodies_, "", body_bytes_, bytes); }
  //! The whole server's connection limit.
  std::size_t connectionLimit() const { return connections_; }

 private:
  using Counts = std::map<std::string, std::size_t, std::less<>>;

  // `amount` places under `key`, or nullptr if they would pass `limit`.
  Ticket take(Counts& counts, const std::string& key, std::size_t limit, std::size_t amount = 1) {
    std::lock_guard lock(mutex_);
    auto& n = counts[key];
    if (amount > limit || n > limit - amount) {
      if (n == 0) counts.erase(key);
      return nullptr;
    }
    n += amount;
    // The deleter gives the places back; `this` outlives every ticket (the server owns both).
    return Ticket(new char, [this, &counts, key, amount](void* p) {
      delete static_cast<char*>(p);
      std::lock_guard release_lock(mutex_);
      auto it = counts.find(key);
      if (it != counts.end() && (it->second -= amount) == 0) counts.erase(it);
    });
  }

  std::size_t per_address_;
  std::size_t per_user_;
  std::size_t http_requests_;
  std::size_t connections_;
  std::size_t body_bytes_;
  std::mutex mutex_;
  Counts addresses_;
  Counts users_;
  Counts requests_;
  Counts servers_;
  Counts bodies_;
};

}  // namespace communesync::server
