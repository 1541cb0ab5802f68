// A token bucket: `rate` units per second on average, up to `burst` at once.
#pragma once

#include <algorithm>
#include <chrono>

namespace communesync::server {

class RateLimiter {
 public:
  RateLimiter(double rate, double burst) : rate_(rate), burst_(burst), tokens_(burst) {}

  //! Takes `units` if the bucket holds them; false (and takes nothing) if not.
  bool take(double units, std::chrono::steady_clock::time_point now = std::chrono::steady_clock::now()) {
    const std::chrono::duration<double> elapsed = now - last_;
    last_ = now;
    tokens_ = std::min(burst_, tokens_ + elapsed.count() * rate_);
    if (tokens_ < units) return false;
    tokens_ -= units;
    return true;
  }

 private:
  double rate_;
  double burst_;
  double tokens_;
  std::chrono::steady_clock::time_point last_ = std::chrono::steady_clock::now();
};

}  // namespace communesync::server
