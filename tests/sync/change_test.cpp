#include "communesync/sync/change.hpp"

#include <gtest/gtest.h>

#include "assert_ok.hpp"
#include "sync_builders.hpp"

namespace communesync::sync {
namespace {

using testing::edit;
using testing::stampAt;

TEST(ValidateChange, GoodChangeIsNormalised) {
  auto c = edit(1, 1, "ho\xCC\x82", "Ho\xCC\x82\xCC\x80", stampAt(10, 1));
  auto v = validateChange(c);
  ASSERT_OK(v);
  EXPECT_EQ(v->assignments[0].field, "h\xC3\xB4");
  EXPECT_EQ(*v->assignments[0].value.get<std::string>(), "H\xE1\xBB\x93");
}

TEST(ValidateChange, RefusesMalformedChangesWithReasons) {
  auto base = edit(1, 1, "head", "An", stampAt(10, 1));
  auto expectRefused = [](Change c, std::string_view words) {
    auto v = validateChange(std::move(c));
    ASSERT_FALSE(v.isOk());
    EXPECT_NE(v.status().message().find(words), std::string::npos) << v.status().message();
  };
  auto c = base;
  c.id.seq = 0;
  expectRefused(c, "start at 1");
  c = base;
  c.key.collection = "";
  expectRefused(c, "collection is empty");
  c = base;
  c.key.id = std::string("a\0b", 3);
  expectRefused(c, "record id");
  c = base;
  c.assignments.push_back(c.assignments[0]);
  expectRefused(c, "assigned twice");
  c = base;
  c.assignments[0].stamp.device = testing::deviceNo(9);
  expectRefused(c, "another device");
  c = base;
  c.assignments.clear();
  expectRefused(c, "either assigns");
  c = base;
  c.assignments[0].seen = stampAt(20, 2);
  expectRefused(c, "before the value it replaced");
  c = base;
  c.assignments[0].value = Value("\xC3");
  expectRefused(c, "UTF-8");
}

}  // namespace
}  // namespace communesync::sync
