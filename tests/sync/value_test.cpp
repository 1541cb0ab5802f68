#include "communesync/sync/value.hpp"

#include <gtest/gtest.h>

#include "assert_ok.hpp"
#include "communesync/sync/text.hpp"
#include "communesync/sync/tuning.hpp"

namespace communesync::sync {
namespace {

// "Hồ" decomposed: o + combining circumflex + combining grave.
const std::string kDecomposed = "Ho\xCC\x82\xCC\x80";
const std::string kComposed = "H\xE1\xBB\x93";

TEST(Text, NfcComposesVietnamese) {
  auto nfc = toNfc(kDecomposed);
  ASSERT_OK(nfc);
  EXPECT_EQ(*nfc, kComposed);
  EXPECT_EQ(*toNfc(kComposed), kComposed);
}

TEST(Text, InvalidUtf8IsRefused) {
  auto bad = toNfc("abc\xC3");
  ASSERT_FALSE(bad.isOk());
  EXPECT_EQ(bad.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_FALSE(isCleanUtf8("abc\xFF"));
  EXPECT_FALSE(isCleanUtf8(std::string("a\0b", 3)));
  EXPECT_TRUE(isCleanUtf8(kComposed));
}

TEST(Value, NormalizeReachesNestedStringsAndKeys) {
  Value::Map inner{{kDecomposed, Value(kDecomposed)}};
  Value v(Value::List{Value(kDecomposed), Value(inner), Value(Bytes{kDecomposed})});
  auto n = normalizeValue(v);
  ASSERT_OK(n);
  const auto& list = *n->get<Value::List>();
  EXPECT_EQ(*list[0].get<std::string>(), kComposed);
  const auto& map = *list[1].get<Value::Map>();
  ASSERT_EQ(map.count(kComposed), 1u);
  EXPECT_EQ(*map.at(kComposed).get<std::string>(), kComposed);
  EXPECT_EQ(list[2].get<Bytes>()->data, kDecomposed) << "bytes are never touched";
}

TEST(Value, LimitsAreEnforced) {
  Value deep = Value(1);
  for (std::size_t i = 0; i < tuning::kMaxValueDepth + 2; ++i) deep = Value(Value::List{deep});
  EXPECT_EQ(normalizeValue(deep).status().code(), ErrorCode::kLimitExceeded);
  EXPECT_EQ(normalizeValue(Value(std::string(tuning::kMaxValueBytes + 1, 'a'))).status().code(),
            ErrorCode::kLimitExceeded);
}

TEST(Value, KindsAndEquality) {
  EXPECT_EQ(Value().kind(), Value::Kind::kNull);
  EXPECT_EQ(Value(true).kind(), Value::Kind::kBool);
  EXPECT_EQ(Value(3).kind(), Value::Kind::kInt);
  EXPECT_EQ(Value(2.5).kind(), Value::Kind::kDouble);
  EXPECT_EQ(Value("x").kind(), Value::Kind::kString);
  EXPECT_NE(Value(1), Value(1.0)) << "int and double are different values";
  EXPECT_NE(Value("x"), Value(Bytes{"x"}));
  EXPECT_STREQ(kindName(Value::Kind::kMap), "map");
}

}  // namespace
}  // namespace communesync::sync
