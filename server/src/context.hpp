// What every session of one server shares. Owned by Server; outlives every session.
#pragma once

#include <boost/asio/ssl/context.hpp>
#include <boost/asio/thread_pool.hpp>
#include <memory>

#include "admission.hpp"
#include "communesync/server/config.hpp"
#include "communesync/server/http_handler.hpp"
#include "hub.hpp"
#include "writer.hpp"

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
};

}  // namespace communesync::server
