#include "net/client_address.hpp"

#include <boost/algorithm/string/trim.hpp>

#include <algorithm>
#include <optional>
#include <string_view>
#include <vector>

namespace communesync::server {

namespace ip = boost::asio::ip;
namespace http = boost::beast::http;

namespace {

// One hop of X-Forwarded-For: "203.0.113.7", "2001:db8::1", or with a port ("203.0.113.7:5123",
// "[2001:db8::1]:5123") as some proxies write it.
std::optional<ip::address> hop(std::string_view text) {
  std::string s = boost::algorithm::trim_copy(std::string(text));
  if (!s.empty() && s.front() == '[') {
    const auto close = s.find(']');
    if (close == std::string::npos) return std::nullopt;
    s = s.substr(1, close - 1);
  } else if (std::count(s.begin(), s.end(), ':') == 1) {
    s = s.substr(0, s.find(':'));
  }
  boost::system::error_code ec;
  auto address = ip::make_address(s, ec);
  if (ec) return std::nullopt;
  return address;
}

ClientAddress of(const ip::address& address) {
  if (address.is_v6() && address.to_v6().is_v4_mapped()) {
    return of(ip::address(ip::make_address_v4(ip::v4_mapped, address.to_v6())));
  }
  return {address.to_string(), address.is_loopback()};
}

}  // namespace

ClientAddress clientAddress(const ip::address& peer, const http::request<http::string_body>& request,
                            const AddressSet& trusted_proxies) {
  if (trusted_proxies.empty() || !trusted_proxies.contains(peer)) return of(peer);
  // Every X-Forwarded-For header, in order, as one list of hops.
  std::vector<std::string_view> hops;
  const auto [first, last] = request.equal_range("X-Forwarded-For");
  for (auto field = first; field != last; ++field) {
    std::string_view value(field->value().data(), field->value().size());
    while (!value.empty()) {
      const auto comma = value.find(',');
      hops.push_back(value.substr(0, comma));
      if (comma == std::string_view::npos) break;
      value.remove_prefix(comma + 1);
    }
  }
  ip::address nearest = peer;  // the last address known to be a proxy we trust, or the client
  for (auto it = hops.rbegin(); it != hops.rend(); ++it) {
    auto address = hop(*it);
    if (!address) break;  // a trusted proxy passed on something unreadable: go no further left
    nearest = *address;
    if (!trusted_proxies.contains(*address)) break;
  }
  return of(nearest);
}

}  // namespace communesync::server
