// The reconciliation side of one group commit (ServerStore::apply): every accepted change goes in
// its record's history with who pushed it and when; a new conflict gets who wrote each side and the
// value both had seen; a resolution closes its conflict. Private to server/.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "store/server_store.hpp"

namespace communesync::server {

class HistoryGroup {
 public:
  HistoryGroup(const storage::Store& store, std::int64_t now_ms) : store_(store), now_ms_(now_ms) {}

  //! The id of the next change the server makes for a person (a conflict's resolution, a review, a
  //! review reopened): the reconciler device's own numbering, kept in the meta column.
  Result<sync::ChangeId> nextServerChangeId(storage::WriteBatch& batch);
  //! An accepted change: its history entry goes in `batch`. `change` must outlive the group (it is
  //! kept by address, for the conflicts a later change of the group may reveal, not copied).
  void accepted(storage::WriteBatch& batch, std::uint64_t log_seq, const std::string& user, const sync::Change& change);
  //! Who wrote each side of a conflict that `change`, pushed by `user`, just revealed.
  Status authors(storage::WriteBatch& batch, const sync::Conflict& conflict, const sync::Change& change,
                 const std::string& user);
  //! Closes the conflict that `change` (accepted at `scope_seq` of its scope) settles, and moves it
  //! to that sequence so devices pull it again. Errors: kNotFound.
  Result<sync::Conflict> resolve(storage::WriteBatch& batch, const Resolution& resolution, const sync::Change& change,
                                 std::uint64_t scope_seq);

 private:
  // The accepted change of `key` that wrote `stamp` to `field` ("" with a deletion stamp: the delete).
  Result<std::optional<HistoryEntry>> findWrite(const sync::RecordKey& key, const std::string& field,
                                                const sync::Stamp& stamp);

  const storage::Store& store_;
  std::int64_t now_ms_;
  struct Accepted {
    std::uint64_t log_seq = 0;
    std::string user;
    const sync::Change* change = nullptr;
  };
  std::map<std::string, std::vector<Accepted>> group_;  // record key -> this group's entries
  std::optional<std::uint64_t> resolutions_;            // resolutions so far, once read
};

//! True if `change` wrote `stamp` to `field` (an empty field: the change is the deletion with it).
bool wrote(const sync::Change& change, const std::string& field, const sync::Stamp& stamp);

}  // namespace communesync::server
