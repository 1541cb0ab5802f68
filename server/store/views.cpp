#include "store/views.hpp"

#include <chrono>
#include <limits>

#include "communesync/storage/key_codec.hpp"
#include "communesync/sync/codec.hpp"
#include "communesync/sync/stored.hpp"

namespace communesync::server {
namespace {

using storage::Column;

constexpr std::size_t kStates = 4;

std::size_t slot(sync::ReviewState state) {
  return static_cast<std::size_t>(state) % kStates;
}

// The record a review names: from its fields, or (a deleted review) from its id, "collection/id".
sync::RecordKey reviewedKey(const sync::Record& review) {
  if (auto r = sync::reviewOf(review)) return r->reviewed;
  const auto slash = review.key.id.find('/');
  if (slash == std::string::npos) return {};
  return {review.key.id.substr(0, slash), review.key.id.substr(slash + 1)};
}

}  // namespace

int provinceYear(std::int64_t ms) {
  constexpr std::int64_t kOffsetMs = std::int64_t{7} * 60 * 60 * 1000;
  const auto days = std::chrono::floor<std::chrono::days>(
      std::chrono::sys_time<std::chrono::milliseconds>(std::chrono::milliseconds(ms + kOffsetMs)));
  return static_cast<int>(std::chrono::year_month_day(days).year());
}

std::int64_t firstCapturedMs(const sync::Record& r) {
  std::int64_t oldest = 0;
  for (const auto& [name, field] : r.fields) {
    if (field.stamp.wall_ms != 0 && (oldest == 0 || field.stamp.wall_ms < oldest)) oldest = field.stamp.wall_ms;
  }
  return oldest != 0 ? oldest : r.capture_time_ms;
}

void writeCompact(sync::CompactWriter& w, const ViewEntry& e) {
  w.str(e.scope);
  w.signedVarint(e.year);
  w.signedVarint(e.created_ms);
  w.byte(static_cast<std::uint8_t>(e.review));
  w.flag(e.held);
  w.flag(e.live);
}

void readCompact(sync::CompactReader& r, ViewEntry& e) {
  e.scope = r.str();
  e.year = static_cast<std::int32_t>(r.signedVarint());
  e.created_ms = r.signedVarint();
  const auto review = r.byte();
  if (review >= kStates) throw sync::DecodeError("a view entry's review state is unknown");
  e.review = static_cast<sync::ReviewState>(review);
  e.held = r.flag();
  e.live = r.flag();
}

// ---- keys ----

std::string viewEntryKey(const std::string& record_key) {
  return "e" + record_key;
}

std::string newestPrefix(const sync::Scope& scope, std::string_view collection) {
  std::string out = "n";
  storage::appendPart(out, scope);
  storage::appendPart(out, collection);
  return out;
}

std::string reviewPrefix(sync::ReviewState review, const sync::Scope& scope, std::string_view collection) {
  std::string out = "v";
  out.push_back(static_cast<char>('0' + slot(review)));
  storage::appendPart(out, scope);
  storage::appendPart(out, collection);
  return out;
}

std::string newestSuffix(std::int64_t created_ms, std::string_view id) {
  std::string out;
  storage::appendUint64(out, std::numeric_limits<std::uint64_t>::max() - static_cast<std::uint64_t>(created_ms));
  storage::appendPart(out, id);
  return out;
}

std::string tallyKey(const sync::Scope& scope, std::int32_t year, std::string_view collection) {
  std::string out = "t";
  storage::appendPart(out, scope);
  storage::appendUint64(out, static_cast<std::uint64_t>(year));
  storage::appendPart(out, collection);
  return out;
}

std::string openConflictsKey(const sync::Scope& scope) {
  std::string out = "c";
  storage::appendPart(out, scope);
  return out;
}

std::string encodeTally(const Tally& t) {
  std::string out;
  for (auto n : t) storage::appendUint64(out, n);
  return out;
}

std::optional<Tally> decodeTally(std::string_view bytes) {
  if (bytes.size() != kStates * 8) return std::nullopt;
  Tally t{};
  for (std::size_t k = 0; k < kStates; ++k) t[k] = storage::readUint64(bytes, k * 8).value_or(0);
  return t;
}

// ---- the group ----

Result<std::optional<ViewEntry>> ViewGroup::entry(const std::string& record_key) {
  if (auto it = entries_.find(record_key); it != entries_.end()) return it->second;
  return sync::readDecoded<ViewEntry>(store_, Column::kViews, viewEntryKey(record_key));
}

Status ViewGroup::recordChanged(storage::WriteBatch& batch, const std::string& record_key, const sync::Record& record,
                                std::int64_t first_received_ms) {
  if (record.key.collection == sync::kReviewsCollection) return reviewChanged(batch, record);
  if (serverCollection(record.key.collection)) return Status::ok();
  auto before = entry(record_key);
  if (!before) return before.status();
  ViewEntry after;
  after.scope = record.scope;
  after.year = provinceYear(firstCapturedMs(record));
  after.created_ms = before->has_value() && (*before)->held ? (*before)->created_ms : first_received_ms;
  after.review = before->has_value() ? (*before)->review : sync::ReviewState::kReceived;
  after.held = true;
  after.live = !record.deleted();
  move(batch, record_key, record.key, *before, after);
  return Status::ok();
}

Status ViewGroup::reviewChanged(storage::WriteBatch& batch, const sync::Record& review) {
  const auto reviewed = reviewedKey(review);
  if (reviewed.collection.empty() || serverCollection(reviewed.collection)) return Status::ok();
  const auto state = [&review] {
    auto r = sync::reviewOf(review);
    return r ? r->state : sync::ReviewState::kReceived;
  }();
  const auto record_key = sync::recordStorageKey(reviewed);
  auto before = entry(record_key);
  if (!before) return before.status();
  std::optional<ViewEntry> after = *before;
  if (!after) {
    after = ViewEntry{};
    after->scope = review.scope;  // a review is kept in its record's unit
  }
  after->review = state;
  // Without its record, an entry only remembers a review the record will arrive under.
  if (!after->held && state == sync::ReviewState::kReceived) after.reset();
  move(batch, record_key, reviewed, *before, after);
  return Status::ok();
}

void ViewGroup::move(storage::WriteBatch& batch, const std::string& record_key, const sync::RecordKey& key,
                     const std::optional<ViewEntry>& before, const std::optional<ViewEntry>& after) {
  if (before == after) return;
  if (before && before->live) {
    const auto suffix = newestSuffix(before->created_ms, key.id);
    batch.erase(Column::kViews, newestPrefix(before->scope, key.collection) + suffix);
    batch.erase(Column::kViews, reviewPrefix(before->review, before->scope, key.collection) + suffix);
    --tallies_[tallyKey(before->scope, before->year, key.collection)][slot(before->review)];
  }
  if (after && after->live) {
    const auto suffix = newestSuffix(after->created_ms, key.id);
    batch.put(Column::kViews, newestPrefix(after->scope, key.collection) + suffix, "");
    batch.put(Column::kViews, reviewPrefix(after->review, after->scope, key.collection) + suffix, "");
    ++tallies_[tallyKey(after->scope, after->year, key.collection)][slot(after->review)];
  }
  if (after) {
    batch.put(Column::kViews, viewEntryKey(record_key), sync::encode(*after));
  } else {
    batch.erase(Column::kViews, viewEntryKey(record_key));
  }
  entries_[record_key] = after;
}

Status ViewGroup::writeTo(storage::WriteBatch& batch) {
  for (const auto& [key, added] : tallies_) {
    auto raw = store_.get(Column::kViews, key);
    if (!raw) return raw.status();
    Tally tally{};
    if (raw->has_value()) {
      auto stored = decodeTally(**raw);
      if (!stored) return Status::error(ErrorCode::kCorruption, "a stored tally is malformed: rebuild the views");
      tally = *stored;
    }
    bool any = false;
    for (std::size_t k = 0; k < kStates; ++k) {
      const auto sum = static_cast<std::int64_t>(tally[k]) + added[k];
      if (sum < 0) return Status::error(ErrorCode::kCorruption, "a tally would go below zero: rebuild the views");
      tally[k] = static_cast<std::uint64_t>(sum);
      any |= sum != 0;
    }
    if (any) {
      batch.put(Column::kViews, key, encodeTally(tally));
    } else {
      batch.erase(Column::kViews, key);
    }
  }
  for (const auto& [scope, added] : conflicts_) {
    const auto key = openConflictsKey(scope);
    auto raw = store_.get(Column::kViews, key);
    if (!raw) return raw.status();
    const auto open = raw->has_value() ? storage::readUint64(**raw).value_or(0) : 0;
    const auto sum = static_cast<std::int64_t>(open) + added;
    if (sum < 0) return Status::error(ErrorCode::kCorruption, "an open conflict count would go below zero");
    if (sum == 0) {
      batch.erase(Column::kViews, key);
    } else {
      std::string value;
      storage::appendUint64(value, static_cast<std::uint64_t>(sum));
      batch.put(Column::kViews, key, value);
    }
  }
  tallies_.clear();
  conflicts_.clear();
  return Status::ok();
}

}  // namespace communesync::server
