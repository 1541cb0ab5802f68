#include "communesync/sync/codec.hpp"

#include <gtest/gtest.h>

#include <random>

#include "assert_ok.hpp"
#include "sync_builders.hpp"

namespace communesync::sync {
namespace {

using testing::stampAt;

Value sampleValue() {
  Value::Map m{{"bò", Value(3)}, {"gà", Value(12.5)}};
  return Value(Value::List{Value(), Value(true), Value(std::int64_t{-1} << 62), Value(0.1), Value("Hà Giang"),
                           Value(Bytes{std::string("\0\xff", 2)}), Value(m)});
}

template <class T>
T roundTrip(const T& v) {
  auto bytes = encode(v);
  auto back = decode<T>(bytes);
  EXPECT_OK(back);
  return back.isOk() ? *back : T{};
}

TEST(Codec, ValueRoundTrips) {
  for (const Value& v : {Value(), Value(false), Value(42), Value(-0.5), Value("ễ"), sampleValue()}) {
    EXPECT_EQ(roundTrip(v), v);
  }
}

TEST(Codec, RecordRoundTrips) {
  Record r;
  r.key = {"household", "0190a1b2c3"};
  r.scope = "xa-01";
  r.form_version = 3;
  r.fields["head"] = {Value("Lò Văn Pá"), stampAt(10, 1), stampAt(5, 2), stampAt(4, 3)};
  r.fields["members"] = {Value(6), stampAt(11, 1, 2), {}, {}};
  r.tombstone = {stampAt(9, 2), {{"head", stampAt(5, 2)}}};
  r.capture_time_ms = 123;
  r.receive_time_ms = 456;
  EXPECT_EQ(roundTrip(r), r);
}

TEST(Codec, ChangeAndConflictRoundTrip) {
  auto c = testing::edit(1, 7, "head", sampleValue(), stampAt(10, 1), stampAt(9, 2), stampAt(3, 3));
  EXPECT_EQ(roundTrip(c), c);
  auto d = testing::deletion(2, 8, stampAt(11, 2), {{"head", stampAt(10, 1)}});
  EXPECT_EQ(roundTrip(d), d);
  Conflict k{{"household", "h1"},       "xa-01", "", {std::nullopt, stampAt(1, 1)}, {Value(1), stampAt(2, 2)}, 77,
             ConflictStatus::kResolved, "lan",   99, "đã xác minh tại thực địa",    {Value(2), stampAt(3, 3)}};
  EXPECT_EQ(roundTrip(k), k);
}

TEST(Codec, TruncatedInputIsAnErrorNotACrash) {
  auto bytes = encode(testing::edit(1, 7, "head", sampleValue(), stampAt(10, 1)));
  for (std::size_t n = 0; n < bytes.size(); ++n) {
    auto r = decode<Change>(std::string_view(bytes).substr(0, n));
    EXPECT_FALSE(r.isOk()) << "prefix of " << n << " bytes decoded";
    if (!r.isOk()) {
      EXPECT_EQ(r.status().code(), ErrorCode::kProtocol);
    }
  }
}

TEST(Codec, TrailingBytesAreRefused) {
  auto bytes = encode(Value(1)) + "x";
  EXPECT_FALSE(decode<Value>(bytes).isOk());
}

TEST(Codec, ForgedLengthDoesNotAllocate) {
  // A string value claiming 2^60 bytes: must fail on the length check, before any allocation.
  std::string bytes = encode(Value("ab"));
  auto at = bytes.find("ab");
  ASSERT_NE(at, std::string::npos);
  std::string forged = bytes.substr(0, at - 1) + std::string(8, '\xff') + std::string("\x0f", 1) + "ab";
  auto r = decode<Value>(forged);
  ASSERT_FALSE(r.isOk());
  EXPECT_NE(r.status().message().find("exceeds"), std::string::npos) << r.status().message();
}

TEST(Codec, DeepNestingIsRefused) {
  Value v(1);
  for (int i = 0; i < 100; ++i) v = Value(Value::List{v});
  auto r = decode<Value>(encode(v));
  ASSERT_FALSE(r.isOk());
}

TEST(Codec, RandomBytesNeverCrash) {
  std::mt19937_64 rng(42);
  auto good = encode(testing::edit(1, 7, "head", sampleValue(), stampAt(10, 1)));
  for (int i = 0; i < 5000; ++i) {
    std::string bytes = good;
    for (int flips = 0; flips < 1 + static_cast<int>(rng() % 4); ++flips) {
      bytes[rng() % bytes.size()] = static_cast<char>(rng());
    }
    (void)decode<Change>(bytes);  // must return, ok or not, without crashing or a sanitizer report
  }
}

}  // namespace
}  // namespace communesync::sync
