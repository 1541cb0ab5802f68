// The compact codec of the messages that carry changes and records (see compact.hpp).
#include "communesync/sync/messages.hpp"

namespace communesync::sync::proto {

namespace {

constexpr std::size_t kDeviceBytes = 16;
constexpr std::uint8_t kClampedBit = 1;
constexpr std::uint8_t kExactBit = 2;

void writeCheckpoints(CompactWriter& w, const Checkpoints& checkpoints) {
  w.varint(checkpoints.size());
  for (const auto& [scope, seq] : checkpoints) {
    w.str(scope);
    w.varint(seq);
  }
}

void readCheckpoints(CompactReader& r, Checkpoints& checkpoints) {
  checkpoints.clear();
  const auto n = r.count(2);
  for (std::size_t i = 0; i < n; ++i) {
    auto scope = r.str();
    if (!checkpoints.empty() && !(std::prev(checkpoints.end())->first < scope)) {
      throw DecodeError("checkpoints out of order: " + scope);
    }
    const auto seq = r.varint();
    checkpoints.emplace_hint(checkpoints.end(), std::move(scope), seq);
  }
}

// A pull batch's resync list follows `more` only when it is not empty, so a batch without one is
// the same bytes as before it existed.
void writeResync(CompactWriter& w, const std::vector<Scope>& resync) {
  if (resync.empty()) return;
  w.varint(resync.size());
  for (const auto& scope : resync) w.str(scope);
}

void readResync(CompactReader& r, std::vector<Scope>& resync) {
  resync.clear();
  if (r.remaining() == 0) return;
  const auto n = r.count(1);
  if (n == 0) throw DecodeError("an empty resync list is sent as none");
  for (std::uint64_t i = 0; i < n; ++i) resync.push_back(r.str());
}

template <class T>
void writeList(CompactWriter& w, const std::vector<T>& list) {
  w.varint(list.size());
  for (const auto& e : list) writeCompact(w, e);
}

//! Elements taking at least `min_bytes` each; grown one by one, so memory follows the bytes read.
template <class T>
void readList(CompactReader& r, std::vector<T>& list, std::size_t min_bytes) {
  list.clear();
  const auto n = r.count(min_bytes);
  for (std::size_t i = 0; i < n; ++i) readCompact(r, list.emplace_back());
}

}  // namespace

void writeEnvelopeHead(CompactWriter& w, MessageType type, std::uint64_t request_id) {
  w.varint(static_cast<std::uint16_t>(type));
  w.varint(request_id);
}

void writeCompact(CompactWriter& w, const Envelope& e) {
  writeEnvelopeHead(w, e.type, e.request_id);
  w.raw(e.payload);  // the rest of the bytes: no length needed
}

void readCompact(CompactReader& r, Envelope& e) {
  const auto type = r.varint();
  if (type < 1 || type > kLastMessageType) throw DecodeError("unknown message type " + std::to_string(type));
  e.type = static_cast<MessageType>(type);
  e.request_id = r.varint();
  e.payload = std::string(r.raw(r.remaining()));
}

void writeCompact(CompactWriter& w, const Push& p) {
  writeList(w, p.changes);
  w.flag(p.restore);
  w.varint(p.acknowledged_below);
}

void readCompact(CompactReader& r, Push& p) {
  readList(r, p.changes, 10);
  p.restore = r.flag();
  p.acknowledged_below = r.varint();
}

void writeCompact(CompactWriter& w, const ChangeResult& result) {
  w.raw(result.id.device.raw());
  w.varint(result.id.seq);
  w.byte(static_cast<std::uint8_t>(result.outcome));
  w.varint(result.server_seq);
  w.varint(result.code);
  w.str(result.reason);
  // One byte of flags: bit 0 clamped, bit 1 exact (then the receive time follows). A result stored
  // before `exact` existed wrote `clamped` alone here as 0 or 1, and still reads.
  w.byte(static_cast<std::uint8_t>((result.clamped ? kClampedBit : 0) | (result.exact ? kExactBit : 0)));
  if (result.exact) w.signedVarint(result.receive_time_ms);
}

void readCompact(CompactReader& r, ChangeResult& result) {
  const auto device = r.raw(kDeviceBytes);
  std::copy(device.begin(), device.end(), result.id.device.bytes.begin());
  result.id.seq = r.varint();
  const auto outcome = r.byte();
  if (outcome > static_cast<std::uint8_t>(Outcome::kRejected)) throw DecodeError("unknown outcome");
  result.outcome = static_cast<Outcome>(outcome);
  result.server_seq = r.varint();
  const auto code = r.varint();
  if (code > 0xffff) throw DecodeError("an error code is out of range");
  result.code = static_cast<std::uint16_t>(code);
  result.reason = r.str();
  const auto flags = r.byte();
  if ((flags & ~(kClampedBit | kExactBit)) != 0) throw DecodeError("unknown result flags");
  result.clamped = (flags & kClampedBit) != 0;
  result.exact = (flags & kExactBit) != 0;
  result.receive_time_ms = result.exact ? r.signedVarint() : 0;
}

void writeCompact(CompactWriter& w, const PushResult& p) {
  writeList(w, p.results);
  if (!p.latest.empty()) writeCheckpoints(w, p.latest);
}

void readCompact(CompactReader& r, PushResult& p) {
  readList(r, p.results, kDeviceBytes + 6);
  p.latest.clear();
  if (r.remaining() == 0) return;
  readCheckpoints(r, p.latest);
  if (p.latest.empty()) throw DecodeError("an empty latest is sent as none");
}

void writeCompact(CompactWriter& w, const Pull& p) {
  writeCheckpoints(w, p.checkpoints);
  w.varint(p.max_bytes);
  if (p.steps_over_own) w.flag(true);
}

void readCompact(CompactReader& r, Pull& p) {
  readCheckpoints(r, p.checkpoints);
  p.max_bytes = r.varint();
  p.steps_over_own = false;
  if (r.remaining() == 0) return;
  if (!r.flag()) throw DecodeError("steps_over_own is sent only when true");
  p.steps_over_own = true;
}

void writeCompact(CompactWriter& w, const PullBatch& b) {
  writeList(w, b.records);
  writeList(w, b.conflicts);
  writeCheckpoints(w, b.checkpoints);
  w.flag(b.more);
  writeResync(w, b.resync);
}

void EncodedPullBatch::add(std::string_view record_bytes) {
  records.append(record_bytes);
  ++record_count;
}

void writeCompact(CompactWriter& w, const EncodedPullBatch& b) {
  w.varint(b.record_count);
  w.raw(b.records);
  writeList(w, b.conflicts);
  writeCheckpoints(w, b.checkpoints);
  w.flag(b.more);
  writeResync(w, b.resync);
}

void readCompact(CompactReader& r, EncodedPullBatch& b) {
  b.records.clear();
  b.record_count = r.count(10);
  for (std::uint64_t i = 0; i < b.record_count; ++i) {
    const auto from = r.position();
    Record record;
    readCompact(r, record);
    b.records.append(r.since(from));
  }
  readList(r, b.conflicts, 10);
  readCheckpoints(r, b.checkpoints);
  b.more = r.flag();
  readResync(r, b.resync);
}

void readCompact(CompactReader& r, PullBatch& b) {
  readList(r, b.records, 10);
  readList(r, b.conflicts, 10);
  readCheckpoints(r, b.checkpoints);
  b.more = r.flag();
  readResync(r, b.resync);
}

}  // namespace communesync::sync::proto
