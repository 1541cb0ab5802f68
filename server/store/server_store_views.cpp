// ServerStore's reads of the views the writer keeps (store/views.hpp), and their rebuild.
#include <algorithm>
#include <functional>
#include <limits>
#include <queue>

#include "base/tuning.hpp"
#include "communesync/storage/key_codec.hpp"
#include "communesync/sync/device_id.hpp"
#include "communesync/sync/stored.hpp"
#include "store/server_store.hpp"
#include "store/stored_types.hpp"
#include "store/views.hpp"
#include "store/word_postings.hpp"

namespace communesync::server {
namespace {

using storage::Column;

// Where a page ended: the last record's age, unit and id. Sent as hex (opaque to the asker, and
// naming nothing the asker could not read: the record was on its page).
struct PagePosition {
  std::uint64_t age = 0;
  Scope scope;
  std::string id;

  auto operator<=>(const PagePosition&) const = default;
};

std::string cursorText(const PagePosition& at) {
  std::string raw;
  storage::appendUint64(raw, at.age);
  storage::appendPart(raw, at.scope);
  storage::appendPart(raw, at.id);
  return sync::toHex(raw);
}

std::optional<PagePosition> parseCursor(std::string_view hex) {
  if (hex.size() % 2 != 0 || hex.size() > std::size_t{2} * (8 + 2 * 256)) return std::nullopt;
  auto digit = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  };
  std::string raw;
  for (std::size_t k = 0; k < hex.size(); k += 2) {
    const int hi = digit(hex[k]);
    const int lo = digit(hex[k + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    raw.push_back(static_cast<char>(hi * 16 + lo));
  }
  PagePosition at;
  auto age = storage::readUint64(raw);
  if (!age) return std::nullopt;
  at.age = *age;
  std::size_t pos = 8;
  auto scope = storage::readPart(raw, pos);
  if (!scope) return std::nullopt;
  auto id = storage::readPart(raw, pos);
  if (!id || pos != raw.size()) return std::nullopt;
  at.scope = std::string(*scope);
  at.id = std::string(*id);
  return at;
}

// One unit's index, read forward from where the page starts.
struct UnitCursor {
  storage::Cursor cursor;
  std::size_t prefix_size = 0;
  PagePosition head;

  // Reads the key under the cursor into `head`; false at the end (or on a key not ours).
  bool load(const Scope& scope) {
    if (!cursor.valid()) return false;
    const auto key = cursor.key();
    auto age = storage::readUint64(key, prefix_size);
    std::size_t pos = prefix_size + 8;
    auto id = storage::readPart(key, pos);
    if (!age || !id) return false;
    head = PagePosition{*age, scope, std::string(*id)};
    return true;
  }
};

// Newest-first lists to merge: each a unit's, under a prefix (each key: prefix, age (8), id \0; an
// id is in one list of a unit only).
using UnitLists = std::vector<std::pair<Scope, std::string>>;

// Walks the lists merged in the order (age, unit, id), from just after `after`, one seek per list;
// `visit` says whether to go on.
Status walkNewestFirst(const storage::Store& store, const storage::Snapshot& snapshot, const UnitLists& units,
                       const std::optional<PagePosition>& after,
                       const std::function<Result<bool>(const PagePosition&)>& visit) {
  // One cursor per list, each placed just after `after` in the order (age, unit, id).
  std::vector<UnitCursor> lists;
  lists.reserve(units.size());
  for (const auto& [unit, prefix] : units) {
    std::string lower = prefix;
    if (after) {
      if (unit < after->scope) {
        if (after->age == std::numeric_limits<std::uint64_t>::max()) continue;
        storage::appendUint64(lower, after->age + 1);
      } else if (unit == after->scope) {
        storage::appendUint64(lower, after->age);
        storage::appendPart(lower, after->id);
        lower.push_back('\0');  // the smallest key after the last one shown
      } else {
        storage::appendUint64(lower, after->age);
      }
    }
    UnitCursor u{store.scan(Column::kViews, lower, storage::prefixSuccessor(prefix), &snapshot), prefix.size(), {}};
    if (u.load(unit)) {
      lists.push_back(std::move(u));
    } else {
      CS_RETURN_IF_ERROR(u.cursor.status());
    }
  }
  auto later = [&lists](std::size_t a, std::size_t b) { return lists[b].head < lists[a].head; };
  std::priority_queue<std::size_t, std::vector<std::size_t>, decltype(later)> heads(later);
  for (std::size_t k = 0; k < lists.size(); ++k) heads.push(k);
  while (!heads.empty()) {
    const auto k = heads.top();
    heads.pop();
    auto& u = lists[k];
    auto more = visit(u.head);
    if (!more) return more.status();
    if (!*more) break;
    u.cursor.next();
    if (u.load(u.head.scope)) {
      heads.push(k);
    } else {
      CS_RETURN_IF_ERROR(u.cursor.status());
    }
  }
  return Status::ok();
}

Result<std::optional<PagePosition>> parseAfter(const std::string& after) {
  if (after.empty()) return std::optional<PagePosition>();
  auto at = parseCursor(after);
  if (!at)
    return Status::error(ErrorCode::kInvalidArgument, "after is not a cursor this server gave (use a page's next)");
  return at;
}

}  // namespace

// From the counters held in memory (store/count_cache.hpp): a read per unit of what the writer
// committed, whatever the store holds.
Result<std::map<Scope, UnitSummary>> ServerStore::summaries(const std::vector<Scope>& units, int year) const {
  CS_RETURN_IF_ERROR(counts_.refresh(store_));
  std::map<Scope, UnitSummary> out;
  for (const auto& unit : units) {
    std::string prefix = "t";
    storage::appendPart(prefix, unit);
    storage::appendUint64(prefix, static_cast<std::uint64_t>(year));
    CS_RETURN_IF_ERROR(counts_.forEach(prefix, [&](std::string_view key, std::string_view value) -> Status {
      std::size_t pos = prefix.size();
      auto collection = storage::readPart(key, pos);
      auto tally = decodeTally(value);
      if (!collection || !tally) return Status::error(ErrorCode::kCorruption, "a stored tally is malformed");
      out[unit].forms[std::string(*collection)] = *tally;
      return Status::ok();
    }));
    if (auto open = counts_.get(openConflictsKey(unit)))
      out[unit].open_conflicts = storage::readUint64(*open).value_or(0);
  }
  return out;
}

Result<ServerStore::Totals> ServerStore::totals() const {
  CS_RETURN_IF_ERROR(counts_.refresh(store_));
  Totals out;
  CS_RETURN_IF_ERROR(counts_.forEach("t", [&](std::string_view /*key*/, std::string_view value) -> Status {
    auto tally = decodeTally(value);
    if (!tally) return Status::error(ErrorCode::kCorruption, "a stored tally is malformed");
    for (std::size_t i = 0; i < out.records.size(); ++i) out.records[i] += (*tally)[i];
    return Status::ok();
  }));
  CS_RETURN_IF_ERROR(counts_.forEach("c", [&](std::string_view /*key*/, std::string_view value) -> Status {
    out.open_conflicts += storage::readUint64(value).value_or(0);
    return Status::ok();
  }));
  return out;
}

Result<RecordPage> ServerStore::recordPage(const RecordPageQuery& query) const {
  auto parsed = parseAfter(query.after);
  if (!parsed) return parsed.status();
  const auto& after = *parsed;
  if (!query.words.empty()) {
    std::string start;  // where the page starts in every word's list: just after the last shown
    if (after) {
      storage::appendUint64(start, after->age);
      storage::appendPart(start, after->id);
      start.push_back('\0');
    }
    return searchPage(query, start);
  }
  CS_RETURN_IF_ERROR(counts_.refresh(store_));
  auto snapshot = store_.snapshot();
  RecordPage page;
  // The total, from the tallies: every year of the form in each unit.
  for (const auto& unit : query.units) {
    std::string prefix = "t";
    storage::appendPart(prefix, unit);
    CS_RETURN_IF_ERROR(counts_.forEach(prefix, [&](std::string_view key, std::string_view value) -> Status {
      std::size_t pos = prefix.size() + 8;
      auto collection = storage::readPart(key, pos);
      if (!collection || *collection != query.collection) return Status::ok();
      auto tally = decodeTally(value);
      if (!tally) return Status::error(ErrorCode::kCorruption, "a stored tally is malformed");
      if (query.review) {
        page.total += (*tally)[static_cast<std::size_t>(*query.review)];
      } else {
        for (auto n : *tally) page.total += n;
      }
      return Status::ok();
    }));
  }
  std::size_t skipped = 0;
  std::optional<PagePosition> last;
  UnitLists lists;
  for (const auto& unit : query.units) {
    lists.emplace_back(unit, query.review ? reviewPrefix(*query.review, unit, query.collection)
                                          : newestPrefix(unit, query.collection));
  }
  CS_RETURN_IF_ERROR(walkNewestFirst(store_, snapshot, lists, after, [&](const PagePosition& at) -> Result<bool> {
    if (page.items.size() == query.limit) {  // one more exists: the page has a next
      page.next = cursorText(*last);
      return false;
    }
    if (skipped < query.skip) {
      ++skipped;
    } else {
      page.items.push_back({sync::RecordKey{query.collection, at.id}, at.scope,
                            static_cast<std::int64_t>(std::numeric_limits<std::uint64_t>::max() - at.age)});
      last = at;
    }
    return true;
  }));
  return page;
}

// A search: the lists of the query's words in the index (each newest first) are intersected by
// leapfrogging, each list jumping to the oldest-so-far key another holds, so a rare word leads and
// a common one is skipped over, not read; then filtered by unit and review state. After the page,
// the matches are counted on for a bounded number of steps.
Result<RecordPage> ServerStore::searchPage(const RecordPageQuery& query, std::string_view start) const {
  // What was pushed before the search is found: the index is caught up first, as far as a search may
  // wait (the writer's indexing thread is usually there already).
  auto caught = indexSearch(tuning::kSearchCatchUp);
  if (!caught) return caught.status();
  auto snapshot = store_.snapshot();
  std::vector<WordCursor> lists;
  lists.reserve(query.words.size());
  for (const auto& word : query.words) lists.emplace_back(store_, &snapshot, wordPrefix(query.collection, word), start);
  RecordPage page;
  std::size_t steps = 0;
  std::size_t skipped = 0;
  std::size_t counting_from = 0;  // the step at which the page was full
  std::string last_shown;
  std::string target;
  while (true) {
    // The furthest position any list has reached: every list must reach it for a record to match.
    bool ended = false;
    target.clear();
    for (auto& list : lists) {
      if (!list.valid()) {
        CS_RETURN_IF_ERROR(list.status());
        ended = true;
        break;
      }
      if (list.position() > target) target = std::string(list.position());
    }
    if (ended) break;
    bool agreed = true;
    for (auto& list : lists) {
      if (list.position() < target) {
        list.seek(target);
        agreed = false;
      }
    }
    ++steps;
    if (agreed) {
      std::size_t pos = 8;
      auto id = storage::readPart(target, pos);
      auto age = storage::readUint64(target);
      if (!id || !age) return Status::error(ErrorCode::kCorruption, "a stored search key is malformed");
      const Scope scope(lists.front().scope());
      bool counted = std::binary_search(query.units.begin(), query.units.end(), scope);
      const sync::RecordKey key{query.collection, std::string(*id)};
      if (counted && query.review) {
        auto state = reviewState(key);
        if (!state) return state.status();
        counted = *state == *query.review;
      }
      if (counted) {
        ++page.total;
        if (skipped < query.skip) {
          ++skipped;
        } else if (page.items.size() < query.limit) {
          page.items.push_back(
              {key, scope, static_cast<std::int64_t>(std::numeric_limits<std::uint64_t>::max() - *age)});
          last_shown = cursorText(PagePosition{*age, {}, std::string(*id)});
          if (page.items.size() == query.limit) counting_from = steps;
        } else if (page.next.empty()) {
          page.next = last_shown;  // one more exists
        }
      }
      lists.front().next();
    }
    const bool full = page.items.size() == query.limit;
    if (steps >= tuning::kMaxRecordsSearched || (full && steps - counting_from >= tuning::kMaxSearchCountSteps)) {
      page.partial = true;
      if (page.next.empty()) page.next = last_shown;  // more may follow: the next page says
      break;
    }
  }
  if (!*caught) page.partial = true;  // the index is behind the latest changes
  return page;
}

// Open conflicts from their index, newest detected first across the units; each is read and
// filtered. A page ends full (with a `next` when one more matches), at the end, or after
// tuning::kMaxRecordsSearched conflicts read (partial: `next` reads on from the last one read).
Result<ConflictPage> ServerStore::openConflictPage(const std::vector<Scope>& units,
                                                   const ConflictFilter& filter) const {
  auto parsed = parseAfter(filter.after);
  if (!parsed) return parsed.status();
  auto snapshot = store_.snapshot();
  ConflictPage page;
  std::size_t read = 0;
  std::optional<PagePosition> last_shown;
  std::optional<PagePosition> last_read;
  UnitLists lists;
  for (const auto& unit : units) lists.emplace_back(unit, openConflictPrefix(unit));
  CS_RETURN_IF_ERROR(walkNewestFirst(store_, snapshot, lists, *parsed, [&](const PagePosition& at) -> Result<bool> {
    if (++read > tuning::kMaxRecordsSearched) {
      page.partial = true;
      page.next = cursorText(*last_read);
      return false;
    }
    auto c = conflict(at.id);
    if (!c) return c.status();
    if (!c->has_value()) return Status::error(ErrorCode::kCorruption, "an open conflict's index names no conflict");
    auto match = conflictMatches(**c, filter);
    if (!match) return match.status();
    if (*match) {
      if (page.conflicts.size() == filter.limit) {  // one more matches: the page has a next
        page.next = cursorText(*last_shown);
        return false;
      }
      page.conflicts.push_back(std::move(**c));
      last_shown = at;
    }
    last_read = at;
    return true;
  }));
  return page;
}

Result<ReviewPage> ServerStore::reviewPage(const std::vector<Scope>& units, std::optional<sync::ReviewState> state,
                                           const std::string& after, std::size_t limit) const {
  auto parsed = parseAfter(after);
  if (!parsed) return parsed.status();
  auto snapshot = store_.snapshot();
  UnitLists lists;
  for (const auto& unit : units) {
    for (std::size_t s = 0; s < 4; ++s) {
      const auto each = static_cast<sync::ReviewState>(s);
      if (!state || *state == each) lists.emplace_back(unit, reviewListPrefix(each, unit));
    }
  }
  ReviewPage page;
  std::optional<PagePosition> last;
  CS_RETURN_IF_ERROR(walkNewestFirst(store_, snapshot, lists, *parsed, [&](const PagePosition& at) -> Result<bool> {
    if (page.reviews.size() == limit) {  // one more exists
      page.next = cursorText(*last);
      return false;
    }
    auto stored = sync::readDecoded<StoredRecord>(
        store_, Column::kRecords, sync::recordStorageKey({std::string(sync::kReviewsCollection), at.id}), &snapshot);
    if (!stored) return stored.status();
    if (!stored->has_value()) return Status::error(ErrorCode::kCorruption, "the review list names no review");
    page.reviews.push_back(std::move((*stored)->record));
    last = at;
    return true;
  }));
  return page;
}

Result<sync::ReviewState> ServerStore::reviewState(const sync::RecordKey& key) const {
  auto review = record({std::string(sync::kReviewsCollection), sync::reviewRecordId(key)});
  if (!review) return review.status();
  auto r = review->has_value() ? sync::reviewOf(**review) : std::nullopt;
  return r ? r->state : sync::ReviewState::kReceived;
}

Result<std::map<Scope, std::map<int, SurveyCount>>> ServerStore::surveyCounts(const std::vector<Scope>& units) const {
  CS_RETURN_IF_ERROR(counts_.refresh(store_));
  std::map<Scope, std::map<int, SurveyCount>> out;
  constexpr auto kRejected = static_cast<std::size_t>(sync::ReviewState::kRejected);
  for (const auto& unit : units) {
    std::string prefix = "s";
    storage::appendPart(prefix, unit);
    CS_RETURN_IF_ERROR(counts_.forEach(prefix, [&](std::string_view key, std::string_view value) -> Status {
      auto year = storage::readUint64(key, prefix.size());
      auto tally = decodeSurveyTally(value);
      if (!year || !tally) return Status::error(ErrorCode::kCorruption, "a stored survey count is malformed");
      SurveyCount count;
      for (std::size_t state = 0; 2 * state < tally->size(); ++state) {
        if (state == kRejected) continue;
        count.surveyed += static_cast<std::int64_t>((*tally)[2 * state]);
        count.poor += static_cast<std::int64_t>((*tally)[2 * state + 1]);
      }
      if (count.surveyed != 0) out[unit][static_cast<int>(*year)] = count;
      return Status::ok();
    }));
  }
  return out;
}

Status ServerStore::forEachIndexed(const Scope& unit, std::string_view collection,
                                   std::optional<sync::ReviewState> review,
                                   const std::function<void(std::string_view id, std::int64_t created_ms)>& fn) const {
  const auto prefix = review ? reviewPrefix(*review, unit, collection) : newestPrefix(unit, collection);
  auto cursor = store_.scanPrefix(Column::kViews, prefix);
  for (; cursor.valid(); cursor.next()) {
    const auto key = cursor.key();
    auto age = storage::readUint64(key, prefix.size());
    std::size_t pos = prefix.size() + 8;
    auto id = storage::readPart(key, pos);
    if (!age || !id) return Status::error(ErrorCode::kCorruption, "a stored index key is malformed");
    fn(*id, static_cast<std::int64_t>(std::numeric_limits<std::uint64_t>::max() - *age));
  }
  return cursor.status();
}

Status ServerStore::stopKeepingViews() {
  storage::WriteBatch batch;
  batch.erase(Column::kMeta, kViewsVersionKey);
  CS_RETURN_IF_ERROR(store_.commit(batch, storage::Durability::kSynced));
  keep_views_ = false;
  return Status::ok();
}

Status ServerStore::rebuildViews() {
  // Drop what is there (and the mark that the views are built), then replay every record through
  // the same code the writer runs, in batches; then count the open conflicts.
  storage::WriteBatch batch;
  batch.erase(Column::kMeta, kViewsVersionKey);
  CS_RETURN_IF_ERROR(eraseColumn(store_, Column::kViews, batch));

  const auto last_seq = lastSeq();  // the snapshot holds every change through it
  auto snapshot = store_.snapshot();
  CS_RETURN_IF_ERROR(search_index_.rebuild(snapshot, last_seq));
  auto read = [this, &snapshot](const std::string& key) -> Result<std::optional<sync::Record>> {
    auto stored = sync::readDecoded<StoredRecord>(store_, Column::kRecords, key, &snapshot);
    if (!stored) return stored.status();
    if (!stored->has_value()) return std::optional<sync::Record>();
    return std::optional<sync::Record>(std::move((*stored)->record));
  };
  auto counter = [this](const std::string& key) { return store_.get(Column::kViews, key); };
  std::optional<ViewGroup> group(std::in_place, store_, read, counter);
  std::size_t in_batch = 0;
  auto flushEvery = [&]() -> Status {
    if (++in_batch < tuning::kViewsRebuildBatch) return Status::ok();
    CS_RETURN_IF_ERROR(group->writeTo(batch));
    CS_RETURN_IF_ERROR(store_.commit(batch, storage::Durability::kBuffered));
    batch.clear();
    group.emplace(store_, read, counter);
    in_batch = 0;
    return Status::ok();
  };
  // The records, each as if new (first accepted at its oldest history entry; a store from before
  // the history: its last change), then the reviews, each moving its record from "received".
  std::string reviews_prefix;
  storage::appendPart(reviews_prefix, sync::kReviewsCollection);
  auto records = store_.scan(Column::kRecords, "", "", &snapshot);
  for (; records.valid(); records.next()) {
    if (records.key().substr(0, reviews_prefix.size()) == reviews_prefix) continue;
    auto stored = sync::decode<StoredRecord>(records.value());
    if (!stored) return Status::error(ErrorCode::kCorruption, "a stored record does not decode");
    std::int64_t first_received_ms = stored->record.receive_time_ms;
    auto history = store_.scanPrefix(Column::kHistory, records.key(), &snapshot);
    if (history.valid()) {
      auto meta = sync::decode<HistoryMeta>(history.value());
      if (!meta) return Status::error(ErrorCode::kCorruption, "a history entry does not decode");
      first_received_ms = meta->receive_ms;
    }
    CS_RETURN_IF_ERROR(history.status());
    CS_RETURN_IF_ERROR(
        group->recordChanged(batch, std::string(records.key()), std::nullopt, stored->record, first_received_ms));
    CS_RETURN_IF_ERROR(flushEvery());
  }
  CS_RETURN_IF_ERROR(records.status());
  auto reviews = store_.scanPrefix(Column::kRecords, reviews_prefix, &snapshot);
  for (; reviews.valid(); reviews.next()) {
    auto stored = sync::decode<StoredRecord>(reviews.value());
    if (!stored) return Status::error(ErrorCode::kCorruption, "a stored review does not decode");
    CS_RETURN_IF_ERROR(group->recordChanged(batch, std::string(reviews.key()), std::nullopt, stored->record, 0));
    CS_RETURN_IF_ERROR(flushEvery());
  }
  CS_RETURN_IF_ERROR(reviews.status());
  auto conflicts = store_.scanPrefix(Column::kConflicts, "s", &snapshot);
  for (; conflicts.valid(); conflicts.next()) {
    auto c = sync::decode<sync::Conflict>(conflicts.value());
    if (!c) return Status::error(ErrorCode::kCorruption, "a stored conflict does not decode");
    if (c->status == sync::ConflictStatus::kOpen) group->conflictOpened(batch, *c);
  }
  CS_RETURN_IF_ERROR(conflicts.status());
  CS_RETURN_IF_ERROR(group->writeTo(batch));
  std::string version;
  storage::appendUint64(version, kViewsVersion);
  batch.put(Column::kMeta, kViewsVersionKey, version);
  CS_RETURN_IF_ERROR(store_.commit(batch, storage::Durability::kSynced));
  return counts_.load(store_);
}

Result<bool> ServerStore::indexSearch(std::size_t max_changes) const {
  if (!keep_views_) return true;
  return search_index_.catchUp(lastSeq(), max_changes);
}

std::uint64_t ServerStore::searchIndexLag() const {
  const auto through = search_index_.throughNow().value_or(0);  // not read yet: nothing known indexed
  const auto last = lastSeq();
  return !keep_views_ || through >= last ? 0 : last - through;
}

Result<std::vector<std::pair<std::string, std::string>>> ServerStore::viewsForTesting() const {
  for (;;) {
    auto caught = indexSearch(tuning::kSearchIndexSlice);
    if (!caught) return caught.status();
    if (*caught) break;
  }
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto column : {Column::kViews, Column::kSearch}) {
    auto cursor = store_.scan(column, "", "");
    for (; cursor.valid(); cursor.next()) out.emplace_back(cursor.key(), cursor.value());
    CS_RETURN_IF_ERROR(cursor.status());
  }
  return out;
}

}  // namespace communesync::server
