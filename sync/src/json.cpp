#include "communesync/sync/json.hpp"

#include "communesync/sync/device_id.hpp"
#include "communesync/sync/tuning.hpp"

namespace communesync::sync {

nlohmann::json valueToJson(const Value& value) {
  return std::visit(
      [](const auto& x) -> nlohmann::json {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, std::monostate>) {
          return nullptr;
        } else if constexpr (std::is_same_v<T, Bytes>) {
          return {{"$bytes", toHex(x.data)}};
        } else if constexpr (std::is_same_v<T, Value::List>) {
          auto out = nlohmann::json::array();
          for (const auto& v : x) out.push_back(valueToJson(v));
          return out;
        } else if constexpr (std::is_same_v<T, Value::Map>) {
          auto out = nlohmann::json::object();
          for (const auto& [k, v] : x) out[k] = valueToJson(v);
          return out;
        } else {
          return x;
        }
      },
      value.variant());
}

namespace {

Result<Value> fromJson(const nlohmann::json& json, std::size_t depth) {
  if (depth > tuning::kMaxValueDepth) {
    return Status::error(ErrorCode::kLimitExceeded,
                         "value nested deeper than " + std::to_string(tuning::kMaxValueDepth) + " levels");
  }
  switch (json.type()) {
    case nlohmann::json::value_t::null:
      return Value();
    case nlohmann::json::value_t::boolean:
      return Value(json.get<bool>());
    case nlohmann::json::value_t::number_integer:
      return Value(json.get<std::int64_t>());
    case nlohmann::json::value_t::number_unsigned: {
      const auto u = json.get<std::uint64_t>();
      if (u > static_cast<std::uint64_t>(INT64_MAX)) {
        return Status::error(ErrorCode::kInvalidArgument, "integer " + std::to_string(u) + " is too large");
      }
      return Value(static_cast<std::int64_t>(u));
    }
    case nlohmann::json::value_t::number_float:
      return Value(json.get<double>());
    case nlohmann::json::value_t::string:
      return Value(json.get<std::string>());
    case nlohmann::json::value_t::array: {
      Value::List list;
      for (const auto& e : json) {
        auto v = fromJson(e, depth + 1);
        if (!v) return v.status();
        list.push_back(std::move(v).value());
      }
      return Value(std::move(list));
    }
    case nlohmann::json::value_t::object: {
      Value::Map map;
      for (const auto& [k, e] : json.items()) {
        auto v = fromJson(e, depth + 1);
        if (!v) return v.status();
        map.insert_or_assign(k, std::move(v).value());
      }
      return Value(std::move(map));
    }
    default:
      return Status::error(ErrorCode::kInvalidArgument, "unsupported JSON value");
  }
}

}  // namespace

Result<Value> valueFromJson(const nlohmann::json& json) {
  return fromJson(json, 0);
}

nlohmann::json recordToJson(const Record& record) {
  nlohmann::json fields = nlohmann::json::object();
  for (const auto& [name, state] : record.fields) fields[name] = valueToJson(state.value);
  return {{"collection", record.key.collection}, {"id", record.key.id}, {"scope", record.scope}, {"fields", fields}};
}

nlohmann::json conflictSideToJson(const ConflictSide& s, const char* name) {
  nlohmann::json j = {
      {"side", name}, {"stamp", s.stamp.toString()}, {"device", s.stamp.device.hex()}, {"time_ms", s.stamp.wall_ms}};
  if (s.isDeletion()) {
    j["deleted"] = true;
  } else {
    j["value"] = valueToJson(*s.value);
  }
  return j;
}

nlohmann::json conflictToJson(const Conflict& c) {
  nlohmann::json j = {{"id", c.id()},
                      {"collection", c.key.collection},
                      {"record", c.key.id},
                      {"scope", c.scope},
                      {"field", c.field},
                      {"status", c.status == ConflictStatus::kOpen ? "open" : "resolved"},
                      {"detected_ms", c.detected_ms},
                      {"values", {conflictSideToJson(c.kept, "kept"), conflictSideToJson(c.lost, "lost")}},
                      {"kept", conflictSideToJson(c.kept, "kept")},
                      {"lost", conflictSideToJson(c.lost, "lost")}};
  if (c.status == ConflictStatus::kResolved) {
    j["resolved_by"] = c.resolved_by;
    j["resolved_ms"] = c.resolved_ms;
    j["reason"] = c.reason;
    j["resolution"] = conflictSideToJson(c.resolution, "resolution");
  }
  return j;
}

}  // namespace communesync::sync
