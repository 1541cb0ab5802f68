// The server's records, on top of storage::Store: records, the change log, the per-scope index,
// idempotency entries and conflicts. Who may touch them is Directory's business (directory.hpp):
// a PushJob arrives with the pusher's Access. No network code: the sessions call it.
//
// Sequence numbers: the log is numbered by one server-wide sequence (internal, never sent); each
// scope (unit) has its own sequence, which is what devices see in checkpoints and results. A
// device therefore learns nothing from the numbers about activity in units it may not read.
//
// Layout (column: key -> value):
//   records:     collection \0 id \0               -> StoredRecord (record + its latest scope seq)
//   log:         log seq (8 bytes, big-endian)      -> the accepted Change, as merged
//   scope_index: scope \0 scope seq                 -> collection \0 id \0   (one entry per record: its latest)
//   conflicts:   's' scope \0 scope seq conflict-id -> Conflict              (what a pull reads)
//                'i' conflict-id                    -> scope \0 scope seq     (to find one by id)
//   idempotency: device (16) device-seq (8)         -> its first ChangeResult (forgotten below the
//                                                       device's acknowledged_below: docs/architecture.md)
//   devices:     'c' device (16)                    -> the StampClamp state of the device
//                'k' device (16)                    -> acknowledged_below (8): results forgotten below
//   meta:        "last_seq" -> log seq (8);  'q' scope -> the scope's latest seq (8)
//                'p' scope -> purge horizon (8) scanned-through (8): tombstones of the scope at or
//                             below the horizon are gone; a checkpoint below it must resynchronise
//   files:       'f' hash                            -> FileEntry (sync/file_store.hpp); a partial
//                                                       upload is under 'f' partialName(hash, user)
//                'r' hash scope \0 collection \0 id \0 -> ""   (a live record refers to the file)
//                'r' hash scope \0 '!' conflict-id     -> ""   (a conflict's lost value does)
//                'd' user-digest (16) day (8)        -> file bytes the user uploaded that UTC day
//                'o' user-digest (16)                -> bytes of the user's uploads no record refers to
//   chunks:      hash end-offset                     -> file bytes (sync/file_store.hpp)
//   history:     collection \0 id \0 log seq (8)      -> HistoryMeta (who pushed it, when it arrived)
//   conflicts:   'a' conflict-id                     -> ConflictAuthors (who wrote each side, when it
//                                                       arrived, the value both had seen)
//   views:       what the central pages read (tallies, newest-first indexes): store/views.hpp
//
// Threads: apply() is called by one writer thread at a time; everything else from any thread.
//
// Several servers on one store (PostgreSQL; storage::Store::local() false): every write of the
// store (a group commit, a sweep, a purge) runs under the store's writer lock, which is one across
// every server, and first reads again what this server keeps in memory and another may have moved
// (the sequences, the purge horizons, the forms; the counters are marked to be read again), so the
// numbers stay gapless and in commit order whichever server commits. Each commit tells the other
// servers (store/commit_notice.hpp); othersCommitted() takes what they tell.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "access/access.hpp"
#include "base/tuning.hpp"
#include "communesync/storage/store.hpp"
#include "communesync/sync/messages.hpp"
#include "communesync/sync/review.hpp"
#include "programme/programme_report.hpp"
#include "store/commit_notice.hpp"
#include "store/count_cache.hpp"
#include "store/form_catalog.hpp"
#include "store/search_index.hpp"

namespace communesync::server {

using sync::Scope;

//! A conflict settled by a person: the job's one change sets the chosen value, newer than both
//! sides, and the conflict is closed with who and why.
struct Resolution {
  std::string conflict_id;
  std::string by;  //!< user name
  std::string reason;
};

//! A push waiting to be applied, from one session: record changes, or pieces of files.
struct PushJob {
  std::string user;                                //!< who pushed (history); "server" for the server's own
  std::shared_ptr<const Access> access;            //!< the pusher's rights when it pushed
  bool server = false;                             //!< the server's own change (a form publication)
  bool restore = false;                            //!< the device re-sends what it holds after an incarnation change
  std::vector<sync::Change> changes;               //!< already checked by sync::validateChange
  std::vector<sync::proto::ChangeResult> results;  //!< filled by apply(), one per change
  sync::DeviceId device;                           //!< the device that sent the push (or the pieces)
  std::uint64_t acknowledged_below = 0;            //!< the device's word: results below are not needed
  std::vector<sync::proto::FilePut> pieces;        //!< file pieces (hash and size checked for shape)
  std::vector<sync::proto::FileAck> acks;          //!< filled by apply(), one per piece
  std::optional<Resolution> resolution;            //!< set: the one change settles this conflict
  bool server_numbered = false;                    //!< the server numbers the changes' ids (reviews)
};

//! One accepted change of a record, as its history shows it.
struct HistoryEntry {
  std::uint64_t log_seq = 0;
  std::int64_t receive_ms = 0;  //!< server time it was applied
  std::string user;             //!< who pushed it
  sync::Change change;          //!< as merged (stamps clamped); its id names the device
};

//! Who wrote each side of a conflict and when the server received it (empty / 0 when not known:
//! stores from before the history), and the value both writers had seen ("agreed").
struct ConflictAuthors {
  std::string lost_user;
  std::int64_t lost_received_ms = 0;
  std::string kept_user;
  std::int64_t kept_received_ms = 0;
  bool agreed_known = false;
  sync::ConflictSide agreed;  //!< the value (or deletion) the lost side's writer had seen
};

//! Which conflicts to list.
struct ConflictFilter {
  std::vector<Scope> units;  //!< only these units (and nothing the asker may not read); empty: all readable
  std::string collection;    //!< the form
  std::string field;
  std::string author;                   //!< a user who wrote either side
  std::int64_t detected_before_ms = 0;  //!< only older than this (0: any age)
  bool open_only = true;
  std::size_t limit = 1000;
  std::string after;  //!< open conflicts: a cursor from the previous page's `next` ("" from the start)
};

//! A page of reviews (_reviews records), newest given first.
struct ReviewPage {
  std::vector<sync::Record> reviews;
  std::string next;  //!< the cursor of the page after this one ("" when this is the last)
};

//! A page of conflicts, newest detected first.
struct ConflictPage {
  std::vector<sync::Conflict> conflicts;
  std::string next;      //!< open conflicts: the cursor of the page after this one ("" when none follows)
  bool partial = false;  //!< the filters left out tuning::kMaxRecordsSearched conflicts: `next` reads on
};

//! What the overview shows of one unit in one year: its live records of each form by review state
//! (indexed by sync::ReviewState), and its open conflicts (of every year).
struct UnitSummary {
  std::map<std::string, std::array<std::uint64_t, 4>> forms;
  std::uint64_t open_conflicts = 0;
};

//! Which records a page lists: the live records of one form in some units, newest first (by when
//! the server first accepted each: an edit does not move a record), optionally of one review state.
struct RecordPageQuery {
  std::string collection;
  std::vector<Scope> units;                 //!< sorted
  std::optional<sync::ReviewState> review;  //!< only this state
  //! A search: only records that have every one of these words (queryWords(): folded, sorted).
  std::vector<std::string> words;
  std::string after;     //!< a cursor from the previous page's `next` ("" from the start)
  std::size_t skip = 0;  //!< then leave out this many (an offset)
  std::size_t limit = 50;
};

struct RecordPage {
  struct Item {
    sync::RecordKey key;
    Scope scope;
    std::int64_t created_ms = 0;  //!< when the server first accepted it
  };
  std::vector<Item> items;
  std::string next;         //!< the cursor of the page after this one ("" when this is the last)
  std::uint64_t total = 0;  //!< every record the query matches, from the tallies (a search: counted)
  //! A search stopped counting after tuning::kMaxSearchCountSteps more index keys than its page
  //! needed: `total` is then at least what it says.
  bool partial = false;
};

//! What the server accepts of files; from the config (docs/operations.md).
struct FileLimits {
  std::uint64_t max_file_bytes = tuning::kMaxFileBytes;
  std::uint64_t max_bytes_per_user_day = tuning::kMaxFileBytesPerUserDay;
  std::uint64_t max_unreferenced_bytes_per_user = tuning::kMaxUnreferencedFileBytesPerUser;
  std::chrono::milliseconds retention = tuning::kFileRetention;
};

class ServerStore {
 public:
  //! Reads the sequence numbers; call once after opening the store.
  static Result<std::unique_ptr<ServerStore>> open(storage::Store& store);

  const std::string& incarnationId() const { return store_.incarnationId(); }
  //! The forms every change is checked against (none: every collection is free-form).
  void setForms(FormCatalog* forms) { forms_ = forms; }
  //! The server-wide log sequence (internal: never sent to devices).
  std::uint64_t lastSeq() const { return last_seq_.load(std::memory_order_acquire); }
  //! The same, read from a store not opened as a ServerStore (a backup being checked).
  static Result<std::uint64_t> lastSeqIn(const storage::Store& store);

  // ---- sync ----

  //! Applies a group of pushes in one atomic, durable commit (the durability boundary of the
  //! server). Fills each job's results and `touched` with each scope that changed and its new
  //! latest seq. On error nothing was applied and the jobs' results are unset.
  Status apply(std::vector<PushJob*>& jobs, std::int64_t now_ms, sync::proto::Checkpoints& touched);

  //! What changed in `readable` since `checkpoints`, up to about `max_bytes` of records, with the
  //! records as their stored bytes (a range read of the scope index, a point read per record, no
  //! decoding). Scopes of `checkpoints` outside `readable` are ignored; the batch's checkpoints name
  //! only scopes that moved. `steps_over`: the pulling device, when it holds the records of its own
  //! exact results (Pull::steps_over_own); in scopes pulled from a checkpoint above 0 the records
  //! whose latest change was such a change of it are not sent (the checkpoint moves past them).
  Result<sync::proto::EncodedPullBatch> pullEncoded(const std::vector<Scope>& readable,
                                                    const sync::proto::Checkpoints& checkpoints,
                                                    std::uint64_t max_bytes,
                                                    const sync::DeviceId* steps_over = nullptr) const;
  //! The same, decoded (for tools and tests).
  Result<sync::proto::PullBatch> pull(const std::vector<Scope>& readable, const sync::proto::Checkpoints& checkpoints,
                                      std::uint64_t max_bytes, const sync::DeviceId* steps_over = nullptr) const;
  //! Every scope that has any change, sorted.
  std::vector<Scope> scopes() const;
  //! The latest seq of each of `scopes` that has any change.
  //! On a store several servers write, read from the store (what a device pulled through another
  //! server a moment ago is in it). Errors: the store's.
  Result<sync::proto::Checkpoints> latest(const std::vector<Scope>& scopes) const;
  //! The same from this server's memory, without a read, when it is the only server writing the
  //! store (memory is then exact); empty on a store several servers write (PushResult::latest).
  sync::proto::Checkpoints latestIfAlone(const std::vector<Scope>& scopes) const;

  // ---- files ----

  void setFileLimits(const FileLimits& limits) { file_limits_ = limits; }
  const FileLimits& fileLimits() const { return file_limits_; }
  //! What the server holds of each file (whole, or else how far `user`'s own upload of it is), and
  //! whether a device reading `readable` may fetch it.
  Result<std::vector<sync::proto::FileState>> fileStates(const std::vector<std::string>& hashes,
                                                         const std::vector<Scope>& readable,
                                                         const std::string& user) const;
  //! Up to `max_bytes` of a complete file from `offset`, for a device reading `readable`.
  //! Errors: kNotFound (not held whole yet), kForbidden (no record it may read refers to the file).
  Result<sync::proto::FileData> readFile(const std::string& hash, std::uint64_t offset, std::uint64_t max_bytes,
                                         const std::vector<Scope>& readable) const;
  //! Removes every file that nothing has referred to for longer than the retention (and partial
  //! uploads untouched as long), and old daily quota counters. Call from the writer thread only.
  //! Returns the files removed.
  Result<std::size_t> sweepFiles(std::int64_t now_ms);

  // ---- retention (docs/architecture.md, "What the store keeps, and for how long") ----

  //! Removes the history of the changes received before `before_ms`, oldest first: their log
  //! entries and who-and-when, at most tuning::kMaxSweptPerRun a call. Records, conflicts, views and
  //! what devices pull are untouched (a pull reads the scope index, never the log). Call from the
  //! writer thread only. Returns the changes removed.
  Result<std::size_t> sweepHistory(std::int64_t before_ms);
  //! Removes the tombstones (deleted records of the programme's forms) last changed before
  //! `before_ms`, walking each unit's index from where the last purge stopped to its first entry
  //! changed since, and raises the unit's purge horizon to the highest seq removed: a device whose
  //! checkpoint is below it is told to resynchronise the unit (Pull, `resync`). At most
  //! tuning::kMaxSweptPerRun entries read a call. Call from the writer thread only. Returns the
  //! tombstones removed.
  Result<std::size_t> purgeTombstones(std::int64_t before_ms);
  //! The highest seq of `scope` whose tombstone was purged (0: none ever was).
  std::uint64_t purgeHorizon(const Scope& scope) const;

  // ---- several servers on one store ----

  //! Another server committed what `notice` says: this one's sequences move up to it and its
  //! counters are read again at their next use. Any thread.
  void othersCommitted(const CommitNotice& notice);
  //! Another server may have committed without this one hearing (the store's connection came back):
  //! reads the sequences again. Returns every unit's latest seq (to notify the devices).
  Result<sync::proto::Checkpoints> othersMayHaveCommitted();

  // ---- reconciliation ----

  //! Conflicts in `readable` (sorted) that pass `filter`, newest first.
  //! Open ones from the index the writer keeps (store/views.hpp), paged with `after`; all of them
  //! (status all: the settled ones too) by reading every conflict of the units, `limit` newest.
  //! Errors: kInvalidArgument (a cursor that is not one of ours, or `after` with settled ones).
  Result<ConflictPage> conflicts(const std::vector<Scope>& readable, const ConflictFilter& filter) const;
  //! One conflict by id, or std::nullopt.
  Result<std::optional<sync::Conflict>> conflict(const std::string& id) const;
  //! Who wrote the sides of a conflict (see ConflictAuthors).
  Result<ConflictAuthors> conflictAuthors(const std::string& id) const;
  //! The record as the server holds it (deleted ones too), or std::nullopt.
  Result<std::optional<sync::Record>> record(const sync::RecordKey& key) const;
  //! Calls `fn` with every live record of `collection` (empty: of every collection but the system
  //! ones, "_...") in `units` (sorted), in key order, from one snapshot, until `fn` returns false.
  //! One record is in memory at a time.
  Status forEachLiveRecord(std::string_view collection, const std::vector<Scope>& units,
                           const std::function<bool(const sync::Record&)>& fn) const;
  // ---- the views the writer keeps (store/views.hpp) ----

  //! The whole store's live records of the programme's forms by review state (indexed by
  //! sync::ReviewState) and its open conflicts, from the counters in memory (for /metrics).
  struct Totals {
    std::array<std::uint64_t, 4> records{};
    std::uint64_t open_conflicts = 0;
  };
  Result<Totals> totals() const;
  //! What the overview shows of each of `units` that has anything in `year` or an open conflict.
  Result<std::map<Scope, UnitSummary>> summaries(const std::vector<Scope>& units, int year) const;
  //! A page of records, newest first: one seek per unit, then what the page shows; a search
  //! (`words`) intersects the words' lists in the search index instead.
  //! Errors: kInvalidArgument (a cursor that is not one of ours).
  Result<RecordPage> recordPage(const RecordPageQuery& query) const;
  //! The reviews (_reviews records) of `units` (sorted), of one state if given, newest first (by when
  //! each was given), from the index the writer keeps; at most `limit`, `next` when more follow.
  //! Errors: kInvalidArgument (a cursor that is not one of ours).
  Result<ReviewPage> reviewPage(const std::vector<Scope>& units, std::optional<sync::ReviewState> state,
                                const std::string& after, std::size_t limit) const;
  //! The review state of a record (received when it has none).
  Result<sync::ReviewState> reviewState(const sync::RecordKey& key) const;
  //! The live household surveys of `units` that no reviewer rejected, counted by unit and survey
  //! year (what the reports read instead of the surveys).
  Result<std::map<Scope, std::map<int, SurveyCount>>> surveyCounts(const std::vector<Scope>& units) const;
  //! Calls `fn` with the id of every live record of `collection` in `unit` (of one review state,
  //! if given) and when the server first accepted it, newest first: index keys only.
  Status forEachIndexed(const Scope& unit, std::string_view collection, std::optional<sync::ReviewState> review,
                        const std::function<void(std::string_view id, std::int64_t created_ms)>& fn) const;
  //! For measuring only: commits leave the views out from now on, and the store is marked so that
  //! the next open rebuilds them (Config::keep_views).
  Status stopKeepingViews();
  //! Recomputes every view from the records and conflicts, in batches (the writer must not run).
  //! ServerStore::open does it for a store that has none.
  Status rebuildViews();
  //! Indexes up to `max_changes` more of the log for the search (store/search_index.hpp): the
  //! writer's indexing thread calls it after each commit. Returns whether the index is caught up.
  Result<bool> indexSearch(std::size_t max_changes) const;
  //! Changes committed that the search index does not hold yet (0 when the views are not kept).
  std::uint64_t searchIndexLag() const;
  //! Every key and value of the views, in order, the search index caught up (for tests: compare
  //! kept and rebuilt).
  Result<std::vector<std::pair<std::string, std::string>>> viewsForTesting() const;

  //! Every accepted change of a record, oldest first (changes from before the history are not there).
  Result<std::vector<HistoryEntry>> history(const sync::RecordKey& key) const;

  //! The first result of a change id, if it was seen before.
  Result<std::optional<sync::proto::ChangeResult>> previousResult(const sync::ChangeId& id) const;

  //! Every change in the log, in order (for tests and audits; reads the whole log).
  Result<std::vector<sync::Change>> logForTesting() const;
  //! Every record, deleted ones included, by key (for tests; reads the whole store).
  Result<std::vector<sync::Record>> recordsForTesting() const;
  //! Every conflict (for tests; reads the whole store).
  Result<std::vector<sync::Conflict>> conflictsForTesting() const;

 private:
  friend class GroupCommit;  // the steps of apply() (store/group_commit.hpp)
  explicit ServerStore(storage::Store& store) : store_(store), search_index_(store) {}
  // Reads every unit's latest seq from the store; true when `_forms` moved.
  Result<bool> loadScopeSeqs();
  sync::proto::Checkpoints latestInMemory(const std::vector<Scope>& scopes) const;
  // Raises the units' seqs held to `seqs`; true when `_forms` moved.
  bool raiseScopeSeqs(const sync::proto::Checkpoints& seqs) const;
  Status loadPurgeHorizons();
  // The writer lock (the store's, across servers), then catchUpWithOthers(): every write of the
  // store goes under it.
  Result<storage::StoreLock> lockWriter();
  // Under the writer lock, on a store other servers write: reads again what they may have moved.
  Status catchUpWithOthers();
  // Whether the store's views are built, by this code's version of them.
  Result<bool> viewsCurrent() const;
  // Reads again what other servers' commits through `log_seq` may have moved (sequences,
  // counters, forms).
  Status rereadSequences(std::uint64_t log_seq);
  // Raises last_seq_ to `seq` if it is below.
  void raiseLastSeq(std::uint64_t seq);
  // Each unit's purge horizon as `snapshot` holds it (a store other servers purge).
  Result<sync::proto::Checkpoints> purgeHorizonsIn(const storage::Snapshot& snapshot) const;
  Result<RecordPage> searchPage(const RecordPageQuery& query, std::string_view start) const;
  Result<ConflictPage> openConflictPage(const std::vector<Scope>& units, const ConflictFilter& filter) const;
  Result<bool> conflictMatches(const sync::Conflict& c, const ConflictFilter& filter) const;
  std::uint64_t committedScopeSeq(const Scope& scope) const;
  storage::Store& store_;
  FormCatalog* forms_ = nullptr;
  bool keep_views_ = true;
  mutable CountCache counts_;         // the views' counters as committed (store/count_cache.hpp)
  mutable SearchIndex search_index_;  // the search's words, kept off the write path
  FileLimits file_limits_;
  std::atomic<std::uint64_t> last_seq_{0};
  // The log seq as this server's writer last saw the store under the writer lock: another server
  // committed since when the stored one differs (writer thread only).
  std::uint64_t synced_seq_ = 0;
  mutable std::mutex scope_mutex_;
  mutable sync::proto::Checkpoints scope_seq_;  // each scope's latest seq, as committed
  // Each scope's purge horizon, raised before the purge commits (so a pull that reads the index
  // after the tombstones are gone always sees the horizon: it reads the horizon after its snapshot).
  sync::proto::Checkpoints purge_horizon_;
};

}  // namespace communesync::server
