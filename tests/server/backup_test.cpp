// Online backups on the server's side (store/backup.hpp): what a backup holds, the files it lets
// the admin tool fetch (and no other), and the backups nobody fetched going away.
#include "store/backup.hpp"

#include <gtest/gtest.h>

#include <fstream>

#include "assert_ok.hpp"
#include "store/server_store.hpp"
#include "temp_dir.hpp"

namespace communesync::server {
namespace {

constexpr std::int64_t kDayMs = 24LL * 3600 * 1000;

TEST(Backups, ABackupHoldsTheStoreAndTheTokenAndOnlyItsOwnFilesAreServed) {
  testing::TempDir dir;
  auto store = storage::Store::open(dir / "data");
  ASSERT_OK(store);
  storage::WriteBatch batch;
  batch.put(storage::Column::kRecords, "k", "v");
  ASSERT_OK((*store)->commit(batch, storage::Durability::kSynced));
  std::ofstream(dir / "data" / "admin.token") << "secret\n";
  Backups backups(**store, dir / "data");
  auto made = backups.make(1000);
  ASSERT_OK(made);
  EXPECT_EQ(made->incarnation, (*store)->incarnationId());
  bool has_token = false;
  std::uint64_t bytes = 0;
  for (const auto& f : made->files) {
    has_token |= f.name == "admin.token";
    bytes += f.bytes;
    EXPECT_EQ(f.sha256.size(), 64u);
    ASSERT_OK(backups.file(made->id, f.name));
  }
  EXPECT_TRUE(has_token) << "the files outside RocksDB come with it";
  EXPECT_EQ(bytes, made->bytes);
  EXPECT_FALSE(backups.file(made->id, "../admin.token").isOk());
  EXPECT_FALSE(backups.file(made->id, "LOCK").isOk()) << "only what the manifest lists";
  EXPECT_FALSE(backups.file("0123", "CURRENT").isOk());
  EXPECT_EQ(backups.make(2000).status().code(), ErrorCode::kBusy) << "one at a time";

  // The copy opens as a store of its own and holds what the store held.
  storage::StoreOptions read_only;
  read_only.read_only = true;
  auto copy = storage::Store::open(dir / "data" / "backups" / made->id, read_only);
  ASSERT_OK(copy);
  auto value = (*copy)->get(storage::Column::kRecords, "k");
  ASSERT_OK(value);
  EXPECT_EQ(value->value_or(""), "v");
  ASSERT_OK((*copy)->verifyChecksums());
}

TEST(Backups, ABackupNobodyFetchedGoesAfterADay) {
  testing::TempDir dir;
  auto store = storage::Store::open(dir / "data");
  ASSERT_OK(store);
  Backups backups(**store, dir / "data");
  auto made = backups.make(1000);
  ASSERT_OK(made);
  const auto folder = dir / "data" / "backups" / made->id;
  EXPECT_TRUE(std::filesystem::exists(folder));
  EXPECT_EQ(backups.expire(1000 + kDayMs - 1), 0u);
  EXPECT_EQ(backups.expire(1000 + kDayMs), 1u);
  EXPECT_FALSE(std::filesystem::exists(folder)) << "its hard links no longer hold the disk";
  EXPECT_FALSE(backups.file(made->id, "CURRENT").isOk());
  ASSERT_OK(backups.make(1000 + kDayMs));
}

TEST(BackupManifest, ANameThatIsNotAPlainFileNameIsRefused) {
  for (const char* name : {"../x", "a/b", "..", "."}) {
    nlohmann::json j{{"id", "x"},     {"created_ms", 1}, {"incarnation", "i"},
                     {"last_seq", 1}, {"bytes", 1},      {"files", {{{"name", name}, {"bytes", 1}, {"sha256", "00"}}}}};
    EXPECT_FALSE(BackupManifest::fromJson(j).isOk()) << name;
  }
  EXPECT_FALSE(BackupManifest::fromJson(nlohmann::json{{"files", 3}}).isOk());
}

}  // namespace
}  // namespace communesync::server
