// Accepts TCP connections and gives each its own strand and session.
#pragma once

#include <memory>

#include "base/log.hpp"
#include "base/tuning.hpp"
#include "communesync/storage/result.hpp"
#include "net/context.hpp"
#include "net/net.hpp"

namespace communesync::server {

class Listener : public std::enable_shared_from_this<Listener> {
 public:
  Listener(net::io_context& ioc, ServerContext& context);
  //! Binds and listens. Errors: kUnavailable naming the address and the cause.
  Status open(const tcp::endpoint& endpoint);
  void run();
  void stop();
  std::uint16_t port() const;

 private:
  void doAccept();
  void onAccept(beast::error_code ec, tcp::socket socket);

  net::io_context& ioc_;
  tcp::acceptor acceptor_;
  net::steady_timer pause_;  // accepting waits on it while descriptors run out
  LogEvery accept_errors_{tuning::kRepeatedEventLogInterval};
  ServerContext& context_;
};

}  // namespace communesync::server
