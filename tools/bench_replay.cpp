#include "bench_replay.hpp"

#include <sys/resource.h>

#include <chrono>
#include <iostream>
#include <latch>
#include <map>
#include <mutex>
#include <random>
#include <thread>

#include "communesync/client/local_store.hpp"
#include "communesync/client/websocket_transport.hpp"
#include "communesync/sync/frame.hpp"
#include "communesync/sync/messages.hpp"
#include "survey_records.hpp"

namespace communesync::tools {
namespace {

namespace fs = std::filesystem;
namespace proto = sync::proto;
using Prepared = ReplayLoad;
using Clock = std::chrono::steady_clock;

constexpr std::chrono::seconds kReplyTimeout{60};

Result<proto::Envelope> receive(client::WebSocketTransport& transport, std::size_t max_bytes) {
  auto frame = transport.receive(kReplyTimeout);
  if (!frame) return frame.status();
  return proto::decodeFrame(*frame, max_bytes);
}

// Sends every frame of `p`, at most its window in flight; the changes accepted, or an error.
Result<std::size_t> replay(Prepared& p) {
  std::size_t next = 0;
  std::size_t in_flight = 0;
  std::size_t accepted = 0;
  while (next < p.frames.size() || in_flight > 0) {
    while (next < p.frames.size() && in_flight < p.window) {
      CS_RETURN_IF_ERROR(p.transport->send(p.frames[next++]));
      ++in_flight;
    }
    auto reply = receive(*p.transport, 64 << 20);
    if (!reply) return reply.status();
    if (reply->type == proto::MessageType::kNotify) continue;
    auto result = proto::unwrap<proto::PushResult>(*reply);
    if (!result) return result.status();
    --in_flight;
    for (const auto& r : result->results) accepted += r.outcome == proto::Outcome::kAccepted ? 1 : 0;
  }
  return accepted;
}

double selfCpuMicros() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) * 1e6 +
         static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec);
}

}  // namespace

std::optional<ReplayLoad> prepareLoad(const ServerChild& server, const std::string& token, const sync::DeviceId& device,
                                      std::vector<sync::Change> changes) {
  auto fail = [](const std::string& what) {
    std::cerr << "communesync-bench: " << what << "\n";
    return std::nullopt;
  };
  const auto now =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch());
  ReplayLoad p;
  p.transport = std::make_unique<client::WebSocketTransport>(server.url(), token);
  if (auto s = p.transport->connect(); !s) return fail("connect: " + s.toString());
  proto::Hello hello;
  hello.device = device;
  hello.client_version = "communesync-bench";
  hello.device_time_ms = now.count();
  if (auto s = p.transport->send(proto::frameOf(hello, 1)); !s) return fail(s.toString());
  auto reply = receive(*p.transport, 1 << 20);
  if (!reply) return fail("hello: " + reply.status().toString());
  auto welcome = proto::unwrap<proto::Welcome>(*reply);
  if (!welcome) return fail("hello: " + welcome.status().toString());
  const auto& limits = welcome->limits;
  p.window = std::max<std::size_t>(1, limits.max_pushes_in_flight);
  std::uint64_t request = 2;
  // Pushes of the server's largest count, each under half its largest message.
  std::size_t at = 0;
  while (at < changes.size()) {
    std::size_t n = std::min<std::size_t>(limits.max_changes_per_push, changes.size() - at);
    for (;;) {
      proto::Push push;
      push.changes.assign(changes.begin() + static_cast<std::ptrdiff_t>(at),
                          changes.begin() + static_cast<std::ptrdiff_t>(at + n));
      auto frame = proto::frameOf(push, request);
      if (frame.size() > limits.max_message_bytes / 2 && n > 1) {
        n /= 2;
        continue;
      }
      p.changes_of[request++] = n;
      p.frames.push_back(std::move(frame));
      break;
    }
    at += n;
  }
  return p;
}

bool replayLoads(const std::vector<ServerChild>& servers, std::vector<ReplayLoad>& load, nlohmann::json& out) {
  const auto serverCpu = [&] {
    double sum = 0;
    for (const auto& server : servers) sum += cpuMicros(server.pid);
    return sum;
  };
  std::size_t total = 0;
  std::size_t frames = 0;
  for (const auto& p : load) {
    for (const auto& [id, n] : p.changes_of) total += n;
    frames += p.frames.size();
  }
  std::latch start(static_cast<std::ptrdiff_t>(load.size()) + 1);
  std::mutex mutex;
  std::size_t accepted = 0;
  bool failed = false;
  std::vector<std::thread> threads;
  threads.reserve(load.size());
  for (auto& p : load) {
    threads.emplace_back([&] {
      start.arrive_and_wait();
      auto done = replay(p);
      std::lock_guard lock(mutex);
      if (!done) {
        std::cerr << "communesync-bench: replay: " << done.status().toString() << "\n";
        failed = true;
        return;
      }
      accepted += *done;
    });
  }
  const double server_before = serverCpu();
  const double load_before = selfCpuMicros();
  const auto begin = Clock::now();
  start.arrive_and_wait();
  for (auto& t : threads) t.join();
  const double seconds = std::chrono::duration<double>(Clock::now() - begin).count();
  const double server_cpu = serverCpu() - server_before;
  const double load_cpu = selfCpuMicros() - load_before;
  // What the records cost in all: the work the servers go on with after the last answer (the search
  // index catching up, RocksDB's flushes and compactions), as `push` counts it.
  for (const auto& server : servers) waitUntilQuiet(server.pid);
  const double server_cpu_until_quiet = serverCpu() - server_before;
  for (auto& p : load) p.transport->close();
  if (accepted != total) {
    std::cerr << "communesync-bench: replay: " << accepted << " of " << total << " changes accepted\n";
    failed = true;
  }
  const auto n = static_cast<double>(total);
  out["connections"] = load.size();
  out["servers"] = servers.size();
  out["records"] = total;
  out["push_frames"] = frames;
  out["records_per_s"] = n / seconds;
  out["server_cpu_us_per_record"] = server_cpu / n;
  out["server_cpu_us_per_record_until_quiet"] = server_cpu_until_quiet / n;
  out["server_cores_used"] = server_cpu / 1e6 / seconds;
  out["load_cores_used"] = load_cpu / 1e6 / seconds;
  return !failed;
}

namespace {

// The user is added through the first server (the directory is one for all), the load connects to
// its own.
std::optional<Prepared> prepare(const std::vector<ServerChild>& servers, const fs::path& dir, std::size_t index,
                                std::size_t n) {
  const auto& server = servers.front();
  auto fail = [](const std::string& what) {
    std::cerr << "communesync-bench: replay: " << what << "\n";
    return std::nullopt;
  };
  const auto name = "r" + std::to_string(index);
  const auto scope = "xa-r" + std::to_string(index);
  auto store = client::LocalStore::open(dir / name);
  if (!store) return fail(store.status().toString());
  const auto token = addUser(server, name, {scope});
  if (token.empty()) return fail("cannot add user " + name);
  std::mt19937_64 rng(index + 1);
  const auto now =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch());
  for (std::size_t i = 0; i < n; ++i) {
    auto id = (*store)->put("household", "", scope, surveyFields(rng), now);
    if (!id) return fail(id.status().toString());
  }
  auto pending = (*store)->pending(0, SIZE_MAX, SIZE_MAX);
  if (!pending) return fail(pending.status().toString());
  std::vector<sync::Change> changes;
  changes.reserve(pending->size());
  for (auto& c : *pending) changes.push_back(std::move(c.change));
  return prepareLoad(servers[index % servers.size()], token, (*store)->deviceId(), std::move(changes));
}

}  // namespace

bool benchReplay(const std::vector<ServerChild>& servers, const fs::path& work, std::size_t records,
                 std::size_t connections, nlohmann::json& out) {
  std::vector<Prepared> load;
  load.reserve(connections);
  for (std::size_t i = 0; i < connections; ++i) {
    auto p = prepare(servers, work, i, records / connections);
    if (!p) return false;
    load.push_back(std::move(*p));
  }
  return replayLoads(servers, load, out);
}

}  // namespace communesync::tools
