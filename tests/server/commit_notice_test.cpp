// The notice one server sends the others after each commit (store/commit_notice.hpp).
#include "store/commit_notice.hpp"

#include <gtest/gtest.h>

#include "communesync/storage/tuning.hpp"

namespace communesync::server {
namespace {

TEST(CommitNotice, ReadsBackWhatItSays) {
  CommitNotice notice{42, {{"xa-01", 7}, {"_forms", 3}, {"Xã Tả Phìn", 1}}};
  auto texts = commitNotices(notice);
  ASSERT_EQ(texts.size(), 1u);
  auto back = parseCommitNotice(texts[0]);
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(back->log_seq, 42u);
  EXPECT_EQ(back->scopes, notice.scopes);
  auto bare = parseCommitNotice(commitNotices({9, {}})[0]);
  ASSERT_TRUE(bare.has_value()) << "a commit that moved no unit (file pieces alone)";
  EXPECT_EQ(bare->log_seq, 9u);
  EXPECT_TRUE(bare->scopes.empty());
}

TEST(CommitNotice, AGroupOfManyUnitsIsSplitIntoNoticesPostgresTakes) {
  CommitNotice notice{1000, {}};
  for (int i = 0; i < 2000; ++i) notice.scopes["unit-" + std::to_string(i)] = static_cast<std::uint64_t>(i + 1);
  auto texts = commitNotices(notice);
  EXPECT_GT(texts.size(), 1u);
  sync::proto::Checkpoints together;
  for (const auto& text : texts) {
    EXPECT_LE(text.size(), storage::tuning::kMaxNoticeBytes);
    auto part = parseCommitNotice(text);
    ASSERT_TRUE(part.has_value());
    EXPECT_EQ(part->log_seq, 1000u);
    together.insert(part->scopes.begin(), part->scopes.end());
  }
  EXPECT_EQ(together, notice.scopes);
}

TEST(CommitNotice, OtherNoticesAndMalformedOnesAreNotCommits) {
  EXPECT_FALSE(parseCommitNotice(kDirectoryNotice).has_value());
  EXPECT_FALSE(parseCommitNotice("").has_value());
  EXPECT_FALSE(parseCommitNotice("c x").has_value());
  EXPECT_FALSE(parseCommitNotice("c 1\nunit-without-seq").has_value());
  EXPECT_FALSE(parseCommitNotice("c 1\nunit\t-3").has_value());
}

}  // namespace
}  // namespace communesync::server
