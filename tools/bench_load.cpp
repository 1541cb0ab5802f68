#include "bench_load.hpp"

#include <algorithm>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>
#include <chrono>
#include <iostream>
#include <latch>
#include <mutex>
#include <random>
#include <thread>

#include "communesync/client/local_store.hpp"
#include "communesync/client/replicator.hpp"
#include "communesync/client/websocket_transport.hpp"
#include "communesync/sync/frame.hpp"
#include "communesync/sync/messages.hpp"
#include "survey_records.hpp"

namespace communesync::tools {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using nlohmann::json;

std::chrono::milliseconds wallNow() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch());
}

double msSince(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

// A device: its own store, user and connection.
struct Device {
  std::unique_ptr<client::LocalStore> store;
  std::unique_ptr<client::WebSocketTransport> transport;
  std::unique_ptr<client::Replicator> replicator;
  std::string scope;
};

std::optional<Device> openDevice(const ServerChild& server, const fs::path& dir, const std::string& name,
                                 const std::string& scope) {
  auto store = client::LocalStore::open(dir);
  if (!store) {
    std::cerr << "communesync-bench: " << store.status().toString() << "\n";
    return std::nullopt;
  }
  const auto token = addUser(server, name, {scope});
  if (token.empty()) {
    std::cerr << "communesync-bench: cannot add user " << name << "\n";
    return std::nullopt;
  }
  Device d;
  d.store = std::move(store).value();
  d.transport = std::make_unique<client::WebSocketTransport>(server.url(), token);
  d.replicator = std::make_unique<client::Replicator>(*d.store, *d.transport);
  d.scope = scope;
  return d;
}

bool putSurveys(Device& d, std::mt19937_64& rng, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) {
    auto id = d.store->put("household", "", d.scope, surveyFields(rng), wallNow());
    if (!id) {
      std::cerr << "communesync-bench: put: " << id.status().toString() << "\n";
      return false;
    }
  }
  return true;
}

}  // namespace

std::string loadScenarioConfig(std::size_t sessions) {
  const auto room = sessions + 64;
  return json{{"limits", {{"max_sessions_per_user", room}, {"max_connections_per_address", room}}}}.dump();
}

bool benchConcurrent(const ServerChild& server, const fs::path& work, std::size_t records, std::size_t devices,
                     json& out) {
  constexpr std::size_t kBatch = 10;  // records per round: a working group's few minutes of signal
  const std::size_t rounds = std::max<std::size_t>(1, records / devices / kBatch);
  std::vector<Device> fleet;
  for (std::size_t i = 0; i < devices; ++i) {
    const auto name = "d" + std::to_string(i);
    auto d = openDevice(server, work / name, name, "xa-" + std::to_string(i));
    if (!d) return false;
    if (auto s = d->replicator->connect(); !s) {
      std::cerr << "communesync-bench: connect: " << s.toString() << "\n";
      return false;
    }
    fleet.push_back(std::move(*d));
  }
  std::latch start(static_cast<std::ptrdiff_t>(devices) + 1);
  std::mutex mutex;
  std::vector<double> latencies;
  bool failed = false;
  std::vector<std::thread> threads;
  for (std::size_t i = 0; i < devices; ++i) {
    threads.emplace_back([&, i] {
      auto& d = fleet[i];
      std::mt19937_64 rng(i + 1);
      std::vector<double> mine;
      start.arrive_and_wait();
      for (std::size_t r = 0; r < rounds; ++r) {
        if (!putSurveys(d, rng, kBatch)) break;
        const auto begin = Clock::now();
        auto report = d.replicator->sync();
        if (!report.status || report.accepted != kBatch) {
          std::lock_guard lock(mutex);
          std::cerr << "communesync-bench: device " << i << ": " << report.status.toString() << " (" << report.accepted
                    << " accepted)\n";
          failed = true;
          break;
        }
        mine.push_back(msSince(begin));
      }
      std::lock_guard lock(mutex);
      latencies.insert(latencies.end(), mine.begin(), mine.end());
    });
  }
  const double cpu_before = cpuMicros(server.pid);
  const auto begin = Clock::now();
  start.arrive_and_wait();
  for (auto& t : threads) t.join();
  const double seconds = msSince(begin) / 1000.0;
  const double cpu = cpuMicros(server.pid) - cpu_before;
  for (auto& d : fleet) d.replicator->close();
  const double total = static_cast<double>(rounds * kBatch * devices);
  out["devices"] = devices;
  out["records"] = rounds * kBatch * devices;
  out["records_per_sync"] = kBatch;
  out["records_per_s"] = total / seconds;
  out["server_cpu_us_per_record"] = cpu / total;
  out["p50_ms"] = percentile(latencies, 50);
  out["p99_ms"] = percentile(latencies, 99);
  return !failed;
}

bool benchIdle(const ServerChild& server, std::size_t sessions, json& out) {
  namespace beast = boost::beast;
  namespace websocket = beast::websocket;
  namespace http = beast::http;
  using Ws = websocket::stream<beast::tcp_stream>;
  const auto token = addUser(server, "idle", {"xa-idle"});
  if (token.empty()) return false;
  boost::asio::io_context ioc;
  const boost::asio::ip::tcp::endpoint endpoint(boost::asio::ip::make_address("127.0.0.1"), server.port);
  std::mt19937_64 rng(7);
  std::vector<std::unique_ptr<Ws>> open;
  std::vector<beast::flat_buffer> buffers(sessions);
  constexpr std::size_t kWarm = 100;  // the first sessions also pay for one-time allocations
  double rss_warm = 0;
  const auto begin = Clock::now();
  for (std::size_t i = 0; i < sessions; ++i) {
    try {
      auto ws = std::make_unique<Ws>(ioc);
      beast::get_lowest_layer(*ws).connect(endpoint);
      ws->set_option(websocket::stream_base::decorator([&](websocket::request_type& req) {
        req.set(http::field::authorization, "Bearer " + token);
        req.set(http::field::sec_websocket_protocol, sync::proto::kSubprotocol);
      }));
      ws->handshake("127.0.0.1:" + std::to_string(server.port), "/sync");
      ws->binary(true);
      // Authenticated, said hello and caught up, as a phone that synced and now listens.
      char hex[33];
      std::snprintf(hex, sizeof hex, "%016llx%016llx", static_cast<unsigned long long>(rng()),
                    static_cast<unsigned long long>(rng()));
      sync::proto::Hello hello;
      hello.device = *sync::DeviceId::fromHex(hex);
      hello.client_version = "bench-idle";
      hello.device_time_ms = wallNow().count();
      ws->write(boost::asio::buffer(sync::proto::frameOf(hello, 1)));
      ws->read(buffers[i]);
      buffers[i].clear();
      ws->write(boost::asio::buffer(sync::proto::frameOf(sync::proto::Pull{}, 2)));
      ws->read(buffers[i]);
      buffers[i].clear();
      open.push_back(std::move(ws));
    } catch (const std::exception& e) {
      std::cerr << "communesync-bench: session " << i << ": " << e.what() << "\n";
      return false;
    }
    if (i + 1 == kWarm) rss_warm = rssMb(server.pid);
  }
  const double setup_s = msSince(begin) / 1000.0;
  const double rss_all = rssMb(server.pid);
  // Idle: every session keeps a read pending (so pings would be answered) for ten seconds.
  for (std::size_t i = 0; i < open.size(); ++i) {
    open[i]->async_read(buffers[i], [](beast::error_code, std::size_t) {});
  }
  const double cpu_before = cpuMicros(server.pid);
  constexpr double kIdleSeconds = 10;
  ioc.run_for(std::chrono::milliseconds(static_cast<long>(kIdleSeconds * 1000)));
  const double idle_cpu_ms = (cpuMicros(server.pid) - cpu_before) / 1000.0;
  open.clear();
  out["sessions"] = sessions;
  out["sessions_per_s_opened"] = static_cast<double>(sessions) / setup_s;
  out["server_rss_mb_with_sessions"] = rss_all;
  if (sessions > kWarm) {
    out["server_rss_kb_per_session"] = (rss_all - rss_warm) * 1024.0 / static_cast<double>(sessions - kWarm);
  }
  out["server_cpu_ms_per_idle_s"] = idle_cpu_ms / kIdleSeconds;
  return true;
}

bool benchScale(const ServerChild& server, const fs::path& work, std::size_t records, json& out) {
  constexpr std::size_t kSmall = 10'000;
  constexpr std::size_t kNew = 10;
  constexpr std::size_t kRounds = 20;
  if (records <= kSmall) {
    std::cerr << "communesync-bench: scale needs --records above " << kSmall << "\n";
    return false;
  }
  // The province's other communes fill the store; the measured device's commune gets 10 new changes.
  auto bulk = openDevice(server, work / "bulk", "bulk", "xa-02");
  auto writer = openDevice(server, work / "writer", "writer", "xa-01");
  auto reader = openDevice(server, work / "reader", "reader", "xa-01");
  if (!bulk || !writer || !reader) return false;
  std::mt19937_64 rng(3);
  auto fill = [&](std::size_t n) -> bool {
    // In slices, so the bulk device's pending changes stay modest.
    for (std::size_t done = 0; done < n;) {
      const auto slice = std::min<std::size_t>(50'000, n - done);
      if (!putSurveys(*bulk, rng, slice)) return false;
      auto report = bulk->replicator->sync();
      if (!report.status || report.accepted != slice) {
        std::cerr << "communesync-bench: fill: " << report.status.toString() << "\n";
        return false;
      }
      done += slice;
    }
    return true;
  };
  auto measure = [&](const char* key) -> bool {
    std::vector<double> ms;
    for (std::size_t r = 0; r < kRounds; ++r) {
      if (!putSurveys(*writer, rng, kNew) || !writer->replicator->sync().status) return false;
      const auto begin = Clock::now();
      auto report = reader->replicator->sync();
      if (!report.status || report.pulled != kNew) {
        std::cerr << "communesync-bench: pull: " << report.status.toString() << " (" << report.pulled << ")\n";
        return false;
      }
      ms.push_back(msSince(begin));
    }
    out[std::string(key) + "_p50_ms"] = percentile(ms, 50);
    out[std::string(key) + "_p99_ms"] = percentile(ms, 99);
    return true;
  };
  if (!fill(kSmall) || !reader->replicator->sync().status || !measure("small")) return false;
  const auto fill_begin = Clock::now();
  if (!fill(records - kSmall)) return false;
  out["fill_records_per_s"] = static_cast<double>(records - kSmall) / (msSince(fill_begin) / 1000.0);
  if (!measure("large")) return false;
  out["small_records"] = kSmall;
  out["large_records"] = records;
  out["p50_ms"] = out["large_p50_ms"];
  out["p99_ms"] = out["large_p99_ms"];
  out["large_over_small_p50"] = out["large_p50_ms"].get<double>() / out["small_p50_ms"].get<double>();
  for (auto* d : {&*bulk, &*writer, &*reader}) d->replicator->close();
  return true;
}

}  // namespace communesync::tools
