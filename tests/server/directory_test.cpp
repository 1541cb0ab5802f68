// Users, grants, passwords, device tokens, revocation, units and the audit log, on a real store.
#include "directory/directory.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "assert_ok.hpp"
#include "temp_dir.hpp"

namespace communesync::server {
namespace {

const Actor kAdmin{"admin", "127.0.0.1"};

sync::DeviceId device(std::uint8_t n) {
  sync::DeviceId d;
  d.bytes[0] = n;
  return d;
}

class DirectoryTest : public ::testing::Test {
 protected:
  void SetUp() override { reopen(); }
  void reopen() {
    directory_.reset();
    store_.reset();
    auto s = storage::Store::open(dir_ / "db");
    ASSERT_OK(s);
    store_ = std::move(s).value();
    auto d = Directory::open(*store_);
    ASSERT_OK(d);
    directory_ = std::move(d).value();
  }
  testing::TempDir dir_;
  std::unique_ptr<storage::Store> store_;
  std::unique_ptr<Directory> directory_;
};

TEST_F(DirectoryTest, AdminTokenIsMadeOnce) {
  auto admin = directory_->ensureAdminToken();
  ASSERT_TRUE(admin.isOk() && admin->has_value());
  EXPECT_TRUE(directory_->isAdminToken(**admin));
  EXPECT_FALSE(directory_->isAdminToken("nope"));
  EXPECT_FALSE(directory_->ensureAdminToken()->has_value());
}

TEST_F(DirectoryTest, UserTokensAuthenticateUntilTheUserIsDisabled) {
  auto token = directory_->addUser("an", {{Role::kField, "X1"}}, "", kAdmin);
  ASSERT_OK(token);
  auto who = directory_->authenticate(*token);
  ASSERT_TRUE(who->has_value());
  EXPECT_EQ((*who)->user, "an");
  EXPECT_TRUE((*who)->device.isNil());
  EXPECT_FALSE(directory_->addUser("an", {{Role::kField, "X1"}}, "", kAdmin).isOk());
  EXPECT_FALSE(directory_->addUser("b", {}, "", kAdmin).isOk());
  EXPECT_FALSE(directory_->authenticate("wrong")->has_value());

  const auto before = directory_->generation();
  ASSERT_OK(directory_->disableUser("an", kAdmin));
  EXPECT_GT(directory_->generation(), before);
  EXPECT_FALSE(directory_->authenticate(*token)->has_value());
}

TEST_F(DirectoryTest, PasswordLoginGivesEachDeviceItsOwnRevocableToken) {
  ASSERT_OK(directory_->addUser("binh", {{Role::kField, "X1"}}, "correct horse", kAdmin));
  EXPECT_EQ(directory_->login("binh", "wrong pass", device(1), "10.0.0.9").status().code(), ErrorCode::kUnauthorized);
  EXPECT_EQ(directory_->login("nobody", "correct horse", device(1), "10.0.0.9").status().code(),
            ErrorCode::kUnauthorized);
  auto t1 = directory_->login("binh", "correct horse", device(1), "10.0.0.9");
  auto t2 = directory_->login("binh", "correct horse", device(2), "10.0.0.9");
  ASSERT_TRUE(t1.isOk() && t2.isOk());
  auto p1 = directory_->authenticate(*t1);
  ASSERT_TRUE(p1->has_value());
  EXPECT_EQ((*p1)->device, device(1));
  EXPECT_EQ(directory_->checkDevice(**p1, device(2)).code(), ErrorCode::kForbidden) << "a token serves its device";

  ASSERT_OK(directory_->revokeDevice("binh", device(1), kAdmin));
  EXPECT_FALSE(directory_->authenticate(*t1)->has_value());
  EXPECT_TRUE(directory_->authenticate(*t2)->has_value()) << "only the revoked device loses access";
  EXPECT_EQ(directory_->login("binh", "correct horse", device(1), "10.0.0.9").status().code(), ErrorCode::kForbidden);

  ASSERT_OK(directory_->setPassword("binh", "another secret", kAdmin));
  EXPECT_FALSE(directory_->login("binh", "correct horse", device(3), "x").isOk());
  EXPECT_OK(directory_->login("binh", "another secret", device(3), "x"));
  EXPECT_FALSE(directory_->setPassword("binh", "short", kAdmin).isOk());
}

TEST_F(DirectoryTest, AUserTokenIsExchangedForADeviceTokenRevocableAlone) {
  auto user_token = directory_->addUser("khanh", {{Role::kField, "X1"}}, "", kAdmin);
  ASSERT_OK(user_token);
  auto d1 = directory_->exchangeToken(*user_token, device(1), "10.0.0.1");
  auto d2 = directory_->exchangeToken(*user_token, device(2), "10.0.0.2");
  ASSERT_TRUE(d1.isOk() && d2.isOk());
  EXPECT_NE(*d1, *user_token);
  EXPECT_EQ((*directory_->authenticate(*d1))->device, device(1));
  EXPECT_EQ(directory_->exchangeToken("not a token", device(3), "x").status().code(), ErrorCode::kUnauthorized);
  EXPECT_EQ(directory_->exchangeToken(*d1, device(2), "x").status().code(), ErrorCode::kForbidden)
      << "a device token cannot be moved to another device";
  ASSERT_OK(directory_->revokeDevice("khanh", device(1), kAdmin));
  EXPECT_FALSE(directory_->authenticate(*d1)->has_value());
  EXPECT_TRUE(directory_->authenticate(*d2)->has_value());
  EXPECT_EQ(directory_->exchangeToken(*user_token, device(1), "x").status().code(), ErrorCode::kForbidden)
      << "the revoked device cannot come back with the user token";
  EXPECT_EQ((*directory_->listUsers())[0].devices.size(), 1u);
}

TEST_F(DirectoryTest, GrantsChangeAndSurviveRestart) {
  ASSERT_OK(directory_->addUser("chi", {{Role::kField, "X1"}}, "", kAdmin));
  ASSERT_OK(directory_->grant("chi", {{Role::kSponsor, "X2"}}, kAdmin));
  ASSERT_OK(directory_->revokeGrants("chi", {{Role::kField, "X1"}}, kAdmin));
  reopen();
  auto users = directory_->listUsers();
  ASSERT_OK(users);
  ASSERT_EQ(users->size(), 1u);
  EXPECT_EQ((*users)[0].grants, (std::vector<Grant>{{Role::kSponsor, "X2"}}));
  EXPECT_EQ(directory_->grant("nobody", {{Role::kField, "X1"}}, kAdmin).code(), ErrorCode::kNotFound);
}

TEST_F(DirectoryTest, UnitImportIsIdempotentAndMergesKeepHistoryVisible) {
  auto units = parseUnitsCsv(
      "code,parent_code,level,name\nP,,province,Tỉnh\nD,P,district,Huyện\nA,D,commune,Xã A\nB,D,commune,Xã B\n");
  ASSERT_OK(units);
  auto first = directory_->importUnits(*units, kAdmin);
  ASSERT_OK(first);
  EXPECT_EQ(first->added, 4u);
  const auto generation = directory_->generation();
  auto second = directory_->importUnits(*units, kAdmin);
  ASSERT_OK(second);
  EXPECT_EQ(second->added + second->updated, 0u);
  EXPECT_EQ(second->unchanged, 4u);
  EXPECT_EQ(directory_->generation(), generation) << "importing the same file twice changes nothing";

  ASSERT_OK(directory_->mergeUnits({"A"}, "B", "2025-07-01", kAdmin));
  EXPECT_TRUE(directory_->accessOf({{Role::kField, "B"}}).mayRead("A"));
  EXPECT_FALSE(directory_->mergeUnits({"D"}, "A", "2025-07-01", kAdmin).isOk()) << "A lies under D: a cycle";
  EXPECT_FALSE(directory_->mergeUnits({"A"}, "nowhere", "2025-07-01", kAdmin).isOk());
  // Re-importing the old list does not undo the merge.
  ASSERT_OK(directory_->importUnits(*units, kAdmin));
  reopen();
  EXPECT_TRUE(directory_->accessOf({{Role::kField, "B"}}).mayRead("A"));
  EXPECT_EQ(directory_->units()->find("A")->merged_on, "2025-07-01") << "the day is kept across a restart";
}

// Retention: the entries written before the horizon go, oldest first; the newer stay, and the log
// goes on numbering after the sweep and a restart.
TEST_F(DirectoryTest, TheAuditSweepRemovesTheEntriesOlderThanItsHorizonOnly) {
  ASSERT_OK(directory_->addUser("dung", {{Role::kField, "X1"}}, "s3cret-pass", kAdmin));
  (void)directory_->login("dung", "bad-password", device(7), "10.1.2.3");
  std::this_thread::sleep_for(std::chrono::milliseconds(5));
  ASSERT_OK(directory_->login("dung", "s3cret-pass", device(7), "10.1.2.3"));
  ASSERT_OK(directory_->revokeDevice("dung", device(7), kAdmin));
  auto before = directory_->auditLog(100);
  ASSERT_OK(before);
  ASSERT_EQ(before->size(), 4u);
  auto removed = directory_->sweepAudit((*before)[2].time_ms);
  ASSERT_OK(removed);
  EXPECT_EQ(*removed, 2u);
  auto after = directory_->auditLog(100);
  ASSERT_OK(after);
  ASSERT_EQ(after->size(), 2u);
  EXPECT_EQ((*after)[0].action, "login");
  EXPECT_EQ(*directory_->sweepAudit((*before)[2].time_ms), 0u) << "nothing more below the horizon";
  reopen();
  directory_->audit(kAdmin, "units_import", "");
  auto last = directory_->auditLog(100);
  ASSERT_OK(last);
  ASSERT_EQ(last->size(), 3u);
  EXPECT_EQ(last->back().seq, (*before)[3].seq + 1) << "numbering goes on";
}

TEST_F(DirectoryTest, AuditLogRecordsWhoWhatAndWhereButNoSecrets) {
  ASSERT_OK(directory_->addUser("dung", {{Role::kField, "X1"}}, "s3cret-pass", kAdmin));
  (void)directory_->login("dung", "bad-password", device(7), "10.1.2.3");
  ASSERT_OK(directory_->login("dung", "s3cret-pass", device(7), "10.1.2.3"));
  ASSERT_OK(directory_->revokeDevice("dung", device(7), kAdmin));
  auto log = directory_->auditLog(100);
  ASSERT_OK(log);
  std::vector<std::string> actions;
  for (const auto& e : *log) {
    actions.push_back(e.action);
    EXPECT_EQ(e.detail.find("s3cret"), std::string::npos);
    EXPECT_EQ(e.detail.find("bad-password"), std::string::npos);
  }
  EXPECT_EQ(actions, (std::vector<std::string>{"user_add", "login_failed", "login", "revoke_device"}));
  EXPECT_EQ((*log)[1].from, "10.1.2.3");
  EXPECT_EQ((*log)[1].actor, "dung");
  EXPECT_EQ((*log)[3].actor, "admin");
}

}  // namespace
}  // namespace communesync::server
