#include "communesync/sync/file_store.hpp"

#include <gtest/gtest.h>

#include "assert_ok.hpp"
#include "communesync/sync/file_ref.hpp"
#include "temp_dir.hpp"

namespace communesync::sync {
namespace {

std::string sha(std::string_view bytes) {
  Sha256 h;
  h.update(bytes);
  return h.finish();
}

TEST(FileRefs, HexRoundTripsAndOnlyExactHashesCount) {
  const auto raw = sha("a photo");
  const auto hex = fileHashToHex(raw);
  EXPECT_EQ(hex.size(), 64u);
  EXPECT_EQ(fileHashFromHex(hex), raw);
  EXPECT_TRUE(fileHashFromHex(hex.substr(1)).empty());
  std::string upper = hex;
  upper[0] = 'A';
  EXPECT_TRUE(fileHashFromHex(upper).empty()) << "hashes are lowercase";
  // The known SHA-256 of "abc".
  EXPECT_EQ(fileHashToHex(sha("abc")), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(FileRefs, ARecordRefersToEveryHashInItsFieldsAtAnyDepthUnlessDeleted) {
  const auto a = fileHashToHex(sha("a"));
  const auto b = fileHashToHex(sha("b"));
  const auto c = fileHashToHex(sha("c"));
  Record r;
  r.fields["photo"].value = Value(a);
  r.fields["members"].value = Value(Value::List{Value(Value::Map{{"portrait", Value(b)}}), Value("not a hash")});
  r.fields["note"].value = Value(c.substr(0, 63));
  r.fields["photo"].stamp = Stamp{100, 0, {}};
  auto refs = fileRefs(r);
  EXPECT_EQ(refs, (std::set<std::string>{fileHashFromHex(a), fileHashFromHex(b)}));
  r.tombstone.stamp = Stamp{200, 0, {}};
  EXPECT_TRUE(fileRefs(r).empty());
}

class FileStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = storage::Store::open(dir_ / "db");
    ASSERT_OK(s);
    store_ = std::move(s).value();
  }
  // Appends and commits; returns the bytes newly held.
  std::uint64_t append(FileEntry& entry, std::uint64_t offset, std::string_view data) {
    storage::WriteBatch batch;
    auto added = FileStore::append(batch, hash_, entry, offset, data);
    EXPECT_OK(added);
    FileStore::putEntry(batch, hash_, entry);
    EXPECT_OK(store_->commit(batch, storage::Durability::kSynced));
    return added.isOk() ? *added : 0;
  }

  testing::TempDir dir_;
  std::unique_ptr<storage::Store> store_;
  const std::string content_ = "0123456789abcdefghijklmnopqrstuvwxyz";
  const std::string hash_ = sha(content_);
};

TEST_F(FileStoreTest, PiecesGrowAPrefixAndOverlapsKeepOnlyWhatIsNew) {
  FileStore files(*store_);
  FileEntry entry;
  entry.size = content_.size();
  EXPECT_EQ(append(entry, 0, content_.substr(0, 10)), 10u);
  EXPECT_EQ(append(entry, 5, content_.substr(5, 10)), 5u) << "only the part past what is held";
  EXPECT_EQ(append(entry, 0, content_.substr(0, 10)), 0u) << "a piece sent twice adds nothing";
  EXPECT_EQ(entry.have, 15u);

  storage::WriteBatch batch;
  auto gap = FileStore::append(batch, hash_, entry, 20, content_.substr(20, 5));
  EXPECT_EQ(gap.status().code(), ErrorCode::kInvalidArgument);
  auto past = FileStore::append(batch, hash_, entry, 15, content_.substr(15) + "extra");
  EXPECT_EQ(past.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_TRUE(batch.empty());

  // Reads from any offset cross piece boundaries.
  auto mid = files.read(hash_, 3, 9);
  ASSERT_OK(mid);
  EXPECT_EQ(*mid, content_.substr(3, 9));
  auto tail = files.read(hash_, 12, 100);
  ASSERT_OK(tail);
  EXPECT_EQ(*tail, content_.substr(12, 3));
  EXPECT_EQ(files.read(hash_, 15, 10).status().code(), ErrorCode::kNotFound);

  auto partial = files.verify(hash_, content_.size());
  ASSERT_OK(partial);
  EXPECT_FALSE(*partial) << "a prefix is not the file";
  EXPECT_EQ(append(entry, 15, content_.substr(15)), content_.size() - 15);
  auto whole = files.verify(hash_, content_.size());
  ASSERT_OK(whole);
  EXPECT_TRUE(*whole);

  auto stored = files.entry(hash_);
  ASSERT_OK(stored);
  ASSERT_TRUE(stored->has_value());
  EXPECT_EQ((*stored)->have, content_.size());
}

TEST_F(FileStoreTest, BytesThatDoNotHashToTheNameDoNotVerifyAndEraseAllRemovesEverything) {
  FileStore files(*store_);
  FileEntry entry;
  entry.size = content_.size();
  std::string wrong = content_;
  wrong[7] = '#';
  append(entry, 0, wrong);
  auto ok = files.verify(hash_, content_.size());
  ASSERT_OK(ok);
  EXPECT_FALSE(*ok);

  storage::WriteBatch batch;
  ASSERT_OK(files.eraseAll(batch, hash_));
  ASSERT_OK(store_->commit(batch, storage::Durability::kSynced));
  auto gone = files.entry(hash_);
  ASSERT_OK(gone);
  EXPECT_FALSE(gone->has_value());
  EXPECT_EQ(files.read(hash_, 0, 10).status().code(), ErrorCode::kNotFound);
}

}  // namespace
}  // namespace communesync::sync
