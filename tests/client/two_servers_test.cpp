// Two servers on one PostgreSQL database (issue: "past one machine"): devices spread across them see
// one store; a unit's numbers stay gapless and in commit order whichever server commits; a notify and
// a revocation reach sessions on the other server; one server SIGKILLed during pushes loses nothing
// acknowledged while the devices carry on through the other; a batch pushed half to one and retried
// whole on the other is applied once. The servers are real processes on 127.0.0.1. And two servers
// starting together on a store without views build them once, under the writer lock.
#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <thread>

#include "access/access.hpp"
#include "assert_ok.hpp"
#include "communesync/client/replicator.hpp"
#include "process.hpp"
#include "server_harness.hpp"
#include "server_process.hpp"
#include "store/server_store.hpp"
#include "store_backends.hpp"
#include "sync_builders.hpp"
#include "temp_dir.hpp"

namespace communesync {
namespace {

using sync::Value;
using testing::ServerProcess;
using testing::TestDevice;

class TwoServers : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!testing::ScratchStores::available(testing::Backend::kPostgres)) GTEST_SKIP() << "no PostgreSQL cluster";
    url_ = stores_.location("province");
    a_.useStore(url_);
    b_.useStore(url_);
    a_.start();
    b_.start();
    admin_ = a_.adminToken();  // the first server made it; the directory is one for both
    ASSERT_FALSE(admin_.empty());
  }

  std::string addUser(const std::string& name, const std::vector<std::string>& scopes = {"xa-01"}) {
    auto [status, body] = testing::adminPost(a_.port(), admin_, "/admin/users",
                                             nlohmann::json{{"name", name}, {"scopes", scopes}}.dump());
    EXPECT_EQ(status, 201u) << body;
    return nlohmann::json::parse(body).value("token", "");
  }

  // What the database holds, read while the servers run.
  struct Held {
    std::vector<sync::Change> log;
    std::uint64_t latest = 0;  // the unit's latest seq
  };
  Held held(const std::string& unit = "xa-01") {
    Held out;
    auto store = storage::openStoreAt(url_);
    EXPECT_OK(store);
    auto data = server::ServerStore::open(**store);
    EXPECT_OK(data);
    auto log = (*data)->logForTesting();
    EXPECT_OK(log);
    out.log = std::move(log).value();
    auto latest = (*data)->latest({unit});
    EXPECT_OK(latest);
    out.latest = latest->count(unit) != 0 ? latest->at(unit) : 0;
    return out;
  }

  // Each change once, and the unit numbered without a gap or a number given twice: as many accepted
  // changes of the unit as its latest seq.
  void expectEachChangeOnceAndGaplessNumbers(std::size_t device_changes) {
    auto h = held();
    std::set<std::pair<std::string, std::uint64_t>> unique;
    std::size_t of_devices = 0;
    std::uint64_t in_unit = 0;
    for (const auto& c : h.log) {
      if (c.scope == "xa-01") ++in_unit;
      if (server::isServerDeviceId(c.id.device)) continue;
      ++of_devices;
      EXPECT_TRUE(unique.insert({c.id.device.hex(), c.id.seq}).second) << "change " << c.id.seq << " applied twice";
    }
    EXPECT_EQ(of_devices, device_changes);
    EXPECT_EQ(h.latest, in_unit) << "the unit's numbers have a gap, or one number was given twice";
  }

  testing::TempDir dir_;
  testing::ScratchStores stores_{testing::Backend::kPostgres};
  std::string url_;
  ServerProcess a_{dir_ / "a"};
  ServerProcess b_{dir_ / "b"};
  std::string admin_;
};

TEST_F(TwoServers, DevicesOnEitherServerShareOneStoreWithGaplessNumbers) {
  // Four devices, two on each server, push small batches at once, round after round, and all edit
  // one record (conflicts): the servers' commits interleave as tightly as this machine allows.
  constexpr int kDevices = 4;
  constexpr int kRounds = 12;
  constexpr int kPerRound = 15;
  std::vector<std::unique_ptr<TestDevice>> devices;
  for (int d = 0; d < kDevices; ++d) {
    devices.push_back(std::make_unique<TestDevice>(dir_ / ("d" + std::to_string(d)), addUser("u" + std::to_string(d))));
  }
  auto url_of = [&](int d) { return d % 2 == 0 ? a_.url() : b_.url(); };
  devices[0]->put("household", "shared", {{"head", Value("Hộ chung")}, {"members", Value(3)}});
  devices[0]->syncOk(a_.url());
  for (int d = 1; d < kDevices; ++d) devices[d]->syncOk(url_of(d));
  for (int round = 0; round < kRounds; ++round) {
    std::vector<std::thread> pushing;
    std::vector<client::SyncReport> reports(kDevices);
    for (int d = 0; d < kDevices; ++d) {
      for (int i = 0; i < kPerRound; ++i) {
        devices[d]->put("household", "",
                        {{"head", Value(std::to_string(d) + "-" + std::to_string(round) + "-" + std::to_string(i))}});
      }
      devices[d]->put("household", "shared", {{"members", Value(10 * d + round)}});
      pushing.emplace_back([&, d] { reports[d] = devices[d]->sync(url_of(d)); });
    }
    for (auto& t : pushing) t.join();
    for (const auto& r : reports) ASSERT_OK(r.status);
  }
  for (int pass = 0; pass < 2; ++pass) {
    for (int d = 0; d < kDevices; ++d) devices[d]->syncOk(url_of(d));
  }
  for (int d = 0; d < kDevices; ++d) {
    EXPECT_EQ(devices[d]->pendingCount(), 0u);
    EXPECT_TRUE(devices[d]->exportText() == devices[0]->exportText())
        << "device " << d << " holds another store than device 0: one store, whichever server a device asks";
  }
  TestDevice fresh(dir_ / "fresh", addUser("chi"));
  fresh.syncOk(b_.url());
  EXPECT_TRUE(fresh.exportText() == devices[0]->exportText()) << "a new device holds another store";
  expectEachChangeOnceAndGaplessNumbers(1 + kDevices * kRounds * (kPerRound + 1));
}

TEST_F(TwoServers, ANotifyAndARevocationReachSessionsOnTheOtherServer) {
  const auto token = addUser("dung");
  TestDevice listening(dir_ / "listening", token);
  client::WebSocketTransport transport(b_.url(), token);
  client::Replicator replicator(listening.store(), transport);
  ASSERT_OK(replicator.connect());
  TestDevice writer(dir_ / "writer", addUser("em"));
  writer.put("household", "", {{"head", Value("Hộ mới")}});
  writer.syncOk(a_.url());
  auto notified = replicator.waitForNotify(std::chrono::seconds(10));
  ASSERT_OK(notified);
  EXPECT_TRUE(*notified) << "a change pushed through A is notified on B";
  ASSERT_OK(replicator.sync().status);  // pulled: the device is no longer behind

  auto [status, body] =
      testing::adminPost(a_.port(), admin_, "/admin/users/dung/revoke", nlohmann::json{{"all", true}}.dump());
  ASSERT_EQ(status, 200u) << body;
  // The revocation on A closes the session on B, and B refuses the token from now on.
  EXPECT_FALSE(replicator.waitForNotify(std::chrono::seconds(10)).isOk())
      << "the revoked user's session on the other server stays open";
  EXPECT_EQ(listening.sync(b_.url()).status.code(), ErrorCode::kUnauthorized);
}

TEST_F(TwoServers, OneKilledDuringPushesTheDevicesCarryOnThroughTheOther) {
  const auto seed = testing::testSeed(31);
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937_64 rng(seed);
  TestDevice first(dir_ / "first", addUser("giang"));
  TestDevice second(dir_ / "second", addUser("ha"));
  constexpr int kRecords = 3000;
  for (int i = 0; i < kRecords; ++i) {
    first.put("household", "", {{"head", Value("Hộ " + std::to_string(i))}, {"members", Value(i % 7)}});
    second.put("household", "", {{"head", Value("Nhà " + std::to_string(i))}});
  }
  int interrupted = 0;
  for (int round = 0; round < 3; ++round) {
    // `second` pushes through B the whole time; `first` through A, which is killed under it.
    client::SyncReport via_b;
    std::thread steady([&] { via_b = second.sync(b_.url()); });
    const auto delay = std::chrono::milliseconds(20 + rng() % 300);
    std::thread killer([&] {
      std::this_thread::sleep_for(delay);
      a_.kill();
    });
    auto via_a = first.sync(a_.url());
    killer.join();
    steady.join();
    EXPECT_OK(via_b.status) << "B goes on while A dies";
    interrupted += via_a.status.isOk() ? 0 : 1;

    // Every change `first` holds as acknowledged is in the store.
    std::set<std::uint64_t> logged;
    for (const auto& c : held().log) {
      if (c.id.device == first.store().deviceId()) logged.insert(c.id.seq);
    }
    const auto lost = first.acknowledgedButNotLogged(logged, kRecords);
    ASSERT_EQ(lost, 0u) << "change " << lost << " was acknowledged, then lost";
    // The device carries on through the other server, then A comes back.
    first.syncOk(b_.url());
    a_.start();
  }
  EXPECT_GT(interrupted, 0) << "no kill landed during a sync: the test proved nothing";
  second.syncOk(a_.url());
  first.syncOk(a_.url());
  EXPECT_EQ(first.pendingCount(), 0u);
  EXPECT_EQ(second.pendingCount(), 0u);
  EXPECT_TRUE(first.exportText() == second.exportText()) << "the two devices hold different stores";
  expectEachChangeOnceAndGaplessNumbers(2 * kRecords);
}

TEST_F(TwoServers, ABatchPushedHalfToOneAndWholeToTheOtherIsAppliedOnce) {
  const auto token = addUser("khanh");
  const auto device_dir = dir_ / "device";
  constexpr int kHalf = 200;
  {
    TestDevice device(device_dir, token);
    for (int i = 0; i < kHalf; ++i) device.put("household", "", {{"n", Value(i)}});
  }
  // The device as it was with the first half: it pushes that to A and hears back...
  std::filesystem::copy(device_dir, dir_ / "half", std::filesystem::copy_options::recursive);
  {
    TestDevice half(dir_ / "half", token);
    half.syncOk(a_.url());
    EXPECT_EQ(half.pendingCount(), 0u);
  }
  // ...but the device never got the answer (its copy below did not): it made the second half, and
  // retries the whole batch on B.
  TestDevice device(device_dir, token);
  for (int i = kHalf; i < 2 * kHalf; ++i) device.put("household", "", {{"n", Value(i)}});
  EXPECT_EQ(device.pendingCount(), static_cast<std::uint64_t>(2 * kHalf));
  auto report = device.sync(b_.url());
  ASSERT_OK(report.status);
  EXPECT_EQ(device.pendingCount(), 0u);
  TestDevice other(dir_ / "other", addUser("lan"));
  other.syncOk(a_.url());
  EXPECT_TRUE(other.exportText() == device.exportText()) << "the two devices hold different stores";
  expectEachChangeOnceAndGaplessNumbers(2 * kHalf);
}

// A store whose views are missing (from before them, or dropped) gets them built by the first server
// that opens it. On a shared database the build holds the writer lock: no other server's commit
// lands between its snapshot and its last batch, and a second server starting at the same moment
// waits, then finds them built instead of building them over the first's.
TEST(SharedStoreViews, TwoServersStartingTogetherBuildTheViewsOnceUnderTheWriterLock) {
  if (!testing::ScratchStores::available(testing::Backend::kPostgres)) GTEST_SKIP() << "no PostgreSQL cluster";
  testing::ScratchStores stores(testing::Backend::kPostgres);
  const auto url = stores.location("views");
  std::vector<std::pair<std::string, std::string>> built;
  {
    auto store = storage::openStoreAt(url);
    ASSERT_OK(store);
    auto data = server::ServerStore::open(**store);
    ASSERT_OK(data);
    server::PushJob job;
    job.access = std::make_shared<const server::Access>(std::vector<server::Grant>{{server::Role::kField, "xa-01"}},
                                                        server::UnitTree{});
    job.user = "field";
    job.device = testing::deviceNo(1);
    constexpr std::int64_t kNowMs = 1'767'200'400'000;
    for (std::uint64_t i = 1; i <= 20; ++i) {
      auto change = testing::edit(1, i, "chu_ho", Value("Hộ " + std::to_string(i)), testing::stampAt(kNowMs, 1));
      change.key = {"household_survey", "h" + std::to_string(i)};
      change.scope = "xa-01";
      job.changes.push_back(std::move(change));
    }
    std::vector<server::PushJob*> group{&job};
    sync::proto::Checkpoints touched;
    ASSERT_OK((*data)->apply(group, kNowMs, touched));
    for (const auto& r : job.results) ASSERT_EQ(r.outcome, sync::proto::Outcome::kAccepted) << r.reason;
    auto views = (*data)->viewsForTesting();
    ASSERT_OK(views);
    built = std::move(views).value();
    ASSERT_FALSE(built.empty());
    ASSERT_OK((*data)->stopKeepingViews());  // the views' mark gone: the next open builds them
  }

  auto holder = storage::openStoreAt(url);
  ASSERT_OK(holder);
  auto writer_lock = (*holder)->lock(storage::LockName::kWriter, std::chrono::seconds(10));
  ASSERT_OK(writer_lock);
  std::optional<storage::StoreLock> held(std::move(writer_lock).value());

  struct Opened {
    std::unique_ptr<storage::Store> store;
    std::unique_ptr<server::ServerStore> data;
    Status status = Status::ok();
  };
  std::array<Opened, 2> servers;
  std::atomic<int> done{0};
  std::vector<std::thread> starting;
  starting.reserve(servers.size());
  for (auto& server : servers) {
    starting.emplace_back([&server, &done, &url] {
      auto store = storage::openStoreAt(url);
      if (store) {
        server.store = std::move(store).value();
        auto data = server::ServerStore::open(*server.store);
        if (data) {
          server.data = std::move(data).value();
        } else {
          server.status = data.status();
        }
      } else {
        server.status = store.status();
      }
      ++done;
    });
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  EXPECT_EQ(done.load(), 0) << "a server built the views without the writer lock";
  held.reset();
  for (auto& t : starting) t.join();
  for (auto& server : servers) {
    ASSERT_OK(server.status);
    auto views = server.data->viewsForTesting();
    ASSERT_OK(views);
    EXPECT_EQ(*views, built) << "the views built once, as the writer kept them";
  }
}

}  // namespace
}  // namespace communesync
