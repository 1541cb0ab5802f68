#include "communesync/sync/review.hpp"

#include <array>

namespace communesync::sync {
namespace {

constexpr std::array<std::string_view, 4> kStateNames = {"received", "approved", "needs_edits", "rejected"};

const Value* field(const Record& record, std::string_view name) {
  auto it = record.fields.find(name);
  return it == record.fields.end() ? nullptr : &it->second.value;
}

std::string text(const Record& record, std::string_view name) {
  const auto* v = field(record, name);
  const auto* s = v == nullptr ? nullptr : v->get<std::string>();
  return s == nullptr ? std::string() : *s;
}

}  // namespace

std::string_view reviewStateName(ReviewState state) {
  return kStateNames.at(static_cast<std::size_t>(state));
}

std::optional<ReviewState> reviewStateFromName(std::string_view name) {
  for (std::size_t i = 0; i < kStateNames.size(); ++i) {
    if (kStateNames[i] == name) return static_cast<ReviewState>(i);
  }
  return std::nullopt;
}

std::string reviewRecordId(const RecordKey& key) {
  return key.collection + "/" + key.id;
}

std::optional<Review> reviewOf(const Record& record) {
  if (record.key.collection != kReviewsCollection || record.deleted()) return std::nullopt;
  auto state = reviewStateFromName(text(record, "state"));
  if (!state) return std::nullopt;
  Review r;
  r.reviewed = RecordKey{text(record, "collection"), text(record, "record")};
  r.state = *state;
  r.comment = text(record, "comment");
  r.by = text(record, "by");
  const auto* at = field(record, "at_ms");
  r.at_ms = at != nullptr && at->get<std::int64_t>() != nullptr ? *at->get<std::int64_t>() : 0;
  return r;
}

Change serverChange(const RecordKey& key, const Scope& scope, const std::optional<Record>& current,
                    const std::vector<std::pair<std::string, Value>>& fields, ChangeId id, std::int64_t now_ms) {
  Change change;
  change.id = id;
  change.key = key;
  change.scope = scope;
  change.capture_time_ms = now_ms;
  Stamp top;
  if (current) top = std::max(current->maxFieldStamp(), current->tombstone.stamp);
  change.seen_tombstone = current ? current->tombstone.stamp : Stamp{};
  const Stamp stamp =
      now_ms > top.wall_ms ? Stamp{now_ms, 0, id.device} : Stamp{top.wall_ms, top.counter + 1, id.device};
  for (const auto& [name, value] : fields) {
    change.assignments.push_back({name, value, stamp, current ? current->fieldStamp(name) : Stamp{}});
  }
  return change;
}

Change reviewChange(const Review& review, const Scope& scope, const std::optional<Record>& current, ChangeId id,
                    std::int64_t now_ms) {
  return serverChange(RecordKey{std::string(kReviewsCollection), reviewRecordId(review.reviewed)}, scope, current,
                      {{"collection", Value(review.reviewed.collection)},
                       {"record", Value(review.reviewed.id)},
                       {"state", Value(std::string(reviewStateName(review.state)))},
                       {"comment", Value(review.comment)},
                       {"by", Value(review.by)},
                       {"at_ms", Value(static_cast<std::int64_t>(now_ms))}},
                      id, now_ms);
}

}  // namespace communesync::sync
