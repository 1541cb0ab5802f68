// What a provincial IT office runs the server with: /metrics scraped while devices push, and the
// client's address behind a trusted reverse proxy (the login throttle, the audit log, the admin
// API's loopback check). The nginx test and the backup test are in proxy_test.cpp and backup_test.cpp.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <regex>
#include <sstream>
#include <thread>

#include "assert_ok.hpp"
#include "server_harness.hpp"
#include "temp_dir.hpp"

namespace communesync {
namespace {

using sync::Value;
using testing::ServerHarness;
using testing::TestDevice;
namespace http = boost::beast::http;

// The value of one sample ("name" or "name{labels}" exactly as exposed); -1 when absent.
double sample(const std::string& text, const std::string& series) {
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.size() > series.size() && line.compare(0, series.size(), series) == 0 && line[series.size()] == ' ') {
      return std::stod(line.substr(series.size() + 1));
    }
  }
  return -1;
}

std::pair<unsigned, std::string> scrape(std::uint16_t port, const std::string& token,
                                        const std::vector<std::pair<std::string, std::string>>& headers = {}) {
  http::request<http::string_body> req{http::verb::get, "/metrics", 11};
  if (!token.empty()) req.set(http::field::authorization, "Bearer " + token);
  for (const auto& [name, value] : headers) req.set(name, value);
  auto res = testing::httpExchange(port, std::move(req));
  return {res.result_int(), res.body()};
}

TEST(Metrics, CountersMoveByWhatDevicesPushAndPullWhileScraped) {
  testing::TempDir dir;
  ServerHarness server(dir / "server");
  TestDevice a(dir / "a", server.addUser("an", {"xa-01"}));
  TestDevice b(dir / "b", server.addUser("binh", {"xa-01"}));

  auto [denied, why] = scrape(server.port(), "");
  EXPECT_EQ(denied, 401u) << "no token, and no address allowed in metrics_from";
  auto [status, before] = scrape(server.port(), server.adminToken());
  ASSERT_EQ(status, 200u) << before;

  for (int i = 0; i < 7; ++i) a.put("household", "", {{"members", Value(i)}});
  a.put("household", "", {{"members", Value(99)}}, "xa-02");  // not an's unit: refused
  // Scraped again and again while the push runs: every answer whole, no counter going back.
  std::atomic<bool> done{false};
  std::vector<double> seen;
  std::thread scraper([&] {
    while (!done.load()) {
      auto [code, text] = scrape(server.port(), server.adminToken());
      if (code != 200) ADD_FAILURE() << "scrape answered " << code;
      seen.push_back(sample(text, R"(communesync_changes_total{outcome="accepted",reason=""})"));
    }
  });
  (void)a.sync(server.url());
  done = true;
  scraper.join();
  EXPECT_TRUE(std::is_sorted(seen.begin(), seen.end()));

  auto [status2, after_push] = scrape(server.port(), server.adminToken());
  ASSERT_EQ(status2, 200u);
  auto moved = [&](const std::string& before_text, const std::string& after_text, const std::string& series) {
    return sample(after_text, series) - std::max(0.0, sample(before_text, series));
  };
  EXPECT_EQ(moved(before, after_push, R"(communesync_changes_total{outcome="accepted",reason=""})"), 7);
  EXPECT_EQ(moved(before, after_push, R"(communesync_changes_total{outcome="rejected",reason="forbidden"})"), 1);
  EXPECT_GE(moved(before, after_push, "communesync_pushes_total"), 1);
  EXPECT_EQ(moved(before, after_push, "communesync_sessions_total"), 1);
  EXPECT_GE(moved(before, after_push, "communesync_group_commit_seconds_count"), 1);
  EXPECT_GE(moved(before, after_push, "communesync_group_commit_changes_sum"), 8);
  EXPECT_EQ(sample(after_push, R"(communesync_group_commit_seconds_bucket{le="+Inf"})"),
            sample(after_push, "communesync_group_commit_seconds_count"));
  EXPECT_GT(sample(after_push, "process_resident_memory_bytes"), 1e6);
  EXPECT_GE(sample(after_push, "communesync_rocksdb_wal_bytes"), 0);
  EXPECT_GE(sample(after_push, "communesync_rocksdb_pending_compaction_bytes"), 0);
  EXPECT_EQ(sample(after_push, "communesync_rocksdb_block_cache_capacity_bytes"), 32.0 * 1024 * 1024)
      << "the default cache_mb";
  EXPECT_LE(sample(after_push, "communesync_rocksdb_block_cache_usage_bytes"), 32.0 * 1024 * 1024);

  b.syncOk(server.url());
  auto [status3, after_pull] = scrape(server.port(), server.adminToken());
  ASSERT_EQ(status3, 200u);
  EXPECT_EQ(moved(after_push, after_pull, "communesync_pull_records_total"), 7) << "binh pulls an's seven";
  EXPECT_GT(moved(after_push, after_pull, "communesync_pull_bytes_total"), 7 * 10);

  // The search index follows the commits by itself (the writer's second thread, once pushes pause):
  // no search is needed for its lag to come back to nothing.
  double lag = -1;
  for (int tries = 0; tries < 200 && lag != 0; ++tries) {
    if (tries > 0) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    auto [code, text] = scrape(server.port(), server.adminToken());
    if (code == 200) lag = sample(text, "communesync_search_index_lag_changes");
  }
  EXPECT_EQ(lag, 0) << "the search index caught up with the seven records";

  // A wrong password counts as a failed login.
  auto [login_status, login_body] =
      testing::httpCall(server.port(), http::verb::post, "", "/login",
                        R"({"user":"an","password":"wrong","device":"00112233445566778899aabbccddeeff"})");
  EXPECT_EQ(login_status, 401u) << login_body;
  auto [status4, after_login] = scrape(server.port(), server.adminToken());
  EXPECT_EQ(moved(after_pull, after_login, "communesync_logins_failed_total"), 1);
  EXPECT_EQ(moved(after_pull, after_login, R"(communesync_http_requests_total{route="/login",code="401"})"), 1);
  EXPECT_GE(moved(after_pull, after_login, R"(communesync_http_requests_total{route="/metrics",code="200"})"), 1);
  EXPECT_GE(moved(after_pull, after_login, "communesync_http_request_seconds_count"), 2);
}

// The sample Grafana dashboard draws only series the server exposes (a renamed metric would leave
// an empty panel nobody notices until the day it is needed).
TEST(Metrics, EverySeriesTheGrafanaDashboardQueriesIsExposed) {
  std::ifstream in(GRAFANA_DASHBOARD);
  const std::string dashboard((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  ASSERT_FALSE(dashboard.empty()) << GRAFANA_DASHBOARD;
  testing::TempDir dir;
  ServerHarness server(dir / "server");
  (void)scrape(server.port(), server.adminToken());  // so that an HTTP request has been counted
  auto [status, text] = scrape(server.port(), server.adminToken());
  ASSERT_EQ(status, 200u);
  const std::regex series(R"((communesync|process)_[a-z_]+)");
  std::size_t checked = 0;
  for (std::sregex_iterator it(dashboard.begin(), dashboard.end(), series), end; it != end; ++it) {
    const auto name = it->str();
    EXPECT_NE(text.find("\n" + name), std::string::npos)
        << "the dashboard queries " << name << ", which /metrics lacks";
    ++checked;
  }
  EXPECT_GT(checked, 15u);
}

TEST(Metrics, AnAddressInMetricsFromScrapesWithoutAToken) {
  testing::TempDir dir;
  ServerHarness server(dir / "server", 0, [](server::Config& c) { c.metrics_from = {"127.0.0.0/8"}; });
  auto [status, text] = scrape(server.port(), "");
  EXPECT_EQ(status, 200u);
  EXPECT_GE(sample(text, "communesync_sessions_open"), 0);
}

// Behind a trusted proxy the client's address comes from X-Forwarded-For; from anyone else the
// header is ignored. Here the "proxy" is the test itself on 127.0.0.1.
TEST(TrustedProxies, TheForwardedClientIsWhoTheAdminCheckTheThrottleAndTheAuditSee) {
  testing::TempDir dir;
  ServerHarness server(dir / "server", 0, [](server::Config& c) { c.trusted_proxies = {"127.0.0.1"}; });
  auto get = [&](const std::string& path, const std::string& forwarded) {
    http::request<http::string_body> req{http::verb::get, path, 11};
    req.set(http::field::authorization, "Bearer " + server.adminToken());
    if (!forwarded.empty()) req.set("X-Forwarded-For", forwarded);
    auto res = testing::httpExchange(server.port(), std::move(req));
    return std::make_pair(res.result_int(), res.body());
  };
  EXPECT_EQ(get("/admin/users", "").first, 200u) << "the proxy's own request is loopback";
  EXPECT_EQ(get("/admin/users", "203.0.113.9").first, 403u)
      << "a request the proxy forwards from another machine is not loopback";
  EXPECT_EQ(get("/admin/users", "203.0.113.9, 127.0.0.1").first, 403u) << "proxies in the chain are skipped";
  EXPECT_EQ(get("/admin/users", "127.0.0.1, 203.0.113.9").first, 403u)
      << "what the client wrote itself (left of the last untrusted hop) is not believed";

  // Failed logins from one forwarded client throttle that client, not the proxy's other clients.
  server.addUser(nlohmann::json{{"name", "an"}, {"scopes", {"xa-01"}}, {"password", "mật khẩu đúng 2025"}});
  auto login = [&](const std::string& forwarded, const std::string& password) {
    http::request<http::string_body> req{http::verb::post, "/login", 11};
    req.set("X-Forwarded-For", forwarded);
    req.body() =
        nlohmann::json{{"user", "an"}, {"password", password}, {"device", "00112233445566778899aabbccddeeff"}}.dump();
    return testing::httpExchange(server.port(), std::move(req)).result_int();
  };
  unsigned last = 0;
  for (int i = 0; i < 30 && last != 429; ++i) last = login("198.51.100.7", "sai");
  EXPECT_EQ(last, 429u) << "the guessing client is throttled";
  EXPECT_NE(login("198.51.100.8", "sai"), 429u) << "another client behind the same proxy is not";
  auto audit = get("/admin/audit", "");
  EXPECT_NE(audit.second.find("198.51.100.7"), std::string::npos) << "the audit log names the client";
}

TEST(TrustedProxies, FromAnUntrustedPeerTheHeaderIsIgnored) {
  testing::TempDir dir;
  ServerHarness server(dir / "server", 0, [](server::Config& c) { c.trusted_proxies = {"10.0.0.0/8"}; });
  http::request<http::string_body> req{http::verb::get, "/admin/users", 11};
  req.set(http::field::authorization, "Bearer " + server.adminToken());
  req.set("X-Forwarded-For", "203.0.113.9");
  EXPECT_EQ(testing::httpExchange(server.port(), std::move(req)).result_int(), 200u)
      << "127.0.0.1 is no trusted proxy: its header is a client's claim, and the peer is loopback";
}

}  // namespace
}  // namespace communesync
