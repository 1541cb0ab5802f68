#include "communesync/sync/conflict.hpp"

#include <openssl/sha.h>

#include "communesync/storage/key_codec.hpp"

namespace communesync::sync {

std::string Conflict::id() const {
  // A hash keeps the id short and free of the names' bytes; 16 bytes make collisions negligible.
  std::string material;
  storage::appendPart(material, key.collection);
  storage::appendPart(material, key.id);
  storage::appendPart(material, field);
  storage::appendUint64(material, static_cast<std::uint64_t>(lost.stamp.wall_ms));
  storage::appendUint64(material, lost.stamp.counter);
  material.append(lost.stamp.device.raw());
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(material.data()), material.size(), digest);
  return toHex(std::string_view(reinterpret_cast<const char*>(digest), 16));
}

}  // namespace communesync::sync
