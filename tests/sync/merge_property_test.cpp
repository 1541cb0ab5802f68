// Property test of the merge rule: random histories of 2 to 5 devices editing, deleting and
// re-creating a few records offline, seeing each other's changes at random moments; then every
// change delivered to a fresh replica in several random orders with random duplicates.
// Checked for every order: the same final records; each field holds the value of its greatest
// stamp; every write neither visible nor seen by a later write is the lost side of a conflict.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <random>
#include <set>

#include "communesync/sync/hybrid_clock.hpp"
#include "communesync/sync/merge.hpp"
#include "merge_oracle.hpp"
#include "sync_builders.hpp"
#include "temp_dir.hpp"

namespace communesync::sync {
namespace {

struct SimDevice {
  DeviceId id;
  HybridClock clock;
  std::int64_t skew_ms = 0;
  std::uint64_t seq = 0;
  std::map<RecordKey, Record> replica;
  std::size_t synced_upto = 0;  // changes seen so far, by index into the history (they see a random subset)

  void applyLocally(const Change& c) {
    auto it = replica.find(c.key);
    std::optional<Record> current;
    if (it != replica.end()) current = it->second;
    replica[c.key] = merge(current, c, 0).record;
    for (const auto& a : c.assignments) clock.observe(a.stamp);
    if (c.deletion) clock.observe(c.deletion->stamp);
  }
};

const std::vector<std::string> kFields = {"head", "members", "village"};
const std::vector<std::string> kIds = {"h1", "h2"};

Value randomValue(std::mt19937_64& rng) {
  switch (rng() % 3) {
    case 0:
      return Value(static_cast<std::int64_t>(rng() % 5));
    case 1:
      return Value(std::string("Nguyễn ") + std::to_string(rng() % 4));
    default:
      return Value();
  }
}

std::vector<Change> randomHistory(std::mt19937_64& rng) {
  const int device_count = 2 + static_cast<int>(rng() % 4);
  std::vector<SimDevice> devices;
  for (int i = 0; i < device_count; ++i) {
    devices.push_back(SimDevice{testing::deviceNo(static_cast<std::uint8_t>(i + 1)),
                                HybridClock(testing::deviceNo(static_cast<std::uint8_t>(i + 1))),
                                static_cast<std::int64_t>(rng() % 2000) - 1000,
                                0,
                                {},
                                0});
  }
  std::vector<Change> history;
  std::int64_t now = 1'700'000'000'000;
  const int steps = 10 + static_cast<int>(rng() % 50);
  for (int step = 0; step < steps; ++step) {
    now += static_cast<std::int64_t>(rng() % 40);
    auto& d = devices[rng() % devices.size()];
    if (rng() % 15 == 0) d.skew_ms = static_cast<std::int64_t>(rng() % 200'000) - 100'000;  // clock jumps
    const auto device_now = std::chrono::milliseconds(now + d.skew_ms);
    const RecordKey key{"household", kIds[rng() % kIds.size()]};
    const auto existing = d.replica.find(key);
    const auto action = rng() % 10;

    if (action < 5) {  // edit (creates, edits, re-creates)
      Change c;
      c.id = {d.id, ++d.seq};
      c.key = key;
      c.scope = "xa-01";
      c.capture_time_ms = d.clock.correctedMs(device_now);
      const Stamp stamp = d.clock.tick(device_now);
      std::set<std::string> chosen;
      const std::size_t n = 1 + rng() % 2;
      while (chosen.size() < n) chosen.insert(kFields[rng() % kFields.size()]);
      for (const auto& f : chosen) {
        Stamp seen = existing == d.replica.end() ? Stamp{} : existing->second.fieldStamp(f);
        c.assignments.push_back({f, randomValue(rng), stamp, seen});
      }
      if (existing != d.replica.end()) c.seen_tombstone = existing->second.tombstone.stamp;
      d.applyLocally(c);
      history.push_back(c);
    } else if (action == 5 && existing != d.replica.end()) {  // delete what this device holds
      Change c;
      c.id = {d.id, ++d.seq};
      c.key = key;
      c.scope = "xa-01";
      c.capture_time_ms = d.clock.correctedMs(device_now);
      Deletion del{d.clock.tick(device_now), {}};
      for (const auto& [name, state] : existing->second.fields) del.seen[name] = state.stamp;
      c.deletion = del;
      d.applyLocally(c);
      history.push_back(c);
    } else {  // sync: see some of what others wrote, in the order it was written
      for (std::size_t i = d.synced_upto; i < history.size(); ++i) {
        if (rng() % 4 != 0) d.applyLocally(history[i]);
      }
      if (rng() % 2 == 0) d.synced_upto = history.size();
    }
  }
  return history;
}

struct Outcome {
  std::map<RecordKey, Record> records;
  std::set<std::string> conflict_ids;
};

Outcome deliver(const std::vector<Change>& history, std::mt19937_64& rng) {
  std::vector<const Change*> order;
  for (const auto& c : history) {
    const int copies = 1 + static_cast<int>(rng() % 3 == 0) + static_cast<int>(rng() % 7 == 0);
    for (int i = 0; i < copies; ++i) order.push_back(&c);
  }
  std::shuffle(order.begin(), order.end(), rng);
  Outcome out;
  for (const Change* c : order) {
    auto it = out.records.find(c->key);
    std::optional<Record> current;
    if (it != out.records.end()) current = it->second;
    auto merged = merge(current, *c, 1);
    out.records[c->key] = merged.record;
    for (const auto& conflict : merged.conflicts) out.conflict_ids.insert(conflict.id());
  }
  return out;
}

void checkOracle(const std::vector<Change>& history, const Outcome& out) {
  ASSERT_EQ(testing::checkMergeOracle(history, out.records, out.conflict_ids), "");
}

TEST(MergeProperty, AnyOrderAnyDuplicatesSameStateAndNothingSilentlyLost) {
  const std::uint64_t base = testing::testSeed(1);
  constexpr int kHistories = 400;
  constexpr int kOrders = 6;
  int with_conflicts = 0;
  for (int i = 0; i < kHistories; ++i) {
    const std::uint64_t seed = base + static_cast<std::uint64_t>(i);
    SCOPED_TRACE("seed " + std::to_string(seed) + " (rerun: COMMUNESYNC_SEED=" + std::to_string(seed) + ")");
    std::mt19937_64 rng(seed);
    const auto history = randomHistory(rng);
    if (history.empty()) continue;
    const Outcome first = deliver(history, rng);
    ASSERT_NO_FATAL_FAILURE(checkOracle(history, first));
    with_conflicts += first.conflict_ids.empty() ? 0 : 1;
    for (int o = 1; o < kOrders; ++o) {
      const Outcome other = deliver(history, rng);
      ASSERT_EQ(other.records, first.records) << "order " << o << " converged elsewhere";
      ASSERT_NO_FATAL_FAILURE(checkOracle(history, other));
    }
  }
  EXPECT_GT(with_conflicts, kHistories / 10) << "the generator must produce concurrent edits to test anything";
}

}  // namespace
}  // namespace communesync::sync
