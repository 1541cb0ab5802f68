// What phones impose on a sync: short background windows (a deadline), metered links (records go,
// files wait), and a store another process holds (a clear error at once, not a hang).
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <future>

#include "assert_ok.hpp"
#include "server_harness.hpp"
#include "temp_dir.hpp"

namespace communesync {
namespace {

namespace http = boost::beast::http;
using nlohmann::json;
using sync::Value;
using testing::ServerHarness;
using testing::TestDevice;

class Mobile : public ::testing::Test {
 protected:
  client::SyncReport syncWith(TestDevice& device, const std::string& token, client::SyncOptions options) {
    client::WebSocketTransport transport(server_.url(), token);
    options.reply_timeout = std::chrono::seconds(20);
    return client::syncOnce(device.store(), transport, options);
  }

  std::size_t recordsOnServer(const std::string& collection) {
    auto [status, body] =
        testing::httpCall(server_.port(), http::verb::get, server_.adminToken(), "/api/export/" + collection, "");
    EXPECT_EQ(status, 200u) << body;
    return json::parse(body)["records"].size();
  }

  testing::TempDir dir_;
  ServerHarness server_{dir_ / "server"};
};

TEST_F(Mobile, ASyncStopsCleanlyAtItsDeadlineAndTheNextGoesOn) {
  const auto token = server_.addUser("an", {"xa-01"});
  TestDevice an(dir_ / "an", token);
  constexpr int kRecords = 3000;
  for (int i = 0; i < kRecords; ++i) an.put("household", "", {{"so", Value(i)}}, "xa-01");

  client::SyncOptions options;
  // Far enough for the first acknowledgement to come back on a loaded machine; the progress callback
  // then holds the sync until the window has closed.
  options.deadline = std::chrono::steady_clock::now() + std::chrono::seconds(3);
  bool slept = false;
  options.on_progress = [&](const client::SyncProgress& p) {
    // The window closes while the first acknowledgements come in (as a phone's would, mid-sync).
    if (p.phase == client::SyncProgress::Phase::kPushing && p.pushed > 0 && !slept) {
      slept = true;
      std::this_thread::sleep_until(*options.deadline + std::chrono::milliseconds(50));
    }
  };
  const auto started = std::chrono::steady_clock::now();
  auto cut = syncWith(an, token, options);
  EXPECT_EQ(cut.status.code(), ErrorCode::kDeadlineExceeded) << cut.status.toString();
  EXPECT_TRUE(cut.status.retryable());
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(15)) << "it stopped, it did not wait";
  ASSERT_GT(cut.accepted, 0u);
  ASSERT_LT(cut.accepted, static_cast<std::uint64_t>(kRecords)) << "the window closed before the end";
  auto status = an.store().status();
  ASSERT_OK(status);
  EXPECT_EQ(status->pending, kRecords - cut.accepted) << "what was acknowledged left the outbox, nothing else";
  // Pushes are pipelined: the server may have taken changes whose acknowledgement the device never
  // read. They stay in the outbox and go again; the server knows them (idempotent), no duplicate.
  EXPECT_GE(recordsOnServer("household"), cut.accepted);

  auto rest = syncWith(an, token, {});
  ASSERT_OK(rest.status);
  EXPECT_EQ(an.store().status()->pending, 0u);
  EXPECT_EQ(recordsOnServer("household"), static_cast<std::size_t>(kRecords)) << "every record, once";
}

TEST_F(Mobile, AMeteredLinkSendsRecordsAndLeavesFilesForLater) {
  const auto token = server_.addUser("an", {"xa-01"});
  TestDevice an(dir_ / "an", token);
  const auto id = an.put("household", "", {{"chu_ho", Value("Lò Văn Pá")}}, "xa-01");
  const auto photo = dir_ / "nha.jpg";
  std::ofstream(photo, std::ios::binary) << std::string(200 * 1024, 'p');
  auto hash = an.store().attach({"household", id}, "anh_nha", photo, testing::wallNow());
  ASSERT_OK(hash);

  client::SyncOptions metered;
  metered.metered = true;
  auto first = syncWith(an, token, metered);
  ASSERT_OK(first.status);
  EXPECT_TRUE(first.files_deferred);
  EXPECT_EQ(first.file_bytes_sent, 0u) << "no file byte on a metered link";
  EXPECT_EQ(recordsOnServer("household"), 1u) << "the record went";
  auto [waiting, body] =
      testing::httpCall(server_.port(), http::verb::get, server_.adminToken(), "/api/files/" + *hash, "");
  EXPECT_EQ(waiting, 404u) << "the photo waits: " << body;
  EXPECT_EQ(an.store().status()->files_pending, 1u);

  auto second = syncWith(an, token, {});
  ASSERT_OK(second.status);
  EXPECT_FALSE(second.files_deferred);
  EXPECT_EQ(second.files_sent, 1u);
  auto [sent, bytes] =
      testing::httpCall(server_.port(), http::verb::get, server_.adminToken(), "/api/files/" + *hash, "");
  EXPECT_EQ(sent, 200u);
  EXPECT_EQ(bytes.size(), 200u * 1024);
}

TEST_F(Mobile, AStoreAnotherProcessHoldsIsRefusedAtOnceWithAClearError) {
  const auto path = dir_ / "held";
  { ASSERT_OK(client::LocalStore::open(path)); }
  int ready[2];
  int release[2];
  ASSERT_EQ(pipe(ready), 0);
  ASSERT_EQ(pipe(release), 0);
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    // Another app process (a second instance, a widget): holds the store until told to go.
    auto held = client::LocalStore::open(path);
    const char ok = held.isOk() ? '1' : '0';
    (void)!write(ready[1], &ok, 1);
    char go = 0;
    (void)!read(release[0], &go, 1);
    _exit(0);
  }
  char ok = 0;
  ASSERT_EQ(read(ready[0], &ok, 1), 1);
  ASSERT_EQ(ok, '1') << "the other process opened the store";
  auto opening = std::async(std::launch::async, [&] { return client::LocalStore::open(path); });
  ASSERT_EQ(opening.wait_for(std::chrono::seconds(30)), std::future_status::ready) << "an answer, not a hang";
  auto second = opening.get();
  ASSERT_FALSE(second.isOk());
  EXPECT_EQ(second.status().code(), ErrorCode::kLocked);
  EXPECT_NE(second.status().message().find("in use by another process"), std::string::npos)
      << second.status().toString();
  const char go = 'x';
  (void)!write(release[1], &go, 1);
  int wstatus = 0;
  ASSERT_EQ(waitpid(child, &wstatus, 0), child);
  for (int fd : {ready[0], ready[1], release[0], release[1]}) close(fd);
  EXPECT_OK(client::LocalStore::open(path)) << "free again once the other process is gone";
}

}  // namespace
}  // namespace communesync

namespace communesync {
namespace {

// The device clock a caller gives (a simulation's skewed clock, a phone's own) is the one the
// replicator reads: the last sync is stamped with it. It was once dropped (read after a move).
TEST_F(Mobile, TheClockTheCallerGivesIsTheOneTheReplicatorReads) {
  const auto token = server_.addUser("an", {"xa-01"});
  TestDevice an(dir_ / "an", token);
  an.put("household", "", {{"so", Value(1)}}, "xa-01");
  constexpr std::chrono::milliseconds kDeviceNow{1'600'000'000'000};  // September 2020: far behind
  client::SyncOptions options;
  int reads = 0;
  options.clock = [&reads] {
    ++reads;
    return kDeviceNow;
  };
  auto report = syncWith(an, token, options);
  ASSERT_OK(report.status);
  EXPECT_GT(reads, 0);
  auto status = an.store().status();
  ASSERT_OK(status);
  EXPECT_EQ(status->last_sync_ms, kDeviceNow.count());
}

}  // namespace
}  // namespace communesync
