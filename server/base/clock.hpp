// The server's wall clock: every layer that stamps what it writes (history, audit, reviews,
// resolutions) reads the time here, so a test or a tool sees one definition.
#pragma once

#include <chrono>
#include <cstdint>

namespace communesync::server {

//! Now, in milliseconds since the epoch.
inline std::int64_t nowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace communesync::server
