#include "communesync/server/server_store.hpp"

#include <openssl/sha.h>
#include <sodium.h>

#include <map>

#include "communesync/server/tuning.hpp"
#include "communesync/storage/key_codec.hpp"
#include "communesync/sync/hybrid_clock.hpp"
#include "communesync/sync/merge.hpp"
#include "communesync/sync/stored.hpp"
#include "communesync/sync/text.hpp"
#include "communesync/sync/tuning.hpp"

namespace communesync::server {

// ---- stored forms (private to this file) ----

struct StoredRecord {
  sync::Record record;
  std::uint64_t seq = 0;  // the server sequence of the last change that altered it
};

struct DeviceState {
  std::string user;
  std::int64_t first_contact_ms = 0;
  std::int64_t last_contact_ms = 0;
  sync::Stamp last_clamped;  // StampClamp state
};

struct StoredUser {
  std::string name;
  std::vector<Scope> scopes;
  std::string token_digest;
};

template <class Archive>
void serialize(Archive& ar, StoredRecord& r, std::uint32_t) {
  ar(r.record, r.seq);
}
template <class Archive>
void serialize(Archive& ar, DeviceState& d, std::uint32_t) {
  ar(sync::codec_detail::Str{d.user}, d.first_contact_ms, d.last_contact_ms, d.last_clamped);
}
template <class Archive>
void save(Archive& ar, const StoredUser& u, std::uint32_t) {
  sync::codec_detail::saveString(ar, u.name);
  sync::codec_detail::saveVector(ar, u.scopes);
  sync::codec_detail::saveString(ar, u.token_digest);
}
template <class Archive>
void load(Archive& ar, StoredUser& u, std::uint32_t) {
  sync::codec_detail::loadString(ar, u.name);
  sync::codec_detail::loadVector(ar, u.scopes);
  sync::codec_detail::loadString(ar, u.token_digest);
}

}  // namespace communesync::server

CEREAL_CLASS_VERSION(communesync::server::StoredRecord, 1)
CEREAL_CLASS_VERSION(communesync::server::DeviceState, 1)
CEREAL_CLASS_VERSION(communesync::server::StoredUser, 1)

namespace communesync::server {
namespace {

using storage::Column;
using sync::proto::ChangeResult;
using sync::proto::Outcome;

constexpr std::string_view kLastSeqKey = "last_seq";
constexpr std::string_view kAdminTokenKey = "admin_token_sha256";

std::string scopeIndexKey(const Scope& scope, std::uint64_t seq) {
  std::string out;
  storage::appendPart(out, scope);
  storage::appendUint64(out, seq);
  return out;
}

std::string conflictScopeKey(const Scope& scope, std::uint64_t seq, const std::string& id) {
  std::string out = "s";
  storage::appendPart(out, scope);
  storage::appendUint64(out, seq);
  out += id;
  return out;
}

std::string idempotencyKey(const sync::ChangeId& id) {
  std::string out(id.device.raw());
  storage::appendUint64(out, id.seq);
  return out;
}

std::string deviceKey(const sync::DeviceId& d) {
  return "d" + std::string(d.raw());
}
std::string userKey(std::string_view name) {
  return "u" + std::string(name);
}
std::string tokenKey(std::string_view digest) {
  return "t" + std::string(digest);
}

ChangeResult rejected(const sync::ChangeId& id, ErrorCode code, std::string reason) {
  ChangeResult r;
  r.id = id;
  r.outcome = Outcome::kRejected;
  r.code = static_cast<std::uint16_t>(code);
  r.reason = std::move(reason);
  return r;
}

Status checkScopeName(const std::string& scope) {
  if (scope.empty() || scope.size() > sync::tuning::kMaxNameBytes || !sync::isCleanUtf8(scope)) {
    return Status::error(ErrorCode::kInvalidArgument, "scope '" + scope + "' is not a valid unit code");
  }
  return Status::ok();
}

// The state of one group commit: what this group has written so far, read before the store.
class GroupOverlay {
 public:
  explicit GroupOverlay(const storage::Store& store) : store_(store) {}

  Result<std::optional<StoredRecord>> record(const std::string& key) {
    if (auto it = records_.find(key); it != records_.end()) return std::optional<StoredRecord>(it->second);
    return sync::readDecoded<StoredRecord>(store_, Column::kRecords, key);
  }
  void putRecord(const std::string& key, StoredRecord r) { records_[key] = std::move(r); }

  Result<std::optional<ChangeResult>> result(const std::string& key) {
    if (auto it = results_.find(key); it != results_.end()) return std::optional<ChangeResult>(it->second);
    return sync::readDecoded<ChangeResult>(store_, Column::kIdempotency, key);
  }
  void putResult(const std::string& key, const ChangeResult& r) { results_[key] = r; }

  Result<bool> conflictKnown(const std::string& id) {
    if (conflicts_.count(id) != 0) return true;
    auto raw = store_.get(Column::kConflicts, "i" + id);
    if (!raw) return raw.status();
    return raw->has_value();
  }
  void addConflict(const std::string& id) { conflicts_.insert(id); }

  Result<sync::StampClamp*> clampFor(const sync::DeviceId& device) {
    if (auto it = clamps_.find(device); it != clamps_.end()) return &it->second;
    auto state = sync::readDecoded<DeviceState>(store_, Column::kDevices, deviceKey(device));
    if (!state) return state.status();
    auto& clamp = clamps_[device];
    if (state->has_value()) clamp = sync::StampClamp((*state)->last_clamped);
    return &clamp;
  }
  const std::map<sync::DeviceId, sync::StampClamp>& clamps() const { return clamps_; }

 private:
  const storage::Store& store_;
  std::map<std::string, StoredRecord> records_;
  std::map<std::string, ChangeResult> results_;
  std::set<std::string> conflicts_;
  std::map<sync::DeviceId, sync::StampClamp> clamps_;
};

// Clamps every stamp of `change` that runs ahead of the ceiling; true if any was clamped.
bool clampChange(sync::Change& change, sync::StampClamp& clamp, std::int64_t ceiling_ms) {
  bool any = false;
  auto one = [&](sync::Stamp& s) {
    bool clamped = false;
    s = clamp.clamp(s, ceiling_ms, &clamped);
    any |= clamped;
  };
  for (auto& a : change.assignments) one(a.stamp);
  if (change.deletion) one(change.deletion->stamp);
  return any;
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

Result<std::unique_ptr<ServerStore>> ServerStore::open(storage::Store& store) {
  if (sodium_init() < 0) return Status::error(ErrorCode::kInternal, "libsodium failed to initialise");
  std::unique_ptr<ServerStore> out(new ServerStore(store));
  auto raw = store.get(Column::kMeta, kLastSeqKey);
  if (!raw) return raw.status();
  if (raw->has_value()) {
    auto seq = storage::readUint64(**raw);
    if (!seq) return Status::error(ErrorCode::kCorruption, "the stored last sequence number is malformed");
    out->last_seq_.store(*seq);
  }
  return out;
}

// ---- users ----

Result<std::optional<std::string>> ServerStore::ensureAdminToken() {
  auto existing = store_.get(Column::kMeta, kAdminTokenKey);
  if (!existing) return existing.status();
  if (existing->has_value()) return std::optional<std::string>();
  std::string token = newToken();
  storage::WriteBatch batch;
  batch.put(Column::kMeta, kAdminTokenKey, tokenDigest(token));
  CS_RETURN_IF_ERROR(store_.commit(batch, storage::Durability::kSynced));
  return std::optional<std::string>(token);
}

bool ServerStore::isAdminToken(std::string_view token) const {
  if (token.empty()) return false;
  auto stored = store_.get(Column::kMeta, kAdminTokenKey);
  if (!stored || !stored->has_value()) return false;
  const auto digest = tokenDigest(token);
  return digest.size() == (*stored)->size() && sodium_memcmp(digest.data(), (*stored)->data(), digest.size()) == 0;
}

Result<std::string> ServerStore::createUser(const std::string& name, const std::vector<Scope>& scopes) {
  if (name.empty() || name.size() > sync::tuning::kMaxNameBytes || !sync::isCleanUtf8(name)) {
    return Status::error(ErrorCode::kInvalidArgument, "user name must be 1-128 bytes of UTF-8");
  }
  if (scopes.empty()) return Status::error(ErrorCode::kInvalidArgument, "a user needs at least one scope");
  if (scopes.size() > tuning::kMaxScopesPerUser) {
    return Status::error(ErrorCode::kLimitExceeded, "too many scopes for one user");
  }
  for (const auto& s : scopes) CS_RETURN_IF_ERROR(checkScopeName(s));
  auto existing = store_.get(Column::kDevices, userKey(name));
  if (!existing) return existing.status();
  if (existing->has_value()) return Status::error(ErrorCode::kInvalidArgument, "user '" + name + "' already exists");

  std::string token = newToken();
  StoredUser user{name, scopes, tokenDigest(token)};
  storage::WriteBatch batch;
  batch.put(Column::kDevices, userKey(name), sync::encode(user));
  batch.put(Column::kDevices, tokenKey(user.token_digest), name);
  CS_RETURN_IF_ERROR(store_.commit(batch, storage::Durability::kSynced));
  return token;
}

Result<std::optional<User>> ServerStore::userForToken(std::string_view token) const {
  if (token.empty()) return std::optional<User>();
  auto name = store_.get(Column::kDevices, tokenKey(tokenDigest(token)));
  if (!name) return name.status();
  if (!name->has_value()) return std::optional<User>();
  auto user = sync::readDecoded<StoredUser>(store_, Column::kDevices, userKey(**name));
  if (!user) return user.status();
  if (!user->has_value()) return std::optional<User>();
  return std::optional<User>(User{(*user)->name, (*user)->scopes});
}

Status ServerStore::recordDeviceContact(const sync::DeviceId& device, const std::string& user, std::int64_t now_ms) {
  auto state = sync::readDecoded<DeviceState>(store_, Column::kDevices, deviceKey(device));
  if (!state) return state.status();
  DeviceState s;
  if (state->has_value()) {
    s = **state;
    if (s.user != user) {
      return Status::error(ErrorCode::kForbidden,
                           "this device is registered to another user; reinstall to log in as '" + user + "'");
    }
  } else {
    s.user = user;
    s.first_contact_ms = now_ms;
  }
  s.last_contact_ms = now_ms;
  storage::WriteBatch batch;
  batch.put(Column::kDevices, deviceKey(device), sync::encode(s));
  // Contact times are informational: a crash may lose the latest, never anything acknowledged.
  return store_.commit(batch, storage::Durability::kBuffered);
}

// ---- push ----

Status ServerStore::apply(std::vector<PushJob*>& jobs, std::int64_t now_ms, std::set<Scope, std::less<>>& touched) {
  GroupOverlay overlay(store_);
  storage::WriteBatch batch;
  std::uint64_t seq = lastSeq();
  const std::int64_t ceiling = now_ms + std::chrono::milliseconds(sync::tuning::kMaxStampAhead).count();
  std::set<Scope, std::less<>> group_touched;

  for (PushJob* job : jobs) {
    job->results.clear();
    job->results.reserve(job->changes.size());
    for (sync::Change& change : job->changes) {
      const auto idem_key = idempotencyKey(change.id);
      // Every result, accepted or rejected, is kept: a replay gets it again.
      auto keepResult = [&](ChangeResult result) {
        batch.put(Column::kIdempotency, idem_key, sync::encode(result));
        overlay.putResult(idem_key, result);
        job->results.push_back(std::move(result));
      };
      auto previous = overlay.result(idem_key);
      if (!previous) return previous.status();
      if (previous->has_value()) {  // a replay: its first result, nothing applied again
        job->results.push_back(**previous);
        continue;
      }
      ChangeResult result;
      result.id = change.id;
      if (job->writable.count(change.scope) == 0) {
        result = rejected(change.id, ErrorCode::kForbidden, "you may not write in unit '" + change.scope + "'");
      } else {
        const auto key = sync::recordStorageKey(change.key);
        auto current = overlay.record(key);
        if (!current) return current.status();
        if (current->has_value() && (*current)->record.scope != change.scope) {
          result = rejected(change.id, ErrorCode::kInvalidArgument,
                            "record " + change.key.collection + "/" + change.key.id +
                                " already exists in another unit; a record cannot move between units");
        } else {
          auto clamp = overlay.clampFor(change.id.device);
          if (!clamp) return clamp.status();
          result.clamped = clampChange(change, **clamp, ceiling);

          std::optional<sync::Record> before;
          std::uint64_t old_seq = 0;
          if (current->has_value()) {
            before = std::move((*current)->record);
            old_seq = (*current)->seq;
          }
          auto merged = sync::merge(before, change, now_ms);
          StoredRecord stored{std::move(merged.record), seq + 1};
          std::string encoded = sync::encode(stored);
          if (encoded.size() > sync::tuning::kMaxRecordBytes) {
            result = rejected(change.id, ErrorCode::kLimitExceeded,
                              "record " + change.key.collection + "/" + change.key.id + " would grow to " +
                                  std::to_string(encoded.size()) + " bytes; the limit is " +
                                  std::to_string(sync::tuning::kMaxRecordBytes));
            keepResult(std::move(result));
            continue;
          }
          ++seq;
          result.outcome = Outcome::kAccepted;
          result.server_seq = seq;
          batch.put(Column::kLog, sync::seqStorageKey(seq), sync::encode(change));
          // Every accepted change moves its record to the head of the scope index, even one whose
          // writes all lost: the pushing device then pulls the record and drops its local overlay.
          if (old_seq != 0) batch.erase(Column::kScopeIndex, scopeIndexKey(change.scope, old_seq));
          batch.put(Column::kScopeIndex, scopeIndexKey(change.scope, seq), key);
          batch.put(Column::kRecords, key, encoded);
          overlay.putRecord(key, std::move(stored));
          group_touched.insert(change.scope);
          for (auto& conflict : merged.conflicts) {
            const auto id = conflict.id();
            auto known = overlay.conflictKnown(id);
            if (!known) return known.status();
            if (*known) continue;
            std::string where;
            storage::appendPart(where, change.scope);
            storage::appendUint64(where, seq);
            batch.put(Column::kConflicts, conflictScopeKey(change.scope, seq, id), sync::encode(conflict));
            batch.put(Column::kConflicts, "i" + id, where);
            overlay.addConflict(id);
          }
        }
      }
      keepResult(std::move(result));
    }
  }

  for (const auto& [device, clamp] : overlay.clamps()) {
    if (clamp.last().isZero()) continue;
    auto state = sync::readDecoded<DeviceState>(store_, Column::kDevices, deviceKey(device));
    if (!state) return state.status();
    DeviceState s = state->value_or(DeviceState{});
    s.last_clamped = clamp.last();
    batch.put(Column::kDevices, deviceKey(device), sync::encode(s));
  }
  if (seq == lastSeq() && batch.empty()) return Status::ok();
  batch.put(Column::kMeta, kLastSeqKey, sync::seqStorageKey(seq));
  // THE durability boundary of the server: nothing of this group is acknowledged before this returns.
  auto status = store_.commit(batch, storage::Durability::kSynced);
  if (!status) {
    for (PushJob* job : jobs) job->results.clear();
    return status;
  }
  last_seq_.store(seq, std::memory_order_release);
  touched.insert(group_touched.begin(), group_touched.end());
  return Status::ok();
}

Result<std::optional<ChangeResult>> ServerStore::previousResult(const sync::ChangeId& id) const {
  return sync::readDecoded<ChangeResult>(store_, Column::kIdempotency, idempotencyKey(id));
}

// ---- pull ----

Result<sync::proto::PullBatch> ServerStore::pull(const std::vector<Scope>& scopes,
                                                 const sync::proto::Checkpoints& checkpoints,
                                                 std::uint64_t max_bytes) const {
  auto snapshot = store_.snapshot();
  auto last_raw = store_.get(Column::kMeta, kLastSeqKey, &snapshot);
  if (!last_raw) return last_raw.status();
  const std::uint64_t last = last_raw->has_value() ? storage::readUint64(**last_raw).value_or(0) : 0;

  sync::proto::PullBatch batch;
  std::uint64_t bytes = 0;
  bool full = false;
  for (const auto& scope : scopes) {
    auto cp_it = checkpoints.find(scope);
    const std::uint64_t from = cp_it == checkpoints.end() ? 0 : cp_it->second;
    if (full) {
      batch.checkpoints[scope] = from;
      batch.more = true;
      continue;
    }
    if (from >= last) {
      batch.checkpoints[scope] = std::max(from, last);
      continue;
    }
    std::uint64_t reached = last;
    auto cursor =
        store_.scan(Column::kScopeIndex, scopeIndexKey(scope, from + 1), scopeIndexKey(scope, last + 1), &snapshot);
    for (; cursor.valid(); cursor.next()) {
      if (bytes >= max_bytes) {
        full = true;
        batch.more = true;
        break;
      }
      const auto seq = storage::readUint64(cursor.key(), cursor.key().size() - 8).value_or(0);
      auto stored = sync::readDecoded<StoredRecord>(store_, Column::kRecords, cursor.value(), &snapshot);
      if (!stored) return stored.status();
      if (!stored->has_value()) {
        return Status::error(ErrorCode::kCorruption, "the scope index points at a missing record");
      }
      bytes += sync::encode((*stored)->record).size();
      batch.records.push_back(std::move((*stored)->record));
      reached = seq;
    }
    CS_RETURN_IF_ERROR(cursor.status());
    if (!full) reached = last;
    batch.checkpoints[scope] = reached;

    std::string lower = "s";
    storage::appendPart(lower, scope);
    std::string upper = lower;
    storage::appendUint64(lower, from + 1);
    storage::appendUint64(upper, reached + 1);
    for (auto c = store_.scan(Column::kConflicts, lower, upper, &snapshot); c.valid(); c.next()) {
      auto conflict = sync::decode<sync::Conflict>(c.value());
      if (!conflict) return Status::error(ErrorCode::kCorruption, "a stored conflict does not decode");
      batch.conflicts.push_back(std::move(conflict).value());
    }
  }
  return batch;
}

Result<std::vector<sync::Change>> ServerStore::logForTesting() const {
  std::vector<sync::Change> out;
  auto cursor = store_.scan(Column::kLog, "", "");
  for (; cursor.valid(); cursor.next()) {
    auto change = sync::decode<sync::Change>(cursor.value());
    if (!change) return change.status();
    out.push_back(std::move(change).value());
  }
  CS_RETURN_IF_ERROR(cursor.status());
  return out;
}

Result<std::vector<sync::Record>> ServerStore::recordsForTesting() const {
  std::vector<sync::Record> out;
  auto cursor = store_.scan(Column::kRecords, "", "");
  for (; cursor.valid(); cursor.next()) {
    auto stored = sync::decode<StoredRecord>(cursor.value());
    if (!stored) return stored.status();
    out.push_back(std::move(stored->record));
  }
  CS_RETURN_IF_ERROR(cursor.status());
  return out;
}

Result<std::vector<sync::Conflict>> ServerStore::conflictsForTesting() const {
  std::vector<sync::Conflict> out;
  auto cursor = store_.scanPrefix(Column::kConflicts, "s");
  for (; cursor.valid(); cursor.next()) {
    auto conflict = sync::decode<sync::Conflict>(cursor.value());
    if (!conflict) return conflict.status();
    out.push_back(std::move(conflict).value());
  }
  CS_RETURN_IF_ERROR(cursor.status());
  return out;
}

}  // namespace communesync::server
