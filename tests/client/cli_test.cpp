// The field CLI and the admin tool as other tooling drives them: names, flags and outputs.
#include <gtest/gtest.h>

#include "process.hpp"
#include "server_harness.hpp"
#include "temp_dir.hpp"

namespace communesync {
namespace {

using testing::run;

class Cli {
 public:
  explicit Cli(std::filesystem::path home) : home_(std::move(home)) {}
  testing::RunResult operator()(std::vector<std::string> args) const {
    args.insert(args.begin(), {CLI_PATH, "--home", home_.string()});
    return run(args);
  }

 private:
  std::filesystem::path home_;
};

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
  return s;
}

TEST(Cli, TheContractEndToEnd) {
  testing::TempDir dir;
  testing::ServerHarness server(dir / "server");
  const std::string http = "http://127.0.0.1:" + std::to_string(server.port());
  auto added =
      run({ADMIN_PATH, "--server", http, "--token", server.adminToken(), "user", "add", "an", "--scope", "xa-01"});
  ASSERT_EQ(added.exit_code, 0) << added.err;
  const auto token_a = trim(added.out);
  EXPECT_EQ(token_a.size(), 64u) << "the token alone on stdout";
  setenv("COMMUNESYNC_SERVER", http.c_str(), 1);
  setenv("COMMUNESYNC_TOKEN", server.adminToken().c_str(), 1);
  auto added_b = run({ADMIN_PATH, "user", "add", "binh", "--scope", "xa-01", "--scope", "xa-02"});
  unsetenv("COMMUNESYNC_SERVER");
  unsetenv("COMMUNESYNC_TOKEN");
  ASSERT_EQ(added_b.exit_code, 0) << added_b.err;
  const auto token_b = trim(added_b.out);

  Cli a(dir / "a");
  Cli b(dir / "b");
  ASSERT_EQ(a({"login", "--server", server.url(), "--token", token_a}).exit_code, 0);
  ASSERT_EQ(b({"login", "--server", server.url(), "--token", token_b}).exit_code, 0);

  auto put = a({"put", "household", "head=Lò Văn Pá", "members:=6", "poor:=true", "tags:=[\"bò\",\"gà\"]"});
  ASSERT_EQ(put.exit_code, 0) << put.err;
  const auto id = trim(put.out);
  EXPECT_EQ(id.size(), 32u);
  auto got = a({"get", "household", id});
  EXPECT_EQ(trim(got.out), R"({"collection":"household","fields":{"head":"Lò Văn Pá","members":6,"poor":true,)"
                           R"("tags":["bò","gà"]},"id":")" +
                               id + R"(","scope":"xa-01"})");

  auto ambiguous = b({"put", "household", "head=x"});
  EXPECT_NE(ambiguous.exit_code, 0);
  EXPECT_NE(ambiguous.err.find("--scope"), std::string::npos) << ambiguous.err;
  EXPECT_EQ(b({"put", "household", "--scope", "xa-01", "head=Hà"}).exit_code, 0);
  EXPECT_NE(a({"put", "household", "members:=notjson"}).exit_code, 0);

  auto synced = a({"sync", "--json"});
  ASSERT_EQ(synced.exit_code, 0) << synced.err;
  auto report = nlohmann::json::parse(synced.out);
  for (auto key : {"pushed", "accepted", "rejected", "pulled", "conflicts", "bytes_sent", "bytes_received"}) {
    EXPECT_TRUE(report.contains(key)) << key;
  }
  EXPECT_EQ(report["pushed"], 1);
  EXPECT_EQ(report["accepted"], 1);
  EXPECT_GT(report["bytes_sent"].get<int>(), 0);
  ASSERT_EQ(b({"sync"}).exit_code, 0);
  ASSERT_EQ(a({"sync"}).exit_code, 0);
  EXPECT_EQ(a({"export"}).out, b({"export"}).out) << "byte-identical exports";
  EXPECT_EQ(a({"list", "household"}).out, a({"export"}).out);

  ASSERT_EQ(a({"delete", "household", id}).exit_code, 0);
  EXPECT_NE(a({"get", "household", id}).exit_code, 0);
  auto status = a({"status", "--json"});
  ASSERT_EQ(status.exit_code, 0);
  EXPECT_EQ(nlohmann::json::parse(status.out)["pending"], 1);

  server.stop();
  auto offline = a({"sync"});
  EXPECT_NE(offline.exit_code, 0);
  EXPECT_NE(offline.err.find("unreachable"), std::string::npos) << offline.err;
  EXPECT_EQ(std::count(offline.err.begin(), offline.err.end(), '\n'), 1) << "one line";
}

}  // namespace
}  // namespace communesync
