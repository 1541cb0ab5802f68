// Slows password guessing: failed logins are counted per client address (IPv6 by its /64, as one
// household or phone holds a whole /64) and per user name at that address, each count draining by one every
// tuning::kLoginFailureDrain. Once an address or a name has failed its allowance, further logins
// for it are refused, without checking the password, until its count drains below the allowance.
//
// A name is counted per address, so a guesser cannot lock its owner out: the owner's logins from
// any other address are checked as usual.
// Only failures count: phones behind one carrier NAT that log in correctly never trip it. Names are
// counted whether or not such a user exists, so the refusal tells nothing about which names do.
// Whoever holds a device token keeps syncing: only new logins wait.
#pragma once

#include <chrono>
#include <cstddef>
#include <mutex>
#include <string>
#include <unordered_map>

namespace communesync::server {

class LoginThrottle {
 public:
  using Clock = std::chrono::steady_clock;

  struct Limits {
    double failures_per_address;  // allowance before an address waits
    double failures_per_user;     // allowance before a user name waits
    Clock::duration drain;        // each count drains by one this often
    std::size_t max_keys;         // addresses and names tracked, each (the oldest goes first when full)
  };

  LoginThrottle();  // the limits of tuning.hpp
  explicit LoginThrottle(Limits limits) : limits_(limits) {}

  //! How long a login from `address` for `user` must wait; zero if it may be tried now.
  Clock::duration wait(const std::string& address, const std::string& user, Clock::time_point now = Clock::now());
  //! Counts one failed login (wrong password, unknown user or token) from `address` for `user`
  //! (empty: no name, as for a token that matched nobody). True when this failure used up an
  //! allowance: logins from there wait from now on (the directory audits that once, not each try).
  bool failed(const std::string& address, const std::string& user, Clock::time_point now = Clock::now());

  //! The key a name is counted under: the address's key and the name (its first bytes).
  static std::string userKey(const std::string& address, const std::string& user);

 private:
  struct Count {
    double failures = 0;
    Clock::time_point at;  // when `failures` was counted
  };
  using Counts = std::unordered_map<std::string, Count>;

  // The failures still counted at `now`, after draining since `c.at`.
  double remaining(const Count& c, Clock::time_point now) const;
  Clock::duration waitOf(Counts& counts, const std::string& key, double allowance, Clock::time_point now) const;
  void add(Counts& counts, const std::string& key, Clock::time_point now);

  Limits limits_;
  std::mutex mutex_;
  Counts addresses_;
  Counts users_;
};

//! A wait in whole seconds, rounded up (for messages and Retry-After).
inline long long waitSeconds(LoginThrottle::Clock::duration wait) {
  return std::chrono::ceil<std::chrono::seconds>(wait).count();
}

}  // namespace communesync::server
