// Who may see and change what, end to end over a real server: grants checked per change, units
// and merges, password logins and device tokens, revocation of a live session, purge on a shrunk grant.
#include <gtest/gtest.h>

#include "assert_ok.hpp"
#include "base/tuning.hpp"
#include "communesync/client/http_client.hpp"
#include "server_harness.hpp"
#include "temp_dir.hpp"

namespace communesync::testing {
namespace {

using nlohmann::json;
using sync::Value;

const char* kUnits =
    "code,parent_code,level,name\n"
    "49,,province,Quảng Nam\n"
    "BTM,49,district,Bắc Trà My\n"
    "X1,BTM,commune,Trà Đốc\n"
    "X2,BTM,commune,Trà Bui\n"
    "X3,BTM,commune,Trà Giáp\n";

class AccessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = std::make_unique<ServerHarness>(dir_ / "server");
    auto [status, body] =
        httpCall(server_->port(), boost::beast::http::verb::post, server_->adminToken(), "/admin/units/import", kUnits);
    ASSERT_EQ(status, 200u) << body;
  }

  std::vector<std::string> ids(TestDevice& device) {
    std::vector<std::string> out;
    for (const auto& r : *device.store().all()) out.push_back(r.key.id);
    return out;
  }

  TempDir dir_;
  std::unique_ptr<ServerHarness> server_;
};

TEST_F(AccessTest, EachChangeIsCheckedAndPullsCarryOnlyGrantedUnits) {
  TestDevice field(dir_ / "field", server_->addUser(json{{"name", "an"}, {"grants", {"field:X1"}}}));
  TestDevice sponsor(dir_ / "sponsor", server_->addUser(json{{"name", "binh"}, {"grants", {"sponsor:X2"}}}));
  TestDevice province(dir_ / "prov", server_->addUser(json{{"name", "chi"}, {"grants", {"reconciler:49"}}}));

  province.put("household_survey", "h-x1", {{"chu_ho", Value("A")}}, "X1");
  province.put("household_survey", "h-x2", {{"chu_ho", Value("B")}}, "X2");
  province.put("household_survey", "h-x3", {{"chu_ho", Value("C")}}, "X3");
  province.syncOk(server_->url());

  field.put("household_survey", "f-ok", {{"chu_ho", Value("mine")}}, "X1");
  field.put("household_survey", "f-bad", {{"chu_ho", Value("not mine")}}, "X2");
  auto r = field.sync(server_->url());
  ASSERT_OK(r.status);
  EXPECT_EQ(r.accepted, 1u);
  EXPECT_EQ(r.rejected, 1u);
  auto status = *field.store().status();
  ASSERT_EQ(status.rejected.size(), 1u);
  EXPECT_NE(status.rejected[0].reason.find("'X2'"), std::string::npos) << status.rejected[0].reason;
  EXPECT_EQ(ids(field), (std::vector<std::string>{"f-ok", "h-x1"})) << "X1 only: X2's and X3's records never arrive";

  sponsor.put("support_result", "s-ok", {{"ho_ngheo", Value(3)}}, "X2");
  sponsor.put("household_survey", "s-bad", {{"chu_ho", Value("x")}}, "X2");
  r = sponsor.sync(server_->url());
  ASSERT_OK(r.status);
  EXPECT_EQ(r.accepted, 1u);
  EXPECT_EQ(r.rejected, 1u) << "a sponsor writes plans and support results only";

  province.syncOk(server_->url());
  EXPECT_EQ(ids(province), (std::vector<std::string>{"f-ok", "h-x1", "h-x2", "h-x3", "s-ok"}));
}

TEST_F(AccessTest, AMergedUnitsRecordsStayVisibleUnderTheNewUnit) {
  TestDevice writer(dir_ / "w", server_->addUser(json{{"name", "w"}, {"grants", {"field:X3"}}}));
  writer.put("household_survey", "old-x3", {{"chu_ho", Value("Hồ")}}, "X3");
  writer.syncOk(server_->url());
  TestDevice reader(dir_ / "r", server_->addUser(json{{"name", "r"}, {"grants", {"field:X2"}}}));
  reader.syncOk(server_->url());
  EXPECT_TRUE(ids(reader).empty());

  server_->admin("/admin/units/merge", json{{"old", {"X3"}}, {"into", "X2"}}.dump());
  reader.syncOk(server_->url());
  EXPECT_EQ(ids(reader), (std::vector<std::string>{"old-x3"}));
  auto rec = *reader.store().get({"household_survey", "old-x3"});
  EXPECT_EQ(rec->scope, "X3") << "history is not rewritten: the record keeps its unit";
  // ...and may be edited there by whoever holds the new unit.
  reader.put("household_survey", "old-x3", {{"so_nhan_khau", Value(5)}}, "X3");
  auto r = reader.sync(server_->url());
  EXPECT_EQ(r.accepted, 1u);
  EXPECT_EQ(r.rejected, 0u);
}

TEST_F(AccessTest, PasswordLoginGivesADeviceTokenThatRevocationEndsWhileConnected) {
  server_->addUser(json{{"name", "dung"}, {"grants", {"field:X1"}}, {"password", "mật khẩu dài"}});
  TestDevice device(dir_ / "d", "");
  EXPECT_EQ(
      client::passwordLogin(server_->url(), "dung", "wrong one!", device.store().deviceId().hex()).status().code(),
      ErrorCode::kUnauthorized);
  auto token = client::passwordLogin(server_->url(), "dung", "mật khẩu dài", device.store().deviceId().hex());
  ASSERT_OK(token);
  device.setToken(*token);
  device.syncOk(server_->url());

  // A live connection, waiting for news.
  client::WebSocketTransport transport(server_->url(), *token);
  client::Replicator replicator(device.store(), transport);
  ASSERT_OK(replicator.connect());
  server_->admin("/admin/users/dung/revoke", json{{"device", device.store().deviceId().hex()}}.dump());
  const auto started = std::chrono::steady_clock::now();
  auto waited = replicator.waitForNotify(std::chrono::seconds(10));
  EXPECT_FALSE(waited.isOk()) << "the server closed the session";
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(5));
  auto again = device.sync(server_->url());
  EXPECT_EQ(again.status.code(), ErrorCode::kUnauthorized) << again.status.toString();
  EXPECT_EQ(
      client::passwordLogin(server_->url(), "dung", "mật khẩu dài", device.store().deviceId().hex()).status().code(),
      ErrorCode::kForbidden)
      << "a revoked device cannot log in again";
}

// A user cannot mint device ids without end (issue 23.2): past its limit, a login or a first sync
// from one more device is refused with what to do, a device it has keeps working, and revoking an
// old one frees its place.
TEST_F(AccessTest, AUserMayRegisterOnlySoManyDevicesAndRevokingOneFreesItsPlace) {
  const auto user_token = server_->addUser("giang", {"X1"});
  auto deviceHex = [](int i) {
    char hex[33];
    std::snprintf(hex, sizeof hex, "%032x", i + 1);
    return std::string(hex);
  };
  std::string first_token;
  for (int i = 0; i < 20; ++i) {
    auto token = client::tokenLogin(server_->url(), user_token, deviceHex(i));
    ASSERT_OK(token) << "device " << i;
    if (i == 0) first_token = *token;
  }
  auto refused = client::tokenLogin(server_->url(), user_token, deviceHex(20));
  EXPECT_EQ(refused.status().code(), ErrorCode::kLimitExceeded) << refused.status().toString();
  EXPECT_NE(refused.status().message().find("revoke one"), std::string::npos) << refused.status().toString();
  // A sync from a new device with the user token registers it at first contact: refused the same.
  TestDevice extra(dir_ / "extra", user_token);
  auto report = extra.sync(server_->url());
  EXPECT_EQ(report.status.code(), ErrorCode::kLimitExceeded) << report.status.toString();
  // A device the user has logs in again as before.
  EXPECT_OK(client::tokenLogin(server_->url(), user_token, deviceHex(3)));

  server_->admin("/admin/users/giang/revoke", json{{"device", deviceHex(0)}}.dump());
  EXPECT_OK(client::tokenLogin(server_->url(), user_token, deviceHex(20))) << "the revoked device's place is free";
}

// A changed password is often a leaked one (issue 23.8): every device that logged in with the old
// password is signed out and logs in again with the new one; --keep-devices keeps them.
TEST_F(AccessTest, APasswordChangeSignsOutTheDevicesUnlessAskedToKeepThem) {
  server_->addUser(json{{"name", "en"}, {"grants", {"field:X1"}}, {"password", "mật khẩu cũ"}});
  TestDevice phone(dir_ / "phone", "");
  TestDevice tablet(dir_ / "tablet", "");
  for (auto* d : {&phone, &tablet}) {
    auto token = client::passwordLogin(server_->url(), "en", "mật khẩu cũ", d->store().deviceId().hex());
    ASSERT_OK(token);
    d->setToken(*token);
    d->syncOk(server_->url());
  }
  auto changed = server_->admin("/admin/users/en/passwd", json{{"password", "mật khẩu mới"}}.dump());
  EXPECT_EQ(changed["devices_signed_out"], 2) << changed.dump();
  EXPECT_EQ(phone.sync(server_->url()).status.code(), ErrorCode::kUnauthorized) << "the old token no longer works";
  auto again = client::passwordLogin(server_->url(), "en", "mật khẩu mới", phone.store().deviceId().hex());
  ASSERT_OK(again);
  phone.setToken(*again);
  phone.syncOk(server_->url());

  changed =
      server_->admin("/admin/users/en/passwd", json{{"password", "mật khẩu thứ ba"}, {"keep_devices", true}}.dump());
  EXPECT_EQ(changed["devices_signed_out"], 0) << changed.dump();
  phone.syncOk(server_->url());
}

TEST_F(AccessTest, RepeatedWrongPasswordsMakeLoginsAsThatNameWaitWithoutCheckingThePassword) {
  server_->addUser(json{{"name", "giang"}, {"grants", {"field:X1"}}, {"password", "mật khẩu đúng"}});
  server_->addUser(json{{"name", "ha"}, {"grants", {"field:X1"}}, {"password", "mật khẩu của hà"}});
  TestDevice device(dir_ / "g", "");
  const auto hex = device.store().deviceId().hex();
  for (int i = 0; i < static_cast<int>(server::tuning::kLoginFailuresPerUser); ++i) {
    ASSERT_EQ(client::passwordLogin(server_->url(), "giang", "guess " + std::to_string(i), hex).status().code(),
              ErrorCode::kUnauthorized)
        << i;
  }
  // Past the allowance even the right password waits, and says for how long.
  auto held = client::passwordLogin(server_->url(), "giang", "mật khẩu đúng", hex);
  ASSERT_EQ(held.status().code(), ErrorCode::kBusy) << held.status().toString();
  EXPECT_NE(held.status().message().find("too many failed logins; try again in"), std::string::npos)
      << held.status().message();
  auto raw = client::httpRequest(server_->url(), "POST", "/login", "", "application/json",
                                 json{{"user", "giang"}, {"password", "mật khẩu đúng"}, {"device", hex}}.dump());
  ASSERT_OK(raw);
  EXPECT_EQ(raw->status, 429u);
  EXPECT_EQ(json::parse(raw->body)["error"], "too_many_attempts");
  ASSERT_FALSE(raw->retry_after.empty());
  EXPECT_GT(std::stoi(raw->retry_after), 0);
  EXPECT_LE(std::stoi(raw->retry_after), server::tuning::kLoginFailureDrain.count());
  // Another user on the same address (a commune's phones share one) still logs in.
  TestDevice other(dir_ / "h", "");
  EXPECT_OK(client::passwordLogin(server_->url(), "ha", "mật khẩu của hà", other.store().deviceId().hex()));
}

TEST_F(AccessTest, DisablingAUserClosesItsSessions) {
  auto token = server_->addUser(json{{"name", "em"}, {"grants", {"field:X1"}}});
  TestDevice device(dir_ / "e", token);
  client::WebSocketTransport transport(server_->url(), token);
  client::Replicator replicator(device.store(), transport);
  ASSERT_OK(replicator.connect());
  server_->admin("/admin/users/em/revoke", json{{"all", true}}.dump());
  EXPECT_FALSE(replicator.waitForNotify(std::chrono::seconds(10)).isOk());
  EXPECT_EQ(device.sync(server_->url()).status.code(), ErrorCode::kUnauthorized);
}

TEST_F(AccessTest, AShrunkGrantMakesTheDevicePurgeLiveAndOnItsNextSync) {
  TestDevice writer(dir_ / "w", server_->addUser(json{{"name", "w"}, {"grants", {"reconciler:49"}}}));
  writer.put("household_survey", "in-x1", {{"chu_ho", Value("A")}}, "X1");
  writer.put("household_survey", "in-x2", {{"chu_ho", Value("B")}}, "X2");
  writer.syncOk(server_->url());

  // Live: connected when the grant shrinks.
  auto token = server_->addUser(json{{"name", "giang"}, {"grants", {"field:X1", "field:X2"}}});
  TestDevice live(dir_ / "live", token);
  live.syncOk(server_->url());
  EXPECT_EQ(ids(live), (std::vector<std::string>{"in-x1", "in-x2"}));
  client::WebSocketTransport transport(server_->url(), token);
  client::Replicator replicator(live.store(), transport);
  ASSERT_OK(replicator.connect());
  server_->admin("/admin/users/giang/revoke", json{{"grants", {"field:X2"}}}.dump());
  (void)replicator.waitForNotify(std::chrono::seconds(2));  // the access message arrives and is applied
  EXPECT_EQ(ids(live), (std::vector<std::string>{"in-x1"}));
  EXPECT_EQ(replicator.welcome().scopes, (std::vector<std::string>{"X1", "_forms"}));
  replicator.close();

  // Offline: the next sync purges.
  auto token2 = server_->addUser(json{{"name", "ha"}, {"grants", {"field:X1", "field:X2"}}});
  TestDevice offline(dir_ / "off", token2);
  offline.syncOk(server_->url());
  server_->admin("/admin/users/ha/revoke", json{{"grants", {"field:X1"}}}.dump());
  auto r = offline.sync(server_->url());
  ASSERT_OK(r.status);
  EXPECT_EQ(r.purged, 1u);
  EXPECT_EQ(ids(offline), (std::vector<std::string>{"in-x2"}));

  // A grant given back: the records come back.
  server_->admin("/admin/users/ha/grant", json{{"grants", {"field:X1"}}}.dump());
  offline.syncOk(server_->url());
  EXPECT_EQ(ids(offline), (std::vector<std::string>{"in-x1", "in-x2"}));
}

TEST_F(AccessTest, AdminApiAnswersAUserGrantedAdminAndNobodyElse) {
  auto admin_user = server_->addUser(json{{"name", "boss"}, {"grants", {"admin:49"}}});
  auto field_user = server_->addUser(json{{"name", "worker"}, {"grants", {"field:X1"}}});
  auto [ok, body] = httpCall(server_->port(), boost::beast::http::verb::get, admin_user, "/admin/users", "");
  EXPECT_EQ(ok, 200u) << body;
  auto [refused, why] = httpCall(server_->port(), boost::beast::http::verb::get, field_user, "/admin/users", "");
  EXPECT_EQ(refused, 401u) << why;
  auto [audit_status, audit] =
      httpCall(server_->port(), boost::beast::http::verb::get, server_->adminToken(), "/admin/audit?limit=50", "");
  ASSERT_EQ(audit_status, 200u);
  EXPECT_NE(audit.find("units_import"), std::string::npos);
  EXPECT_NE(audit.find("user_add"), std::string::npos);
  EXPECT_EQ(audit.find(field_user), std::string::npos) << "tokens never appear in the audit log";
}

TEST_F(AccessTest, BrowserOriginsAreChecked) {
  namespace http = boost::beast::http;
  boost::asio::io_context ioc;
  boost::beast::tcp_stream stream(ioc);
  stream.connect(boost::asio::ip::tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), server_->port()));
  http::request<http::string_body> req{http::verb::get, "/healthz", 11};
  req.set(http::field::host, "127.0.0.1");
  req.set(http::field::origin, "https://evil.example");
  http::write(stream, req);
  boost::beast::flat_buffer buffer;
  http::response<http::string_body> res;
  http::read(stream, buffer, res);
  EXPECT_EQ(res.result_int(), 403u) << res.body();
}

}  // namespace
}  // namespace communesync::testing
