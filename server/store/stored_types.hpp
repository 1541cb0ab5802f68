// How the server's store keeps its own structs (cereal with class versions; the record, read and
// written per change, in the compact codec), and the keys of the
// devices column it shares with the directory. Private to server/: nothing here crosses the wire.
// The directory's own structs are in directory/stored_directory.hpp.
#pragma once

#include "communesync/sync/codec.hpp"
#include "communesync/sync/hybrid_clock.hpp"
#include "communesync/sync/stamp.hpp"
#include "store/server_store.hpp"

namespace communesync::server {

//! A record as the server keeps it: the merged record and the scope sequence of its last change.
struct StoredRecord {
  sync::Record record;
  std::uint64_t seq = 0;
};

//! What the history keeps of an accepted change besides the change itself (which is in the log).
struct HistoryMeta {
  std::int64_t receive_ms = 0;
  std::string user;
};

struct DeviceState {
  std::string user;
  std::int64_t first_contact_ms = 0;
  std::int64_t last_contact_ms = 0;
  sync::Stamp last_clamped;  // StampClamp state
  bool revoked = false;      // version 2
  // Version 3: what the device said at its last contact (DeviceInfo).
  std::string client_version;
  std::int64_t clock_offset_ms = 0;
  std::int64_t pending_age_ms = 0;
};

inline std::string deviceKey(const sync::DeviceId& d) {
  return "d" + std::string(d.raw());
}

// A stored record is read and written once per change: the compact codec (sync/compact.hpp).
inline void writeCompact(sync::CompactWriter& w, const StoredRecord& r) {
  w.varint(r.seq);
  writeCompact(w, r.record);
}
inline void readCompact(sync::CompactReader& r, StoredRecord& stored) {
  stored.seq = r.varint();
  readCompact(r, stored.record);
}
//! The record's own compact bytes inside a stored record (what a pull sends). Errors: kCorruption.
inline Result<std::string_view> storedRecordBytes(std::string_view stored) {
  try {
    sync::CompactReader r(stored);
    (void)r.varint();
    return stored.substr(r.position());
  } catch (const sync::DecodeError&) {
    return Status::error(ErrorCode::kCorruption, "a stored record has no sequence number");
  }
}

template <class Archive>
void save(Archive& ar, const DeviceState& d, std::uint32_t) {
  sync::codec_detail::saveString(ar, d.user);
  ar(d.first_contact_ms, d.last_contact_ms, d.last_clamped);
  bool revoked = d.revoked;
  ar(sync::codec_detail::Flag{revoked});
  sync::codec_detail::saveString(ar, d.client_version);
  ar(d.clock_offset_ms, d.pending_age_ms);
}
template <class Archive>
void load(Archive& ar, DeviceState& d, std::uint32_t version) {
  sync::codec_detail::loadString(ar, d.user);
  ar(d.first_contact_ms, d.last_contact_ms, d.last_clamped);
  if (version >= 2) ar(sync::codec_detail::Flag{d.revoked});
  if (version >= 3) {
    sync::codec_detail::loadString(ar, d.client_version);
    ar(d.clock_offset_ms, d.pending_age_ms);
  }
}

template <class Archive>
void serialize(Archive& ar, HistoryMeta& h, std::uint32_t) {
  ar(h.receive_ms, sync::codec_detail::Str{h.user});
}

template <class Archive>
void serialize(Archive& ar, ConflictAuthors& a, std::uint32_t) {
  ar(sync::codec_detail::Str{a.lost_user}, a.lost_received_ms, sync::codec_detail::Str{a.kept_user}, a.kept_received_ms,
     sync::codec_detail::Flag{a.agreed_known}, a.agreed);
}

}  // namespace communesync::server

CEREAL_CLASS_VERSION(communesync::server::HistoryMeta, 1)
CEREAL_CLASS_VERSION(communesync::server::ConflictAuthors, 1)
CEREAL_CLASS_VERSION(communesync::server::DeviceState, 3)
