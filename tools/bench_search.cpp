#include "bench_search.hpp"

#include <chrono>
#include <iostream>
#include <random>

#include "communesync/client/http_client.hpp"
#include "communesync/client/local_store.hpp"
#include "communesync/client/replicator.hpp"
#include "communesync/client/websocket_transport.hpp"
#include "survey_records.hpp"

namespace communesync::tools {
namespace {

using Clock = std::chrono::steady_clock;
constexpr int kQueries = 10;

// The median time of `kQueries` GETs of `path`; the last answer's "total" in `total`. Negative on failure.
double medianGetMs(const ServerChild& server, const std::string& token, const std::string& path, int& total) {
  std::vector<double> ms;
  for (int i = 0; i < kQueries; ++i) {
    const auto start = Clock::now();
    auto reply = client::httpRequest(server.url(), "GET", path, token, "", "");
    if (!reply || reply->status != 200) {
      std::cerr << path << ": " << (reply ? reply->body : reply.status().toString()) << "\n";
      return -1;
    }
    ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - start).count());
    total = nlohmann::json::parse(reply->body).value("total", -1);
  }
  return percentile(ms, 50);
}

}  // namespace

bool benchRecordsSearch(const ServerChild& server, const std::filesystem::path& work, std::size_t records,
                        nlohmann::json& out) {
  auto writer = client::LocalStore::open(work / "search-writer");
  if (!writer) {
    std::cerr << writer.status().toString() << "\n";
    return false;
  }
  std::mt19937_64 rng(1);
  for (std::size_t i = 0; i < records; ++i) {
    const auto now =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch());
    if (auto id = (*writer)->put("household", "", "xa-01", surveyFields(rng), now); !id) {
      std::cerr << id.status().toString() << "\n";
      return false;
    }
  }
  {
    client::WebSocketTransport transport(server.url(), addUser(server, "writer"));
    if (auto report = client::syncOnce(**writer, transport); !report.status) {
      std::cerr << "push failed: " << report.status.toString() << "\n";
      return false;
    }
  }
  auto lan = httpPost(server, "/admin/users", server.admin_token,
                      nlohmann::json{{"name", "lan"}, {"grants", {"reconciler:xa-01"}}}.dump());
  if (!lan || lan->first / 100 != 2) {
    std::cerr << "cannot add the reconciler: " << (lan ? lan->second : "no answer") << "\n";
    return false;
  }
  const std::string token = nlohmann::json::parse(lan->second).value("token", "");

  out["server_rss_mb_before"] = rssMb(server.pid);
  resetPeakRss(server.pid);
  int newest_total = 0;
  int found_total = 0;
  const double newest_ms = medianGetMs(server, token, "/api/records/household?limit=50", newest_total);
  const double search_ms = medianGetMs(server, token, "/api/records/household?q=giang%20a%20dinh", found_total);
  if (newest_ms < 0 || search_ms < 0) return false;
  out["server_peak_rss_mb_answering"] = peakRssMb(server.pid);
  out["newest_page_p50_ms"] = newest_ms;
  out["search_p50_ms"] = search_ms;
  out["records_listed"] = newest_total;
  out["records_found"] = found_total;
  return static_cast<std::size_t>(newest_total) == records;
}

}  // namespace communesync::tools
