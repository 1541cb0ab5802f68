#include "communesync/client/local_store.hpp"

#include <sodium.h>

#include <algorithm>
#include <functional>
#include <set>

#include "communesync/storage/key_codec.hpp"
#include "communesync/sync/codec.hpp"
#include "communesync/sync/file_ref.hpp"
#include "communesync/sync/merge.hpp"
#include "communesync/sync/restore.hpp"
#include "communesync/sync/stored.hpp"
#include "communesync/sync/text.hpp"
#include "communesync/sync/tuning.hpp"

namespace communesync::client {

// ---- stored forms (private to this file) ----

//! What the user sees of a record: the server's state with the pending local changes on top.
struct LocalRecord {
  Record view;
  std::vector<std::uint64_t> pending;  // outbox sequence numbers touching this record, in order
  bool pending_delete = false;         // the last pending change deletes the record
};

// A record and an outbox entry are written on every put and read on every acknowledgement: the
// compact codec (sync/compact.hpp).
void writeCompact(sync::CompactWriter& w, const LocalRecord& r) {
  writeCompact(w, r.view);
  w.varint(r.pending.size());
  for (auto seq : r.pending) w.varint(seq);
  w.flag(r.pending_delete);
}
void readCompact(sync::CompactReader& r, LocalRecord& local) {
  readCompact(r, local.view);
  local.pending.clear();
  const auto n = r.count(1);
  for (std::size_t i = 0; i < n; ++i) local.pending.push_back(r.varint());
  local.pending_delete = r.flag();
}

void writeCompact(sync::CompactWriter& w, const PendingChange& p) {
  writeCompact(w, p.change);
  w.flag(p.restore);
}
void readCompact(sync::CompactReader& r, PendingChange& p) {
  readCompact(r, p.change);
  p.restore = r.flag();
}

template <class Archive>
void serialize(Archive& ar, RejectedChange& r, std::uint32_t) {
  ar(r.change, r.code, sync::codec_detail::Str{r.reason}, r.rejected_ms);
}

}  // namespace communesync::client

CEREAL_CLASS_VERSION(communesync::client::RejectedChange, 1)

namespace communesync::client {
namespace {

using storage::Column;
using storage::Durability;

constexpr std::string_view kDeviceKey = "device_id";
constexpr std::string_view kSeqKey = "last_seq";
constexpr std::string_view kClockKey = "hlc";
constexpr std::string_view kOffsetKey = "clock_offset_ms";
constexpr std::string_view kIncarnationKey = "server_incarnation";
constexpr std::string_view kLastSyncKey = "last_sync_ms";
// No other meta key may start with the resync markers' 'r': this one did ("readable_scopes"), and
// every pull's end took it for a resync ending (one scan of every record, and the key erased, so
// each hello scanned them again to purge). A store holding the old key drops it at the next hello.
constexpr std::string_view kReadableKey = "scopes_readable";
constexpr std::string_view kOldReadableKey = "readable_scopes";
// meta: 'r' scope -> "": the unit is being pulled afresh (a resync); ends with the pull.
constexpr char kResyncPrefix = 'r';
// The collection the server publishes forms in (server/form_catalog.hpp); every device reads it.
constexpr std::string_view kFormsCollection = "_forms";

std::string checkpointKey(const Scope& scope) {
  return "c" + scope;
}

std::string int64Bytes(std::int64_t v) {
  return sync::seqStorageKey(static_cast<std::uint64_t>(v));
}

// Puts a pending local change on top of a view: the local value shows whatever its stamp
// (pulled data never hides a pending local edit).
void overlay(Record& view, const sync::Change& change) {
  if (view.key.id.empty()) {
    view.key = change.key;
    view.scope = change.scope;
  }
  view.form_version = std::max(view.form_version, change.form_version);
  view.capture_time_ms = std::max(view.capture_time_ms, change.capture_time_ms);
  if (change.deletion) {
    if (change.deletion->stamp > view.tombstone.stamp) view.tombstone = {change.deletion->stamp, change.deletion->seen};
    return;
  }
  for (const auto& a : change.assignments) {
    view.fields.insert_or_assign(a.field, sync::FieldState{a.value, a.stamp, a.seen, change.seen_tombstone});
  }
}

// The view from the server's state and the pending changes still in the outbox.
Status rebuildView(const storage::Store& store, LocalRecord& local, const Record& base) {
  local.view = base;
  local.pending_delete = false;
  for (auto seq : local.pending) {
    auto p = sync::readDecoded<PendingChange>(store, Column::kOutbox, sync::seqStorageKey(seq));
    if (!p) return p.status();
    if (!p->has_value()) continue;
    overlay(local.view, (*p)->change);
    local.pending_delete = (*p)->change.deletion.has_value();
  }
  return Status::ok();
}

// What the device holds of `keys` (empty keys skipped), by key; a record it has none of is empty.
Result<std::map<std::string, LocalRecord>> readRecords(const storage::Store& store, std::vector<std::string> keys) {
  std::erase(keys, std::string());
  std::sort(keys.begin(), keys.end());
  keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
  auto raw = store.multiGet(Column::kRecords, keys);
  if (!raw) return raw.status();
  std::map<std::string, LocalRecord> out;
  for (std::size_t k = 0; k < keys.size(); ++k) {
    auto local = sync::decodeStored<LocalRecord>(Column::kRecords, (*raw)[k]);
    if (!local) return local.status();
    out.emplace(std::move(keys[k]), std::move(*local).value_or(LocalRecord{}));
  }
  return out;
}

// The server's copies the device holds of `keys`, by key (nullopt: none).
Result<std::map<std::string, std::optional<Record>>> readBases(const storage::Store& store,
                                                               const std::vector<std::string>& keys) {
  std::map<std::string, std::optional<Record>> out;
  if (keys.empty()) return out;
  auto raw = store.multiGet(Column::kBase, keys);
  if (!raw) return raw.status();
  for (std::size_t k = 0; k < keys.size(); ++k) {
    auto base = sync::decodeStored<Record>(Column::kBase, (*raw)[k]);
    if (!base) return base.status();
    out.insert_or_assign(keys[k], std::move(base).value());
  }
  return out;
}

// Moves a unit's checkpoint past the device's own exact records when nothing else came between
// (each got the sequence right after the checkpoint): the device holds every record of the unit up
// to its checkpoint, and it holds these. Not while the unit is pulled afresh, nor for a unit the
// device may not read (the server ignores its checkpoint, and the device keeps none of its records).
class CheckpointAdvance {
 public:
  explicit CheckpointAdvance(const storage::Store& store) : store_(store) {}

  //! An exact result of this unit got `seq`.
  Status passed(const Scope& scope, std::uint64_t seq) {
    auto it = at_.find(scope);
    if (it == at_.end()) {
      auto start = startOf(scope);
      if (!start) return start.status();
      it = at_.emplace(scope, *start).first;
    }
    if (it->second && seq == *it->second + 1) {
      it->second = seq;
      moved_.insert(scope);
    }
    return Status::ok();
  }

  void writeTo(storage::WriteBatch& batch) const {
    for (const auto& scope : moved_)
      batch.put(Column::kDevices, checkpointKey(scope), sync::seqStorageKey(*at_.at(scope)));
  }

 private:
  // The unit's checkpoint (0 if none yet), or nullopt if it may not move.
  Result<std::optional<std::uint64_t>> startOf(const Scope& scope) {
    if (!readable_) {
      auto raw = store_.get(Column::kMeta, kReadableKey);
      if (!raw) return raw.status();
      readable_.emplace();
      const std::string parts = raw->value_or(std::string());
      std::size_t pos = 0;
      while (auto part = storage::readPart(parts, pos)) readable_->emplace(*part);
    }
    if (readable_->count(scope) == 0) return std::optional<std::uint64_t>();
    auto resync = store_.get(Column::kMeta, std::string(1, kResyncPrefix) + scope);
    if (!resync) return resync.status();
    if (resync->has_value()) return std::optional<std::uint64_t>();
    auto checkpoint = store_.get(Column::kDevices, checkpointKey(scope));
    if (!checkpoint) return checkpoint.status();
    const std::uint64_t at = checkpoint->has_value() ? storage::readUint64(**checkpoint).value_or(0) : 0;
    return std::optional<std::uint64_t>(at);
  }

  const storage::Store& store_;
  std::optional<std::set<Scope, std::less<>>> readable_;
  std::map<Scope, std::optional<std::uint64_t>> at_;
  std::set<Scope> moved_;
};

bool isLive(const LocalRecord& r) {
  return !r.pending_delete && !r.view.deleted() && !r.view.fields.empty();
}

Result<Value> normalized(const Value& v) {
  return sync::normalizeValue(v);
}

}  // namespace

std::string newRecordId(std::chrono::milliseconds now) {
  unsigned char bytes[16];
  const auto ms = static_cast<std::uint64_t>(now.count());
  for (int i = 0; i < 6; ++i) bytes[i] = static_cast<unsigned char>(ms >> (8 * (5 - i)));
  randombytes_buf(bytes + 6, 10);
  return sync::toHex(std::string_view(reinterpret_cast<const char*>(bytes), sizeof bytes));
}

Result<std::unique_ptr<LocalStore>> LocalStore::open(const std::filesystem::path& path,
                                                     std::optional<sync::DeviceId> new_device) {
  if (sodium_init() < 0) return Status::error(ErrorCode::kInternal, "libsodium failed to initialise");
  auto store = storage::Store::open(path, storage::StoreOptions::forDevice());
  if (!store) return store.status();
  std::unique_ptr<LocalStore> out(new LocalStore(std::move(store).value()));
  CS_RETURN_IF_ERROR(out->load(new_device));
  return out;
}

Status LocalStore::load(std::optional<sync::DeviceId> new_device) {
  auto device = store_->get(Column::kMeta, kDeviceKey);
  if (!device) return device.status();
  if (device->has_value() && (*device)->size() == 16) {
    std::copy((*device)->begin(), (*device)->end(), reinterpret_cast<char*>(device_.bytes.data()));
  } else {
    if (new_device) {
      device_ = *new_device;
    } else {
      randombytes_buf(device_.bytes.data(), device_.bytes.size());
    }
    storage::WriteBatch batch;
    batch.put(Column::kMeta, kDeviceKey, device_.raw());
    CS_RETURN_IF_ERROR(store_->commit(batch, Durability::kSynced));
  }
  auto seq = store_->get(Column::kMeta, kSeqKey);
  if (!seq) return seq.status();
  if (seq->has_value()) last_seq_ = storage::readUint64(**seq).value_or(0);
  auto stamp = sync::readDecoded<sync::Stamp>(*store_, Column::kMeta, kClockKey);
  if (!stamp) return stamp.status();
  clock_ = std::make_unique<sync::HybridClock>(device_, stamp->value_or(sync::Stamp{}));
  auto offset = store_->get(Column::kMeta, kOffsetKey);
  if (!offset) return offset.status();
  if (offset->has_value()) {
    clock_->setOffset(std::chrono::milliseconds(static_cast<std::int64_t>(storage::readUint64(**offset).value_or(0))));
  }
  return Status::ok();
}

Result<std::string> LocalStore::put(const std::string& collection, const std::string& id, const Scope& scope,
                                    const std::map<std::string, Value>& fields, std::chrono::milliseconds now) {
  if (fields.empty()) return Status::error(ErrorCode::kInvalidArgument, "give at least one FIELD=VALUE");
  std::lock_guard lock(mutex_);
  RecordKey key{collection, id.empty() ? newRecordId(now) : id};
  const auto rkey = sync::recordStorageKey(key);
  auto existing = sync::readDecoded<LocalRecord>(*store_, Column::kRecords, rkey);
  if (!existing) return existing.status();
  LocalRecord local = existing->value_or(LocalRecord{});
  Scope record_scope = scope;
  if (existing->has_value() && !local.view.scope.empty()) {
    if (!scope.empty() && scope != local.view.scope) {
      return Status::error(ErrorCode::kInvalidArgument, "record " + collection + "/" + key.id + " belongs to unit '" +
                                                            local.view.scope + "', not '" + scope + "'");
    }
    record_scope = local.view.scope;
  }
  if (record_scope.empty()) return Status::error(ErrorCode::kInvalidArgument, "a new record needs a unit (--scope)");

  sync::Change change;
  change.id = {device_, last_seq_ + 1};
  change.key = key;
  change.scope = record_scope;
  change.capture_time_ms = clock_->correctedMs(now);
  change.seen_tombstone = local.view.tombstone.stamp;
  sync::HybridClock clock = *clock_;  // committed only if the write commits
  const sync::Stamp stamp = clock.tick(now);
  for (const auto& [name, value] : fields) {
    auto v = normalized(value);
    if (!v) return Status::error(v.status().code(), "field '" + name + "': " + v.status().message());
    change.assignments.push_back({name, std::move(v).value(), stamp, local.view.fieldStamp(name)});
  }
  auto valid = sync::validateChange(std::move(change));
  if (!valid) return valid.status();
  change = std::move(valid).value();
  // Field names were normalised by validation: the seen stamps must be of the normalised names.
  for (auto& a : change.assignments) a.seen = local.view.fieldStamp(a.field);
  CS_RETURN_IF_ERROR(fitForm(local.view, change, stamp));
  const auto encoded = sync::encode(PendingChange{change, false});
  if (encoded.size() > sync::tuning::kMaxChangeBytes) {
    return Status::error(ErrorCode::kLimitExceeded, "this change is " + std::to_string(encoded.size()) +
                                                        " bytes; the limit is " +
                                                        std::to_string(sync::tuning::kMaxChangeBytes));
  }

  overlay(local.view, change);
  local.pending.push_back(change.id.seq);
  local.pending_delete = false;

  storage::WriteBatch batch;
  batch.put(Column::kOutbox, sync::seqStorageKey(change.id.seq), encoded);
  batch.put(Column::kRecords, rkey, sync::encode(local));
  batch.put(Column::kMeta, kSeqKey, sync::seqStorageKey(change.id.seq));
  batch.put(Column::kMeta, kClockKey, sync::encode(clock.last()));
  CS_RETURN_IF_ERROR(store_->commit(batch, Durability::kSynced));
  last_seq_ = change.id.seq;
  *clock_ = clock;
  return key.id;
}

Status LocalStore::fitForm(const Record& view, sync::Change& change, const sync::Stamp& stamp) const {
  auto index = formIndex();
  if (!index) return index.status();
  auto versions = (*index)->find(change.key.collection);
  if (versions == (*index)->end() || versions->second.empty()) return Status::ok();  // free-form
  const auto& latest = versions->second.rbegin()->second;
  std::shared_ptr<const sync::Form> form = latest;
  const bool pinned_old = view.form_version != 0 && view.form_version < latest->version;
  const bool maps = !latest->upgrade.renamed.empty() || !latest->upgrade.defaults.empty();
  if (pinned_old && !maps) {
    // Old versions keep validating their records.
    auto it = versions->second.find(view.form_version);
    if (it != versions->second.end()) form = it->second;
  }
  Record after = view;
  overlay(after, change);
  if (pinned_old && maps) {
    // Carried onto the new version: renamed fields under their new names, new fields' defaults.
    std::map<std::string, Value> values;
    for (const auto& [name, state] : after.fields) values.emplace(name, state.value);
    for (auto& entry : sync::upgradeFields(*latest, values)) {  // clang 14 cannot capture a binding
      const std::string& name = entry.first;
      const bool given = std::any_of(change.assignments.begin(), change.assignments.end(),
                                     [&](const sync::FieldAssignment& a) { return a.field == name; });
      if (!given) change.assignments.push_back({name, std::move(entry.second), stamp, view.fieldStamp(name)});
    }
    after = view;
    overlay(after, change);
  }
  change.form_version = form->version;
  std::map<std::string, Value> values;
  for (const auto& [name, state] : after.fields) values.emplace(name, state.value);
  auto errors = sync::validate(*form, values);
  if (!errors.empty()) {
    return Status::error(ErrorCode::kInvalidArgument,
                         "form " + form->name + " v" + std::to_string(form->version) + ": " + sync::errorsText(errors));
  }
  return Status::ok();
}

Result<std::shared_ptr<const LocalStore::FormVersions>> LocalStore::formIndex() const {
  std::lock_guard lock(forms_mutex_);
  if (forms_) return forms_;
  auto index = std::make_shared<FormVersions>();
  std::string prefix;
  storage::appendPart(prefix, kFormsCollection);
  for (auto c = store_->scanPrefix(Column::kRecords, prefix); c.valid(); c.next()) {
    auto local = sync::decode<LocalRecord>(c.value());
    if (!local) return Status::error(ErrorCode::kCorruption, "local store: " + local.status().message());
    auto it = local->view.fields.find("definition");
    const auto* text = it == local->view.fields.end() ? nullptr : it->second.value.get<std::string>();
    if (text == nullptr) continue;
    auto form = sync::parseForm(*text);
    if (!form) continue;  // a form this version of the app cannot read: its collection stays free-form here
    const auto version = form->version;
    auto name = form->name;
    (*index)[name][version] = std::make_shared<const sync::Form>(std::move(form).value());
  }
  forms_ = index;
  return forms_;
}

Result<std::vector<std::shared_ptr<const sync::Form>>> LocalStore::forms() const {
  auto index = formIndex();
  if (!index) return index.status();
  std::vector<std::shared_ptr<const sync::Form>> out;
  for (const auto& [name, versions] : **index) {
    for (const auto& [version, form] : versions) out.push_back(form);
  }
  return out;
}

Result<std::vector<Record>> LocalStore::search(const std::string& collection, const std::string& text) const {
  auto records = list(collection);
  if (!records) return records.status();
  const auto needle = sync::foldForSearch(text);
  std::vector<Record> out;
  std::function<bool(const Value&)> matches = [&](const Value& v) -> bool {
    if (const auto* s = v.get<std::string>()) return sync::foldForSearch(*s).find(needle) != std::string::npos;
    if (const auto* list = v.get<Value::List>()) return std::any_of(list->begin(), list->end(), matches);
    if (const auto* map = v.get<Value::Map>()) {
      return std::any_of(map->begin(), map->end(), [&](const auto& e) { return matches(e.second); });
    }
    return false;
  };
  for (auto& r : *records) {
    if (std::any_of(r.fields.begin(), r.fields.end(), [&](const auto& f) { return matches(f.second.value); })) {
      out.push_back(std::move(r));
    }
  }
  return out;
}

Status LocalStore::remove(const RecordKey& key, std::chrono::milliseconds now) {
  std::lock_guard lock(mutex_);
  const auto rkey = sync::recordStorageKey(key);
  auto existing = sync::readDecoded<LocalRecord>(*store_, Column::kRecords, rkey);
  if (!existing) return existing.status();
  if (!existing->has_value() || !isLive(**existing)) {
    return Status::error(ErrorCode::kNotFound, "no record " + key.collection + "/" + key.id);
  }
  LocalRecord local = **existing;
  sync::Change change;
  change.id = {device_, last_seq_ + 1};
  change.key = key;
  change.scope = local.view.scope;
  change.capture_time_ms = clock_->correctedMs(now);
  change.seen_tombstone = local.view.tombstone.stamp;
  sync::HybridClock clock = *clock_;
  sync::Deletion deletion{clock.tick(now), {}};
  for (const auto& [name, state] : local.view.fields) deletion.seen[name] = state.stamp;
  change.deletion = std::move(deletion);

  overlay(local.view, change);
  local.pending.push_back(change.id.seq);
  local.pending_delete = true;
  storage::WriteBatch batch;
  batch.put(Column::kOutbox, sync::seqStorageKey(change.id.seq), sync::encode(PendingChange{change, false}));
  batch.put(Column::kRecords, rkey, sync::encode(local));
  batch.put(Column::kMeta, kSeqKey, sync::seqStorageKey(change.id.seq));
  batch.put(Column::kMeta, kClockKey, sync::encode(clock.last()));
  CS_RETURN_IF_ERROR(store_->commit(batch, Durability::kSynced));
  last_seq_ = change.id.seq;
  *clock_ = clock;
  return Status::ok();
}

Result<std::string> LocalStore::attach(const RecordKey& key, const std::string& field,
                                       const std::filesystem::path& path, std::chrono::milliseconds now) {
  auto existing = get(key);
  if (!existing) return existing.status();
  if (!existing->has_value()) {
    return Status::error(ErrorCode::kNotFound,
                         "no record " + key.collection + "/" + key.id + ": create it first, then attach");
  }
  auto hash = files_->add(path, files_->maxFileBytes());
  if (!hash) return hash.status();
  auto put_id = put(key.collection, key.id, "", {{field, Value(*hash)}}, now);
  if (!put_id) return put_id.status();
  return hash;
}

Status LocalStore::setEagerCollections(const std::set<std::string>& collections) {
  CS_RETURN_IF_ERROR(files_->setEagerCollections(collections));
  for (const auto& c : collections) {
    auto records = list(c);
    if (!records) return records.status();
    auto marked = files_->wantFor(*records);
    if (!marked) return marked.status();
  }
  return Status::ok();
}

Result<std::optional<Record>> LocalStore::get(const RecordKey& key) const {
  auto local = sync::readDecoded<LocalRecord>(*store_, Column::kRecords, sync::recordStorageKey(key));
  if (!local) return local.status();
  if (!local->has_value() || !isLive(**local)) return std::optional<Record>();
  return std::optional<Record>((*local)->view);
}

Result<std::vector<Record>> LocalStore::list(const std::string& collection) const {
  std::string prefix;
  if (!collection.empty()) storage::appendPart(prefix, collection);
  std::vector<Record> out;
  auto cursor = store_->scanPrefix(Column::kRecords, prefix);
  for (; cursor.valid(); cursor.next()) {
    auto local = sync::decode<LocalRecord>(cursor.value());
    if (!local) return Status::error(ErrorCode::kCorruption, "local store: " + local.status().message());
    if (isLive(*local)) out.push_back(std::move(local->view));
  }
  CS_RETURN_IF_ERROR(cursor.status());
  return out;
}

Result<std::vector<Record>> LocalStore::all() const {
  return list("");
}  // keys sort by collection, then id

Result<LocalStatus> LocalStore::status() const {
  LocalStatus out;
  for (auto c = store_->scan(Column::kOutbox, "", ""); c.valid(); c.next()) ++out.pending;
  for (auto c = store_->scan(Column::kIdempotency, "", ""); c.valid(); c.next()) {
    auto r = sync::decode<RejectedChange>(c.value());
    if (r) out.rejected.push_back(std::move(r).value());
  }
  for (auto c = store_->scan(Column::kConflicts, "", ""); c.valid(); c.next()) {
    auto k = sync::decode<sync::Conflict>(c.value());
    if (!k) continue;
    (k->status == sync::ConflictStatus::kOpen ? out.conflicts : out.resolved).push_back(std::move(k).value());
  }
  auto last = store_->get(Column::kMeta, kLastSyncKey);
  if (!last) return last.status();
  if (last->has_value()) out.last_sync_ms = static_cast<std::int64_t>(storage::readUint64(**last).value_or(0));
  auto inc = store_->get(Column::kMeta, kIncarnationKey);
  if (!inc) return inc.status();
  out.incarnation = inc->value_or("");
  auto reviews = list(std::string(sync::kReviewsCollection));
  if (!reviews) return reviews.status();
  for (const auto& r : *reviews) {
    auto review = sync::reviewOf(r);
    if (review && review->state != sync::ReviewState::kReceived) out.reviews.push_back(std::move(*review));
  }
  std::stable_sort(out.reviews.begin(), out.reviews.end(), [](const sync::Review& a, const sync::Review& b) {
    return (a.state == sync::ReviewState::kNeedsEdits) > (b.state == sync::ReviewState::kNeedsEdits);
  });
  auto uploads = files_->toUpload();
  if (!uploads) return uploads.status();
  for (const auto& f : *uploads) {
    ++out.files_pending;
    out.file_bytes_pending += f.entry.size;
  }
  return out;
}

Result<std::vector<PendingChange>> LocalStore::pending(std::uint64_t after_seq, std::size_t max_changes,
                                                       std::size_t max_bytes) const {
  std::vector<PendingChange> out;
  std::size_t bytes = 0;
  auto cursor = store_->scan(Column::kOutbox, sync::seqStorageKey(after_seq + 1), "");
  for (; cursor.valid() && out.size() < max_changes; cursor.next()) {
    if (!out.empty() && bytes + cursor.value().size() > max_bytes) break;
    auto p = sync::decode<PendingChange>(cursor.value());
    if (!p) return Status::error(ErrorCode::kCorruption, "outbox: " + p.status().message());
    if (!out.empty() && p->restore != out.front().restore) break;
    bytes += cursor.value().size();
    out.push_back(std::move(p).value());
  }
  CS_RETURN_IF_ERROR(cursor.status());
  return out;
}

Status LocalStore::applyResults(const std::vector<sync::proto::ChangeResult>& results, std::chrono::milliseconds now,
                                const std::vector<sync::Change>* pushed, ResultsApplied* applied) {
  std::lock_guard lock(mutex_);
  storage::WriteBatch batch;
  ResultsApplied done;
  std::map<std::string, LocalRecord> touched;  // records whose pending list changes, by key
  // Refusals the user has not fixed yet: most devices have none, and then an acceptance has none
  // to settle (one seek for the whole push instead of one per change).
  bool any_refused = false;
  {
    auto refused = store_->scanPrefix(Column::kIdempotency, "");
    any_refused = refused.valid();
    CS_RETURN_IF_ERROR(refused.status());
  }
  // The outbox entries the results answer and the records they change, read in one batched read
  // per column instead of two point reads per change (a push answers up to 1,000 at once).
  std::vector<std::size_t> mine;  // indexes of the results for this device's changes
  std::vector<std::string> okeys;
  for (std::size_t i = 0; i < results.size(); ++i) {
    if (results[i].id.device != device_) continue;
    mine.push_back(i);
    okeys.push_back(sync::seqStorageKey(results[i].id.seq));
  }
  auto entries = store_->multiGet(Column::kOutbox, okeys);
  if (!entries) return entries.status();
  // The change each result answers: the one pushed, held in memory, if it is still in the outbox
  // (then its entry is not decoded); otherwise the outbox's. Null: acknowledged before (a replay).
  std::vector<std::optional<PendingChange>> read(mine.size());
  std::vector<const sync::Change*> changes(mine.size(), nullptr);
  std::vector<std::string> rkeys(mine.size());  // each change's record key
  std::vector<std::string> exact_keys;          // the records exact results lay
  for (std::size_t m = 0; m < mine.size(); ++m) {
    const auto i = mine[m];
    if (!(*entries)[m].has_value()) continue;
    if (pushed != nullptr && i < pushed->size() && (*pushed)[i].id == results[i].id) {
      changes[m] = &(*pushed)[i];
    } else {
      auto entry = sync::decodeStored<PendingChange>(Column::kOutbox, (*entries)[m]);
      if (!entry) return entry.status();
      read[m] = std::move(entry).value();
      changes[m] = &read[m]->change;
    }
    rkeys[m] = sync::recordStorageKey(changes[m]->key);
    if (results[i].exact) exact_keys.push_back(rkeys[m]);
  }
  auto records = readRecords(*store_, std::vector<std::string>(rkeys));
  if (!records) return records.status();
  touched = std::move(records).value();
  // The server's copies of the records exact results lay, and any laid in this call.
  auto bases = readBases(*store_, exact_keys);
  if (!bases) return bases.status();
  CheckpointAdvance checkpoints(*store_);
  for (std::size_t m = 0; m < mine.size(); ++m) {
    if (changes[m] == nullptr) continue;  // acknowledged before (a replayed result)
    const auto& result = results[mine[m]];
    const auto& okey = okeys[m];
    const auto& change = *changes[m];
    const auto& rkey = rkeys[m];
    auto& local = touched[rkey];
    local.pending.erase(std::remove(local.pending.begin(), local.pending.end(), result.id.seq), local.pending.end());
    batch.erase(Column::kOutbox, okey);
    if (result.outcome == sync::proto::Outcome::kRejected) {
      RejectedChange rejected{change, result.code, result.reason, now.count()};
      batch.put(Column::kIdempotency, okey, sync::encode(rejected));
      // The refused edit leaves the view: it shows the server's state and the other pending edits.
      // (Entries acknowledged in this same call are still in the outbox until the batch commits;
      // they were erased from `pending` above, so they do not count.)
      std::optional<Record> base;
      if (auto laid = bases->find(rkey); laid != bases->end()) {
        base = laid->second;
      } else {
        auto stored = sync::readDecoded<Record>(*store_, Column::kBase, rkey);
        if (!stored) return stored.status();
        base = std::move(stored).value();
      }
      CS_RETURN_IF_ERROR(rebuildView(*store_, local, base.value_or(Record{})));
      continue;
    }
    // A change of this record accepted after earlier ones were refused: the user fixed it, and
    // those refusals are settled.
    if (any_refused) {
      for (auto r = store_->scan(Column::kIdempotency, "", okey); r.valid(); r.next()) {
        auto earlier = sync::decode<RejectedChange>(r.value());
        if (earlier && earlier->change.key == change.key) batch.erase(Column::kIdempotency, r.key());
      }
    }
    if (result.exact) {
      // The server's record is the change as merged into nothing: the same pure function here
      // gives the same record. A copy that already holds the change's writes came from a later
      // pull (a replayed result after a cut) and stays.
      auto& base = (*bases)[rkey];
      if (!base || !sync::holdsWrites(*base, change)) {
        base = sync::merge(std::nullopt, change, result.receive_time_ms).record;
        batch.put(Column::kBase, rkey, sync::encode(*base));
      }
      CS_RETURN_IF_ERROR(rebuildView(*store_, local, *base));
      CS_RETURN_IF_ERROR(checkpoints.passed(change.scope, result.server_seq));
      ++done.laid;
      continue;
    }
    // Accepted: the view keeps showing the edit until the pull brings the merged record
    // (the server moves every accepted record to the head of its scope index).
    ++done.awaiting;
    local.pending_delete = false;
    if (!local.pending.empty()) {
      auto last = sync::readDecoded<PendingChange>(*store_, Column::kOutbox, sync::seqStorageKey(local.pending.back()));
      if (!last) return last.status();
      local.pending_delete = last->has_value() && (*last)->change.deletion.has_value();
    }
  }
  for (const auto& [rkey, local] : touched) batch.put(Column::kRecords, rkey, sync::encode(local));
  checkpoints.writeTo(batch);
  if (applied != nullptr) *applied = done;
  if (batch.empty()) return Status::ok();
  // Buffered is enough: if a power cut loses this batch, the entries are still in the outbox and
  // are pushed again; the server answers a replayed change with its first result.
  return store_->commit(batch, Durability::kBuffered);
}

Result<bool> LocalStore::resyncUnderWay() const {
  auto c = store_->scanPrefix(Column::kMeta, std::string(1, kResyncPrefix));
  const bool any = c.valid();
  CS_RETURN_IF_ERROR(c.status());
  return any;
}

Status LocalStore::applyPull(const sync::proto::PullBatch& pulled, PullApplied* applied) {
  std::lock_guard lock(mutex_);
  storage::WriteBatch batch;
  sync::HybridClock clock = *clock_;
  bool forms_changed = false;
  std::set<std::string> pulled_keys;  // the server's copy of these is in this batch
  // What this device holds of the batch's records, in one batched read (a batch has up to 1 MiB).
  std::vector<std::string> rkeys;
  rkeys.reserve(pulled.records.size());
  for (const auto& record : pulled.records) rkeys.push_back(sync::recordStorageKey(record.key));
  auto held = store_->multiGet(Column::kRecords, rkeys);
  if (!held) return held.status();
  for (std::size_t i = 0; i < pulled.records.size(); ++i) {
    const auto& record = pulled.records[i];
    const auto& rkey = rkeys[i];
    forms_changed |= record.key.collection == kFormsCollection;
    for (const auto& [name, state] : record.fields) clock.observe(state.stamp);
    clock.observe(record.tombstone.stamp);
    auto held_record = sync::decodeStored<LocalRecord>(Column::kRecords, (*held)[i]);
    if (!held_record) return held_record.status();
    LocalRecord local = std::move(*held_record).value_or(LocalRecord{});
    CS_RETURN_IF_ERROR(rebuildView(*store_, local, record));
    batch.put(Column::kBase, rkey, sync::encode(record));
    batch.put(Column::kRecords, rkey, sync::encode(local));
    pulled_keys.insert(rkey);
  }
  for (const auto& conflict : pulled.conflicts) batch.put(Column::kConflicts, conflict.id(), sync::encode(conflict));
  for (const auto& [scope, seq] : pulled.checkpoints)
    batch.put(Column::kDevices, checkpointKey(scope), sync::seqStorageKey(seq));
  PullApplied done;
  CS_RETURN_IF_ERROR(resync(pulled, pulled_keys, batch, done));
  batch.put(Column::kMeta, kClockKey, sync::encode(clock.last()));
  // Buffered: losing a pulled batch to a power cut only means pulling it again; data and checkpoint
  // are in one batch, so the checkpoint never runs ahead of the data.
  CS_RETURN_IF_ERROR(store_->commit(batch, Durability::kBuffered));
  *clock_ = clock;
  if (forms_changed) {
    std::lock_guard forms_lock(forms_mutex_);
    forms_.reset();
  }
  if (applied != nullptr) *applied = done;
  return Status::ok();
}

// A resync (docs/protocol.md 5.4), in the pull batch's own write batch. Starting one forgets the
// unit's checkpoint and the server's copy of its records: the pull from 0 writes that copy again
// for every record the server still has, so what has none at the end of the pull is what the
// server no longer has (a deletion whose tombstone it purged). Such a record goes, unless changes
// of it still wait in the outbox: those are pushed as usual and answered. The view is not touched
// until then, so a cut in the middle shows the user nothing different and the next sync goes on.
Status LocalStore::resync(const sync::proto::PullBatch& pulled, const std::set<std::string>& pulled_keys,
                          storage::WriteBatch& batch, PullApplied& done) {
  std::set<Scope> started(pulled.resync.begin(), pulled.resync.end());
  std::set<Scope> ending;
  if (!pulled.more) {
    for (auto c = store_->scanPrefix(Column::kMeta, std::string(1, kResyncPrefix)); c.valid(); c.next()) {
      ending.emplace(c.key().substr(1));
      batch.erase(Column::kMeta, c.key());
    }
  }
  if (started.empty() && ending.empty()) return Status::ok();
  for (const auto& scope : started) {
    batch.erase(Column::kDevices, checkpointKey(scope));
    batch.put(Column::kMeta, std::string(1, kResyncPrefix) + scope, "");
  }
  std::set<std::string> still_referred;  // files the records that stay refer to
  bool dropped_any = false;
  for (auto c = store_->scan(Column::kRecords, "", ""); c.valid(); c.next()) {
    auto local = sync::decode<LocalRecord>(c.value());
    if (!local) return Status::error(ErrorCode::kCorruption, "local store: " + local.status().message());
    const std::string rkey(c.key());
    const bool fresh = pulled_keys.count(rkey) > 0;
    bool goes = false;
    if (!fresh && started.count(local->view.scope) > 0) {
      batch.erase(Column::kBase, rkey);
    } else if (!fresh && ending.count(local->view.scope) > 0 && local->pending.empty()) {
      auto base = store_->get(Column::kBase, rkey);
      if (!base) return base.status();
      goes = !base->has_value();
    }
    if (goes) {
      batch.erase(Column::kRecords, rkey);
      dropped_any = true;
      ++done.resync_dropped;
      continue;
    }
    auto refs = sync::fileRefs(local->view);
    still_referred.insert(refs.begin(), refs.end());
  }
  done.resync_started = started.size();
  // Photos fetched for records that are gone go with them (files made here wait to go up).
  if (dropped_any) CS_RETURN_IF_ERROR(files_->dropUnreferenced(batch, still_referred));
  return Status::ok();
}

Result<sync::proto::Checkpoints> LocalStore::checkpoints() const {
  sync::proto::Checkpoints out;
  for (auto c = store_->scanPrefix(Column::kDevices, "c"); c.valid(); c.next()) {
    out[std::string(c.key().substr(1))] = storage::readUint64(c.value()).value_or(0);
  }
  return out;
}

Result<std::size_t> LocalStore::restrictTo(const std::vector<Scope>& readable) {
  std::lock_guard lock(mutex_);
  std::string encoded;
  for (const auto& scope : readable) storage::appendPart(encoded, scope);
  auto known = store_->get(Column::kMeta, kReadableKey);
  if (!known) return known.status();
  if (known->has_value() && **known == encoded) return std::size_t{0};  // nothing changed since last time
  auto allowed = [&](std::string_view scope) { return std::binary_search(readable.begin(), readable.end(), scope); };

  storage::WriteBatch batch;
  std::size_t purged = 0;
  bool kept_pending = false;
  std::set<std::string> still_referred;  // files the records that stay refer to
  for (auto c = store_->scan(Column::kRecords, "", ""); c.valid(); c.next()) {
    auto local = sync::decode<LocalRecord>(c.value());
    if (!local) return Status::error(ErrorCode::kCorruption, "local store: " + local.status().message());
    if (allowed(local->view.scope) || !local->pending.empty()) {
      auto refs = sync::fileRefs(local->view);
      still_referred.insert(refs.begin(), refs.end());
    }
    if (allowed(local->view.scope)) continue;
    if (!local->pending.empty()) {
      kept_pending = true;
      continue;
    }
    batch.erase(Column::kRecords, c.key());
    batch.erase(Column::kBase, c.key());
    ++purged;
  }
  for (auto c = store_->scan(Column::kConflicts, "", ""); c.valid(); c.next()) {
    auto conflict = sync::decode<sync::Conflict>(c.value());
    if (!conflict || !allowed(conflict->scope)) batch.erase(Column::kConflicts, c.key());
  }
  for (auto c = store_->scanPrefix(Column::kDevices, "c"); c.valid(); c.next()) {
    if (!allowed(c.key().substr(1))) batch.erase(Column::kDevices, c.key());
  }
  // Photos fetched for records that are gone go with them (files made here wait to go up).
  CS_RETURN_IF_ERROR(files_->dropUnreferenced(batch, still_referred));
  // Remembered only once nothing outside is left, so the next sync finishes the purge.
  if (!kept_pending) batch.put(Column::kMeta, kReadableKey, encoded);
  batch.erase(Column::kMeta, kOldReadableKey);
  CS_RETURN_IF_ERROR(store_->commit(batch, Durability::kSynced));
  return purged;
}

Result<bool> LocalStore::adoptIncarnation(const std::string& incarnation, const sync::proto::Checkpoints& latest) {
  std::lock_guard lock(mutex_);
  auto stored = store_->get(Column::kMeta, kIncarnationKey);
  if (!stored) return stored.status();
  storage::WriteBatch batch;
  batch.put(Column::kMeta, kIncarnationKey, incarnation);
  if (!stored->has_value()) {  // first contact with any server
    CS_RETURN_IF_ERROR(store_->commit(batch, Durability::kSynced));
    return false;
  }
  bool went_back = **stored != incarnation;
  for (auto c = store_->scanPrefix(Column::kDevices, "c"); c.valid() && !went_back; c.next()) {
    auto it = latest.find(c.key().substr(1));
    went_back = storage::readUint64(c.value()).value_or(0) > (it == latest.end() ? 0 : it->second);
  }
  if (!went_back) return false;

  // The server is behind what we know: forget checkpoints, and queue every record we hold (as we
  // see it: the server's state with our own edits) to be pushed again. Stamps make re-sending harmless.
  for (auto c = store_->scanPrefix(Column::kDevices, "c"); c.valid(); c.next()) batch.erase(Column::kDevices, c.key());
  std::uint64_t seq = last_seq_;
  for (auto c = store_->scan(Column::kRecords, "", ""); c.valid(); c.next()) {
    auto local = sync::decode<LocalRecord>(c.value());
    if (!local) return Status::error(ErrorCode::kCorruption, "local store: " + local.status().message());
    for (auto& change : sync::restoreChanges(local->view)) {
      change.id = {device_, ++seq};
      // Not added to the record's pending list: it carries what the view already shows.
      batch.put(Column::kOutbox, sync::seqStorageKey(seq), sync::encode(PendingChange{std::move(change), true}));
    }
  }
  batch.put(Column::kMeta, kSeqKey, sync::seqStorageKey(seq));
  CS_RETURN_IF_ERROR(store_->commit(batch, Durability::kSynced));
  last_seq_ = seq;
  return true;
}

Status LocalStore::setClockOffset(std::chrono::milliseconds offset) {
  std::lock_guard lock(mutex_);
  clock_->setOffset(offset);
  storage::WriteBatch batch;
  batch.put(Column::kMeta, kOffsetKey, int64Bytes(offset.count()));
  return store_->commit(batch, Durability::kBuffered);
}

Status LocalStore::setLastSync(std::chrono::milliseconds now) {
  storage::WriteBatch batch;
  batch.put(Column::kMeta, kLastSyncKey, int64Bytes(now.count()));
  return store_->commit(batch, Durability::kBuffered);
}

}  // namespace communesync::client
