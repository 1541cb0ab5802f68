// The key a client address is counted under, by the per-address connection limit and the login
// throttle alike: the address itself for IPv4, its /64 for IPv6 (one household or phone holds a
// whole /64, so counting single IPv6 addresses would count nothing), IPv4-mapped IPv6 as IPv4.
#pragma once

#include <string>

namespace communesync::server {

//! "10.0.0.1" -> "10.0.0.1"; "2001:db8:1:2:aaaa::1" -> "2001:db8:1:2::/64"; "::ffff:10.0.0.1" ->
//! "10.0.0.1"; anything that is not an address is its own key.
std::string peerKey(const std::string& address);

}  // namespace communesync::server
