// Whose request this is, behind a reverse proxy: the peer's address, unless the peer is one of the
// configured trusted proxies (config "trusted_proxies"), in which case X-Forwarded-For says who the
// proxy served. The list is read from the right (each proxy appends the address it was reached
// from) and the first address that is not itself a trusted proxy is the client: what a client
// writes into the header itself sits further left and is never believed. From any other peer the
// header is ignored. The answer feeds the login throttle, the audit log and the admin API's
// loopback check (a request nginx forwards from another machine is not loopback).
#pragma once

#include <boost/asio/ip/address.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include <string>

#include "base/address_set.hpp"

namespace communesync::server {

struct ClientAddress {
  std::string text;  //!< the address, as the throttle and the audit log key it
  bool loopback = false;
};

ClientAddress clientAddress(const boost::asio::ip::address& peer,
                            const boost::beast::http::request<boost::beast::http::string_body>& request,
                            const AddressSet& trusted_proxies);

}  // namespace communesync::server
