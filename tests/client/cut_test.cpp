// Cut the connection after N bytes, for N swept across a whole push and pull: after every cut a
// new sync; in the end the devices agree and the server applied each change exactly once.
#include <gtest/gtest.h>

#include <random>
#include <set>

#include "assert_ok.hpp"
#include "cutting_proxy.hpp"
#include "server_harness.hpp"
#include "temp_dir.hpp"

namespace communesync {
namespace {

using sync::Value;
using testing::ServerHarness;
using testing::TestDevice;

// Run on each store backend (tests/support/store_backends.hpp).
class Cuts : public testing::OnEachStore {};

TEST_P(Cuts, SyncResumesAfterACutAtAnyByteWithNothingLostOrDoubled) {
  const auto seed = testing::testSeed(5);
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937_64 rng(seed);
  ServerHarness server(dir / "server", stores);
  TestDevice writer(dir / "writer", server.addUser("an", {"xa-01"}));
  TestDevice reader(dir / "reader", server.addUser("binh", {"xa-01"}));

  constexpr int kRecords = 2000;
  for (int i = 0; i < kRecords; ++i) {
    writer.put("household", "",
               {{"head", Value("Hộ " + std::to_string(i))}, {"members", Value(i % 9)}, {"village", Value("Thôn 3")}});
  }

  // Measure the bytes of one whole uncut push and pull, through a proxy that never cuts.
  std::uint64_t whole = 0;
  {
    testing::TempDir probe_dir;
    testing::ScratchStores probe_stores{GetParam()};
    ServerHarness probe(probe_dir / "server", probe_stores);
    TestDevice copy(probe_dir / "copy", probe.addUser("an", {"xa-01"}));
    for (int i = 0; i < kRecords; ++i)
      copy.put("household", "",
               {{"head", Value("Hộ " + std::to_string(i))}, {"members", Value(i % 9)}, {"village", Value("Thôn 3")}});
    testing::CuttingProxy proxy(probe.port(), UINT64_MAX);
    ASSERT_OK(copy.sync("ws://127.0.0.1:" + std::to_string(proxy.port())).status);
    whole = proxy.forwarded();
  }
  ASSERT_GT(whole, 1000u);

  // Cut points: the first bytes of the handshake, then every 1/40 of the whole exchange, each
  // moved by a random few bytes so that cuts land inside headers as well as between messages.
  std::vector<std::uint64_t> cuts = {1, 10, 100, 200, 300, 500};
  for (std::uint64_t i = 1; i <= 40; ++i) cuts.push_back(whole * i / 41 + rng() % 64);
  int failures = 0;
  for (auto n : cuts) {
    {
      testing::CuttingProxy proxy(server.port(), n);
      const std::string url = "ws://127.0.0.1:" + std::to_string(proxy.port());
      auto w = writer.sync(url);
      failures += w.status.isOk() ? 0 : 1;
    }
    {
      testing::CuttingProxy proxy(server.port(), n);
      const std::string url = "ws://127.0.0.1:" + std::to_string(proxy.port());
      auto r = reader.sync(url);
      failures += r.status.isOk() ? 0 : 1;
    }
  }
  EXPECT_GT(failures, 10) << "the cuts must actually interrupt syncs";

  writer.syncOk(server.url());
  reader.syncOk(server.url());
  EXPECT_EQ(writer.pendingCount(), 0u);
  EXPECT_EQ(writer.exportText(), reader.exportText());

  auto log = server.log();
  std::set<std::pair<std::string, std::uint64_t>> ids;
  for (const auto& c : log) ASSERT_TRUE(ids.insert({c.id.device.hex(), c.id.seq}).second) << "applied twice";
  EXPECT_EQ(log.size(), static_cast<std::size_t>(kRecords));
}

INSTANTIATE_TEST_SUITE_P(Stores, Cuts, testing::kEveryServerSetup, testing::backendName);

}  // namespace
}  // namespace communesync
