#include "store/word_postings.hpp"

#include <algorithm>
#include <limits>

#include "base/tuning.hpp"
#include "communesync/storage/key_codec.hpp"

namespace communesync::server {
namespace {

using storage::Column;

std::uint64_t ageOf(std::int64_t created_ms) {
  return std::numeric_limits<std::uint64_t>::max() - static_cast<std::uint64_t>(created_ms);
}

// A chunk's value: (id \0 scope \0) per record, sorted by id.
Status decodeChunk(std::string_view value, std::map<std::string, std::optional<std::string>>& into) {
  std::size_t pos = 0;
  while (pos < value.size()) {
    auto id = storage::readPart(value, pos);
    auto scope = id ? storage::readPart(value, pos) : std::nullopt;
    if (!scope) return Status::error(ErrorCode::kCorruption, "a search index chunk is malformed: rebuild the views");
    into.emplace(std::string(*id), std::string(*scope));
  }
  return Status::ok();
}

// Whether a record ends its chunk: about one in tuning::kPostingChunkMean, by a hash of its id, so
// the cuts are a function of the records alone (content-defined, as rsync's and restic's chunks
// are): a record added or removed changes its own chunk (and joins two when a chunk's last goes),
// never the cuts of the rest of the segment, and the writer's index is byte for byte a rebuild's.
// FNV-1a, written here because it must stay the same across builds and machines (std::hash need not).
bool endsChunk(std::string_view id) {
  std::uint64_t h = 14695981039346656037ULL;
  for (const char c : id) {
    h ^= static_cast<unsigned char>(c);
    h *= 1099511628211ULL;
  }
  return h % tuning::kPostingChunkMean == 0;
}

}  // namespace

void WordGroup::add(const std::string& word_prefix, std::int64_t created_ms, const std::string& id,
                    const std::string& scope) {
  segments_[{word_prefix, ageOf(created_ms)}].insert_or_assign(id, scope);
}

void WordGroup::remove(const std::string& word_prefix, std::int64_t created_ms, const std::string& id) {
  segments_[{word_prefix, ageOf(created_ms)}].insert_or_assign(id, std::nullopt);
}

Status WordGroup::writeTo(const storage::Store& store, storage::WriteBatch& batch) {
  if (segments_.empty()) return Status::ok();
  // One cursor over every segment of the group, moved by seeks: a group touches a few segments per
  // record, and opening a RocksDB iterator for each was a third of the indexer's time
  // (docs/benchmarks.md, "The indexer's reads").
  auto cursor = store.scan(Column::kSearch, segments_.begin()->first.first,
                           storage::prefixSuccessor(segments_.rbegin()->first.first));
  for (auto& [where, changes] : segments_) {
    std::string segment = where.first;
    storage::appendUint64(segment, where.second);
    const auto in_segment = [&] { return cursor.valid() && cursor.key().starts_with(segment); };
    // The chunks that hold (or would hold) a changed record, and after a chunk whose last record
    // goes, the next one too (the two become one): read, erased, and cut again with the changes.
    // Usually there are none (the records a group creates are of its own time).
    std::map<std::string, std::optional<std::string>> entries;
    std::string loaded_last;  // the key of the last chunk read
    cursor.seek(segment);
    auto take = [&](std::string_view key, std::string_view value) -> Status {
      if (key <= loaded_last) return Status::ok();  // read already
      CS_RETURN_IF_ERROR(decodeChunk(value, entries));
      batch.erase(Column::kSearch, key);
      loaded_last = std::string(key);
      return Status::ok();
    };
    if (in_segment()) {
      std::optional<std::string> final_key;  // the segment's last chunk, read when needed
      for (const auto& [id, scope] : changes) {
        std::string at = segment;
        storage::appendPart(at, id);
        if (!cursor.valid() || cursor.key() < at) cursor.seek(at);
        if (in_segment()) {
          CS_RETURN_IF_ERROR(take(cursor.key(), cursor.value()));
          if (!scope && cursor.key() == at) {  // its chunk's last record goes: the next chunk joins
            cursor.next();
            if (in_segment()) CS_RETURN_IF_ERROR(take(cursor.key(), cursor.value()));
          }
          continue;
        }
        CS_RETURN_IF_ERROR(cursor.status());
        // Past the last chunk's last record: the last chunk takes it.
        if (!final_key) {
          auto last = store.lastKey(Column::kSearch, segment);
          if (!last) return last.status();
          if (!last->has_value()) break;  // nothing stored after all
          final_key = std::move(**last);
          auto value = store.get(Column::kSearch, *final_key);
          if (!value) return value.status();
          if (!value->has_value()) return Status::error(ErrorCode::kCorruption, "a search index chunk vanished");
          CS_RETURN_IF_ERROR(take(*final_key, **value));
        }
      }
    }
    CS_RETURN_IF_ERROR(cursor.status());
    for (auto& [id, scope] : changes) entries.insert_or_assign(id, std::move(scope));
    // Cut after each boundary record: where the cuts fall depends on the records alone.
    std::string value;
    std::string_view last;
    auto flush = [&] {
      if (value.empty()) return;
      std::string key = segment;
      storage::appendPart(key, last);
      batch.put(Column::kSearch, key, value);
      value.clear();
    };
    for (const auto& [id, scope] : entries) {
      if (!scope) continue;  // removed
      storage::appendPart(value, id);
      storage::appendPart(value, *scope);
      last = id;
      if (endsChunk(id)) flush();
    }
    flush();
  }
  segments_.clear();
  return Status::ok();
}

WordCursor::WordCursor(const storage::Store& store, const storage::Snapshot* snapshot, std::string word_prefix,
                       std::string_view start)
    : prefix_(std::move(word_prefix)),
      cursor_(store.scan(Column::kSearch, prefix_ + std::string(start), storage::prefixSuccessor(prefix_), snapshot)) {
  load();
  seek(start);
}

Status WordCursor::status() const {
  if (!status_.isOk()) return status_;
  return cursor_.status();
}

void WordCursor::load() {
  entries_.clear();
  at_ = 0;
  if (!cursor_.valid()) return;
  const auto key = cursor_.key();
  if (key.size() < prefix_.size() + 8) {
    status_ = Status::error(ErrorCode::kCorruption, "a search index key is malformed: rebuild the views");
    return;
  }
  const auto age = key.substr(prefix_.size(), 8);
  const auto value = cursor_.value();
  std::size_t pos = 0;
  while (pos < value.size()) {
    auto id = storage::readPart(value, pos);
    auto scope = id ? storage::readPart(value, pos) : std::nullopt;
    if (!scope) {
      status_ = Status::error(ErrorCode::kCorruption, "a search index chunk is malformed: rebuild the views");
      entries_.clear();
      return;
    }
    std::string position(age);
    storage::appendPart(position, *id);
    entries_.emplace_back(std::move(position), std::string(*scope));
  }
  if (entries_.empty()) status_ = Status::error(ErrorCode::kCorruption, "a search index chunk is empty");
}

void WordCursor::next() {
  if (!valid()) return;
  if (++at_ < entries_.size()) return;
  cursor_.next();
  load();
}

void WordCursor::seek(std::string_view position) {
  if (!valid()) return;
  if (position > entries_.back().first) {  // past this chunk: the chunk named by the first key after
    cursor_.seek(prefix_ + std::string(position));
    load();
    if (!valid()) return;
  }
  const auto from = entries_.begin() + static_cast<std::ptrdiff_t>(at_);
  at_ = static_cast<std::size_t>(
      std::lower_bound(from, entries_.end(), position, [](const auto& e, std::string_view p) { return e.first < p; }) -
      entries_.begin());
}

}  // namespace communesync::server
