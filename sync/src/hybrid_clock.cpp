#include "communesync/sync/hybrid_clock.hpp"

#include <limits>

namespace communesync::sync {

HybridClock::HybridClock(DeviceId device, Stamp last) : device_(device), last_(last) {
  last_.device = device_;
}

Stamp HybridClock::tick(std::chrono::milliseconds device_now) {
  const std::int64_t physical = correctedMs(device_now);
  if (physical > last_.wall_ms) {
    last_.wall_ms = physical;
    last_.counter = 0;
  } else if (last_.counter == std::numeric_limits<std::uint32_t>::max()) {
    // Four billion writes in one millisecond: borrow the next millisecond rather than wrap.
    ++last_.wall_ms;
    last_.counter = 0;
  } else {
    ++last_.counter;
  }
  last_.device = device_;
  return last_;
}

void HybridClock::observe(const Stamp& seen) {
  // Keep (wall, counter) at least the seen one's; the next tick then goes strictly past it, whatever
  // the device ids, because tick() increments the counter when the wall clock has not moved on.
  if (seen.wall_ms > last_.wall_ms || (seen.wall_ms == last_.wall_ms && seen.counter > last_.counter)) {
    last_.wall_ms = seen.wall_ms;
    last_.counter = seen.counter;
  }
}

Stamp StampClamp::clamp(const Stamp& stamp, std::int64_t ceiling_ms, bool* clamped) {
  if (stamp.wall_ms <= ceiling_ms) {
    if (clamped != nullptr) *clamped = false;
    return stamp;
  }
  // Too far ahead: put it at the ceiling, after the last clamped stamp of this device, so the
  // device's own writes stay in the order it made them.
  Stamp out{ceiling_ms, 0, stamp.device};
  if (last_.wall_ms >= ceiling_ms) {
    out.wall_ms = last_.wall_ms;
    if (last_.counter == std::numeric_limits<std::uint32_t>::max()) {
      ++out.wall_ms;
    } else {
      out.counter = last_.counter + 1;
    }
  }
  last_ = out;
  if (clamped != nullptr) *clamped = true;
  return out;
}

Stamp stampAfter(const Stamp& top, std::int64_t now_ms, const DeviceId& device) {
  if (now_ms > top.wall_ms) return Stamp{now_ms, 0, device};
  if (top.counter == std::numeric_limits<std::uint32_t>::max()) return Stamp{top.wall_ms + 1, 0, device};
  return Stamp{top.wall_ms, top.counter + 1, device};
}

}  // namespace communesync::sync
