// communesync-bench SCENARIO [--records N] [--devices N] [--json]
// Runs a scenario against a real communesync-server (started here, on 127.0.0.1, with its own
// temporary store, and stopped at the end) and prints what it measured. Every write is acknowledged
// only after it is durable, as in production.
//   push: one device pushes N survey records: records/s, server CPU µs per record (until the server is quiet
//         again: the work the push left behind counts), wire bytes per record
//   pull: a second device pulls those N records from zero: records/s, wire bytes per record
//   tiny: on an open connection, N times: one record up, then pull: p50/p99 ms, bytes and server
//         CPU per sync; then a no-op sync: its bytes and round trips (requests sent)
//   files: photos up over a clean link and through a link cut every --cut-kib, then fetched by
//         another device (bench_files.hpp); file-store: how the server keeps file pieces
//   dataset: prints the N records push sends, as JSON lines (for tools/bench/vs-pouchdb.sh)
//   concurrent, idle, scale: many devices at once, many idle sessions, a large store (bench_load.hpp)
//   busy-http: tiny syncs while other clients keep the server's HTTP side busy (bench_tiny.hpp)
//   records-search: the dashboard's records page over N households: server memory, answer times (bench_search.hpp)
//   central: the central side at a province's size: overview, records page, search, reports and
//         the export at 10,000 records and at --records (default 1,000,000), push throughput with
//         the views kept against without, the store's growth under edits (bench_central.hpp)
//   replay: the server's capacity alone: pre-encoded push frames from --connections connections, no
//         device store in the loop (bench_replay.hpp)
//   phone: the client's own budget: local write latency, its peak RSS pushing and pulling N records,
//         its CPU connected and idle (bench_phone.hpp, docs/mobile.md)

#include <sys/resource.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <random>
#include <thread>

#include "bench_central.hpp"
#include "bench_files.hpp"
#include "bench_load.hpp"
#include "bench_phone.hpp"
#include "bench_replay.hpp"
#include "bench_search.hpp"
#include "bench_server.hpp"
#include "bench_tiny.hpp"
#include "communesync/client/local_store.hpp"
#include "communesync/client/replicator.hpp"
#include "communesync/client/websocket_transport.hpp"
#include "communesync/sync/json.hpp"
#include "survey_records.hpp"

namespace {

using namespace communesync;
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using tools::addUser;
using tools::cpuMicros;
using tools::peakRssMb;

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"communesync-bench: scenarios against a real communesync-server on 127.0.0.1"};
  std::string scenario;
  std::size_t records = 10000;
  bool as_json = false;
  std::size_t devices = 100;
  app.add_option("scenario", scenario,
                 "push | pull | concurrent | tiny | idle | scale | files | file-store | dataset | phone | busy-http | "
                 "records-search | replay | central")
      ->required()
      ->check(CLI::IsMember({"push", "pull", "concurrent", "tiny", "idle", "scale", "files", "file-store", "dataset",
                             "phone", "busy-http", "records-search", "replay", "central"}));
  app.add_option("--records", records,
                 "records (default 10000; concurrent 100000, scale 1000000); tiny, busy-http: syncs (default 300); "
                 "idle: sessions (default 5000); "
                 "files: photos (default 10)");
  app.add_option("--devices", devices, "concurrent: devices pushing at once (default 100)");
  std::size_t connections = 4;
  app.add_option("--connections", connections, "replay: connections sending pre-encoded pushes (default 4)")
      ->check(CLI::Range(1, 64));
  app.add_flag("--json", as_json, "one JSON object");
  std::size_t file_kib = 2048, cut_kib = 64;
  app.add_option("--file-kib", file_kib, "files: KiB per photo (default 2048); file-store: MiB written (2048 -> 32)");
  app.add_option("--cut-kib", cut_kib, "files: the cut link drops every this many KiB (default 64)");
  int idle_seconds = 60;
  std::string server_config;
  app.add_option(
      "--server-config", server_config,
      "the server's config file text (JSON), for the scenarios that start one server (e.g. '{\"keep_views\": false}')");
  app.add_option("--idle-seconds", idle_seconds, "phone: how long the connection stays open and idle (default 60)");
  std::string store_url;
  app.add_option("--store", store_url,
                 "postgresql://...: the server keeps everything in this PostgreSQL database (an empty one; default: "
                 "the RocksDB store in a scratch folder)");
  std::size_t server_count = 1;
  app.add_option("--servers", server_count,
                 "replay: servers started on the one --store database, the connections spread across them "
                 "(default 1)")
      ->check(CLI::Range(1, 4));
  CLI11_PARSE(app, argc, argv);
  if (server_count > 1 && (store_url.empty() || scenario != "replay")) {
    std::cerr << "communesync-bench: --servers needs the replay scenario and --store postgresql://... (several "
                 "servers share one PostgreSQL database)\n";
    return 2;
  }
  // The server's config with the store the run asked for.
  const auto withStore = [&](const std::string& text) {
    if (store_url.empty()) return text;
    auto config = text.empty() ? nlohmann::json::object() : nlohmann::json::parse(text, nullptr, false);
    if (!config.is_object()) return text;  // the server names what is wrong with it
    config["store"] = store_url;
    return config.dump();
  };
  const bool records_given = app.count("--records") > 0;
  auto print = [&](const nlohmann::json& out) {
    if (as_json) {
      std::cout << out.dump() << "\n";
    } else {
      for (const auto& [k, v] : out.items()) std::cout << std::left << std::setw(34) << k << v << "\n";
    }
  };
  if (scenario == "dataset") {
    // The records `push` sends (the same seed), as JSON lines: a peer can be fed the same data.
    std::mt19937_64 rng(1);
    for (std::size_t i = 0; i < records; ++i) {
      nlohmann::json fields = nlohmann::json::object();
      for (const auto& [name, value] : tools::surveyFields(rng)) fields[name] = sync::valueToJson(value);
      std::cout << fields.dump() << "\n";
    }
    return std::cout ? 0 : 1;
  }
  if (scenario == "file-store") {
    const fs::path work = fs::temp_directory_path() / ("communesync-bench-" + std::to_string(::getpid()));
    fs::remove_all(work);
    fs::create_directories(work);
    nlohmann::json out = {{"scenario", scenario}};
    const bool ok = tools::benchFileStore(work, app.count("--file-kib") > 0 ? file_kib : 32, out);
    fs::remove_all(work);
    print(out);
    return ok ? 0 : 1;
  }

  if (!records_given) {
    if (scenario == "concurrent") records = 100'000;
    if (scenario == "idle") records = 5'000;
    if (scenario == "scale") records = 1'000'000;
    if (scenario == "tiny" || scenario == "busy-http") records = 300;
    if (scenario == "records-search") records = 20'000;
    if (scenario == "replay") records = 100'000;
    if (scenario == "central") records = 1'000'000;
  }
  const fs::path work = fs::temp_directory_path() / ("communesync-bench-" + std::to_string(::getpid()));
  fs::remove_all(work);
  const auto port = tools::benchPort();
  const bool many_sessions = scenario == "idle" || scenario == "concurrent";
  if (many_sessions) {
    // Each session is a socket here and one in the server: raise the limit both inherit.
    rlimit files{};
    ::getrlimit(RLIMIT_NOFILE, &files);
    files.rlim_cur = files.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &files);
  }
  auto server = tools::startServer(
      fs::canonical("/proc/self/exe"), work / "server", port,
      withStore(many_sessions ? tools::loadScenarioConfig(std::max(records, devices)) : server_config));
  if (!server) {
    std::cerr << "communesync-bench: cannot start communesync-server\n";
    return 1;
  }
  const std::string url = server->url();

  nlohmann::json out = {
      {"scenario", scenario}, {"records", records}, {"store", store_url.empty() ? "rocksdb" : "postgresql"}};
  int rc = 0;
  if (scenario == "concurrent") {
    if (!tools::benchConcurrent(*server, work, records, devices, out)) rc = 1;
  } else if (scenario == "idle") {
    out = {{"scenario", scenario}};
    if (!tools::benchIdle(*server, records, out)) rc = 1;
  } else if (scenario == "scale") {
    if (!tools::benchScale(*server, work, records, out)) rc = 1;
  } else if (scenario == "files") {
    tools::FileBenchOptions options;
    options.url = url;
    options.port = port;
    options.token_up = addUser(*server, "up");
    options.token_cut = addUser(*server, "cut");
    options.token_down = addUser(*server, "down");
    options.files = records_given ? records : 10;
    options.file_kib = file_kib;
    options.cut_kib = cut_kib;
    out = {{"scenario", scenario}, {"files", options.files}, {"file_kib", file_kib}};
    const double cpu_before = cpuMicros(server->pid);
    if (!tools::benchFiles(work / "files", options, out)) rc = 1;
    out["server_cpu_ms_per_file_mib"] =
        (cpuMicros(server->pid) - cpu_before) / 1000.0 /
        (3.0 * static_cast<double>(options.files * file_kib) / 1024.0);  // up, up through cuts, down
  } else if (scenario == "busy-http") {
    if (!tools::benchBusyHttp(*server, work, records, out)) rc = 1;
  } else if (scenario == "records-search") {
    if (!tools::benchRecordsSearch(*server, work, records, out)) rc = 1;
  } else if (scenario == "replay") {
    // The others on the same database; each has the first one's admin token in its folder.
    std::vector<tools::ServerChild> servers{*server};
    for (std::size_t i = 1; i < server_count && rc == 0; ++i) {
      const auto data = work / ("server" + std::to_string(i + 1));
      fs::create_directories(data);
      fs::copy_file(work / "server" / "admin.token", data / "admin.token");
      auto other = tools::startServer(fs::canonical("/proc/self/exe"), data, static_cast<std::uint16_t>(port + i),
                                      withStore(server_config));
      if (!other) {
        std::cerr << "communesync-bench: cannot start server " << i + 1 << "\n";
        rc = 1;
        break;
      }
      servers.push_back(*other);
    }
    if (rc == 0 && !tools::benchReplay(servers, work, records, connections, out)) rc = 1;
    for (std::size_t i = 1; i < servers.size(); ++i) tools::stopServer(servers[i]);
  } else if (scenario == "central") {
    if (!tools::benchCentral(*server, fs::canonical("/proc/self/exe"), work, port, records, out)) rc = 1;
  } else if (scenario == "phone") {
    if (!tools::benchPhone(*server, work, records, idle_seconds, out)) rc = 1;
  } else if (scenario == "tiny") {
    auto device = client::LocalStore::open(work / "tiny");
    const auto token = addUser(*server, "tiny");
    client::WebSocketTransport socket(url, token);
    client::CountingTransport transport(socket);
    client::Replicator replicator(**device, transport);
    if (auto s = replicator.connect(); !s) {
      std::cerr << "connect failed: " << s.toString() << "\n";
      tools::stopServer(*server);
      return 1;
    }
    tools::TinyTimes times;
    const double cpu_before = cpuMicros(server->pid);
    if (!tools::timeTinySyncs(**device, replicator, records, 2, times)) rc = 1;
    const double cpu = cpuMicros(server->pid) - cpu_before;
    const auto frames_before = transport.framesSent();
    auto noop = replicator.sync();
    const auto& ms = times.ms;
    const auto bytes = times.bytes;
    if (!ms.empty()) {
      out["p50_ms"] = ms[ms.size() / 2];
      out["p99_ms"] = ms[ms.size() * 99 / 100];
      out["bytes_per_sync"] = static_cast<double>(bytes) / static_cast<double>(ms.size());
      out["server_cpu_us_per_sync"] = cpu / static_cast<double>(ms.size());
    }
    out["noop_sync_bytes"] = noop.bytes_sent + noop.bytes_received;
    // Requests sent during the no-op sync, each answered: its round trips (0: the device knew from the
    // server's notifications that nothing was new, and asked nothing).
    out["noop_round_trips"] = transport.framesSent() - frames_before;
    replicator.close();
  } else {
    auto writer = client::LocalStore::open(work / "writer");
    if (!writer) {
      std::cerr << writer.status().toString() << "\n";
      tools::stopServer(*server);
      return 1;
    }
    std::mt19937_64 rng(1);
    std::vector<double> put_ms;
    for (std::size_t i = 0; i < records; ++i) {
      const auto start = Clock::now();
      auto now =
          std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch());
      auto id = (*writer)->put("household", "", "xa-01", tools::surveyFields(rng), now);
      if (!id) {
        std::cerr << id.status().toString() << "\n";
        return 1;
      }
      put_ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - start).count());
    }
    std::sort(put_ms.begin(), put_ms.end());
    const auto token = addUser(*server, "writer");
    const double cpu_before = cpuMicros(server->pid);
    const double client_cpu_before = cpuMicros(::getpid());
    const auto start = Clock::now();
    client::WebSocketTransport transport(url, token);
    auto report = client::syncOnce(**writer, transport);
    const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
    const double client_cpu = cpuMicros(::getpid()) - client_cpu_before;
    // The server's cost of the push includes the work it left behind it (the search index
    // catching up, RocksDB's flushes), done before the pull is measured.
    tools::waitUntilQuiet(server->pid);
    const double cpu = cpuMicros(server->pid) - cpu_before;
    if (!report.status) {
      std::cerr << "push failed: " << report.status.toString() << "\n";
      rc = 1;
    }
    if (scenario == "push") {
      out["records_per_s"] = static_cast<double>(records) / seconds;
      out["server_cpu_us_per_record"] = cpu / static_cast<double>(records);
      out["wire_bytes_per_record"] = static_cast<double>(report.bytes_sent) / static_cast<double>(records);
      // The device's share of the same 2 cores (its outbox read, encoding, results applied).
      out["client_cpu_us_per_record"] = client_cpu / static_cast<double>(records);
      out["pulled_back"] = report.pulled;
      out["local_put_p50_ms"] = put_ms[put_ms.size() / 2];
      out["local_put_p99_ms"] = put_ms[put_ms.size() * 99 / 100];
    }
  }
  if (scenario == "pull" && rc == 0) {
    auto reader = client::LocalStore::open(work / "reader");
    const auto token = addUser(*server, "reader");
    const double cpu_before = cpuMicros(server->pid);
    const double client_cpu_before = cpuMicros(::getpid());
    const auto start = Clock::now();
    client::WebSocketTransport transport(url, token);
    auto report = client::syncOnce(**reader, transport);
    const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
    if (!report.status || report.pulled != records) {
      std::cerr << "pull failed: " << report.status.toString() << " (" << report.pulled << " records)\n";
      rc = 1;
    }
    out["records_per_s"] = static_cast<double>(records) / seconds;
    out["server_cpu_us_per_record"] = (cpuMicros(server->pid) - cpu_before) / static_cast<double>(records);
    out["client_cpu_us_per_record"] = (cpuMicros(::getpid()) - client_cpu_before) / static_cast<double>(records);
    out["wire_bytes_per_record"] = static_cast<double>(report.bytes_received) / static_cast<double>(records);
  }
  out[scenario == "phone" ? "server_peak_rss_mb" : "peak_rss_mb"] = peakRssMb(server->pid);
  tools::stopServer(*server);
  fs::remove_all(work);

  print(out);
  return rc;
}
