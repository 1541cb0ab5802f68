// The route table and its handlers, called directly: no socket, no thread, no writer. A handler is a
// function of one ApiCall; the router checks the route's right before it runs.
#include <gtest/gtest.h>

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <set>

#include "assert_ok.hpp"
#include "base/tuning.hpp"
#include "communesync/storage/store.hpp"
#include "communesync/sync/review.hpp"
#include "directory/directory.hpp"
#include "http/handlers.hpp"
#include "http/router.hpp"
#include "store/form_catalog.hpp"
#include "store/server_store.hpp"
#include "sync_builders.hpp"
#include "temp_dir.hpp"

namespace communesync::server {
namespace {

namespace beast = boost::beast;

using nlohmann::json;

class HttpRoutes : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = storage::Store::open(dir_ / "db");
    ASSERT_OK(store);
    store_ = std::move(store).value();
    auto data = ServerStore::open(*store_);
    ASSERT_OK(data);
    data_ = std::move(data).value();
    auto directory = Directory::open(*store_);
    ASSERT_OK(directory);
    directory_ = std::move(directory).value();
    auto forms = FormCatalog::open(*store_);
    ASSERT_OK(forms);
    forms_ = std::move(forms).value();
    auto admin = directory_->ensureAdminToken();
    ASSERT_OK(admin);
    admin_token_ = admin->value();
    // The writer's job, done here on the test's thread: the same ServerStore::apply.
    auto apply = [this](std::shared_ptr<PushJob> job) {
      std::vector<PushJob*> jobs{job.get()};
      sync::proto::Checkpoints touched;
      return data_->apply(jobs, nowMs(), touched);
    };
    state_ = std::make_unique<ServerState>(ServerState{
        *store_, *data_, *directory_, [this] { ++access_changes_; }, *forms_,
        [](sync::Form) -> Result<sync::Form> { return Status::error(ErrorCode::kInternal, "not in this test"); }, apply,
        /*admin_remote=*/false, /*allowed_origins=*/{}, /*report_rules=*/{}, /*web=*/nullptr});
  }

  std::string addUser(const std::string& name, const std::vector<Grant>& grants) {
    auto token = directory_->addUser(name, grants, "", Actor{"admin", "test"});
    EXPECT_OK(token);
    return token.isOk() ? *token : std::string();
  }

  HttpResponse call(http::verb method, const std::string& target, const std::string& token, std::string body = "",
                    bool loopback = true, const std::string& peer = "192.0.2.7") {
    HttpRequest request{method, target, 11};
    if (!token.empty()) request.set(http::field::authorization, "Bearer " + token);
    request.body() = std::move(body);
    request.prepare_payload();
    return handleHttp(request, *state_, loopback ? "127.0.0.1" : peer, loopback);
  }

  // A household of xa-01 on the server, as a device would push it.
  void pushHousehold() {
    PushJob job;
    job.access = std::make_shared<const Access>(std::vector<Grant>{{Role::kField, "xa-01"}}, UnitTree{});
    job.changes.push_back(testing::edit(1, 1, "members", sync::Value(std::int64_t{5}), testing::stampAt(1000, 1)));
    std::vector<PushJob*> jobs{&job};
    sync::proto::Checkpoints touched;
    ASSERT_OK(data_->apply(jobs, nowMs(), touched));
    ASSERT_EQ(job.results.at(0).outcome, sync::proto::Outcome::kAccepted);
  }

  testing::TempDir dir_;
  std::unique_ptr<storage::Store> store_;
  std::unique_ptr<ServerStore> data_;
  std::unique_ptr<Directory> directory_;
  std::unique_ptr<FormCatalog> forms_;
  std::unique_ptr<ServerState> state_;
  std::string admin_token_;
  int access_changes_ = 0;

  // The audit log's actions, oldest first.
  std::vector<std::string> auditActions() {
    auto entries = directory_->auditLog(1000);
    EXPECT_OK(entries);
    std::vector<std::string> out;
    if (entries.isOk()) {
      for (const auto& e : *entries) out.push_back(e.action);
    }
    return out;
  }
  bool audited(const std::string& action) {
    const auto actions = auditActions();
    return std::find(actions.begin(), actions.end(), action) != actions.end();
  }
};

TEST(RouteTable, EachRouteIsDeclaredOnceWithTheRightItsPrefixNeeds) {
  std::set<std::pair<http::verb, std::string_view>> seen;
  for (const auto& route : routes()) {
    EXPECT_TRUE(seen.emplace(route.method, route.pattern).second) << "declared twice: " << route.pattern;
    EXPECT_NE(route.handler, nullptr) << route.pattern;
    const Right expected = route.pattern.substr(0, 5) == "/api/"     ? Right::kUser
                           : route.pattern.substr(0, 7) == "/admin/" ? Right::kAdmin
                           : route.pattern == "/metrics"             ? Right::kMetrics
                                                                     : Right::kAnyone;
    EXPECT_EQ(route.right, expected)
        << route.pattern << ": /api/ needs a user, /admin/ an admin, /metrics the admin or a listed address";
  }
}

TEST(RouteTable, PatternsMatchOneSegmentOrTheRest) {
  std::vector<std::string> parts;
  EXPECT_TRUE(matchRoute("/api/conflicts/{id}/resolve", "/api/conflicts/ab12/resolve", parts));
  EXPECT_EQ(parts, std::vector<std::string>{"ab12"});
  EXPECT_FALSE(matchRoute("/api/conflicts/{id}", "/api/conflicts/ab12/resolve", parts));
  EXPECT_FALSE(matchRoute("/api/conflicts/{id}", "/api/conflicts/", parts)) << "a placeholder is never empty";
  EXPECT_TRUE(matchRoute("/api/history/{record*}", "/api/history/household/h1", parts));
  EXPECT_EQ(parts, std::vector<std::string>{"household/h1"});
  EXPECT_TRUE(matchRoute("/admin/users/{name*}/grant", "/admin/users/an/b/grant", parts));
  EXPECT_EQ(parts, std::vector<std::string>{"an/b"}) << "a name may hold a slash; the action is the last segment";
  EXPECT_FALSE(matchRoute("/admin/users/{name*}/grant", "/admin/users/grant", parts));
  EXPECT_FALSE(matchRoute("/api/me", "/api/me/", parts));
  EXPECT_TRUE(matchRoute("/healthz", "/healthz", parts));
  EXPECT_TRUE(parts.empty());
}

TEST(RouteTable, TheHttpStatusFollowsTheErrorCodeAlone) {
  EXPECT_EQ(httpStatusOf(ErrorCode::kAlreadyExists), http::status::conflict);
  EXPECT_EQ(httpStatusOf(ErrorCode::kInvalidArgument), http::status::bad_request);
  EXPECT_EQ(httpStatusOf(ErrorCode::kRejected), http::status::bad_request);
  EXPECT_EQ(httpStatusOf(ErrorCode::kNotFound), http::status::not_found);
  EXPECT_EQ(httpStatusOf(ErrorCode::kUnauthorized), http::status::unauthorized);
  EXPECT_EQ(httpStatusOf(ErrorCode::kForbidden), http::status::forbidden);
  EXPECT_EQ(httpStatusOf(ErrorCode::kBusy), http::status::service_unavailable);
  EXPECT_EQ(httpStatusOf(ErrorCode::kCorruption), http::status::internal_server_error);
}

TEST_F(HttpRoutes, TheApiNeedsATokenAndSaysHowToGiveOne) {
  auto res = call(http::verb::get, "/api/me", "");
  EXPECT_EQ(res.result(), http::status::unauthorized);
  EXPECT_EQ(res[http::field::www_authenticate], "Bearer");
  res = call(http::verb::get, "/api/me", "not-a-token");
  EXPECT_EQ(res.result(), http::status::unauthorized);
  res = call(http::verb::get, "/healthz", "");
  EXPECT_EQ(res.result(), http::status::ok) << res.body();
  EXPECT_EQ(res["X-Content-Type-Options"], "nosniff") << "a JSON answer is never sniffed as something else";
}

TEST_F(HttpRoutes, AWrongMethodGets405NamingTheMethodsThatWould) {
  auto res = call(http::verb::get, "/api/conflicts/ab12/resolve", admin_token_);
  EXPECT_EQ(res.result(), http::status::method_not_allowed);
  EXPECT_EQ(res[http::field::allow], "POST");
  res = call(http::verb::delete_, "/admin/users", admin_token_);
  EXPECT_EQ(res.result(), http::status::method_not_allowed);
  EXPECT_EQ(res[http::field::allow], "POST, GET");
  EXPECT_NE(res.body().find("use POST or GET"), std::string::npos) << res.body();
}

TEST_F(HttpRoutes, TheAdminApiRefusesOtherMachinesAndUsersWhoAreNotAdmins) {
  const auto field = addUser("an", {{Role::kField, "xa-01"}});
  EXPECT_EQ(call(http::verb::get, "/admin/users", field).result(), http::status::unauthorized);
  EXPECT_EQ(call(http::verb::get, "/admin/users", admin_token_, "", false).result(), http::status::forbidden);
  auto res = call(http::verb::get, "/admin/users", admin_token_);
  ASSERT_EQ(res.result(), http::status::ok) << res.body();
  EXPECT_EQ(json::parse(res.body())["users"][0]["name"], "an");
}

TEST_F(HttpRoutes, AUserAddedTwiceIs409FromItsErrorCode) {
  const std::string body = R"({"name":"binh","grants":["field:xa-01"]})";
  auto first = call(http::verb::post, "/admin/users", admin_token_, body);
  ASSERT_EQ(first.result(), http::status::created) << first.body();
  EXPECT_EQ(access_changes_, 1) << "live sessions re-check their rights after a user change";
  auto again = call(http::verb::post, "/admin/users", admin_token_, body);
  EXPECT_EQ(again.result(), http::status::conflict) << again.body();
  EXPECT_EQ(json::parse(again.body())["error"], "already_exists");
}

// The handler called as a plain function: what the router would give it, built by hand.
TEST_F(HttpRoutes, AReviewHandlerCalledDirectlyGoesThroughTheWriterAndIsListed) {
  pushHousehold();
  addUser("lan", {{Role::kReconciler, "xa-01"}});
  const auto lan = directory_->accessOf({{Role::kReconciler, "xa-01"}});
  const Asker asker{"lan", false, lan, lan.readable()};
  HttpRequest request{http::verb::post, "/api/reviews/household/h1", 11};
  request.body() = R"({"state":"needs_edits","comment":"5 người? Kiểm tra lại"})";
  const std::string peer = "127.0.0.1";
  ApiCall review{request, *state_, peer, {}, {"household/h1"}, &asker, Actor{"lan", peer}};
  auto res = setReview(review);
  ASSERT_EQ(res.result(), http::status::ok) << res.body();
  EXPECT_EQ(json::parse(res.body())["review"]["state"], "needs_edits");

  HttpRequest list_request{http::verb::get, "/api/reviews", 11};
  ApiCall list{list_request, *state_, peer, {{"state", "needs_edits"}}, {}, &asker, Actor{"lan", peer}};
  auto listed = json::parse(listReviews(list).body());
  ASSERT_EQ(listed["reviews"].size(), 1u) << listed.dump();
  EXPECT_EQ(listed["reviews"][0]["comment"], "5 người? Kiểm tra lại");
  EXPECT_EQ(listed["reviews"][0]["by"], "lan");
  EXPECT_TRUE(audited("review")) << "reviews are in the audit log";

  // A field user of the unit may read the record but not review it: the handler says so.
  const auto an = directory_->accessOf({{Role::kField, "xa-01"}});
  const Asker field{"an", false, an, an.readable()};
  ApiCall refused{request, *state_, peer, {}, {"household/h1"}, &field, Actor{"an", peer}};
  EXPECT_EQ(setReview(refused).result(), http::status::forbidden);
}

TEST_F(HttpRoutes, ParametersOutOfShapeAreRefusedWithTheirName) {
  const std::string token = addUser("lan", {{Role::kReconciler, "xa-01"}});
  auto res = call(http::verb::get, "/api/overview?year=20x5", token);
  EXPECT_EQ(res.result(), http::status::bad_request);
  EXPECT_NE(res.body().find("year=YYYY"), std::string::npos) << res.body();
  res = call(http::verb::get, "/api/conflicts?limit=ten", token);
  EXPECT_EQ(res.result(), http::status::bad_request);
  EXPECT_NE(res.body().find("limit must be a whole number"), std::string::npos) << res.body();
  res = call(http::verb::get, "/api/conflicts?limit=99999999999999999999999", token);
  EXPECT_EQ(res.result(), http::status::ok) << "a count too large is taken as the limit: " << res.body();
}

// A resolution is newer than both sides even when the kept side's counter is at its end (issue 23.9:
// the counter once wrapped to 0, the API said "resolved" and the record kept the overruled value).
TEST_F(HttpRoutes, AResolutionWinsOverAKeptSideWhoseCounterIsAtItsEnd) {
  const std::int64_t ahead = nowMs() + 60'000;  // a device clock a minute fast: not clamped
  PushJob job;
  job.access = std::make_shared<const Access>(std::vector<Grant>{{Role::kField, "xa-01"}}, UnitTree{});
  job.changes.push_back(
      testing::edit(1, 1, "members", sync::Value(std::int64_t{5}),
                    sync::Stamp{ahead, std::numeric_limits<std::uint32_t>::max(), testing::deviceNo(1)}));
  job.changes.push_back(
      testing::edit(2, 1, "members", sync::Value(std::int64_t{6}), testing::stampAt(ahead - 30'000, 2)));
  std::vector<PushJob*> jobs{&job};
  sync::proto::Checkpoints touched;
  ASSERT_OK(data_->apply(jobs, nowMs(), touched));

  auto listed = json::parse(call(http::verb::get, "/api/conflicts", admin_token_).body());
  ASSERT_EQ(listed["conflicts"].size(), 1u) << listed.dump();
  const std::string id = listed["conflicts"][0]["id"];
  auto res = call(http::verb::post, "/api/conflicts/" + id + "/resolve", admin_token_,
                  R"({"take":"lost","reason":"đếm lại: 6 người"})");
  ASSERT_EQ(res.result(), http::status::ok) << res.body();
  auto record = data_->record({"household", "h1"});
  ASSERT_OK(record);
  ASSERT_TRUE(record->has_value());
  EXPECT_EQ((*record)->fields.at("members").value, sync::Value(std::int64_t{6})) << "the decision holds";
  EXPECT_TRUE(audited("resolve")) << "resolutions are in the audit log";
}

// A value typed on a phone never runs as a formula in the spreadsheet an officer opens (issue 23.4):
// text starting with =, +, -, @, a tab or a CR is written with a leading apostrophe; numbers as they are.
TEST_F(HttpRoutes, CsvExportsCarryNoFormulas) {
  PushJob job;
  job.access = std::make_shared<const Access>(std::vector<Grant>{{Role::kField, "xa-01"}}, UnitTree{});
  const std::vector<std::pair<std::string, sync::Value>> fields = {
      {"a", sync::Value(std::string("=HYPERLINK(\"http://x.example/\",\"bấm\")"))},
      {"b", sync::Value(std::string("+84 912"))},
      {"c", sync::Value(std::string("-1+1"))},
      {"d", sync::Value(std::string("@SUM(A1)"))},
      {"e", sync::Value(std::string("\tlệch"))},
      {"f", sync::Value(std::int64_t{-5})}};
  std::uint64_t seq = 0;
  for (const auto& [name, value] : fields) {
    ++seq;
    job.changes.push_back(
        testing::edit(1, seq, name, value, testing::stampAt(1000 + static_cast<std::int64_t>(seq), 1)));
  }
  std::vector<PushJob*> jobs{&job};
  sync::proto::Checkpoints touched;
  ASSERT_OK(data_->apply(jobs, nowMs(), touched));
  auto res = call(http::verb::get, "/api/export/household?format=csv", admin_token_);
  ASSERT_EQ(res.result(), http::status::ok) << res.body();
  ASSERT_TRUE(res.body().file) << "an export is sent from the file it was written into";
  const auto ours = "communesync-" + std::to_string(::getpid()) + "-";
  for (const auto& entry : std::filesystem::directory_iterator(std::filesystem::temp_directory_path())) {
    EXPECT_NE(entry.path().filename().string().rfind(ours, 0), 0U)
        << entry.path() << ": the file leaves the temporary folder once the answer holds it";
  }
  std::string csv(res.body().file_size, '\0');
  beast::error_code ec;
  res.body().file->seek(0, ec);
  ASSERT_EQ(res.body().file->read(csv.data(), csv.size(), ec), csv.size()) << ec.message();
  EXPECT_NE(csv.find("\"'=HYPERLINK("), std::string::npos) << csv;
  EXPECT_NE(csv.find(",'+84 912"), std::string::npos) << csv;
  EXPECT_NE(csv.find(",'-1+1"), std::string::npos) << csv;
  EXPECT_NE(csv.find(",'@SUM(A1)"), std::string::npos) << csv;
  EXPECT_NE(csv.find(",'\tlệch"), std::string::npos) << csv;
  EXPECT_NE(csv.find(",-5"), std::string::npos) << "a number stays a number: " << csv;
  EXPECT_EQ(csv.find(",="), std::string::npos) << csv;
  EXPECT_TRUE(audited("export")) << "exports are in the audit log";
}

// Someone guessing a user's password from one address makes logins as that name wait there; its owner
// logs in from anywhere else with the right password (issue 23.3). The lock is audited once, not per try.
TEST_F(HttpRoutes, AGuesserAtOneAddressDoesNotLockTheOwnerOutElsewhere) {
  ASSERT_OK(directory_->addUser("giang", {{Role::kField, "xa-01"}}, "mật khẩu đúng", Actor{"admin", "test"}));
  const std::string device = "00112233445566778899aabbccddeeff";
  auto login = [&](const std::string& password, const std::string& peer) {
    return call(http::verb::post, "/login", "",
                json{{"user", "giang"}, {"password", password}, {"device", device}}.dump(), false, peer);
  };
  for (int i = 0; i < static_cast<int>(tuning::kLoginFailuresPerUser); ++i) {
    ASSERT_EQ(login("đoán " + std::to_string(i), "198.51.100.9").result(), http::status::unauthorized) << i;
  }
  EXPECT_EQ(login("mật khẩu đúng", "198.51.100.9").result(), http::status::too_many_requests)
      << "the guesser's address waits, right password or not";
  for (int i = 0; i < 3; ++i) EXPECT_EQ(login("đoán", "198.51.100.9").result(), http::status::too_many_requests);
  auto owner = login("mật khẩu đúng", "203.0.113.20");
  EXPECT_EQ(owner.result(), http::status::ok) << "the owner, from elsewhere: " << owner.body();
  auto audit = directory_->auditLog(1000);
  ASSERT_OK(audit);
  int throttled = 0;
  for (const auto& e : *audit) throttled += e.action == "login_throttled" ? 1 : 0;
  EXPECT_EQ(throttled, 1) << "one line for the lock, not one per refused try";
}

// An admin grant on a commune once gave power over the whole server (issue 23.5): admin is granted on
// the tree's root only, and the names the audit log uses for the admin token and the server are reserved.
TEST_F(HttpRoutes, AdminIsGrantedOnTheRootOnlyAndItsNamesAreReserved) {
  auto units = parseUnitsCsv("code,parent_code,level,name\n49,,province,Quảng Nam\n49-X1,49,commune,Trà Đốc\n");
  ASSERT_OK(units);
  ASSERT_OK(directory_->importUnits(*units, Actor{"admin", "test"}));
  auto res = call(http::verb::post, "/admin/users", admin_token_, R"({"name":"phu","grants":["admin:49-X1"]})");
  EXPECT_EQ(res.result(), http::status::bad_request) << res.body();
  EXPECT_NE(res.body().find("admin is granted on the whole tree only"), std::string::npos) << res.body();
  res = call(http::verb::post, "/admin/users", admin_token_, R"({"name":"phu","grants":["reconciler:49-X1"]})");
  ASSERT_EQ(res.result(), http::status::created) << res.body();
  res = call(http::verb::post, "/admin/users/phu/grant", admin_token_, R"({"grants":["admin:49-X1"]})");
  EXPECT_EQ(res.result(), http::status::bad_request) << "nor added later: " << res.body();
  res = call(http::verb::post, "/admin/users", admin_token_, R"({"name":"quang","grants":["admin:49"]})");
  EXPECT_EQ(res.result(), http::status::created) << res.body();
  for (const char* reserved : {"admin", "server"}) {
    res = call(http::verb::post, "/admin/users", admin_token_,
               json{{"name", reserved}, {"grants", {"field:49-X1"}}}.dump());
    EXPECT_EQ(res.result(), http::status::bad_request) << reserved << ": " << res.body();
    EXPECT_NE(res.body().find("is reserved"), std::string::npos) << res.body();
  }
  // A grant stored before the rule gives no power: Access reads it as nothing.
  const auto tree = directory_->units();
  EXPECT_FALSE(Access({{Role::kAdmin, "49-X1"}}, *tree).isAdmin());
  EXPECT_TRUE(Access({{Role::kAdmin, "49"}}, *tree).isAdmin());
}

// Issue 23.10: one user runs one search, export or report at a time (the HTTP workers are two), so
// four parallel searches from one field user cannot slow everyone; a light request goes on.
TEST_F(HttpRoutes, AUserRunsOneHeavyRequestAtATimeAndOthersAreNotHeldUp) {
  pushHousehold();
  const auto an = addUser("an", {{Role::kReconciler, "xa-01"}});
  const auto binh = addUser("binh", {{Role::kReconciler, "xa-01"}});
  auto running = state_->heavy_requests->take("an");  // an's first export, still running
  ASSERT_TRUE(running);
  for (const char* target : {"/api/export/household?format=csv", "/api/records/household", "/api/reports/form2"}) {
    auto second = call(http::verb::get, target, an);
    EXPECT_EQ(second.result(), http::status::too_many_requests) << target << ": " << second.body();
    EXPECT_EQ(second[http::field::retry_after], "1");
  }
  EXPECT_EQ(call(http::verb::get, "/api/me", an).result(), http::status::ok) << "a light request is not held";
  EXPECT_EQ(call(http::verb::get, "/api/export/household?format=csv", binh).result(), http::status::ok)
      << "another user's export runs";
  running.reset();
  EXPECT_EQ(call(http::verb::get, "/api/export/household?format=csv", an).result(), http::status::ok);
}

}  // namespace
}  // namespace communesync::server
