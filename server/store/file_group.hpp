// The file side of one group commit (ServerStore::apply): pieces appended to the batch with their
// daily quota counted, the references from records and conflicts to files kept up to date, and,
// once the batch is durable, the hash of every file that became whole checked before it counts as
// present. Private to server/.
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

class FileGroup {
 public:
  FileGroup(storage::Store& store, const FileLimits& limits, std::int64_t now_ms)
      : store_(store), files_(store), limits_(limits), now_ms_(now_ms) {}

  //! Adds what `piece` brings to `batch` and answers it (complete is only known after finish()).
  Result<sync::proto::FileAck> applyPiece(storage::WriteBatch& batch, const sync::DeviceId& device,
                                          const sync::proto::FilePut& piece);
  //! A record of `scope` went from referring to `before` to referring to `after` (raw hashes).
  static void updateRefs(storage::WriteBatch& batch, const Scope& scope, const sync::RecordKey& key,
                         const std::set<std::string>& before, const std::set<std::string>& after);
  //! A conflict keeps the files of its lost value referred to (the reconcilers may want to see them).
  static void addConflictRefs(storage::WriteBatch& batch, const sync::Conflict& conflict);
  //! Writes the file entries and quota counters this group changed. Call once, before the commit.
  void writeTo(storage::WriteBatch& batch) const;
  //! After the group's durable commit: checks each file that became whole; marks it complete, or
  //! erases it if its bytes do not match its hash; corrects the jobs' acks. Commits durably.
  Status finish(std::vector<PushJob*>& jobs);

 private:
  Result<sync::FileEntry*> entryFor(const std::string& hash, std::uint64_t size);
  Result<std::uint64_t*> quotaFor(const sync::DeviceId& device);

  storage::Store& store_;
  sync::FileStore files_;
  const FileLimits& limits_;
  std::int64_t now_ms_;
  std::map<std::string, sync::FileEntry> entries_;  // hash -> entry as this group leaves it
  std::map<std::string, std::uint64_t> quotas_;     // quota key -> bytes today
  std::set<std::string> whole_;                     // hashes that became whole in this group
};

}  // namespace communesync::server
