// The views: what the central pages read, kept by the writer in the same batch as the change that
// moves them, so they are never out of step with the records and a crash cannot leave them half
// applied. A page then reads what it shows plus a bounded amount, whatever the store holds
// (docs/architecture.md, "The views"). Private to server/ (http/ reads firstCapturedMs from here).
//
// Layout (column views; age = UINT64_MAX - when the server first accepted the record, so a forward
// scan is newest first, and an edit does not move a record: a page read while records change
// lists each record that was there before and after exactly once):
//   'n' scope \0 collection \0 age (8) id \0           -> ""   live records of a form, newest first
//   'v' review (1) scope \0 collection \0 age (8) id \0 -> ""   the same, by review state
//   't' scope \0 year (8) collection \0                -> Tally: live records by review state
//   's' scope \0 survey year (8)                       -> SurveyTally: live household surveys
//                                                        by review state, and how many poor
//   'c' scope \0                                       -> open conflicts (8)
//   'o' scope \0 age (8) id \0                         -> ""   open conflicts, newest detected first
//   'r' state (1) scope \0 age (8) review id \0        -> ""   reviews, newest given first
//   column search, apart (the words are many keys; the pages' views stay small and quick to seek):
//   'w' collection \0 word \0 age (8) last id \0       -> (id \0 scope \0)...: the accent-free
//                                                        search, the live records with a word, newest
//                                                        first, in chunks (store/word_postings.hpp),
//                                                        kept off the write path (store/search_index.hpp)
//   meta: "views_version"                              -> kViewsVersion, once every view is built
//
// Only records of the programme's forms have views. What a record adds to them (its unit, year,
// when it was first accepted, its review state, whether it is live) is worked out from the record
// before and after a change, not stored: an edit that keeps the record live in the same year
// writes nothing here and reads nothing (unless a survey's date or poverty changes).
// Only a delete, a revival, a change of year or of what a survey counts, or a review reads more: the record's
// review (a _reviews record) and when it was first accepted (its oldest history entry). A review of a record the server
// does not hold moves nothing (the API refuses one).
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "communesync/storage/store.hpp"
#include "communesync/sync/conflict.hpp"
#include "communesync/sync/record.hpp"
#include "communesync/sync/review.hpp"
#include "programme/programme_report.hpp"
#include "store/count_cache.hpp"

namespace communesync::server {

//! meta: the version of the views the store holds (absent: not built yet).
inline constexpr std::string_view kViewsVersionKey = "views_version";
inline constexpr std::uint64_t kViewsVersion = 6;  // 2: survey counts; 3: search words, open conflicts, reviews; 4:
                                                   // words apart; 5: in postings; 6: the words off the write path

//! The year of a time on the province's calendar (UTC+7: the programme is in Viet Nam).
int provinceYear(std::int64_t ms);
//! When a record was first captured: its oldest field stamp (the device's clock, corrected), or its
//! capture time when it has none.
std::int64_t firstCapturedMs(const sync::Record& r);
//! Whether a collection is the server's own ("_reviews", "_forms", ...): no views.
inline bool serverCollection(std::string_view collection) {
  return collection.empty() || collection.front() == '_';
}

//! When the server first accepted a change of a record: its oldest history entry's time, or
//! `otherwise` (a store from before the history). Errors: the store's, kCorruption.
Result<std::int64_t> firstAcceptedMs(const storage::Store& store, const std::string& record_key, std::int64_t otherwise,
                                     const storage::Snapshot* snapshot = nullptr);
//! The same through a cursor over the history column, moved by a seek: for many records in key
//! order, one cursor instead of one opened per record.
Result<std::int64_t> firstAcceptedMs(storage::Cursor& history, const std::string& record_key, std::int64_t otherwise);

//! Erases every key of a derived column (the views, the search index) in batches of
//! tuning::kViewsRebuildBatch, committed (buffered) with what `batch` held before; `batch` is
//! left empty.
Status eraseColumn(storage::Store& store, storage::Column column, storage::WriteBatch& batch);

//! The words a record is found by: those of its short text values (up to
//! tuning::kMaxSearchTextBytes and kMaxSearchWordsPerValue words: names, villages, codes), folded
//! (sync::foldForSearch: no case, accents or tone marks), split at anything but letters, digits
//! and '_'; sorted, each once, at most kMaxSearchWordsPerRecord.
std::vector<std::string> searchWords(const sync::Record& r);
//! The words of a search as people type it, split and folded the same way, each once.
std::vector<std::string> queryWords(std::string_view text);

//! What one record adds to the views.
struct ViewEntry {
  sync::Scope scope;
  std::int32_t year = 0;        //!< provinceYear(firstCapturedMs(record))
  std::int64_t created_ms = 0;  //!< when the server first accepted a change of it
  sync::ReviewState review = sync::ReviewState::kReceived;
  std::optional<SurveyFacts> survey;  //!< a household survey's: what the reports count

  bool operator==(const ViewEntry&) const = default;
};

//! Live records of one form in one unit and year, by review state (indexed by ReviewState).
using Tally = std::array<std::uint64_t, 4>;
//! Live household surveys of one unit and survey year: [2 * review state] surveyed, [+1] poor.
using SurveyTally = std::array<std::uint64_t, 8>;

// ---- keys (the layout above) ----

//! 'n' scope \0 collection \0: every live record of a form in a unit, newest first after it.
std::string newestPrefix(const sync::Scope& scope, std::string_view collection);
//! 'v' review scope \0 collection \0: the same, of one review state.
std::string reviewPrefix(sync::ReviewState review, const sync::Scope& scope, std::string_view collection);
//! age (8) id \0: where a record sits under either prefix.
std::string newestSuffix(std::int64_t created_ms, std::string_view id);
std::string tallyKey(const sync::Scope& scope, std::int32_t year, std::string_view collection);
std::string surveyKey(const sync::Scope& scope, std::int32_t year);
std::string openConflictsKey(const sync::Scope& scope);
//! 'o' scope \0: the open conflicts of a unit, newest detected first after it (age (8) id \0).
std::string openConflictPrefix(const sync::Scope& scope);
//! 'r' state scope \0: the reviews (_reviews records) of a state in a unit, newest given first after it.
std::string reviewListPrefix(sync::ReviewState state, const sync::Scope& scope);
//! 'w' collection \0 word \0: the live records of a form that have the word, newest first after it.
std::string wordPrefix(std::string_view collection, std::string_view word);
std::string encodeTally(const Tally& t);
std::optional<Tally> decodeTally(std::string_view bytes);
std::optional<SurveyTally> decodeSurveyTally(std::string_view bytes);

//! The views' side of one group commit (GroupCommit) or of a rebuild: index keys go into the
//! batch as records change; tallies and conflict counts are summed in memory and written once by
//! writeTo(), read-modify-write, at the end of the group. Reads what the group wrote first: the
//! records (`records`) and when each record of the group was first accepted.
class ViewGroup {
 public:
  //! Reads the store's own state of a record: the group's, then the store's (GroupCommit::record).
  using RecordReader = std::function<Result<std::optional<sync::Record>>(const std::string& record_key)>;

  //! Reads a counter (a tally or a conflict count) as committed: the writer's CountCache, or the store.
  using CounterReader = std::function<Result<std::optional<std::string>>(const std::string& key)>;

  ViewGroup(const storage::Store& store, RecordReader records, CounterReader counters)
      : store_(store), records_(std::move(records)), counters_(std::move(counters)) {}

  //! A record was written (merged, accepted): `before` and `after` the change, first accepted at
  //! `now_ms` if it is new. A _reviews record moves the review state of the record it names; the
  //! server's other collections move nothing.
  Status recordChanged(storage::WriteBatch& batch, const std::string& record_key,
                       const std::optional<sync::Record>& before, const sync::Record& after, std::int64_t now_ms);
  //! A conflict was recorded (open) or settled: the open conflicts' index and counts.
  void conflictOpened(storage::WriteBatch& batch, const sync::Conflict& conflict);
  void conflictSettled(storage::WriteBatch& batch, const sync::Conflict& conflict);
  //! The tallies and conflict counts this group moved. Errors: kCorruption (a count would go below
  //! zero: the views are out of step; rebuild them).
  Status writeTo(storage::WriteBatch& batch);
  //! What writeTo() wrote of the counters, for the CountCache once the batch is durable.
  const CountCache::Written& written() const { return written_; }

 private:
  Status reviewChanged(storage::WriteBatch& batch, const std::optional<sync::Record>& before,
                       const sync::Record& after);
  // The review state of a record: its _reviews record's.
  Result<sync::ReviewState> reviewOf(const sync::RecordKey& key);
  // When the server first accepted the record: this group's, else its oldest history entry's.
  Result<std::int64_t> createdMs(const std::string& record_key, std::int64_t otherwise);
  // Moves a record from `before` to `after` (nullopt: not live): index keys and tallies.
  void move(storage::WriteBatch& batch, const sync::RecordKey& key, const std::optional<ViewEntry>& before,
            const std::optional<ViewEntry>& after);

  const storage::Store& store_;
  RecordReader records_;
  CounterReader counters_;
  CountCache::Written written_;
  std::map<std::string, std::int64_t> created_;                 // records this group made: when
  std::map<std::string, std::array<std::int64_t, 8>> tallies_;  // by tally or survey key: what this group added
  std::map<sync::Scope, std::int64_t> conflicts_;               // by scope: what this group added
};

}  // namespace communesync::server
