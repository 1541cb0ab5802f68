// Order-preserving key encodings: big-endian integers and length-safe string parts, so that
// RocksDB's byte order equals the logical order of keys.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace communesync::storage {

//! Appends `v` as 8 big-endian bytes.
inline void appendUint64(std::string& out, std::uint64_t v) {
  for (int shift = 56; shift >= 0; shift -= 8) out.push_back(static_cast<char>((v >> shift) & 0xff));
}

//! Reads 8 big-endian bytes at `pos`; nullopt if too short.
inline std::optional<std::uint64_t> readUint64(std::string_view in, std::size_t pos = 0) {
  if (in.size() < pos + 8) return std::nullopt;
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < 8; ++i) v = (v << 8) | static_cast<unsigned char>(in[pos + i]);
  return v;
}

//! Appends a string part terminated by a 0 byte. Parts must not contain 0 bytes (checked by callers
//! that accept untrusted input); this keeps ("a","bc") and ("ab","c") apart and sorted by part.
inline void appendPart(std::string& out, std::string_view part) {
  out.append(part);
  out.push_back('\0');
}

//! Splits off the next 0-terminated part starting at `pos`, advancing `pos`; nullopt if unterminated.
inline std::optional<std::string_view> readPart(std::string_view in, std::size_t& pos) {
  auto end = in.find('\0', pos);
  if (end == std::string_view::npos) return std::nullopt;
  auto part = in.substr(pos, end - pos);
  pos = end + 1;
  return part;
}

}  // namespace communesync::storage
