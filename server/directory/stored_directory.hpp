// How the directory keeps its structs (cereal, with class versions): users, tokens, units and the
// audit log. Private to server/: nothing here crosses the wire.
#pragma once

#include "access/access.hpp"
#include "communesync/sync/codec.hpp"
#include "directory/directory.hpp"
#include "programme/units.hpp"
#include "store/stored_types.hpp"

namespace communesync::server {

struct StoredUser {
  std::string name;
  std::vector<Grant> grants;
  std::string token_digest;   // the user token (from `user add`); empty once disabled
  std::string password_hash;  // Argon2id, libsodium's string form; empty: no password
  bool disabled = false;
};

// A device token's owner. (A user token maps straight to the user name: 't' digest -> name.)
struct TokenInfo {
  std::string user;
  sync::DeviceId device;
};

inline std::string userKey(std::string_view name) {
  return "u" + std::string(name);
}
inline std::string tokenKey(std::string_view digest) {
  return "t" + std::string(digest);
}
inline std::string deviceTokenKey(std::string_view digest) {
  return "v" + std::string(digest);
}

template <class Archive>
void save(Archive& ar, const Grant& g, std::uint32_t) {
  ar(static_cast<std::uint8_t>(g.role));
  sync::codec_detail::saveString(ar, g.unit);
}
template <class Archive>
void load(Archive& ar, Grant& g, std::uint32_t) {
  std::uint8_t role = 0;
  ar(role);
  if (role < 1 || role > 5) throw sync::DecodeError("unknown role " + std::to_string(role));
  g.role = static_cast<Role>(role);
  sync::codec_detail::loadString(ar, g.unit);
}

template <class Archive>
void save(Archive& ar, const StoredUser& u, std::uint32_t) {
  sync::codec_detail::saveString(ar, u.name);
  sync::codec_detail::saveVector(ar, u.grants);
  sync::codec_detail::saveString(ar, u.token_digest);
  sync::codec_detail::saveString(ar, u.password_hash);
  bool disabled = u.disabled;
  ar(sync::codec_detail::Flag{disabled});
}
template <class Archive>
void load(Archive& ar, StoredUser& u, std::uint32_t version) {
  sync::codec_detail::loadString(ar, u.name);
  if (version < 2) {
    // Version 1 (the sync issue): a list of scopes, each read and written as a field member.
    std::vector<std::string> scopes;
    sync::codec_detail::loadVector(ar, scopes);
    for (auto& s : scopes) u.grants.push_back(Grant{Role::kField, std::move(s)});
    sync::codec_detail::loadString(ar, u.token_digest);
    return;
  }
  sync::codec_detail::loadVector(ar, u.grants);
  sync::codec_detail::loadString(ar, u.token_digest);
  sync::codec_detail::loadString(ar, u.password_hash);
  ar(sync::codec_detail::Flag{u.disabled});
}

template <class Archive>
void serialize(Archive& ar, TokenInfo& t, std::uint32_t) {
  ar(sync::codec_detail::Str{t.user}, t.device);
}

template <class Archive>
void save(Archive& ar, const Unit& u, std::uint32_t) {
  sync::codec_detail::saveString(ar, u.code);
  sync::codec_detail::saveString(ar, u.parent_code);
  ar(static_cast<std::uint8_t>(u.level));
  sync::codec_detail::saveString(ar, u.name);
  sync::codec_detail::saveString(ar, u.merged_into);
  sync::codec_detail::saveString(ar, u.merged_on);
}
template <class Archive>
void load(Archive& ar, Unit& u, std::uint32_t version) {
  sync::codec_detail::loadString(ar, u.code);
  sync::codec_detail::loadString(ar, u.parent_code);
  std::uint8_t level = 0;
  ar(level);
  if (level < 1 || level > 4) throw sync::DecodeError("unknown unit level " + std::to_string(level));
  u.level = static_cast<UnitLevel>(level);
  sync::codec_detail::loadString(ar, u.name);
  sync::codec_detail::loadString(ar, u.merged_into);
  if (version >= 2) sync::codec_detail::loadString(ar, u.merged_on);
}

template <class Archive>
void serialize(Archive& ar, AuditEntry& e, std::uint32_t) {
  ar(e.seq, e.time_ms, sync::codec_detail::Str{e.actor}, sync::codec_detail::Str{e.from},
     sync::codec_detail::Str{e.action}, sync::codec_detail::Str{e.detail});
}

}  // namespace communesync::server

CEREAL_CLASS_VERSION(communesync::server::Grant, 1)
CEREAL_CLASS_VERSION(communesync::server::StoredUser, 2)
CEREAL_CLASS_VERSION(communesync::server::TokenInfo, 1)
CEREAL_CLASS_VERSION(communesync::server::Unit, 2)  // 2: merged_on
CEREAL_CLASS_VERSION(communesync::server::AuditEntry, 1)
