#include "communesync/sync/value.hpp"

#include <gtest/gtest.h>
#include <utf8proc.h>

#include <cstdlib>
#include <vector>

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

std::string utf8Of(utf8proc_int32_t cp) {
  utf8proc_uint8_t buf[4];
  const auto n = utf8proc_encode_char(cp, buf);
  return {reinterpret_cast<const char*>(buf), static_cast<std::size_t>(n)};
}

// NFC by utf8proc's tables, never by the quick check.
std::string tablesNfc(const std::string& text) {
  utf8proc_uint8_t* out = nullptr;
  const auto n =
      utf8proc_map(reinterpret_cast<const utf8proc_uint8_t*>(text.data()), static_cast<utf8proc_ssize_t>(text.size()),
                   &out, static_cast<utf8proc_option_t>(UTF8PROC_STABLE | UTF8PROC_COMPOSE));
  std::string nfc = n < 0 ? std::string("<invalid>") : std::string(reinterpret_cast<const char*>(out), n);
  std::free(out);
  return nfc;
}

TEST(Text, TheQuickCheckAgreesWithUtf8procOnEveryCodePointItAccepts) {
  std::vector<std::string> accepted;
  for (utf8proc_int32_t cp = 1; cp <= 0x10FFFF; ++cp) {
    if (cp >= 0xD800 && cp <= 0xDFFF) continue;
    const auto s = utf8Of(cp);
    if (!isPlainNfc(s)) continue;
    accepted.push_back(s);
    // Alone, it is its own NFC, and it is a starter.
    ASSERT_EQ(tablesNfc(s), s) << "U+" << std::hex << cp;
    ASSERT_EQ(utf8proc_get_property(cp)->combining_class, 0) << "U+" << std::hex << cp;
  }
  EXPECT_EQ(accepted.size(), 0x7Fu + (0x300u - 0x80u) + 0x100u);
  // Never the second of a composition, nor the first of one with another accepted code point:
  // every pair of a Vietnamese base letter (or any accepted one, sampled) and an accepted one is NFC.
  std::vector<std::string> bases;
  for (const char* b : {"a",
                        "e",
                        "i",
                        "o",
                        "u",
                        "y",
                        "A",
                        "O",
                        "U",
                        "d",
                        "n",
                        "\xc3\xa2",
                        "\xc3\xaa",
                        "\xc3\xb4",
                        "\xc6\xa1",
                        "\xc6\xb0",
                        "\xc4\x83",
                        "\xc4\x91",
                        "\xe1\xbb\x93",
                        "\xe1\xba\xa1"}) {
    bases.emplace_back(b);
  }
  for (std::size_t i = 0; i < accepted.size(); i += 7) bases.push_back(accepted[i]);
  for (const auto& a : bases) {
    for (const auto& b : accepted) ASSERT_EQ(tablesNfc(a + b), a + b) << a << b;
  }
  // Invalid or other text is left to the tables.
  EXPECT_FALSE(isPlainNfc("\xc3"));
  EXPECT_FALSE(isPlainNfc("\xe1\xb8"));
  EXPECT_FALSE(isPlainNfc(kDecomposed));
  EXPECT_FALSE(isPlainNfc("\xe4\xb8\xad"));  // 中
  EXPECT_TRUE(isPlainNfc(kComposed));
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
