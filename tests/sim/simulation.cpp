// A seeded simulation of faults: the server's protocol handler and store, and several devices with
// their stores, in one process over a simulated network and clock. One seed drives everything:
// requests and replies dropped or duplicated, requests delayed (arriving after newer ones from
// another connection of the same device), connections cut, the server crashed and reopened from
// its store, devices crashed and reopened, device clocks days off. After healing (syncs with no
// faults) it checks: every device holds exactly the server's live records; every change any device
// made is in the server's log exactly once; every write that lost to a concurrent one is in a
// conflict. A failure prints its seed; `--seed N` replays it.
//
//   communesync-sim [--seed N] [--seeds COUNT] [--steps N] [--verbose]
#include <CLI/CLI.hpp>
#include <deque>
#include <iostream>
#include <map>
#include <random>
#include <set>

#include "communesync/client/local_store.hpp"
#include "communesync/client/record_json.hpp"
#include "communesync/client/replicator.hpp"
#include "communesync/sync/frame.hpp"
#include "merge_oracle.hpp"
#include "protocol/sync_handler.hpp"
#include "sim_network.hpp"

namespace {

using namespace communesync;
using communesync::testing::Faults;
using communesync::testing::SimServer;
using communesync::testing::SimTransport;
namespace fs = std::filesystem;
using std::chrono::milliseconds;

constexpr std::int64_t kDay = 86'400'000;

struct SimDevice {
  fs::path dir;
  sync::DeviceId id;
  std::string token;
  std::int64_t skew_ms = 0;
  std::unique_ptr<client::LocalStore> store;
  std::set<std::uint64_t> made;  // sequence numbers of the changes this device made

  void open() {
    auto s = client::LocalStore::open(dir, id);
    if (!s) throw std::runtime_error(s.status().toString());
    store = std::move(s).value();
  }
};

std::string hexId(std::mt19937_64& rng) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string id;
  for (int i = 0; i < 32; ++i) id.push_back(kHex[rng() % 16]);
  return id;
}

std::string exportOf(const std::vector<sync::Record>& records) {
  std::string out;
  for (const auto& r : records) out += client::recordToJson(r).dump() + "\n";
  return out;
}

// One run of the simulation. Returns "" or what went wrong.
std::string runSeed(std::uint64_t seed, int steps, bool verbose) {
  std::mt19937_64 rng(seed);
  const fs::path root =
      fs::temp_directory_path() / ("communesync-sim-" + std::to_string(::getpid()) + "-" + std::to_string(seed));
  fs::remove_all(root);
  SimServer server(root / "server");
  const int device_count = 2 + static_cast<int>(rng() % 3);
  std::vector<SimDevice> devices(static_cast<std::size_t>(device_count));
  for (int i = 0; i < device_count; ++i) {
    auto& d = devices[static_cast<std::size_t>(i)];
    d.dir = root / ("device" + std::to_string(i));
    d.id.bytes[0] = 0xde;
    d.id.bytes[15] = static_cast<std::uint8_t>(i + 1);
    auto token = server.directory().addUser("user" + std::to_string(i), {{server::Role::kField, "xa-01"}}, "",
                                            server::Actor{"sim", "sim"});
    if (!token) throw std::runtime_error(token.status().toString());
    d.token = *token;
    // Some phones are days off until their first contact corrects them.
    d.skew_ms = (rng() % 3 == 0) ? static_cast<std::int64_t>(rng() % 5 - 2) * kDay : 0;
    d.open();
  }
  const std::vector<std::string> fields = {"chu_ho", "so_nhan_khau", "thon", "ho_ngheo"};
  Faults faults{0.1, 0.1, 0.05, 0.05, 0.05};

  auto syncDevice = [&](SimDevice& d, const Faults& f) {
    SimTransport transport(server, d.token, rng, f);
    client::SyncOptions options;
    options.clock = [&] { return milliseconds(server.now_ms + d.skew_ms); };
    return client::syncOnce(*d.store, transport, options);
  };

  for (int step = 0; step < steps; ++step) {
    server.now_ms += static_cast<std::int64_t>(rng() % 5000);
    server.deliverHeld(rng, 0.3);  // requests the network held back arrive, late and out of order
    auto& d = devices[rng() % devices.size()];
    const auto device_now = milliseconds(server.now_ms + d.skew_ms);
    const auto action = rng() % 20;
    auto known = d.store->list("household");
    if (!known) return "list failed: " + known.status().toString();
    if (action < 5 || known->empty()) {
      std::map<std::string, sync::Value> f{
          {fields[rng() % fields.size()], sync::Value(static_cast<std::int64_t>(rng() % 9))}};
      auto id = d.store->put("household", hexId(rng), "xa-01", f, device_now);
      if (!id) return "put failed: " + id.status().toString();
    } else if (action < 10) {
      const auto& r = (*known)[rng() % known->size()];
      std::map<std::string, sync::Value> f{
          {fields[rng() % fields.size()], sync::Value("v" + std::to_string(rng() % 20))}};
      if (auto id = d.store->put("household", r.key.id, "", f, device_now); !id) return "edit failed";
    } else if (action < 11) {
      const auto& r = (*known)[rng() % known->size()];
      if (auto s = d.store->remove(r.key, device_now); !s) return "delete failed: " + s.toString();
    } else if (action < 18) {
      auto report = syncDevice(d, faults);
      if (verbose) std::cerr << "step " << step << " sync: " << report.status.toString() << "\n";
    } else if (action < 19) {
      d.store.reset();  // the phone dies
      d.open();
    } else {
      server.crash();
    }
  }

  // Heal: what the network still holds arrives; then no faults, every device syncs until all have
  // seen everything.
  server.deliverHeld(rng, 1.0);
  if (verbose) std::cerr << "requests delivered late and out of order: " << server.deliveredLate() << "\n";
  for (int round = 0; round < 3; ++round) {
    for (auto& d : devices) {
      auto report = syncDevice(d, Faults{});
      if (!report.status) return "healing sync failed: " + report.status.toString();
    }
  }

  auto records = server.data().recordsForTesting();
  auto log = server.data().logForTesting();
  auto conflicts = server.data().conflictsForTesting();
  if (!records || !log || !conflicts) return "reading the server failed";
  std::vector<sync::Record> live;
  std::map<sync::RecordKey, sync::Record> by_key;
  for (const auto& r : *records) {
    by_key[r.key] = r;
    if (!r.deleted() && !r.fields.empty()) live.push_back(r);
  }
  const std::string server_export = exportOf(live);
  for (std::size_t i = 0; i < devices.size(); ++i) {
    auto all = devices[i].store->all();
    if (!all) return "device export failed";
    if (exportOf(*all) != server_export) return "device " + std::to_string(i) + " differs from the server";
    auto st = devices[i].store->status();
    if (st->pending != 0) return "device " + std::to_string(i) + " still has pending changes";
    if (!st->rejected.empty())
      return "device " + std::to_string(i) + " had a change rejected: " + st->rejected[0].reason;
  }

  // Every change made is in the log exactly once.
  std::set<std::pair<sync::DeviceId, std::uint64_t>> logged;
  for (const auto& c : *log) {
    if (!logged.insert({c.id.device, c.id.seq}).second) return "change " + c.id.toString() + " applied twice";
  }
  for (const auto& d : devices) {
    auto st = d.store->status();
    for (std::uint64_t seq = 1;; ++seq) {
      // A device's sequence numbers are 1..last, all of them pushed (none rejected, none pending).
      if (logged.count({d.id, seq}) == 0) {
        // Past the last change of this device?
        bool any_later = false;
        for (const auto& [dev, s] : logged) any_later |= dev == d.id && s > seq;
        if (any_later) return "change " + d.id.hex() + ":" + std::to_string(seq) + " was lost";
        break;
      }
    }
  }

  std::set<std::string> conflict_ids;
  for (const auto& c : *conflicts) conflict_ids.insert(c.id());
  auto oracle = testing::checkMergeOracle(*log, by_key, conflict_ids);
  if (!oracle.empty()) return oracle;

  devices.clear();
  server.close();  // RocksDB's background threads delete files: stop them before removing the folder
  std::error_code ec;
  fs::remove_all(root, ec);
  return "";
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"communesync-sim: devices and server in one process over a faulty simulated network"};
  std::uint64_t seed = 1;
  int seeds = 1;
  int steps = 150;
  bool verbose = false;
  app.add_option("--seed", seed, "the first seed (a failure prints the seed to replay)");
  app.add_option("--seeds", seeds, "how many seeds to run, from --seed on");
  app.add_option("--steps", steps, "steps per run");
  app.add_flag("--verbose", verbose, "print every sync's outcome");
  CLI11_PARSE(app, argc, argv);
  int failures = 0;
  for (int i = 0; i < seeds; ++i) {
    const auto s = seed + static_cast<std::uint64_t>(i);
    std::string failure;
    try {
      failure = runSeed(s, steps, verbose);
    } catch (const std::exception& e) {
      failure = std::string("exception: ") + e.what();
    }
    if (!failure.empty()) {
      std::cerr << "FAILED seed " << s << ": " << failure << "\n  replay: communesync-sim --seed " << s << " --steps "
                << steps << " --verbose\n";
      ++failures;
    }
  }
  std::cout << "communesync-sim: " << seeds - failures << "/" << seeds << " seeds passed\n";
  return failures == 0 ? 0 : 1;
}
