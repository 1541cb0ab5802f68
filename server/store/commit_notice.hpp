// What one server tells the others on the same database after each commit (storage::Store::listen,
// PostgreSQL's NOTIFY in the commit's own transaction): the log seq it reached and each unit's new
// latest seq, so the others notify their devices and know their memory of the store is behind.
// A directory change (users, grants, tokens, units) sends kDirectoryNotice: the others check their
// sessions' rights again, so a revocation closes sessions on every server.
//
// Text, one line per item: "c <log seq>" then "<scope>\t<seq>" lines; split into several notices
// when a group touched more units than one notice holds (storage::tuning::kMaxNoticeBytes).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "communesync/sync/messages.hpp"

namespace communesync::server {

inline constexpr std::string_view kDirectoryNotice = "d";

struct CommitNotice {
  std::uint64_t log_seq = 0;
  sync::proto::Checkpoints scopes;  //!< each unit the commit moved, and its new latest seq
};

//! The notices that tell of one commit (one, unless it touched very many units).
std::vector<std::string> commitNotices(const CommitNotice& notice);
//! A commit notice read back, or nullopt for another kind of notice (or a malformed one).
std::optional<CommitNotice> parseCommitNotice(std::string_view text);

}  // namespace communesync::server
