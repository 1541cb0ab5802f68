// The admin tool's HTTP client: one call, its JSON answer, and a clear message when it fails.
#pragma once

#include <functional>
#include <iostream>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "communesync/client/http_client.hpp"

namespace communesync::tools {

struct Api {
  std::string server;
  std::string token;
  client::TlsOptions tls;

  // Sends the request; returns the JSON answer, or prints why it failed and returns nullopt.
  std::optional<nlohmann::json> call(const std::string& method, const std::string& path, const std::string& body = "",
                                     const std::string& content_type = "application/json",
                                     unsigned expect = 200) const {
    auto reply = client::httpRequest(server, method, path, token, content_type, body, tls);
    if (!reply) {
      std::cerr << "communesync-admin: cannot reach " << server << ": " << reply.status().message() << "\n";
      return std::nullopt;
    }
    nlohmann::json j = nlohmann::json::parse(reply->body, nullptr, false);
    if (reply->status != expect || j.is_discarded()) {
      std::string message =
          (!j.is_discarded() && j.is_object() && j.contains("message")) ? j["message"].get<std::string>() : reply->body;
      std::cerr << "communesync-admin: the server refused (HTTP " << reply->status << "): " << message << "\n";
      return std::nullopt;
    }
    return j;
  }

  // GETs `path` into `out` a piece at a time (an export of any size); false, with why, on failure.
  bool download(const std::string& path, std::ostream& out) const {
    return download(path, [&out](std::string_view piece) {
      out.write(piece.data(), static_cast<std::streamsize>(piece.size()));
      return static_cast<bool>(out);
    });
  }

  // The same, each piece to `sink` (false from it stops the download, and it fails).
  bool download(const std::string& path, const std::function<bool(std::string_view)>& sink) const {
    auto reply = client::httpDownload(server, path, token, sink, tls);
    if (!reply) {
      std::cerr << "communesync-admin: " << server << ": " << reply.status().message() << "\n";
      return false;
    }
    if (reply->status != 200) {
      nlohmann::json j = nlohmann::json::parse(reply->body, nullptr, false);
      std::string message =
          (!j.is_discarded() && j.is_object() && j.contains("message")) ? j["message"].get<std::string>() : reply->body;
      std::cerr << "communesync-admin: the server refused (HTTP " << reply->status << "): " << message << "\n";
      return false;
    }
    return true;
  }
};

//! Percent-encodes one path segment or query value.
inline std::string urlPart(const std::string& text) {
  std::string out;
  static constexpr char kHex[] = "0123456789ABCDEF";
  for (unsigned char c : text) {
    if (std::isalnum(c) != 0 || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

}  // namespace communesync::tools
