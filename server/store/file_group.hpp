// The file side of one group commit (ServerStore::apply): pieces appended to the batch with their
// uploader's quotas counted, the references from records and conflicts to files kept up to date,
// and, once the batch is durable, the hash of every file that became whole checked before it counts
// as present. Private to server/.
//
// Until a file is whole and checked, its bytes are the uploader's alone: each user's partial upload
// of a hash is held under its own name, partialName(hash, user), in the same layout (a cut upload
// resumes at its `have`). Someone else sending a wrong size or wrong bytes for the same hash only
// spoils its own partial upload; the first upload to arrive whole and hash right becomes the shared
// file, and every other partial upload of it is answered "complete" at its next piece.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "communesync/sync/file_store.hpp"
#include "store/server_store.hpp"

namespace communesync::server {

//! 'r' hash scope \0: the prefix of the references to `hash` from `scope`.
std::string fileRefPrefix(std::string_view hash, std::string_view scope = {});
//! The name `user`'s partial upload of `hash` is held under (32 bytes, never a file's own hash).
std::string partialName(std::string_view hash, std::string_view user);
//! 'o' user-digest: bytes of `user`'s uploads that no record refers to yet.
std::string unreferencedKey(std::string_view user);

class FileGroup {
 public:
  FileGroup(storage::Store& store, const FileLimits& limits, std::int64_t now_ms)
      : store_(store), files_(store), limits_(limits), now_ms_(now_ms) {}

  //! Adds what `piece` from `user` brings to `batch` and answers it (complete is only known after finish()).
  Result<sync::proto::FileAck> applyPiece(storage::WriteBatch& batch, const std::string& user,
                                          const sync::proto::FilePut& piece);
  //! A record of `scope` went from referring to `before` to referring to `after` (raw hashes).
  Status updateRefs(storage::WriteBatch& batch, const Scope& scope, const sync::RecordKey& key,
                    const std::set<std::string>& before, const std::set<std::string>& after);
  //! A conflict keeps the files of its lost value referred to (the reconcilers may want to see them).
  Status addConflictRefs(storage::WriteBatch& batch, const sync::Conflict& conflict);
  //! Writes the file entries and counters this group changed. Call once, before the commit.
  void writeTo(storage::WriteBatch& batch) const;
  //! After the group's durable commit: checks each upload that became whole; makes it the shared
  //! file, or erases it if its bytes do not match its hash; corrects the jobs' acks. Commits durably.
  Status finish(std::vector<PushJob*>& jobs);

 private:
  struct Upload {  // a partial upload that became whole in this group
    std::string hash;
    std::string user;
  };
  Result<sync::FileEntry*> entryFor(const std::string& name);
  Result<std::uint64_t*> counterFor(const std::string& key);
  // A reference to `hash` appeared: a whole file counted against its uploader no longer is.
  Status referred(const std::string& hash);
  Result<bool> settle(storage::WriteBatch& batch, const std::string& name, const Upload& upload);

  storage::Store& store_;
  sync::FileStore files_;
  const FileLimits& limits_;
  std::int64_t now_ms_;
  std::map<std::string, std::optional<sync::FileEntry>> entries_;  // name -> entry as this group leaves it
  std::map<std::string, std::uint64_t> counters_;                  // quota and unreferenced-bytes key -> bytes
  std::map<std::string, Upload> whole_;                            // partial names that became whole in this group
};

}  // namespace communesync::server
