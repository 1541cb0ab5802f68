#include "communesync/sync/file_store.hpp"

#include "communesync/storage/key_codec.hpp"
#include "communesync/sync/file_ref.hpp"
#include "communesync/sync/stored.hpp"

namespace communesync::sync {
namespace {

using storage::Column;

std::string pieceKey(std::string_view hash, std::uint64_t end) {
  std::string out(hash);
  storage::appendUint64(out, end);
  return out;
}

}  // namespace

std::string fileEntryKey(std::string_view hash) {
  std::string out = "f";
  out.append(hash);
  return out;
}

Result<std::optional<FileEntry>> FileStore::entry(std::string_view hash, const storage::Snapshot* snapshot) const {
  return readDecoded<FileEntry>(store_, Column::kFiles, fileEntryKey(hash), snapshot);
}

void FileStore::putEntry(storage::WriteBatch& batch, std::string_view hash, const FileEntry& entry) {
  batch.put(Column::kFiles, fileEntryKey(hash), encode(entry));
}

Result<std::uint64_t> FileStore::append(storage::WriteBatch& batch, std::string_view hash, FileEntry& entry,
                                        std::uint64_t offset, std::string_view data) {
  const std::uint64_t end = offset + data.size();
  if (end < offset || end > entry.size) {
    return Status::error(ErrorCode::kInvalidArgument, "a piece ends at " + std::to_string(end) +
                                                          ", past the end of the file (" + std::to_string(entry.size) +
                                                          " bytes)");
  }
  if (offset > entry.have) {
    return Status::error(ErrorCode::kInvalidArgument, "a piece starts at " + std::to_string(offset) + " but only " +
                                                          std::to_string(entry.have) + " bytes are held");
  }
  if (end <= entry.have) return std::uint64_t{0};
  const auto fresh = data.substr(static_cast<std::size_t>(entry.have - offset));
  batch.put(Column::kChunks, pieceKey(hash, end), fresh);
  entry.have = end;
  return static_cast<std::uint64_t>(fresh.size());
}

Result<std::string> FileStore::read(std::string_view hash, std::uint64_t offset, std::uint64_t max_bytes,
                                    const storage::Snapshot* snapshot) const {
  std::string out;
  // The first piece whose end is past `offset` holds it; read on until max_bytes.
  auto cursor = store_.scan(Column::kChunks, pieceKey(hash, offset + 1), pieceKey(hash, UINT64_MAX), snapshot);
  std::uint64_t at = offset;
  for (; cursor.valid() && out.size() < max_bytes; cursor.next()) {
    const auto end = storage::readUint64(cursor.key(), kFileHashBytes).value_or(0);
    const auto piece = cursor.value();
    if (end < piece.size() || end <= at)
      return Status::error(ErrorCode::kCorruption, "a stored file piece is malformed");
    const auto start = end - piece.size();
    if (start > at) return Status::error(ErrorCode::kCorruption, "a stored file has a gap");
    const auto skip = static_cast<std::size_t>(at - start);
    const auto take = std::min<std::uint64_t>(piece.size() - skip, max_bytes - out.size());
    out.append(piece.substr(skip, static_cast<std::size_t>(take)));
    at += take;
  }
  CS_RETURN_IF_ERROR(cursor.status());
  if (out.empty() && max_bytes > 0) {
    return Status::error(ErrorCode::kNotFound, "bytes from " + std::to_string(offset) + " of file " +
                                                   fileHashToHex(hash) + " are not held here");
  }
  return out;
}

Result<bool> FileStore::verify(std::string_view held_as, std::uint64_t size, std::string_view hash) const {
  if (hash.empty()) hash = held_as;
  Sha256 sha;
  std::uint64_t seen = 0;
  auto snapshot = store_.snapshot();
  auto cursor = store_.scan(Column::kChunks, pieceKey(held_as, 0), pieceKey(held_as, UINT64_MAX), &snapshot);
  for (; cursor.valid(); cursor.next()) {
    const auto end = storage::readUint64(cursor.key(), kFileHashBytes).value_or(0);
    if (end != seen + cursor.value().size()) return false;  // a gap or an overlap: not this file
    sha.update(cursor.value());
    seen = end;
  }
  CS_RETURN_IF_ERROR(cursor.status());
  return seen == size && sha.finish() == hash;
}

Status FileStore::movePieces(storage::WriteBatch& batch, std::string_view from, std::string_view to) const {
  auto cursor = store_.scan(Column::kChunks, pieceKey(from, 0), pieceKey(from, UINT64_MAX));
  for (; cursor.valid(); cursor.next()) {
    const auto end = storage::readUint64(cursor.key(), kFileHashBytes).value_or(0);
    batch.put(Column::kChunks, pieceKey(to, end), cursor.value());
    batch.erase(Column::kChunks, cursor.key());
  }
  return cursor.status();
}

Status FileStore::eraseAll(storage::WriteBatch& batch, std::string_view hash) const {
  auto cursor = store_.scan(Column::kChunks, pieceKey(hash, 0), pieceKey(hash, UINT64_MAX));
  for (; cursor.valid(); cursor.next()) batch.erase(Column::kChunks, cursor.key());
  CS_RETURN_IF_ERROR(cursor.status());
  batch.erase(Column::kFiles, fileEntryKey(hash));
  return Status::ok();
}

}  // namespace communesync::sync
