// File content in a storage::Store, laid out the same on the server and on a device.
//
//   files:  'f' hash (32)                  -> FileEntry (size, bytes held, verified, ...)
//   chunks: hash (32) end-offset (8, BE)   -> the bytes [previous end, end)
//
// Pieces are only ever appended at the end of what is held, so a store always holds a prefix of a
// file: an upload or a download that was cut resumes at `have`. The piece holding any offset is the
// first key whose end is past it: one forward seek. A file counts as present only once its whole
// content hashed to its name (`complete`).
//
// FileStore reads the store and adds writes to a caller's batch; the caller decides when (and how
// durably) to commit, so a piece and the entry that counts it land together.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "communesync/storage/store.hpp"
#include "communesync/sync/codec.hpp"

namespace communesync::sync {

//! What a store knows of one file.
struct FileEntry {
  std::uint64_t size = 0;            //!< total bytes (0 with have 0: not known yet)
  std::uint64_t have = 0;            //!< bytes held: always a prefix
  bool complete = false;             //!< have == size and the bytes hash to the file's name
  bool upload = false;               //!< device: made here (attached); the server does not have it yet
  bool want = false;                 //!< device: fetch it at the next sync (an eager collection refers to it)
  std::int64_t touched_ms = 0;       //!< server: when a piece last arrived (or the file was made)
  std::int64_t orphan_since_ms = 0;  //!< server: when a sweep first found no reference (0: referenced)
  std::string name;                  //!< device: the file name it was attached from, for people
  std::string uploader;              //!< server: the user who sent the bytes (a partial upload is its alone)
  bool counted = false;              //!< server: counts toward the uploader's bytes no record refers to yet
  bool operator==(const FileEntry&) const = default;
};

class FileStore {
 public:
  explicit FileStore(const storage::Store& store) : store_(store) {}

  //! The entry of `hash` (32 raw bytes), or std::nullopt. Errors: the store's, kCorruption.
  Result<std::optional<FileEntry>> entry(std::string_view hash, const storage::Snapshot* snapshot = nullptr) const;
  //! Adds the entry's write to `batch`.
  static void putEntry(storage::WriteBatch& batch, std::string_view hash, const FileEntry& entry);

  //! Adds the piece [offset, offset + data.size()) to `batch` and moves `entry.have`. Only the part
  //! past `entry.have` is kept (a piece sent twice is harmless); a piece that starts past it would
  //! leave a gap and is not taken. Returns the bytes newly held. The entry itself is not written.
  //! Errors: kInvalidArgument (past the end of the file, or a gap).
  static Result<std::uint64_t> append(storage::WriteBatch& batch, std::string_view hash, FileEntry& entry,
                                      std::uint64_t offset, std::string_view data);

  //! Up to `max_bytes` held bytes from `offset`. Errors: kNotFound (offset not held), kCorruption.
  Result<std::string> read(std::string_view hash, std::uint64_t offset, std::uint64_t max_bytes,
                           const storage::Snapshot* snapshot = nullptr) const;
  //! True if the `size` bytes held under `held_as` hash to `hash` (by default its own name).
  Result<bool> verify(std::string_view held_as, std::uint64_t size, std::string_view hash = {}) const;
  //! Adds to `batch` the move of every piece held under `from` to `to` (not the entries): a file
  //! uploaded under a private name becomes the shared one.
  Status movePieces(storage::WriteBatch& batch, std::string_view from, std::string_view to) const;
  //! Adds to `batch` the erasure of the entry and every piece of `hash`.
  Status eraseAll(storage::WriteBatch& batch, std::string_view hash) const;
  //! Every entry, by hash (sweeps and status).
  template <class F>
  Status forEach(F&& each) const;

 private:
  const storage::Store& store_;
};

std::string fileEntryKey(std::string_view hash);

template <class Archive>
void serialize(Archive& ar, FileEntry& e, std::uint32_t version) {
  ar(e.size, e.have, codec_detail::Flag{e.complete}, codec_detail::Flag{e.upload}, codec_detail::Flag{e.want},
     e.touched_ms, e.orphan_since_ms, codec_detail::Str{e.name});
  if (version >= 2) ar(codec_detail::Str{e.uploader}, codec_detail::Flag{e.counted});
}

template <class F>
Status FileStore::forEach(F&& each) const {
  auto cursor = store_.scanPrefix(storage::Column::kFiles, "f");
  for (; cursor.valid(); cursor.next()) {
    auto entry = decode<FileEntry>(cursor.value());
    if (!entry) return Status::error(ErrorCode::kCorruption, "a stored file entry does not decode");
    CS_RETURN_IF_ERROR(each(cursor.key().substr(1), *entry));
  }
  return cursor.status();
}

}  // namespace communesync::sync

CEREAL_CLASS_VERSION(communesync::sync::FileEntry, 2)
