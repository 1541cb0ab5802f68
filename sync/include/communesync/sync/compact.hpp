// The compact codec of the hot types: what every push, pull and stored record goes through.
//
// Written by hand rather than with cereal because these types are encoded and decoded once per
// change on every path (measured: cereal's per-struct version bookkeeping and virtual stream calls,
// and two full 28-byte stamps per field, were a fifth of the server's time per record). Layout:
//
//   - unsigned integers as LEB128 varints, signed ones zigzag first, doubles as 8 little-endian bytes;
//   - strings and lists as a varint count, then their content;
//   - every stamp of an object (a record, a change, a conflict) once, in a table at its head:
//     first the distinct devices (16 bytes each), then the distinct stamps in ascending order (wall
//     clock as a delta from the previous, counter, device index); the object then refers to a stamp
//     by its index + 1, and to the zero stamp by 0. One edit's fields share one stamp, so a change
//     costs one stamp however many fields it sets (docs/protocol.md, "Encoding").
//
// Decoding untrusted bytes checks each count against the bytes left (no forged length allocates),
// each stamp reference against its table, and refuses map keys out of order (one encoding per value).
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "communesync/sync/change.hpp"
#include "communesync/sync/conflict.hpp"
#include "communesync/sync/record.hpp"

namespace communesync::sync {

//! Thrown inside decoding only; decode() turns it into a Status. Never crosses a layer.
struct DecodeError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

//! Appends to a string.
class CompactWriter {
 public:
  explicit CompactWriter(std::string& out) : out_(out) {}
  void byte(std::uint8_t b) { out_.push_back(static_cast<char>(b)); }
  void flag(bool b) { byte(b ? 1 : 0); }
  void varint(std::uint64_t n);
  void signedVarint(std::int64_t n);
  void f64(double d);
  void raw(std::string_view bytes) { out_.append(bytes); }
  void str(std::string_view s) {
    varint(s.size());
    raw(s);
  }
  std::string& out() { return out_; }

 private:
  std::string& out_;
};

//! Reads from bytes it does not own; throws DecodeError (codec.hpp) on anything malformed, which
//! decode() turns into a kProtocol status.
class CompactReader {
 public:
  explicit CompactReader(std::string_view in) : in_(in) {}
  std::uint8_t byte();
  bool flag();
  std::uint64_t varint();
  std::int64_t signedVarint();
  double f64();
  std::string_view raw(std::size_t n);
  std::string str() { return std::string(raw(count(1))); }
  //! A count of elements taking at least `min_bytes` each: refused if the input cannot hold them.
  std::size_t count(std::size_t min_bytes);
  std::size_t remaining() const { return in_.size() - at_; }
  std::size_t position() const { return at_; }
  //! The bytes read since `position`.
  std::string_view since(std::size_t position) const { return in_.substr(position, at_ - position); }

  //! Nesting of values being read (lists and maps), bounded by tuning::kMaxValueDepth.
  std::size_t value_depth = 0;

 private:
  std::string_view in_;
  std::size_t at_ = 0;
};

//! The stamps of one object, written once at its head (see above).
class StampTable {
 public:
  void add(const Stamp& s) {
    if (!s.isZero()) stamps_.push_back(s);
  }
  void add(const DeviceId& d) { extra_devices_.push_back(d); }
  //! Sorts and writes the table; call once, after every add and before any ref.
  void write(CompactWriter& w);
  void writeRef(CompactWriter& w, const Stamp& s) const;
  void writeDevice(CompactWriter& w, const DeviceId& d) const;

  void read(CompactReader& r);
  Stamp readRef(CompactReader& r) const;
  DeviceId readDevice(CompactReader& r) const;

 private:
  std::vector<Stamp> stamps_;
  std::vector<DeviceId> devices_;
  std::vector<DeviceId> extra_devices_;
};

// The hot types. encode()/decode() (codec.hpp) use these for them; anything cereal writes that holds
// one of them writes its compact bytes as a nested string.
void writeCompact(CompactWriter& w, const Value& v);
void readCompact(CompactReader& r, Value& v);
void writeCompact(CompactWriter& w, const Record& record);
void readCompact(CompactReader& r, Record& record);
void writeCompact(CompactWriter& w, const Change& change);
void readCompact(CompactReader& r, Change& change);
//! Reads only the head of a Change's bytes, through its record key: for a reader of the log that
//! needs no more (the search index), a tenth of a whole change's decoding.
void readChangeKey(CompactReader& r, RecordKey& key);
void writeCompact(CompactWriter& w, const Conflict& conflict);
void readCompact(CompactReader& r, Conflict& conflict);

//! A type with a compact codec (found by argument-dependent lookup in its own namespace).
template <class T>
concept CompactCoded = requires(CompactWriter& w, CompactReader& r, const T& in, T& out) {
  writeCompact(w, in);
  readCompact(r, out);
};

}  // namespace communesync::sync
