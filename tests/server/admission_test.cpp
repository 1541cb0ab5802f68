// Admission's counts: per address (IPv6 by its /64), for the whole server, and the connection
// limit the server derives from its descriptor limit; and the client's address behind a trusted proxy.
#include "net/admission.hpp"
#include "net/client_address.hpp"

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

namespace communesync::server {
namespace {

// A trusted proxy's connections count toward the whole server only: it carries many clients.
TEST(Admission, ATrustedProxysConnectionsCountTowardTheServerOnly) {
  Admission admission(2, 16, 16, 5);
  std::vector<Admission::Ticket> held;
  for (int i = 0; i < 5; ++i) held.push_back(admission.connection("127.0.0.1", nullptr, /*proxy=*/true));
  for (const auto& t : held) EXPECT_TRUE(t);
  Admission::Full full = Admission::Full::kNo;
  EXPECT_FALSE(admission.connection("127.0.0.1", &full, true));
  EXPECT_EQ(full, Admission::Full::kServer);
}

boost::beast::http::request<boost::beast::http::string_body> forwarded(const std::vector<std::string>& headers) {
  boost::beast::http::request<boost::beast::http::string_body> req{boost::beast::http::verb::get, "/", 11};
  for (const auto& h : headers) req.insert("X-Forwarded-For", h);
  return req;
}

TEST(ClientAddress, FromATrustedProxyTheFirstUntrustedHopFromTheRightIsTheClient) {
  auto trusted = AddressSet::parse({"10.0.0.0/8", "::1"});
  ASSERT_TRUE(trusted.isOk());
  const auto proxy = boost::asio::ip::make_address("10.1.2.3");
  EXPECT_EQ(clientAddress(proxy, forwarded({"203.0.113.9"}), *trusted).text, "203.0.113.9");
  EXPECT_EQ(clientAddress(proxy, forwarded({"198.51.100.1, 203.0.113.9, 10.9.9.9"}), *trusted).text, "203.0.113.9")
      << "proxies on the right are skipped; what the client wrote on the left is not believed";
  EXPECT_EQ(clientAddress(proxy, forwarded({"198.51.100.1", "203.0.113.9"}), *trusted).text, "203.0.113.9")
      << "several headers are one list, in order";
  EXPECT_EQ(clientAddress(proxy, forwarded({"203.0.113.9:5123"}), *trusted).text, "203.0.113.9") << "a port is dropped";
  EXPECT_EQ(clientAddress(proxy, forwarded({"[2001:db8::7]:443"}), *trusted).text, "2001:db8::7");
  EXPECT_EQ(clientAddress(proxy, forwarded({"2001:db8::7"}), *trusted).text, "2001:db8::7");
  EXPECT_EQ(clientAddress(proxy, forwarded({"not-an-address"}), *trusted).text, "10.1.2.3")
      << "an unreadable hop: the last proxy known is who asks";
  EXPECT_EQ(clientAddress(proxy, forwarded({}), *trusted).text, "10.1.2.3") << "no header: the proxy itself";
  EXPECT_TRUE(clientAddress(proxy, forwarded({"::1"}), *trusted).loopback) << "every hop trusted: the leftmost";
  EXPECT_FALSE(clientAddress(proxy, forwarded({"203.0.113.9"}), *trusted).loopback);
  const auto stranger = boost::asio::ip::make_address("192.0.2.50");
  EXPECT_EQ(clientAddress(stranger, forwarded({"127.0.0.1"}), *trusted).text, "192.0.2.50")
      << "from an untrusted peer the header is ignored";
  EXPECT_EQ(clientAddress(boost::asio::ip::make_address("::ffff:10.1.2.3"), forwarded({"203.0.113.9"}), *trusted).text,
            "203.0.113.9")
      << "an IPv4-mapped peer is its IPv4 address";
}

}  // namespace
}  // namespace communesync::server
