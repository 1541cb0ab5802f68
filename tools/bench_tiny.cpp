#include "bench_tiny.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <iostream>
#include <random>
#include <thread>

#include "communesync/client/websocket_transport.hpp"
#include "survey_records.hpp"

namespace communesync::tools {

namespace {

using Clock = std::chrono::steady_clock;

// Clients logging in back to back, each on its own connection, until stopped: the right password
// (wrong ones would soon be held back by the login throttle without a check), so each login costs
// an Argon2id check and a durable write of the device's new token.
class LoginFlood {
 public:
  LoginFlood(const ServerChild& server, int clients) {
    for (int i = 0; i < clients; ++i) {
      threads_.emplace_back([this, &server, i] {
        const auto body = nlohmann::json{{"user", "lan"},
                                         {"password", "mat-khau-cua-lan"},
                                         {"device", std::string(31, '0') + std::to_string(i % 10)}}
                              .dump();
        while (!stop_) {
          auto res = httpPost(server, "/login", "", body);
          if (!res) {  // refused a connection: do not spin on it
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
            continue;
          }
          (res->first == 200 ? checked_ : busy_)++;
        }
      });
    }
  }
  ~LoginFlood() { stop(); }
  void stop() {
    stop_ = true;
    for (auto& t : threads_) t.join();
    threads_.clear();
  }
  std::uint64_t checked() const { return checked_; }  //!< answered after a password check (200)
  std::uint64_t busy() const { return busy_; }        //!< answered "busy" (too many checks at once)

 private:
  std::atomic<bool> stop_{false};
  std::atomic<std::uint64_t> checked_{0}, busy_{0};
  std::vector<std::thread> threads_;
};

}  // namespace

bool timeTinySyncs(client::LocalStore& device, client::Replicator& replicator, std::size_t count, std::uint64_t seed,
                   TinyTimes& out) {
  std::mt19937_64 rng(seed);
  constexpr auto kEvery = std::chrono::microseconds(1'000'000 / 15);
  const auto loop_start = Clock::now();
  for (std::size_t i = 0; i < count; ++i) {
    std::this_thread::sleep_until(loop_start + i * kEvery);
    const auto start = Clock::now();
    auto now =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch());
    (void)device.put("household", "", "xa-01", surveyFields(rng), now);
    auto report = replicator.sync();
    if (!report.status) {
      std::cerr << "sync failed: " << report.status.toString() << "\n";
      return false;
    }
    out.ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - start).count());
    out.bytes += report.bytes_sent + report.bytes_received;
  }
  std::sort(out.ms.begin(), out.ms.end());
  return true;
}

bool benchBusyHttp(const ServerChild& server, const std::filesystem::path& work, std::size_t syncs,
                   nlohmann::json& out) {
  constexpr int kClients = 4;
  auto lan = httpPost(
      server, "/admin/users", server.admin_token,
      nlohmann::json{{"name", "lan"}, {"password", "mat-khau-cua-lan"}, {"grants", {"reconciler:xa-01"}}}.dump());
  if (!lan || lan->first / 100 != 2) {
    std::cerr << "cannot add the reconciler: " << (lan ? lan->second : "no answer") << "\n";
    return false;
  }
  auto device = client::LocalStore::open(work / "busy");
  if (!device) {
    std::cerr << device.status().toString() << "\n";
    return false;
  }
  client::WebSocketTransport transport(server.url(), addUser(server, "tiny"));
  client::Replicator replicator(**device, transport);
  if (auto s = replicator.connect(); !s) {
    std::cerr << "connect failed: " << s.toString() << "\n";
    return false;
  }
  TinyTimes quiet, busy;
  if (!timeTinySyncs(**device, replicator, syncs, 1, quiet)) return false;
  LoginFlood flood(server, kClients);
  const auto flood_start = Clock::now();
  const bool ok = timeTinySyncs(**device, replicator, syncs, 2, busy);
  flood.stop();
  const double seconds = std::chrono::duration<double>(Clock::now() - flood_start).count();
  replicator.close();
  if (!ok) return false;
  out["login_clients"] = kClients;
  out["quiet_p50_ms"] = percentile(quiet.ms, 50);
  out["quiet_p99_ms"] = percentile(quiet.ms, 99);
  out["busy_p50_ms"] = percentile(busy.ms, 50);
  out["busy_p99_ms"] = percentile(busy.ms, 99);
  out["p50_ratio"] = percentile(busy.ms, 50) / percentile(quiet.ms, 50);
  out["p99_ratio"] = percentile(busy.ms, 99) / percentile(quiet.ms, 99);
  out["password_checks_per_s"] = static_cast<double>(flood.checked()) / seconds;
  out["logins_answered_busy_per_s"] = static_cast<double>(flood.busy()) / seconds;
  return true;
}

}  // namespace communesync::tools
