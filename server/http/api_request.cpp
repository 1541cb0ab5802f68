#include "http/api_request.hpp"

#include <charconv>

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

Query queryParams(std::string_view query) {
  Query out;
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

std::string param(const Query& params, const std::string& key) {
  auto it = params.find(key);
  return it == params.end() ? std::string() : it->second;
}

std::optional<std::vector<Scope>> unitsAsked(ServerState& state, const Query& params) {
  const auto unit = param(params, "unit");
  if (unit.empty()) return std::nullopt;
  return state.directory.accessOf({Grant{Role::kField, unit}}).readable();
}

std::vector<Scope> readableAsked(ServerState& state, const Asker& asker, const Query& params) {
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

std::string_view upgradeToken(const HttpRequest& request) {
  if (auto bearer = bearerToken(request); !bearer.empty()) return bearer;
  auto it = request.find(http::field::sec_websocket_protocol);
  if (it == request.end()) return {};
  constexpr std::string_view kPrefix = "communesync.token.";
  std::string_view offered = it->value();
  while (!offered.empty()) {
    const auto comma = offered.find(',');
    auto name = offered.substr(0, comma);
    while (!name.empty() && name.front() == ' ') name.remove_prefix(1);
    while (!name.empty() && name.back() == ' ') name.remove_suffix(1);
    if (name.size() > kPrefix.size() && name.substr(0, kPrefix.size()) == kPrefix) return name.substr(kPrefix.size());
    if (comma == std::string_view::npos) break;
    offered.remove_prefix(comma + 1);
  }
  return {};
}

std::string_view bearerToken(const HttpRequest& request) {
  auto it = request.find(http::field::authorization);
  if (it == request.end()) return {};
  std::string_view value = it->value();
  constexpr std::string_view kPrefix = "Bearer ";
  if (value.size() <= kPrefix.size() || value.substr(0, kPrefix.size()) != kPrefix) return {};
  return value.substr(kPrefix.size());
}

std::string stringField(const nlohmann::json& body, const char* key) {
  return body.contains(key) && body[key].is_string() ? body[key].get<std::string>() : std::string();
}

Result<nlohmann::json> jsonBody(const HttpRequest& request) {
  nlohmann::json body = nlohmann::json::parse(request.body(), nullptr, false);
  if (body.is_discarded() || !body.is_object()) {
    return Status::error(ErrorCode::kInvalidArgument, "the body must be a JSON object");
  }
  return body;
}

Result<std::uint64_t> countParam(const Query& params, const std::string& key, std::uint64_t fallback, std::uint64_t min,
                                 std::uint64_t max) {
  const auto text = param(params, key);
  if (text.empty()) return fallback;
  std::uint64_t value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error == std::errc::result_out_of_range) return max;
  if (error != std::errc() || end != text.data() + text.size()) {
    return Status::error(ErrorCode::kInvalidArgument, key + " must be a whole number");
  }
  return std::clamp(value, min, max);
}

Result<int> yearParam(const Query& params) {
  auto year = countParam(params, "year", 0, 0, 10000);
  if (!year || *year < 2000 || *year > 2100) {
    return Status::error(ErrorCode::kInvalidArgument, "say which year: ?year=YYYY (2000 to 2100)");
  }
  return static_cast<int>(*year);
}

Status submitJob(ServerState& state, const std::shared_ptr<PushJob>& job, std::string_view what) {
  CS_RETURN_IF_ERROR(state.apply_job(job));
  if (job->results.empty() || job->results[0].outcome != sync::proto::Outcome::kAccepted) {
    const auto why = job->results.empty() ? std::string("no result") : job->results[0].reason;
    return Status::error(ErrorCode::kRejected, "the " + std::string(what) + " was refused: " + why);
  }
  return Status::ok();
}

}  // namespace communesync::server
