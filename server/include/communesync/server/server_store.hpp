// The server's data, on top of storage::Store: records, the change log, the per-scope index,
// idempotency entries, conflicts, users, tokens and devices. No network code: the sessions call it.
//
// Layout (column: key -> value):
//   records:     collection \0 id \0               -> StoredRecord (record + its latest server seq)
//   log:         seq (8 bytes, big-endian)          -> the accepted Change, as merged
//   scope_index: scope \0 seq                       -> collection \0 id \0   (one entry per record: its latest seq)
//   conflicts:   's' scope \0 seq conflict-id       -> Conflict              (what a pull reads)
//                'i' conflict-id                    -> scope \0 seq           (to find one by id)
//   idempotency: device (16) device-seq (8)         -> its first ChangeResult
//   devices:     'd' device (16)                    -> DeviceState
//                'u' user name                      -> User
//                't' sha256(token)                  -> user name
//   meta:        "last_seq" -> seq (8);  "admin_token_sha256" -> hex
//
// Threads: apply() is called by one writer thread at a time; everything else from any thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "communesync/storage/store.hpp"
#include "communesync/sync/messages.hpp"

namespace communesync::server {

using sync::Scope;

struct User {
  std::string name;
  std::vector<Scope> scopes;
};

//! A push waiting to be applied, from one session.
struct PushJob {
  std::string user;
  std::set<Scope, std::less<>> writable;           //!< scopes the user may write
  bool restore = false;                            //!< the device re-sends what it holds after an incarnation change
  std::vector<sync::Change> changes;               //!< already checked by sync::validateChange
  std::vector<sync::proto::ChangeResult> results;  //!< filled by apply(), one per change
};

class ServerStore {
 public:
  //! Reads the last sequence number; call once after opening the store.
  static Result<std::unique_ptr<ServerStore>> open(storage::Store& store);

  const std::string& incarnationId() const { return store_.incarnationId(); }
  std::uint64_t lastSeq() const { return last_seq_.load(std::memory_order_acquire); }

  // ---- users, tokens, devices ----

  //! Makes the admin token on first start. Returns it when made now, or std::nullopt if one exists.
  Result<std::optional<std::string>> ensureAdminToken();
  bool isAdminToken(std::string_view token) const;
  //! Creates a user with its scopes and returns the user's new token. Errors: kInvalidArgument
  //! (bad name or scope), kBusy... kInvalidArgument "already exists" if the name is taken.
  Result<std::string> createUser(const std::string& name, const std::vector<Scope>& scopes);
  //! The user holding `token`, or std::nullopt.
  Result<std::optional<User>> userForToken(std::string_view token) const;
  //! Ties a device to its user at first contact and records the contact. Errors: kForbidden if the
  //! device belongs to another user.
  Status recordDeviceContact(const sync::DeviceId& device, const std::string& user, std::int64_t now_ms);

  // ---- sync ----

  //! Applies a group of pushes in one atomic, durable commit (the durability boundary of the
  //! server). Fills each job's results and `touched` with the scopes that changed.
  //! On error nothing was applied and the jobs' results are unset.
  Status apply(std::vector<PushJob*>& jobs, std::int64_t now_ms, std::set<Scope, std::less<>>& touched);

  //! What changed in `scopes` since `checkpoints`, up to about `max_bytes` of records.
  Result<sync::proto::PullBatch> pull(const std::vector<Scope>& scopes, const sync::proto::Checkpoints& checkpoints,
                                      std::uint64_t max_bytes) const;

  //! The first result of a change id, if it was seen before.
  Result<std::optional<sync::proto::ChangeResult>> previousResult(const sync::ChangeId& id) const;

  //! Every change in the log, in order (for tests and audits; reads the whole log).
  Result<std::vector<sync::Change>> logForTesting() const;
  //! Every record, deleted ones included, by key (for tests; reads the whole store).
  Result<std::vector<sync::Record>> recordsForTesting() const;
  //! Every conflict (for tests; reads the whole store).
  Result<std::vector<sync::Conflict>> conflictsForTesting() const;

 private:
  explicit ServerStore(storage::Store& store) : store_(store) {}
  storage::Store& store_;
  std::atomic<std::uint64_t> last_seq_{0};
};

//! sha256 of a token, as hex: what is stored in place of the token.
std::string tokenDigest(std::string_view token);
//! A new random token (256 bits, hex).
std::string newToken();

}  // namespace communesync::server
