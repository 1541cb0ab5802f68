// The device's files: content kept here by its SHA-256 (attached on this device, or fetched from the
// server), which files must still go up, and which ones a sync should fetch. They live in the
// LocalStore's RocksDB (columns files and chunks, laid out by sync/file_store.hpp).
//
// Hashes are 32 raw bytes here; records and people see the 64-hex form (sync/file_ref.hpp).
// Thread safety: every method may be called from any thread.
#pragma once

#include <cstdint>
#include <filesystem>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "communesync/storage/store.hpp"
#include "communesync/sync/file_store.hpp"
#include "communesync/sync/record.hpp"

namespace communesync::client {

struct LocalFile {
  std::string hash;  //!< raw
  sync::FileEntry entry;
};

class LocalFiles {
 public:
  explicit LocalFiles(storage::Store& store) : store_(store), files_(store) {}

  //! Keeps the content of the file at `path` (once: the same content attached twice is kept and
  //! sent once) and marks it to go up at the next sync; durable when it returns. Returns the hex
  //! hash. Errors: kNotFound / kIoError (reading), kLimitExceeded (larger than `max_bytes`),
  //! kInvalidArgument (not a regular file, or empty).
  Result<std::string> add(const std::filesystem::path& path, std::uint64_t max_bytes);
  //! What this device holds of a file.
  Result<std::optional<sync::FileEntry>> entry(std::string_view hash) const;
  //! Files made here that the server does not have whole yet, by hash.
  Result<std::vector<LocalFile>> toUpload() const;
  //! Files to fetch at the next sync (see want()), by hash.
  Result<std::vector<LocalFile>> wanted() const;
  //! The server holds the file whole: it no longer needs to go up.
  Status markUploaded(std::string_view hash);
  //! True if the held bytes of a complete file still hash to its name.
  Result<bool> verify(std::string_view hash) const;
  //! Up to `max_bytes` of a held file from `offset`.
  Result<std::string> read(std::string_view hash, std::uint64_t offset, std::uint64_t max_bytes) const;
  //! Keeps a piece fetched from the server (bytes [offset, ...) of a `size`-byte file). When the file
  //! is whole its hash is checked: true if it is now complete. A file whose bytes do not match is
  //! dropped and kCorruption returned (fetch it again).
  Result<bool> storeFetched(std::string_view hash, std::uint64_t size, std::uint64_t offset, std::string_view data);
  //! Marks the files that `records` refer to and this device lacks, if their collection is fetched
  //! eagerly, to be fetched at the next sync. Returns how many were newly marked.
  Result<std::size_t> wantFor(const std::vector<sync::Record>& records);
  //! Marks one file to be fetched at the next sync.
  Status want(std::string_view hash);
  //! Adds to `batch` the removal of every file fetched here that is not in `keep` (raw hashes):
  //! after the user lost access to records, their photos go too. Files made here are kept until
  //! they have gone up.
  Status dropUnreferenced(storage::WriteBatch& batch, const std::set<std::string>& keep) const;
  //! Writes a complete file to `out` (through a temporary file and a rename). Errors: kNotFound.
  Status copyTo(std::string_view hash, const std::filesystem::path& out) const;

  //! Collections whose files this device fetches at every sync (the provincial office wants all);
  //! others are fetched on demand. Kept in the store.
  Result<std::set<std::string>> eagerCollections() const;
  Status setEagerCollections(const std::set<std::string>& collections);

  //! The largest file the server takes, as it last said (a default before the first sync).
  std::uint64_t maxFileBytes() const;
  Status setMaxFileBytes(std::uint64_t bytes);

  //! Bytes a connection is expected to carry before the link drops: sizes upload and download
  //! pieces so a cut wastes little (see Replicator). Kept in the store across syncs.
  std::uint64_t linkEstimate() const;
  Status setLinkEstimate(std::uint64_t bytes);

 private:
  Result<std::vector<LocalFile>> select(bool (*keep)(const sync::FileEntry&)) const;

  storage::Store& store_;
  sync::FileStore files_;
  mutable std::mutex mutex_;  // serialises read-modify-write of entries
};

}  // namespace communesync::client
