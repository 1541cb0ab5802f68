// A stamp orders every field write in the system: a hybrid logical clock reading (corrected wall
// milliseconds, then a counter) plus the writing device, so that no two writes ever compare equal.
#pragma once

#include <compare>
#include <cstdint>
#include <string>

#include "communesync/sync/device_id.hpp"

namespace communesync::sync {

struct Stamp {
  std::int64_t wall_ms = 0;   //!< corrected wall clock, milliseconds since the Unix epoch
  std::uint32_t counter = 0;  //!< orders writes within one millisecond (and across clock steps back)
  DeviceId device;            //!< who wrote; breaks ties so the order is total

  //! Compares wall_ms, then counter, then device: a total order shared by every replica.
  auto operator<=>(const Stamp&) const = default;
  //! The zero stamp stands for "nothing written yet".
  bool isZero() const { return *this == Stamp{}; }
  //! "wall_ms.counter@device", for logs and JSON.
  std::string toString() const;
};

}  // namespace communesync::sync
