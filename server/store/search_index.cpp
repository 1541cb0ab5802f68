#include "store/search_index.hpp"

#include <algorithm>
#include <iterator>
#include <set>
#include <vector>

#include "base/tuning.hpp"
#include "communesync/storage/key_codec.hpp"
#include "communesync/sync/stored.hpp"
#include "store/stored_types.hpp"
#include "store/views.hpp"
#include "store/word_postings.hpp"

namespace communesync::server {
namespace {

using storage::Column;

constexpr std::string_view kMarkKey = "m";

std::string indexedKey(std::string_view record_key) {
  return "i" + std::string(record_key);
}

// What a record was last indexed under: when it was first accepted, and its words.
struct Indexed {
  std::int64_t created_ms = 0;
  std::vector<std::string> words;
};

std::string encodeIndexed(const Indexed& indexed) {
  std::string out;
  storage::appendUint64(out, static_cast<std::uint64_t>(indexed.created_ms));
  for (const auto& word : indexed.words) storage::appendPart(out, word);
  return out;
}

std::optional<Indexed> decodeIndexed(std::string_view bytes) {
  auto created = storage::readUint64(bytes);
  if (!created) return std::nullopt;
  Indexed out{static_cast<std::int64_t>(*created), {}};
  std::size_t pos = 8;
  while (pos < bytes.size()) {
    auto word = storage::readPart(bytes, pos);
    if (!word) return std::nullopt;
    out.words.emplace_back(*word);
  }
  return out;
}

// Moves one record's postings from what it was indexed under to its words now, and keeps those.
// `record` is the record as it is (nullopt: not in the store), `indexed` what the index holds;
// `history` a cursor over the history column, for when the record was first accepted.
Status reindex(storage::Cursor& history, const std::string& record_key, const std::optional<sync::Record>& record,
               const std::optional<Indexed>& indexed, WordGroup& words, storage::WriteBatch& batch) {
  std::vector<std::string> now;
  if (record && !record->deleted()) now = searchWords(*record);
  const std::vector<std::string> none;
  const auto& was = indexed ? indexed->words : none;
  if (now == was && (indexed || now.empty())) return Status::ok();
  std::int64_t created_ms = 0;
  if (indexed) {
    created_ms = indexed->created_ms;
  } else {
    auto first = firstAcceptedMs(history, record_key, record->receive_time_ms);
    if (!first) return first.status();
    created_ms = *first;
  }
  std::vector<std::string> gone;
  std::set_difference(was.begin(), was.end(), now.begin(), now.end(), std::back_inserter(gone));
  std::vector<std::string> added;
  std::set_difference(now.begin(), now.end(), was.begin(), was.end(), std::back_inserter(added));
  std::size_t pos = 0;
  const auto collection = storage::readPart(record_key, pos);
  const auto id = collection ? storage::readPart(record_key, pos) : std::nullopt;
  if (!id) return Status::error(ErrorCode::kCorruption, "a record key is malformed");
  for (const auto& word : gone) words.remove(wordPrefix(*collection, word), created_ms, std::string(*id));
  for (const auto& word : added) words.add(wordPrefix(*collection, word), created_ms, std::string(*id), record->scope);
  if (now.empty()) {
    batch.erase(Column::kSearch, indexedKey(record_key));
  } else {
    batch.put(Column::kSearch, indexedKey(record_key), encodeIndexed({created_ms, std::move(now)}));
  }
  return Status::ok();
}

// What the index holds of a record, from its entry's bytes (none: not indexed).
Result<std::optional<Indexed>> indexedOf(const std::optional<std::string>& raw) {
  if (!raw) return std::optional<Indexed>();
  auto indexed = decodeIndexed(*raw);
  if (!indexed) return Status::error(ErrorCode::kCorruption, "a search index entry is malformed: rebuild the views");
  return std::optional<Indexed>(std::move(*indexed));
}

}  // namespace

Result<std::uint64_t> SearchIndex::throughLocked() {
  if (through_known_) return through_.load();
  auto raw = store_.get(Column::kSearch, kMarkKey);
  if (!raw) return raw.status();
  through_ = raw->has_value() ? storage::readUint64(**raw).value_or(0) : 0;
  through_known_ = true;
  return through_.load();
}

std::optional<std::uint64_t> SearchIndex::throughNow() const {
  if (!through_known_.load(std::memory_order_acquire)) return std::nullopt;
  return through_.load(std::memory_order_acquire);
}

Result<std::uint64_t> SearchIndex::through() {
  std::lock_guard lock(mutex_);
  return throughLocked();
}

Result<bool> SearchIndex::catchUp(std::uint64_t last_seq, std::size_t max_changes) {
  std::lock_guard lock(mutex_);
  // On a store several servers write, their indexers take turns, each from the mark the last left.
  std::optional<storage::StoreLock> turn;
  if (!store_.local()) {
    auto held = store_.lock(storage::LockName::kSearchIndex, tuning::kStoreLockWait);
    if (!held) return held.status();
    turn.emplace(std::move(held).value());
    through_known_ = false;
  }
  auto from = throughLocked();
  if (!from) return from.status();
  if (*from >= last_seq) return true;
  // The records the slice's changes name, each once (a record edited ten times is indexed once).
  std::set<std::string> touched;
  std::uint64_t upto = *from;
  auto log = store_.scan(Column::kLog, sync::seqStorageKey(*from + 1), sync::seqStorageKey(last_seq + 1));
  for (std::size_t n = 0; log.valid() && n < max_changes; log.next(), ++n) {
    auto seq = storage::readUint64(log.key());
    auto key = sync::decodeChangeKey(log.value());
    if (!seq || !key) return Status::error(ErrorCode::kCorruption, "a change in the log does not decode");
    upto = *seq;
    if (!serverCollection(key->collection)) touched.insert(sync::recordStorageKey(*key));
  }
  CS_RETURN_IF_ERROR(log.status());
  if (!log.valid()) upto = last_seq;  // the rest of the range holds no change
  storage::WriteBatch batch;
  WordGroup words;
  // The records and what the index holds of each, read in two batches (two round trips on
  // PostgreSQL instead of two a record).
  const std::vector<std::string> keys(touched.begin(), touched.end());
  std::vector<std::string> indexed_keys;
  indexed_keys.reserve(keys.size());
  for (const auto& key : keys) indexed_keys.push_back(indexedKey(key));
  auto records = store_.multiGet(Column::kRecords, keys);
  if (!records) return records.status();
  auto entries = store_.multiGet(Column::kSearch, indexed_keys);
  if (!entries) return entries.status();
  auto history = store_.scan(Column::kHistory, "", "");
  for (std::size_t i = 0; i < keys.size(); ++i) {
    std::optional<sync::Record> record;
    if (const auto& raw = (*records)[i]) {
      auto stored = sync::decode<StoredRecord>(*raw);
      if (!stored) return Status::error(ErrorCode::kCorruption, "a stored record does not decode");
      record = std::move(stored->record);
    }
    auto indexed = indexedOf((*entries)[i]);
    if (!indexed) return indexed.status();
    CS_RETURN_IF_ERROR(reindex(history, keys[i], record, *indexed, words, batch));
  }
  CS_RETURN_IF_ERROR(finish(words, batch, upto));
  return upto >= last_seq;
}

Status SearchIndex::finish(WordGroup& words, storage::WriteBatch& batch, std::uint64_t through) {
  CS_RETURN_IF_ERROR(words.writeTo(store_, batch));
  std::string mark;
  storage::appendUint64(mark, through);
  batch.put(Column::kSearch, kMarkKey, mark);
  // Buffered: the index is derived; after a power cut the mark goes back with what it covered.
  CS_RETURN_IF_ERROR(store_.commit(batch, storage::Durability::kBuffered));
  through_ = through;
  through_known_ = true;
  return Status::ok();
}

Status SearchIndex::rebuild(const storage::Snapshot& snapshot, std::uint64_t last_seq) {
  std::lock_guard lock(mutex_);
  storage::WriteBatch batch;
  CS_RETURN_IF_ERROR(eraseColumn(store_, Column::kSearch, batch));
  WordGroup words;
  std::size_t in_batch = 0;
  auto records = store_.scan(Column::kRecords, "", "", &snapshot);
  auto history = store_.scan(Column::kHistory, "", "", &snapshot);
  for (; records.valid(); records.next()) {
    auto stored = sync::decode<StoredRecord>(records.value());
    if (!stored) return Status::error(ErrorCode::kCorruption, "a stored record does not decode");
    if (serverCollection(stored->record.key.collection)) continue;
    CS_RETURN_IF_ERROR(reindex(history, std::string(records.key()), stored->record, std::nullopt, words, batch));
    if (++in_batch < tuning::kViewsRebuildBatch) continue;
    CS_RETURN_IF_ERROR(words.writeTo(store_, batch));
    CS_RETURN_IF_ERROR(store_.commit(batch, storage::Durability::kBuffered));
    batch.clear();
    in_batch = 0;
  }
  CS_RETURN_IF_ERROR(records.status());
  return finish(words, batch, last_seq);
}

}  // namespace communesync::server
