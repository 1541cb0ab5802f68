// The route table and its handlers, called directly: no socket, no thread, no writer. A handler is a
// function of one ApiCall; the router checks the route's right before it runs.
#include <gtest/gtest.h>

#include <set>

#include "assert_ok.hpp"
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
        [](sync::Form) -> Result<sync::Form> { return Status::error(ErrorCode::kInternal, "not in this test"); },
        apply});
  }

  std::string addUser(const std::string& name, const std::vector<Grant>& grants) {
    auto token = directory_->addUser(name, grants, "", Actor{"admin", "test"});
    EXPECT_OK(token);
    return token.isOk() ? *token : std::string();
  }

  HttpResponse call(http::verb method, const std::string& target, const std::string& token, std::string body = "",
                    bool loopback = true) {
    HttpRequest request{method, target, 11};
    if (!token.empty()) request.set(http::field::authorization, "Bearer " + token);
    request.body() = std::move(body);
    request.prepare_payload();
    return handleHttp(request, *state_, loopback ? "127.0.0.1" : "192.0.2.7", loopback);
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
};

TEST(RouteTable, EachRouteIsDeclaredOnceWithTheRightItsPrefixNeeds) {
  std::set<std::pair<http::verb, std::string_view>> seen;
  for (const auto& route : routes()) {
    EXPECT_TRUE(seen.emplace(route.method, route.pattern).second) << "declared twice: " << route.pattern;
    EXPECT_NE(route.handler, nullptr) << route.pattern;
    const Right expected = route.pattern.substr(0, 5) == "/api/"     ? Right::kUser
                           : route.pattern.substr(0, 7) == "/admin/" ? Right::kAdmin
                                                                     : Right::kAnyone;
    EXPECT_EQ(route.right, expected) << route.pattern << ": /api/ needs a user, /admin/ an admin";
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

}  // namespace
}  // namespace communesync::server
