// Who may hold a connection, a session, or a place among the HTTP requests waiting for the workers:
// counts per peer address (IPv6 by its /64, base/peer_key.hpp), per user and for the whole server,
// against the limits. A ticket holds its place; the place is given back when the last copy of the
// ticket goes.
#pragma once

#include <memory>
#include <string>
#include <utility>

#include "base/peer_key.hpp"
#include "base/places.hpp"
#include "base/tuning.hpp"

namespace communesync::server {

class Admission {
 public:
  using Ticket = Places::Ticket;

  //! `connections`: the whole server's connections, below its file descriptor limit (app/descriptors.hpp).
  Admission(std::size_t per_address, std::size_t per_user, std::size_t http_requests, std::size_t connections,
            std::size_t body_bytes = tuning::kMaxBufferedBodyBytes)
      : addresses_(per_address),
        users_(per_user),
        requests_(http_requests),
        connections_(connections),
        bodies_(body_bytes) {}

  //! Why a connection was not admitted.
  enum class Full : std::uint8_t { kNo, kAddress, kServer };

  //! A place for one connection from `address`, or nullptr when the address (its /64 for IPv6) or
  //! the whole server holds its limit; `full` says which.
  //! A trusted proxy's connection (`proxy`) counts toward the server's limit only.
  Ticket connection(const std::string& address, Full* full = nullptr, bool proxy = false) {
    auto whole = connections_.take("");
    if (proxy) {
      if (full != nullptr) *full = whole ? Full::kNo : Full::kServer;
      return whole;
    }
    auto mine = whole ? addresses_.take(peerKey(address)) : nullptr;
    if (full != nullptr) *full = !whole ? Full::kServer : !mine ? Full::kAddress : Full::kNo;
    if (!mine) return nullptr;
    return std::make_shared<std::pair<Ticket, Ticket>>(std::move(whole), std::move(mine));
  }
  //! A place for one sync session of `user`, or nullptr when the user holds its limit.
  Ticket session(const std::string& user) { return users_.take(user); }
  //! A place for one HTTP request waiting for or on the HTTP workers, or nullptr when they are full.
  Ticket httpRequest() { return requests_.take(""); }
  //! Room for `bytes` of request bodies among the whole server's, or nullptr when they are held.
  Ticket bodyBytes(std::size_t bytes) { return bodies_.take("", bytes); }
  //! The whole server's connection limit.
  std::size_t connectionLimit() const { return connections_.limit(); }

 private:
  Places addresses_;
  Places users_;
  Places requests_;
  Places connections_;
  Places bodies_;
};

}  // namespace communesync::server
