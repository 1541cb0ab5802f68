#include "base/address_set.hpp"

namespace communesync::server {

namespace ip = boost::asio::ip;

Result<AddressSet> AddressSet::parse(const std::vector<std::string>& entries) {
  AddressSet out;
  for (const auto& entry : entries) {
    boost::system::error_code ec;
    const auto slash = entry.find('/');
    const auto address = ip::make_address(entry.substr(0, slash), ec);
    int prefix = -1;
    if (!ec && slash != std::string::npos) {
      const auto digits = entry.substr(slash + 1);
      const int most = address.is_v4() ? 32 : 128;
      if (digits.empty() || digits.size() > 3 || digits.find_first_not_of("0123456789") != std::string::npos ||
          std::stoi(digits) > most) {
        ec = boost::asio::error::invalid_argument;
      } else {
        prefix = std::stoi(digits);
      }
    }
    if (ec) {
      return Status::error(ErrorCode::kInvalidArgument,
                           "'" + entry.substr(0, 60) + "' is not an IP address or network (ADDRESS or ADDRESS/PREFIX)");
    }
    if (address.is_v4()) {
      out.v4_.push_back(
          ip::make_network_v4(address.to_v4(), static_cast<unsigned short>(prefix < 0 ? 32 : prefix)).canonical());
    } else {
      out.v6_.push_back(
          ip::make_network_v6(address.to_v6(), static_cast<unsigned short>(prefix < 0 ? 128 : prefix)).canonical());
    }
  }
  return out;
}

bool AddressSet::contains(const ip::address& address) const {
  if (address.is_v6() && address.to_v6().is_v4_mapped()) {
    return contains(ip::address(ip::make_address_v4(ip::v4_mapped, address.to_v6())));
  }
  if (address.is_v4()) {
    const ip::network_v4 self(address.to_v4(), 32);
    for (const auto& net : v4_) {
      if (self == net || self.is_subnet_of(net)) return true;
    }
    return false;
  }
  const ip::network_v6 self(address.to_v6(), 128);
  for (const auto& net : v6_) {
    if (self == net || self.is_subnet_of(net)) return true;
  }
  return false;
}

bool AddressSet::contains(std::string_view address) const {
  boost::system::error_code ec;
  const auto parsed = ip::make_address(std::string(address), ec);
  return !ec && contains(parsed);
}

}  // namespace communesync::server
