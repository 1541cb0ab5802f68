// One group commit: every push the writer thread took, applied into one batch that ServerStore::apply
// then commits durably (THE durability boundary of the server is there, not here). Each change goes
// through the same named steps, in this order:
//
//   1. number      a change the server makes itself (resolution, review) gets the server's next id
//   0. forget      the results of the pushing device's changes below its acknowledged_below
//   2. replay      a change seen before gets its first result again, and nothing is applied twice;
//                  one below the device's acknowledged_below (its result forgotten) is refused
//   3. authorise   the pusher may write this unit and collection (Access::mayWrite); a resolution's
//                  conflict is still open
//   4. pin form    the change is checked against and pinned to its form's version (FormCatalog::pin)
//   5. same unit   a record never moves between units
//   6. clamp       stamps far ahead of the server's clock are clamped (StampClamp), and it is said so
//   7. merge       sync::merge; the record as the change leaves it must fit its form and the size limit
//   8. log         the change in the log, the record at the head of its scope's index, its history,
//                  its file references, its views (store/views.hpp)
//   9. conflicts   each conflict the merge found, once, with who wrote each side
//  10. settle      a resolution closes its conflict in the same batch
//  11. reopen      a device's edit of an approved record (or one needing edits) reopens its review
//
// A refusal at any step is the change's result (kept for replays); a store error stops the group
// and nothing of it is committed.
#pragma once

#include <deque>

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "store/file_group.hpp"
#include "store/history_group.hpp"
#include "store/server_store.hpp"
#include "store/stored_types.hpp"
#include "store/views.hpp"

namespace communesync::server {

class GroupCommit {
 public:
  GroupCommit(ServerStore& store, std::int64_t now_ms);

  //! Reads the records the jobs' changes name in one go (one round trip on PostgreSQL), for add().
  Status prefetch(const std::vector<PushJob*>& jobs);
  //! Applies one push's file pieces and changes into the batch, and fills its results and acks.
  Status add(PushJob& job);
  //! The batch, completed with the device clamps, file entries, the views' tallies and sequence
  //! numbers; empty when the group changed nothing.
  Result<storage::WriteBatch*> finish();
  //! After the batch is durable: the new sequence numbers become the store's, and `touched` names
  //! each scope that moved. Files that became whole are checked (FileGroup::finish).
  Status committed(std::vector<PushJob*>& jobs, sync::proto::Checkpoints& touched);

 private:
  using ChangeResult = sync::proto::ChangeResult;

  // The state of the group: what it has written so far, read before the store.
  Result<std::optional<StoredRecord>> record(const std::string& key);
  //! The first result of a change already applied, or nullopt for a new change.
  Result<std::optional<ChangeResult>> previousResult(const sync::ChangeId& id);
  Result<bool> conflictKnown(const std::string& id);
  Result<sync::StampClamp*> clampFor(const sync::DeviceId& device);
  //! The device's acknowledged_below as stored or raised in this group.
  Result<std::uint64_t> acknowledgedBelow(const sync::DeviceId& device);
  std::uint64_t scopeSeq(const Scope& scope) const;

  Status forgetAcknowledged(const PushJob& job);
  // The steps of one change (numbers as above).
  Status applyChange(PushJob& job, sync::Change& change);
  Status number(sync::Change& change);
  Status authorise(const PushJob& job, sync::Change& change, Status& refusal);
  Status log(PushJob& job, const sync::Change& change, const std::string& key, StoredRecord stored,
             const std::string& encoded, std::uint64_t old_seq, const std::set<std::string>& refs_before,
             std::uint64_t scope_seq, const sync::DeviceId* exact_for);
  Status recordConflicts(const PushJob& job, const sync::Change& change, std::vector<sync::Conflict>& conflicts,
                         std::uint64_t scope_seq);
  Status reopenReview(const sync::Change& change);
  //! Keeps `result` for replays and gives it to the job.
  void keep(PushJob& job, ChangeResult result);

  ServerStore& store_;
  storage::Store& db_;
  const std::int64_t now_ms_;
  const std::int64_t ceiling_ms_;  // stamps beyond are clamped
  FileGroup files_;
  HistoryGroup history_;
  ViewGroup views_;
  storage::WriteBatch batch_;
  std::uint64_t log_seq_;
  std::map<std::string, StoredRecord> records_;
  std::map<std::string, std::optional<std::string>, std::less<>> prefetched_;  // as stored before the group
  std::map<std::string, ChangeResult> results_;
  std::set<std::string> conflicts_;
  std::map<sync::DeviceId, sync::StampClamp> clamps_;
  std::map<sync::DeviceId, std::uint64_t> max_seen_;      // per device: the greatest seq with a result
  std::map<sync::DeviceId, std::uint64_t> acknowledged_;  // per device: acknowledged_below
  std::deque<sync::Change> server_changes_;               // the changes this group made (reviews reopened)
  sync::proto::Checkpoints scope_seqs_;                   // this group's latest seq per scope
};

}  // namespace communesync::server
