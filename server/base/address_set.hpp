// A set of IP addresses and networks from the config ("10.0.0.5", "192.168.1.0/24", "::1",
// "fd00::/8"): the trusted reverse proxies (net/client_address.hpp) and the addresses that may read
// /metrics without a token. An IPv4-mapped IPv6 peer ("::ffff:10.0.0.5") matches its IPv4 entry.
#pragma once

#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/network_v4.hpp>
#include <boost/asio/ip/network_v6.hpp>

#include <string>
#include <string_view>
#include <vector>

#include "communesync/storage/result.hpp"

namespace communesync::server {

class AddressSet {
 public:
  //! Each entry an address or ADDRESS/PREFIX. Errors: kInvalidArgument naming the entry.
  static Result<AddressSet> parse(const std::vector<std::string>& entries);

  bool contains(const boost::asio::ip::address& address) const;
  //! The same for an address as text; false when it is not one.
  bool contains(std::string_view address) const;
  bool empty() const { return v4_.empty() && v6_.empty(); }

 private:
  std::vector<boost::asio::ip::network_v4> v4_;
  std::vector<boost::asio::ip::network_v6> v6_;
};

}  // namespace communesync::server
