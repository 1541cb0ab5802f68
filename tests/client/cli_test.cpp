// The field CLI and the admin tool as other tooling drives them: names, flags and outputs.
#include <gtest/gtest.h>

#include <fstream>

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

TEST(Cli, AdminManagesUnitsUsersAndGrantsAndAFieldWorkerLogsInWithAPassword) {
  testing::TempDir dir;
  testing::ServerHarness server(dir / "server");
  const std::string http = "http://127.0.0.1:" + std::to_string(server.port());
  auto admin = [&](std::vector<std::string> args, const std::string& in = "") {
    args.insert(args.begin(), {ADMIN_PATH, "--server", http, "--token", server.adminToken()});
    return run(args, in);
  };
  {
    std::ofstream csv(dir / "units.csv");
    csv << "code,parent_code,level,name\n49,,province,Quảng Nam\nNTM,49,district,Nam Trà My\n"
           "X1,NTM,commune,Trà Mai\nX2,NTM,commune,Trà Don\n";
    std::ofstream bad(dir / "bad.csv");
    bad << "code,parent_code,level,name\nX9,NTM,commune,ok\nX10,NOWHERE,commune,orphan\n";
  }
  auto imported = admin({"units", "import", (dir / "units.csv").string()});
  ASSERT_EQ(imported.exit_code, 0) << imported.err;
  EXPECT_NE(imported.out.find("4 added"), std::string::npos) << imported.out;
  EXPECT_NE(admin({"units", "import", (dir / "units.csv").string()}).out.find("0 added, 0 updated, 4 unchanged"),
            std::string::npos);
  auto bad = admin({"units", "import", (dir / "bad.csv").string()});
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_NE(bad.err.find("line 3"), std::string::npos) << bad.err;
  auto listed = admin({"units", "list", "--json"});
  EXPECT_EQ(nlohmann::json::parse(listed.out).size(), 4u) << "nothing of the bad file was half-imported";

  auto added = admin({"user", "add", "cuong", "--grant", "field:X1", "--password-stdin"}, "mật khẩu của Cường\n");
  ASSERT_EQ(added.exit_code, 0) << added.err;
  EXPECT_EQ(trim(added.out).size(), 64u);
  EXPECT_NE(admin({"user", "add", "x", "--grant", "boss:X1"}).exit_code, 0);

  Cli c(dir / "c");
  auto wrong = c({"login", "--server", server.url(), "--user", "cuong", "--password-stdin"});
  EXPECT_NE(wrong.exit_code, 0) << "an empty password";
  auto login = run({CLI_PATH, "--home", (dir / "c").string(), "login", "--server", server.url(), "--user", "cuong",
                    "--password-stdin"},
                   "mật khẩu của Cường\n");
  ASSERT_EQ(login.exit_code, 0) << login.err;
  EXPECT_NE(login.out.find("X1"), std::string::npos) << login.out;
  ASSERT_EQ(c({"put", "household_survey", "chu_ho=Hồ Văn A"}).exit_code, 0);
  ASSERT_EQ(c({"sync"}).exit_code, 0);

  ASSERT_EQ(admin({"user", "grant", "cuong", "field:X2"}).exit_code, 0);
  auto users = nlohmann::json::parse(admin({"user", "list", "--json"}).out);
  ASSERT_EQ(users.size(), 1u);
  EXPECT_EQ(users[0]["grants"], nlohmann::json({"field:X1", "field:X2"}));
  EXPECT_EQ(users[0]["devices"].size(), 1u) << "the password login gave the device its own token";
  ASSERT_EQ(admin({"user", "revoke", "cuong", "--device", users[0]["devices"][0].get<std::string>()}).exit_code, 0);
  auto refused = c({"sync"});
  EXPECT_NE(refused.exit_code, 0);
  EXPECT_NE(refused.err.find("refused"), std::string::npos) << refused.err;

  auto audit = admin({"audit", "--json"});
  ASSERT_EQ(audit.exit_code, 0);
  std::vector<std::string> actions;
  for (const auto& e : nlohmann::json::parse(audit.out)) actions.push_back(e["action"]);
  EXPECT_EQ(actions, (std::vector<std::string>{"units_import", "user_add", "login_failed", "login", "grant",
                                               "revoke_device", "bad_tokens"}))
      << "the revoked device's sync was refused for its unknown token";
  EXPECT_EQ(audit.out.find("mật khẩu"), std::string::npos);
}

TEST(Cli, FormsArePublishedListedAndEnforcedOnTheDevice) {
  testing::TempDir dir;
  testing::ServerHarness server(dir / "server", 0, [](server::Config& c) { c.forms_dir = FORMS_DIR; });
  const std::string http = "http://127.0.0.1:" + std::to_string(server.port());
  auto admin = [&](std::vector<std::string> args) {
    args.insert(args.begin(), {ADMIN_PATH, "--server", http, "--token", server.adminToken()});
    return run(args);
  };
  auto listed = admin({"forms", "list", "--json"});
  ASSERT_EQ(listed.exit_code, 0) << listed.err;
  EXPECT_EQ(nlohmann::json::parse(listed.out).size(), 10u) << "a new server offers the twinning forms";
  auto units = admin({"units", "list"});
  EXPECT_NE(units.out.find("MẪU / SAMPLE"), std::string::npos) << "the sample unit tree says it is a sample";
  { std::ofstream(dir / "bad.json") << R"({"name":"x","title":{"vi":"X"},"fields":[{"name":"a","type":"colour"}]})"; }
  auto bad = admin({"forms", "publish", (dir / "bad.json").string()});
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_NE(bad.err.find("'colour' is not a type"), std::string::npos) << bad.err;
  auto published = admin({"forms", "publish", std::string(FORMS_DIR) + "/model.json"});
  ASSERT_EQ(published.exit_code, 0) << published.err;
  EXPECT_NE(published.out.find("model version 2"), std::string::npos) << published.out;
  auto shown = admin({"forms", "show", "model", "--version", "1"});
  EXPECT_EQ(nlohmann::json::parse(shown.out)["version"], 1);

  const auto token = trim(admin({"user", "add", "an", "--scope", "MAU-X01"}).out);
  Cli a(dir / "a");
  ASSERT_EQ(a({"login", "--server", server.url(), "--token", token}).exit_code, 0);
  ASSERT_EQ(a({"sync"}).exit_code, 0);
  auto forms = a({"forms"});
  EXPECT_NE(forms.out.find("household_survey\tv1\tKhảo sát hộ / Household survey"), std::string::npos) << forms.out;
  auto missing = a({"put", "household_survey", "--scope", "MAU-X01", "chu_ho=Hồ Văn Minh", "thon=Thôn 1",
                    "tinh_trang_ngheo=khong_ngheo", "nha_tam:=false", "ngay_khao_sat=2026-04-02"});
  EXPECT_NE(missing.exit_code, 0);
  EXPECT_NE(missing.err.find("so_nhan_khau: bắt buộc / is required"), std::string::npos) << missing.err;
  auto ok = a({"put", "household_survey", "--scope", "MAU-X01-T1", "chu_ho=Nguyễn Văn A", "thon=Thôn 1",
               "tinh_trang_ngheo=khong_ngheo", "so_nhan_khau:=4", "nha_tam:=false", "ngay_khao_sat=2026-04-02"});
  ASSERT_EQ(ok.exit_code, 0) << ok.err;
  auto found = a({"list", "household_survey", "--search", "nguyen van a"});
  EXPECT_NE(found.out.find("Nguyễn Văn A"), std::string::npos);
  EXPECT_TRUE(a({"list", "household_survey", "--search", "tran"}).out.empty());
  ASSERT_EQ(a({"sync"}).exit_code, 0);
}

}  // namespace
}  // namespace communesync

namespace communesync {
namespace {

TEST(Cli, AttachSendsThePhotoAfterTheRecordAndFetchWritesItOnAnotherDevice) {
  testing::TempDir dir;
  testing::ServerHarness server(dir / "server");
  Cli a(dir / "a");
  Cli b(dir / "b");
  ASSERT_EQ(a({"login", "--server", server.url(), "--token", server.addUser("an", {"xa-01"})}).exit_code, 0);
  ASSERT_EQ(b({"login", "--server", server.url(), "--token", server.addUser("binh", {"xa-01"})}).exit_code, 0);
  std::string photo(700 * 1024, '\0');  // a photo's bytes do not compress
  std::uint64_t x = 88172645463325252ull;
  for (auto& c : photo) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    c = static_cast<char>(x);
  }
  std::ofstream(dir / "house.jpg", std::ios::binary) << photo;

  const auto id = trim(a({"put", "household", "head=Lò Văn Pá"}).out);
  EXPECT_NE(a({"attach", "household", "no-such-id", "photo", (dir / "house.jpg").string()}).exit_code, 0);
  auto missing = a({"attach", "household", id, "photo", (dir / "nothing.jpg").string()});
  EXPECT_NE(missing.exit_code, 0);
  EXPECT_NE(missing.err.find("no file"), std::string::npos) << missing.err;
  auto attached = a({"attach", "household", id, "photo", (dir / "house.jpg").string()});
  ASSERT_EQ(attached.exit_code, 0) << attached.err;
  const auto hash = trim(attached.out);
  ASSERT_EQ(hash.size(), 64u) << "the hash alone on stdout";
  auto record = nlohmann::json::parse(a({"get", "household", id}).out);
  EXPECT_EQ(record["fields"]["photo"], hash);
  auto status = nlohmann::json::parse(a({"status", "--json"}).out);
  EXPECT_EQ(status["files_pending"], 1);
  EXPECT_EQ(status["file_bytes_pending"], photo.size());

  auto synced = a({"sync", "--json"});
  ASSERT_EQ(synced.exit_code, 0) << synced.err;
  auto report = nlohmann::json::parse(synced.out);
  EXPECT_EQ(report["files_sent"], 1);
  EXPECT_EQ(report["files_received"], 0);
  EXPECT_EQ(report["file_bytes_sent"], photo.size());
  EXPECT_GT(report["bytes_sent"].get<std::uint64_t>(), photo.size()) << "bytes_sent counts the file too";
  EXPECT_EQ(nlohmann::json::parse(a({"status", "--json"}).out)["files_pending"], 0);

  // b: on demand by default; `eager household` fetches the files of households at every sync.
  auto lazy = nlohmann::json::parse(b({"sync", "--json"}).out);
  EXPECT_EQ(lazy["files_received"], 0);
  EXPECT_NE(b({"fetch", "not-a-hash", (dir / "x").string()}).exit_code, 0);
  auto fetched = b({"fetch", hash, (dir / "fetched.jpg").string()});
  ASSERT_EQ(fetched.exit_code, 0) << fetched.err;
  std::ifstream in(dir / "fetched.jpg", std::ios::binary);
  EXPECT_TRUE(std::string(std::istreambuf_iterator<char>(in), {}) == photo);

  Cli c(dir / "c");
  ASSERT_EQ(c({"login", "--server", server.url(), "--token", server.addUser("chi", {"xa-01"})}).exit_code, 0);
  auto eager = c({"eager", "household"});
  ASSERT_EQ(eager.exit_code, 0) << eager.err;
  EXPECT_EQ(trim(eager.out), "household");
  auto eager_sync = nlohmann::json::parse(c({"sync", "--json"}).out);
  EXPECT_EQ(eager_sync["files_received"], 1);
  EXPECT_EQ(eager_sync["file_bytes_received"], photo.size());
  EXPECT_EQ(trim(c({"eager", "--none"}).out), "");
}

}  // namespace
}  // namespace communesync
