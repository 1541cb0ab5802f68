#include "directory/login_throttle.hpp"

#include <algorithm>

#include "base/peer_key.hpp"
#include "base/tuning.hpp"
#include "communesync/sync/tuning.hpp"

namespace communesync::server {

LoginThrottle::LoginThrottle()
    : LoginThrottle(Limits{tuning::kLoginFailuresPerAddress, tuning::kLoginFailuresPerUser, tuning::kLoginFailureDrain,
                           tuning::kMaxLoginThrottleKeys}) {}

namespace {

// User names are at most sync::tuning::kMaxNameBytes; a longer one is no user's and is counted by
// its start, so that a flood of long names cannot hold much memory.
constexpr std::size_t kMaxNameKeyBytes = sync::tuning::kMaxNameBytes;

}  // namespace

double LoginThrottle::remaining(const Count& c, Clock::time_point now) const {
  if (now <= c.at) return c.failures;
  const double periods = std::chrono::duration<double>(now - c.at) / limits_.drain;
  return std::max(0.0, c.failures - periods);
}

LoginThrottle::Clock::duration LoginThrottle::waitOf(Counts& counts, const std::string& key, double allowance,
                                                     Clock::time_point now) const {
  auto it = counts.find(key);
  if (it == counts.end()) return Clock::duration::zero();
  const double over = remaining(it->second, now) - allowance + 1;  // drained below the allowance: may try
  if (over <= 0) return Clock::duration::zero();
  return std::chrono::duration_cast<Clock::duration>(over * limits_.drain);
}

void LoginThrottle::add(Counts& counts, const std::string& key, Clock::time_point now) {
  auto it = counts.find(key);
  if (it == counts.end()) {
    if (counts.size() >= limits_.max_keys) {
      // Full: forget what has drained; if nothing has, the count touched longest ago.
      std::erase_if(counts, [&](const auto& entry) { return remaining(entry.second, now) <= 0; });
      if (counts.size() >= limits_.max_keys) {
        counts.erase(std::min_element(counts.begin(), counts.end(),
                                      [](const auto& a, const auto& b) { return a.second.at < b.second.at; }));
      }
    }
    it = counts.emplace(key, Count{0, now}).first;
  }
  it->second.failures = remaining(it->second, now) + 1;
  it->second.at = now;
}

// A name is counted per address: a guesser at one address makes that name wait there only, and the
// user logs in from anywhere else (a name counted alone locked its owner out everywhere).
std::string LoginThrottle::userKey(const std::string& address, const std::string& user) {
  return peerKey(address) + '\n' + user.substr(0, kMaxNameKeyBytes);
}

LoginThrottle::Clock::duration LoginThrottle::wait(const std::string& address, const std::string& user,
                                                   Clock::time_point now) {
  std::lock_guard lock(mutex_);
  auto by_address = waitOf(addresses_, peerKey(address), limits_.failures_per_address, now);
  auto by_user =
      user.empty() ? Clock::duration::zero() : waitOf(users_, userKey(address, user), limits_.failures_per_user, now);
  return std::max(by_address, by_user);
}

bool LoginThrottle::failed(const std::string& address, const std::string& user, Clock::time_point now) {
  std::lock_guard lock(mutex_);
  const auto address_key = peerKey(address);
  const bool address_was_free =
      waitOf(addresses_, address_key, limits_.failures_per_address, now) == Clock::duration::zero();
  add(addresses_, address_key, now);
  bool locked =
      address_was_free && waitOf(addresses_, address_key, limits_.failures_per_address, now) > Clock::duration::zero();
  if (!user.empty()) {
    const auto key = userKey(address, user);
    const bool was_free = waitOf(users_, key, limits_.failures_per_user, now) == Clock::duration::zero();
    add(users_, key, now);
    locked |= was_free && waitOf(users_, key, limits_.failures_per_user, now) > Clock::duration::zero();
  }
  return locked;
}

}  // namespace communesync::server
