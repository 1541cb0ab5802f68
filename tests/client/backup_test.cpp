// Online backup and restore, end to end: devices push without pause while communesync-admin fetches
// a backup; a new server started on the fetched folder serves exactly the backed-up state under a
// new incarnation, and the devices' next syncs bring back everything they had that it lacked.
#include <gtest/gtest.h>

#include <atomic>
#include <fstream>
#include <thread>

#include "assert_ok.hpp"
#include "process.hpp"
#include "server_harness.hpp"
#include "temp_dir.hpp"

namespace communesync {
namespace {

using sync::Value;
using testing::ServerHarness;
using testing::TestDevice;

std::string incarnationOf(std::uint16_t port) {
  auto [status, body] = testing::httpCall(port, boost::beast::http::verb::get, "", "/healthz", "");
  EXPECT_EQ(status, 200u);
  return nlohmann::json::parse(body, nullptr, false).value("incarnation", "");
}

TEST(Backup, TakenWhileDevicesPushThenRestoredLosesNothing) {
  testing::TempDir dir;
  const auto backup = dir / "backup";
  auto first = std::make_unique<ServerHarness>(dir / "server");
  TestDevice a(dir / "a", first->addUser("an", {"xa-01"}));
  TestDevice b(dir / "b", first->addUser("binh", {"xa-01"}));
  const auto url = first->url();
  const auto old_incarnation = incarnationOf(first->port());

  std::atomic<int> rounds{0};
  std::atomic<bool> stop{false};
  int puts = 0;
  std::thread devices([&] {
    while (!stop.load()) {
      for (int i = 0; i < 3; ++i) a.put("household", "", {{"members", Value(puts++)}});
      (void)a.sync(url);
      for (int i = 0; i < 2; ++i) b.put("household", "", {{"members", Value(puts++)}});
      (void)b.sync(url);
      ++rounds;
    }
  });
  while (rounds.load() < 3) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  const auto run = testing::run({ADMIN_PATH, "--server", "http://127.0.0.1:" + std::to_string(first->port()), "--token",
                                 first->adminToken(), "backup", "--out", backup.string()});
  const int at_backup = rounds.load();
  while (rounds.load() < at_backup + 3) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  stop = true;
  devices.join();
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_NE(run.out.find("last sequence"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("checked"), std::string::npos) << run.out;
  EXPECT_TRUE(std::filesystem::is_empty(dir / "server" / "backups")) << "the server dropped its copy once fetched";

  std::ifstream manifest_file(backup / "BACKUP.json");
  const auto manifest = nlohmann::json::parse(manifest_file, nullptr, false);
  ASSERT_TRUE(manifest.is_object());
  const auto backed_up_seq = manifest["last_seq"].get<std::uint64_t>();
  EXPECT_GT(backed_up_seq, 0u);
  const auto all_changes = first->log().size();
  EXPECT_GT(all_changes, backed_up_seq) << "the devices went on pushing after the backup";
  first.reset();  // the server is lost

  // Restoring is starting a server on the fetched folder.
  ServerHarness restored(backup);
  EXPECT_EQ(restored.log().size(), backed_up_seq) << "it serves exactly the backed-up state";
  EXPECT_NE(incarnationOf(restored.port()), old_incarnation) << "a restored store is a new incarnation";
  EXPECT_TRUE(std::filesystem::exists(backup / "RESTORED-FROM-BACKUP.json"));

  for (int pass = 0; pass < 2; ++pass) {
    a.syncOk(restored.url());
    b.syncOk(restored.url());
  }
  TestDevice c(dir / "c", restored.addUser("chau", {"xa-01"}));
  c.syncOk(restored.url());
  auto records = c.store().list("household");
  ASSERT_OK(records);
  EXPECT_EQ(records->size(), static_cast<std::size_t>(puts)) << "every record any device made is back";
  EXPECT_EQ(c.exportText(), a.exportText());
  EXPECT_EQ(c.exportText(), b.exportText());
}

TEST(Backup, IntoAFolderThatIsNotEmptyIsRefusedAndTouchesNothing) {
  testing::TempDir dir;
  ServerHarness server(dir / "server");
  std::filesystem::create_directories(dir / "busy");
  std::ofstream(dir / "busy" / "keep.txt") << "mine";
  const auto run = testing::run({ADMIN_PATH, "--server", "http://127.0.0.1:" + std::to_string(server.port()), "--token",
                                 server.adminToken(), "backup", "--out", (dir / "busy").string()});
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_NE(run.err.find("not empty"), std::string::npos) << run.err;
  std::ifstream kept(dir / "busy" / "keep.txt");
  std::string text;
  kept >> text;
  EXPECT_EQ(text, "mine");
}

}  // namespace
}  // namespace communesync
