#include "communesync/sync/device_id.hpp"

#include "communesync/sync/stamp.hpp"

namespace communesync::sync {
namespace {
int hexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}
}  // namespace

std::string toHex(std::string_view bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (char ch : bytes) {
    auto b = static_cast<unsigned char>(ch);
    out.push_back(kHex[b >> 4]);
    out.push_back(kHex[b & 0xf]);
  }
  return out;
}

std::string DeviceId::hex() const {
  return toHex(raw());
}

std::optional<DeviceId> DeviceId::fromHex(std::string_view hex) {
  if (hex.size() != 32) return std::nullopt;
  DeviceId id;
  for (std::size_t i = 0; i < 16; ++i) {
    int hi = hexDigit(hex[2 * i]);
    int lo = hexDigit(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    id.bytes[i] = static_cast<std::uint8_t>((hi << 4) | lo);
  }
  return id;
}

std::string Stamp::toString() const {
  return std::to_string(wall_ms) + "." + std::to_string(counter) + "@" + device.hex();
}

}  // namespace communesync::sync
