// Devices and a real server over 127.0.0.1: record offline, sync in varied orders, converge.
#include <gtest/gtest.h>

#include <mutex>
#include <thread>

#include <random>
#include <set>

#include "assert_ok.hpp"
#include "base/log.hpp"
#include "communesync/sync/frame.hpp"
#include "server_harness.hpp"
#include "temp_dir.hpp"

namespace communesync {
namespace {

using sync::Value;
using testing::ServerHarness;
using testing::TestDevice;

// The end-to-end sync tests run on each store backend (tests/support/store_backends.hpp).
class Sync : public testing::OnEachStore {};

TEST_P(Sync, TwoDevicesRecordOfflineAndConverge) {
  ServerHarness server(dir / "server", stores);
  const auto token_a = server.addUser("an", {"xa-01"});
  const auto token_b = server.addUser("binh", {"xa-01"});
  TestDevice a(dir / "a", token_a);
  TestDevice b(dir / "b", token_b);
  const auto h1 = a.put("household", "", {{"head", Value("Lò Văn Pá")}, {"members", Value(6)}});
  const auto h2 = b.put("household", "", {{"head", Value("Hà Thị Mai")}, {"members", Value(3)}});
  a.syncOk(server.url());
  b.syncOk(server.url());
  a.syncOk(server.url());
  EXPECT_EQ(a.exportText(), b.exportText());
  EXPECT_NE(a.exportText().find(h2), std::string::npos);
  EXPECT_NE(b.exportText().find(h1), std::string::npos);
  EXPECT_EQ(a.pendingCount(), 0u);
}

// A device does not pull back the records it made (the server's result says the change made the
// record as sent: protocol.md 5.2), yet holds each exactly as the server does, its receive time
// included, as a device that pulled them does. What the server changed (an edit merged into a
// record) and what others did still come down; a second sync has nothing to pull.
TEST_P(Sync, ADevicesOwnNewRecordsAreNotPulledBackAndEqualTheServersCopy) {
  ServerHarness server(dir / "server", stores);
  TestDevice a(dir / "a", server.addUser("an", {"xa-01"}));
  TestDevice b(dir / "b", server.addUser("binh", {"xa-01"}));
  const auto theirs = b.put("household", "", {{"head", Value("Hà Thị Mai")}});
  b.syncOk(server.url());
  a.syncOk(server.url());
  std::vector<std::string> mine;
  for (int i = 0; i < 30; ++i) mine.push_back(a.put("household", "", {{"head", Value("Hộ " + std::to_string(i))}}));
  auto pushed = a.sync(server.url());
  ASSERT_OK(pushed.status);
  EXPECT_EQ(pushed.accepted, 30u);
  EXPECT_EQ(pushed.pulled, 0u) << "its own records are not sent back";
  auto again = a.sync(server.url());
  ASSERT_OK(again.status);
  EXPECT_EQ(again.pulled, 0u);
  auto fetched = b.sync(server.url());
  ASSERT_OK(fetched.status);
  EXPECT_EQ(fetched.pulled, 30u);
  for (const auto& id : mine) {
    auto held = a.store().get({"household", id});
    auto pulled = b.store().get({"household", id});
    ASSERT_TRUE(held.isOk() && held->has_value() && pulled.isOk() && pulled->has_value());
    EXPECT_EQ(**held, **pulled) << id;
    EXPECT_GT((*held)->receive_time_ms, 0) << "the server's receive time, from the result";
  }
  EXPECT_EQ(a.exportText(), b.exportText());

  // An edit is merged into what the server holds: the device pulls what the record became.
  a.put("household", mine[0], {{"members", Value(4)}});
  auto edited = a.sync(server.url());
  ASSERT_OK(edited.status);
  EXPECT_EQ(edited.pulled, 1u);
  // Another device's edit of a record this one made comes down as any record does.
  b.syncOk(server.url());
  b.put("household", mine[1], {{"members", Value(2)}});
  b.put("household", theirs, {{"members", Value(5)}});
  b.syncOk(server.url());
  auto heard = a.sync(server.url());
  ASSERT_OK(heard.status);
  EXPECT_EQ(heard.pulled, 2u);
  b.syncOk(server.url());
  EXPECT_EQ(a.exportText(), b.exportText());
  EXPECT_EQ(a.pendingCount(), 0u);
}

// Retention: each push says which of the device's changes it has every result of (the oldest still
// waiting), and the server forgets the results below; what the device holds is unchanged.
TEST_P(Sync, TheServerForgetsTheResultsADeviceHasAcknowledged) {
  ServerHarness server(dir / "server", stores);
  TestDevice a(dir / "a", server.addUser("an", {"xa-01"}));
  for (int i = 0; i < 5; ++i) a.put("household", "", {{"members", Value(i)}});
  a.syncOk(server.url());
  EXPECT_EQ(server.keptResults(), 5u) << "nothing acknowledged said yet";
  for (int i = 0; i < 3; ++i) a.put("household", "", {{"members", Value(10 + i)}});
  a.syncOk(server.url());
  EXPECT_EQ(server.keptResults(), 3u) << "the first five were acknowledged before this push";
  a.put("household", "", {{"members", Value(20)}});
  a.syncOk(server.url());
  EXPECT_EQ(server.keptResults(), 1u);
  TestDevice b(dir / "b", server.addUser("binh", {"xa-01"}));
  b.syncOk(server.url());
  EXPECT_EQ(a.exportText(), b.exportText());
  EXPECT_EQ(a.pendingCount(), 0u);
}

// Growth with an end: the server purges old tombstones. A device offline since before them, with
// edits waiting, is told to resynchronise the unit: its edits reach the server (an edit of a record
// whose deletion was purged is refused and kept for the user, not merged into a record of that
// edit alone), the records deleted meanwhile leave it, and it ends holding what a new device does.
TEST_P(Sync, ADeviceOfflinePastATombstonePurgeResyncsAndLosesNoPendingChange) {
  ServerHarness server(dir / "server", stores);
  TestDevice a(dir / "a", server.addUser("an", {"xa-01", "xa-02"}));
  TestDevice b(dir / "b", server.addUser("binh", {"xa-01", "xa-02"}));
  std::vector<std::string> h;
  for (int i = 0; i < 6; ++i) h.push_back(b.put("household", "", {{"members", Value(i)}}));
  const auto g = b.put("household", "", {{"members", Value(9)}}, "xa-02");
  b.syncOk(server.url());
  a.syncOk(server.url());
  ASSERT_EQ(a.store().all()->size(), 7u);

  // A goes to the hills: an edit, a new household, and an edit of one B is about to delete.
  a.put("household", h[0], {{"members", Value(60)}});
  const auto n1 = a.put("household", "", {{"members", Value(1)}});
  a.put("household", h[1], {{"members", Value(11)}});
  for (int i = 1; i <= 3; ++i) b.remove("household", h[i]);
  b.syncOk(server.url());
  std::this_thread::sleep_for(std::chrono::milliseconds(5));
  const auto now_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count();
  EXPECT_EQ(server.purgeTombstones(now_ms), 3u);

  auto report = a.sync(server.url());
  ASSERT_OK(report.status);
  EXPECT_EQ(report.resynced, 1u) << "xa-01 only: nothing was purged in xa-02";
  EXPECT_EQ(report.resync_dropped, 3u) << "h1 (its edit refused), h2 and h3";
  EXPECT_EQ(report.accepted, 2u);
  EXPECT_EQ(report.rejected, 1u);
  auto status = a.store().status();
  ASSERT_OK(status);
  ASSERT_EQ(status->rejected.size(), 1u) << "the refused edit is kept for the user";
  EXPECT_EQ(status->rejected[0].change.key.id, h[1]);
  EXPECT_NE(status->rejected[0].reason.find("deleted long ago"), std::string::npos);

  TestDevice c(dir / "c", server.addUser("chi", {"xa-01", "xa-02"}));
  c.syncOk(server.url());
  b.syncOk(server.url());
  EXPECT_EQ(a.exportText(), c.exportText());
  EXPECT_EQ(b.exportText(), c.exportText());
  std::set<std::string> held;
  for (const auto& r : *c.store().all()) held.insert(r.key.id);
  EXPECT_EQ(held, (std::set<std::string>{h[0], h[4], h[5], n1, g}));
  EXPECT_EQ(*(**c.store().get({"household", h[0]})).fields.at("members").value.get<std::int64_t>(), 60);
  a.syncOk(server.url());  // and the next sync is an ordinary one
}

TEST_P(Sync, ThreeDevicesRandomOfflineWorkGiveByteIdenticalExports) {
  const auto seed = testing::testSeed(77);
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937_64 rng(seed);
  ServerHarness server(dir / "server", stores);
  std::vector<std::unique_ptr<TestDevice>> devices;
  for (int i = 0; i < 3; ++i) {
    devices.push_back(std::make_unique<TestDevice>(dir / ("d" + std::to_string(i)),
                                                   server.addUser("user" + std::to_string(i), {"xa-01"})));
  }
  const std::vector<std::string> fields = {"head", "members", "village", "poverty"};
  for (int round = 0; round < 6; ++round) {
    for (auto& d : devices) {
      for (int op = 0; op < 8; ++op) {
        auto known = d->store().list("household");
        ASSERT_OK(known);
        const auto kind = rng() % 10;
        if (known->empty() || kind < 3) {
          d->put("household", "", {{fields[rng() % fields.size()], Value(static_cast<std::int64_t>(rng() % 100))}});
        } else if (kind < 9) {
          const auto& r = (*known)[rng() % known->size()];
          d->put("household", r.key.id, {{fields[rng() % fields.size()], Value("v" + std::to_string(rng() % 50))}});
        } else {
          d->remove("household", (*known)[rng() % known->size()].key.id);
        }
      }
    }
    std::vector<std::size_t> order = {0, 1, 2};
    std::shuffle(order.begin(), order.end(), rng);
    for (auto i : order) {
      if (rng() % 4 != 0) devices[i]->syncOk(server.url());  // some stay offline this round
    }
  }
  for (int pass = 0; pass < 2; ++pass) {
    for (auto& d : devices) d->syncOk(server.url());
  }
  const auto reference = devices[0]->exportText();
  EXPECT_FALSE(reference.empty());
  for (auto& d : devices) EXPECT_EQ(d->exportText(), reference);
}

TEST_P(Sync, ConcurrentEditsOfOneFieldGiveOneConflictWithBothValues) {
  ServerHarness server(dir / "server", stores);
  TestDevice a(dir / "a", server.addUser("an", {"xa-01"}));
  TestDevice b(dir / "b", server.addUser("binh", {"xa-01"}));
  const auto id = a.put("household", "", {{"members", Value(6)}});
  a.syncOk(server.url());
  b.syncOk(server.url());
  a.put("household", id, {{"members", Value(7)}});
  b.put("household", id, {{"members", Value(8)}});
  a.syncOk(server.url());
  b.syncOk(server.url());
  a.syncOk(server.url());
  EXPECT_EQ(a.exportText(), b.exportText());
  for (auto* d : {&a, &b}) {
    auto st = d->store().status();
    ASSERT_OK(st);
    ASSERT_EQ(st->conflicts.size(), 1u);
    const auto& c = st->conflicts[0];
    EXPECT_EQ(c.field, "members");
    std::set<std::int64_t> values = {*c.kept.value->get<std::int64_t>(), *c.lost.value->get<std::int64_t>()};
    EXPECT_EQ(values, (std::set<std::int64_t>{7, 8}));
    EXPECT_NE(c.kept.stamp.device, c.lost.stamp.device) << "both authors' devices are kept";
  }
}

TEST_P(Sync, DeleteAgainstEditKeepsTheNewerAndRecordsTheConflict) {
  ServerHarness server(dir / "server", stores);
  TestDevice a(dir / "a", server.addUser("an", {"xa-01"}));
  TestDevice b(dir / "b", server.addUser("binh", {"xa-01"}));
  const auto id = a.put("household", "", {{"head", Value("An")}, {"members", Value(6)}});
  a.syncOk(server.url());
  b.syncOk(server.url());
  a.remove("household", id);
  std::this_thread::sleep_for(std::chrono::milliseconds(5));
  b.put("household", id, {{"members", Value(9)}});  // later, without seeing the delete
  a.syncOk(server.url());
  b.syncOk(server.url());
  a.syncOk(server.url());
  EXPECT_EQ(a.exportText(), b.exportText());
  auto r = a.store().get({"household", id});
  ASSERT_TRUE(r.isOk() && r->has_value()) << "the newer edit brings the record back";
  EXPECT_EQ(*(*r)->fields.at("head").value.get<std::string>(), "An") << "whole";
  auto st = a.store().status();
  ASSERT_EQ(st->conflicts.size(), 1u);
  EXPECT_EQ(st->conflicts[0].field, "");
  EXPECT_TRUE(st->conflicts[0].lost.isDeletion());

  // And a stale device that never saw the edit does not undo the delete of another record.
  const auto gone = a.put("household", "", {{"head", Value("Ba")}});
  a.syncOk(server.url());
  b.syncOk(server.url());
  a.remove("household", gone);
  a.syncOk(server.url());
  b.syncOk(server.url());
  EXPECT_FALSE(b.store().get({"household", gone})->has_value());
}

TEST_P(Sync, ADeviceNeverReceivesRecordsOfOtherScopes) {
  ServerHarness server(dir / "server", stores);
  TestDevice x(dir / "x", server.addUser("x", {"xa-01"}));
  TestDevice y(dir / "y", server.addUser("y", {"xa-02"}));
  TestDevice z(dir / "z", server.addUser("z", {"xa-01", "xa-02"}));
  x.put("household", "", {{"head", Value("in 01")}}, "xa-01");
  y.put("household", "", {{"head", Value("in 02")}}, "xa-02");
  const auto sneaky = x.put("household", "", {{"head", Value("x writes into 02")}}, "xa-02");
  x.syncOk(server.url());
  y.syncOk(server.url());
  z.syncOk(server.url());
  x.syncOk(server.url());
  EXPECT_EQ(x.exportText().find("xa-02"), std::string::npos) << x.exportText();
  EXPECT_EQ(y.exportText().find("xa-01"), std::string::npos) << y.exportText();
  EXPECT_NE(z.exportText().find("in 01"), std::string::npos);
  EXPECT_NE(z.exportText().find("in 02"), std::string::npos);
  EXPECT_EQ(z.exportText().find("x writes into 02"), std::string::npos);
  auto st = x.store().status();
  ASSERT_EQ(st->rejected.size(), 1u) << "the refused change is kept with its reason";
  EXPECT_EQ(st->rejected[0].change.key.id, sneaky);
  EXPECT_NE(st->rejected[0].reason.find("xa-02"), std::string::npos);
}

TEST_P(Sync, WipedServerGetsEverythingBackFromTheDevices) {
  ServerHarness server(dir / "server", stores);
  auto a = std::make_unique<TestDevice>(dir / "a", server.addUser("an", {"xa-01"}));
  auto b = std::make_unique<TestDevice>(dir / "b", server.addUser("binh", {"xa-01"}));
  for (int i = 0; i < 20; ++i) a->put("household", "", {{"n", Value(i)}});
  const auto del = b->put("household", "", {{"n", Value(100)}});
  a->syncOk(server.url());
  b->syncOk(server.url());
  b->remove("household", del);
  b->syncOk(server.url());
  a->syncOk(server.url());
  const auto before = a->exportText();

  server.wipeAndRestart();
  // The users are made again (tokens lived in the wiped store); b keeps its local store.
  b.reset();
  b = std::make_unique<TestDevice>(dir / "b", server.addUser("binh", {"xa-01"}));
  TestDevice c(dir / "c", server.addUser("chi", {"xa-01"}));
  auto report = b->sync(server.url());
  ASSERT_OK(report.status);
  EXPECT_TRUE(report.server_reset);
  c.syncOk(server.url());
  EXPECT_EQ(c.exportText(), before) << "every record, and the delete, came back from one device";
  EXPECT_EQ(b->exportText(), before);
}

TEST_P(Sync, ServerRestoredFromAnOlderBackupGetsTheNewerDataBack) {
  ServerHarness server(dir / "server", stores);
  TestDevice a(dir / "a", server.addUser("an", {"xa-01"}));
  TestDevice b(dir / "b", server.addUser("binh", {"xa-01"}));
  const auto first = a.put("household", "", {{"n", Value(1)}});
  a.syncOk(server.url());
  server.backupTo(dir / "backup");
  a.put("household", first, {{"n", Value(2)}});
  const auto later = a.put("household", "", {{"n", Value(3)}});
  a.syncOk(server.url());  // acknowledged by the server, then lost by the restore below
  const auto expected = a.exportText();

  server.restoreFrom(dir / "backup");
  auto report = a.sync(server.url());
  ASSERT_OK(report.status);
  EXPECT_TRUE(report.server_reset) << "the device noticed the server went back in time";
  b.syncOk(server.url());
  EXPECT_EQ(b.exportText(), expected);
  EXPECT_NE(b.exportText().find(later), std::string::npos);
}

TEST_P(Sync, AnOpenConnectionSyncsAgainAndHearsNotifies) {
  ServerHarness server(dir / "server", stores);
  const auto token_a = server.addUser("an", {"xa-01"});
  TestDevice a(dir / "a", token_a);
  TestDevice b(dir / "b", server.addUser("binh", {"xa-01"}));
  client::WebSocketTransport transport(server.url(), token_a);
  client::Replicator replicator(a.store(), transport);
  ASSERT_OK(replicator.connect());
  a.put("household", "", {{"n", Value(1)}});
  auto first = replicator.sync();
  ASSERT_OK(first.status);
  EXPECT_EQ(first.accepted, 1u);

  auto quiet = replicator.waitForNotify(std::chrono::milliseconds(200));
  ASSERT_OK(quiet);
  EXPECT_FALSE(*quiet) << "nothing new: no notify, and the connection stays open";

  const auto theirs = b.put("household", "", {{"n", Value(2)}});
  b.syncOk(server.url());
  auto heard = replicator.waitForNotify(std::chrono::seconds(2));
  ASSERT_OK(heard);
  EXPECT_TRUE(*heard);
  auto second = replicator.sync();  // same connection: no new handshake
  ASSERT_OK(second.status);
  EXPECT_EQ(second.pulled, 1u);
  EXPECT_TRUE(a.store().get({"household", theirs})->has_value());
  EXPECT_LT(second.bytes_sent, 200u) << "a no-push sync on an open connection is one small pull";
  replicator.close();
}

// A worker saves a household and syncs on a connection kept open: the push's answer says what is
// latest in the units it reads, its own new record is that latest, so the sync is the push alone
// (one round trip). When another device wrote meanwhile the sync pulls it. On a store several
// servers write, this server's memory is not the whole word: the device pulls to ask.
TEST_P(Sync, ASyncOfNewRecordsOnAConnectionKeptOpenIsOneRoundTrip) {
  ServerHarness server(dir / "server", stores);
  TestDevice a(dir / "a", server.addUser("an", {"xa-01"}));
  TestDevice b(dir / "b", server.addUser("binh", {"xa-01"}));
  client::WebSocketTransport inner(server.url(), a.token());
  client::CountingTransport transport(inner);
  client::Replicator replicator(a.store(), transport);
  ASSERT_OK(replicator.connect());
  const std::uint64_t per_push_sync = GetParam() == testing::Backend::kRocksDb ? 1 : 2;
  for (int i = 0; i < 3; ++i) {
    a.put("household", "", {{"n", Value(i)}});
    const auto before = transport.framesSent();
    auto synced = replicator.sync();
    ASSERT_OK(synced.status);
    EXPECT_EQ(synced.accepted, 1u);
    EXPECT_EQ(synced.pulled, 0u);
    EXPECT_EQ(transport.framesSent() - before, per_push_sync) << "sync " << i;
  }
  const auto theirs = b.put("household", "", {{"n", Value(10)}});
  b.syncOk(server.url());
  a.put("household", "", {{"n", Value(11)}});
  auto synced = replicator.sync();
  ASSERT_OK(synced.status);
  EXPECT_EQ(synced.pulled, 1u) << "the other device's record";
  EXPECT_TRUE(a.store().get({"household", theirs})->has_value());
  replicator.close();
  b.syncOk(server.url());
  EXPECT_EQ(a.exportText(), b.exportText());
}

// Protocol-level checks on a raw session.
class RawSession {
 public:
  RawSession(const std::string& url, const std::string& token) : transport_(url, token) {
    EXPECT_OK(transport_.connect());
  }
  template <class T>
  void send(const T& m, std::uint64_t id) {
    ASSERT_OK(transport_.send(sync::proto::frameOf(m, id)));
  }
  //! The next message; notifies are skipped unless asked for.
  sync::proto::Envelope receive(std::chrono::milliseconds timeout = std::chrono::seconds(5), bool notifies = false) {
    for (;;) {
      auto frame = transport_.receive(timeout);
      EXPECT_OK(frame);
      if (!frame.isOk()) return {};
      auto env = sync::proto::decodeFrame(*frame, 1 << 24);
      EXPECT_OK(env);
      if (!env.isOk()) return {};
      if (env->type == sync::proto::MessageType::kNotify && !notifies) continue;
      return *env;
    }
  }
  client::WebSocketTransport& transport() { return transport_; }

 private:
  client::WebSocketTransport transport_;
};

TEST_P(Sync, ASyncOnAConnectionKeptOpenAsksTheServerEvenBeforeTheNotifyArrives) {
  // The writer's change is acknowledged; the server's notify to the reader may still be on its way
  // when the reader syncs. The sync asks anyway, so it always brings what was acknowledged before.
  ServerHarness server(dir / "server", stores);
  TestDevice writer(dir / "w", server.addUser("an", {"xa-01"}));
  TestDevice reader(dir / "r", server.addUser("binh", {"xa-01"}));
  client::WebSocketTransport wt(server.url(), writer.token());
  client::WebSocketTransport rt(server.url(), reader.token());
  client::Replicator w(writer.store(), wt);
  client::Replicator r(reader.store(), rt);
  ASSERT_OK(w.connect());
  ASSERT_OK(r.connect());
  for (int i = 0; i < 20; ++i) {
    writer.put("household", "", {{"n", Value(i)}});
    ASSERT_OK(w.sync().status);
    auto pulled = r.sync();
    ASSERT_OK(pulled.status);
    EXPECT_EQ(pulled.pulled, 1u) << "round " << i;
  }
  w.close();
  r.close();
}

TEST_P(Sync, AConnectionTheServerClosedWhileIdleIsReopenedByTheNextSync) {
  ServerHarness server(
      dir / "server", 0, [](server::Config& c) { c.limits.session_idle_timeout = std::chrono::milliseconds(800); },
      &stores);
  TestDevice device(dir / "d", server.addUser("an", {"xa-01"}));
  client::WebSocketTransport transport(server.url(), device.token());
  client::Replicator replicator(device.store(), transport);
  device.put("household", "", {{"n", Value(1)}});
  ASSERT_OK(replicator.sync().status);
  // The app keeps the connection but reads nothing: the server ends the idle session.
  std::this_thread::sleep_for(std::chrono::milliseconds(2500));
  device.put("household", "", {{"n", Value(2)}});
  auto again = replicator.sync();
  ASSERT_OK(again.status);
  EXPECT_EQ(again.accepted, 1u);
  EXPECT_EQ(device.pendingCount(), 0u);
  replicator.close();
}

INSTANTIATE_TEST_SUITE_P(Stores, Sync, testing::kEveryServerSetup, testing::backendName);

TEST(Protocol, ReplayedChangeGetsItsFirstResultAndIsAppliedOnce) {
  testing::TempDir dir;
  ServerHarness server(dir / "server");
  const auto token = server.addUser("an", {"xa-01"});
  TestDevice d(dir / "d", token);
  d.put("household", "", {{"a", Value(1)}});
  auto pending = *d.store().pending(0, 10, 1 << 20);
  RawSession s(server.url(), token);
  sync::proto::Hello hello;
  hello.device = d.store().deviceId();
  s.send(hello, 1);
  EXPECT_EQ(s.receive().type, sync::proto::MessageType::kWelcome);
  sync::proto::Push push;
  push.changes.push_back(pending[0].change);
  s.send(push, 2);
  s.send(push, 3);  // the acknowledgement "was lost": the device sends it again
  auto first = sync::proto::unwrap<sync::proto::PushResult>(s.receive());
  auto second = sync::proto::unwrap<sync::proto::PushResult>(s.receive());
  ASSERT_TRUE(first.isOk() && second.isOk());
  EXPECT_EQ(first->results[0].server_seq, second->results[0].server_seq);
  EXPECT_EQ(first->results[0].outcome, sync::proto::Outcome::kAccepted);
  s.transport().close();
  EXPECT_EQ(server.log().size(), 1u);
}

TEST(Protocol, ConnectedDeviceIsNotifiedOfChangesInItsScopes) {
  testing::TempDir dir;
  ServerHarness server(dir / "server");
  const auto token = server.addUser("an", {"xa-01"});
  TestDevice writer(dir / "w", server.addUser("binh", {"xa-01"}));
  TestDevice other(dir / "o", server.addUser("chi", {"xa-02"}));
  RawSession s(server.url(), token);
  sync::proto::Hello hello;
  hello.device.bytes[0] = 42;
  s.send(hello, 1);
  EXPECT_EQ(s.receive().type, sync::proto::MessageType::kWelcome);

  other.put("household", "", {{"a", Value(1)}}, "xa-02");
  other.syncOk(server.url());
  auto nothing = s.transport().receive(std::chrono::milliseconds(300));
  EXPECT_FALSE(nothing.isOk()) << "no notify for a scope the device does not have";
}

TEST(Protocol, NotifyArrivesWithinASecond) {
  testing::TempDir dir;
  ServerHarness server(dir / "server");
  const auto token = server.addUser("an", {"xa-01"});
  TestDevice writer(dir / "w", server.addUser("binh", {"xa-01"}));
  RawSession s(server.url(), token);
  sync::proto::Hello hello;
  hello.device.bytes[0] = 42;
  s.send(hello, 1);
  EXPECT_EQ(s.receive().type, sync::proto::MessageType::kWelcome);
  writer.put("household", "", {{"a", Value(1)}});
  writer.syncOk(server.url());
  auto env = s.receive(std::chrono::seconds(1), /*notifies=*/true);
  EXPECT_EQ(env.type, sync::proto::MessageType::kNotify);
}

TEST(Protocol, ShutdownClosesSessionsWithGoingAway) {
  testing::TempDir dir;
  ServerHarness server(dir / "server");
  const auto token = server.addUser("an", {"xa-01"});
  RawSession s(server.url(), token);
  sync::proto::Hello hello;
  hello.device.bytes[0] = 42;
  s.send(hello, 1);
  EXPECT_EQ(s.receive().type, sync::proto::MessageType::kWelcome);
  // The device is reading (waiting for a notify) when the server stops.
  Result<std::string> after = Status::error(ErrorCode::kInternal, "not read");
  std::thread reader([&] { after = s.transport().receive(std::chrono::seconds(10)); });
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  const auto start = std::chrono::steady_clock::now();
  server.stop();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(3))
      << "a device that answers the close does not hold the shutdown";
  reader.join();
  ASSERT_FALSE(after.isOk());
  EXPECT_NE(after.status().message().find("server stopping"), std::string::npos) << after.status().message();
}

TEST(Protocol, MessagesOverALimitGetAClearErrorAndOthersAreServed) {
  testing::TempDir dir;
  ServerHarness server(dir / "server");
  const auto token = server.addUser("an", {"xa-01"});
  TestDevice d(dir / "d", token);
  for (int i = 0; i < 1001; ++i) d.put("household", "", {{"n", Value(i)}});
  {
    RawSession s(server.url(), token);
    sync::proto::Hello hello;
    hello.device = d.store().deviceId();
    s.send(hello, 1);
    EXPECT_EQ(s.receive().type, sync::proto::MessageType::kWelcome);
    sync::proto::Push push;
    auto outbox = d.store().pending(0, 2000, SIZE_MAX);
    ASSERT_OK(outbox);
    for (auto& p : *outbox) push.changes.push_back(p.change);
    ASSERT_EQ(push.changes.size(), 1001u);
    s.send(push, 2);
    auto reply = s.receive();
    ASSERT_EQ(reply.type, sync::proto::MessageType::kError);
    auto error = sync::proto::unwrap<sync::proto::Error>(reply);
    EXPECT_EQ(error->code, static_cast<std::uint16_t>(ErrorCode::kLimitExceeded));
    EXPECT_NE(error->message.find("1001 changes"), std::string::npos) << error->message;

    // A frame over the message limit ends this connection, not the server. The
    // server may close as soon as it reads the frame's header, so the send itself
    // may fail (a reset mid-write); if it completes, the close must follow, not silence.
    if (s.transport().send(std::string(5 * 1024 * 1024, '\0')).isOk()) {
      auto after = s.transport().receive(std::chrono::seconds(10));
      ASSERT_FALSE(after.isOk());
      EXPECT_EQ(after.status().message().find("no answer"), std::string::npos)
          << "the server kept the connection open: " << after.status().message();
    }
  }
  d.syncOk(server.url());  // the replicator sizes its pushes by the server's limits
  EXPECT_EQ(d.pendingCount(), 0u);
}

TEST(Protocol, GarbageGetsAnErrorAndTheServerServesOthers) {
  testing::TempDir dir;
  ServerHarness server(dir / "server");
  const auto token = server.addUser("an", {"xa-01"});
  {
    client::WebSocketTransport raw(server.url(), token);
    ASSERT_OK(raw.connect());
    ASSERT_OK(raw.send(std::string("\x00garbage", 8)));
    auto reply = raw.receive(std::chrono::seconds(5));
    ASSERT_OK(reply);
    auto env = sync::proto::decodeFrame(*reply, 1 << 20);
    ASSERT_OK(env);
    EXPECT_EQ(env->type, sync::proto::MessageType::kError);
  }
  TestDevice d(dir / "d", token);
  d.put("household", "", {{"a", Value(1)}});
  d.syncOk(server.url());
}

TEST(Protocol, BadTokenIsRefusedAtTheHandshake) {
  testing::TempDir dir;
  ServerHarness server(dir / "server");
  client::WebSocketTransport t(server.url(), "not-a-token");
  auto s = t.connect();
  ASSERT_FALSE(s.isOk());
  EXPECT_EQ(s.code(), ErrorCode::kUnauthorized) << s.toString();
  auto [status, body] = testing::adminPost(server.port(), "wrong", "/admin/users", "{}");
  EXPECT_EQ(status, 401u);
}

}  // namespace
}  // namespace communesync

namespace communesync {
namespace {

// What the server's log kept while alive (base/log.hpp), for the tests below.
class LogLines {
 public:
  LogLines() {
    server::setLogOutput([this](server::LogLevel, std::string_view line) {
      std::lock_guard lock(mutex_);
      lines_.emplace_back(line);
    });
  }
  ~LogLines() { server::setLogOutput({}); }
  std::vector<std::string> containing(const std::string& text) {
    std::lock_guard lock(mutex_);
    std::vector<std::string> out;
    for (const auto& l : lines_) {
      if (l.find(text) != std::string::npos) out.push_back(l);
    }
    return out;
  }

 private:
  std::mutex mutex_;
  std::vector<std::string> lines_;
};

// An operator sees why a session ended: one line naming the user, the device and the reason; the
// ordinary end (the device closed it) stays below the default level.
TEST(Protocol, ASessionClosedForAProtocolErrorLogsWhoAndWhyOnce) {
  LogLines log;
  testing::TempDir dir;
  ServerHarness server(dir / "server");
  const auto token = server.addUser("an", {"xa-01"});
  {
    client::WebSocketTransport raw(server.url(), token);
    ASSERT_OK(raw.connect());
    ASSERT_OK(raw.send(std::string("\x00garbage", 8)));
    ASSERT_OK(raw.receive(std::chrono::seconds(5)));
  }
  TestDevice d(dir / "d", token);
  d.put("household", "", {{"a", Value(1)}});
  d.syncOk(server.url());  // connects, syncs and closes: an ordinary end
  std::vector<std::string> ends;
  for (int i = 0; i < 100 && ends.empty(); ++i) {
    ends = log.containing("session_end");
    if (ends.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_EQ(ends.size(), 1u) << "only the refused session is at info or above";
  EXPECT_NE(ends[0].find("user=an"), std::string::npos) << ends[0];
  EXPECT_NE(ends[0].find("device="), std::string::npos) << ends[0];
  EXPECT_NE(ends[0].find("closed by the server (1008): undecodable message"), std::string::npos) << ends[0];
}

}  // namespace
}  // namespace communesync
