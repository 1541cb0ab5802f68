// The server's files without a network: pieces through ServerStore::apply (the durability
// boundary), hash checks, limits and quotas, references from records, and the sweep.
#include <gtest/gtest.h>

#include "assert_ok.hpp"
#include "communesync/sync/file_ref.hpp"
#include "communesync/sync/file_store.hpp"
#include "store/file_group.hpp"
#include "store/server_store.hpp"
#include "sync_builders.hpp"
#include "temp_dir.hpp"

namespace communesync::server {
namespace {

namespace proto = sync::proto;
using sync::Value;
using testing::edit;
using testing::stampAt;

constexpr std::int64_t kNow = 1'700'000'000'000;
constexpr std::int64_t kHour = 3'600'000;

std::string sha(std::string_view bytes) {
  sync::Sha256 h;
  h.update(bytes);
  return h.finish();
}

class ServerFilesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = storage::Store::open(dir_ / "db");
    ASSERT_OK(s);
    store_ = std::move(s).value();
    auto d = ServerStore::open(*store_);
    ASSERT_OK(d);
    data_ = std::move(d).value();
    limits_.max_file_bytes = 1000;
    limits_.max_bytes_per_user_day = 2500;
    limits_.max_unreferenced_bytes_per_user = 100000;
    limits_.retention = std::chrono::hours(24);
    data_->setFileLimits(limits_);
    content_ = std::string(600, 'x');
    for (std::size_t i = 0; i < content_.size(); ++i) content_[i] = static_cast<char>('a' + i % 26);
    hash_ = sha(content_);
  }

  std::shared_ptr<const Access> access(const std::string& unit) {
    return std::make_shared<const Access>(std::vector<Grant>{Grant{Role::kField, unit}}, UnitTree{});
  }

  // One piece from `user`'s device `device` at time `now`; returns its ack.
  proto::FileAck put(std::uint64_t offset, std::string_view data, const std::string& user = "an",
                     std::int64_t now = kNow, const std::string& hash = {}, std::uint64_t size = 0,
                     std::uint8_t device = 1) {
    PushJob job;
    job.user = user;
    job.access = access("xa-01");
    job.device = testing::deviceNo(device);
    job.pieces.push_back(
        proto::FilePut{hash.empty() ? hash_ : hash, size == 0 ? content_.size() : size, offset, std::string(data)});
    std::vector<PushJob*> jobs{&job};
    proto::Checkpoints touched;
    auto s = data_->apply(jobs, now, touched);
    EXPECT_OK(s);
    EXPECT_EQ(job.acks.size(), 1u);
    return job.acks.empty() ? proto::FileAck{} : job.acks.front();
  }

  // A record `id` of `scope` whose field `photo` refers to `hash` (or to nothing when empty), by
  // device 1's change `seq`, made having seen its change `seen_seq` of the field (0: none).
  void refer(const std::string& id, const std::string& hash, std::uint64_t seq, std::uint64_t seen_seq = 0,
             const std::string& scope = "xa-01") {
    const auto seen = seen_seq == 0 ? sync::Stamp{} : stampAt(kNow + static_cast<std::int64_t>(seen_seq), 1);
    auto c = edit(1, seq, "photo", hash.empty() ? Value(nullptr) : Value(sync::fileHashToHex(hash)),
                  stampAt(kNow + static_cast<std::int64_t>(seq), 1), seen);
    c.key.id = id;
    c.scope = scope;
    PushJob job;
    job.access = access(scope);
    job.changes.push_back(std::move(c));
    std::vector<PushJob*> jobs{&job};
    proto::Checkpoints touched;
    ASSERT_OK(data_->apply(jobs, kNow, touched));
    ASSERT_EQ(job.results.front().outcome, proto::Outcome::kAccepted) << job.results.front().reason;
  }

  std::optional<sync::FileEntry> entry(const std::string& hash) {
    auto e = sync::FileStore(*store_).entry(hash);
    EXPECT_OK(e);
    return e.isOk() ? *e : std::nullopt;
  }

  testing::TempDir dir_;
  std::unique_ptr<storage::Store> store_;
  std::unique_ptr<ServerStore> data_;
  FileLimits limits_;
  std::string content_;
  std::string hash_;
};

TEST_F(ServerFilesTest, PiecesAreHeldAsAPrefixAndTheWholeFileCountsOnlyOnceItsHashIsChecked) {
  auto a = put(0, content_.substr(0, 200));
  EXPECT_EQ(a.code, 0);
  EXPECT_EQ(a.have, 200u);
  EXPECT_FALSE(a.complete);
  // A piece past what is held leaves a gap: ignored, and the ack says where to resume.
  auto gap = put(400, content_.substr(400, 200));
  EXPECT_EQ(gap.code, 0);
  EXPECT_EQ(gap.have, 200u);
  // A piece sent again after a cut is harmless.
  EXPECT_EQ(put(100, content_.substr(100, 200)).have, 300u);
  auto last = put(300, content_.substr(300));
  EXPECT_EQ(last.code, 0);
  EXPECT_EQ(last.have, content_.size());
  EXPECT_TRUE(last.complete);
  ASSERT_TRUE(entry(hash_).has_value());
  EXPECT_TRUE(entry(hash_)->complete);
  // Sending a complete file again writes nothing and says it is complete.
  EXPECT_TRUE(put(0, content_.substr(0, 10)).complete);
}

TEST_F(ServerFilesTest, BytesThatDoNotMatchTheHashAreDroppedAndAskedAgain) {
  std::string wrong = content_;
  wrong[10] = '!';
  put(0, wrong.substr(0, 300));
  auto last = put(300, wrong.substr(300));
  EXPECT_EQ(last.code, static_cast<std::uint16_t>(ErrorCode::kCorruption));
  EXPECT_EQ(last.have, 0u);
  EXPECT_FALSE(last.complete);
  EXPECT_FALSE(entry(hash_).has_value()) << "nothing of the bad copy is kept";
  // Sent again, right this time.
  EXPECT_TRUE(put(0, content_).complete);
}

TEST_F(ServerFilesTest, TooLargeFilesAndAUsersDailyQuotaAreRefusedWithAReason) {
  auto big = put(0, "abc", "an", kNow, sha("big"), 5000);
  EXPECT_EQ(big.code, static_cast<std::uint16_t>(ErrorCode::kLimitExceeded));
  EXPECT_NE(big.reason.find("the server takes files up to"), std::string::npos) << big.reason;

  // 2500 bytes a day for a user, whatever its devices: four files of 600 fit (from two devices),
  // the fifth does not, from any device of the user (a new device id buys nothing); another user
  // has its own quota, and a new day takes it.
  std::vector<std::string> files;
  for (int i = 0; i < 5; ++i) files.push_back(std::string(600, static_cast<char>('A' + i)));
  for (int i = 0; i < 4; ++i) {
    EXPECT_TRUE(put(0, files[i], "an", kNow, sha(files[i]), 0, static_cast<std::uint8_t>(1 + i % 2)).complete) << i;
  }
  for (int device = 1; device <= 3; ++device) {
    auto over = put(0, files[4], "an", kNow, sha(files[4]), 0, static_cast<std::uint8_t>(device));
    EXPECT_EQ(over.code, static_cast<std::uint16_t>(ErrorCode::kLimitExceeded)) << device;
    EXPECT_NE(over.reason.find("a day"), std::string::npos) << over.reason;
  }
  EXPECT_TRUE(put(0, files[4], "binh", kNow, sha(files[4]), 0, 9).complete) << "another user has its own quota";
  auto tomorrow = put(0, std::string(600, 'z'), "an", kNow + 24 * kHour, sha(std::string(600, 'z')));
  EXPECT_TRUE(tomorrow.complete) << tomorrow.reason;
}

TEST_F(ServerFilesTest, AnotherUsersWrongSizeOrWrongBytesNeitherBlockNorSpoilTheOwnersUpload) {
  // Someone who learnt the hash claims it first with a wrong size, then with the right size and
  // wrong bytes: each only starts an upload of its own.
  auto claim = put(0, "1234567", "mallory", kNow, hash_, 700);
  EXPECT_EQ(claim.code, 0) << claim.reason;
  std::string wrong(300, '!');
  EXPECT_EQ(put(0, wrong, "eve", kNow, hash_, content_.size()).have, 300u);

  // The owner's upload starts at zero and is its own: the others' pieces are not in it.
  auto states = data_->fileStates({hash_}, {"xa-01"}, "an");
  ASSERT_OK(states);
  EXPECT_EQ((*states)[0].have, 0u);
  auto first = put(0, content_.substr(0, 250), "an");
  EXPECT_EQ(first.code, 0) << first.reason;
  EXPECT_EQ(first.have, 250u);
  states = data_->fileStates({hash_}, {"xa-01"}, "an");
  ASSERT_OK(states);
  EXPECT_EQ((*states)[0].have, 250u) << "a cut upload resumes where the owner's own bytes end";
  auto last = put(250, content_.substr(250), "an");
  EXPECT_EQ(last.code, 0) << last.reason;
  EXPECT_TRUE(last.complete);
  ASSERT_TRUE(entry(hash_).has_value());
  EXPECT_TRUE(entry(hash_)->complete);
  EXPECT_EQ(entry(hash_)->uploader, "an");
  EXPECT_EQ(sync::FileStore(*store_).read(hash_, 0, 1000).value(), content_);

  // The others are told it is whole at their next piece, and their partial uploads are dropped.
  EXPECT_TRUE(put(300, wrong.substr(0, 10), "eve", kNow, hash_, content_.size()).complete);
  EXPECT_FALSE(entry(partialName(hash_, "eve")).has_value());
  auto wrong_size = put(7, "x", "mallory", kNow, hash_, 700);
  EXPECT_EQ(wrong_size.code, static_cast<std::uint16_t>(ErrorCode::kInvalidArgument)) << "the file is 600 bytes";
}

TEST_F(ServerFilesTest, UploadsNoRecordRefersToCountAgainstTheUploaderUntilReferredToOrSwept) {
  limits_.max_unreferenced_bytes_per_user = 1000;
  data_->setFileLimits(limits_);
  const std::string a(600, 'a');
  const std::string b(600, 'b');
  EXPECT_TRUE(put(0, a, "an", kNow, sha(a)).complete);
  auto refused = put(0, b, "an", kNow, sha(b));
  EXPECT_EQ(refused.code, static_cast<std::uint16_t>(ErrorCode::kLimitExceeded));
  EXPECT_NE(refused.reason.find("no record refers to yet"), std::string::npos) << refused.reason;
  EXPECT_TRUE(put(0, b, "binh", kNow, sha(b)).complete) << "another user's allowance is its own";

  // A record refers to the first file: it no longer counts, and the next upload fits.
  refer("h1", sha(a), 1);
  const std::string c(600, 'c');
  EXPECT_TRUE(put(0, c, "an", kNow, sha(c)).complete);
  // The third is never referred to: it counts until the sweep removes it.
  const std::string d(600, 'd');
  EXPECT_EQ(put(0, d, "an", kNow + 2 * kHour, sha(d)).code, static_cast<std::uint16_t>(ErrorCode::kLimitExceeded));
  ASSERT_OK(data_->sweepFiles(kNow + kHour));
  ASSERT_OK(data_->sweepFiles(kNow + 30 * kHour));
  EXPECT_FALSE(entry(sha(c)).has_value());
  EXPECT_TRUE(put(0, d, "an", kNow + 30 * kHour, sha(d)).complete);
}

TEST_F(ServerFilesTest, OnlyDevicesThatMayReadARecordReferringToAFileMayFetchIt) {
  const std::vector<Scope> commune{"xa-01"};
  const std::vector<Scope> other{"xa-02"};
  auto states = data_->fileStates({hash_}, commune, "an");
  ASSERT_OK(states);
  EXPECT_EQ((*states)[0].size, 0u) << "never heard of";
  EXPECT_FALSE((*states)[0].readable);

  refer("h1", hash_, 1);
  put(0, content_.substr(0, 100));
  states = data_->fileStates({hash_}, commune, "an");
  ASSERT_OK(states);
  EXPECT_TRUE((*states)[0].readable);
  EXPECT_EQ((*states)[0].have, 100u);
  EXPECT_EQ(data_->readFile(hash_, 0, 100, commune).status().code(), ErrorCode::kNotFound) << "not whole yet";

  put(100, content_.substr(100));
  auto data = data_->readFile(hash_, 550, 1000, commune);
  ASSERT_OK(data);
  EXPECT_EQ(data->data, content_.substr(550));
  EXPECT_EQ(data->size, content_.size());
  EXPECT_EQ(data_->readFile(hash_, 0, 100, other).status().code(), ErrorCode::kForbidden);
  states = data_->fileStates({hash_}, other, "an");
  ASSERT_OK(states);
  EXPECT_FALSE((*states)[0].readable);
}

TEST_F(ServerFilesTest, TheSweepKeepsReferencedFilesAndRemovesOrphansAfterTheRetention) {
  put(0, content_);
  refer("h1", hash_, 1);
  refer("h2", hash_, 2);
  const std::string lonely = std::string(300, 'q');
  put(0, lonely, "an", kNow, sha(lonely), lonely.size());  // uploaded, never referred to

  // One record lets go of it: still referred to by the other.
  refer("h1", "", 3, 1);
  ASSERT_OK(data_->sweepFiles(kNow + 100 * kHour));
  ASSERT_TRUE(entry(hash_).has_value());
  EXPECT_EQ(entry(hash_)->orphan_since_ms, 0);

  // The other lets go too: the first sweep notes it, a sweep a retention later removes it.
  // The never-referred upload was noted by the sweep above.
  EXPECT_EQ(entry(sha(lonely))->orphan_since_ms, kNow + 100 * kHour);
  refer("h2", "", 4, 2);
  auto first = data_->sweepFiles(kNow + 101 * kHour);
  ASSERT_OK(first);
  EXPECT_EQ(*first, 0u);
  ASSERT_TRUE(entry(hash_).has_value());
  EXPECT_EQ(entry(hash_)->orphan_since_ms, kNow + 101 * kHour);

  auto early = data_->sweepFiles(kNow + 110 * kHour);
  ASSERT_OK(early);
  EXPECT_EQ(*early, 0u) << "not before the retention";
  auto late = data_->sweepFiles(kNow + 125 * kHour);
  ASSERT_OK(late);
  EXPECT_EQ(*late, 2u);
  EXPECT_FALSE(entry(hash_).has_value());
  EXPECT_FALSE(entry(sha(lonely)).has_value());
  EXPECT_EQ(sync::FileStore(*store_).read(hash_, 0, 10).status().code(), ErrorCode::kNotFound);
}

TEST_F(ServerFilesTest, AConflictKeepsTheFileOfItsLostValueReferredTo) {
  const std::string other = std::string(200, 'w');
  put(0, content_);
  put(0, other, "an", kNow, sha(other), other.size());
  refer("h1", hash_, 1);
  // A concurrent edit from another device that did not see the first: a conflict; the lost value's
  // file stays referred to though no record holds it any more.
  auto c = edit(2, 1, "photo", Value(sync::fileHashToHex(sha(other))), stampAt(kNow - 1000, 2));
  c.key.id = "h1";
  PushJob job;
  job.access = access("xa-01");
  job.changes.push_back(std::move(c));
  std::vector<PushJob*> jobs{&job};
  proto::Checkpoints touched;
  ASSERT_OK(data_->apply(jobs, kNow, touched));
  auto conflicts = data_->conflictsForTesting();
  ASSERT_OK(conflicts);
  ASSERT_EQ(conflicts->size(), 1u);
  ASSERT_OK(data_->sweepFiles(kNow + 1000 * kHour));
  ASSERT_TRUE(entry(sha(other)).has_value());
  EXPECT_EQ(entry(sha(other))->orphan_since_ms, 0);
}

}  // namespace
}  // namespace communesync::server
