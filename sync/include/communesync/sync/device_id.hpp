// A device's identity: 128 random bits, made at install, tied to one user after first login.
#pragma once

#include <array>
#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace communesync::sync {

struct DeviceId {
  std::array<std::uint8_t, 16> bytes{};

  // Byte by byte, as std::array's own would: written out because the libc++ that emscripten ships
  // (the field app's WebAssembly build) has no operator<=> for std::array yet.
  std::strong_ordering operator<=>(const DeviceId& other) const {
    for (std::size_t i = 0; i < bytes.size(); ++i) {
      if (auto order = bytes[i] <=> other.bytes[i]; order != 0) return order;
    }
    return std::strong_ordering::equal;
  }
  bool operator==(const DeviceId&) const = default;
  bool isNil() const { return *this == DeviceId{}; }
  //! 32 lowercase hex digits.
  std::string hex() const;
  //! Parses 32 hex digits (either case); nullopt otherwise.
  static std::optional<DeviceId> fromHex(std::string_view hex);
  //! The raw 16 bytes, as used inside storage keys.
  std::string_view raw() const { return {reinterpret_cast<const char*>(bytes.data()), bytes.size()}; }
};

//! Lowercase hex of arbitrary bytes.
std::string toHex(std::string_view bytes);

}  // namespace communesync::sync
