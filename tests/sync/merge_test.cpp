#include "communesync/sync/merge.hpp"

#include <gtest/gtest.h>

#include "sync_builders.hpp"

namespace communesync::sync {
namespace {

using testing::deletion;
using testing::edit;
using testing::stampAt;

Record apply(std::optional<Record> r, const std::vector<Change>& changes, std::vector<Conflict>* conflicts = nullptr) {
  for (const auto& c : changes) {
    auto out = merge(r, c, 1);
    if (conflicts) conflicts->insert(conflicts->end(), out.conflicts.begin(), out.conflicts.end());
    r = out.record;
  }
  return *r;
}

TEST(Merge, CreateThenSequentialEditHasNoConflict) {
  auto s1 = stampAt(100, 1);
  auto s2 = stampAt(200, 2);
  std::vector<Conflict> conflicts;
  auto r = apply(std::nullopt, {edit(1, 1, "head", "An", s1), edit(2, 1, "head", "Bình", s2, s1)}, &conflicts);
  EXPECT_EQ(*r.fields.at("head").value.get<std::string>(), "Bình");
  EXPECT_EQ(r.fields.at("head").stamp, s2);
  EXPECT_TRUE(conflicts.empty());
  EXPECT_EQ(r.scope, "xa-01");
  EXPECT_FALSE(r.deleted());
}

TEST(Merge, ConcurrentEditsKeepTheGreaterStampAndRecordTheLoser) {
  auto s0 = stampAt(100, 1);
  auto a = edit(1, 2, "members", 4, stampAt(300, 1), s0);
  auto b = edit(2, 1, "members", 5, stampAt(200, 2), s0);  // older, did not see a
  for (bool a_first : {true, false}) {
    std::vector<Conflict> conflicts;
    auto base = apply(std::nullopt, {edit(1, 1, "members", 3, s0)});
    auto r = apply(base, a_first ? std::vector{a, b} : std::vector{b, a}, &conflicts);
    EXPECT_EQ(*r.fields.at("members").value.get<std::int64_t>(), 4) << "greater stamp wins in either order";
    ASSERT_EQ(conflicts.size(), 1u);
    EXPECT_EQ(conflicts[0].field, "members");
    EXPECT_EQ(*conflicts[0].lost.value->get<std::int64_t>(), 5);
    EXPECT_EQ(conflicts[0].lost.stamp, stampAt(200, 2));
    EXPECT_EQ(*conflicts[0].kept.value->get<std::int64_t>(), 4);
    EXPECT_EQ(conflicts[0].status, ConflictStatus::kOpen);
  }
}

TEST(Merge, ReplayingAChangeChangesNothing) {
  auto c = edit(1, 1, "head", "An", stampAt(100, 1));
  auto once = merge(std::nullopt, c, 5);
  auto twice = merge(once.record, c, 9);
  EXPECT_FALSE(twice.changed);
  EXPECT_TRUE(twice.conflicts.empty());
  EXPECT_EQ(twice.record, once.record);
}

TEST(Merge, OlderStampNeverOverwrites) {
  auto r = apply(std::nullopt, {edit(1, 1, "x", 1, stampAt(500, 1))});
  auto out = merge(r, edit(2, 1, "x", 2, stampAt(400, 2)), 1);
  EXPECT_EQ(*out.record.fields.at("x").value.get<std::int64_t>(), 1);
  EXPECT_EQ(out.conflicts.size(), 1u) << "the older value lost to a write that did not see it";
}

TEST(Merge, DeleteThenSequentialRecreateRevivesWhole) {
  auto s1 = stampAt(100, 1);
  auto sd = stampAt(200, 2);
  std::vector<Conflict> conflicts;
  auto r = apply(std::nullopt,
                 {edit(1, 1, "head", "An", s1), edit(1, 2, "village", "Thôn 1", stampAt(101, 1)),
                  deletion(2, 1, sd, {{"head", s1}, {"village", stampAt(101, 1)}})},
                 &conflicts);
  EXPECT_TRUE(r.deleted());
  EXPECT_TRUE(conflicts.empty()) << "the deleter saw everything";
  r = apply(r, {edit(3, 1, "head", "Ba", stampAt(300, 3), s1, sd)}, &conflicts);
  EXPECT_FALSE(r.deleted());
  EXPECT_EQ(*r.fields.at("village").value.get<std::string>(), "Thôn 1") << "revived whole";
  EXPECT_TRUE(conflicts.empty()) << "the re-creator saw the delete";
}

TEST(Merge, DeleteConcurrentWithNewerEditLosesAndIsRecorded) {
  auto s1 = stampAt(100, 1);
  auto del = deletion(2, 1, stampAt(200, 2), {{"head", s1}});
  auto late_edit = edit(1, 2, "head", "Chi", stampAt(300, 1), s1);  // did not see the delete
  for (bool del_first : {true, false}) {
    std::vector<Conflict> conflicts;
    auto r = apply(apply(std::nullopt, {edit(1, 1, "head", "An", s1)}),
                   del_first ? std::vector{del, late_edit} : std::vector{late_edit, del}, &conflicts);
    EXPECT_FALSE(r.deleted());
    EXPECT_EQ(*r.fields.at("head").value.get<std::string>(), "Chi");
    ASSERT_EQ(conflicts.size(), 1u) << "delete first: " << del_first;
    EXPECT_EQ(conflicts[0].field, "");
    EXPECT_TRUE(conflicts[0].lost.isDeletion());
  }
}

TEST(Merge, EditConcurrentWithNewerDeleteIsHiddenAndRecorded) {
  auto s1 = stampAt(100, 1);
  auto e = edit(1, 2, "head", "Chi", stampAt(200, 1), s1);
  auto del = deletion(2, 1, stampAt(300, 2), {{"head", s1}});  // did not see e
  for (bool e_first : {true, false}) {
    std::vector<Conflict> conflicts;
    auto r = apply(apply(std::nullopt, {edit(1, 1, "head", "An", s1)}),
                   e_first ? std::vector{e, del} : std::vector{del, e}, &conflicts);
    EXPECT_TRUE(r.deleted());
    ASSERT_EQ(conflicts.size(), 1u) << "edit first: " << e_first;
    EXPECT_EQ(conflicts[0].field, "head");
    EXPECT_EQ(*conflicts[0].lost.value->get<std::string>(), "Chi");
    EXPECT_TRUE(conflicts[0].kept.isDeletion());
  }
}

TEST(Merge, ConflictIdIsStableAcrossDetections) {
  Conflict a{{"household", "h1"},
             "xa-01",
             "head",
             {Value("x"), stampAt(1, 1)},
             {Value("y"), stampAt(2, 2)},
             10,
             {},
             {},
             0,
             {},
             {}};
  Conflict b = a;
  b.kept = {Value("z"), stampAt(3, 3)};
  b.detected_ms = 99;
  EXPECT_EQ(a.id(), b.id());
  b.lost.stamp = stampAt(1, 2);
  EXPECT_NE(a.id(), b.id());
  EXPECT_EQ(a.id().size(), 32u);
}

TEST(Merge, CaptureAndReceiveTimesAreKept) {
  auto c = edit(1, 1, "head", "An", stampAt(100, 1));
  c.capture_time_ms = 90;
  auto out = merge(std::nullopt, c, 1234);
  EXPECT_EQ(out.record.capture_time_ms, 90);
  EXPECT_EQ(out.record.receive_time_ms, 1234);
}

}  // namespace
}  // namespace communesync::sync
