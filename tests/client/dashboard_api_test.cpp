// What the web page reads beyond the reconciliation API: who is asking, the year's overview, records
// searched without accents, devices as their last contact left them, photos, downloads, and the
// page's own files with their security headers. Over real HTTP to a server on 127.0.0.1.
#include <gtest/gtest.h>

#include <fstream>

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

class DashboardApi : public ::testing::Test {
 protected:
  void SetUp() override {
    an_ = std::make_unique<TestDevice>(dir_ / "an", server_.addUser("an", {"xa-01"}));
    other_ = std::make_unique<TestDevice>(dir_ / "minh", server_.addUser("minh", {"xa-02"}));
    lan_ = server_.addUser(json{{"name", "lan"}, {"grants", {"reconciler:xa-01"}}});
  }

  json get(const std::string& token, const std::string& path, unsigned expect = 200) {
    auto [status, body] = testing::httpCall(server_.port(), http::verb::get, token, path, "");
    EXPECT_EQ(status, expect) << path << ": " << body;
    return json::parse(body, nullptr, false);
  }

  http::response<http::string_body> raw(const std::string& path, const std::string& token = {},
                                        std::vector<std::pair<http::field, std::string>> headers = {},
                                        http::verb verb = http::verb::get, const std::string& body = {}) {
    http::request<http::string_body> req{verb, path, 11};
    if (!token.empty()) req.set(http::field::authorization, "Bearer " + token);
    for (const auto& [f, v] : headers) req.set(f, v);
    req.body() = body;
    return testing::httpExchange(server_.port(), std::move(req));
  }

  testing::TempDir dir_;
  ServerHarness server_{dir_ / "server", 0, [](server::Config& c) { c.web_dir = WEB_DIR; }};
  std::unique_ptr<TestDevice> an_, other_;
  std::string lan_;
};

TEST_F(DashboardApi, MeSaysWhoAsksAndShowsOnlyTheirUnits) {
  auto me = get(lan_, "/api/me");
  EXPECT_EQ(me["user"], "lan");
  EXPECT_EQ(me["reconciler"], true);
  EXPECT_EQ(me["admin"], false);
  ASSERT_EQ(me["units"].size(), 1u);
  EXPECT_EQ(me["units"][0]["code"], "xa-01");
  EXPECT_EQ(me["device_silent_days"], 7);
  get("", "/api/me", 401);
}

TEST_F(DashboardApi, OverviewCountsTheYearsRecordsConflictsAndReviewsPerUnit) {
  const auto id = an_->put("household", "", {{"chu_ho", Value("Lò Văn Pá")}}, "xa-01");
  an_->put("household", "", {{"chu_ho", Value("Hồ Thị Hoa")}}, "xa-01");
  other_->put("household", "", {{"chu_ho", Value("Giàng A Súa")}}, "xa-02");
  an_->syncOk(server_.url());
  other_->syncOk(server_.url());
  auto [status, body] = testing::httpCall(server_.port(), http::verb::post, lan_, "/api/reviews/household/" + id,
                                          json{{"state", "needs_edits"}, {"comment", "Thiếu thôn"}}.dump());
  ASSERT_EQ(status, 200u) << body;
  const auto year = std::chrono::year_month_day(
                        std::chrono::floor<std::chrono::days>(std::chrono::system_clock::now() + std::chrono::hours(7)))
                        .year();
  auto overview = get(lan_, "/api/overview?year=" + std::to_string(static_cast<int>(year)));
  ASSERT_TRUE(overview["units"].contains("xa-01")) << overview.dump();
  EXPECT_FALSE(overview["units"].contains("xa-02")) << "only units the reader may read";
  const auto& x1 = overview["units"]["xa-01"];
  EXPECT_EQ(x1["records"]["household"], 2);
  EXPECT_EQ(x1["reviews"]["needs_edits"], 1);
  EXPECT_EQ(x1["reviews"]["received"], 1);
  auto last_year = get(lan_, "/api/overview?year=" + std::to_string(static_cast<int>(year) - 1));
  EXPECT_TRUE(last_year["units"].empty()) << "records are counted in the year they were captured";
  get(lan_, "/api/overview", 400);
}

TEST_F(DashboardApi, RecordsAreSearchedWithoutAccentsPagedAndFilteredByReview) {
  for (const char* name : {"Hồ Văn Mừng", "Lò Văn Pá", "Hồ Thị Hoa"}) {
    an_->put("household", "", {{"chu_ho", Value(name)}, {"thon", Value("Thôn 2")}}, "xa-01");
  }
  other_->put("household", "", {{"chu_ho", Value("Hồ Văn Mừng")}}, "xa-02");
  an_->syncOk(server_.url());
  other_->syncOk(server_.url());
  auto found = get(lan_, "/api/records/household?q=ho%20van%20mung");
  ASSERT_EQ(found["total"], 1) << "the namesake in xa-02 is not the reader's: " << found.dump();
  EXPECT_EQ(found["records"][0]["fields"]["chu_ho"], "Hồ Văn Mừng");
  EXPECT_EQ(found["records"][0]["review"], "received");
  EXPECT_EQ(get(lan_, "/api/records/household?q=THON%202")["total"], 3) << "case and accents ignored";
  auto page = get(lan_, "/api/records/household?limit=2&offset=2");
  EXPECT_EQ(page["total"], 3);
  EXPECT_EQ(page["records"].size(), 1u);
  const std::string id = found["records"][0]["id"];
  testing::httpCall(server_.port(), http::verb::post, lan_, "/api/reviews/household/" + id,
                    json{{"state", "approved"}}.dump());
  auto approved = get(lan_, "/api/records/household?review=approved");
  ASSERT_EQ(approved["total"], 1);
  EXPECT_EQ(approved["records"][0]["id"], id);
  EXPECT_EQ(get(lan_, "/api/records/household?review=received")["total"], 2);
  get(lan_, "/api/records/household?review=maybe", 400);
  get(lan_, "/api/records/_reviews", 404);

  an_->put("household", "", {{"chu_ho", Value("Vàng A Dơ")}}, "xa-01");
  an_->syncOk(server_.url());
  auto newest = get(lan_, "/api/records/household?limit=1");
  EXPECT_EQ(newest["total"], 4);
  ASSERT_EQ(newest["records"].size(), 1u);
  EXPECT_EQ(newest["records"][0]["fields"]["chu_ho"], "Vàng A Dơ") << "what arrived last comes first";
  EXPECT_EQ(newest["partial"], false);
}

TEST_F(DashboardApi, DevicesShowVersionClockOffsetAndHowLongChangesWaited) {
  const auto old = testing::wallNow() - std::chrono::hours(3);
  ASSERT_OK(an_->store().put("household", "", "xa-01", {{"chu_ho", Value("Lò Văn Pá")}}, old));
  an_->syncOk(server_.url());
  other_->syncOk(server_.url());
  auto list = get(lan_, "/api/devices");
  ASSERT_EQ(list["devices"].size(), 1u) << "lan reads xa-01: an's device, not minh's: " << list.dump();
  const auto& d = list["devices"][0];
  EXPECT_EQ(d["user"], "an");
  EXPECT_FALSE(d["client_version"].get<std::string>().empty());
  EXPECT_LT(std::abs(d["clock_offset_ms"].get<std::int64_t>()), 60'000) << "this machine's clock is the server's";
  EXPECT_GE(d["pending_age_ms"].get<std::int64_t>(), 3 * 3600 * 1000 - 60'000) << "the change waited three hours";
  EXPECT_EQ(d["silent"], false);
  an_->syncOk(server_.url());  // nothing to push: nothing waited
  EXPECT_EQ(get(lan_, "/api/devices")["devices"][0]["pending_age_ms"], 0);
  EXPECT_EQ(get(server_.adminToken(), "/api/devices")["devices"].size(), 2u) << "the admin sees every device";
}

TEST_F(DashboardApi, PhotosAreServedToThoseWhoMayReadTheirRecord) {
  const auto id = an_->put("household", "", {{"chu_ho", Value("Lò Văn Pá")}}, "xa-01");
  const auto photo = dir_ / "nha.jpg";
  std::string jpeg = "\xFF\xD8\xFF\xE0" + std::string(5000, 'x');
  std::ofstream(photo, std::ios::binary) << jpeg;
  auto hash = an_->store().attach({"household", id}, "anh_nha", photo, testing::wallNow());
  ASSERT_OK(hash);
  an_->syncOk(server_.url());
  auto res = raw("/api/files/" + *hash, lan_);
  ASSERT_EQ(res.result_int(), 200u) << res.body();
  EXPECT_EQ(res.body(), jpeg);
  EXPECT_EQ(res[http::field::content_type], "image/jpeg");
  auto other = server_.addUser(json{{"name", "tuan"}, {"grants", {"reconciler:xa-02"}}});
  EXPECT_EQ(raw("/api/files/" + *hash, other).result_int(), 403u);
  EXPECT_EQ(raw("/api/files/nothex", lan_).result_int(), 404u);
}

TEST_F(DashboardApi, ExportsAndReportsDownloadAsCsvAndXlsx) {
  an_->put("household", "", {{"chu_ho", Value("Lò Văn Pá")}}, "xa-01");
  an_->syncOk(server_.url());
  auto csv = raw("/api/export/household?format=csv", lan_);
  ASSERT_EQ(csv.result_int(), 200u) << csv.body();
  EXPECT_EQ(csv.body().rfind("\xEF\xBB\xBF", 0), 0u) << "a BOM for spreadsheet programs";
  EXPECT_NE(csv.body().find("Lò Văn Pá"), std::string::npos);
  EXPECT_NE(std::string(csv[http::field::content_disposition]).find("household.csv"), std::string::npos);
  auto xlsx = raw("/api/reports/form2?year=2025&format=xlsx", lan_);
  ASSERT_EQ(xlsx.result_int(), 200u) << xlsx.body();
  EXPECT_EQ(xlsx.body().substr(0, 2), "PK") << "a workbook is a zip";
  EXPECT_EQ(raw("/api/reports/form2?year=2025&format=pdf", lan_).result_int(), 400u);
}

TEST_F(DashboardApi, ThePageIsServedOnTheSamePortWithItsSecurityHeaders) {
  auto index = raw("/");
  ASSERT_EQ(index.result_int(), 200u);
  EXPECT_NE(index.body().find("<script type=\"module\" src=\"app.js\">"), std::string::npos);
  EXPECT_NE(std::string(index["Content-Security-Policy"]).find("script-src 'self'"), std::string::npos);
  EXPECT_EQ(index[http::field::content_type], "text/html; charset=utf-8");
  auto script = raw("/app.js");
  EXPECT_EQ(script.result_int(), 200u);
  EXPECT_EQ(script[http::field::content_type], "text/javascript; charset=utf-8");
  const std::string etag(index[http::field::etag]);
  EXPECT_EQ(raw("/", {}, {{http::field::if_none_match, etag}}).result_int(), 304u) << "a phone revalidates cheaply";
  EXPECT_EQ(raw("/../CMakeLists.txt").result_int(), 404u);
  EXPECT_EQ(raw("/%2e%2e/app.js").result_int(), 404u);
  EXPECT_EQ(raw("/nothing.js").result_int(), 404u);
  // The field app's files at /app/, allowed to compile its WebAssembly sync core.
  auto core = raw("/app/sync_core.js");
  EXPECT_EQ(core.result_int(), 200u);
  EXPECT_NE(std::string(core["Content-Security-Policy"]).find("'wasm-unsafe-eval'"), std::string::npos);
  EXPECT_EQ(std::string(index["Content-Security-Policy"]).find("'wasm-unsafe-eval'"), std::string::npos)
      << "the dashboard needs no WebAssembly";
  EXPECT_EQ(raw("/app/../app.js").result_int(), 404u);
  // Compressed for a browser that accepts gzip (2G): a gzip member, smaller, and said so.
  auto plain = raw("/app/app.js");
  auto packed = raw("/app/app.js", {}, {{http::field::accept_encoding, "gzip, deflate, br"}});
  EXPECT_EQ(plain[http::field::content_encoding], "");
  EXPECT_EQ(packed[http::field::content_encoding], "gzip");
  EXPECT_EQ(packed[http::field::vary], "Accept-Encoding");
  ASSERT_GT(packed.body().size(), 2u);
  EXPECT_EQ(packed.body().substr(0, 2), "\x1f\x8b") << "a gzip member";
  EXPECT_LT(packed.body().size(), plain.body().size() / 2);
  EXPECT_NE(packed[http::field::etag], plain[http::field::etag]) << "two representations, two tags";
  const std::string packed_etag(packed[http::field::etag]);
  EXPECT_EQ(raw("/app/app.js", {}, {{http::field::accept_encoding, "gzip"}, {http::field::if_none_match, packed_etag}})
                .result_int(),
            304u)
      << "a phone revalidates its compressed copy cheaply";
}

TEST_F(DashboardApi, TheServersOwnPageMayPostButOtherSitesMayNot) {
  const auto body = json{{"user", "lan"}, {"password", "x"}, {"device", std::string(32, 'a')}}.dump();
  auto own = raw("/login", {},
                 {{http::field::origin, "http://127.0.0.1:" + std::to_string(server_.port())},
                  {http::field::host, "127.0.0.1:" + std::to_string(server_.port())}},
                 http::verb::post, body);
  EXPECT_NE(own.result_int(), 403u) << "its own origin passes (the login then fails on the password): " << own.body();
  auto foreign = raw("/login", {},
                     {{http::field::origin, "http://evil.example"},
                      {http::field::host, "127.0.0.1:" + std::to_string(server_.port())}},
                     http::verb::post, body);
  EXPECT_EQ(foreign.result_int(), 403u);
}

}  // namespace
}  // namespace communesync
