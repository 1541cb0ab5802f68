#include "store/form_catalog.hpp"

#include <algorithm>

#include "communesync/storage/key_codec.hpp"
#include "communesync/sync/stored.hpp"
#include "store/stored_types.hpp"

namespace communesync::server {
namespace {

std::map<std::string, sync::Value> liveValues(const sync::Record& record) {
  std::map<std::string, sync::Value> out;
  for (const auto& [name, state] : record.fields) out.emplace(name, state.value);
  return out;
}

}  // namespace

sync::DeviceId serverDeviceId() {
  sync::DeviceId id;
  id.bytes.fill(0xff);  // no device makes this id: they are random, and the server refuses it in a hello
  return id;
}

sync::DeviceId reconcilerDeviceId() {
  auto id = serverDeviceId();
  id.bytes.back() = 0xfe;
  return id;
}

bool isServerDeviceId(const sync::DeviceId& id) {
  return std::all_of(id.bytes.begin(), id.bytes.end() - 1, [](auto b) { return b == 0xff; });
}

Result<std::unique_ptr<FormCatalog>> FormCatalog::open(const storage::Store& store) {
  auto catalog = std::make_unique<FormCatalog>();
  std::string prefix;
  storage::appendPart(prefix, kFormsCollection);
  auto cursor = store.scanPrefix(storage::Column::kRecords, prefix);
  for (; cursor.valid(); cursor.next()) {
    auto stored = sync::decode<StoredRecord>(cursor.value());
    if (!stored) return Status::error(ErrorCode::kCorruption, "a stored form record does not decode");
    auto values = liveValues(stored->record);
    auto it = values.find("definition");
    const auto* text = it == values.end() ? nullptr : it->second.get<std::string>();
    if (text == nullptr) continue;
    auto form = sync::parseForm(*text);
    if (!form) {
      return Status::error(ErrorCode::kCorruption,
                           "stored form " + stored->record.key.id + " does not parse: " + form.status().message());
    }
    catalog->added(std::move(form).value());
  }
  CS_RETURN_IF_ERROR(cursor.status());
  return catalog;
}

Status FormCatalog::reload(const storage::Store& store) {
  auto fresh = open(store);
  if (!fresh) return fresh.status();
  std::lock_guard lock(mutex_);
  std::lock_guard fresh_lock((*fresh)->mutex_);
  forms_ = std::move((*fresh)->forms_);
  return Status::ok();
}

std::shared_ptr<const sync::Form> FormCatalog::find(std::string_view collection, std::uint32_t version) const {
  std::lock_guard lock(mutex_);
  auto it = forms_.find(collection);
  if (it == forms_.end() || it->second.empty()) return nullptr;
  if (version == 0) return it->second.rbegin()->second;
  auto v = it->second.find(version);
  return v == it->second.end() ? nullptr : v->second;
}

std::vector<std::shared_ptr<const sync::Form>> FormCatalog::all() const {
  std::lock_guard lock(mutex_);
  std::vector<std::shared_ptr<const sync::Form>> out;
  for (const auto& [name, versions] : forms_) {
    for (const auto& [version, form] : versions) out.push_back(form);
  }
  return out;
}

sync::Change FormCatalog::publication(sync::Form& form, std::int64_t now_ms) const {
  std::uint64_t published = 0;
  {
    std::lock_guard lock(mutex_);
    auto it = forms_.find(form.name);
    form.version = it == forms_.end() || it->second.empty() ? 1 : it->second.rbegin()->first + 1;
    for (const auto& [name, versions] : forms_) published += versions.size();
  }
  const auto device = serverDeviceId();
  sync::Change change;
  // One change per publication, numbered by the publications so far: unique, and the same after a restart.
  change.id = {device, published + 1};
  change.key = {std::string(kFormsCollection), form.name + "@" + std::to_string(form.version)};
  change.scope = std::string(kFormsScope);
  const sync::Stamp stamp{now_ms, 0, device};
  change.assignments.push_back({"name", sync::Value(form.name), stamp, {}});
  change.assignments.push_back({"version", sync::Value(static_cast<std::int64_t>(form.version)), stamp, {}});
  change.assignments.push_back({"definition", sync::Value(sync::formToJson(form)), stamp, {}});
  return change;
}

void FormCatalog::added(sync::Form form) {
  std::lock_guard lock(mutex_);
  const auto version = form.version;
  auto name = form.name;
  forms_[name][version] = std::make_shared<const sync::Form>(std::move(form));
}

Status FormCatalog::pin(sync::Change& change) const {
  if (!change.key.collection.empty() && change.key.collection.front() == '_') return Status::ok();  // the server's own
  auto latest = find(change.key.collection);
  if (latest == nullptr) {
    if (require_forms_) {
      return Status::error(ErrorCode::kInvalidArgument, "collection '" + change.key.collection +
                                                            "' has no published form; this server requires one");
    }
    return Status::ok();
  }
  if (change.form_version == 0) {
    change.form_version = latest->version;
  } else if (find(change.key.collection, change.form_version) == nullptr) {
    return Status::error(ErrorCode::kInvalidArgument, "form " + change.key.collection + " has no version " +
                                                          std::to_string(change.form_version) + "; sync to get it");
  }
  return Status::ok();
}

Status FormCatalog::check(const sync::Record& merged) const {
  if (merged.key.collection == kFormsCollection || merged.deleted() || merged.form_version == 0) return Status::ok();
  auto form = find(merged.key.collection, merged.form_version);
  if (form == nullptr) return Status::ok();  // pin() refused unknown versions already
  auto errors = sync::validate(*form, liveValues(merged));
  if (errors.empty()) return Status::ok();
  return Status::error(ErrorCode::kInvalidArgument, sync::errorsText(errors));
}

}  // namespace communesync::server
