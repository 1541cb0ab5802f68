#include "store/server_store.hpp"

#include <atomic>
#include <future>

#include <gtest/gtest.h>

#include "assert_ok.hpp"
#include "communesync/sync/merge.hpp"
#include "communesync/sync/tuning.hpp"
#include "protocol/writer.hpp"
#include "sync_builders.hpp"
#include "temp_dir.hpp"

namespace communesync::server {
namespace {

using sync::Value;
using testing::edit;
using testing::stampAt;

class ServerStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = storage::Store::open(dir_ / "db");
    ASSERT_OK(s);
    store_ = std::move(s).value();
    auto d = ServerStore::open(*store_);
    ASSERT_OK(d);
    data_ = std::move(d).value();
  }

  std::vector<sync::proto::ChangeResult> push(std::vector<sync::Change> changes,
                                              std::set<sync::Scope, std::less<>> writable = {"xa-01"},
                                              std::uint64_t acknowledged_below = 0) {
    PushJob job;
    if (!changes.empty()) job.device = changes.front().id.device;
    job.acknowledged_below = acknowledged_below;
    std::vector<Grant> grants;
    for (const auto& scope : writable) grants.push_back(Grant{Role::kField, scope});
    job.access = std::make_shared<const Access>(std::move(grants), UnitTree{});
    job.changes = std::move(changes);
    std::vector<PushJob*> jobs{&job};
    sync::proto::Checkpoints touched;
    EXPECT_OK(data_->apply(jobs, now_ms_, touched));
    return job.results;
  }

  sync::Change change(std::uint8_t device, std::uint64_t seq, const std::string& id, const std::string& scope,
                      std::int64_t wall) {
    auto c = edit(device, seq, "head", Value("v" + std::to_string(seq)), stampAt(wall, device));
    c.key.id = id;
    c.scope = scope;
    return c;
  }

  std::int64_t now_ms_ = 1'700'000'000'000;  // when the server receives the next push
  testing::TempDir dir_;
  std::unique_ptr<storage::Store> store_;
  std::unique_ptr<ServerStore> data_;
};

TEST_F(ServerStoreTest, AcceptsWithIncreasingSequenceAndReplaysTheFirstResult) {
  auto r = push({change(1, 1, "a", "xa-01", 100), change(1, 2, "b", "xa-01", 101)});
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0].outcome, sync::proto::Outcome::kAccepted);
  EXPECT_EQ(r[0].server_seq, 1u);
  EXPECT_EQ(r[1].server_seq, 2u);
  EXPECT_EQ(data_->lastSeq(), 2u);
  auto again = push({change(1, 1, "a", "xa-01", 100)});
  EXPECT_EQ(again[0].server_seq, 1u) << "the first result, not a new sequence";
  EXPECT_EQ(data_->lastSeq(), 2u);
  EXPECT_EQ(data_->logForTesting()->size(), 2u);
}

// Idempotency reads the store only for a change at or below the greatest seq its device has a
// result for (GroupCommit::previousResult): every order pushes may arrive in must still apply each
// change exactly once. A later push overtakes an earlier one (seq 5-6 before 3-4, as from a second
// connection of the device); a retry repeats both; another device's numbers are its own; and the
// store reopened (no state in memory) still knows.
TEST_F(ServerStoreTest, EachChangeIsAppliedOnceWhateverOrderItsPushesArriveIn) {
  auto later = push({change(1, 5, "e", "xa-01", 105), change(1, 6, "f", "xa-01", 106)});
  EXPECT_EQ(later[0].server_seq, 1u);
  EXPECT_EQ(later[1].server_seq, 2u);
  auto earlier = push({change(1, 3, "c", "xa-01", 103), change(1, 4, "d", "xa-01", 104)});
  EXPECT_EQ(earlier[0].server_seq, 3u) << "below the device's greatest seq, yet never applied: applied now";
  EXPECT_EQ(earlier[1].server_seq, 4u);
  auto retry = push({change(1, 3, "c", "xa-01", 103), change(1, 4, "d", "xa-01", 104), change(1, 5, "e", "xa-01", 105),
                     change(1, 6, "f", "xa-01", 106), change(1, 7, "g", "xa-01", 107)});
  std::vector<std::uint64_t> seqs;
  for (const auto& r : retry) seqs.push_back(r.server_seq);
  EXPECT_EQ(seqs, (std::vector<std::uint64_t>{3, 4, 1, 2, 5})) << "the first results, and 7 new";
  EXPECT_EQ(push({change(2, 1, "h", "xa-01", 108)})[0].server_seq, 6u) << "device 2 numbers its own changes";
  // In one push: a change twice (the second gets the first's result).
  auto twice = push({change(1, 8, "i", "xa-01", 109), change(1, 8, "i", "xa-01", 109)});
  EXPECT_EQ(twice[0].server_seq, 7u);
  EXPECT_EQ(twice[1].server_seq, 7u);
  data_.reset();
  auto d = ServerStore::open(*store_);
  ASSERT_OK(d);
  data_ = std::move(d).value();
  EXPECT_EQ(push({change(1, 6, "f", "xa-01", 106)})[0].server_seq, 2u) << "after a restart too";
  EXPECT_EQ(push({change(1, 2, "b", "xa-01", 102)})[0].server_seq, 8u);
  EXPECT_EQ(data_->logForTesting()->size(), 8u) << "eight changes, each logged once";
}

// Retention of idempotency: the results of a device's changes below what it says it has
// acknowledged are forgotten; a change below that mark arriving anyway (a push stuck in a dead
// connection) is refused, not applied a second time; the device's changes from the mark on keep
// their first results; other devices are untouched; the mark survives a restart and never goes back.
TEST_F(ServerStoreTest, ResultsBelowADevicesAcknowledgedMarkAreForgottenAndThoseChangesNotAppliedAgain) {
  std::vector<sync::Change> first;
  for (std::uint64_t seq = 1; seq <= 6; ++seq) first.push_back(change(1, seq, "r" + std::to_string(seq), "xa-01", 100));
  push(first);
  push({change(2, 1, "other", "xa-01", 100)});
  for (std::uint64_t seq = 1; seq <= 6; ++seq) EXPECT_TRUE(data_->previousResult(first[seq - 1].id)->has_value());

  auto next = push({change(1, 7, "r7", "xa-01", 107)}, {"xa-01"}, 5);
  EXPECT_EQ(next[0].outcome, sync::proto::Outcome::kAccepted);
  for (std::uint64_t seq = 1; seq <= 4; ++seq) {
    EXPECT_FALSE(data_->previousResult(first[seq - 1].id)->has_value()) << "forgotten: " << seq;
  }
  EXPECT_TRUE(data_->previousResult(first[4].id)->has_value()) << "5 is still waiting on the device";
  EXPECT_TRUE(data_->previousResult(change(2, 1, "other", "xa-01", 100).id)->has_value()) << "device 2 said nothing";
  const auto logged = data_->logForTesting()->size();

  auto replay = push({change(1, 5, "r5", "xa-01", 100), change(1, 3, "r3", "xa-01", 100)});
  EXPECT_EQ(replay[0].server_seq, 5u) << "from the mark on: the first result";
  EXPECT_EQ(replay[1].outcome, sync::proto::Outcome::kRejected);
  EXPECT_EQ(replay[1].code, static_cast<std::uint16_t>(ErrorCode::kInvalidArgument));
  EXPECT_EQ(data_->logForTesting()->size(), logged) << "nothing applied again";

  data_.reset();
  auto d = ServerStore::open(*store_);
  ASSERT_OK(d);
  data_ = std::move(d).value();
  auto older = push({change(1, 8, "r8", "xa-01", 108)}, {"xa-01"}, 2);
  EXPECT_EQ(older[0].outcome, sync::proto::Outcome::kAccepted);
  EXPECT_EQ(push({change(1, 4, "r4", "xa-01", 100)})[0].outcome, sync::proto::Outcome::kRejected)
      << "the mark is kept across a restart and never goes back";
  EXPECT_EQ(data_->logForTesting()->size(), logged + 1);
}

// Retention of the history: the changes received before the horizon leave the log and the history
// (more than one batch of them), the newer stay; the records and what a device pulls do not change.
TEST_F(ServerStoreTest, TheHistorySweepRemovesOnlyTheChangesReceivedBeforeItsHorizon) {
  const std::size_t old_changes = tuning::kRetentionBatch + 100;
  std::vector<sync::Change> old;
  for (std::size_t i = 0; i < old_changes; ++i) {
    old.push_back(change(1, i + 1, "r" + std::to_string(i % 3), "xa-01", static_cast<std::int64_t>(100 + i)));
  }
  for (std::size_t i = 0; i < old.size(); i += 500) {
    push(std::vector<sync::Change>(old.begin() + static_cast<std::ptrdiff_t>(i),
                                   old.begin() + static_cast<std::ptrdiff_t>(std::min(old.size(), i + 500))));
  }
  const auto horizon = now_ms_ + 1000;
  now_ms_ += 2000;
  push({change(1, old_changes + 1, "r0", "xa-01", 9000), change(1, old_changes + 2, "r3", "xa-01", 9001)});
  auto pulled_before = data_->pull({"xa-01"}, {}, 1 << 20);
  ASSERT_OK(pulled_before);

  auto removed = data_->sweepHistory(horizon);
  ASSERT_OK(removed);
  EXPECT_EQ(*removed, old_changes);
  EXPECT_EQ(data_->logForTesting()->size(), 2u);
  auto h0 = data_->history({"household", "r0"});
  ASSERT_OK(h0);
  ASSERT_EQ(h0->size(), 1u) << "r0's old edits went, its new one stays";
  EXPECT_EQ((*h0)[0].receive_ms, now_ms_);
  EXPECT_TRUE(data_->history({"household", "r1"})->empty());
  auto r1 = data_->record({"household", "r1"});
  ASSERT_TRUE(r1.isOk() && r1->has_value()) << "the record stays";
  auto pulled_after = data_->pull({"xa-01"}, {}, 1 << 20);
  ASSERT_OK(pulled_after);
  ASSERT_EQ(pulled_after->records.size(), pulled_before->records.size());
  for (std::size_t i = 0; i < pulled_after->records.size(); ++i) {
    EXPECT_EQ(sync::encode(pulled_after->records[i]), sync::encode(pulled_before->records[i]))
        << "devices see the same";
  }
  EXPECT_EQ(*data_->sweepHistory(horizon), 0u);
}

// Tombstones older than the retention go, walking each unit's index from its oldest entry to the
// first changed since; a device whose checkpoint is below the highest seq purged is told to pull the
// unit afresh, and an edit of a purged record's old copy is refused instead of bringing back a record
// of that edit's fields alone.
TEST_F(ServerStoreTest, ThePurgeRemovesOldTombstonesAndTellsADeviceBehindItToResync) {
  auto del = [](std::uint8_t device, std::uint64_t seq, const std::string& id, std::int64_t wall) {
    auto d = testing::deletion(device, seq, stampAt(wall, device), {{"head", stampAt(100, 1)}});
    d.key.id = id;
    return d;
  };
  push({change(1, 1, "a", "xa-01", 100), change(1, 2, "b", "xa-01", 100), change(1, 3, "c", "xa-01", 100),
        change(1, 4, "e", "xa-01", 100)});           // seqs 1-4
  push({del(1, 5, "b", 200), del(1, 6, "e", 200)});  // seqs 5, 6: old deletions
  const auto horizon = now_ms_ + 1000;
  now_ms_ += 2000;
  push({change(1, 7, "d", "xa-01", 300), del(1, 8, "c", 300)});  // seqs 7, 8: received after the horizon
  push({change(2, 1, "x", "xa-02", 300)}, {"xa-02"});            // another unit: nothing to purge

  auto purged = data_->purgeTombstones(horizon);
  ASSERT_OK(purged);
  EXPECT_EQ(*purged, 2u) << "b and e; c was deleted after the horizon";
  EXPECT_EQ(data_->purgeHorizon("xa-01"), 6u);
  EXPECT_EQ(data_->purgeHorizon("xa-02"), 0u);
  EXPECT_FALSE(data_->record({"household", "b"})->has_value());
  ASSERT_TRUE(data_->record({"household", "c"})->has_value()) << "a recent tombstone stays";
  EXPECT_EQ(*data_->purgeTombstones(horizon), 0u) << "the next purge reads on from where this one stopped";

  auto fresh = data_->pull({"xa-01", "xa-02"}, {}, 1 << 20);
  ASSERT_OK(fresh);
  std::set<std::string> ids;
  for (const auto& r : fresh->records) ids.insert(r.key.id);
  EXPECT_EQ(ids, (std::set<std::string>{"a", "c", "d", "x"})) << "a device starting from nothing";
  EXPECT_TRUE(fresh->resync.empty());

  auto behind = data_->pull({"xa-01", "xa-02"}, {{"xa-01", 5}, {"xa-02", 1}}, 1 << 20);
  ASSERT_OK(behind);
  EXPECT_EQ(behind->resync, (std::vector<sync::Scope>{"xa-01"})) << "it has not seen e's deletion";
  EXPECT_TRUE(behind->records.empty()) << "nothing of the unit to resync, nothing new in the other";
  EXPECT_TRUE(behind->more);
  auto past = data_->pull({"xa-01"}, {{"xa-01", 6}}, 1 << 20);
  ASSERT_OK(past);
  EXPECT_TRUE(past->resync.empty());
  ASSERT_EQ(past->records.size(), 2u) << "d and c's deletion";

  // The kept views are what a rebuild from the records makes.
  auto kept = data_->viewsForTesting();
  ASSERT_OK(kept);
  ASSERT_OK(data_->rebuildViews());
  EXPECT_EQ(*kept, *data_->viewsForTesting());

  // Device 3 held b and e, and edits them offline; it also makes a new record.
  auto edit_b = change(3, 1, "b", "xa-01", 150);
  edit_b.assignments[0].seen = stampAt(100, 1);
  auto results = push({edit_b, change(3, 2, "f", "xa-01", 400)});
  ASSERT_EQ(results.size(), 2u);
  EXPECT_EQ(results[0].outcome, sync::proto::Outcome::kRejected);
  EXPECT_NE(results[0].reason.find("deleted long ago"), std::string::npos) << results[0].reason;
  EXPECT_EQ(results[1].outcome, sync::proto::Outcome::kAccepted);
  EXPECT_FALSE(data_->record({"household", "b"})->has_value());

  // The horizon outlives a restart.
  data_.reset();
  auto reopened = ServerStore::open(*store_);
  ASSERT_OK(reopened);
  EXPECT_EQ((*reopened)->purgeHorizon("xa-01"), 6u);
}

// The retention runs where the files' sweep does: on the writer's thread, between groups, every
// sweep interval (an hour in the server; 20 ms here).
TEST_F(ServerStoreTest, TheWritersSweepRunsTheRetentionBetweenGroups) {
  push({change(1, 1, "a", "xa-01", 100)});  // received in 2023 (now_ms_)
  std::promise<std::size_t> removed;
  auto swept = removed.get_future();
  {
    std::atomic<bool> first{true};
    Writer writer(*data_, {}, std::chrono::milliseconds(20), [&](std::int64_t now_ms) {
      if (!first.exchange(false)) return;
      auto n = data_->sweepHistory(now_ms);
      removed.set_value(n ? *n : 0);
    });
    ASSERT_EQ(swept.wait_for(std::chrono::seconds(30)), std::future_status::ready);
  }
  EXPECT_EQ(swept.get(), 1u) << "the change received before the sweep's horizon (its now) went";
  EXPECT_TRUE(data_->logForTesting()->empty());
}

TEST_F(ServerStoreTest, RejectsScopesNotWritableAndRecordsMovingUnits) {
  auto r = push({change(1, 1, "a", "xa-02", 100), change(1, 2, "b", "xa-01", 101)});
  EXPECT_EQ(r[0].outcome, sync::proto::Outcome::kRejected);
  EXPECT_EQ(r[0].code, static_cast<std::uint16_t>(ErrorCode::kForbidden));
  EXPECT_NE(r[0].reason.find("xa-02"), std::string::npos);
  EXPECT_EQ(r[1].outcome, sync::proto::Outcome::kAccepted) << "the rest of the push goes in";
  auto moved = push({change(1, 3, "b", "xa-02", 102)}, {"xa-01", "xa-02"});
  EXPECT_EQ(moved[0].outcome, sync::proto::Outcome::kRejected);
}

TEST_F(ServerStoreTest, ARecordOverTheSizeLimitIsRefusedAlone) {
  std::vector<sync::Change> changes;
  const std::string big(200 * 1024, 'x');
  for (int i = 0; i < 6; ++i) {
    auto c = edit(1, static_cast<std::uint64_t>(i + 1), "f" + std::to_string(i), Value(big), stampAt(100 + i, 1));
    c.key.id = "huge";
    changes.push_back(c);
  }
  changes.push_back(change(1, 7, "small", "xa-01", 200));
  auto r = push(changes);
  EXPECT_EQ(r[4].outcome, sync::proto::Outcome::kAccepted);
  EXPECT_EQ(r[5].outcome, sync::proto::Outcome::kRejected);
  EXPECT_EQ(r[5].code, static_cast<std::uint16_t>(ErrorCode::kLimitExceeded));
  EXPECT_EQ(r[6].outcome, sync::proto::Outcome::kAccepted) << "everything behind it goes in";
}

TEST_F(ServerStoreTest, PullReturnsOnlyGrantedScopesInBoundedBatchesFromTheCheckpoint) {
  for (int i = 0; i < 50; ++i) {
    push({change(1, static_cast<std::uint64_t>(2 * i + 1), "a" + std::to_string(i), "xa-01", 100 + i),
          change(1, static_cast<std::uint64_t>(2 * i + 2), "b" + std::to_string(i), "xa-02", 100 + i)},
         {"xa-01", "xa-02"});
  }
  sync::proto::Checkpoints cp;
  std::set<std::string> seen;
  int batches = 0;
  for (;;) {
    auto b = data_->pull({"xa-01"}, cp, 1024);
    ASSERT_OK(b);
    ++batches;
    for (const auto& r : b->records) {
      EXPECT_EQ(r.scope, "xa-01");
      EXPECT_TRUE(seen.insert(r.key.id).second) << "sent twice: " << r.key.id;
    }
    for (const auto& [scope, seq] : b->checkpoints) cp[scope] = seq;
    if (!b->more) break;
    ASSERT_LT(batches, 100);
  }
  EXPECT_EQ(seen.size(), 50u);
  EXPECT_GT(batches, 2) << "1 KB batches";
  EXPECT_EQ(cp.at("xa-01"), 50u) << "xa-01's own sequence: nothing of xa-02's 50 changes shows";
  EXPECT_EQ(data_->lastSeq(), 100u);
  EXPECT_EQ(*data_->latest({"xa-01", "xa-02", "xa-03"}), (sync::proto::Checkpoints{{"xa-01", 50}, {"xa-02", 50}}));
  auto nothing = data_->pull({"xa-01"}, cp, 1 << 20);
  EXPECT_TRUE(nothing->records.empty());
  EXPECT_FALSE(nothing->more);

  // Ten edits of one record arrive as one.
  for (int i = 0; i < 10; ++i) {
    auto c = change(2, static_cast<std::uint64_t>(i + 1), "a0", "xa-01", 1000 + i);
    c.assignments[0].seen = i == 0 ? sync::Stamp{} : stampAt(1000 + i - 1, 2);
    push({c});
  }
  auto ten = data_->pull({"xa-01"}, cp, 1 << 20);
  ASSERT_EQ(ten->records.size(), 1u);
  EXPECT_EQ(*ten->records[0].fields.at("head").value.get<std::string>(), "v10");
}

// A change that makes a record as it was sent is exact: its device can work the record out itself
// (the same merge into nothing, at the receive time the result gives), so its pulls, when it says
// it holds such records, step over it, and move the checkpoint past it. Anything else the server
// did to the change (an existing record, a clamp) is not exact and comes back in the pull as before;
// other devices, and the device pulling a unit from 0, get every record.
TEST_F(ServerStoreTest, AChangeThatMakesARecordAsSentIsExactAndItsDeviceStepsOverIt) {
  const auto a1 = change(1, 1, "a", "xa-01", 100);
  auto made = push({a1});
  ASSERT_EQ(made.size(), 1u);
  EXPECT_TRUE(made[0].exact);
  EXPECT_EQ(made[0].receive_time_ms, now_ms_);
  ASSERT_TRUE(data_->record({"household", "a"})->has_value());
  EXPECT_EQ(**data_->record({"household", "a"}), sync::merge(std::nullopt, a1, made[0].receive_time_ms).record)
      << "the device's own merge gives the server's record";
  EXPECT_TRUE(push({a1})[0].exact) << "a replay gets the first result, exactness and time included";
  EXPECT_EQ(push({a1})[0].receive_time_ms, made[0].receive_time_ms);

  auto second = change(1, 2, "a", "xa-01", 200);
  second.assignments[0].seen = stampAt(100, 1);
  auto edited = push({second});
  EXPECT_FALSE(edited[0].exact) << "the record was there: the device pulls what it became";
  EXPECT_EQ(edited[0].receive_time_ms, 0);
  auto ahead = change(1, 3, "c", "xa-01", now_ms_ + 60 * 60 * 1000);
  auto clamped = push({ahead});
  EXPECT_TRUE(clamped[0].clamped);
  EXPECT_FALSE(clamped[0].exact) << "the server changed its stamp";

  // Device 1 makes b (seq 4 of the unit), device 2 makes x (5), device 1 makes d (6).
  const auto device1 = a1.id.device;
  push({change(1, 4, "b", "xa-01", 300)});
  EXPECT_TRUE(push({change(2, 1, "x", "xa-01", 300)})[0].exact);
  push({change(1, 5, "d", "xa-01", 301)});
  auto ids = [](const sync::proto::PullBatch& b) {
    std::set<std::string> out;
    for (const auto& r : b.records) out.insert(r.key.id);
    return out;
  };
  auto stepped = data_->pull({"xa-01"}, {{"xa-01", 1}}, 1 << 20, &device1);
  ASSERT_OK(stepped);
  EXPECT_EQ(ids(*stepped), (std::set<std::string>{"a", "c", "x"})) << "b and d are device 1's, as it holds them";
  EXPECT_EQ(stepped->checkpoints.at("xa-01"), 6u) << "the checkpoint moves past what was stepped over";
  EXPECT_FALSE(stepped->more);
  auto all = data_->pull({"xa-01"}, {{"xa-01", 1}}, 1 << 20);
  EXPECT_EQ(ids(*all), (std::set<std::string>{"a", "b", "c", "d", "x"})) << "a device that did not say so";
  auto device2 = change(2, 1, "x", "xa-01", 300).id.device;
  EXPECT_EQ(ids(*data_->pull({"xa-01"}, {{"xa-01", 1}}, 1 << 20, &device2)),
            (std::set<std::string>{"a", "b", "c", "d"}));
  EXPECT_EQ(ids(*data_->pull({"xa-01"}, {}, 1 << 20, &device1)), (std::set<std::string>{"a", "b", "c", "d", "x"}))
      << "from 0 the device holds nothing of the unit";

  // A long run of stepped-over entries still ends a small batch, and the pull goes on from there.
  for (std::uint64_t seq = 6; seq < 206; ++seq) push({change(1, seq, "e" + std::to_string(seq), "xa-01", 400)});
  sync::proto::Checkpoints cp{{"xa-01", 6}};
  int batches = 0;
  for (bool more = true; more; ++batches) {
    auto b = data_->pull({"xa-01"}, cp, 1024, &device1);
    ASSERT_OK(b);
    EXPECT_TRUE(b->records.empty());
    for (const auto& [scope, seq] : b->checkpoints) cp[scope] = seq;
    more = b->more;
    ASSERT_LT(batches, 100);
  }
  EXPECT_GT(batches, 1);
  EXPECT_EQ(cp.at("xa-01"), 206u);

  // Once another device edits b, its entry is that device's: device 1 pulls b again.
  auto other = change(2, 2, "b", "xa-01", 500);
  other.assignments[0].seen = stampAt(300, 1);
  EXPECT_FALSE(push({other})[0].exact);
  EXPECT_EQ(ids(*data_->pull({"xa-01"}, cp, 1 << 20, &device1)), (std::set<std::string>{"b"}));
}

TEST_F(ServerStoreTest, ConflictsTravelWithTheirScope) {
  push({change(1, 1, "a", "xa-01", 100)});
  auto mine = change(2, 1, "a", "xa-01", 200);
  push({mine});  // did not see device 1's write
  auto b = data_->pull({"xa-01"}, {}, 1 << 20);
  ASSERT_EQ(b->conflicts.size(), 1u);
  EXPECT_EQ(b->conflicts[0].field, "head");
  auto other = data_->pull({"xa-02"}, {}, 1 << 20);
  EXPECT_TRUE(other->conflicts.empty());
  EXPECT_TRUE(other->records.empty());
}

}  // namespace
}  // namespace communesync::server
