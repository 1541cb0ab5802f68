// Sync types in a storage::Store: the key encodings and the typed read that the server's store and
// the device's store share.
#pragma once

#include <optional>
#include <string>

#include "communesync/storage/key_codec.hpp"
#include "communesync/storage/store.hpp"
#include "communesync/sync/codec.hpp"
#include "communesync/sync/record.hpp"

namespace communesync::sync {

//! collection \0 id \0: sorts by collection, then id.
inline std::string recordStorageKey(const RecordKey& key) {
  std::string out;
  storage::appendPart(out, key.collection);
  storage::appendPart(out, key.id);
  return out;
}

//! A sequence number as 8 big-endian bytes: sorts numerically.
inline std::string seqStorageKey(std::uint64_t seq) {
  std::string out;
  storage::appendUint64(out, seq);
  return out;
}

//! A value read from `column` (a get or one of a multiGet's) decoded as a T; std::nullopt if
//! absent. Error: kCorruption, naming the column, if the stored bytes do not decode.
template <class T>
Result<std::optional<T>> decodeStored(storage::Column column, const std::optional<std::string>& raw) {
  if (!raw.has_value()) return std::optional<T>();
  auto decoded = decode<T>(*raw);
  if (!decoded) {
    return Status::error(ErrorCode::kCorruption, "stored value in " + std::string(storage::columnName(column)) +
                                                     " does not decode: " + decoded.status().message());
  }
  return std::optional<T>(std::move(decoded).value());
}

//! The value at `key` decoded as a T; std::nullopt if absent. Errors: the store's, or kCorruption
//! (naming the column) if the stored bytes do not decode.
template <class T>
Result<std::optional<T>> readDecoded(const storage::Store& store, storage::Column column, std::string_view key,
                                     const storage::Snapshot* snapshot = nullptr) {
  auto raw = store.get(column, key, snapshot);
  if (!raw) return raw.status();
  return decodeStored<T>(column, *raw);
}

}  // namespace communesync::sync
