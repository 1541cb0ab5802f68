#include "bench_phone.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <iostream>
#include <random>

#include "communesync/client/local_store.hpp"
#include "communesync/client/replicator.hpp"
#include "communesync/client/websocket_transport.hpp"
#include "survey_records.hpp"

namespace communesync::tools {
namespace {

using Clock = std::chrono::steady_clock;

// CPU time (user + system) of this process so far, in milliseconds.
double selfCpuMs() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  auto ms = [](const timeval& t) {
    return static_cast<double>(t.tv_sec) * 1000.0 + static_cast<double>(t.tv_usec) / 1000.0;
  };
  return ms(usage.ru_utime) + ms(usage.ru_stime);
}

// Starts a new peak-RSS window for this process (Linux: writing 5 to clear_refs resets VmHWM).
std::chrono::milliseconds wallNow() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch());
}

}  // namespace

bool benchPhone(const ServerChild& server, const std::filesystem::path& work, std::size_t records, int idle_seconds,
                nlohmann::json& out) {
  const std::string url = "ws://127.0.0.1:" + std::to_string(server.port);
  const auto self = getpid();
  out["rss_mb_at_start"] = rssMb(self);

  // Local writes, each durable when put() returns (fsync'd WAL): what a field worker waits for.
  resetPeakRss(::getpid());
  auto writer = client::LocalStore::open(work / "phone-writer");
  if (!writer) {
    std::cerr << writer.status().toString() << "\n";
    return false;
  }
  std::mt19937_64 rng(1);
  std::vector<double> put_ms;
  for (std::size_t i = 0; i < records; ++i) {
    const auto start = Clock::now();
    auto id = (*writer)->put("household", "", "xa-01", surveyFields(rng), wallNow());
    if (!id) {
      std::cerr << id.status().toString() << "\n";
      return false;
    }
    put_ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - start).count());
  }
  std::sort(put_ms.begin(), put_ms.end());
  out["local_write_p50_ms"] = put_ms[put_ms.size() / 2];
  out["local_write_p99_ms"] = put_ms[put_ms.size() * 99 / 100];
  out["peak_rss_mb_writing"] = peakRssMb(self);

  resetPeakRss(::getpid());
  const auto writer_token = addUser(server, "phone-writer");
  double cpu = selfCpuMs();
  {
    client::WebSocketTransport transport(url, writer_token);
    auto report = client::syncOnce(**writer, transport);
    if (!report.status) {
      std::cerr << "push failed: " << report.status.toString() << "\n";
      return false;
    }
  }
  out["client_cpu_ms_per_1000_pushed"] = (selfCpuMs() - cpu) * 1000.0 / static_cast<double>(records);
  out["peak_rss_mb_pushing"] = peakRssMb(self);
  writer->reset();

  resetPeakRss(::getpid());
  auto reader = client::LocalStore::open(work / "phone-reader");
  const auto reader_token = addUser(server, "phone-reader");
  cpu = selfCpuMs();
  {
    client::WebSocketTransport transport(url, reader_token);
    auto report = client::syncOnce(**reader, transport);
    if (!report.status || report.pulled != records) {
      std::cerr << "pull failed: " << report.status.toString() << " (" << report.pulled << ")\n";
      return false;
    }
  }
  out["client_cpu_ms_per_1000_pulled"] = (selfCpuMs() - cpu) * 1000.0 / static_cast<double>(records);
  out["peak_rss_mb_pulling"] = peakRssMb(self);

  // Connected and idle: the server pings, the device answers; nothing polls.
  client::WebSocketTransport transport(url, reader_token);
  client::Replicator replicator(**reader, transport);
  if (auto s = replicator.connect(); !s) {
    std::cerr << "connect failed: " << s.toString() << "\n";
    return false;
  }
  cpu = selfCpuMs();
  const auto until = Clock::now() + std::chrono::seconds(idle_seconds);
  while (Clock::now() < until) {
    auto waited = replicator.waitForNotify(std::chrono::duration_cast<std::chrono::milliseconds>(until - Clock::now()));
    if (!waited) {
      std::cerr << "idle connection lost: " << waited.status().toString() << "\n";
      return false;
    }
  }
  out["idle_seconds"] = idle_seconds;
  out["idle_cpu_ms_per_minute"] = (selfCpuMs() - cpu) * 60.0 / idle_seconds;
  replicator.close();
  out["rss_mb_at_end"] = rssMb(self);
  return true;
}

}  // namespace communesync::tools
