#include "communesync/client/local_store.hpp"

#include <set>

#include <gtest/gtest.h>

#include "assert_ok.hpp"
#include "communesync/sync/merge.hpp"
#include "temp_dir.hpp"

namespace communesync::client {
namespace {

using std::chrono::milliseconds;
using sync::Value;

milliseconds t(std::int64_t ms) {
  return milliseconds(1'800'000'000'000 + ms);
}

std::unique_ptr<LocalStore> openStore(const std::filesystem::path& p) {
  auto s = LocalStore::open(p);
  EXPECT_OK(s);
  return std::move(s).value();
}

TEST(LocalStore, PutGetListDelete) {
  testing::TempDir dir;
  auto store = openStore(dir / "s");
  auto id = store->put("household", "", "xa-01", {{"head", Value("Lò Văn Pá")}, {"members", Value(6)}}, t(0));
  ASSERT_OK(id);
  EXPECT_EQ(id->size(), 32u);
  auto r = store->get({"household", *id});
  ASSERT_TRUE(r.isOk() && r->has_value());
  EXPECT_EQ(*(*r)->fields.at("head").value.get<std::string>(), "Lò Văn Pá");
  EXPECT_EQ((*r)->scope, "xa-01");

  ASSERT_OK(store->put("household", *id, "", {{"members", Value(7)}}, t(1)));
  r = store->get({"household", *id});
  EXPECT_EQ(*(*r)->fields.at("members").value.get<std::int64_t>(), 7);
  EXPECT_EQ(*(*r)->fields.at("head").value.get<std::string>(), "Lò Văn Pá") << "other fields kept";

  ASSERT_OK(store->put("plan", "", "xa-01", {{"x", Value(1)}}, t(2)));
  EXPECT_EQ(store->list("household")->size(), 1u);
  EXPECT_EQ(store->all()->size(), 2u);

  ASSERT_OK(store->remove({"household", *id}, t(3)));
  EXPECT_FALSE(store->get({"household", *id})->has_value());
  EXPECT_EQ(store->remove({"household", *id}, t(4)).code(), ErrorCode::kNotFound);

  // put --id on a deleted record re-creates it
  ASSERT_OK(store->put("household", *id, "", {{"members", Value(8)}}, t(5)));
  r = store->get({"household", *id});
  ASSERT_TRUE(r->has_value());
  EXPECT_EQ(*(*r)->fields.at("head").value.get<std::string>(), "Lò Văn Pá") << "revived whole";
  EXPECT_EQ(store->status()->pending, 5u);
}

TEST(LocalStore, BadInputIsRefusedAndNothingSaved) {
  testing::TempDir dir;
  auto store = openStore(dir / "s");
  EXPECT_EQ(store->put("household", "", "", {{"a", Value(1)}}, t(0)).status().code(), ErrorCode::kInvalidArgument);
  EXPECT_FALSE(store->put("household", "", "xa-01", {{"a", Value("\xC3")}}, t(0)).isOk());
  EXPECT_FALSE(store->put("", "", "xa-01", {{"a", Value(1)}}, t(0)).isOk());
  auto id = store->put("household", "", "xa-01", {{"a", Value(1)}}, t(0));
  ASSERT_OK(id);
  auto moved = store->put("household", *id, "xa-02", {{"a", Value(2)}}, t(1));
  EXPECT_EQ(moved.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(store->status()->pending, 1u);
}

TEST(LocalStore, WritesSurviveReopenWithTheSameDevice) {
  testing::TempDir dir;
  std::string id;
  sync::DeviceId device;
  {
    auto store = openStore(dir / "s");
    device = store->deviceId();
    id = *store->put("household", "", "xa-01", {{"a", Value(1)}}, t(0));
  }
  auto store = openStore(dir / "s");
  EXPECT_EQ(store->deviceId(), device);
  EXPECT_TRUE(store->get({"household", id})->has_value());
  auto pending = store->pending(0, 100, 1 << 20);
  ASSERT_EQ(pending->size(), 1u);
  EXPECT_EQ(pending->front().change.id.seq, 1u);
  // The sequence continues after reopening.
  ASSERT_OK(store->put("household", id, "", {{"a", Value(2)}}, t(1)));
  EXPECT_EQ(store->pending(0, 100, 1 << 20)->back().change.id.seq, 2u);
}

TEST(LocalStore, SecondOpenIsLocked) {
  testing::TempDir dir;
  auto store = openStore(dir / "s");
  auto second = LocalStore::open(dir / "s");
  ASSERT_FALSE(second.isOk());
  EXPECT_EQ(second.status().code(), ErrorCode::kLocked);
}

TEST(LocalStore, EditSeesWhatTheDeviceHeld) {
  testing::TempDir dir;
  auto store = openStore(dir / "s");
  auto id = *store->put("household", "", "xa-01", {{"a", Value(1)}}, t(0));
  ASSERT_OK(store->put("household", id, "", {{"a", Value(2)}}, t(0)));
  auto pending = *store->pending(0, 10, 1 << 20);
  ASSERT_EQ(pending.size(), 2u);
  EXPECT_EQ(pending[1].change.assignments[0].seen, pending[0].change.assignments[0].stamp);
  EXPECT_GT(pending[1].change.assignments[0].stamp, pending[0].change.assignments[0].stamp)
      << "same millisecond: the counter orders them";
}

TEST(LocalStore, AcceptedLeaveTheOutboxRejectedAreKeptWithReason) {
  // Both ways: results alone (the outbox entries read back) and with the push they answer in hand.
  for (const bool with_push : {false, true}) {
    SCOPED_TRACE(with_push ? "with the push in memory" : "results alone");
    testing::TempDir dir;
    auto store = openStore(dir / "s");
    auto a = *store->put("household", "", "xa-01", {{"a", Value(1)}}, t(0));
    auto b = *store->put("household", "", "xa-01", {{"b", Value(1)}}, t(1));
    auto pending = *store->pending(0, 10, 1 << 20);
    std::vector<sync::Change> pushed;
    for (const auto& p : pending) pushed.push_back(p.change);
    const auto* in_memory = with_push ? &pushed : nullptr;
    std::vector<sync::proto::ChangeResult> results(2);
    results[0].id = pending[0].change.id;
    results[0].server_seq = 1;
    results[1].id = pending[1].change.id;
    results[1].outcome = sync::proto::Outcome::kRejected;
    results[1].code = static_cast<std::uint16_t>(ErrorCode::kForbidden);
    results[1].reason = "you may not write in unit 'xa-01'";
    ASSERT_OK(store->applyResults(results, t(2), in_memory));
    auto st = *store->status();
    EXPECT_EQ(st.pending, 0u);
    ASSERT_EQ(st.rejected.size(), 1u);
    EXPECT_EQ(st.rejected[0].reason, "you may not write in unit 'xa-01'");
    EXPECT_EQ(st.rejected[0].change.key.id, b);
    EXPECT_TRUE(store->get({"household", a})->has_value());
    // Applying the same results again changes nothing.
    ASSERT_OK(store->applyResults(results, t(3), in_memory));
    EXPECT_EQ(store->status()->rejected.size(), 1u);

    // The user fixes the refused record; its acceptance settles the refusal.
    ASSERT_OK(store->put("household", b, "xa-01", {{"b", Value(2)}}, t(4)));
    auto fixed = *store->pending(0, 10, 1 << 20);
    ASSERT_EQ(fixed.size(), 1u);
    std::vector<sync::Change> fixed_push{fixed[0].change};
    std::vector<sync::proto::ChangeResult> ok(1);
    ok[0].id = fixed[0].change.id;
    ok[0].server_seq = 2;
    ASSERT_OK(store->applyResults(ok, t(5), with_push ? &fixed_push : nullptr));
    EXPECT_EQ(store->status()->rejected.size(), 0u);
    EXPECT_EQ(store->status()->pending, 0u);
  }
}

// An exact result (the change made the record as sent) lays the record the server holds: the
// change merged into nothing at the result's receive time. The unit's checkpoint moves past it when
// it got the sequence right after the checkpoint, and only then (another device's record may sit
// between). A result replayed after a pull that already brought a later copy leaves that copy; no
// checkpoint moves while the unit is pulled afresh.
TEST(LocalStore, AnExactResultLaysTheServersRecordAndMovesTheCheckpointOverItsOwn) {
  testing::TempDir dir;
  auto store = openStore(dir / "s");
  ASSERT_OK(store->restrictTo({"xa-01"}));
  EXPECT_FALSE(*store->resyncUnderWay()) << "what the device may read is no resync";
  const auto a = *store->put("household", "", "xa-01", {{"head", Value("Pá")}}, t(0));
  const auto b = *store->put("household", "", "xa-01", {{"head", Value("Mai")}}, t(1));
  const auto c = *store->put("household", "", "xa-01", {{"head", Value("Sùng")}}, t(2));
  auto pending = *store->pending(0, 10, 1 << 20);
  ASSERT_EQ(pending.size(), 3u);
  auto exact = [](const sync::Change& change, std::uint64_t seq, std::int64_t received) {
    sync::proto::ChangeResult r;
    r.id = change.id;
    r.server_seq = seq;
    r.exact = true;
    r.receive_time_ms = received;
    return r;
  };
  // a and b get 1 and 2; c gets 4 (3 is another device's record, not pulled yet).
  LocalStore::ResultsApplied applied;
  ASSERT_OK(store->applyResults(
      {exact(pending[0].change, 1, 7001), exact(pending[1].change, 2, 7002), exact(pending[2].change, 4, 7004)}, t(3),
      nullptr, &applied));
  EXPECT_EQ(applied.laid, 3u);
  EXPECT_EQ(applied.awaiting, 0u);
  EXPECT_EQ(store->status()->pending, 0u);
  EXPECT_EQ(store->checkpoints()->at("xa-01"), 2u) << "past a and b, not past another device's 3";
  auto held = **store->get({"household", a});
  EXPECT_EQ(held, sync::merge(std::nullopt, pending[0].change, 7001).record);
  EXPECT_EQ(held.receive_time_ms, 7001);

  // d is pushed; the result is lost in a cut; a pull brings d as another device then edited it;
  // the replayed result leaves that later copy.
  const auto d = *store->put("household", "", "xa-01", {{"head", Value("Dìn")}}, t(4));
  const auto pushed_d = store->pending(0, 10, 1 << 20)->front().change;
  sync::Record later = sync::merge(std::nullopt, pushed_d, 7005).record;
  sync::DeviceId other;
  other.bytes[0] = 9;
  later.fields["members"] = {Value(3), sync::Stamp{1'900'000'000'000, 0, other}, {}, {}};
  sync::proto::PullBatch batch;
  batch.records.push_back(later);
  batch.checkpoints["xa-01"] = 6;
  ASSERT_OK(store->applyPull(batch));
  ASSERT_OK(store->applyResults({exact(pushed_d, 5, 7005)}, t(5), nullptr, &applied));
  EXPECT_EQ(applied.laid, 1u);
  EXPECT_EQ(**store->get({"household", d}), later) << "the later copy stays";
  EXPECT_EQ(store->checkpoints()->at("xa-01"), 6u) << "a checkpoint never goes back";

  // While the unit is pulled afresh, nothing moves its checkpoint.
  sync::proto::PullBatch told;
  told.resync = {"xa-01"};
  told.more = true;
  ASSERT_OK(store->applyPull(told));
  EXPECT_TRUE(*store->resyncUnderWay());
  ASSERT_OK(store->put("household", "", "xa-01", {{"head", Value("Giàng")}}, t(6)));
  const auto pushed_e = store->pending(0, 10, 1 << 20)->front().change;
  ASSERT_OK(store->applyResults({exact(pushed_e, 1, 7006)}, t(7), nullptr, &applied));
  EXPECT_EQ(store->checkpoints()->count("xa-01"), 0u);
  EXPECT_TRUE(store->get(pushed_e.key)->has_value());
  EXPECT_TRUE(store->get({"household", b})->has_value());
  EXPECT_TRUE(store->get({"household", c})->has_value());
}

TEST(LocalStore, PulledDataNeverHidesAPendingEdit) {
  testing::TempDir dir;
  auto store = openStore(dir / "s");
  auto id = *store->put("household", "", "xa-01", {{"a", Value("mine")}}, t(0));
  sync::Record server_version;
  server_version.key = {"household", id};
  server_version.scope = "xa-01";
  sync::DeviceId other;
  other.bytes[0] = 9;
  server_version.fields["a"] = {Value("theirs"), sync::Stamp{1'900'000'000'000, 0, other}, {}, {}};
  server_version.fields["b"] = {Value("new"), sync::Stamp{1'900'000'000'000, 0, other}, {}, {}};
  sync::proto::PullBatch batch;
  batch.records.push_back(server_version);
  batch.checkpoints["xa-01"] = 5;
  ASSERT_OK(store->applyPull(batch));
  auto r = **store->get({"household", id});
  EXPECT_EQ(*r.fields.at("a").value.get<std::string>(), "mine") << "the pending local edit stays visible";
  EXPECT_EQ(*r.fields.at("b").value.get<std::string>(), "new");
  EXPECT_EQ(store->checkpoints()->at("xa-01"), 5u);
  // The next local edit is stamped after everything pulled.
  ASSERT_OK(store->put("household", id, "", {{"b", Value("edited")}}, t(1)));
  auto last = store->pending(0, 10, 1 << 20)->back();
  EXPECT_GT(last.change.assignments[0].stamp, (sync::Stamp{1'900'000'000'000, 0, other}));
  EXPECT_EQ(last.change.assignments[0].seen, (sync::Stamp{1'900'000'000'000, 0, other}));
}

TEST(LocalStore, NewIncarnationDropsCheckpointsAndQueuesEverythingAgain) {
  testing::TempDir dir;
  auto store = openStore(dir / "s");
  EXPECT_FALSE(*store->adoptIncarnation("one", {}));
  sync::Record rec;
  rec.key = {"household", "h1"};
  rec.scope = "xa-01";
  sync::DeviceId other;
  other.bytes[0] = 9;
  rec.fields["a"] = {Value(1), sync::Stamp{5, 0, other}, {}, {}};
  sync::proto::PullBatch batch;
  batch.records.push_back(rec);
  batch.checkpoints["xa-01"] = 9;
  ASSERT_OK(store->applyPull(batch));
  EXPECT_FALSE(*store->adoptIncarnation("one", {{"xa-01", 9}}));
  EXPECT_EQ(store->checkpoints()->size(), 1u);

  EXPECT_TRUE(*store->adoptIncarnation("two", {{"xa-01", 100}}));
  EXPECT_TRUE(store->checkpoints()->empty());
  auto pending = *store->pending(0, 10, 1 << 20);
  ASSERT_EQ(pending.size(), 1u);
  EXPECT_TRUE(pending[0].restore);
  EXPECT_EQ(pending[0].change.assignments[0].stamp, (sync::Stamp{5, 0, other})) << "the original stamp";
}

TEST(LocalStore, ServerBehindACheckpointMeansRestoredFromABackup) {
  testing::TempDir dir;
  auto store = openStore(dir / "s");
  ASSERT_FALSE(*store->adoptIncarnation("one", {}));
  ASSERT_OK(store->put("household", "", "xa-01", {{"a", Value(1)}}, t(0)));
  sync::proto::PullBatch batch;
  batch.checkpoints["xa-01"] = 50;
  ASSERT_OK(store->applyPull(batch));
  EXPECT_FALSE(*store->adoptIncarnation("one", {{"xa-01", 50}, {"xa-02", 70}}));
  EXPECT_TRUE(*store->adoptIncarnation("one", {{"xa-01", 40}, {"xa-02", 70}}))
      << "same id, but the server forgot xa-01's sequence 41-50";
  EXPECT_TRUE(store->checkpoints()->empty());
}

// A resync (the server purged deletions this device had not seen): the unit is pulled from 0, the
// user sees the same records until the pull ends, even across a restart, and then what the server
// did not send again is gone, except a record with an edit waiting to go up.
TEST(LocalStore, AResyncDropsWhatTheServerNoLongerHasAndKeepsPendingEdits) {
  testing::TempDir dir;
  sync::DeviceId other;
  other.bytes[0] = 9;
  auto record = [&](const std::string& id, const std::string& scope) {
    sync::Record rec;
    rec.key = {"household", id};
    rec.scope = scope;
    rec.fields["a"] = {Value(id), sync::Stamp{5, 0, other}, {}, {}};
    return rec;
  };
  auto ids = [](client::LocalStore& store) {
    std::set<std::string> out;
    for (const auto& r : *store.all()) out.insert(r.key.id);
    return out;
  };
  {
    auto store = openStore(dir / "s");
    sync::proto::PullBatch first;
    for (const char* id : {"kept", "gone", "edited", "sent-late"}) first.records.push_back(record(id, "xa-01"));
    first.records.push_back(record("other-unit", "xa-02"));
    first.checkpoints = {{"xa-01", 4}, {"xa-02", 1}};
    ASSERT_OK(store->applyPull(first));
    ASSERT_OK(store->put("household", "edited", "", {{"a", Value("mine")}}, t(0)));

    sync::proto::PullBatch told;  // the server's answer to a checkpoint below its purge horizon
    told.resync = {"xa-01"};
    told.more = true;
    client::LocalStore::PullApplied applied;
    ASSERT_OK(store->applyPull(told, &applied));
    EXPECT_EQ(applied.resync_started, 1u);
    EXPECT_EQ(store->checkpoints()->count("xa-01"), 0u) << "the unit is pulled from 0";
    EXPECT_EQ(store->checkpoints()->at("xa-02"), 1u) << "other units go on from where they were";

    sync::proto::PullBatch part;
    part.records.push_back(record("kept", "xa-01"));
    part.checkpoints = {{"xa-01", 7}};
    part.more = true;
    ASSERT_OK(store->applyPull(part));
    EXPECT_EQ(ids(*store), (std::set<std::string>{"kept", "gone", "edited", "sent-late", "other-unit"}))
        << "nothing changes for the user before the pull ends";
  }  // cut: the next sync goes on
  auto store = openStore(dir / "s");
  sync::proto::PullBatch last;
  last.records.push_back(record("sent-late", "xa-01"));
  last.checkpoints = {{"xa-01", 9}};
  client::LocalStore::PullApplied applied;
  ASSERT_OK(store->applyPull(last, &applied));
  EXPECT_EQ(applied.resync_dropped, 1u);
  EXPECT_EQ(ids(*store), (std::set<std::string>{"kept", "edited", "sent-late", "other-unit"}))
      << "'gone' was not sent again; 'edited' waits for the server's answer";
  EXPECT_EQ(*(**store->get({"household", "edited"})).fields.at("a").value.get<std::string>(), "mine");
  EXPECT_EQ(store->status()->pending, 1u);
  EXPECT_EQ(store->checkpoints()->at("xa-01"), 9u);

  sync::proto::PullBatch later;  // the resync is over: a later pull drops nothing
  later.checkpoints = {{"xa-01", 10}};
  ASSERT_OK(store->applyPull(later, &applied));
  EXPECT_EQ(applied.resync_dropped, 0u);
  EXPECT_EQ(store->all()->size(), 4u);
}

TEST(LocalStore, RestrictToPurgesOtherUnitsButKeepsUnsentEdits) {
  testing::TempDir dir;
  auto store = openStore(dir / "s");
  sync::proto::PullBatch batch;
  for (const char* scope : {"xa-01", "xa-02"}) {
    sync::Record rec;
    rec.key = {"household", std::string("h-") + scope};
    rec.scope = scope;
    sync::DeviceId other;
    other.bytes[0] = 9;
    rec.fields["a"] = {Value(1), sync::Stamp{5, 0, other}, {}, {}};
    batch.records.push_back(rec);
    batch.checkpoints[scope] = 3;
  }
  ASSERT_OK(store->applyPull(batch));
  ASSERT_OK(store->put("household", "mine", "xa-02", {{"a", Value(2)}}, t(0)));

  auto purged = store->restrictTo({"xa-01"});
  ASSERT_OK(purged);
  EXPECT_EQ(*purged, 1u) << "h-xa-02 goes; 'mine' waits for the server's answer";
  auto all = *store->all();
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].key.id, "h-xa-01");
  EXPECT_EQ(all[1].key.id, "mine");
  EXPECT_EQ(store->checkpoints()->count("xa-02"), 0u);
  EXPECT_EQ(store->checkpoints()->count("xa-01"), 1u);
}

}  // namespace
}  // namespace communesync::client
