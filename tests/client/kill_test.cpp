// SIGKILL the server in the middle of a large push, and the CLI in the middle of a sync: nothing
// acknowledged is lost, the next sync completes, nothing is applied twice.
#include <gtest/gtest.h>

#include <atomic>
#include <fstream>
#include <random>
#include <set>
#include <thread>

#include "assert_ok.hpp"
#include "process.hpp"
#include "server_harness.hpp"
#include "server_process.hpp"
#include "temp_dir.hpp"

namespace communesync {
namespace {

using sync::Value;
using testing::Child;
using testing::ServerProcess;
using testing::TestDevice;

std::string addUser(std::uint16_t port, const std::string& admin, const std::string& name) {
  auto [status, body] =
      testing::adminPost(port, admin, "/admin/users", nlohmann::json{{"name", name}, {"scopes", {"xa-01"}}}.dump());
  EXPECT_EQ(status, 201u) << body;
  return nlohmann::json::parse(body).value("token", "");
}

// Run on each store backend (tests/support/store_backends.hpp).
class Kills : public testing::OnEachStore {};

TEST_P(Kills, ServerKilledDuringALargePushLosesNothingAcknowledged) {
  const auto seed = testing::testSeed(11);
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937_64 rng(seed);
  ServerProcess server(dir / "server");
  if (GetParam() == testing::Backend::kPostgres) server.useStore(stores.location("server"));
  server.start();
  const auto token = addUser(server.port(), server.adminToken(), "an");
  TestDevice device(dir / "device", token);
  constexpr int kRecords = 4000;
  for (int i = 0; i < kRecords; ++i) {
    device.put("household", "", {{"head", Value("Hộ " + std::to_string(i))}, {"members", Value(i % 7)}});
  }

  int interrupted = 0;
  for (int round = 0; round < 3; ++round) {
    // The kill lands once the push has had results for a random share (under half) of the outbox,
    // a few milliseconds later: in the middle of the push whatever the speed of this machine (a
    // fixed delay from the start lands after a fast sync has ended).
    const double share = static_cast<double>(rng() % 50) / 100.0;
    const auto delay = std::chrono::milliseconds(rng() % 20);
    std::atomic<bool> reached{false};
    std::atomic<bool> ended{false};
    std::thread killer([&] {
      while (!reached && !ended) std::this_thread::sleep_for(std::chrono::milliseconds(1));
      std::this_thread::sleep_for(delay);
      server.kill();
    });
    auto report = device.sync(server.url(), {}, [&](const client::SyncProgress& p) {
      if (p.phase == client::SyncProgress::Phase::kPushing &&
          static_cast<double>(p.pushed) >= share * static_cast<double>(p.to_push)) {
        reached = true;
      }
    });
    ended = true;
    killer.join();
    interrupted += report.status.isOk() ? 0 : 1;

    // What the device holds as acknowledged (every change no longer in its outbox) is logged.
    std::set<std::uint64_t> logged;
    for (const auto& id : server.loggedIds()) logged.insert(id.seq);
    const auto lost = device.acknowledgedButNotLogged(logged, kRecords);
    ASSERT_EQ(lost, 0u) << "change " << lost << " was acknowledged, then lost";
    server.start();
  }
  EXPECT_GT(interrupted, 0) << "no kill landed during a sync: the test proved nothing";

  device.syncOk(server.url());
  EXPECT_EQ(device.pendingCount(), 0u);
  server.stopGracefully();
  auto ids = server.loggedIds();
  std::set<std::uint64_t> unique;
  for (const auto& id : ids) ASSERT_TRUE(unique.insert(id.seq).second) << "change " << id.seq << " applied twice";
  EXPECT_EQ(unique.size(), static_cast<std::size_t>(kRecords));
}

TEST_P(Kills, CliKilledDuringSyncLosesAndDoublesNothing) {
  const auto seed = testing::testSeed(13);
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937_64 rng(seed);
  testing::ServerHarness server(dir / "server", stores);
  const auto token = server.addUser("an", {"xa-01"});
  const auto home = dir / "home";
  auto login = testing::run({CLI_PATH, "--home", home.string(), "login", "--server", server.url(), "--token", token});
  ASSERT_EQ(login.exit_code, 0) << login.err;
  constexpr int kRecords = 3000;
  {
    TestDevice local(home / "store", token);  // write straight into the CLI's store, then close it
    for (int i = 0; i < kRecords; ++i) local.put("household", "", {{"n", Value(i)}});
  }
  int killed = 0;
  for (int round = 0; round < 5; ++round) {
    Child sync({CLI_PATH, "--home", home.string(), "sync"});
    std::this_thread::sleep_for(std::chrono::milliseconds(30 + rng() % 200));
    sync.signal(SIGKILL);
    killed += sync.wait().exit_code == 128 + SIGKILL ? 1 : 0;
  }
  EXPECT_GT(killed, 0);
  auto last = testing::run({CLI_PATH, "--home", home.string(), "sync", "--json"});
  ASSERT_EQ(last.exit_code, 0) << last.err;

  TestDevice other(dir / "other", server.addUser("binh", {"xa-01"}));
  other.syncOk(server.url());
  auto exported = testing::run({CLI_PATH, "--home", home.string(), "export"});
  EXPECT_EQ(exported.out, other.exportText());
  auto log = server.log();
  std::set<std::uint64_t> unique;
  for (const auto& c : log) ASSERT_TRUE(unique.insert(c.id.seq).second) << "applied twice";
  EXPECT_EQ(unique.size(), static_cast<std::size_t>(kRecords));
}

INSTANTIATE_TEST_SUITE_P(Stores, Kills, testing::kBothBackends, testing::backendName);

}  // namespace
}  // namespace communesync
