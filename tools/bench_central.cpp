#include "bench_central.hpp"

#include <sys/types.h>

#include <chrono>
#include <cstdlib>
#include <iostream>
#include <random>
#include <thread>

#include "bench_replay.hpp"
#include "communesync/client/http_client.hpp"
#include "communesync/storage/store.hpp"
#include "survey_records.hpp"

namespace communesync::tools {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

constexpr std::size_t kCommunes = 200;
constexpr std::size_t kConnections = 4;  // field users, each with a quarter of the communes
constexpr int kQueries = 10;
constexpr std::size_t kPushCompared = 40'000;  // records pushed with and without the views, per run
constexpr int kPushRuns = 3;

std::string commune(std::size_t k) {
  char name[16];
  std::snprintf(name, sizeof name, "xa-%03zu", k);
  return name;
}

std::int64_t nowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// The forms a province's store holds, in their share: mostly households.
const char* collectionFor(std::size_t i) {
  const auto k = i % 100;
  if (k < 85) return "household_survey";
  if (k < 93) return "needs_proposal";
  if (k < 97) return "twinning_plan";
  return "support_result";
}

sync::DeviceId deviceFor(std::size_t connection, std::uint64_t salt) {
  sync::DeviceId d;
  d.bytes[0] = 0xce;
  d.bytes[1] = static_cast<std::uint8_t>(salt);
  d.bytes[2] = static_cast<std::uint8_t>(salt >> 8);
  d.bytes[15] = static_cast<std::uint8_t>(connection);
  return d;
}

// Records [from, to) of connection `c`: record i is in commune c + kConnections * (i % (kCommunes / kConnections)).
std::vector<sync::Change> makeChanges(std::size_t c, std::size_t from, std::size_t to, const sync::DeviceId& device,
                                      const std::string& prefix) {
  std::mt19937_64 rng(c * 1'000'003 + from);
  std::vector<sync::Change> out;
  out.reserve(to - from);
  const auto now = nowMs();
  for (std::size_t i = from; i < to; ++i) {
    sync::Change change;
    change.id = {device, i + 1};
    change.key = {collectionFor(i), prefix + std::to_string(c) + "-" + std::to_string(i)};
    change.scope = commune(c + kConnections * (i % (kCommunes / kConnections)));
    change.capture_time_ms = now;
    const sync::Stamp stamp{now, 0, device};
    for (auto& [name, value] : surveyFields(rng)) change.assignments.push_back({name, std::move(value), stamp, {}});
    out.push_back(std::move(change));
  }
  return out;
}

// An edit of records [0, n) of connection `c` (made by makeChanges with `prefix`): two fields, each
// having seen the stamp `seen` its last edit left, so nothing is concurrent.
std::vector<sync::Change> editChanges(std::size_t c, std::size_t n, const sync::DeviceId& device,
                                      const std::string& prefix, std::int64_t wall_ms, const sync::Stamp& seen,
                                      std::int64_t value) {
  std::vector<sync::Change> out;
  out.reserve(n);
  const sync::Stamp stamp{wall_ms, 0, device};
  for (std::size_t i = 0; i < n; ++i) {
    sync::Change change;
    change.id = {device, i + 1};
    change.key = {collectionFor(i), prefix + std::to_string(c) + "-" + std::to_string(i)};
    change.scope = commune(c + kConnections * (i % (kCommunes / kConnections)));
    change.capture_time_ms = wall_ms;
    change.assignments.push_back({"so_nhan_khau", sync::Value(value), stamp, seen});
    change.assignments.push_back({"thu_nhap_vnd", sync::Value(value * 1'000'000), stamp, seen});
    out.push_back(std::move(change));
  }
  return out;
}

struct Province {
  std::vector<std::string> field_tokens;  // one per connection
  std::string reader_token;               // a reconciler of every commune
};

std::optional<Province> addPeople(const ServerChild& server) {
  Province p;
  for (std::size_t c = 0; c < kConnections; ++c) {
    std::vector<std::string> scopes;
    for (std::size_t k = c; k < kCommunes; k += kConnections) scopes.push_back(commune(k));
    p.field_tokens.push_back(addUser(server, "field" + std::to_string(c), scopes));
    if (p.field_tokens.back().empty()) return std::nullopt;
  }
  nlohmann::json grants = nlohmann::json::array();
  for (std::size_t k = 0; k < kCommunes; ++k) grants.push_back("reconciler:" + commune(k));
  auto reader =
      httpPost(server, "/admin/users", server.admin_token, nlohmann::json{{"name", "tinh"}, {"grants", grants}}.dump());
  if (!reader || reader->first / 100 != 2) return std::nullopt;
  p.reader_token = nlohmann::json::parse(reader->second).value("token", "");
  return p;
}

// Pushes records [from, to) of every connection, all connections at once, a slice at a time (the
// changes of a million records would not fit in memory at once); records/s in `out`.
bool fill(const ServerChild& server, const Province& people, std::size_t from, std::size_t to,
          const std::string& prefix, std::uint64_t salt, nlohmann::json& out) {
  constexpr std::size_t kSlice = 25'000;  // records per connection held at once
  double seconds = 0;
  std::size_t pushed = 0;
  for (std::size_t at = from; at < to; at += kSlice) {
    const auto end = std::min(to, at + kSlice);
    std::vector<ReplayLoad> loads;
    for (std::size_t c = 0; c < kConnections; ++c) {
      const auto device = deviceFor(c, salt);
      auto load = prepareLoad(server, people.field_tokens[c], device, makeChanges(c, at, end, device, prefix));
      if (!load) return false;
      loads.push_back(std::move(*load));
    }
    nlohmann::json slice;
    if (!replayLoads(server, loads, slice)) return false;
    const auto n = slice.value("records", std::size_t{0});
    pushed += n;
    seconds += static_cast<double>(n) / slice.value("records_per_s", 1.0);
  }
  out["records"] = pushed;
  out["records_per_s"] = static_cast<double>(pushed) / seconds;
  return true;
}

// GETs `path` kQueries times: the median in ms, or -1 with the server's reason in `error`.
double medianGetMs(const ServerChild& server, const std::string& token, const std::string& path, std::string& error,
                   int queries = kQueries) {
  std::vector<double> ms;
  for (int i = 0; i < queries; ++i) {
    const auto start = Clock::now();
    auto reply = client::httpRequest(server.url(), "GET", path, token, "", "");
    if (!reply || reply->status != 200) {
      error = reply ? std::to_string(reply->status) + " " + reply->body.substr(0, 300) : reply.status().toString();
      return -1;
    }
    ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - start).count());
  }
  return percentile(ms, 50);
}

int thisYear() {
  return static_cast<int>(std::chrono::year_month_day(std::chrono::floor<std::chrono::days>(
                                                          std::chrono::system_clock::now() + std::chrono::hours(7)))
                              .year());
}

// Waits until the search index holds every change (the server's
// communesync_search_index_lag_changes at 0: it follows the writer at a lower priority, so a bulk
// fill leaves it behind) and says how long that took: what staff would wait after a bulk import.
void waitForSearchIndex(const ServerChild& server, nlohmann::json& out, const std::string& suffix) {
  const auto start = Clock::now();
  const std::string series = "\ncommunesync_search_index_lag_changes ";
  double lag = -1;
  for (int tries = 0; tries < 6000; ++tries) {  // at most ten minutes
    auto reply = client::httpRequest(server.url(), "GET", "/metrics", server.admin_token, "", "");
    if (reply && reply->status == 200) {
      const auto at = reply->body.find(series);
      if (at != std::string::npos) lag = std::strtod(reply->body.c_str() + at + series.size(), nullptr);
    }
    if (lag == 0) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  out["search_index_catch_up_s" + suffix] = std::chrono::duration<double>(Clock::now() - start).count();
  if (lag != 0) out["search_index_lag_left" + suffix] = lag;
}

// The reads provincial staff make, into `out` under `suffix`.
void readAsStaff(const ServerChild& server, const Province& people, nlohmann::json& out, const std::string& suffix) {
  const auto year = std::to_string(thisYear());
  auto measure = [&](const std::string& key, const std::string& path, int queries = kQueries) {
    std::string error;
    out[key + suffix] = medianGetMs(server, people.reader_token, path, error, queries);
    if (!error.empty()) out[key + suffix + "_error"] = error;
  };
  waitForSearchIndex(server, out, suffix);  // the reads of a store at rest after its import
  measure("overview_p50_ms", "/api/overview?year=" + year);
  measure("records_page_p50_ms", "/api/records/household_survey?unit=" + commune(17) + "&limit=50");
  measure("search_p50_ms", "/api/records/household_survey?q=giang%20a%20dinh&limit=50", 3);
  measure("targets_ms", "/api/reports/targets?year=" + year, 1);
  measure("form2_ms", "/api/reports/form2?year=" + year, 1);
}

// The export of every household as CSV: rows/s and the server's memory growth while it answers.
void exportAll(const ServerChild& server, const Province& people, std::size_t households, nlohmann::json& out) {
  const double rss_before = rssMb(server.pid);
  resetPeakRss(server.pid);
  const auto start = Clock::now();
  std::size_t lines = 0;
  std::uint64_t bytes = 0;
  auto reply = client::httpDownload(server.url(), "/api/export/household_survey?format=csv", people.reader_token,
                                    [&](std::string_view piece) {
                                      lines += static_cast<std::size_t>(std::count(piece.begin(), piece.end(), '\n'));
                                      bytes += piece.size();
                                      return true;
                                    });
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  if (!reply || reply->status != 200) {
    out["export_rows_per_s"] = -1;
    out["export_rows_per_s_error"] =
        reply ? std::to_string(reply->status) + " " + reply->body.substr(0, 300) : reply.status().toString();
  } else {
    const auto rows = static_cast<double>(lines) - 1;  // the header
    out["export_rows"] = rows;
    out["export_rows_expected"] = households;
    out["export_bytes"] = bytes;
    out["export_rows_per_s"] = rows / seconds;
  }
  out["export_rss_growth_mb"] = peakRssMb(server.pid) - rss_before;
}

// Push throughput with the views kept against without, each into a fresh server, runs alternated:
// the median of the ratios.
bool pushRatio(const fs::path& self, const fs::path& work, std::uint16_t port, nlohmann::json& out) {
  std::vector<double> ratios;
  for (int run = 0; run < kPushRuns; ++run) {
    double rate[2] = {0, 0};
    for (int with = 1; with >= 0; --with) {
      const auto dir = work / ("push-" + std::to_string(run) + "-" + std::to_string(with));
      auto server = startServer(self, dir, static_cast<std::uint16_t>(port + 1 + run * 2 + with),
                                with != 0 ? "" : R"({"keep_views": false})");
      if (!server) {
        std::cerr << "communesync-bench: central: cannot start a server for the push comparison\n";
        return false;
      }
      nlohmann::json pushed;
      auto people = addPeople(*server);
      const bool ok = people && fill(*server, *people, 0, kPushCompared / kConnections, "p", 900 + run, pushed);
      stopServer(*server);
      fs::remove_all(dir);
      if (!ok) return false;
      rate[with] = pushed.value("records_per_s", 0.0);
    }
    ratios.push_back(rate[1] / rate[0]);
    out["push_records_per_s_with_views_run" + std::to_string(run)] = rate[1];
    out["push_records_per_s_without_views_run" + std::to_string(run)] = rate[0];
  }
  out["push_ratio_with_summaries"] = percentile(ratios, 50);
  return true;
}

std::uint64_t folderBytes(const fs::path& dir) {
  std::uint64_t total = 0;
  std::error_code ec;
  for (const auto& e : fs::recursive_directory_iterator(dir, ec)) {
    if (e.is_regular_file(ec)) total += e.file_size(ec);
  }
  return total;
}

// `n` records and ten edits of each, then the store's size on disk against the records' own bytes.
bool storeGrowth(const fs::path& self, const fs::path& work, std::uint16_t port, std::size_t n, nlohmann::json& out) {
  const auto dir = work / "growth";
  auto server = startServer(self, dir, static_cast<std::uint16_t>(port + 20));
  if (!server) return false;
  auto people = addPeople(*server);
  if (!people) return false;
  const auto per = n / kConnections;
  bool ok = true;
  // The records, then ten edits of each, each round from a new device (a device's seqs start at 1).
  std::vector<sync::Stamp> last(kConnections);
  for (int round = 0; round <= 10 && ok; ++round) {
    std::vector<ReplayLoad> loads;
    const auto wall = nowMs();
    for (std::size_t c = 0; c < kConnections && ok; ++c) {
      const auto device = deviceFor(c, 500 + static_cast<std::uint64_t>(round));
      auto changes =
          round == 0 ? makeChanges(c, 0, per, device, "g") : editChanges(c, per, device, "g", wall, last[c], round);
      last[c] = round == 0 ? changes.front().assignments.front().stamp : sync::Stamp{wall, 0, device};
      auto load = prepareLoad(*server, people->field_tokens[c], device, std::move(changes));
      ok = load.has_value();
      if (load) loads.push_back(std::move(*load));
    }
    nlohmann::json pushed;
    ok = ok && replayLoads(*server, loads, pushed);
  }
  stopServer(*server);
  if (!ok) return false;
  std::uint64_t record_bytes = 0;
  {
    storage::StoreOptions options;
    options.create_if_missing = false;
    auto store = storage::Store::open(dir, options);
    if (!store) {
      std::cerr << "communesync-bench: central: " << store.status().toString() << "\n";
      return false;
    }
    for (auto c = (*store)->scan(storage::Column::kRecords, "", ""); c.valid(); c.next()) {
      record_bytes += c.key().size() + c.value().size();
    }
  }
  const auto before_compaction = folderBytes(dir);
  {  // the store as RocksDB leaves it after a full compaction (old versions of edited keys gone)
    storage::StoreOptions options;
    options.create_if_missing = false;
    auto store = storage::Store::open(dir, options);
    if (!store || !(*store)->compactAll()) {
      std::cerr << "communesync-bench: central: cannot compact the growth store\n";
      return false;
    }
  }
  const auto on_disk = folderBytes(dir);
  out["growth_records"] = per * kConnections;
  out["growth_store_bytes"] = on_disk;
  out["growth_store_bytes_before_compaction"] = before_compaction;
  out["growth_record_bytes"] = record_bytes;
  out["store_bytes_ratio"] =
      record_bytes == 0 ? -1.0 : static_cast<double>(on_disk) / static_cast<double>(record_bytes);
  out["store_bytes_ratio_before_compaction"] =
      record_bytes == 0 ? -1.0 : static_cast<double>(before_compaction) / static_cast<double>(record_bytes);
  fs::remove_all(dir);
  return true;
}

}  // namespace

bool benchCentral(const ServerChild& server, const fs::path& self, const fs::path& work, std::uint16_t port,
                  std::size_t records, nlohmann::json& out) {
  auto people = addPeople(server);
  if (!people) {
    std::cerr << "communesync-bench: central: cannot add the province's users\n";
    return false;
  }
  const std::size_t small = std::min<std::size_t>(10'000, records);
  nlohmann::json pushed;
  if (!fill(server, *people, 0, small / kConnections, "r", 1, pushed)) return false;
  readAsStaff(server, *people, out, "_at_10k");
  if (!fill(server, *people, small / kConnections, records / kConnections, "r", 1, pushed)) return false;
  out["fill_records_per_s"] = pushed.value("records_per_s", 0.0);
  readAsStaff(server, *people, out, "");
  const double at_10k = out.value("overview_p50_ms_at_10k", -1.0);
  out["overview_ratio_vs_10k"] = at_10k > 0 ? out.value("overview_p50_ms", -1.0) / at_10k : -1.0;
  std::size_t households = 0;
  for (std::size_t i = 0; i < records / kConnections; ++i) households += collectionFor(i)[0] == 'h' ? kConnections : 0;
  exportAll(server, *people, households, out);
  out["server_rss_mb"] = rssMb(server.pid);
  if (!pushRatio(self, work, port, out)) return false;
  return storeGrowth(self, work, port, std::min<std::size_t>(100'000, records), out);
}

}  // namespace communesync::tools
