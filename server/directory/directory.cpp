#include "directory/directory.hpp"

#include <openssl/sha.h>
#include <sodium.h>

#include <chrono>
#include <map>

#include "base/sweep_oldest.hpp"
#include "base/tuning.hpp"
#include "communesync/storage/key_codec.hpp"
#include "communesync/sync/stored.hpp"
#include "communesync/sync/text.hpp"
#include "communesync/sync/tuning.hpp"
#include "directory/stored_directory.hpp"

namespace communesync::server {
namespace {

using storage::Column;

constexpr std::string_view kAdminTokenKey = "admin_token_sha256";

Status checkUserName(const std::string& name) {
  if (name.empty() || name.size() > sync::tuning::kMaxNameBytes || !sync::isCleanUtf8(name)) {
    return Status::error(ErrorCode::kInvalidArgument, "user name must be 1-128 bytes of UTF-8");
  }
  for (unsigned char c : name) {
    if (c < 0x20 || c == 0x7f) return Status::error(ErrorCode::kInvalidArgument, "user name has a control character");
  }
  // The audit log names the admin token "admin" and the server's own changes "server".
  if (name == "admin" || name == "server") {
    return Status::error(ErrorCode::kInvalidArgument, "the user name '" + name + "' is reserved; choose another");
  }
  return Status::ok();
}

// Administering (users, grants, units, forms) is one power over the whole server: an admin grant on
// a commune would not mean "of that commune". So admin is granted only on a root of the unit tree.
Status checkAdminGrants(const std::vector<Grant>& grants, const UnitTree& units) {
  for (const auto& g : grants) {
    if (g.role == Role::kAdmin && !isRootUnit(units, g.unit)) {
      return Status::error(ErrorCode::kInvalidArgument,
                           grantText(g) +
                               ": admin is granted on the whole tree only (its root unit); a unit's own "
                               "staff are reconcilers of it (reconciler:" +
                               g.unit + ")");
    }
  }
  return Status::ok();
}

Status checkGrants(const std::vector<Grant>& grants) {
  if (grants.size() > tuning::kMaxGrantsPerUser) {
    return Status::error(ErrorCode::kLimitExceeded,
                         "more than " + std::to_string(tuning::kMaxGrantsPerUser) + " grants for one user");
  }
  for (const auto& g : grants) CS_RETURN_IF_ERROR(parseGrant(grantText(g)).status());
  return Status::ok();
}

Result<std::string> hashPassword(const std::string& password) {
  if (password.size() < tuning::kMinPasswordBytes || password.size() > tuning::kMaxPasswordBytes) {
    return Status::error(ErrorCode::kInvalidArgument, "a password must be " +
                                                          std::to_string(tuning::kMinPasswordBytes) + "-" +
                                                          std::to_string(tuning::kMaxPasswordBytes) + " bytes long");
  }
  char out[crypto_pwhash_STRBYTES];
  if (crypto_pwhash_str_alg(out, password.data(), password.size(), crypto_pwhash_OPSLIMIT_INTERACTIVE,
                            crypto_pwhash_MEMLIMIT_INTERACTIVE, crypto_pwhash_ALG_ARGON2ID13) != 0) {
    return Status::error(ErrorCode::kBusy, "not enough memory to hash the password; retry");
  }
  return std::string(out);
}

bool passwordMatches(const std::string& hash, const std::string& password) {
  if (hash.empty() || hash.size() >= crypto_pwhash_STRBYTES || password.size() > tuning::kMaxPasswordBytes) {
    return false;
  }
  char stored[crypto_pwhash_STRBYTES] = {};
  std::copy(hash.begin(), hash.end(), stored);
  return crypto_pwhash_str_verify(stored, password.data(), password.size()) == 0;
}

// Checked against when the name is unknown or disabled, so that a refusal takes as long as for a
// wrong password: how long a login takes must not tell which user names exist.
const std::string& decoyHash() {
  static const std::string hash = [] {
    auto h = hashPassword("communesync: no such user, a decoy");
    return h ? *h : std::string();  // out of memory: no decoy (passwordMatches refuses an empty hash)
  }();
  return hash;
}

Result<StoredUser> readUser(const storage::Store& store, const std::string& name) {
  auto user = sync::readDecoded<StoredUser>(store, Column::kDevices, userKey(name));
  if (!user) return user.status();
  if (!user->has_value()) return Status::error(ErrorCode::kNotFound, "no user '" + name + "'");
  return std::move(**user);
}

std::string grantsText(const std::vector<Grant>& grants) {
  std::string out;
  for (const auto& g : grants) out += (out.empty() ? "" : " ") + grantText(g);
  return out;
}

// Printable and bounded: an attempted user name goes into the audit log as typed, never more.
std::string forAudit(std::string_view text) {
  std::string out;
  for (unsigned char c : text.substr(0, 64)) out += (c < 0x20 || c == 0x7f) ? '?' : static_cast<char>(c);
  return sync::isCleanUtf8(out) ? out : sync::toHex(out);
}

// Erases every device token whose owner matches `match` (one scan of the tokens).
template <class Match>
Result<std::size_t> eraseDeviceTokens(const storage::Store& store, storage::WriteBatch& batch, Match match) {
  std::size_t erased = 0;
  auto tokens = store.scanPrefix(Column::kDevices, "v");
  for (; tokens.valid(); tokens.next()) {
    auto info = sync::decode<TokenInfo>(tokens.value());
    if (info && match(*info)) {
      batch.erase(Column::kDevices, tokens.key());
      ++erased;
    }
  }
  if (auto s = tokens.status(); !s) return s;
  return erased;
}

}  // namespace

std::string tokenDigest(std::string_view token) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(token.data()), token.size(), digest);
  return sync::toHex(std::string_view(reinterpret_cast<const char*>(digest), sizeof digest));
}

std::string newToken() {
  unsigned char bytes[32];
  randombytes_buf(bytes, sizeof bytes);
  return sync::toHex(std::string_view(reinterpret_cast<const char*>(bytes), sizeof bytes));
}

Result<std::unique_ptr<Directory>> Directory::open(storage::Store& store) {
  if (sodium_init() < 0) return Status::error(ErrorCode::kInternal, "libsodium failed to initialise");
  std::unique_ptr<Directory> out(new Directory(store));
  CS_RETURN_IF_ERROR(out->loadUnits());
  auto cursor = store.scan(Column::kAudit, "", "");
  for (; cursor.valid(); cursor.next()) out->audit_seq_ = storage::readUint64(cursor.key()).value_or(out->audit_seq_);
  CS_RETURN_IF_ERROR(cursor.status());
  return out;
}

Result<Directory::ChangeLock> Directory::lockForChange() {
  ChangeLock out{std::unique_lock(mutex_), std::nullopt};
  if (store_.local()) return out;
  auto shared = store_.lock(storage::LockName::kDirectory, tuning::kStoreLockWait);
  if (!shared) return shared.status();
  out.shared.emplace(std::move(shared).value());
  // Another server may have written audit entries since: number on from the last one stored.
  auto last = store_.lastKey(Column::kAudit, "");
  if (!last) return last.status();
  if (last->has_value()) audit_seq_ = std::max(audit_seq_, storage::readUint64(**last).value_or(0));
  return out;
}

void Directory::changed() {
  generation_.fetch_add(1, std::memory_order_acq_rel);
  if (store_.local()) return;
  // The other servers check their sessions' rights again (a revocation closes them there too).
  storage::WriteBatch notice;
  notice.notice(std::string(kDirectoryNotice));
  if (auto sent = store_.commit(notice, storage::Durability::kBuffered); !sent)
    logEvent(LogLevel::kError, "directory_notice_failed", {{"error", sent.toString()}});
}

Status Directory::othersChanged() {
  CS_RETURN_IF_ERROR(loadUnits());
  generation_.fetch_add(1, std::memory_order_acq_rel);
  return Status::ok();
}

Status Directory::loadUnits() {
  std::vector<Unit> units;
  auto cursor = store_.scan(Column::kUnits, "", "");
  for (; cursor.valid(); cursor.next()) {
    auto unit = sync::decode<Unit>(cursor.value());
    if (!unit)
      return Status::error(ErrorCode::kCorruption, "a stored unit does not decode: " + unit.status().message());
    units.push_back(std::move(unit).value());
  }
  CS_RETURN_IF_ERROR(cursor.status());
  std::lock_guard lock(mutex_);
  units_ = std::make_shared<UnitTree>(std::move(units));
  return Status::ok();
}

// ---- admin token ----

Result<std::optional<std::string>> Directory::ensureAdminToken() {
  auto lock = lockForChange();
  if (!lock) return lock.status();
  auto existing = store_.get(Column::kMeta, kAdminTokenKey);
  if (!existing) return existing.status();
  if (existing->has_value()) return std::optional<std::string>();
  std::string token = newToken();
  storage::WriteBatch batch;
  batch.put(Column::kMeta, kAdminTokenKey, tokenDigest(token));
  CS_RETURN_IF_ERROR(store_.commit(batch, storage::Durability::kSynced));
  return std::optional<std::string>(token);
}

bool Directory::isAdminToken(std::string_view token) const {
  if (token.empty()) return false;
  auto stored = store_.get(Column::kMeta, kAdminTokenKey);
  if (!stored || !stored->has_value()) return false;
  const auto digest = tokenDigest(token);
  return digest.size() == (*stored)->size() && sodium_memcmp(digest.data(), (*stored)->data(), digest.size()) == 0;
}

// ---- users ----

Result<std::string> Directory::addUser(const std::string& name, const std::vector<Grant>& grants,
                                       const std::string& password, const Actor& actor) {
  CS_RETURN_IF_ERROR(checkUserName(name));
  if (grants.empty()) return Status::error(ErrorCode::kInvalidArgument, "a user needs at least one grant");
  CS_RETURN_IF_ERROR(checkGrants(grants));
  CS_RETURN_IF_ERROR(checkAdminGrants(grants, *units()));
  StoredUser user{name, grants, {}, {}, false};
  if (!password.empty()) {
    auto hash = hashPassword(password);
    if (!hash) return hash.status();
    user.password_hash = std::move(hash).value();
  }
  std::string token = newToken();
  user.token_digest = tokenDigest(token);

  auto lock = lockForChange();
  if (!lock) return lock.status();
  auto existing = store_.get(Column::kDevices, userKey(name));
  if (!existing) return existing.status();
  if (existing->has_value()) return Status::error(ErrorCode::kAlreadyExists, "user '" + name + "' already exists");
  storage::WriteBatch batch;
  batch.put(Column::kDevices, userKey(name), sync::encode(user));
  batch.put(Column::kDevices, tokenKey(user.token_digest), name);
  auditInto(batch, actor, "user_add", name + " " + grantsText(grants));
  CS_RETURN_IF_ERROR(store_.commit(batch, storage::Durability::kSynced));
  changed();
  return token;
}

Result<std::vector<UserInfo>> Directory::listUsers() const {
  std::map<std::string, std::vector<std::string>> devices;
  auto tokens = store_.scanPrefix(Column::kDevices, "v");
  for (; tokens.valid(); tokens.next()) {
    auto info = sync::decode<TokenInfo>(tokens.value());
    if (!info) return Status::error(ErrorCode::kCorruption, "a stored device token does not decode");
    devices[info->user].push_back(info->device.hex());
  }
  CS_RETURN_IF_ERROR(tokens.status());
  std::vector<UserInfo> out;
  auto cursor = store_.scanPrefix(Column::kDevices, "u");
  for (; cursor.valid(); cursor.next()) {
    auto user = sync::decode<StoredUser>(cursor.value());
    if (!user) return Status::error(ErrorCode::kCorruption, "a stored user does not decode");
    out.push_back(UserInfo{user->name, user->grants, !user->password_hash.empty(), user->disabled,
                           std::move(devices[user->name])});
  }
  CS_RETURN_IF_ERROR(cursor.status());
  return out;
}

Status Directory::grant(const std::string& name, const std::vector<Grant>& grants, const Actor& actor) {
  CS_RETURN_IF_ERROR(checkGrants(grants));
  CS_RETURN_IF_ERROR(checkAdminGrants(grants, *units()));
  auto lock = lockForChange();
  if (!lock) return lock.status();
  auto user = readUser(store_, name);
  if (!user) return user.status();
  for (const auto& g : grants) {
    if (std::find(user->grants.begin(), user->grants.end(), g) == user->grants.end()) user->grants.push_back(g);
  }
  CS_RETURN_IF_ERROR(checkGrants(user->grants));
  storage::WriteBatch batch;
  batch.put(Column::kDevices, userKey(name), sync::encode(*user));
  auditInto(batch, actor, "grant", name + " " + grantsText(grants));
  CS_RETURN_IF_ERROR(store_.commit(batch, storage::Durability::kSynced));
  changed();
  return Status::ok();
}

Status Directory::revokeGrants(const std::string& name, const std::vector<Grant>& grants, const Actor& actor) {
  auto lock = lockForChange();
  if (!lock) return lock.status();
  auto user = readUser(store_, name);
  if (!user) return user.status();
  std::erase_if(user->grants,
                [&](const Grant& g) { return std::find(grants.begin(), grants.end(), g) != grants.end(); });
  storage::WriteBatch batch;
  batch.put(Column::kDevices, userKey(name), sync::encode(*user));
  auditInto(batch, actor, "revoke_grant", name + " " + grantsText(grants));
  CS_RETURN_IF_ERROR(store_.commit(batch, storage::Durability::kSynced));
  changed();
  return Status::ok();
}

Status Directory::disableUser(const std::string& name, const Actor& actor) {
  auto lock = lockForChange();
  if (!lock) return lock.status();
  auto user = readUser(store_, name);
  if (!user) return user.status();
  storage::WriteBatch batch;
  if (!user->token_digest.empty()) batch.erase(Column::kDevices, tokenKey(user->token_digest));
  if (auto erased = eraseDeviceTokens(store_, batch, [&](const TokenInfo& t) { return t.user == name; }); !erased) {
    return erased.status();
  }
  user->token_digest.clear();
  user->disabled = true;
  batch.put(Column::kDevices, userKey(name), sync::encode(*user));
  auditInto(batch, actor, "revoke_user", name);
  CS_RETURN_IF_ERROR(store_.commit(batch, storage::Durability::kSynced));
  changed();
  return Status::ok();
}

Status Directory::revokeDevice(const std::string& name, const sync::DeviceId& device, const Actor& actor) {
  auto lock = lockForChange();
  if (!lock) return lock.status();
  auto state = sync::readDecoded<DeviceState>(store_, Column::kDevices, deviceKey(device));
  if (!state) return state.status();
  if (!state->has_value() || (*state)->user != name) {
    return Status::error(ErrorCode::kNotFound, "user '" + name + "' has no device " + device.hex());
  }
  storage::WriteBatch batch;
  if (auto erased = eraseDeviceTokens(store_, batch, [&](const TokenInfo& t) { return t.device == device; }); !erased) {
    return erased.status();
  }
  (*state)->revoked = true;
  batch.put(Column::kDevices, deviceKey(device), sync::encode(**state));
  auditInto(batch, actor, "revoke_device", name + " " + device.hex());
  CS_RETURN_IF_ERROR(store_.commit(batch, storage::Durability::kSynced));
  changed();
  return Status::ok();
}

Result<std::size_t> Directory::setPassword(const std::string& name, const std::string& password, const Actor& actor,
                                           bool keep_device_tokens) {
  auto hash = hashPassword(password);
  if (!hash) return hash.status();
  auto lock = lockForChange();
  if (!lock) return lock.status();
  auto user = readUser(store_, name);
  if (!user) return user.status();
  user->password_hash = std::move(hash).value();
  storage::WriteBatch batch;
  std::size_t signed_out = 0;
  if (!keep_device_tokens) {
    // A changed password is often a leaked one: what logged in with the old one logs in again.
    auto erased = eraseDeviceTokens(store_, batch, [&](const TokenInfo& t) { return t.user == name; });
    if (!erased) return erased.status();
    signed_out = *erased;
  }
  batch.put(Column::kDevices, userKey(name), sync::encode(*user));
  auditInto(
      batch, actor, "passwd",
      name + (keep_device_tokens ? " (device tokens kept)" : "; devices signed out: " + std::to_string(signed_out)));
  CS_RETURN_IF_ERROR(store_.commit(batch, storage::Durability::kSynced));
  changed();
  return signed_out;
}

void Directory::noteBadToken(const std::string& from) {
  if (auto count = bad_tokens_.note(); count > 0) {
    audit(Actor{"?", from}, "bad_tokens",
          std::to_string(count) + " sync session(s) refused for an unknown token since the last entry; the last from " +
              from);
  }
}

Status Directory::checkLoginWait(const std::string& from, const std::string& name) {
  const auto wait = loginWait(from, name);
  if (wait <= std::chrono::steady_clock::duration::zero()) return Status::ok();
  return Status::error(ErrorCode::kBusy,
                       "too many failed logins; try again in " + std::to_string(waitSeconds(wait)) + " s");
}

Result<std::string> Directory::login(const std::string& name, const std::string& password, const sync::DeviceId& device,
                                     const std::string& from) {
  const Actor actor{forAudit(name), from};
  const auto refused = Status::error(ErrorCode::kUnauthorized, "wrong user name or password");
  CS_RETURN_IF_ERROR(checkLoginWait(from, name));
  // Each check costs ~64 MiB and tens of milliseconds by design: a flood of logins must not take
  // the server's memory or every I/O thread.
  if (password_checks_.fetch_add(1) >= tuning::kMaxConcurrentPasswordChecks) {
    password_checks_.fetch_sub(1);
    return Status::error(ErrorCode::kBusy, "the server is busy checking other logins; retry in a moment");
  }
  struct Release {
    std::atomic<int>& n;
    ~Release() { n.fetch_sub(1); }
  } release{password_checks_};
  auto user = sync::readDecoded<StoredUser>(store_, Column::kDevices, userKey(name));
  if (!user) return user.status();
  // The hash is checked outside the lock: Argon2id takes tens of milliseconds by design.
  const bool known = user->has_value() && !(*user)->disabled && !(*user)->password_hash.empty();
  if (!passwordMatches(known ? (*user)->password_hash : decoyHash(), password) || !known) {
    if (login_throttle_.failed(from, name)) {
      audit(actor, "login_throttled", "logins as " + forAudit(name) + " from " + from + " wait: too many failures");
    }
    audit(actor, "login_failed", device.hex());
    return refused;
  }
  return issueDeviceToken(name, device, actor, "login");
}

Result<std::string> Directory::exchangeToken(std::string_view user_token, const sync::DeviceId& device,
                                             const std::string& from) {
  CS_RETURN_IF_ERROR(checkLoginWait(from, ""));
  auto principal = authenticate(user_token);
  if (!principal) return principal.status();
  if (!principal->has_value()) {
    if (login_throttle_.failed(from, "")) {
      audit(Actor{"?", from}, "login_throttled", "logins from " + from + " wait: too many unknown tokens");
    }
    audit(Actor{"?", from}, "login_failed", device.hex() + " unknown token");
    return Status::error(ErrorCode::kUnauthorized, "the token is not valid (revoked, or mistyped)");
  }
  if (!(*principal)->device.isNil() && (*principal)->device != device) {
    return Status::error(ErrorCode::kForbidden, "this token belongs to another device; log in again");
  }
  return issueDeviceToken((*principal)->user, device, Actor{(*principal)->user, from}, "login_token");
}

Result<std::string> Directory::issueDeviceToken(const std::string& name, const sync::DeviceId& device,
                                                const Actor& actor, std::string_view action) {
  if (device.isNil()) return Status::error(ErrorCode::kInvalidArgument, "a login needs the device id");
  auto lock = lockForChange();
  if (!lock) return lock.status();
  auto state = sync::readDecoded<DeviceState>(store_, Column::kDevices, deviceKey(device));
  if (!state) return state.status();
  DeviceState s = state->value_or(DeviceState{});
  if (state->has_value() && (s.revoked || s.user != name)) {
    storage::WriteBatch batch;
    auditInto(batch, actor, "login_failed", device.hex() + (s.revoked ? " revoked device" : " another user's device"));
    (void)store_.commit(batch, storage::Durability::kBuffered);
    return Status::error(ErrorCode::kForbidden, s.revoked ? "this device was revoked; ask the administrator"
                                                          : "this device is registered to another user");
  }
  if (!state->has_value()) {
    if (auto slot = checkDeviceSlot(name); !slot) {
      storage::WriteBatch batch;
      auditInto(batch, actor, "login_failed", device.hex() + " too many devices");
      (void)store_.commit(batch, storage::Durability::kBuffered);
      return slot;
    }
    s.user = name;
    s.first_contact_ms = nowMs();
  }
  std::string token = newToken();
  storage::WriteBatch batch;
  // One live token per device: a new login replaces the old one.
  if (auto erased = eraseDeviceTokens(store_, batch, [&](const TokenInfo& t) { return t.device == device; }); !erased) {
    return erased.status();
  }
  batch.put(Column::kDevices, deviceTokenKey(tokenDigest(token)), sync::encode(TokenInfo{name, device}));
  batch.put(Column::kDevices, deviceKey(device), sync::encode(s));
  auditInto(batch, actor, action, device.hex());
  CS_RETURN_IF_ERROR(store_.commit(batch, storage::Durability::kSynced));
  changed();
  return token;
}

Result<std::optional<Principal>> Directory::authenticate(std::string_view token) const {
  if (token.empty() || token.size() > 256) return std::optional<Principal>();
  const auto digest = tokenDigest(token);
  Principal principal;
  auto name = store_.get(Column::kDevices, tokenKey(digest));
  if (!name) return name.status();
  if (name->has_value()) {
    principal.user = **name;
  } else {
    auto info = sync::readDecoded<TokenInfo>(store_, Column::kDevices, deviceTokenKey(digest));
    if (!info) return info.status();
    if (!info->has_value()) return std::optional<Principal>();
    principal.user = (*info)->user;
    principal.device = (*info)->device;
  }
  auto user = sync::readDecoded<StoredUser>(store_, Column::kDevices, userKey(principal.user));
  if (!user) return user.status();
  if (!user->has_value() || (*user)->disabled) return std::optional<Principal>();
  principal.grants = (*user)->grants;
  if (!principal.device.isNil()) {
    auto state = sync::readDecoded<DeviceState>(store_, Column::kDevices, deviceKey(principal.device));
    if (!state) return state.status();
    if (state->has_value() && (*state)->revoked) return std::optional<Principal>();
  }
  return std::optional<Principal>(std::move(principal));
}

namespace {

Status deviceAllowed(const Principal& principal, const sync::DeviceId& device,
                     const std::optional<DeviceState>& state) {
  if (!principal.device.isNil() && principal.device != device) {
    return Status::error(ErrorCode::kForbidden, "this token belongs to another device; log in again");
  }
  if (!state) return Status::ok();
  if (state->revoked) return Status::error(ErrorCode::kForbidden, "this device was revoked; ask the administrator");
  if (state->user != principal.user) {
    return Status::error(ErrorCode::kForbidden,
                         "this device is registered to another user; reinstall to log in as '" + principal.user + "'");
  }
  return Status::ok();
}

}  // namespace

Status Directory::checkDeviceSlot(const std::string& name) const {
  std::size_t live = 0;
  auto cursor = store_.scanPrefix(Column::kDevices, "d");
  for (; cursor.valid(); cursor.next()) {
    if (cursor.key().size() != 1 + sync::DeviceId{}.bytes.size()) continue;  // not a device row
    auto s = sync::decode<DeviceState>(cursor.value());
    if (!s) return Status::error(ErrorCode::kCorruption, "a stored device does not decode");
    if (s->user == name && !s->revoked) ++live;
  }
  CS_RETURN_IF_ERROR(cursor.status());
  if (live >= tuning::kMaxDevicesPerUser) {
    return Status::error(
        ErrorCode::kLimitExceeded,
        "user '" + name + "' already has " + std::to_string(live) +
            " devices, the most one user may have; ask the administrator to revoke one no longer used");
  }
  return Status::ok();
}

Status Directory::checkDevice(const Principal& principal, const sync::DeviceId& device) const {
  auto state = sync::readDecoded<DeviceState>(store_, Column::kDevices, deviceKey(device));
  if (!state) return state.status();
  return deviceAllowed(principal, device, *state);
}

Status Directory::recordDeviceContact(const Principal& principal, const sync::DeviceId& device, std::int64_t now_ms,
                                      const DeviceHello& hello) {
  auto lock = lockForChange();
  if (!lock) return lock.status();
  auto state = sync::readDecoded<DeviceState>(store_, Column::kDevices, deviceKey(device));
  if (!state) return state.status();
  CS_RETURN_IF_ERROR(deviceAllowed(principal, device, *state));
  DeviceState s;
  if (state->has_value()) {
    s = **state;
  } else {
    CS_RETURN_IF_ERROR(checkDeviceSlot(principal.user));
    s.user = principal.user;
    s.first_contact_ms = now_ms;
  }
  s.last_contact_ms = now_ms;
  s.client_version = hello.client_version.substr(0, tuning::kMaxClientVersionBytes);
  s.clock_offset_ms = hello.device_time_ms != 0 ? now_ms - hello.device_time_ms : 0;
  s.pending_age_ms = 0;  // until this session pushes
  storage::WriteBatch batch;
  batch.put(Column::kDevices, deviceKey(device), sync::encode(s));
  // Contact times are informational: a crash may lose the latest, never anything acknowledged.
  return store_.commit(batch, storage::Durability::kBuffered);
}

Status Directory::recordPendingAge(const sync::DeviceId& device, std::int64_t age_ms) {
  auto lock = lockForChange();
  if (!lock) return lock.status();
  auto state = sync::readDecoded<DeviceState>(store_, Column::kDevices, deviceKey(device));
  if (!state) return state.status();
  if (!state->has_value()) return Status::ok();
  DeviceState s = **state;
  s.pending_age_ms = std::max<std::int64_t>(age_ms, 0);
  storage::WriteBatch batch;
  batch.put(Column::kDevices, deviceKey(device), sync::encode(s));
  return store_.commit(batch, storage::Durability::kBuffered);
}

Result<std::vector<DeviceInfo>> Directory::listDevices() const {
  std::vector<DeviceInfo> out;
  auto cursor = store_.scanPrefix(Column::kDevices, "d");
  for (; cursor.valid(); cursor.next()) {
    const auto key = cursor.key();
    sync::DeviceId id;
    if (key.size() != 1 + id.bytes.size()) continue;  // not a device row
    std::copy(key.begin() + 1, key.end(), reinterpret_cast<char*>(id.bytes.data()));
    auto s = sync::decode<DeviceState>(cursor.value());
    if (!s) return Status::error(ErrorCode::kCorruption, "a stored device does not decode");
    out.push_back(DeviceInfo{id.hex(), s->user, s->first_contact_ms, s->last_contact_ms, s->client_version,
                             s->clock_offset_ms, s->pending_age_ms, s->revoked});
  }
  CS_RETURN_IF_ERROR(cursor.status());
  return out;
}

// ---- units ----

std::shared_ptr<const UnitTree> Directory::units() const {
  std::lock_guard lock(mutex_);
  return units_;
}

Result<ImportSummary> Directory::importUnits(const std::vector<Unit>& incoming, const Actor& actor) {
  auto lock = lockForChange();
  if (!lock) return lock.status();
  CS_RETURN_IF_ERROR(units_->checkImport(incoming));
  if (units_->all().size() + incoming.size() > tuning::kMaxUnits * 2) {
    return Status::error(ErrorCode::kLimitExceeded, "too many units");
  }
  ImportSummary summary;
  std::map<std::string, Unit> all;
  for (const auto& u : units_->all()) all[u.code] = u;
  storage::WriteBatch batch;
  for (Unit u : incoming) {
    auto it = all.find(u.code);
    if (it != all.end()) {
      u.merged_into = it->second.merged_into;  // a merge is not undone by re-importing the old list
      u.merged_on = it->second.merged_on;
      if (it->second == u) {
        ++summary.unchanged;
        continue;
      }
      ++summary.updated;
    } else {
      ++summary.added;
    }
    batch.put(Column::kUnits, u.code, sync::encode(u));
    all[u.code] = std::move(u);
  }
  if (summary.added + summary.updated == 0) return summary;
  auditInto(batch, actor, "units_import",
            "added " + std::to_string(summary.added) + ", updated " + std::to_string(summary.updated));
  CS_RETURN_IF_ERROR(store_.commit(batch, storage::Durability::kSynced));
  std::vector<Unit> units;
  units.reserve(all.size());
  for (auto& [code, u] : all) units.push_back(std::move(u));
  units_ = std::make_shared<UnitTree>(std::move(units));
  changed();
  return summary;
}

Status Directory::mergeUnits(const std::vector<std::string>& old_codes, const std::string& into, const std::string& on,
                             const Actor& actor) {
  auto lock = lockForChange();
  if (!lock) return lock.status();
  if (units_->find(into) == nullptr) return Status::error(ErrorCode::kNotFound, "no unit '" + into + "'");
  if (old_codes.empty()) return Status::error(ErrorCode::kInvalidArgument, "name the units to merge");
  std::vector<Unit> all = units_->all();
  storage::WriteBatch batch;
  for (const auto& code : old_codes) {
    if (code == into) return Status::error(ErrorCode::kInvalidArgument, "a unit cannot be merged into itself");
    if (units_->find(code) == nullptr) return Status::error(ErrorCode::kNotFound, "no unit '" + code + "'");
    if (units_->covers(code, into)) {
      return Status::error(ErrorCode::kInvalidArgument,
                           "'" + into + "' lies under '" + code + "'; merge the other way");
    }
    for (auto& u : all) {
      if (u.code != code) continue;
      if (!u.merged_into.empty() && u.merged_into != into) {
        return Status::error(ErrorCode::kInvalidArgument,
                             "'" + code + "' was already merged into '" + u.merged_into + "'");
      }
      u.merged_into = into;
      u.merged_on = on;
      batch.put(Column::kUnits, u.code, sync::encode(u));
    }
  }
  std::string olds;
  for (const auto& c : old_codes) olds += c + " ";
  auditInto(batch, actor, "units_merge", olds + "into " + into + " on " + on);
  CS_RETURN_IF_ERROR(store_.commit(batch, storage::Durability::kSynced));
  units_ = std::make_shared<UnitTree>(std::move(all));
  changed();
  return Status::ok();
}

Access Directory::accessOf(std::vector<Grant> grants) const {
  auto tree = units();
  return Access(std::move(grants), *tree);
}

// ---- audit ----

void Directory::auditInto(storage::WriteBatch& batch, const Actor& actor, std::string_view action, std::string detail) {
  AuditEntry e{++audit_seq_, nowMs(), actor.name, actor.from, std::string(action), std::move(detail)};
  batch.put(Column::kAudit, sync::seqStorageKey(e.seq), sync::encode(e));
}

void Directory::audit(const Actor& actor, std::string_view action, std::string detail) {
  auto lock = lockForChange();
  if (!lock) {
    logEvent(LogLevel::kError, "audit_failed", {{"action", std::string(action)}, {"error", lock.status().toString()}});
    return;
  }
  storage::WriteBatch batch;
  auditInto(batch, actor, action, std::move(detail));
  // Buffered: a flood of failed logins must not become a flood of fsyncs.
  (void)store_.commit(batch, storage::Durability::kBuffered);
}

Result<std::vector<AuditEntry>> Directory::auditLog(std::size_t limit) const {
  limit = std::min(limit, tuning::kMaxAuditList);
  std::uint64_t last = 0;
  {
    std::lock_guard lock(mutex_);
    last = audit_seq_;
  }
  const std::uint64_t first = last > limit ? last - limit + 1 : 1;
  std::vector<AuditEntry> out;
  auto cursor = store_.scan(Column::kAudit, sync::seqStorageKey(first), "");
  for (; cursor.valid(); cursor.next()) {
    auto e = sync::decode<AuditEntry>(cursor.value());
    if (!e) return Status::error(ErrorCode::kCorruption, "a stored audit entry does not decode");
    out.push_back(std::move(e).value());
  }
  CS_RETURN_IF_ERROR(cursor.status());
  return out;
}

// Entries are numbered in the order they were written, so the oldest are first: the sweep stops at
// the first one written on or after `before_ms`.
Result<std::size_t> Directory::sweepAudit(std::int64_t before_ms) {
  return sweepOldest(store_, Column::kAudit,
                     [&](std::string_view, std::string_view value, storage::WriteBatch&) -> Result<bool> {
                       auto e = sync::decode<AuditEntry>(value);
                       if (!e) return Status::error(ErrorCode::kCorruption, "a stored audit entry does not decode");
                       return e->time_ms < before_ms;
                     });
}

}  // namespace communesync::server
