#include "communesync/storage/key_codec.hpp"

#include <gtest/gtest.h>

#include <random>

namespace communesync::storage {
namespace {

TEST(KeyCodec, Uint64OrderMatchesByteOrder) {
  std::mt19937_64 rng(7);
  for (int i = 0; i < 1000; ++i) {
    std::uint64_t a = rng() >> (rng() % 64);
    std::uint64_t b = rng() >> (rng() % 64);
    std::string ka, kb;
    appendUint64(ka, a);
    appendUint64(kb, b);
    EXPECT_EQ(a < b, ka < kb) << a << " " << b;
    EXPECT_EQ(readUint64(ka), a);
  }
  EXPECT_EQ(readUint64("short"), std::nullopt);
}

TEST(KeyCodec, PartsKeepBoundaries) {
  std::string k1, k2;
  appendPart(k1, "a");
  appendPart(k1, "bc");
  appendPart(k2, "ab");
  appendPart(k2, "c");
  EXPECT_NE(k1, k2);
  EXPECT_LT(k1, k2) << "ordered by first part, then second";
  std::size_t pos = 0;
  EXPECT_EQ(readPart(k1, pos), "a");
  EXPECT_EQ(readPart(k1, pos), "bc");
  EXPECT_EQ(readPart(k1, pos), std::nullopt);
}

}  // namespace
}  // namespace communesync::storage
