#include "communesync/sync/compact.hpp"

#include <algorithm>
#include <cstring>
#include <limits>

#include "communesync/sync/tuning.hpp"

namespace communesync::sync {

// ---- scalars ----

void CompactWriter::varint(std::uint64_t n) {
  while (n >= 0x80) {
    out_.push_back(static_cast<char>((n & 0x7f) | 0x80));
    n >>= 7;
  }
  out_.push_back(static_cast<char>(n));
}

void CompactWriter::signedVarint(std::int64_t n) {
  const auto u = static_cast<std::uint64_t>(n);
  varint((u << 1) ^ (n < 0 ? ~std::uint64_t{0} : 0));
}

// memcpy rather than std::bit_cast: the libc++ of Debian's emscripten (the field app) lacks it.
void CompactWriter::f64(double d) {
  std::uint64_t bits = 0;
  std::memcpy(&bits, &d, sizeof bits);
  char le[8];
  for (char& c : le) {
    c = static_cast<char>(bits & 0xff);
    bits >>= 8;
  }
  out_.append(le, sizeof le);
}

std::uint8_t CompactReader::byte() {
  if (at_ >= in_.size()) throw DecodeError("the message ends early");
  return static_cast<std::uint8_t>(in_[at_++]);
}

bool CompactReader::flag() {
  const auto b = byte();
  if (b > 1) throw DecodeError("a flag byte is " + std::to_string(b));
  return b == 1;
}

std::uint64_t CompactReader::varint() {
  std::uint64_t n = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    const auto b = byte();
    if (shift == 63 && b > 1) break;  // the 10th byte may hold only the top bit
    n |= static_cast<std::uint64_t>(b & 0x7f) << shift;
    if ((b & 0x80) == 0) return n;
  }
  throw DecodeError("a number is not a valid varint");
}

std::int64_t CompactReader::signedVarint() {
  const auto u = varint();
  return static_cast<std::int64_t>((u >> 1) ^ (~(u & 1) + 1));
}

double CompactReader::f64() {
  const auto le = raw(8);
  std::uint64_t bits = 0;
  for (int i = 7; i >= 0; --i) bits = (bits << 8) | static_cast<std::uint8_t>(le[static_cast<std::size_t>(i)]);
  double d = 0;
  std::memcpy(&d, &bits, sizeof d);
  return d;
}

std::string_view CompactReader::raw(std::size_t n) {
  if (n > remaining()) throw DecodeError("a length of " + std::to_string(n) + " exceeds the message");
  auto out = in_.substr(at_, n);
  at_ += n;
  return out;
}

std::size_t CompactReader::count(std::size_t min_bytes) {
  const auto n = varint();
  if (n > remaining() / std::max<std::size_t>(min_bytes, 1)) {
    throw DecodeError("a count of " + std::to_string(n) + " exceeds the message");
  }
  return static_cast<std::size_t>(n);
}

// ---- stamps ----

namespace {

constexpr std::size_t kDeviceBytes = 16;

template <class T>
std::size_t indexIn(const std::vector<T>& sorted, const T& x) {
  auto it = std::lower_bound(sorted.begin(), sorted.end(), x);
  return static_cast<std::size_t>(it - sorted.begin());
}

}  // namespace

void StampTable::write(CompactWriter& w) {
  std::sort(stamps_.begin(), stamps_.end());
  stamps_.erase(std::unique(stamps_.begin(), stamps_.end()), stamps_.end());
  devices_ = std::move(extra_devices_);
  for (const auto& s : stamps_) devices_.push_back(s.device);
  std::sort(devices_.begin(), devices_.end());
  devices_.erase(std::unique(devices_.begin(), devices_.end()), devices_.end());

  w.varint(devices_.size());
  for (const auto& d : devices_) w.raw(d.raw());
  w.varint(stamps_.size());
  std::int64_t previous = 0;
  for (std::size_t i = 0; i < stamps_.size(); ++i) {
    const auto& s = stamps_[i];
    if (i == 0) {
      w.signedVarint(s.wall_ms);
    } else {
      // Sorted by wall clock first, so each delta is >= 0 (computed unsigned: no overflow).
      w.varint(static_cast<std::uint64_t>(s.wall_ms) - static_cast<std::uint64_t>(previous));
    }
    previous = s.wall_ms;
    w.varint(s.counter);
    w.varint(indexIn(devices_, s.device));
  }
}

void StampTable::writeRef(CompactWriter& w, const Stamp& s) const {
  w.varint(s.isZero() ? 0 : indexIn(stamps_, s) + 1);
}

void StampTable::writeDevice(CompactWriter& w, const DeviceId& d) const {
  w.varint(indexIn(devices_, d));
}

void StampTable::read(CompactReader& r) {
  devices_.resize(r.count(kDeviceBytes));
  for (auto& d : devices_) {
    const auto bytes = r.raw(kDeviceBytes);
    std::copy(bytes.begin(), bytes.end(), d.bytes.begin());
  }
  stamps_.resize(r.count(3));
  std::int64_t previous = 0;
  for (std::size_t i = 0; i < stamps_.size(); ++i) {
    auto& s = stamps_[i];
    s.wall_ms =
        i == 0 ? r.signedVarint() : static_cast<std::int64_t>(static_cast<std::uint64_t>(previous) + r.varint());
    previous = s.wall_ms;
    const auto counter = r.varint();
    if (counter > std::numeric_limits<std::uint32_t>::max()) throw DecodeError("a stamp's counter is out of range");
    s.counter = static_cast<std::uint32_t>(counter);
    s.device = readDevice(r);
  }
}

Stamp StampTable::readRef(CompactReader& r) const {
  const auto i = r.varint();
  if (i == 0) return Stamp{};
  if (i > stamps_.size()) throw DecodeError("a stamp reference is outside its table");
  return stamps_[i - 1];
}

DeviceId StampTable::readDevice(CompactReader& r) const {
  const auto i = r.varint();
  if (i >= devices_.size()) throw DecodeError("a device reference is outside its table");
  return devices_[i];
}

// ---- values ----

void writeCompact(CompactWriter& w, const Value& v) {
  w.byte(static_cast<std::uint8_t>(v.kind()));
  std::visit(
      [&](const auto& x) {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, std::monostate>) {
        } else if constexpr (std::is_same_v<T, bool>) {
          w.flag(x);
        } else if constexpr (std::is_same_v<T, std::int64_t>) {
          w.signedVarint(x);
        } else if constexpr (std::is_same_v<T, double>) {
          w.f64(x);
        } else if constexpr (std::is_same_v<T, std::string>) {
          w.str(x);
        } else if constexpr (std::is_same_v<T, Bytes>) {
          w.str(x.data);
        } else if constexpr (std::is_same_v<T, Value::List>) {
          w.varint(x.size());
          for (const auto& e : x) writeCompact(w, e);
        } else {
          static_assert(std::is_same_v<T, Value::Map>);
          w.varint(x.size());
          for (const auto& [k, e] : x) {
            w.str(k);
            writeCompact(w, e);
          }
        }
      },
      v.variant());
}

namespace {

//! Reads a string map's entries in ascending key order, each value by `read_value`.
template <class Map, class ReadValue>
void readSortedMap(CompactReader& r, Map& m, std::size_t min_entry_bytes, ReadValue read_value) {
  m.clear();
  const auto n = r.count(min_entry_bytes);
  for (std::size_t i = 0; i < n; ++i) {
    auto key = r.str();
    if (!m.empty() && !(std::prev(m.end())->first < key)) throw DecodeError("map keys out of order: " + key);
    auto it = m.emplace_hint(m.end(), std::move(key), typename Map::mapped_type{});
    read_value(it->second);
  }
}

}  // namespace

void readCompact(CompactReader& r, Value& v) {
  struct DepthGuard {
    std::size_t& depth;
    explicit DepthGuard(std::size_t& d) : depth(d) {
      if (++depth > tuning::kMaxValueDepth + 1) throw DecodeError("value nested too deep");
    }
    ~DepthGuard() { --depth; }
    DepthGuard(const DepthGuard&) = delete;
    DepthGuard& operator=(const DepthGuard&) = delete;
  } guard(r.value_depth);
  const auto kind = r.byte();
  switch (static_cast<Value::Kind>(kind)) {
    case Value::Kind::kNull:
      v = Value();
      return;
    case Value::Kind::kBool:
      v = Value(r.flag());
      return;
    case Value::Kind::kInt:
      v = Value(r.signedVarint());
      return;
    case Value::Kind::kDouble:
      v = Value(r.f64());
      return;
    case Value::Kind::kString:
      v = Value(r.str());
      return;
    case Value::Kind::kBytes:
      v = Value(Bytes{r.str()});
      return;
    case Value::Kind::kList: {
      // Grown element by element: memory follows the bytes actually read, not a forged count.
      Value::List list;
      const auto n = r.count(1);
      for (std::size_t i = 0; i < n; ++i) readCompact(r, list.emplace_back());
      v = Value(std::move(list));
      return;
    }
    case Value::Kind::kMap: {
      Value::Map map;
      readSortedMap(r, map, 2, [&](Value& e) { readCompact(r, e); });
      v = Value(std::move(map));
      return;
    }
  }
  throw DecodeError("unknown value kind " + std::to_string(kind));
}

// ---- records, changes, conflicts ----

namespace {

void writeKey(CompactWriter& w, const RecordKey& key) {
  w.str(key.collection);
  w.str(key.id);
}

void readKey(CompactReader& r, RecordKey& key) {
  key.collection = r.str();
  key.id = r.str();
}

void writeSeenMap(CompactWriter& w, const StampTable& t, const std::map<std::string, Stamp, std::less<>>& seen) {
  w.varint(seen.size());
  for (const auto& [field, stamp] : seen) {
    w.str(field);
    t.writeRef(w, stamp);
  }
}

void readSeenMap(CompactReader& r, const StampTable& t, std::map<std::string, Stamp, std::less<>>& seen) {
  readSortedMap(r, seen, 2, [&](Stamp& s) { s = t.readRef(r); });
}

std::uint32_t readU32(CompactReader& r, const char* what) {
  const auto n = r.varint();
  if (n > std::numeric_limits<std::uint32_t>::max()) throw DecodeError(std::string(what) + " is out of range");
  return static_cast<std::uint32_t>(n);
}

}  // namespace

void writeCompact(CompactWriter& w, const Record& record) {
  StampTable t;
  for (const auto& [name, f] : record.fields) {
    t.add(f.stamp);
    t.add(f.seen);
    t.add(f.seen_tombstone);
  }
  t.add(record.tombstone.stamp);
  for (const auto& [name, s] : record.tombstone.seen) t.add(s);

  writeKey(w, record.key);
  w.str(record.scope);
  w.varint(record.form_version);
  t.write(w);
  w.varint(record.fields.size());
  for (const auto& [name, f] : record.fields) {
    w.str(name);
    writeCompact(w, f.value);
    t.writeRef(w, f.stamp);
    t.writeRef(w, f.seen);
    t.writeRef(w, f.seen_tombstone);
  }
  t.writeRef(w, record.tombstone.stamp);
  writeSeenMap(w, t, record.tombstone.seen);
  w.signedVarint(record.capture_time_ms);
  w.signedVarint(record.receive_time_ms);
}

void readCompact(CompactReader& r, Record& record) {
  readKey(r, record.key);
  record.scope = r.str();
  record.form_version = readU32(r, "a form version");
  StampTable t;
  t.read(r);
  readSortedMap(r, record.fields, 5, [&](FieldState& f) {
    readCompact(r, f.value);
    f.stamp = t.readRef(r);
    f.seen = t.readRef(r);
    f.seen_tombstone = t.readRef(r);
  });
  record.tombstone.stamp = t.readRef(r);
  readSeenMap(r, t, record.tombstone.seen);
  record.capture_time_ms = r.signedVarint();
  record.receive_time_ms = r.signedVarint();
}

void writeCompact(CompactWriter& w, const Change& change) {
  StampTable t;
  t.add(change.id.device);
  for (const auto& a : change.assignments) {
    t.add(a.stamp);
    t.add(a.seen);
  }
  if (change.deletion) {
    t.add(change.deletion->stamp);
    for (const auto& [field, s] : change.deletion->seen) t.add(s);
  }
  t.add(change.seen_tombstone);

  t.write(w);
  t.writeDevice(w, change.id.device);
  w.varint(change.id.seq);
  writeKey(w, change.key);
  w.str(change.scope);
  w.varint(change.form_version);
  w.signedVarint(change.capture_time_ms);
  w.varint(change.assignments.size());
  for (const auto& a : change.assignments) {
    w.str(a.field);
    writeCompact(w, a.value);
    t.writeRef(w, a.stamp);
    t.writeRef(w, a.seen);
  }
  w.flag(change.deletion.has_value());
  if (change.deletion) {
    t.writeRef(w, change.deletion->stamp);
    writeSeenMap(w, t, change.deletion->seen);
  }
  t.writeRef(w, change.seen_tombstone);
}

namespace {

// A change's head: its stamp table, id and record key, the part every reader of a change reads.
// One function for both readers below, so the key read alone cannot disagree with the whole decode.
StampTable readChangeHead(CompactReader& r, ChangeId& id, RecordKey& key) {
  StampTable t;
  t.read(r);
  id.device = t.readDevice(r);
  id.seq = r.varint();
  readKey(r, key);
  return t;
}

}  // namespace

void readChangeKey(CompactReader& r, RecordKey& key) {
  ChangeId id;
  (void)readChangeHead(r, id, key);
}

void readCompact(CompactReader& r, Change& change) {
  const StampTable t = readChangeHead(r, change.id, change.key);
  change.scope = r.str();
  change.form_version = readU32(r, "a form version");
  change.capture_time_ms = r.signedVarint();
  change.assignments.clear();
  const auto n = r.count(4);
  for (std::size_t i = 0; i < n; ++i) {
    auto& a = change.assignments.emplace_back();
    a.field = r.str();
    readCompact(r, a.value);
    a.stamp = t.readRef(r);
    a.seen = t.readRef(r);
  }
  change.deletion.reset();
  if (r.flag()) {
    Deletion d;
    d.stamp = t.readRef(r);
    readSeenMap(r, t, d.seen);
    change.deletion = std::move(d);
  }
  change.seen_tombstone = t.readRef(r);
}

namespace {

void writeSide(CompactWriter& w, const StampTable& t, const ConflictSide& side) {
  w.flag(side.value.has_value());
  if (side.value) writeCompact(w, *side.value);
  t.writeRef(w, side.stamp);
}

void readSide(CompactReader& r, const StampTable& t, ConflictSide& side) {
  side.value.reset();
  if (r.flag()) {
    Value v;
    readCompact(r, v);
    side.value = std::move(v);
  }
  side.stamp = t.readRef(r);
}

}  // namespace

void writeCompact(CompactWriter& w, const Conflict& c) {
  StampTable t;
  t.add(c.lost.stamp);
  t.add(c.kept.stamp);
  t.add(c.resolution.stamp);

  writeKey(w, c.key);
  w.str(c.scope);
  w.str(c.field);
  t.write(w);
  writeSide(w, t, c.lost);
  writeSide(w, t, c.kept);
  w.signedVarint(c.detected_ms);
  w.byte(static_cast<std::uint8_t>(c.status));
  w.str(c.resolved_by);
  w.signedVarint(c.resolved_ms);
  w.str(c.reason);
  writeSide(w, t, c.resolution);
}

void readCompact(CompactReader& r, Conflict& c) {
  readKey(r, c.key);
  c.scope = r.str();
  c.field = r.str();
  StampTable t;
  t.read(r);
  readSide(r, t, c.lost);
  readSide(r, t, c.kept);
  c.detected_ms = r.signedVarint();
  const auto status = r.byte();
  if (status > static_cast<std::uint8_t>(ConflictStatus::kResolved)) throw DecodeError("unknown conflict status");
  c.status = static_cast<ConflictStatus>(status);
  c.resolved_by = r.str();
  c.resolved_ms = r.signedVarint();
  c.reason = r.str();
  readSide(r, t, c.resolution);
}

}  // namespace communesync::sync
