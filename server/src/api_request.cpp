#include "api_request.hpp"

namespace communesync::server {

std::optional<Asker> askerOf(const HttpRequest& request, ServerState& state) {
  const auto token = bearerToken(request);
  if (token.empty()) return std::nullopt;
  if (state.directory.isAdminToken(token)) return Asker{"admin", true, {}, state.data.scopes()};
  auto principal = state.directory.authenticate(token);
  if (!principal || !principal->has_value()) return std::nullopt;
  Asker asker{(*principal)->user, false, state.directory.accessOf((*principal)->grants), {}};
  asker.readable = asker.access.readable();
  return asker;
}

// Written here because Debian ships Boost.URL's headers but not its library, and its header-only
// build gave wrong values in this server (seen: "xa-01" decoded as "xa-01-01"); a query string of
// key=value pairs is small enough to decode by hand.
std::string percentDecoded(std::string_view text) {
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '+') {
      out += ' ';
    } else if (text[i] == '%' && i + 2 < text.size() && hex(text[i + 1]) >= 0 && hex(text[i + 2]) >= 0) {
      out += static_cast<char>(hex(text[i + 1]) * 16 + hex(text[i + 2]));
      i += 2;
    } else {
      out += text[i];
    }
  }
  return out;
}

std::map<std::string, std::string> queryParams(std::string_view query) {
  std::map<std::string, std::string> out;
  while (!query.empty()) {
    const auto amp = query.find('&');
    const auto pair = query.substr(0, amp);
    const auto eq = pair.find('=');
    if (!pair.empty()) {
      out[percentDecoded(pair.substr(0, eq))] = eq == std::string_view::npos ? "" : percentDecoded(pair.substr(eq + 1));
    }
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return out;
}

std::string param(const std::map<std::string, std::string>& params, const std::string& key) {
  auto it = params.find(key);
  return it == params.end() ? std::string() : it->second;
}

std::optional<std::vector<Scope>> unitsAsked(ServerState& state, const std::map<std::string, std::string>& params) {
  const auto unit = param(params, "unit");
  if (unit.empty()) return std::nullopt;
  return state.directory.accessOf({Grant{Role::kField, unit}}).readable();
}

std::vector<Scope> readableAsked(ServerState& state, const Asker& asker,
                                 const std::map<std::string, std::string>& params) {
  auto asked = unitsAsked(state, params);
  if (!asked) return asker.readable;
  std::vector<Scope> out;
  for (const auto& u : *asked) {
    if (asker.mayRead(u)) out.push_back(u);
  }
  return out;
}

std::optional<sync::RecordKey> recordPath(std::string_view rest) {
  const auto slash = rest.find('/');
  if (slash == std::string_view::npos || slash == 0 || slash + 1 == rest.size()) return std::nullopt;
  return sync::RecordKey{std::string(rest.substr(0, slash)), std::string(rest.substr(slash + 1))};
}

}  // namespace communesync::server
