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

}  // namespace

void WordGroup::add(const std::string& word_prefix, std::int64_t created_ms, const std::string& id,
                    const std::string& scope) {
  segments_[{word_prefix, ageOf(created_ms)}].insert_or_assign(id, scope);
}

void WordGroup::remove(const std::string& word_prefix, std::int64_t created_ms, const std::string& id) {
  segments_[{word_prefix, ageOf(created_ms)}].insert_or_assign(id, std::nullopt);
}

Status WordGroup::writeTo(const storage::Store& store, storage::WriteBatch& batch) {
  for (auto& [where, changes] : segments_) {
    std::string segment = where.first;
    storage::appendUint64(segment, where.second);
    // The segment as stored: usually nothing (the records a group creates are of its own time).
    std::map<std::string, std::optional<std::string>> entries;
    bool stored = false;
    auto cursor = store.scan(Column::kSearch, segment, storage::prefixSuccessor(segment));
    for (; cursor.valid(); cursor.next()) {
      CS_RETURN_IF_ERROR(decodeChunk(cursor.value(), entries));
      batch.erase(Column::kSearch, cursor.key());
      stored = true;
    }
    CS_RETURN_IF_ERROR(cursor.status());
    if (!stored) {
      entries = std::move(changes);
    } else {
      for (auto& [id, scope] : changes) entries.insert_or_assign(id, std::move(scope));
    }
    // Cut the same way whatever the history: every kMaxPostingEntries records, in id order.
    std::string value;
    std::size_t in_chunk = 0;
    std::string_view last;
    auto flush = [&] {
      if (in_chunk == 0) return;
      std::string key = segment;
      storage::appendPart(key, last);
      batch.put(Column::kSearch, key, value);
      value.clear();
      in_chunk = 0;
    };
    for (const auto& [id, scope] : entries) {
      if (!scope) continue;  // removed
      storage::appendPart(value, id);
      storage::appendPart(value, *scope);
      last = id;
      if (++in_chunk == tuning::kMaxPostingEntries) flush();
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
