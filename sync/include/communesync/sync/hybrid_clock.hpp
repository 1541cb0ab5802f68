// The hybrid logical clock every device stamps its writes with.
//
// Device clocks in the field are wrong (a dead battery resets them to 2010, a user sets them a year
// ahead). At every contact the server tells the device its time; the clock keeps the offset and
// stamps with (device time + offset). Stamps never go backwards even when the device's clock does,
// and are always greater than any stamp the device has observed, so an edit made after seeing a
// value always wins over it. Time is passed in: this class reads no clock.
#pragma once

#include <chrono>
#include <cstdint>

#include "communesync/sync/stamp.hpp"

namespace communesync::sync {

class HybridClock {
 public:
  //! `last` restores the clock after a restart (the greatest stamp the device has issued).
  explicit HybridClock(DeviceId device, Stamp last = {});

  //! Sets the correction: server time minus device time, measured at the last contact.
  void setOffset(std::chrono::milliseconds offset) { offset_ = offset; }
  std::chrono::milliseconds offset() const { return offset_; }

  //! A new stamp for a local write, given the device's own (uncorrected) clock reading.
  Stamp tick(std::chrono::milliseconds device_now);

  //! Makes every later tick greater than `seen` (a stamp received from elsewhere).
  void observe(const Stamp& seen);

  //! The greatest stamp issued or observed.
  const Stamp& last() const { return last_; }

  //! device_now + offset, in milliseconds since the epoch.
  std::int64_t correctedMs(std::chrono::milliseconds device_now) const { return (device_now + offset_).count(); }

 private:
  DeviceId device_;
  Stamp last_;
  std::chrono::milliseconds offset_{0};
};

//! Keeps one device's stamps from running ahead of the server: a stamp later than `ceiling_ms` is
//! replaced by the next stamp at the ceiling, preserving the order of that device's writes.
//! The server keeps one per device (its state is `last()`), and records every clamp it makes.
class StampClamp {
 public:
  explicit StampClamp(Stamp last = {}) : last_(last) {}
  //! Returns the stamp to store; sets *clamped when it differs from `stamp`.
  Stamp clamp(const Stamp& stamp, std::int64_t ceiling_ms, bool* clamped);
  const Stamp& last() const { return last_; }

 private:
  Stamp last_;  //!< the last clamped stamp issued
};

//! The first stamp of `device` after `top`, at `now_ms` if the clock is past it: what a write that
//! must win over `top` (a reconciler's decision) is stamped with. Like HybridClock::tick, the counter
//! never wraps: past its largest value comes the next millisecond.
Stamp stampAfter(const Stamp& top, std::int64_t now_ms, const DeviceId& device);

}  // namespace communesync::sync
