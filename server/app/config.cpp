#include "app/config.hpp"

#include <algorithm>
#include <charconv>
#include <fstream>
#include <nlohmann/json.hpp>

#include "programme/report_rules.hpp"

#include "base/address_set.hpp"
#include "base/tuning.hpp"
#include "communesync/storage/postgres_store.hpp"

namespace communesync::server {

Status parseListen(const std::string& text, Config& config) {
  auto colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0) {
    return Status::error(ErrorCode::kInvalidArgument, "--listen wants HOST:PORT, got '" + text + "'");
  }
  std::string host = text.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  unsigned port = 0;
  auto port_text = std::string_view(text).substr(colon + 1);
  auto [ptr, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc() || ptr != port_text.data() + port_text.size() || port > 65535) {
    return Status::error(ErrorCode::kInvalidArgument,
                         "--listen: '" + std::string(port_text) + "' is not a port (0-65535)");
  }
  config.listen_host = host;
  config.listen_port = static_cast<std::uint16_t>(port);
  return Status::ok();
}

const std::vector<std::string_view>& configKeys() {
  static const std::vector<std::string_view> keys = {
      "data",      "listen",     "threads",   "admin_remote",       "allowed_origins", "tls_cert",     "tls_key",
      "limits",    "forms_dir",  "web_dir",   "device_silent_days", "require_forms",   "report_rules", "log_level",
      "field_app", "keep_views", "retention", "trusted_proxies",    "metrics_from",    "store",        "cache_mb"};
  return keys;
}

const std::vector<std::string_view>& limitKeys() {
  static const std::vector<std::string_view> keys = {
      "max_connections",
      "max_connections_per_address",
      "max_sessions_per_user",
      "handshake_timeout_ms",
      "session_idle_timeout_ms",
      "messages_per_second",
      "bytes_per_second",
      "max_file_bytes",
      "max_file_bytes_per_user_day",
      "max_unreferenced_file_bytes_per_user",
      "file_retention_hours",
      "max_file_bytes_per_device_day"};  // the last: the older name of max_file_bytes_per_user_day
  return keys;
}

namespace {

bool listed(const std::vector<std::string_view>& keys, std::string_view key) {
  return std::find(keys.begin(), keys.end(), key) != keys.end();
}

Status parseLimits(const nlohmann::json& j, const std::string& name, Limits& limits) {
  if (!j.is_object()) return Status::error(ErrorCode::kInvalidArgument, name + " must be an object");
  for (const auto& [key, value] : j.items()) {
    const std::string where = name + "." + key;
    if (!listed(limitKeys(), key)) {
      return Status::error(ErrorCode::kInvalidArgument, where + " is not a limit (see docs/operations.md)");
    }
    if (!value.is_number() || value.get<double>() <= 0 || value.get<double>() > 1e12) {
      return Status::error(ErrorCode::kInvalidArgument, where + " must be a positive number");
    }
    const auto whole = static_cast<std::uint64_t>(value.get<double>());
    if (key == "max_connections") {
      limits.max_connections = whole;
    } else if (key == "max_connections_per_address") {
      limits.max_connections_per_address = whole;
    } else if (key == "max_sessions_per_user") {
      limits.max_sessions_per_user = whole;
    } else if (key == "handshake_timeout_ms") {
      limits.handshake_timeout = std::chrono::milliseconds(whole);
    } else if (key == "session_idle_timeout_ms") {
      limits.session_idle_timeout = std::chrono::milliseconds(whole);
    } else if (key == "messages_per_second") {
      limits.messages_per_second = value.get<double>();
    } else if (key == "bytes_per_second") {
      limits.bytes_per_second = value.get<double>();
    } else if (key == "max_file_bytes") {
      limits.max_file_bytes = whole;
    } else if (key == "max_file_bytes_per_user_day" || key == "max_file_bytes_per_device_day") {
      limits.max_file_bytes_per_user_day = whole;
    } else if (key == "max_unreferenced_file_bytes_per_user") {
      limits.max_unreferenced_file_bytes_per_user = whole;
    } else if (key == "file_retention_hours") {
      limits.file_retention = std::chrono::hours(whole);
    } else {
      return Status::error(ErrorCode::kInvalidArgument, where + " is not a limit (see docs/operations.md)");
    }
  }
  return Status::ok();
}

// {"photo_max_px": 320..8000, "photo_quality": 0.3..1}: what the field app does to a photo.
Status parseFieldApp(const nlohmann::json& j, const std::string& name, Config& config) {
  if (!j.is_object()) return Status::error(ErrorCode::kInvalidArgument, name + " must be an object");
  for (const auto& [key, value] : j.items()) {
    const std::string where = name + "." + key;
    if (key == "photo_max_px") {
      if (!value.is_number_integer() || value.get<std::int64_t>() < 320 || value.get<std::int64_t>() > 8000) {
        return Status::error(ErrorCode::kInvalidArgument, where + " must be a whole number of pixels from 320 to 8000");
      }
      config.photo_max_px = value.get<int>();
    } else if (key == "photo_quality") {
      if (!value.is_number() || value.get<double>() < 0.3 || value.get<double>() > 1) {
        return Status::error(ErrorCode::kInvalidArgument, where + " must be a number from 0.3 to 1");
      }
      config.photo_quality = value.get<double>();
    } else {
      return Status::error(ErrorCode::kInvalidArgument,
                           where + " is not a field app setting (photo_max_px, photo_quality; see docs/operations.md)");
    }
  }
  return Status::ok();
}

Result<std::vector<std::string>> stringList(const nlohmann::json& value, const std::string& where) {
  const auto refused = Status::error(ErrorCode::kInvalidArgument, where + " must be a list of strings");
  if (!value.is_array()) return refused;
  std::vector<std::string> out;
  for (const auto& item : value) {
    if (!item.is_string()) return refused;
    out.push_back(item.get<std::string>());
  }
  return out;
}

// {"history_years": 0..100, "audit_years": 0..100, "tombstone_years": 0..100}; 0 keeps forever.
Status parseRetention(const nlohmann::json& j, const std::string& name, Config& config) {
  if (!j.is_object()) return Status::error(ErrorCode::kInvalidArgument, name + " must be an object");
  Retention retention = config.retention;  // all or nothing
  for (const auto& [key, value] : j.items()) {
    const std::string where = name + "." + key;
    int* years = key == "history_years"     ? &retention.history_years
                 : key == "audit_years"     ? &retention.audit_years
                 : key == "tombstone_years" ? &retention.tombstone_years
                                            : nullptr;
    if (years == nullptr) {
      return Status::error(
          ErrorCode::kInvalidArgument,
          where + " is not a retention (history_years, audit_years, tombstone_years; see docs/operations.md)");
    }
    if (!value.is_number_integer() || value.get<std::int64_t>() < 0 || value.get<std::int64_t>() > 100) {
      return Status::error(ErrorCode::kInvalidArgument,
                           where + " must be a whole number of years from 0 (forever) to 100");
    }
    *years = value.get<int>();
  }
  config.retention = retention;
  return Status::ok();
}

}  // namespace

Status loadConfigFile(const std::filesystem::path& file, Config& config) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return Status::error(ErrorCode::kNotFound, "config file " + file.string() + " cannot be read");
  std::string text;
  char buf[4096];
  while (in.read(buf, sizeof buf) || in.gcount() > 0) {
    text.append(buf, static_cast<std::size_t>(in.gcount()));
    if (text.size() > tuning::kMaxConfigBytes) {
      return Status::error(ErrorCode::kLimitExceeded, "config file " + file.string() + " is too large");
    }
  }
  return parseConfig(text, "config file " + file.string(), config);
}

Status parseConfig(std::string_view text, const std::string& name, Config& config) {
  if (text.size() > tuning::kMaxConfigBytes) return Status::error(ErrorCode::kLimitExceeded, name + " is too large");
  nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded()) return Status::error(ErrorCode::kInvalidArgument, name + " is not JSON");
  if (!j.is_object()) return Status::error(ErrorCode::kInvalidArgument, name + ": expected an object");
  for (const auto& item : j.items()) {
    // Not a structured binding: the lambda below refers to `value` (clang 14 cannot capture bindings).
    const auto& key = item.key();
    const auto& value = item.value();
    const std::string where = name + ": \"" + key + "\"";
    if (!listed(configKeys(), key)) {
      return Status::error(ErrorCode::kInvalidArgument, where + " is not a setting (see docs/operations.md)");
    }
    auto wantString = [&]() -> Result<std::string> {
      if (!value.is_string()) return Status::error(ErrorCode::kInvalidArgument, where + " must be a string");
      return value.get<std::string>();
    };
    if (key == "data" || key == "listen" || key == "tls_cert" || key == "tls_key" || key == "forms_dir" ||
        key == "web_dir" || key == "store") {
      auto text_value = wantString();
      if (!text_value) return text_value.status();
      if (key == "data") config.data_dir = *text_value;
      if (key == "store") {
        if (!text_value->empty() && !storage::isPostgresUrl(*text_value)) {
          return Status::error(ErrorCode::kInvalidArgument,
                               where +
                                   " must be a PostgreSQL URL (postgresql://USER@HOST[:PORT]/DB); the RocksDB "
                                   "store is chosen with \"data\"");
        }
        config.store = *text_value;
      }
      if (key == "listen") CS_RETURN_IF_ERROR(parseListen(*text_value, config));
      if (key == "tls_cert") config.tls_cert = *text_value;
      if (key == "tls_key") config.tls_key = *text_value;
      if (key == "forms_dir") config.forms_dir = *text_value;
      if (key == "web_dir") config.web_dir = *text_value;
    } else if (key == "log_level") {
      auto text_value = wantString();
      if (!text_value) return text_value.status();
      auto level = logLevelFromName(*text_value);
      if (!level) return Status::error(ErrorCode::kInvalidArgument, where + ": " + level.status().message());
      config.log_level = *level;
    } else if (key == "threads") {
      if (!value.is_number_unsigned() || value.get<std::uint64_t>() > 1024) {
        return Status::error(ErrorCode::kInvalidArgument, where + " must be a whole number up to 1024");
      }
      config.threads = value.get<unsigned>();
    } else if (key == "admin_remote" || key == "require_forms" || key == "keep_views") {
      if (!value.is_boolean()) return Status::error(ErrorCode::kInvalidArgument, where + " must be true or false");
      (key == "admin_remote" ? config.admin_remote
       : key == "keep_views" ? config.keep_views
                             : config.require_forms) = value.get<bool>();
    } else if (key == "device_silent_days") {
      if (!value.is_number_integer() || value.get<std::int64_t>() < 1 || value.get<std::int64_t>() > 3650) {
        return Status::error(ErrorCode::kInvalidArgument, where + " must be a whole number of days from 1 to 3650");
      }
      config.device_silent_days = value.get<int>();
    } else if (key == "cache_mb") {
      if (!value.is_number_integer() || value.get<std::int64_t>() < tuning::kMinCacheMiB ||
          value.get<std::int64_t>() > tuning::kMaxCacheMiB) {
        return Status::error(ErrorCode::kInvalidArgument, where + " must be a whole number of MiB from " +
                                                              std::to_string(tuning::kMinCacheMiB) + " to " +
                                                              std::to_string(tuning::kMaxCacheMiB));
      }
      config.cache_mb = value.get<int>();
    } else if (key == "allowed_origins") {
      auto list = stringList(value, where);
      if (!list) return list.status();
      config.allowed_origins = std::move(list).value();
    } else if (key == "trusted_proxies" || key == "metrics_from") {
      auto list = stringList(value, where);
      if (!list) return list.status();
      if (auto set = AddressSet::parse(*list); !set) {
        return Status::error(ErrorCode::kInvalidArgument, where + ": " + set.status().message());
      }
      (key == "trusted_proxies" ? config.trusted_proxies : config.metrics_from) = std::move(list).value();
    } else if (key == "report_rules") {
      CS_RETURN_IF_ERROR(checkReportRules(value));
      config.report_rules = value;
    } else if (key == "field_app") {
      CS_RETURN_IF_ERROR(parseFieldApp(value, where, config));
    } else if (key == "retention") {
      CS_RETURN_IF_ERROR(parseRetention(value, where, config));
    } else if (key == "limits") {
      CS_RETURN_IF_ERROR(parseLimits(value, where, config.limits));
    } else {
      return Status::error(ErrorCode::kInvalidArgument, where + " is not a setting (see docs/operations.md)");
    }
  }
  return Status::ok();
}

}  // namespace communesync::server
