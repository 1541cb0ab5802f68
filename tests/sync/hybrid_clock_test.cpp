#include "communesync/sync/hybrid_clock.hpp"

#include <gtest/gtest.h>

#include <limits>

namespace communesync::sync {
namespace {

using std::chrono::milliseconds;

DeviceId device(std::uint8_t n) {
  DeviceId d;
  d.bytes[15] = n;
  return d;
}

TEST(HybridClock, StampsFollowTheWallClock) {
  HybridClock clock(device(1));
  auto a = clock.tick(milliseconds(1000));
  EXPECT_EQ(a.wall_ms, 1000);
  EXPECT_EQ(a.counter, 0u);
  EXPECT_EQ(a.device, device(1));
  auto b = clock.tick(milliseconds(2000));
  EXPECT_EQ(b.wall_ms, 2000);
  EXPECT_LT(a, b);
}

TEST(HybridClock, MonotonicWhenTheClockJumpsBackwards) {
  HybridClock clock(device(1));
  Stamp prev = clock.tick(milliseconds(1'700'000'000'000));
  // The phone's battery dies; the clock comes back in 2010, then moves on, then jumps again.
  for (std::int64_t t : {1'262'304'000'000LL, 1'262'304'000'001LL, 1'600'000'000'000LL, 1'700'000'000'000LL}) {
    for (int i = 0; i < 3; ++i) {
      Stamp next = clock.tick(milliseconds(t));
      EXPECT_LT(prev, next) << "at " << t;
      prev = next;
    }
  }
  EXPECT_EQ(prev.wall_ms, 1'700'000'000'000) << "the counter carried it, the wall stayed";
}

TEST(HybridClock, OffsetFromTheServerIsApplied) {
  HybridClock clock(device(1));
  clock.setOffset(milliseconds(-86'400'000LL * 365));  // the phone is a year ahead
  auto s = clock.tick(milliseconds(1'800'000'000'000LL));
  EXPECT_EQ(s.wall_ms, 1'800'000'000'000LL - 86'400'000LL * 365);
}

TEST(HybridClock, TicksAfterAnObservedStampAreGreater) {
  HybridClock mine(device(1));
  Stamp theirs{5'000, 7, device(200)};
  mine.observe(theirs);
  auto s = mine.tick(milliseconds(10));  // our clock is far behind theirs
  EXPECT_GT(s, theirs);
  EXPECT_EQ(s.device, device(1));
  // An observed stamp with a greater device id at the same (wall, counter) is still passed.
  HybridClock low(device(0));
  low.observe(Stamp{10, 0, device(255)});
  EXPECT_GT(low.tick(milliseconds(10)), (Stamp{10, 0, device(255)}));
}

TEST(HybridClock, RestoresFromLastStamp) {
  HybridClock clock(device(1), Stamp{9'000, 3, device(1)});
  EXPECT_GT(clock.tick(milliseconds(1)), (Stamp{9'000, 3, device(1)}));
}

TEST(StampClamp, FarFutureStampsAreClampedInOrder) {
  StampClamp clamp;
  bool clamped = false;
  const std::int64_t ceiling = 1'000'000;
  auto near = clamp.clamp(Stamp{999'000, 0, device(1)}, ceiling, &clamped);
  EXPECT_FALSE(clamped);
  EXPECT_EQ(near.wall_ms, 999'000);

  auto a = clamp.clamp(Stamp{1'000'000'000, 0, device(1)}, ceiling, &clamped);
  EXPECT_TRUE(clamped);
  EXPECT_EQ(a.wall_ms, ceiling);
  auto b = clamp.clamp(Stamp{1'000'000'001, 0, device(1)}, ceiling, &clamped);
  EXPECT_TRUE(clamped);
  EXPECT_LT(a, b) << "the device's own writes keep their order after clamping";
  EXPECT_EQ(b.device, device(1));
}

}  // namespace
// A reconciler's decision must be newer than both sides, even one whose counter is at its end: the
// counter then stays put and the millisecond moves on (it once wrapped to 0, and the decision lost).
TEST(StampAfter, IsNewerThanTheTopEvenAtTheCountersEnd) {
  const DeviceId reconciler{};
  const Stamp at_end{5000, std::numeric_limits<std::uint32_t>::max(), DeviceId{}};
  const Stamp next = stampAfter(at_end, 4000, reconciler);
  EXPECT_GT(next, at_end);
  EXPECT_EQ(next.wall_ms, 5001);
  EXPECT_EQ(next.counter, 0u);
  EXPECT_GT(stampAfter(Stamp{5000, 7, DeviceId{}}, 4000, reconciler), (Stamp{5000, 7, DeviceId{}}));
  EXPECT_EQ(stampAfter(Stamp{5000, 7, DeviceId{}}, 6000, reconciler).wall_ms, 6000) << "the clock, when it is past";
}

}  // namespace communesync::sync
