// Bytes in and out. The hot types (values, records, changes, conflicts and the push and pull
// messages) have the compact codec of compact.hpp; every other type is written with cereal's
// portable binary archive (little-endian, fixed-width scalars) with a class version per type, and a
// hot type inside one of those is written as its compact bytes. Strings and containers are written
// as a LEB128 length followed by their content; decoding untrusted bytes checks every length against
// the input's size, so a forged length cannot make us allocate.
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
#include "communesync/sync/compact.hpp"
#include "communesync/sync/tuning.hpp"

namespace communesync::sync {

namespace codec_detail {

//! Bytes left in the input of the decode() running on this thread: the bound on any length read.
inline thread_local std::size_t input_bytes = 0;

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

//! Encodes `value`: the compact codec for a hot type, cereal's portable binary archive otherwise.
template <class T>
std::string encode(const T& value) {
  std::string out;
  out.reserve(256);
  if constexpr (CompactCoded<T>) {
    CompactWriter w(out);
    writeCompact(w, value);
  } else {
    codec_detail::StringSink sink(out);
    std::ostream os(&sink);
    cereal::PortableBinaryOutputArchive ar(os);
    ar(value);
  }
  return out;
}

//! Decodes a `T` from untrusted bytes. Errors: kProtocol, naming what did not decode.
template <class T>
Result<T> decode(std::string_view bytes) {
  T value{};
  std::size_t left = 0;
  try {
    if constexpr (CompactCoded<T>) {
      CompactReader r(bytes);
      readCompact(r, value);
      left = r.remaining();
    } else {
      codec_detail::ViewBuf buf(bytes);
      std::istream is(&buf);
      codec_detail::input_bytes = bytes.size();
      cereal::PortableBinaryInputArchive ar(is);
      ar(value);
      left = buf.remaining();
    }
  } catch (const std::exception& e) {
    return Status::error(ErrorCode::kProtocol, std::string("undecodable message: ") + e.what());
  }
  if (left != 0)
    return Status::error(ErrorCode::kProtocol, std::to_string(left) + " unexpected bytes after the message");
  return value;
}

//! The record key of a Change's compact bytes, without decoding the rest (compact.hpp's
//! readChangeKey). Errors: kProtocol, as decode().
inline Result<RecordKey> decodeChangeKey(std::string_view bytes) {
  RecordKey key;
  try {
    CompactReader r(bytes);
    readChangeKey(r, key);
  } catch (const std::exception& e) {
    return Status::error(ErrorCode::kProtocol, std::string("undecodable change: ") + e.what());
  }
  return key;
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
void serialize(Archive& ar, RecordKey& k, std::uint32_t /*version*/) {
  ar(codec_detail::Str{k.collection}, codec_detail::Str{k.id});
}

//! A conflict's side alone (inside a conflict, the compact codec writes it).
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

//! A hot type inside a cereal-written type: its compact bytes as one string.
template <class Archive, CompactCoded T>
void save(Archive& ar, const T& value) {
  std::string bytes;
  CompactWriter w(bytes);
  writeCompact(w, value);
  codec_detail::saveString(ar, bytes);
}
template <class Archive, CompactCoded T>
void load(Archive& ar, T& value) {
  std::string bytes;
  codec_detail::loadString(ar, bytes);
  CompactReader r(bytes);
  readCompact(r, value);
  if (r.remaining() != 0) throw DecodeError("unexpected bytes after a nested value");
}

}  // namespace communesync::sync

CEREAL_CLASS_VERSION(communesync::sync::DeviceId, 1)
CEREAL_CLASS_VERSION(communesync::sync::Stamp, 1)
CEREAL_CLASS_VERSION(communesync::sync::RecordKey, 1)
CEREAL_CLASS_VERSION(communesync::sync::ConflictSide, 1)
