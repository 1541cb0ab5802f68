// Failed logins slow further guessing per address (IPv6 by /64) and per name at an address, and drain.
#include "directory/login_throttle.hpp"
#include "base/peer_key.hpp"

#include <gtest/gtest.h>

namespace communesync::server {
namespace {

using namespace std::chrono_literals;
using Clock = LoginThrottle::Clock;

const LoginThrottle::Limits kLimits{3, 2, 30s, 64};

TEST(LoginThrottle, AnAddressWaitsAfterItsAllowanceAndOneTryComesBackPerDrain) {
  LoginThrottle throttle(kLimits);
  const auto t0 = Clock::time_point{} + 1h;
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(throttle.wait("10.0.0.1", "", t0), Clock::duration::zero()) << i;
    throttle.failed("10.0.0.1", "", t0);
  }
  EXPECT_EQ(throttle.wait("10.0.0.1", "", t0), 30s);
  EXPECT_EQ(throttle.wait("10.0.0.2", "", t0), Clock::duration::zero()) << "other addresses are not held up";
  EXPECT_EQ(waitSeconds(throttle.wait("10.0.0.1", "", t0 + 10s)), 20);
  EXPECT_EQ(throttle.wait("10.0.0.1", "", t0 + 30s), Clock::duration::zero());
  throttle.failed("10.0.0.1", "", t0 + 30s);  // the one try it got back, wrong again
  EXPECT_EQ(throttle.wait("10.0.0.1", "", t0 + 30s), 30s);
  EXPECT_EQ(waitSeconds(throttle.wait("10.0.0.1", "", t0 + 30s + 1ms)), 30) << "rounded up";
}

// A guesser at one address makes the name wait there, not everywhere (issue 23.3: a wrong password
// once a second from one address kept the owner out from every address, right password included).
TEST(LoginThrottle, ANameWaitsAtTheAddressItsFailuresCameFromAndNowhereElse) {
  LoginThrottle throttle({10, 2, 30s, 64});  // the address's own allowance out of the way
  const auto t0 = Clock::time_point{} + 1h;
  EXPECT_FALSE(throttle.failed("10.0.0.1", "an", t0));
  EXPECT_TRUE(throttle.failed("10.0.0.1", "an", t0)) << "this failure used up the name's allowance there";
  EXPECT_FALSE(throttle.failed("10.0.0.1", "an", t0)) << "already waiting: said once, not per try";
  EXPECT_EQ(throttle.wait("10.0.0.1", "an", t0), 60s);
  EXPECT_EQ(throttle.wait("10.0.0.3", "an", t0), Clock::duration::zero()) << "the owner logs in elsewhere";
  EXPECT_EQ(throttle.wait("10.0.0.1", "binh", t0), Clock::duration::zero());
  // A name past any real one's length is counted by its start, so it cannot grow the table.
  const std::string long_name(100000, 'x');
  throttle.failed("10.0.0.4", long_name, t0);
  throttle.failed("10.0.0.4", long_name + "y", t0);
  EXPECT_GT(throttle.wait("10.0.0.4", long_name + "z", t0), Clock::duration::zero());
}

TEST(LoginThrottle, IPv6IsCountedByItsSlash64AndMappedIPv4AsIPv4) {
  EXPECT_EQ(peerKey("2001:db8:1:2:aaaa::1"), peerKey("2001:db8:1:2::ffff"));
  EXPECT_NE(peerKey("2001:db8:1:2::1"), peerKey("2001:db8:1:3::1"));
  EXPECT_EQ(peerKey("::ffff:10.0.0.1"), "10.0.0.1");
  EXPECT_EQ(peerKey("unknown"), "unknown");

  LoginThrottle throttle(kLimits);
  const auto t0 = Clock::time_point{} + 1h;
  for (int i = 0; i < 3; ++i) throttle.failed("2001:db8:1:2::" + std::to_string(i + 1), "", t0);
  EXPECT_GT(throttle.wait("2001:db8:1:2::99", "", t0), Clock::duration::zero());
  EXPECT_EQ(throttle.wait("2001:db8:1:3::1", "", t0), Clock::duration::zero());
}

TEST(LoginThrottle, AFullTableForgetsDrainedCountsThenTheOldestAndKeepsCounting) {
  LoginThrottle throttle({3, 2, 30s, 4});
  const auto t0 = Clock::time_point{} + 1h;
  for (int i = 0; i < 3; ++i) throttle.failed("10.0.0.1", "", t0 - 1s);  // held, and the oldest
  for (int i = 2; i <= 4; ++i) throttle.failed("10.0.0." + std::to_string(i), "", t0);
  for (int i = 0; i < 3; ++i) throttle.failed("10.0.0.5", "", t0 + 29s);  // full, nothing drained: .1 goes
  EXPECT_EQ(throttle.wait("10.0.0.1", "", t0 + 29s), Clock::duration::zero());
  EXPECT_EQ(throttle.wait("10.0.0.5", "", t0 + 29s), 30s) << "the newest address is counted";
  // Once .2 to .4 have drained, they make room, and the held address stays held.
  throttle.failed("10.0.0.6", "", t0 + 31s);
  EXPECT_GT(throttle.wait("10.0.0.5", "", t0 + 31s), Clock::duration::zero());
}

}  // namespace
}  // namespace communesync::server
