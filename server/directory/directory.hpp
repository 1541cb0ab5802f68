// Who is who: users, their grants, passwords and tokens, devices, the unit tree, and the audit log.
// ServerStore holds the records; Directory decides who may touch them (through access.hpp).
//
// Layout (column: key -> value):
//   devices: 'u' name               -> StoredUser (grants, Argon2id password hash, disabled)
//            't' sha256(token)      -> user name (a user token, from `user add`)
//            'v' sha256(token)      -> TokenInfo (a device token, from a login: user and device)
//            'd' device (16)        -> DeviceState (user, contact times, revoked)
//   units:   code                   -> Unit
//   audit:   seq (8, big-endian)    -> AuditEntry
//   meta:    "admin_token_sha256"   -> hex
//
// Tokens are stored only as their sha256; passwords only as Argon2id hashes (libsodium). Neither
// is ever written to a log or the audit log.
//
// Thread-safe. Every change bumps generation(): a session that sees a new generation checks its
// token and rebuilds its Access before it handles the next message.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "access/access.hpp"
#include "base/clock.hpp"
#include "base/log.hpp"
#include "base/tuning.hpp"
#include "communesync/storage/store.hpp"
#include "communesync/sync/device_id.hpp"
#include "directory/login_throttle.hpp"
#include "programme/units.hpp"

namespace communesync::server {

//! Who did something, for the audit log: a user name (or "admin" for the admin token) and the
//! peer address.
struct Actor {
  std::string name;
  std::string from;
};

//! Whoever presented a token.
struct Principal {
  std::string user;
  sync::DeviceId device;  //!< set for a device token: it works for that device only
  std::vector<Grant> grants;
};

struct UserInfo {
  std::string name;
  std::vector<Grant> grants;
  bool has_password = false;
  bool disabled = false;
  std::vector<std::string> devices;  //!< device ids (hex) with a live device token
};

//! A device as its last contact left it (GET /api/devices).
struct DeviceInfo {
  std::string device;  //!< hex
  std::string user;
  std::int64_t first_contact_ms = 0;
  std::int64_t last_contact_ms = 0;
  std::string client_version;        //!< what its hello said
  std::int64_t clock_offset_ms = 0;  //!< the server's clock minus the device's, at its last hello
  //! How old its oldest unsynced change was when it last pushed (0: it had nothing to push).
  std::int64_t pending_age_ms = 0;
  bool revoked = false;
};

//! What a device says of itself when a session starts.
struct DeviceHello {
  std::string client_version;
  std::int64_t device_time_ms = 0;  //!< its own clock, uncorrected; 0 when it did not say
};

struct AuditEntry {
  std::uint64_t seq = 0;
  std::int64_t time_ms = 0;
  std::string actor;
  std::string from;
  std::string action;  //!< login, login_failed, user_add, grant, revoke, passwd, units_import, ...
  std::string detail;
};

struct ImportSummary {
  std::size_t added = 0;
  std::size_t updated = 0;
  std::size_t unchanged = 0;
};

class Directory {
 public:
  static Result<std::unique_ptr<Directory>> open(storage::Store& store);

  //! Bumped by every change to users, grants, tokens, devices' revocation or units (here or, on a
  //! store several servers share, on another: othersChanged()).
  std::uint64_t generation() const { return generation_.load(std::memory_order_acquire); }
  //! Another server changed the directory: reads the units again and bumps the generation.
  Status othersChanged();

  // ---- the admin token (made at first start, kept in <data>/admin.token) ----
  Result<std::optional<std::string>> ensureAdminToken();
  bool isAdminToken(std::string_view token) const;

  // ---- users ----
  //! Creates a user and returns a new user token. `password` may be empty (token only).
  //! Errors: kInvalidArgument (bad name, grant or password), kAlreadyExists.
  Result<std::string> addUser(const std::string& name, const std::vector<Grant>& grants, const std::string& password,
                              const Actor& actor);
  Result<std::vector<UserInfo>> listUsers() const;
  Status grant(const std::string& name, const std::vector<Grant>& grants, const Actor& actor);
  //! Removes grants (those not held are ignored). Errors: kNotFound.
  Status revokeGrants(const std::string& name, const std::vector<Grant>& grants, const Actor& actor);
  //! Disables the user and deletes every token of it: its sessions close.
  Status disableUser(const std::string& name, const Actor& actor);
  //! Revokes one device: its token is deleted and the device may not sync again as this user.
  Status revokeDevice(const std::string& name, const sync::DeviceId& device, const Actor& actor);
  //! Sets the user's password and signs out every device it logged in with (their device tokens are
  //! deleted: they log in again with the new password), unless `keep_device_tokens`. Returns how
  //! many device tokens were deleted.
  Result<std::size_t> setPassword(const std::string& name, const std::string& password, const Actor& actor,
                                  bool keep_device_tokens = false);
  //! How long a login from `from` (an IP address) as `name` must wait after too many failures
  //! (login_throttle.hpp); zero if it may be tried now. `name` may be empty (a token exchange).
  std::chrono::steady_clock::duration loginWait(const std::string& from, const std::string& name) {
    return login_throttle_.wait(from, name);
  }
  //! Checks a password and gives `device` its own token (a new one at each login). Every attempt
  //! is audited. Errors: kUnauthorized (the same message whatever was wrong), kForbidden (revoked device),
  //! kBusy (too many failed logins from this address or as this name: loginWait says how long).
  Result<std::string> login(const std::string& name, const std::string& password, const sync::DeviceId& device,
                            const std::string& from);

  //! Gives `device` its own token in exchange for a valid user (or device) token: a device that
  //! logs in with the token from `user add` still gets a token of its own, revocable alone.
  //! Errors: kUnauthorized, kForbidden (revoked device, another user's device), kBusy (as login).
  Result<std::string> exchangeToken(std::string_view user_token, const sync::DeviceId& device, const std::string& from);

  //! The user (and device) behind a token, with its current grants, or std::nullopt if the token
  //! is unknown, revoked or its user disabled.
  Result<std::optional<Principal>> authenticate(std::string_view token) const;
  //! Ok if `principal` may sync as `device` now: kForbidden if the device was revoked, belongs to
  //! another user, or the token is another device's.
  Status checkDevice(const Principal& principal, const sync::DeviceId& device) const;
  //! Ties a device to its user at first contact and records the contact. Errors: kForbidden if
  //! the device belongs to another user, was revoked, or the token is another device's.
  Status recordDeviceContact(const Principal& principal, const sync::DeviceId& device, std::int64_t now_ms,
                             const DeviceHello& hello = {});
  //! Notes how old the device's oldest unsynced change was when its session first pushed.
  Status recordPendingAge(const sync::DeviceId& device, std::int64_t age_ms);
  //! Every device that ever started a session, by device id.
  Result<std::vector<DeviceInfo>> listDevices() const;

  // ---- units ----
  std::shared_ptr<const UnitTree> units() const;
  //! Adds new units and updates changed ones, all or nothing. Importing the same file twice
  //! changes nothing. Errors: kInvalidArgument naming the CSV line.
  Result<ImportSummary> importUnits(const std::vector<Unit>& units, const Actor& actor);
  //! Marks each old unit merged into `into` from the day `on` ("YYYY-MM-DD": the reports of that
  //! year and after read the old units as part of `into`); records keep their scope and stay visible
  //! to grants on `into`.
  Status mergeUnits(const std::vector<std::string>& old_codes, const std::string& into, const std::string& on,
                    const Actor& actor);
  //! The access `grants` give under the current tree.
  Access accessOf(std::vector<Grant> grants) const;

  // ---- audit ----
  void audit(const Actor& actor, std::string_view action, std::string detail);
  //! Counts a sync session refused for an unknown token from `from`; the audit log gets one
  //! "bad_tokens" entry per tuning::kBadTokenAuditInterval with the count, not one per attempt.
  void noteBadToken(const std::string& from);
  //! The latest `limit` entries, oldest first.
  Result<std::vector<AuditEntry>> auditLog(std::size_t limit) const;
  //! Removes the audit entries written before `before_ms`, oldest first, at most
  //! tuning::kMaxSweptPerRun a call (the config's retention). Returns how many.
  Result<std::size_t> sweepAudit(std::int64_t before_ms);

 private:
  explicit Directory(storage::Store& store) : store_(store) {}
  Status loadUnits();
  // Bumps the generation, and tells the other servers on the store (store/commit_notice.hpp).
  void changed();
  // Held by every change: this process's mutex and, on a store several servers write, the store's
  // directory lock (the audit log's numbering and the users' read-modify-write are one across them).
  struct ChangeLock {
    std::unique_lock<std::mutex> mine;
    std::optional<storage::StoreLock> shared;
  };
  Result<ChangeLock> lockForChange();
  // kBusy while loginWait() is not zero.
  Status checkLoginWait(const std::string& from, const std::string& name);
  // Ok if user `name` may register one more device (tuning::kMaxDevicesPerUser); kLimitExceeded
  // with what to do if not. Called with mutex_ held, before a device's first row is written.
  Status checkDeviceSlot(const std::string& name) const;
  // Issues `device` a token of its own for user `name` (replacing any it had), audited as `action`.
  Result<std::string> issueDeviceToken(const std::string& name, const sync::DeviceId& device, const Actor& actor,
                                       std::string_view action);
  // Appends an audit entry to `batch` (so it commits with the change it describes).
  void auditInto(storage::WriteBatch& batch, const Actor& actor, std::string_view action, std::string detail);

  storage::Store& store_;
  std::atomic<std::uint64_t> generation_{1};
  mutable std::mutex mutex_;  // serialises changes (read-modify-write of users, units, audit seq)
  std::shared_ptr<const UnitTree> units_ = std::make_shared<UnitTree>();
  std::uint64_t audit_seq_ = 0;
  std::atomic<int> password_checks_{0};  // logins hashing a password right now
  LoginThrottle login_throttle_;
  LogEvery bad_tokens_{tuning::kBadTokenAuditInterval};
};

//! sha256 of a token, as hex: what is stored in place of the token.
std::string tokenDigest(std::string_view token);
//! A new random token (256 bits, hex).
std::string newToken();

}  // namespace communesync::server
