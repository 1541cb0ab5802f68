#include "communesync/sync/change.hpp"

#include <set>

#include "communesync/sync/text.hpp"
#include "communesync/sync/tuning.hpp"

namespace communesync::sync {

std::string ChangeId::toString() const {
  return device.hex() + ":" + std::to_string(seq);
}

namespace {

Status checkName(std::string_view what, std::string_view name, std::size_t limit) {
  if (name.empty()) return Status::error(ErrorCode::kInvalidArgument, std::string(what) + " is empty");
  if (name.size() > limit) {
    return Status::error(ErrorCode::kLimitExceeded, std::string(what) + " is " + std::to_string(name.size()) +
                                                        " bytes; the limit is " + std::to_string(limit));
  }
  if (!isCleanUtf8(name)) {
    return Status::error(ErrorCode::kInvalidArgument, std::string(what) + " is not clean UTF-8 (or holds a NUL byte)");
  }
  return Status::ok();
}

Status checkStamp(std::string_view what, const Stamp& stamp, const DeviceId& device, bool allow_foreign) {
  if (stamp.isZero()) return Status::error(ErrorCode::kInvalidArgument, std::string(what) + " has no stamp");
  if (!allow_foreign && stamp.device != device) {
    return Status::error(ErrorCode::kInvalidArgument, std::string(what) + " is stamped by another device");
  }
  if (stamp.wall_ms <= 0)
    return Status::error(ErrorCode::kInvalidArgument, std::string(what) + " has a stamp before 1970");
  return Status::ok();
}

}  // namespace

Result<Change> validateChange(Change change, bool allow_foreign_stamps) {
  if (change.id.device.isNil()) return Status::error(ErrorCode::kInvalidArgument, "change has no device id");
  if (change.id.seq == 0) return Status::error(ErrorCode::kInvalidArgument, "change sequence numbers start at 1");
  CS_RETURN_IF_ERROR(checkName("collection", change.key.collection, tuning::kMaxNameBytes));
  CS_RETURN_IF_ERROR(checkName("record id", change.key.id, tuning::kMaxNameBytes));
  CS_RETURN_IF_ERROR(checkName("scope", change.scope, tuning::kMaxNameBytes));

  if (change.deletion.has_value() == !change.assignments.empty()) {
    return Status::error(ErrorCode::kInvalidArgument, "a change either assigns fields or deletes the record");
  }
  if (change.assignments.size() > tuning::kMaxFieldsPerRecord) {
    return Status::error(ErrorCode::kLimitExceeded, "change assigns " + std::to_string(change.assignments.size()) +
                                                        " fields; the limit is " +
                                                        std::to_string(tuning::kMaxFieldsPerRecord));
  }
  if (change.deletion) {
    CS_RETURN_IF_ERROR(checkStamp("deletion", change.deletion->stamp, change.id.device, allow_foreign_stamps));
    if (change.deletion->seen.size() > tuning::kMaxFieldsPerRecord) {
      return Status::error(ErrorCode::kLimitExceeded, "deletion lists too many fields");
    }
  }

  std::set<std::string, std::less<>> names;
  for (auto& a : change.assignments) {
    auto field = toNfc(a.field);
    if (!field) return Status::error(ErrorCode::kInvalidArgument, "field name: " + field.status().message());
    a.field = std::move(field).value();
    CS_RETURN_IF_ERROR(checkName("field name", a.field, tuning::kMaxFieldNameBytes));
    if (!names.insert(a.field).second) {
      return Status::error(ErrorCode::kInvalidArgument, "field '" + a.field + "' is assigned twice in one change");
    }
    CS_RETURN_IF_ERROR(checkStamp("field '" + a.field + "'", a.stamp, change.id.device, allow_foreign_stamps));
    if (a.seen >= a.stamp) {
      return Status::error(ErrorCode::kInvalidArgument,
                           "field '" + a.field + "' was written before the value it replaced");
    }
    auto value = normalizeValue(std::move(a.value));
    if (!value) return Status::error(value.status().code(), "field '" + a.field + "': " + value.status().message());
    a.value = std::move(value).value();
  }
  return change;
}

}  // namespace communesync::sync
