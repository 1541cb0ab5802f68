// What every session of one server shares. Owned by Server; outlives every session.
#pragma once

#include <boost/asio/ssl/context.hpp>
#include <boost/asio/thread_pool.hpp>
#include <memory>

#include "app/config.hpp"
#include "base/address_set.hpp"
#include "http/router.hpp"
#include "net/admission.hpp"
#include "protocol/hub.hpp"
#include "protocol/writer.hpp"

namespace communesync::server {

struct ServerContext {
  ServerState& state;
  Writer& writer;
  Hub& hub;
  Admission& admission;
  const Limits& limits;
  //! Where plain HTTP requests are answered, off the I/O threads (tuning::kHttpWorkerThreads).
  boost::asio::thread_pool::executor_type http_work;
  //! Set when the port speaks TLS.
  std::shared_ptr<boost::asio::ssl::context> tls;
  //! Reverse proxies whose X-Forwarded-For is believed (net/client_address.hpp). Their connections
  //! count toward the server's limit only: each carries many clients (the proxy limits those).
  AddressSet trusted_proxies;
};

}  // namespace communesync::server
