// Key encodings of the server store that more than one source file writes (layout in
// server_store.hpp). Private to server/.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "communesync/storage/key_codec.hpp"
#include "communesync/sync/device_id.hpp"
#include "communesync/sync/record.hpp"
#include "communesync/sync/stored.hpp"

namespace communesync::server {

//! meta: the server-wide log sequence.
inline constexpr std::string_view kLastSeqKey = "last_seq";

//! meta: 'q' scope -> the scope's latest seq.
inline std::string scopeSeqKey(std::string_view scope) {
  return "q" + std::string(scope);
}

//! meta: 'p' scope -> the scope's purge horizon (8) and how far the purge has read its index (8).
inline std::string purgeMarkKey(std::string_view scope) {
  return "p" + std::string(scope);
}

//! devices: 'c' device -> the StampClamp state of the device.
inline std::string clampKey(const sync::DeviceId& d) {
  return "c" + std::string(d.raw());
}

//! devices: 'k' device -> the greatest Push.acknowledged_below of the device (its results below it
//! are forgotten, and a change below it is refused).
inline std::string acknowledgedKey(const sync::DeviceId& d) {
  return "k" + std::string(d.raw());
}

//! idempotency: device (16) device-seq (8) -> the change's first result.
inline std::string idempotencyKey(const sync::ChangeId& id) {
  std::string out(id.device.raw());
  storage::appendUint64(out, id.seq);
  return out;
}

//! scope \0 seq: a record's entry in its scope's index.
inline std::string scopeIndexKey(const sync::Scope& scope, std::uint64_t seq) {
  std::string out;
  storage::appendPart(out, scope);
  storage::appendUint64(out, seq);
  return out;
}

//! The value of a scope index entry: the record's key (collection \0 id \0), then, when the
//! record's latest change was an exact one (ChangeResult::exact), the 16 bytes of the device that
//! pushed it: that device holds the record already, and its pulls step over the entry.
inline std::string scopeIndexValue(const std::string& record_key, const sync::DeviceId* exact_for) {
  if (exact_for == nullptr) return record_key;
  return record_key + std::string(exact_for->raw());
}

//! A scope index value read back: the record's key and the device it is exact for (empty if none).
struct ScopeIndexEntry {
  std::string_view record_key;
  std::string_view exact_for;
};

//! Nullopt if the value is not a record key, optionally followed by a device.
inline std::optional<ScopeIndexEntry> readScopeIndexValue(std::string_view value) {
  std::size_t pos = 0;
  if (!storage::readPart(value, pos) || !storage::readPart(value, pos)) return std::nullopt;
  const auto rest = value.substr(pos);
  if (!rest.empty() && rest.size() != sync::DeviceId{}.raw().size()) return std::nullopt;
  return ScopeIndexEntry{value.substr(0, pos), rest};
}

//! 's' scope \0 seq conflict-id: a conflict where a pull of its scope finds it.
inline std::string conflictScopeKey(const sync::Scope& scope, std::uint64_t seq, const std::string& id) {
  std::string out = "s";
  storage::appendPart(out, scope);
  storage::appendUint64(out, seq);
  out += id;
  return out;
}

//! scope \0 seq: the value of a conflict's 'i' key (where its 's' key is).
inline std::string conflictWhere(const sync::Scope& scope, std::uint64_t seq) {
  std::string out;
  storage::appendPart(out, scope);
  storage::appendUint64(out, seq);
  return out;
}

//! collection \0 id \0 log-seq: one accepted change in a record's history.
inline std::string historyKey(const sync::RecordKey& key, std::uint64_t log_seq) {
  std::string out = sync::recordStorageKey(key);
  storage::appendUint64(out, log_seq);
  return out;
}

}  // namespace communesync::server
