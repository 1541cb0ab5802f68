#include "communesync/server/config.hpp"

#include <charconv>
#include <fstream>
#include <nlohmann/json.hpp>

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

Status loadConfigFile(const std::filesystem::path& file, Config& config) {
  std::ifstream in(file);
  if (!in) return Status::error(ErrorCode::kNotFound, "config file " + file.string() + " cannot be read");
  nlohmann::json j;
  try {
    in >> j;
  } catch (const nlohmann::json::exception& e) {
    return Status::error(ErrorCode::kInvalidArgument, "config file " + file.string() + " is not JSON: " + e.what());
  }
  if (!j.is_object())
    return Status::error(ErrorCode::kInvalidArgument, "config file " + file.string() + ": expected an object");
  for (const auto& [key, value] : j.items()) {
    const std::string where = "config file " + file.string() + ": \"" + key + "\"";
    if (key == "data") {
      if (!value.is_string()) return Status::error(ErrorCode::kInvalidArgument, where + " must be a string");
      config.data_dir = value.get<std::string>();
    } else if (key == "listen") {
      if (!value.is_string()) return Status::error(ErrorCode::kInvalidArgument, where + " must be a string");
      CS_RETURN_IF_ERROR(parseListen(value.get<std::string>(), config));
    } else if (key == "threads") {
      if (!value.is_number_unsigned())
        return Status::error(ErrorCode::kInvalidArgument, where + " must be a whole number");
      config.threads = value.get<unsigned>();
    } else {
      return Status::error(ErrorCode::kInvalidArgument, where + " is not a setting (see docs/operations.md)");
    }
  }
  return Status::ok();
}

}  // namespace communesync::server
