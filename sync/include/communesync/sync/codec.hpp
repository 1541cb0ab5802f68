// Bytes in and out: every sync type (and every protocol message) is written with cereal's portable
// binary archive (little-endian, fixed-width scalars) with a class version per type. Strings and
// containers are written as a LEB128 length followed by their content; decoding untrusted bytes
// checks every length against the input's size, so a forged length cannot make us allocate.
//
// encode()/decode() are the only entry points; the serialize functions below are what they use.
#pragma once

#include <cereal/archives/portable_binary.hpp>
#include <cereal/cereal.hpp>

#include <cstdint>
#include <istream>
#include <map>
#include <optional>
#include <sstream>
#include <streambuf>
#include <string>
#include <string_view>
#include <vector>

#include "communesync/storage/result.hpp"
#include "communesync/sync/change.hpp"
#include "communesync/sync/conflict.hpp"
#include "communesync/sync/record.hpp"
#include "communesync/sync/tuning.hpp"

namespace communesync::sync {

//! Thrown inside decoding only; decode() turns it into a Status. Never crosses a layer.
struct DecodeError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

namespace codec_detail {

//! Bytes left in the input of the decode() running on this thread: the bound on any length read.
inline thread_local std::size_t input_bytes = 0;
//! Nesting depth of values being decoded on this thread.
inline thread_local std::size_t value_depth = 0;

template <class Archive>
void saveLength(Archive& ar, std::uint64_t n) {
  do {
    std::uint8_t byte = n & 0x7f;
    n >>= 7;
    if (n != 0) byte |= 0x80;
    ar(byte);
  } while (n != 0);
}

template <class Archive>
std::uint64_t loadLength(Archive& ar) {
  std::uint64_t n = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    std::uint8_t byte = 0;
    ar(byte);
    n |= static_cast<std::uint64_t>(byte & 0x7f) << shift;
    if ((byte & 0x80) == 0) {
      if (n > input_bytes) throw DecodeError("a length of " + std::to_string(n) + " exceeds the message");
      return n;
    }
  }
  throw DecodeError("a length is not a valid varint");
}

template <class Archive>
void saveString(Archive& ar, const std::string& s) {
  saveLength(ar, s.size());
  ar(cereal::binary_data(s.data(), s.size()));
}

template <class Archive>
void loadString(Archive& ar, std::string& s) {
  auto n = loadLength(ar);
  s.resize(n);
  ar(cereal::binary_data(s.data(), n));
}

//! Reads and writes a std::string through the length-checked path.
struct Str {
  std::string& s;
  template <class Archive>
  void save(Archive& ar) const {
    saveString(ar, s);
  }
  template <class Archive>
  void load(Archive& ar) {
    loadString(ar, s);
  }
};

//! Reads and writes a bool as one byte that must be 0 or 1 (loading any other byte into a bool is UB).
struct Flag {
  bool& b;
  template <class Archive>
  void save(Archive& ar) const {
    ar(static_cast<std::uint8_t>(b ? 1 : 0));
  }
  template <class Archive>
  void load(Archive& ar) {
    std::uint8_t v = 0;
    ar(v);
    if (v > 1) throw DecodeError("a flag byte is " + std::to_string(v));
    b = v == 1;
  }
};

//! A list: its length, then each element (strings through the length-checked path).
template <class Archive, class T>
void saveVector(Archive& ar, const std::vector<T>& v) {
  saveLength(ar, v.size());
  for (const auto& e : v) {
    if constexpr (std::is_same_v<T, std::string>) {
      saveString(ar, e);
    } else {
      ar(e);
    }
  }
}

template <class Archive, class T>
void loadVector(Archive& ar, std::vector<T>& v) {
  auto n = loadLength(ar);  // every element takes at least one byte, so n is bounded by the input
  v.clear();
  for (std::uint64_t i = 0; i < n; ++i) {
    T e{};
    if constexpr (std::is_same_v<T, std::string>) {
      loadString(ar, e);
    } else {
      ar(e);
    }
    v.push_back(std::move(e));
  }
}

template <class Archive, class V>
void saveStringMap(Archive& ar, const std::map<std::string, V, std::less<>>& m) {
  saveLength(ar, m.size());
  for (const auto& [k, v] : m) {
    saveString(ar, k);
    ar(v);
  }
}

template <class Archive, class V>
void loadStringMap(Archive& ar, std::map<std::string, V, std::less<>>& m) {
  auto n = loadLength(ar);
  m.clear();
  for (std::uint64_t i = 0; i < n; ++i) {
    std::string k;
    loadString(ar, k);
    V v{};
    ar(v);
    m.insert_or_assign(std::move(k), std::move(v));
  }
}

//! A read-only streambuf over bytes we do not own: decoding copies nothing up front.
class ViewBuf : public std::streambuf {
 public:
  explicit ViewBuf(std::string_view bytes) {
    char* p = const_cast<char*>(bytes.data());  // NOLINT: std::streambuf wants char*; we never write
    setg(p, p, p + bytes.size());
  }
  std::size_t remaining() const { return static_cast<std::size_t>(egptr() - gptr()); }
};

//! A streambuf that appends to a std::string: encoding builds the result in place, without the
//! copies and locale machinery of std::ostringstream (measured: a hot spot of the server's push path).
class StringSink : public std::streambuf {
 public:
  explicit StringSink(std::string& out) : out_(out) {}

 protected:
  std::streamsize xsputn(const char* s, std::streamsize n) override {
    out_.append(s, static_cast<std::size_t>(n));
    return n;
  }
  int_type overflow(int_type c) override {
    if (c != traits_type::eof()) out_.push_back(static_cast<char>(c));
    return traits_type::not_eof(c);
  }

 private:
  std::string& out_;
};

}  // namespace codec_detail

//! Encodes `value` with cereal's portable binary archive.
template <class T>
std::string encode(const T& value) {
  std::string out;
  out.reserve(256);
  codec_detail::StringSink sink(out);
  std::ostream os(&sink);
  {
    cereal::PortableBinaryOutputArchive ar(os);
    ar(value);
  }
  return out;
}

//! Decodes a `T` from untrusted bytes. Errors: kProtocol, naming what did not decode.
template <class T>
Result<T> decode(std::string_view bytes) {
  codec_detail::ViewBuf buf(bytes);
  std::istream is(&buf);
  codec_detail::input_bytes = bytes.size();
  codec_detail::value_depth = 0;
  T value{};
  try {
    cereal::PortableBinaryInputArchive ar(is);
    ar(value);
  } catch (const std::exception& e) {
    return Status::error(ErrorCode::kProtocol, std::string("undecodable message: ") + e.what());
  }
  if (buf.remaining() != 0) {
    return Status::error(ErrorCode::kProtocol, std::to_string(buf.remaining()) + " unexpected bytes after the message");
  }
  return value;
}

// ---- serialize functions for the record model ----

template <class Archive>
void serialize(Archive& ar, DeviceId& id, std::uint32_t /*version*/) {
  ar(cereal::binary_data(id.bytes.data(), id.bytes.size()));
}

template <class Archive>
void serialize(Archive& ar, Stamp& s, std::uint32_t /*version*/) {
  ar(s.wall_ms, s.counter, s.device);
}

template <class Archive>
void save(Archive& ar, const Bytes& b, std::uint32_t /*version*/) {
  codec_detail::saveString(ar, b.data);
}
template <class Archive>
void load(Archive& ar, Bytes& b, std::uint32_t /*version*/) {
  codec_detail::loadString(ar, b.data);
}

template <class Archive>
void save(Archive& ar, const Value& v, std::uint32_t /*version*/) {
  ar(static_cast<std::uint8_t>(v.kind()));
  std::visit(
      [&](const auto& x) {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, std::monostate>) {
        } else if constexpr (std::is_same_v<T, std::string>) {
          codec_detail::saveString(ar, x);
        } else if constexpr (std::is_same_v<T, Value::List>) {
          codec_detail::saveVector(ar, x);
        } else if constexpr (std::is_same_v<T, Value::Map>) {
          codec_detail::saveStringMap(ar, x);
        } else if constexpr (std::is_same_v<T, bool>) {
          bool copy = x;
          ar(codec_detail::Flag{copy});
        } else {
          ar(x);
        }
      },
      v.variant());
}

template <class Archive>
void load(Archive& ar, Value& v, std::uint32_t /*version*/) {
  struct DepthGuard {
    DepthGuard() {
      if (++codec_detail::value_depth > tuning::kMaxValueDepth + 1) throw DecodeError("value nested too deep");
    }
    ~DepthGuard() { --codec_detail::value_depth; }
  } guard;
  std::uint8_t kind = 0;
  ar(kind);
  switch (static_cast<Value::Kind>(kind)) {
    case Value::Kind::kNull:
      v = Value();
      break;
    case Value::Kind::kBool: {
      bool b = false;
      ar(codec_detail::Flag{b});
      v = Value(b);
      break;
    }
    case Value::Kind::kInt: {
      std::int64_t i = 0;
      ar(i);
      v = Value(i);
      break;
    }
    case Value::Kind::kDouble: {
      double d = 0;
      ar(d);
      v = Value(d);
      break;
    }
    case Value::Kind::kString: {
      std::string s;
      codec_detail::loadString(ar, s);
      v = Value(std::move(s));
      break;
    }
    case Value::Kind::kBytes: {
      Bytes b;
      ar(b);
      v = Value(std::move(b));
      break;
    }
    case Value::Kind::kList: {
      Value::List l;
      codec_detail::loadVector(ar, l);
      v = Value(std::move(l));
      break;
    }
    case Value::Kind::kMap: {
      Value::Map m;
      codec_detail::loadStringMap(ar, m);
      v = Value(std::move(m));
      break;
    }
    default:
      throw DecodeError("unknown value kind " + std::to_string(kind));
  }
}

template <class Archive>
void serialize(Archive& ar, RecordKey& k, std::uint32_t /*version*/) {
  ar(codec_detail::Str{k.collection}, codec_detail::Str{k.id});
}

template <class Archive>
void serialize(Archive& ar, FieldState& f, std::uint32_t /*version*/) {
  ar(f.value, f.stamp, f.seen, f.seen_tombstone);
}

template <class Archive>
void save(Archive& ar, const Tombstone& t, std::uint32_t /*version*/) {
  ar(t.stamp);
  codec_detail::saveStringMap(ar, t.seen);
}
template <class Archive>
void load(Archive& ar, Tombstone& t, std::uint32_t /*version*/) {
  ar(t.stamp);
  codec_detail::loadStringMap(ar, t.seen);
}

template <class Archive>
void save(Archive& ar, const Record& r, std::uint32_t /*version*/) {
  ar(r.key);
  codec_detail::saveString(ar, r.scope);
  ar(r.form_version);
  codec_detail::saveStringMap(ar, r.fields);
  ar(r.tombstone, r.capture_time_ms, r.receive_time_ms);
}
template <class Archive>
void load(Archive& ar, Record& r, std::uint32_t /*version*/) {
  ar(r.key);
  codec_detail::loadString(ar, r.scope);
  ar(r.form_version);
  codec_detail::loadStringMap(ar, r.fields);
  ar(r.tombstone, r.capture_time_ms, r.receive_time_ms);
}

template <class Archive>
void serialize(Archive& ar, ChangeId& id, std::uint32_t /*version*/) {
  ar(id.device, id.seq);
}

template <class Archive>
void serialize(Archive& ar, FieldAssignment& a, std::uint32_t /*version*/) {
  ar(codec_detail::Str{a.field}, a.value, a.stamp, a.seen);
}

template <class Archive>
void save(Archive& ar, const Deletion& d, std::uint32_t /*version*/) {
  ar(d.stamp);
  codec_detail::saveStringMap(ar, d.seen);
}
template <class Archive>
void load(Archive& ar, Deletion& d, std::uint32_t /*version*/) {
  ar(d.stamp);
  codec_detail::loadStringMap(ar, d.seen);
}

template <class Archive>
void save(Archive& ar, const Change& c, std::uint32_t /*version*/) {
  ar(c.id, c.key);
  codec_detail::saveString(ar, c.scope);
  ar(c.form_version, c.capture_time_ms);
  codec_detail::saveVector(ar, c.assignments);
  bool has_deletion = c.deletion.has_value();
  ar(codec_detail::Flag{has_deletion});
  if (c.deletion) ar(*c.deletion);
  ar(c.seen_tombstone);
}
template <class Archive>
void load(Archive& ar, Change& c, std::uint32_t /*version*/) {
  ar(c.id, c.key);
  codec_detail::loadString(ar, c.scope);
  ar(c.form_version, c.capture_time_ms);
  codec_detail::loadVector(ar, c.assignments);
  bool has_deletion = false;
  ar(codec_detail::Flag{has_deletion});
  c.deletion.reset();
  if (has_deletion) {
    Deletion d;
    ar(d);
    c.deletion = std::move(d);
  }
  ar(c.seen_tombstone);
}

template <class Archive>
void save(Archive& ar, const ConflictSide& s, std::uint32_t /*version*/) {
  bool has_value = s.value.has_value();
  ar(codec_detail::Flag{has_value});
  if (s.value) ar(*s.value);
  ar(s.stamp);
}
template <class Archive>
void load(Archive& ar, ConflictSide& s, std::uint32_t /*version*/) {
  bool has_value = false;
  ar(codec_detail::Flag{has_value});
  s.value.reset();
  if (has_value) {
    Value v;
    ar(v);
    s.value = std::move(v);
  }
  ar(s.stamp);
}

template <class Archive>
void save(Archive& ar, const Conflict& c, std::uint32_t /*version*/) {
  ar(c.key);
  codec_detail::saveString(ar, c.scope);
  codec_detail::saveString(ar, c.field);
  ar(c.lost, c.kept, c.detected_ms, static_cast<std::uint8_t>(c.status));
  codec_detail::saveString(ar, c.resolved_by);
  ar(c.resolved_ms);
  codec_detail::saveString(ar, c.reason);
  ar(c.resolution);
}
template <class Archive>
void load(Archive& ar, Conflict& c, std::uint32_t version) {
  ar(c.key);
  codec_detail::loadString(ar, c.scope);
  codec_detail::loadString(ar, c.field);
  std::uint8_t status = 0;
  ar(c.lost, c.kept, c.detected_ms, status);
  if (status > static_cast<std::uint8_t>(ConflictStatus::kResolved)) throw DecodeError("unknown conflict status");
  c.status = static_cast<ConflictStatus>(status);
  if (version >= 2) {
    codec_detail::loadString(ar, c.resolved_by);
    ar(c.resolved_ms);
    codec_detail::loadString(ar, c.reason);
    ar(c.resolution);
  }
}

}  // namespace communesync::sync

CEREAL_CLASS_VERSION(communesync::sync::DeviceId, 1)
CEREAL_CLASS_VERSION(communesync::sync::Stamp, 1)
CEREAL_CLASS_VERSION(communesync::sync::Bytes, 1)
CEREAL_CLASS_VERSION(communesync::sync::Value, 1)
CEREAL_CLASS_VERSION(communesync::sync::RecordKey, 1)
CEREAL_CLASS_VERSION(communesync::sync::FieldState, 1)
CEREAL_CLASS_VERSION(communesync::sync::Tombstone, 1)
CEREAL_CLASS_VERSION(communesync::sync::Record, 1)
CEREAL_CLASS_VERSION(communesync::sync::ChangeId, 1)
CEREAL_CLASS_VERSION(communesync::sync::FieldAssignment, 1)
CEREAL_CLASS_VERSION(communesync::sync::Deletion, 1)
CEREAL_CLASS_VERSION(communesync::sync::Change, 1)
CEREAL_CLASS_VERSION(communesync::sync::ConflictSide, 1)
CEREAL_CLASS_VERSION(communesync::sync::Conflict, 2)
