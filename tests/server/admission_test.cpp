// Admission's counts: per address (IPv6 by its /64), for the whole server, and the connection
// limit the server derives from its descriptor limit.
#include "net/admission.hpp"

#include <gtest/gtest.h>

#include <vector>

#include "app/descriptors.hpp"

namespace communesync::server {
namespace {

TEST(Admission, AnIpv6SlashSixtyFourCountsAsOneAddress) {
  Admission admission(2, 16, 16, 100);
  std::vector<Admission::Ticket> held;
  held.push_back(admission.connection("2001:db8:1:2::1"));
  held.push_back(admission.connection("2001:db8:1:2:ffff::9"));
  ASSERT_TRUE(held[0] && held[1]);
  Admission::Full full = Admission::Full::kNo;
  EXPECT_FALSE(admission.connection("2001:db8:1:2:abcd::7", &full)) << "a third address of the same /64";
  EXPECT_EQ(full, Admission::Full::kAddress);
  EXPECT_TRUE(admission.connection("2001:db8:1:3::1")) << "the next /64 is another household";
  EXPECT_TRUE(admission.connection("10.0.0.1"));
  held.pop_back();
  EXPECT_TRUE(admission.connection("2001:db8:1:2::5")) << "a place given back";
}

TEST(Admission, TheWholeServerHoldsItsLimitWhateverTheAddresses) {
  Admission admission(10, 16, 16, 3);
  std::vector<Admission::Ticket> held;
  for (const char* a : {"10.0.0.1", "10.0.0.2", "10.0.0.3"}) held.push_back(admission.connection(a));
  Admission::Full full = Admission::Full::kNo;
  EXPECT_FALSE(admission.connection("10.0.0.4", &full));
  EXPECT_EQ(full, Admission::Full::kServer);
  held.clear();
  EXPECT_TRUE(admission.connection("10.0.0.4"));
}

TEST(Admission, TheConnectionLimitStaysBelowTheDescriptorLimit) {
  EXPECT_EQ(connectionLimitFor(300), 75u);    // little: a quarter
  EXPECT_EQ(connectionLimitFor(1024), 384u);  // Debian's default soft limit: RocksDB's 512 files still fit
  EXPECT_EQ(connectionLimitFor(65536), 65536u - 640u);
  EXPECT_EQ(connectionLimitFor(UINT64_MAX), 100000u);
}

}  // namespace
}  // namespace communesync::server
