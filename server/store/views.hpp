// The views: what the central pages read, kept by the writer in the same batch as the change that
// moves them, so they are never out of step with the records and a crash cannot leave them half
// applied. A page then reads what it shows plus a bounded amount, whatever the store holds
// (docs/architecture.md, "The views"). Private to server/ (http/ reads firstCapturedMs from here).
//
// Layout (column views; age = UINT64_MAX - when the server first accepted the record, so a forward
// scan is newest first, and an edit does not move a record: a page read while records change
// lists each record that was there before and after exactly once):
//   'e' collection \0 id \0                            -> ViewEntry: what the record adds to the views
//   'n' scope \0 collection \0 age (8) id \0           -> ""   live records of a form, newest first
//   'v' review (1) scope \0 collection \0 age (8) id \0 -> ""   the same, by review state
//   't' scope \0 year (8) collection \0                -> Tally: live records by review state
//   'c' scope \0                                       -> open conflicts (8)
//   meta: "views_version"                              -> kViewsVersion, once every view is built
//
// Only records of the programme's forms have views; the server's own collections ("_reviews",
// "_forms", "_grades") do not, but a review moves the review state of the record it names. An
// entry exists while its record does, or while a review other than "received" names a record the
// server does not hold yet.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "communesync/storage/store.hpp"
#include "communesync/sync/compact.hpp"
#include "communesync/sync/record.hpp"
#include "communesync/sync/review.hpp"

namespace communesync::server {

//! meta: the version of the views the store holds (absent: not built yet).
inline constexpr std::string_view kViewsVersionKey = "views_version";
inline constexpr std::uint64_t kViewsVersion = 1;

//! The year of a time on the province's calendar (UTC+7: the programme is in Viet Nam).
int provinceYear(std::int64_t ms);
//! When a record was first captured: its oldest field stamp (the device's clock, corrected), or its
//! capture time when it has none.
std::int64_t firstCapturedMs(const sync::Record& r);
//! Whether a collection is the server's own ("_reviews", "_forms", ...): no views.
inline bool serverCollection(std::string_view collection) {
  return collection.empty() || collection.front() == '_';
}

//! What one record adds to the views.
struct ViewEntry {
  sync::Scope scope;
  std::int32_t year = 0;        //!< provinceYear(firstCapturedMs(record)); 0 without a record
  std::int64_t created_ms = 0;  //!< when the server first accepted a change of it
  sync::ReviewState review = sync::ReviewState::kReceived;
  bool held = false;  //!< the server holds the record (deleted or not)
  bool live = false;  //!< held and not deleted

  bool operator==(const ViewEntry&) const = default;
};

void writeCompact(sync::CompactWriter& w, const ViewEntry& e);
void readCompact(sync::CompactReader& r, ViewEntry& e);

//! Live records of one form in one unit and year, by review state (indexed by ReviewState).
using Tally = std::array<std::uint64_t, 4>;

// ---- keys (the layout above) ----

std::string viewEntryKey(const std::string& record_key);
//! 'n' scope \0 collection \0: every live record of a form in a unit, newest first after it.
std::string newestPrefix(const sync::Scope& scope, std::string_view collection);
//! 'v' review scope \0 collection \0: the same, of one review state.
std::string reviewPrefix(sync::ReviewState review, const sync::Scope& scope, std::string_view collection);
//! age (8) id \0: where a record sits under either prefix.
std::string newestSuffix(std::int64_t created_ms, std::string_view id);
std::string tallyKey(const sync::Scope& scope, std::int32_t year, std::string_view collection);
std::string openConflictsKey(const sync::Scope& scope);
std::string encodeTally(const Tally& t);
std::optional<Tally> decodeTally(std::string_view bytes);

//! The views' side of one group commit (GroupCommit) or of a rebuild: entries and index keys go
//! into the batch as records change; tallies and conflict counts are summed in memory and written
//! once by writeTo(), read-modify-write, at the end of the group.
class ViewGroup {
 public:
  explicit ViewGroup(const storage::Store& store) : store_(store) {}

  //! A record was written (merged, accepted): `record` as it now is, first accepted at
  //! `first_received_ms` if the views do not know it yet. Records of the server's own collections
  //! are passed too: a review moves its record's state, the others nothing.
  Status recordChanged(storage::WriteBatch& batch, const std::string& record_key, const sync::Record& record,
                       std::int64_t first_received_ms);
  //! A conflict was recorded (open) or settled, in `scope`.
  void conflictOpened(const sync::Scope& scope) { ++conflicts_[scope]; }
  void conflictSettled(const sync::Scope& scope) { --conflicts_[scope]; }
  //! The tallies and conflict counts this group moved. Errors: kCorruption (a count would go below
  //! zero: the views are out of step; rebuild them).
  Status writeTo(storage::WriteBatch& batch);

 private:
  Status reviewChanged(storage::WriteBatch& batch, const sync::Record& review);
  Result<std::optional<ViewEntry>> entry(const std::string& record_key);
  // Moves `record_key` from `before` to `after`: entry, index keys, tallies.
  void move(storage::WriteBatch& batch, const std::string& record_key, const sync::RecordKey& key,
            const std::optional<ViewEntry>& before, const std::optional<ViewEntry>& after);

  const storage::Store& store_;
  std::map<std::string, std::optional<ViewEntry>> entries_;     // this group's, by record key
  std::map<std::string, std::array<std::int64_t, 4>> tallies_;  // by tally key: what this group added
  std::map<sync::Scope, std::int64_t> conflicts_;               // by scope: what this group added
};

}  // namespace communesync::server
