#include "communesync/sync/value.hpp"

#include "communesync/sync/text.hpp"
#include "communesync/sync/tuning.hpp"

namespace communesync::sync {

const char* kindName(Value::Kind kind) {
  switch (kind) {
    case Value::Kind::kNull:
      return "null";
    case Value::Kind::kBool:
      return "bool";
    case Value::Kind::kInt:
      return "int";
    case Value::Kind::kDouble:
      return "double";
    case Value::Kind::kString:
      return "string";
    case Value::Kind::kBytes:
      return "bytes";
    case Value::Kind::kList:
      return "list";
    case Value::Kind::kMap:
      return "map";
  }
  return "unknown";
}

namespace {

Status normalizeInPlace(Value& value, std::size_t depth) {
  if (depth > tuning::kMaxValueDepth) {
    return Status::error(ErrorCode::kLimitExceeded,
                         "value nested deeper than " + std::to_string(tuning::kMaxValueDepth) + " levels");
  }
  if (auto* s = value.get<std::string>()) {
    if (s->size() > tuning::kMaxValueBytes) {
      return Status::error(ErrorCode::kLimitExceeded, "text of " + std::to_string(s->size()) + " bytes; the limit is " +
                                                          std::to_string(tuning::kMaxValueBytes));
    }
    auto nfc = toNfc(*s);
    if (!nfc) return nfc.status();
    *s = std::move(nfc).value();
  } else if (auto* b = value.get<Bytes>()) {
    if (b->data.size() > tuning::kMaxValueBytes) {
      return Status::error(ErrorCode::kLimitExceeded, "bytes value of " + std::to_string(b->data.size()) +
                                                          " bytes; the limit is " +
                                                          std::to_string(tuning::kMaxValueBytes));
    }
  } else if (auto* list = value.get<Value::List>()) {
    if (list->size() > tuning::kMaxValueElements) {
      return Status::error(ErrorCode::kLimitExceeded, "list of " + std::to_string(list->size()) + " elements");
    }
    for (auto& v : *list) CS_RETURN_IF_ERROR(normalizeInPlace(v, depth + 1));
  } else if (auto* map = value.get<Value::Map>()) {
    if (map->size() > tuning::kMaxValueElements) {
      return Status::error(ErrorCode::kLimitExceeded, "map of " + std::to_string(map->size()) + " entries");
    }
    Value::Map normalized;
    for (auto& [k, v] : *map) {
      auto key = toNfc(k);
      if (!key) return key.status();
      CS_RETURN_IF_ERROR(normalizeInPlace(v, depth + 1));
      normalized.insert_or_assign(std::move(key).value(), std::move(v));
    }
    *map = std::move(normalized);
  }
  return Status::ok();
}

}  // namespace

Result<Value> normalizeValue(Value value) {
  CS_RETURN_IF_ERROR(normalizeInPlace(value, 0));
  return value;
}

}  // namespace communesync::sync
