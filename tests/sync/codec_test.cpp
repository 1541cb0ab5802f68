#include "communesync/sync/codec.hpp"

#include <gtest/gtest.h>

#include <limits>
#include <random>
#include <thread>
#include <vector>

#include "assert_ok.hpp"
#include "communesync/sync/frame.hpp"
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

TEST(Codec, AChangesKeyReadsAloneFromItsHeadAndATruncatedHeadIsAnError) {
  auto c = testing::edit(1, 7, "head", sampleValue(), stampAt(10, 1), stampAt(9, 2), stampAt(3, 3));
  c.key = {"household", "hộ-ở-bản-Phìn"};
  const auto bytes = encode(c);
  auto key = decodeChangeKey(bytes);
  ASSERT_TRUE(key.isOk()) << key.status().toString();
  EXPECT_EQ(*key, c.key);
  // Everything after the key is left unread: the fields may be anything.
  const auto head = bytes.find(c.key.id) + c.key.id.size();
  auto from_head = decodeChangeKey(std::string_view(bytes).substr(0, head));
  ASSERT_TRUE(from_head.isOk()) << from_head.status().toString();
  EXPECT_EQ(*from_head, c.key);
  auto cut = decodeChangeKey(std::string_view(bytes).substr(0, head - 1));
  ASSERT_FALSE(cut.isOk());
  EXPECT_EQ(cut.status().code(), ErrorCode::kProtocol);
}

std::size_t occurrences(std::string_view haystack, std::string_view needle) {
  std::size_t n = 0;
  for (auto at = haystack.find(needle); at != std::string_view::npos; at = haystack.find(needle, at + 1)) ++n;
  return n;
}

TEST(Codec, AnEditOfManyFieldsCarriesItsStampOnce) {
  // A survey of 20 fields saved at once: one stamp, one device, however many fields.
  auto c = testing::edit(1, 7, "f00", Value(1), stampAt(1'760'000'000'000, 1));
  for (int i = 1; i < 20; ++i) {
    c.assignments.push_back({"f" + std::to_string(100 + i).substr(1), Value(i), stampAt(1'760'000'000'000, 1), {}});
  }
  const auto bytes = encode(c);
  EXPECT_EQ(occurrences(bytes, testing::deviceNo(1).raw()), 1u);
  // Per field: its name (1 + 3 bytes), its value (2 bytes), its stamp and seen references (1 byte each).
  const auto one = encode(testing::edit(1, 7, "f00", Value(1), stampAt(1'760'000'000'000, 1)));
  EXPECT_EQ(bytes.size() - one.size(), 19u * 8u);
  EXPECT_EQ(roundTrip(c), c);
}

TEST(Codec, ARecordKeepsEachDistinctStampOnce) {
  Record r;
  r.key = {"household", "h1"};
  r.scope = "xa-01";
  for (int i = 0; i < 30; ++i) {
    // Two saves by two devices: every field carries one of two stamps and has seen the other or none.
    const bool first = i % 2 == 0;
    r.fields["f" + std::to_string(i)] = {
        Value(i), first ? stampAt(10, 1) : stampAt(20, 2), first ? Stamp{} : stampAt(10, 1), {}};
  }
  const auto bytes = encode(r);
  EXPECT_EQ(occurrences(bytes, testing::deviceNo(1).raw()), 1u);
  EXPECT_EQ(occurrences(bytes, testing::deviceNo(2).raw()), 1u);
  EXPECT_LT(bytes.size(), 30u * 10u + 100u);  // was 30 x (4 stamps of 28 bytes) = 3,360 bytes of stamps alone
  EXPECT_EQ(roundTrip(r), r);
}

TEST(Codec, ExtremesRoundTrip) {
  const auto lo = std::numeric_limits<std::int64_t>::min();
  const auto hi = std::numeric_limits<std::int64_t>::max();
  Record r;
  r.key = {"k", "i"};
  r.fields["a"] = {Value(lo), Stamp{lo, 0, testing::deviceNo(1)}, Stamp{hi, 0xffffffff, testing::deviceNo(2)}, {}};
  r.fields["b"] = {Value(hi), Stamp{-1, 3, testing::deviceNo(3)}, {}, Stamp{0, 1, testing::deviceNo(1)}};
  r.fields["c"] = {Value(-0.0), Stamp{hi, 0, testing::deviceNo(1)}, {}, {}};
  r.capture_time_ms = lo;
  r.receive_time_ms = hi;
  EXPECT_EQ(roundTrip(r), r);
  EXPECT_EQ(roundTrip(Value(std::numeric_limits<double>::infinity())), Value(std::numeric_limits<double>::infinity()));
}

TEST(Codec, AStampReferenceOutsideItsTableIsRefused) {
  auto bytes = encode(testing::edit(1, 7, "head", Value(1), stampAt(10, 1)));
  // The change ends with its tombstone reference (0: none); 2 points past a table of one stamp.
  ASSERT_EQ(bytes.back(), '\0');
  bytes.back() = '\2';
  auto r = decode<Change>(bytes);
  ASSERT_FALSE(r.isOk());
  EXPECT_NE(r.status().message().find("outside its table"), std::string::npos) << r.status().message();
}

TEST(Codec, MapKeysOutOfOrderAreRefused) {
  // Two keys written "b" then "a": one encoding per value, so this is not one.
  std::string bytes;
  CompactWriter w(bytes);
  w.byte(static_cast<std::uint8_t>(Value::Kind::kMap));
  w.varint(2);
  w.str("b");
  writeCompact(w, Value(1));
  w.str("a");
  writeCompact(w, Value(2));
  auto r = decode<Value>(bytes);
  ASSERT_FALSE(r.isOk());
  EXPECT_NE(r.status().message().find("out of order"), std::string::npos) << r.status().message();
}

TEST(Codec, AnOverlongVarintIsRefused) {
  auto r = decode<Value>(std::string(1, '\2') + std::string(10, '\xff') + std::string(1, '\1'));
  ASSERT_FALSE(r.isOk());
  EXPECT_NE(r.status().message().find("varint"), std::string::npos) << r.status().message();
}

std::string hexOf(std::string_view bytes) {
  std::string out;
  for (unsigned char c : bytes) {
    static constexpr char kDigits[] = "0123456789abcdef";
    if (!out.empty()) out += ' ';
    out += kDigits[c >> 4];
    out += kDigits[c & 15];
  }
  return out;
}

TEST(Codec, TheProtocolExamplesAreWhatIsSent) {
  // docs/protocol.md, section 4: keep the two in step.
  proto::Error busy;
  busy.code = 8;
  busy.message = "busy";
  busy.retryable = true;
  EXPECT_EQ(hexOf(proto::encodeFrame(proto::wrap(busy, 7), true)), "00 08 07 01 01 00 00 00 08 00 04 62 75 73 79 01");

  auto change = testing::edit(0, 7, "head", Value("Pá"), Stamp{1'760'000'000'000, 0, {}});
  change.id.device = DeviceId{};
  change.id.device.bytes[0] = 0xd0;
  change.id.device.bytes[15] = 1;
  change.assignments[0].stamp.device = change.id.device;
  change.form_version = 3;
  proto::Push push;
  push.changes.push_back(change);
  push.acknowledged_below = 5;
  EXPECT_EQ(hexOf(proto::encodeFrame(proto::wrap(push, 12), true)),
            "00 03 0c 01 01 d0 00 00 00 00 00 00 00 00 00 00 00 00 00 00 01 01 80 80 e6 82 b9 66 00 00 00 07 "
            "09 68 6f 75 73 65 68 6f 6c 64 02 68 31 05 78 61 2d 30 31 03 80 80 e6 82 b9 66 01 04 68 65 61 64 "
            "04 03 50 c3 a1 01 00 00 00 00 05");
}

TEST(Codec, APullBatchOfStoredBytesIsTheSameMessage) {
  // The server splices stored record bytes into a pull batch: a device must read exactly a PullBatch.
  Record a;
  a.key = {"household", "h1"};
  a.scope = "xa-01";
  a.fields["head"] = {Value("Lò Văn Pá"), stampAt(10, 1), {}, {}};
  Record b = a;
  b.key.id = "h2";
  b.fields["members"] = {Value(4), stampAt(12, 2), stampAt(10, 1), {}};
  proto::PullBatch batch;
  batch.records = {a, b};
  Conflict conflict;
  conflict.key = a.key;
  conflict.scope = "xa-01";
  conflict.field = "head";
  conflict.lost = {Value("A"), stampAt(9, 2)};
  conflict.kept = {Value("B"), stampAt(10, 1)};
  batch.conflicts.push_back(conflict);
  batch.checkpoints = {{"xa-01", 7}, {"xa-02", 3}};
  batch.more = true;

  proto::EncodedPullBatch spliced;
  for (const auto& r : batch.records) spliced.add(encode(r));
  spliced.conflicts = batch.conflicts;
  spliced.checkpoints = batch.checkpoints;
  spliced.more = true;
  EXPECT_EQ(hexOf(proto::frameOf(spliced, 3, false)), hexOf(proto::frameOf(batch, 3, false)));
  auto back = decode<proto::EncodedPullBatch>(encode(spliced));
  ASSERT_OK(back);
  EXPECT_EQ(back->record_count, 2u);
  EXPECT_EQ(back->records, spliced.records);
}

// The resync list follows `more` only when there is one: a batch without it keeps its old bytes,
// a batch with it round-trips (spliced or not), and an empty list sent as one is refused.
TEST(Codec, APullBatchNamesTheScopesToResyncOnlyWhenThereAreAny) {
  proto::PullBatch plain;
  plain.checkpoints = {{"xa-01", 7}};
  EXPECT_EQ(hexOf(encode(plain)), "00 00 01 05 78 61 2d 30 31 07 00");
  proto::PullBatch told;
  told.more = true;
  told.resync = {"xa-01", "xa-02"};
  const auto bytes = encode(told);
  EXPECT_EQ(hexOf(bytes), "00 00 00 01 02 05 78 61 2d 30 31 05 78 61 2d 30 32");
  auto back = decode<proto::PullBatch>(bytes);
  ASSERT_OK(back);
  EXPECT_EQ(back->resync, told.resync);
  auto spliced = decode<proto::EncodedPullBatch>(bytes);
  ASSERT_OK(spliced);
  EXPECT_EQ(spliced->resync, told.resync);
  EXPECT_EQ(encode(*spliced), bytes);
  EXPECT_FALSE(decode<proto::PullBatch>(encode(plain) + std::string(1, '\0')).isOk());
}

// A result's last byte holds its flags: clamped (1) and exact (2), the receive time following only
// an exact one, so a result stored before `exact` existed (the clamped flag alone) still reads. A
// pull says steps_over_own by one trailing byte, sent only when true.
TEST(Codec, AResultSaysExactWithItsReceiveTimeAndAPullStepsOverOnlyWhenAsked) {
  proto::ChangeResult plain;
  plain.id.device.bytes[15] = 1;
  plain.id.seq = 7;
  plain.server_seq = 3;
  const auto plain_bytes = encode(plain);
  EXPECT_EQ(hexOf(plain_bytes.substr(16)), "07 00 03 00 00 00");
  proto::ChangeResult exact = plain;
  exact.exact = true;
  exact.receive_time_ms = 1'760'000'000'000;
  const auto exact_bytes = encode(exact);
  EXPECT_EQ(hexOf(exact_bytes.substr(16, 6)), "07 00 03 00 00 02");
  auto back = decode<proto::ChangeResult>(exact_bytes);
  ASSERT_OK(back);
  EXPECT_TRUE(back->exact);
  EXPECT_FALSE(back->clamped);
  EXPECT_EQ(back->receive_time_ms, exact.receive_time_ms);
  auto stored_before = decode<proto::ChangeResult>(plain_bytes.substr(0, plain_bytes.size() - 1) + "\x01");
  ASSERT_OK(stored_before);
  EXPECT_TRUE(stored_before->clamped);
  EXPECT_FALSE(stored_before->exact);
  EXPECT_FALSE(decode<proto::ChangeResult>(plain_bytes.substr(0, plain_bytes.size() - 1) + "\x04").isOk())
      << "an unknown flag";
  EXPECT_FALSE(decode<proto::ChangeResult>(plain_bytes.substr(0, plain_bytes.size() - 1) + "\x02").isOk())
      << "exact without its receive time";

  proto::Pull pull{{{"xa-01", 7}}, 1024, false};
  const auto pull_bytes = encode(pull);
  EXPECT_EQ(hexOf(pull_bytes), "01 05 78 61 2d 30 31 07 80 08");
  pull.steps_over_own = true;
  EXPECT_EQ(encode(pull), pull_bytes + "\x01");
  EXPECT_TRUE(decode<proto::Pull>(pull_bytes + "\x01")->steps_over_own);
  EXPECT_FALSE(decode<proto::Pull>(pull_bytes)->steps_over_own);
  EXPECT_FALSE(decode<proto::Pull>(pull_bytes + std::string(1, '\0')).isOk()) << "sent only when true";
}

// Each thread compresses and decompresses with one zstd context it keeps (frame_compression_zstd.cpp):
// a large frame, then a small one, then one cut short must leave it as good as new, on every thread.
TEST(Codec, CompressedFramesDecodeOneAfterAnotherAfterABrokenOneOnEveryThread) {
  proto::Push large;
  for (std::uint64_t i = 0; i < 400; ++i) {
    // One device writing 400 records ("h<seq>"), each a name.
    large.changes.push_back(testing::edit(1, i + 1, "head", Value("Nguyễn Văn " + std::to_string(i)),
                                          stampAt(10 + static_cast<std::int64_t>(i), 1)));
  }
  proto::Push small;
  small.changes.push_back(testing::edit(1, 1, "head", Value(std::string(300, 'a')), stampAt(10, 1)));
  const std::vector<proto::Envelope> sent{proto::wrap(large, 1), proto::wrap(small, 2)};
  auto check = [&](std::vector<std::string>& failures) {
    std::vector<std::string> frames;
    frames.reserve(sent.size());
    for (const auto& envelope : sent) frames.push_back(proto::encodeFrame(envelope, true));
    // Cut short: zstd stops in the middle of a block (a frame has no checksum; the transport's own
    // integrity covers flipped bytes, and the message decoders refuse what does not parse).
    const std::string cut = frames[0].substr(0, frames[0].size() / 2);
    for (int round = 0; round < 3; ++round) {
      if (proto::decodeFrame(cut, 1 << 22).isOk()) failures.push_back("a frame cut short decoded");
      for (std::size_t i = 0; i < frames.size(); ++i) {
        if (frames[i].front() != '\x01') failures.push_back("frame " + std::to_string(i) + " was not compressed");
        auto back = proto::decodeFrame(frames[i], 1 << 22);
        if (!back.isOk()) {
          failures.push_back("frame " + std::to_string(i) + ": " + back.status().toString());
        } else if (back->payload != sent[i].payload || back->request_id != sent[i].request_id) {
          failures.push_back("frame " + std::to_string(i) + " decoded to something else");
        }
        if (proto::encodeFrame(sent[i], true) != frames[i]) {
          failures.push_back("frame " + std::to_string(i) + " changed");
        }
      }
    }
  };
  std::vector<std::string> here, there;
  std::thread other([&] { check(there); });
  check(here);
  other.join();
  here.insert(here.end(), there.begin(), there.end());
  EXPECT_EQ(here, std::vector<std::string>());
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
