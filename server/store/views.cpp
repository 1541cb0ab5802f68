#include "store/views.hpp"

#include <algorithm>
#include <chrono>
#include <iterator>
#include <limits>

#include "base/tuning.hpp"
#include "communesync/storage/key_codec.hpp"
#include "communesync/sync/codec.hpp"
#include "communesync/sync/stored.hpp"
#include "communesync/sync/text.hpp"
#include "store/stored_types.hpp"

namespace communesync::server {
namespace {

using storage::Column;

constexpr std::size_t kStates = 4;

std::size_t slot(sync::ReviewState state) {
  return static_cast<std::size_t>(state) % kStates;
}

// The record a review names: from its fields, or (a deleted review) from its id, "collection/id".
sync::RecordKey reviewedKey(const sync::Record& review) {
  if (auto r = sync::reviewOf(review)) return r->reviewed;
  const auto slash = review.key.id.find('/');
  if (slash == std::string::npos) return {};
  return {review.key.id.substr(0, slash), review.key.id.substr(slash + 1)};
}

// Adds the words of `text`, folded, to `out`.
void addWords(std::string_view text, std::vector<std::string>& out) {
  const auto folded = sync::foldForSearch(text);
  std::string word;
  auto flush = [&] {
    if (!word.empty()) out.push_back(word.substr(0, tuning::kMaxSearchWordBytes));
    word.clear();
  };
  for (const char c : folded) {
    const auto u = static_cast<unsigned char>(c);
    // Letters, digits and '_' (a choice's code is one word), and every byte of a character outside
    // ASCII (what folding leaves of scripts it does not strip), make words; anything else separates.
    if (u >= 0x80 || (u >= '0' && u <= '9') || (u >= 'a' && u <= 'z') || u == '_') {
      word.push_back(c);
    } else {
      flush();
    }
  }
  flush();
}

void sortUnique(std::vector<std::string>& words) {
  std::sort(words.begin(), words.end());
  words.erase(std::unique(words.begin(), words.end()), words.end());
}

}  // namespace

std::vector<std::string> searchWords(const sync::Record& r) {
  std::vector<std::string> out;
  std::vector<std::string> words;
  for (const auto& [name, field] : r.fields) {
    const auto* text = field.value.get<std::string>();
    if (text == nullptr || text->size() > tuning::kMaxSearchTextBytes) continue;
    words.clear();
    addWords(*text, words);
    // A name, a village, a code: a few words. A sentence (a wish, a reason) is not how people
    // look a record up, and each word is a key written with every new record.
    if (words.size() <= tuning::kMaxSearchWordsPerValue) out.insert(out.end(), words.begin(), words.end());
  }
  sortUnique(out);
  if (out.size() > tuning::kMaxSearchWordsPerRecord) out.resize(tuning::kMaxSearchWordsPerRecord);
  return out;
}

std::vector<std::string> queryWords(std::string_view text) {
  std::vector<std::string> out;
  addWords(text, out);
  sortUnique(out);
  return out;
}

int provinceYear(std::int64_t ms) {
  constexpr std::int64_t kOffsetMs = std::int64_t{7} * 60 * 60 * 1000;
  const auto days = std::chrono::floor<std::chrono::days>(
      std::chrono::sys_time<std::chrono::milliseconds>(std::chrono::milliseconds(ms + kOffsetMs)));
  return static_cast<int>(std::chrono::year_month_day(days).year());
}

std::int64_t firstCapturedMs(const sync::Record& r) {
  std::int64_t oldest = 0;
  for (const auto& [name, field] : r.fields) {
    if (field.stamp.wall_ms != 0 && (oldest == 0 || field.stamp.wall_ms < oldest)) oldest = field.stamp.wall_ms;
  }
  return oldest != 0 ? oldest : r.capture_time_ms;
}

// ---- keys ----

std::string newestPrefix(const sync::Scope& scope, std::string_view collection) {
  std::string out = "n";
  storage::appendPart(out, scope);
  storage::appendPart(out, collection);
  return out;
}

std::string reviewPrefix(sync::ReviewState review, const sync::Scope& scope, std::string_view collection) {
  std::string out = "v";
  out.push_back(static_cast<char>('0' + slot(review)));
  storage::appendPart(out, scope);
  storage::appendPart(out, collection);
  return out;
}

std::string newestSuffix(std::int64_t created_ms, std::string_view id) {
  std::string out;
  storage::appendUint64(out, std::numeric_limits<std::uint64_t>::max() - static_cast<std::uint64_t>(created_ms));
  storage::appendPart(out, id);
  return out;
}

std::string tallyKey(const sync::Scope& scope, std::int32_t year, std::string_view collection) {
  std::string out = "t";
  storage::appendPart(out, scope);
  storage::appendUint64(out, static_cast<std::uint64_t>(year));
  storage::appendPart(out, collection);
  return out;
}

std::string surveyKey(const sync::Scope& scope, std::int32_t year) {
  std::string out = "s";
  storage::appendPart(out, scope);
  storage::appendUint64(out, static_cast<std::uint64_t>(year));
  return out;
}

std::string wordPrefix(std::string_view collection, std::string_view word) {
  std::string out = "w";
  storage::appendPart(out, collection);
  storage::appendPart(out, word);
  return out;
}

std::string reviewListPrefix(sync::ReviewState state, const sync::Scope& scope) {
  std::string out = "r";
  out.push_back(static_cast<char>('0' + slot(state)));
  storage::appendPart(out, scope);
  return out;
}

std::string openConflictPrefix(const sync::Scope& scope) {
  std::string out = "o";
  storage::appendPart(out, scope);
  return out;
}

std::string openConflictsKey(const sync::Scope& scope) {
  std::string out = "c";
  storage::appendPart(out, scope);
  return out;
}

std::string encodeTally(const Tally& t) {
  std::string out;
  for (auto n : t) storage::appendUint64(out, n);
  return out;
}

namespace {

template <std::size_t N>
std::optional<std::array<std::uint64_t, N>> decodeCounts(std::string_view bytes) {
  if (bytes.size() != N * 8) return std::nullopt;
  std::array<std::uint64_t, N> t{};
  for (std::size_t k = 0; k < N; ++k) t[k] = storage::readUint64(bytes, k * 8).value_or(0);
  return t;
}

// How many counts a tally key holds: a survey tally's 8, a form's 4.
std::size_t widthOf(std::string_view key) {
  return !key.empty() && key.front() == 's' ? 2 * kStates : kStates;
}

}  // namespace

std::optional<Tally> decodeTally(std::string_view bytes) {
  return decodeCounts<kStates>(bytes);
}

std::optional<SurveyTally> decodeSurveyTally(std::string_view bytes) {
  return decodeCounts<2 * kStates>(bytes);
}

Status eraseColumn(storage::Store& store, storage::Column column, storage::WriteBatch& batch) {
  auto c = store.scan(column, "", "");
  for (; c.valid(); c.next()) {
    batch.erase(column, c.key());
    if (batch.count() >= tuning::kViewsRebuildBatch) {
      CS_RETURN_IF_ERROR(store.commit(batch, storage::Durability::kBuffered));
      batch.clear();
    }
  }
  CS_RETURN_IF_ERROR(c.status());
  CS_RETURN_IF_ERROR(store.commit(batch, storage::Durability::kBuffered));
  batch.clear();
  return Status::ok();
}

// ---- the group ----

Result<sync::ReviewState> ViewGroup::reviewOf(const sync::RecordKey& key) {
  auto review = records_(sync::recordStorageKey({std::string(sync::kReviewsCollection), sync::reviewRecordId(key)}));
  if (!review) return review.status();
  if (!review->has_value()) return sync::ReviewState::kReceived;
  auto r = sync::reviewOf(**review);
  return r ? r->state : sync::ReviewState::kReceived;
}

Result<std::int64_t> ViewGroup::createdMs(const std::string& record_key, std::int64_t otherwise) {
  if (auto it = created_.find(record_key); it != created_.end()) return it->second;
  return firstAcceptedMs(store_, record_key, otherwise);
}

namespace {

// The first history entry of `record_key`, where `history` stands (at or after the record's first).
Result<std::int64_t> firstAcceptedAt(storage::Cursor& history, const std::string& record_key, std::int64_t otherwise) {
  if (history.valid() && history.key().starts_with(record_key)) {
    auto meta = sync::decode<HistoryMeta>(history.value());
    if (!meta) return Status::error(ErrorCode::kCorruption, "a history entry does not decode");
    return meta->receive_ms;
  }
  CS_RETURN_IF_ERROR(history.status());
  return otherwise;  // a store from before the history
}

}  // namespace

Result<std::int64_t> firstAcceptedMs(const storage::Store& store, const std::string& record_key, std::int64_t otherwise,
                                     const storage::Snapshot* snapshot) {
  auto history = store.scanPrefix(Column::kHistory, record_key, snapshot);  // stands on the first entry
  return firstAcceptedAt(history, record_key, otherwise);
}

Result<std::int64_t> firstAcceptedMs(storage::Cursor& history, const std::string& record_key, std::int64_t otherwise) {
  history.seek(record_key);
  return firstAcceptedAt(history, record_key, otherwise);
}

Status ViewGroup::recordChanged(storage::WriteBatch& batch, const std::string& record_key,
                                const std::optional<sync::Record>& before, const sync::Record& after,
                                std::int64_t now_ms) {
  if (after.key.collection == sync::kReviewsCollection) return reviewChanged(batch, before, after);
  if (serverCollection(after.key.collection)) return Status::ok();
  const bool was_live = before && !before->deleted();
  const bool is_live = !after.deleted();
  const int was_year = was_live ? provinceYear(firstCapturedMs(*before)) : 0;
  const int is_year = is_live ? provinceYear(firstCapturedMs(after)) : 0;
  const auto was_survey = was_live ? surveyFactsOf(*before) : std::nullopt;
  const auto is_survey = is_live ? surveyFactsOf(after) : std::nullopt;
  if (!before) created_[record_key] = now_ms;
  // The common edit: live before and after, in the same year, counted the same. Nothing moves,
  // nothing is read. (The search's words are not moved here: store/search_index.hpp.)
  if (was_live == is_live && was_year == is_year && was_survey == is_survey) return Status::ok();
  auto created = createdMs(record_key, after.receive_time_ms);
  if (!created) return created.status();
  auto review = before ? reviewOf(after.key) : Result<sync::ReviewState>(sync::ReviewState::kReceived);
  if (!review) return review.status();
  std::optional<ViewEntry> from;
  std::optional<ViewEntry> to;
  if (was_live) from = ViewEntry{before->scope, was_year, *created, *review, was_survey};
  if (is_live) to = ViewEntry{after.scope, is_year, *created, *review, is_survey};
  move(batch, after.key, from, to);
  return Status::ok();
}

Status ViewGroup::reviewChanged(storage::WriteBatch& batch, const std::optional<sync::Record>& before,
                                const sync::Record& after) {
  // The list of reviews: each where its state and when it was given put it.
  const auto was_given = before ? sync::reviewOf(*before) : std::nullopt;
  const auto is_given = sync::reviewOf(after);
  if (was_given) {
    batch.erase(Column::kViews,
                reviewListPrefix(was_given->state, before->scope) + newestSuffix(was_given->at_ms, before->key.id));
  }
  if (is_given) {
    batch.put(Column::kViews,
              reviewListPrefix(is_given->state, after.scope) + newestSuffix(is_given->at_ms, after.key.id), "");
  }
  const auto reviewed = reviewedKey(after);
  if (reviewed.collection.empty() || serverCollection(reviewed.collection)) return Status::ok();
  auto stateOf = [](const std::optional<sync::Record>& review) {
    auto r = review ? sync::reviewOf(*review) : std::nullopt;
    return r ? r->state : sync::ReviewState::kReceived;
  };
  const auto was = stateOf(before);
  const auto is = stateOf(after);
  if (was == is) return Status::ok();
  const auto record_key = sync::recordStorageKey(reviewed);
  auto record = records_(record_key);
  if (!record) return record.status();
  if (!record->has_value() || (*record)->deleted()) return Status::ok();  // only live records are counted
  const auto& r = **record;
  auto created = createdMs(record_key, r.receive_time_ms);
  if (!created) return created.status();
  const int year = provinceYear(firstCapturedMs(r));
  const auto survey = surveyFactsOf(r);
  move(batch, reviewed, ViewEntry{r.scope, year, *created, was, survey},
       ViewEntry{r.scope, year, *created, is, survey});
  return Status::ok();
}

void ViewGroup::move(storage::WriteBatch& batch, const sync::RecordKey& key, const std::optional<ViewEntry>& before,
                     const std::optional<ViewEntry>& after) {
  if (before == after) return;
  // What stays the same is neither erased nor written again.
  const bool both = before && after;
  const bool same_place = both && before->scope == after->scope && before->created_ms == after->created_ms;
  const bool same_review = same_place && before->review == after->review;
  const bool same_tally =
      both && before->scope == after->scope && before->year == after->year && before->review == after->review;
  const bool same_survey =
      both && before->scope == after->scope && before->review == after->review && before->survey == after->survey;
  if (before) {
    const auto suffix = newestSuffix(before->created_ms, key.id);
    if (!same_place) batch.erase(Column::kViews, newestPrefix(before->scope, key.collection) + suffix);
    if (!same_review) batch.erase(Column::kViews, reviewPrefix(before->review, before->scope, key.collection) + suffix);
    if (!same_tally) --tallies_[tallyKey(before->scope, before->year, key.collection)][slot(before->review)];
    if (!same_survey && before->survey) {
      auto& t = tallies_[surveyKey(before->scope, before->survey->year)];
      --t[2 * slot(before->review)];
      if (before->survey->poor) --t[2 * slot(before->review) + 1];
    }
  }
  if (after) {
    const auto suffix = newestSuffix(after->created_ms, key.id);
    if (!same_place) batch.put(Column::kViews, newestPrefix(after->scope, key.collection) + suffix, "");
    if (!same_review) batch.put(Column::kViews, reviewPrefix(after->review, after->scope, key.collection) + suffix, "");
    if (!same_tally) ++tallies_[tallyKey(after->scope, after->year, key.collection)][slot(after->review)];
    if (!same_survey && after->survey) {
      auto& t = tallies_[surveyKey(after->scope, after->survey->year)];
      ++t[2 * slot(after->review)];
      if (after->survey->poor) ++t[2 * slot(after->review) + 1];
    }
  }
}

void ViewGroup::conflictOpened(storage::WriteBatch& batch, const sync::Conflict& conflict) {
  batch.put(Column::kViews, openConflictPrefix(conflict.scope) + newestSuffix(conflict.detected_ms, conflict.id()), "");
  ++conflicts_[conflict.scope];
}

void ViewGroup::conflictSettled(storage::WriteBatch& batch, const sync::Conflict& conflict) {
  batch.erase(Column::kViews, openConflictPrefix(conflict.scope) + newestSuffix(conflict.detected_ms, conflict.id()));
  --conflicts_[conflict.scope];
}

Status ViewGroup::writeTo(storage::WriteBatch& batch) {
  for (const auto& [key, added] : tallies_) {
    const auto width = widthOf(key);
    auto raw = counters_(key);
    if (!raw) return raw.status();
    SurveyTally tally{};  // the wider of the two; a form's tally uses its first four
    if (raw->has_value()) {
      if ((*raw)->size() != width * 8) {
        return Status::error(ErrorCode::kCorruption, "a stored tally is malformed: rebuild the views");
      }
      for (std::size_t k = 0; k < width; ++k) tally[k] = storage::readUint64(**raw, k * 8).value_or(0);
    }
    bool any = false;
    std::string value;
    for (std::size_t k = 0; k < width; ++k) {
      const auto sum = static_cast<std::int64_t>(tally[k]) + added[k];
      if (sum < 0) return Status::error(ErrorCode::kCorruption, "a tally would go below zero: rebuild the views");
      storage::appendUint64(value, static_cast<std::uint64_t>(sum));
      any |= sum != 0;
    }
    if (any) {
      batch.put(Column::kViews, key, value);
      written_.emplace_back(key, value);
    } else {
      batch.erase(Column::kViews, key);
      written_.emplace_back(key, std::nullopt);
    }
  }
  for (const auto& [scope, added] : conflicts_) {
    const auto key = openConflictsKey(scope);
    auto raw = counters_(key);
    if (!raw) return raw.status();
    const auto open = raw->has_value() ? storage::readUint64(**raw).value_or(0) : 0;
    const auto sum = static_cast<std::int64_t>(open) + added;
    if (sum < 0) return Status::error(ErrorCode::kCorruption, "an open conflict count would go below zero");
    if (sum == 0) {
      batch.erase(Column::kViews, key);
      written_.emplace_back(key, std::nullopt);
    } else {
      std::string value;
      storage::appendUint64(value, static_cast<std::uint64_t>(sum));
      batch.put(Column::kViews, key, value);
      written_.emplace_back(key, std::move(value));
    }
  }
  tallies_.clear();
  conflicts_.clear();
  return Status::ok();
}

}  // namespace communesync::server
