#include "communesync/client/record_json.hpp"

#include "communesync/sync/device_id.hpp"
#include "communesync/sync/tuning.hpp"

namespace communesync::client {

nlohmann::json valueToJson(const sync::Value& value) {
  return std::visit(
      [](const auto& x) -> nlohmann::json {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, std::monostate>) {
          return nullptr;
        } else if constexpr (std::is_same_v<T, sync::Bytes>) {
          return {{"$bytes", sync::toHex(x.data)}};
        } else if constexpr (std::is_same_v<T, sync::Value::List>) {
          auto out = nlohmann::json::array();
          for (const auto& v : x) out.push_back(valueToJson(v));
          return out;
        } else if constexpr (std::is_same_v<T, sync::Value::Map>) {
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

Result<sync::Value> fromJson(const nlohmann::json& json, std::size_t depth) {
  if (depth > sync::tuning::kMaxValueDepth) {
    return Status::error(ErrorCode::kLimitExceeded,
                         "value nested deeper than " + std::to_string(sync::tuning::kMaxValueDepth) + " levels");
  }
  switch (json.type()) {
    case nlohmann::json::value_t::null:
      return sync::Value();
    case nlohmann::json::value_t::boolean:
      return sync::Value(json.get<bool>());
    case nlohmann::json::value_t::number_integer:
      return sync::Value(json.get<std::int64_t>());
    case nlohmann::json::value_t::number_unsigned: {
      const auto u = json.get<std::uint64_t>();
      if (u > static_cast<std::uint64_t>(INT64_MAX)) {
        return Status::error(ErrorCode::kInvalidArgument, "integer " + std::to_string(u) + " is too large");
      }
      return sync::Value(static_cast<std::int64_t>(u));
    }
    case nlohmann::json::value_t::number_float:
      return sync::Value(json.get<double>());
    case nlohmann::json::value_t::string:
      return sync::Value(json.get<std::string>());
    case nlohmann::json::value_t::array: {
      sync::Value::List list;
      for (const auto& e : json) {
        auto v = fromJson(e, depth + 1);
        if (!v) return v.status();
        list.push_back(std::move(v).value());
      }
      return sync::Value(std::move(list));
    }
    case nlohmann::json::value_t::object: {
      sync::Value::Map map;
      for (const auto& [k, e] : json.items()) {
        auto v = fromJson(e, depth + 1);
        if (!v) return v.status();
        map.insert_or_assign(k, std::move(v).value());
      }
      return sync::Value(std::move(map));
    }
    default:
      return Status::error(ErrorCode::kInvalidArgument, "unsupported JSON value");
  }
}

}  // namespace

Result<sync::Value> valueFromJson(const nlohmann::json& json) {
  return fromJson(json, 0);
}

nlohmann::json recordToJson(const sync::Record& record) {
  nlohmann::json fields = nlohmann::json::object();
  for (const auto& [name, state] : record.fields) fields[name] = valueToJson(state.value);
  return {{"collection", record.key.collection}, {"id", record.key.id}, {"scope", record.scope}, {"fields", fields}};
}

nlohmann::json conflictToJson(const sync::Conflict& c) {
  auto side = [](const sync::ConflictSide& s) {
    nlohmann::json j = {{"stamp", s.stamp.toString()}, {"device", s.stamp.device.hex()}, {"time_ms", s.stamp.wall_ms}};
    if (s.isDeletion()) {
      j["deleted"] = true;
    } else {
      j["value"] = valueToJson(*s.value);
    }
    return j;
  };
  return {{"id", c.id()},
          {"collection", c.key.collection},
          {"record", c.key.id},
          {"scope", c.scope},
          {"field", c.field},
          {"status", c.status == sync::ConflictStatus::kOpen ? "open" : "resolved"},
          {"values", {side(c.kept), side(c.lost)}},
          {"kept", side(c.kept)},
          {"lost", side(c.lost)}};
}

nlohmann::json reportToJson(const SyncReport& report) {
  return {{"pushed", report.pushed},
          {"accepted", report.accepted},
          {"rejected", report.rejected},
          {"pulled", report.pulled},
          {"conflicts", report.conflicts},
          {"bytes_sent", report.bytes_sent},
          {"bytes_received", report.bytes_received},
          {"purged", report.purged},
          {"files_sent", report.files_sent},
          {"files_received", report.files_received},
          {"file_bytes_sent", report.file_bytes_sent},
          {"file_bytes_received", report.file_bytes_received}};
}

nlohmann::json statusToJson(const LocalStatus& status) {
  nlohmann::json j = {{"pending", status.pending},
                      {"last_sync_ms", status.last_sync_ms},
                      {"files_pending", status.files_pending},
                      {"file_bytes_pending", status.file_bytes_pending}};
  j["rejected"] = nlohmann::json::array();
  for (const auto& r : status.rejected) {
    j["rejected"].push_back({{"collection", r.change.key.collection},
                             {"id", r.change.key.id},
                             {"code", errorCodeName(static_cast<ErrorCode>(r.code))},
                             {"reason", r.reason}});
  }
  j["conflicts"] = nlohmann::json::array();
  for (const auto& c : status.conflicts) j["conflicts"].push_back(conflictToJson(c));
  return j;
}

}  // namespace communesync::client
