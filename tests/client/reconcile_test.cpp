// Central reconciliation end to end: two devices edit one household offline, the server records the
// conflict with who wrote what and when, a reconciler settles it over the API or the admin tool, and
// both devices receive the decision and show the conflict closed.
#include <gtest/gtest.h>

#include "assert_ok.hpp"
#include "process.hpp"
#include "server_harness.hpp"
#include "temp_dir.hpp"

namespace communesync {
namespace {

using nlohmann::json;
using sync::Value;
using testing::ServerHarness;
using testing::TestDevice;

json apiGet(const ServerHarness& server, const std::string& token, const std::string& path, unsigned expect = 200) {
  auto [status, body] = testing::httpCall(server.port(), boost::beast::http::verb::get, token, path, "");
  EXPECT_EQ(status, expect) << path << ": " << body;
  return json::parse(body, nullptr, false);
}

json apiPost(const ServerHarness& server, const std::string& token, const std::string& path, const json& body,
             unsigned expect = 200) {
  auto [status, text] = testing::httpCall(server.port(), boost::beast::http::verb::post, token, path, body.dump());
  EXPECT_EQ(status, expect) << path << ": " << text;
  return json::parse(text, nullptr, false);
}

json fieldOf(TestDevice& device, const std::string& id, const std::string& field) {
  auto r = device.store().get({"household", id});
  EXPECT_TRUE(r.isOk() && r->has_value());
  if (!r.isOk() || !r->has_value()) return nullptr;
  auto it = (*r)->fields.find(field);
  return it == (*r)->fields.end() ? json(nullptr) : sync::valueToJson(it->second.value);
}

std::size_t trimmedLines(const std::string& text) {
  return static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n'));
}

// Run on each store backend (tests/support/store_backends.hpp).
class Reconcile : public testing::OnEachStore {
 protected:
  void SetUp() override {
    OnEachStore::SetUp();
    if (IsSkipped()) return;
    harness_ = std::make_unique<ServerHarness>(dir / "server", stores);
    an_ = std::make_unique<TestDevice>(dir / "an", server().addUser("an", {"xa-01"}));
    binh_ = std::make_unique<TestDevice>(dir / "binh", server().addUser("binh", {"xa-01"}));
    lan_ = server().addUser(json{{"name", "lan"}, {"grants", {"reconciler:xa-01"}}});
    other_ = server().addUser(json{{"name", "minh"}, {"grants", {"reconciler:xa-02"}}});
  }

  // A household both devices hold, then edited by each offline: one conflict on `field`.
  std::string conflicting(const std::string& field, const Value& a, const Value& b) {
    const auto id = an_->put("household", "", {{"chu_ho", Value("Lò Văn Pá")}, {field, Value("trước")}});
    an_->syncOk(server().url());
    binh_->syncOk(server().url());
    an_->put("household", id, {{field, a}});
    binh_->put("household", id, {{field, b}});
    an_->syncOk(server().url());
    binh_->syncOk(server().url());
    return id;
  }

  std::unique_ptr<ServerHarness> harness_;
  ServerHarness& server() { return *harness_; }
  std::unique_ptr<TestDevice> an_, binh_;
  std::string lan_, other_;
};

TEST_P(Reconcile, AConflictIsSettledCentrallyAndBothDevicesReceiveTheDecision) {
  const auto id = conflicting("so_nhan_khau", Value(5), Value(7));
  auto list = apiGet(server(), lan_, "/api/conflicts?unit=xa-01");
  ASSERT_EQ(list["conflicts"].size(), 1u) << list.dump();
  // Query values are percent-decoded; a unit that is not there lists nothing.
  EXPECT_EQ(apiGet(server(), lan_, "/api/conflicts?unit=xa%2D01&status=open")["conflicts"].size(), 1u);
  EXPECT_TRUE(apiGet(server(), lan_, "/api/conflicts?unit=xa-01-01")["conflicts"].empty());
  const auto c = list["conflicts"][0];
  EXPECT_EQ(c["record"], id);
  EXPECT_EQ(c["field"], "so_nhan_khau");
  EXPECT_EQ(c["status"], "open");
  // Both values, who wrote them, when they were captured and received, and what both had seen.
  std::set<std::string> users;
  std::set<std::int64_t> values;
  for (const auto& side : c["values"]) {
    users.insert(side["user"].get<std::string>());
    values.insert(side["value"].get<std::int64_t>());
    EXPECT_GT(side["captured_ms"].get<std::int64_t>(), 0);
    EXPECT_GT(side["received_ms"].get<std::int64_t>(), 0);
  }
  EXPECT_EQ(users, (std::set<std::string>{"an", "binh"}));
  EXPECT_EQ(values, (std::set<std::int64_t>{5, 7}));
  EXPECT_EQ(c["agreed"]["value"], "trước");
  // The merge kept one (the greater stamp); settling takes the other, whichever it is.
  const auto lost = c["lost"]["value"].get<std::int64_t>();
  EXPECT_NE(c["kept"]["value"].get<std::int64_t>(), lost);

  // Who may settle: a reconciler of the unit; a field worker or a reconciler elsewhere may not.
  const auto path = "/api/conflicts/" + c["id"].get<std::string>() + "/resolve";
  apiPost(server(), an_->token(), path, {{"take", "lost"}, {"reason", "x"}}, 403);
  apiPost(server(), other_, path, {{"take", "lost"}, {"reason", "x"}}, 404);
  EXPECT_TRUE(apiGet(server(), other_, "/api/conflicts")["conflicts"].empty());
  apiPost(server(), lan_, path, {{"take", "lost"}}, 400);  // a reason is required

  auto settled = apiPost(server(), lan_, path, {{"take", "lost"}, {"reason", "Đã đếm lại tại nhà: 5 người"}});
  EXPECT_EQ(settled["conflict"]["status"], "resolved");
  EXPECT_EQ(settled["conflict"]["resolved_by"], "lan");
  EXPECT_EQ(settled["conflict"]["resolution"]["value"], lost);
  apiPost(server(), lan_, path, {{"take", "kept"}, {"reason", "again"}}, 409);
  EXPECT_TRUE(apiGet(server(), lan_, "/api/conflicts")["conflicts"].empty()) << "no open conflict is left";

  // One more sync each: both devices hold the decision, and show the conflict closed.
  for (auto* device : {an_.get(), binh_.get()}) {
    device->syncOk(server().url());
    EXPECT_EQ(fieldOf(*device, id, "so_nhan_khau"), lost);
    auto status = device->store().status();
    ASSERT_OK(status);
    EXPECT_TRUE(status->conflicts.empty());
    ASSERT_EQ(status->resolved.size(), 1u);
    EXPECT_EQ(status->resolved[0].resolved_by, "lan");
    EXPECT_EQ(status->resolved[0].reason, "Đã đếm lại tại nhà: 5 người");
  }
  EXPECT_EQ(an_->exportText(), binh_->exportText());

  // The record's history: every version with who, which device, and when.
  auto history = apiGet(server(), lan_, "/api/history/household/" + id);
  ASSERT_EQ(history["history"].size(), 4u) << history.dump();
  EXPECT_EQ(history["history"][0]["user"], "an");
  EXPECT_EQ(history["history"][3]["user"], "lan");
  EXPECT_EQ(history["history"][3]["changed"]["so_nhan_khau"], lost);
  apiGet(server(), other_, "/api/history/household/" + id, 404);
}

TEST_P(Reconcile, TheAdminToolListsShowsAndSettlesWithANewValue) {
  const auto id = conflicting("chu_ho", Value("Lò Văn Pá"), Value("Lò Văn Pả"));
  const std::string http = "http://127.0.0.1:" + std::to_string(server().port());
  auto admin = [&](std::vector<std::string> args) {
    args.insert(args.begin(), {ADMIN_PATH, "--server", http, "--token", lan_});
    return testing::run(args);
  };
  auto listed = admin({"conflicts", "list", "--unit", "xa-01", "--json"});
  ASSERT_EQ(listed.exit_code, 0) << listed.err;
  auto line = json::parse(listed.out.substr(0, listed.out.find('\n')));
  for (auto key : {"id", "collection", "record", "field", "status", "values"}) EXPECT_TRUE(line.contains(key)) << key;
  EXPECT_EQ(std::count(listed.out.begin(), listed.out.end(), '\n'), 1) << "one object per line";
  const auto cid = line["id"].get<std::string>();
  auto shown = admin({"conflicts", "show", cid});
  ASSERT_EQ(shown.exit_code, 0) << shown.err;
  EXPECT_NE(shown.out.find("Lò Văn Pả"), std::string::npos) << shown.out;
  EXPECT_NE(admin({"conflicts", "resolve", cid, "--value", "not json", "--reason", "x"}).exit_code, 0);
  auto resolved = admin({"conflicts", "resolve", cid, "--value", "\"Lò Văn Pao\"", "--reason", "theo sổ hộ khẩu"});
  ASSERT_EQ(resolved.exit_code, 0) << resolved.err;
  an_->syncOk(server().url());
  EXPECT_EQ(fieldOf(*an_, id, "chu_ho"), "Lò Văn Pao");
  auto history = admin({"history", "household", id});
  ASSERT_EQ(history.exit_code, 0) << history.err;
  EXPECT_NE(history.out.find("lan"), std::string::npos) << history.out;
  EXPECT_EQ(trimmedLines(admin({"conflicts", "list", "--json"}).out), 0u);
}

TEST_P(Reconcile, ExportWritesCsvXlsxAndJsonLinesOfTheRecordsOneMayRead) {
  an_->put("household", "", {{"chu_ho", Value("Lò Văn Pá, \"Pá\"")}, {"so_nhan_khau", Value(6)}});
  an_->put("household", "", {{"chu_ho", Value("Hà Thị Mai")}, {"so_nhan_khau", Value(4)}, {"ngheo", Value(true)}});
  an_->syncOk(server().url());
  const std::string http = "http://127.0.0.1:" + std::to_string(server().port());
  auto admin = [&](const std::string& token, std::vector<std::string> args) {
    args.insert(args.begin(), {ADMIN_PATH, "--server", http, "--token", token});
    return testing::run(args);
  };
  auto csv = admin(lan_, {"export", "household", "--unit", "xa-01", "--format", "csv"});
  ASSERT_EQ(csv.exit_code, 0) << csv.err;
  EXPECT_EQ(csv.out.rfind("\xEF\xBB\xBF"
                          "Mã bản ghi / Record id,Đơn vị / Unit,chu_ho,ngheo,so_nhan_khau\r\n",
                          0),
            0u)
      << csv.out;
  EXPECT_NE(csv.out.find(",xa-01,\"Lò Văn Pá, \"\"Pá\"\"\",,6\r\n"), std::string::npos) << "quoted per RFC 4180";
  EXPECT_NE(csv.out.find(",xa-01,Hà Thị Mai,có / yes,4\r\n"), std::string::npos) << csv.out;

  auto jsonl = admin(lan_, {"export", "household", "--format", "jsonl"});
  ASSERT_EQ(jsonl.exit_code, 0) << jsonl.err;
  EXPECT_EQ(std::count(jsonl.out.begin(), jsonl.out.end(), '\n'), 2);
  EXPECT_TRUE(admin(other_, {"export", "household", "--format", "jsonl"}).out.empty()) << "another unit's reconciler";

  const auto xlsx = (dir / "ho.xlsx").string();
  EXPECT_NE(admin(lan_, {"export", "household", "--format", "xlsx"}).exit_code, 0) << "xlsx needs --out";
  auto wrote = admin(lan_, {"export", "household", "--format", "xlsx", "--out", xlsx});
  ASSERT_EQ(wrote.exit_code, 0) << wrote.err;
  // Read the workbook back: the strings (inline: the server writes exports in constant memory,
  // row after row, with no shared string table) and the numbers are in its cells.
  auto cells = testing::run({"/usr/bin/unzip", "-p", xlsx, "xl/worksheets/sheet1.xml"});
  ASSERT_EQ(cells.exit_code, 0) << cells.err;
  EXPECT_NE(cells.out.find("Hà Thị Mai"), std::string::npos);
  EXPECT_NE(cells.out.find("Mã bản ghi / Record id"), std::string::npos);
  EXPECT_NE(cells.out.find("<v>6</v>"), std::string::npos) << cells.out;
  EXPECT_NE(cells.out.find("<v>4</v>"), std::string::npos);
}

// The review state of `id` as `device` knows it (std::nullopt: no review, i.e. received).
std::optional<sync::Review> reviewOn(TestDevice& device, const std::string& id) {
  auto status = device.store().status();
  EXPECT_OK(status);
  if (!status.isOk()) return std::nullopt;
  for (const auto& r : status->reviews) {
    if (r.reviewed.id == id) return r;
  }
  return std::nullopt;
}

TEST_P(Reconcile, ANeedsEditsReviewReachesTheAuthorAndTheAuthorsEditReopensIt) {
  const auto id = an_->put("household", "", {{"chu_ho", Value("Lò Văn Pá")}, {"so_nhan_khau", Value(60)}});
  an_->syncOk(server().url());
  const std::string path = "/api/reviews/household/" + id;
  apiPost(server(), an_->token(), path, {{"state", "approved"}}, 403);  // a field worker does not review
  apiPost(server(), lan_, path, {{"state", "needs_edits"}}, 400);       // say what is wrong
  apiPost(server(), lan_, path, {{"state", "needs_edits"}, {"comment", "60 nhân khẩu? Kiểm tra lại"}});

  an_->syncOk(server().url());
  auto review = reviewOn(*an_, id);
  ASSERT_TRUE(review.has_value()) << "the review reached the author's device";
  EXPECT_EQ(review->state, sync::ReviewState::kNeedsEdits);
  EXPECT_EQ(review->comment, "60 nhân khẩu? Kiểm tra lại");
  EXPECT_EQ(review->by, "lan");

  // The author fixes the record: the review reopens (received), on the server and on the device.
  an_->put("household", id, {{"so_nhan_khau", Value(6)}});
  an_->syncOk(server().url());
  auto listed = apiGet(server(), lan_, "/api/reviews?unit=xa-01");
  ASSERT_EQ(listed["reviews"].size(), 1u) << listed.dump();
  EXPECT_EQ(listed["reviews"][0]["state"], "received");
  EXPECT_FALSE(reviewOn(*an_, id).has_value()) << "nothing left for the author to act on";

  // Approved, then edited again: reopened again. A device cannot write reviews itself.
  apiPost(server(), lan_, path, {{"state", "approved"}});
  EXPECT_EQ(apiGet(server(), lan_, "/api/reviews?state=approved")["reviews"].size(), 1u);
  an_->syncOk(server().url());
  an_->put("household", id, {{"so_nhan_khau", Value(7)}});
  an_->syncOk(server().url());
  EXPECT_EQ(apiGet(server(), lan_, "/api/reviews")["reviews"][0]["state"], "received");
  an_->put("_reviews", "household/" + id, {{"state", Value("approved")}});
  auto forged = an_->sync(server().url());
  ASSERT_OK(forged.status);
  EXPECT_EQ(forged.rejected, 1u);
  EXPECT_EQ(apiGet(server(), lan_, "/api/reviews")["reviews"][0]["state"], "received");
}

INSTANTIATE_TEST_SUITE_P(Stores, Reconcile, testing::kEveryServerSetup, testing::backendName);

}  // namespace
}  // namespace communesync
