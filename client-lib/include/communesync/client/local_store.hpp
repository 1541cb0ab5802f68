// The device's own store: the records as the user sees them, the outbox of changes not yet
// acknowledged, the server's latest state under them, checkpoints, rejected changes and conflicts.
//
// Every call that changes data commits one atomic batch before it returns: put() and remove()
// durably (WAL fsynced), so a write the app reported saved survives a power cut; results and pull
// batches also atomically, so a checkpoint never runs ahead of the data it covers.
//
// Thread safety: a LocalStore may be used from several threads; writes are serialised inside.
// Only one process may open a store (another gets kLocked).
#pragma once

#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "communesync/client/local_files.hpp"
#include "communesync/storage/store.hpp"
#include "communesync/sync/form.hpp"
#include "communesync/sync/hybrid_clock.hpp"
#include "communesync/sync/messages.hpp"
#include "communesync/sync/review.hpp"

namespace communesync::client {

using sync::Record;
using sync::RecordKey;
using sync::Scope;
using sync::Value;

//! A change the server refused, kept until the user fixes it.
struct RejectedChange {
  sync::Change change;
  std::uint16_t code = 0;
  std::string reason;
  std::int64_t rejected_ms = 0;
};

//! An outbox entry: a change waiting for the server's acknowledgement.
struct PendingChange {
  sync::Change change;
  bool restore = false;  //!< re-sent after the server's incarnation changed
};

struct LocalStatus {
  std::uint64_t pending = 0;  //!< changes waiting to be pushed
  std::vector<RejectedChange> rejected;
  std::vector<sync::Conflict> conflicts;  //!< open conflicts known to this device
  std::vector<sync::Conflict> resolved;   //!< conflicts settled at the province, with who, when and why
  std::vector<sync::Review> reviews;      //!< reviews of records here that are not "received" (needs edits first)
  std::int64_t last_sync_ms = 0;          //!< 0: never synced
  std::string incarnation;                //!< the server store this device last synced with
  std::uint64_t files_pending = 0;        //!< files attached here that have not all gone up
  std::uint64_t file_bytes_pending = 0;   //!< their bytes
};

class LocalStore {
 public:
  //! Opens or creates the store at `path` (a new store gets a random device id).
  //! Errors: storage's (kLocked if another process has it, ...).
  //! `new_device` fixes the device id of a store created now (simulations replay by seed);
  //! an existing store keeps its own.
  static Result<std::unique_ptr<LocalStore>> open(const std::filesystem::path& path,
                                                  std::optional<sync::DeviceId> new_device = std::nullopt);

  const sync::DeviceId& deviceId() const { return device_; }
  //! The files (photos, scans) this device holds, to send and to fetch.
  LocalFiles& files() { return *files_; }
  const LocalFiles& files() const { return *files_; }

  // ---- the app's API ----

  //! Creates a record (id empty: a new time-ordered id) or updates the given fields of one (re-creating
  //! it if it was deleted). `scope` is required for a new record and must match for an existing one.
  //! If the device knows a form for the collection, the record as it would be is validated against
  //! it (the version the record is pinned to; a new record takes the latest, and an old one edited
  //! where a newer version maps it is carried onto that version), and a record that does not fit is
  //! refused: nothing is saved. Returns the record id. Errors: kInvalidArgument (bad names or
  //! values, scope mismatch, "field: reason; ..." for a form), kLimitExceeded.
  Result<std::string> put(const std::string& collection, const std::string& id, const Scope& scope,
                          const std::map<std::string, Value>& fields, std::chrono::milliseconds now);
  //! Keeps the file at `path` on this device (once per content; it goes up at the next sync, after
  //! the records) and sets `field` of the live record to its hash, as put() would (a form's photo or
  //! file field checks it). Returns the hash (64 hex digits). Errors: kNotFound (no such record, or
  //! no such file), kLimitExceeded (larger than the server takes), put()'s.
  Result<std::string> attach(const RecordKey& key, const std::string& field, const std::filesystem::path& path,
                             std::chrono::milliseconds now);
  //! The collections whose files every sync fetches (LocalFiles::eagerCollections); the files their
  //! records here already refer to are marked to be fetched at the next sync.
  Status setEagerCollections(const std::set<std::string>& collections);
  //! The live record, or std::nullopt if absent or deleted.
  Result<std::optional<Record>> get(const RecordKey& key) const;
  //! Live records of a collection, sorted by id (an empty collection: all records).
  Result<std::vector<Record>> list(const std::string& collection) const;
  //! Live records of a collection with a text value that contains `text`, ignoring case and
  //! Vietnamese diacritics ("nguyen van a" finds "Nguyễn Văn A").
  Result<std::vector<Record>> search(const std::string& collection, const std::string& text) const;
  //! The forms this device knows (synced from the server), every version, by name then version.
  Result<std::vector<std::shared_ptr<const sync::Form>>> forms() const;
  //! Every live record, sorted by collection then id.
  Result<std::vector<Record>> all() const;
  //! Deletes a live record. Errors: kNotFound.
  Status remove(const RecordKey& key, std::chrono::milliseconds now);
  Result<LocalStatus> status() const;

  // ---- for the replicator ----

  //! Outbox entries after `after_seq`, in order, at most `max_changes` and about `max_bytes`;
  //! entries of one batch are all restore or all not.
  Result<std::vector<PendingChange>> pending(std::uint64_t after_seq, std::size_t max_changes,
                                             std::size_t max_bytes) const;
  //! What applying a push's results did.
  struct ResultsApplied {
    std::size_t laid = 0;      //!< exact results: the device now holds the server's record (no pull needed)
    std::size_t awaiting = 0;  //!< other acceptances: the view keeps the edit until a pull brings the record
  };
  //! Applies the server's results: accepted entries leave the outbox; rejected ones move to the
  //! rejected list with their reason (and the view falls back to the server's state). An exact
  //! result lays the record the change made as the server's copy, and moves the unit's checkpoint
  //! past it when nothing else came between (docs/protocol.md 5.2). `pushed`, if given, is the push
  //! the results answer (its changes as `pending` gave them, in order): a result for one of them is
  //! applied without decoding its outbox entry again.
  Status applyResults(const std::vector<sync::proto::ChangeResult>& results, std::chrono::milliseconds now,
                      const std::vector<sync::Change>* pushed = nullptr, ResultsApplied* applied = nullptr);
  //! A unit is being pulled afresh (a resync under way): the device may not ask the server to step
  //! over its own records (Pull::steps_over_own), having set the server's copies aside.
  Result<bool> resyncUnderWay() const;
  //! What applying a pull batch did besides storing its records.
  struct PullApplied {
    std::size_t resync_started = 0;  //!< units to pull afresh (the server purged old deletions)
    std::size_t resync_dropped = 0;  //!< records a finished resync removed: deleted on the server
  };
  //! Applies a pull batch and its checkpoints atomically. A unit the batch says to resynchronise
  //! loses its checkpoint and the server's copy of its records (the view stays as the user sees
  //! it); the batch that ends the pull (`more` false) then drops the records of such units the
  //! server did not send again, unless changes of them wait in the outbox (docs/protocol.md 5.4).
  Status applyPull(const sync::proto::PullBatch& batch, PullApplied* applied = nullptr);
  //! Checkpoints for the current incarnation.
  Result<sync::proto::Checkpoints> checkpoints() const;
  //! Notes the server's incarnation and each scope's latest seq. If the incarnation differs from the
  //! one the device synced with (the store was recreated), or a checkpoint is beyond its scope's
  //! latest (the store was restored from a backup), the server went back in time: checkpoints are
  //! dropped (pull afresh) and every record the device holds is queued to be pushed again.
  //! Returns true if that happened.
  Result<bool> adoptIncarnation(const std::string& incarnation, const sync::proto::Checkpoints& latest);
  //! The device may now read only `readable` (sorted): records, conflicts and checkpoints of other
  //! scopes are purged. A record with edits not yet acknowledged stays until the server answers
  //! them (it refuses them, and the user sees why in status). Returns the records purged.
  Result<std::size_t> restrictTo(const std::vector<Scope>& readable);
  //! Sets the clock offset measured against the server (server time minus device time).
  Status setClockOffset(std::chrono::milliseconds offset);
  Status setLastSync(std::chrono::milliseconds now);

 private:
  explicit LocalStore(std::unique_ptr<storage::Store> store)
      : store_(std::move(store)), files_(std::make_unique<LocalFiles>(*store_)) {}
  Status load(std::optional<sync::DeviceId> new_device);
  Status resync(const sync::proto::PullBatch& pulled, const std::set<std::string>& pulled_keys,
                storage::WriteBatch& batch, PullApplied& done);

  std::unique_ptr<storage::Store> store_;
  std::unique_ptr<LocalFiles> files_;
  sync::DeviceId device_;
  mutable std::mutex mutex_;  // serialises writers: sequence numbers and the clock
  std::uint64_t last_seq_ = 0;
  std::unique_ptr<sync::HybridClock> clock_;
  // The forms among the records, parsed: rebuilt when a pull brings forms.
  using FormVersions = std::map<std::string, std::map<std::uint32_t, std::shared_ptr<const sync::Form>>>;
  Result<std::shared_ptr<const FormVersions>> formIndex() const;
  // Pins `change` to its form version and checks the record as it would be (see put).
  Status fitForm(const Record& view, sync::Change& change, const sync::Stamp& stamp) const;
  mutable std::mutex forms_mutex_;
  mutable std::shared_ptr<const FormVersions> forms_;  // null: to be rebuilt
};

//! A new record id: 48 bits of milliseconds then 80 random bits, as 32 hex digits (sorts by time).
std::string newRecordId(std::chrono::milliseconds now);

}  // namespace communesync::client
