// Isolation, randomised and seeded: many users with random grants (changing as they go) push and
// pull random records through the real protocol handler. Every frame the server sends a device is
// checked against an oracle of the access rule written here independently (a parent walk and the
// role table): no record, checkpoint, notify or access list names a unit outside the user's grants;
// every change accepted was allowed; every allowed change was accepted; the server's log holds
// nothing else.
#include <gtest/gtest.h>

#include <map>
#include <random>
#include <set>
#include <tuple>

#include "assert_ok.hpp"
#include "communesync/client/local_store.hpp"
#include "communesync/client/replicator.hpp"
#include "sim_network.hpp"
#include "store_backends.hpp"
#include "temp_dir.hpp"

namespace communesync::testing {
namespace {

namespace proto = sync::proto;

// The unit tree of the test, as parent links (the oracle's own view; the server gets it as CSV).
const std::map<std::string, std::string> kParent = {
    {"P", ""},     {"D1", "P"},   {"D2", "P"},     {"C11", "D1"},   {"C12", "D1"},
    {"C21", "D2"}, {"C22", "D2"}, {"V111", "C11"}, {"V121", "C12"}, {"V211", "C21"},
};
const char* kLevel(const std::string& code) {
  if (code == "P") return "province";
  if (code[0] == 'D') return "district";
  if (code[0] == 'C') return "commune";
  return "village";
}
const std::vector<std::string> kRoles = {"field", "sponsor", "district", "reconciler", "admin"};
const std::vector<std::string> kCollections = {"household_survey", "twinning_plan", "support_result"};

bool under(const std::string& code, const std::string& ancestor) {
  for (std::string c = code; !c.empty(); c = kParent.at(c)) {
    if (c == ancestor) return true;
  }
  return false;
}

using Grants = std::set<std::pair<std::string, std::string>>;  // (role, unit)

bool oracleReads(const Grants& grants, const std::string& scope) {
  if (scope == "_forms") return true;  // every device reads the forms
  for (const auto& [role, unit] : grants) {
    if (role != "admin" && under(scope, unit)) return true;
  }
  return false;
}

bool oracleWrites(const Grants& grants, const std::string& scope, const std::string& collection) {
  for (const auto& [role, unit] : grants) {
    if (!under(scope, unit)) continue;
    if (role == "field" || role == "reconciler") return true;
    if (role == "sponsor" && (collection == "twinning_plan" || collection == "support_result")) return true;
    if (role == "district" && scope == unit) return true;
  }
  return false;
}

struct User {
  std::string name;
  std::string token;
  Grants grants;
  std::unique_ptr<client::LocalStore> store;
  std::map<std::uint64_t, sync::Change> pushed;  // device seq -> change, to judge results
};

// Each seed on each store backend (tests/support/store_backends.hpp).
class IsolationTest : public ::testing::TestWithParam<std::tuple<testing::Backend, std::uint64_t>> {
 protected:
  void SetUp() override {
    if (!testing::ScratchStores::available(backend())) GTEST_SKIP() << "no PostgreSQL cluster for this run";
  }
  testing::Backend backend() const { return std::get<0>(GetParam()); }
  testing::ScratchStores stores_{backend()};
};

TEST_P(IsolationTest, NoUserEverSeesOrChangesARecordOutsideItsGrants) {
  const std::uint64_t seed = std::get<1>(GetParam());
  std::mt19937_64 rng(seed);
  TempDir dir;
  SimServer server(dir / "server", backend() == testing::Backend::kPostgres ? stores_.location("server") : "");
  const server::Actor actor{"test", "local"};

  std::string csv = "code,parent_code,level,name\n";
  for (const auto& [code, parent] : kParent) csv += code + "," + parent + "," + kLevel(code) + ",Đơn vị " + code + "\n";
  auto units = server::parseUnitsCsv(csv);
  ASSERT_OK(units);
  ASSERT_OK(server.directory().importUnits(*units, actor));

  std::vector<std::string> codes;
  for (const auto& [code, parent] : kParent) codes.push_back(code);
  // Admin is granted on the tree's root only (the directory refuses it below: access.hpp).
  auto randomGrant = [&] {
    auto role = kRoles[rng() % kRoles.size()];
    auto unit = codes[rng() % codes.size()];
    return std::make_pair(role, role == "admin" ? std::string("P") : unit);
  };
  auto toServer = [](const Grants& grants) {
    std::vector<server::Grant> out;
    for (const auto& [role, unit] : grants) out.push_back(*server::parseGrant(role + ":" + unit));
    return out;
  };

  std::vector<User> users(8);
  for (std::size_t i = 0; i < users.size(); ++i) {
    auto& u = users[i];
    u.name = "user" + std::to_string(i);
    const auto n = 1 + rng() % 3;
    while (u.grants.size() < n) u.grants.insert(randomGrant());
    auto token = server.directory().addUser(u.name, toServer(u.grants), "", actor);
    ASSERT_OK(token);
    u.token = *token;
    sync::DeviceId id;
    id.bytes[0] = 0x15;
    id.bytes[15] = static_cast<std::uint8_t>(i + 1);
    auto store = client::LocalStore::open(dir / u.name, id);
    ASSERT_OK(store);
    u.store = std::move(store).value();
  }

  std::size_t frames_checked = 0;
  std::size_t accepted = 0;
  std::size_t rejected = 0;
  for (int step = 0; step < 120; ++step) {
    server.now_ms += 1000;
    auto& u = users[rng() % users.size()];
    const auto action = rng() % 10;
    if (action < 5) {  // write a few records, anywhere
      for (int k = 0; k < 3; ++k) {
        const auto scope = codes[rng() % codes.size()];
        const auto collection = kCollections[rng() % kCollections.size()];
        // Ids name their unit: a record cannot move between units, and that rule is not under test.
        const auto id = scope + "-" + std::to_string(rng() % 6);
        auto r = u.store->put(collection, id, scope, {{"n", sync::Value(static_cast<std::int64_t>(step))}},
                              milliseconds(server.now_ms));
        ASSERT_OK(r);
      }
    } else if (action < 9) {  // sync, checking every frame the server sends
      auto pending = u.store->pending(0, 1000, 1 << 30);
      ASSERT_OK(pending);
      for (const auto& p : *pending) u.pushed[p.change.id.seq] = p.change;
      SimTransport transport(server, u.token, rng, Faults{});
      const Grants grants = u.grants;
      std::string leak;
      transport.on_server_frame = [&](std::string_view frame) {
        ++frames_checked;
        auto env = proto::decodeFrame(frame, 1 << 26);
        if (!env) return;
        auto checkScope = [&](const std::string& scope, const char* where) {
          if (!oracleReads(grants, scope)) leak += std::string(where) + " names " + scope + "; ";
        };
        if (auto b = proto::unwrap<proto::PullBatch>(*env)) {
          for (const auto& r : b->records) checkScope(r.scope, "a pulled record");
          for (const auto& c : b->conflicts) checkScope(c.scope, "a conflict");
          for (const auto& [scope, seq] : b->checkpoints) checkScope(scope, "a checkpoint");
        } else if (auto w = proto::unwrap<proto::Welcome>(*env)) {
          for (const auto& s : w->scopes) checkScope(s, "welcome.scopes");
          for (const auto& [scope, seq] : w->latest) checkScope(scope, "welcome.latest");
        } else if (auto n = proto::unwrap<proto::Notify>(*env)) {
          for (const auto& [scope, seq] : n->latest) checkScope(scope, "a notify");
        } else if (auto a = proto::unwrap<proto::Access>(*env)) {
          for (const auto& s : a->scopes) checkScope(s, "access.scopes");
        } else if (auto r = proto::unwrap<proto::PushResult>(*env)) {
          for (const auto& result : r->results) {
            auto it = u.pushed.find(result.id.seq);
            if (it == u.pushed.end()) continue;
            const bool allowed = oracleWrites(grants, it->second.scope, it->second.key.collection);
            const bool ok = result.outcome == proto::Outcome::kAccepted;
            if (ok != allowed) {
              leak += "change to " + it->second.scope + "/" + it->second.key.collection + " was " +
                      (ok ? "accepted" : "rejected (" + result.reason + ")") + "; ";
            }
            (ok ? accepted : rejected) += 1;
          }
        }
      };
      auto report = client::syncOnce(*u.store, transport);
      ASSERT_OK(report.status);
      ASSERT_TRUE(leak.empty()) << "seed " << seed << ", " << u.name << ": " << leak;
      // What the device holds, it may read (records of its own not yet answered aside: none here).
      for (const auto& r : *u.store->all()) {
        ASSERT_TRUE(oracleReads(u.grants, r.scope)) << "seed " << seed << ": " << u.name << " holds " << r.scope;
      }
    } else {  // the administrator changes the user's grants
      auto g = randomGrant();
      if (u.grants.count(g) != 0 && u.grants.size() > 1) {
        u.grants.erase(g);
        ASSERT_OK(server.directory().revokeGrants(u.name, toServer({g}), actor));
      } else {
        u.grants.insert(g);
        ASSERT_OK(server.directory().grant(u.name, toServer({g}), actor));
      }
    }
  }
  EXPECT_GT(frames_checked, 50u);
  EXPECT_GT(accepted, 10u) << "seed " << seed;
  EXPECT_GT(rejected, 10u) << "seed " << seed;

  // The log holds the accepted changes and nothing else: no refused change slipped in.
  auto log = server.data().logForTesting();
  ASSERT_OK(log);
  EXPECT_EQ(log->size(), accepted) << "seed " << seed;
}

INSTANTIATE_TEST_SUITE_P(Seeds, IsolationTest,
                         ::testing::Combine(testing::kBothBackends, ::testing::Range<std::uint64_t>(1, 9)),
                         [](const ::testing::TestParamInfo<IsolationTest::ParamType>& param_info) {
                           return (std::get<0>(param_info.param) == testing::Backend::kRocksDb ? "RocksDb"
                                                                                               : "Postgres") +
                                  std::to_string(std::get<1>(param_info.param));
                         });

}  // namespace
}  // namespace communesync::testing
