#include "net/listener.hpp"

#include <iostream>

#include "base/log.hpp"
#include "base/tuning.hpp"
#include "net/http_session.hpp"

namespace communesync::server {

Listener::Listener(net::io_context& ioc, ServerContext& context)
    : ioc_(ioc), acceptor_(net::make_strand(ioc)), pause_(acceptor_.get_executor()), context_(context) {}

Status Listener::open(const tcp::endpoint& endpoint) {
  beast::error_code ec;
  const std::string where = endpoint.address().to_string() + ":" + std::to_string(endpoint.port());
  auto fail = [&](std::string_view what) {
    return Status::error(ErrorCode::kUnavailable, "cannot " + std::string(what) + " " + where + ": " + ec.message());
  };
  if (acceptor_.open(endpoint.protocol(), ec); ec) return fail("open a socket for");
  if (acceptor_.set_option(net::socket_base::reuse_address(true), ec); ec) return fail("set options on");
  if (acceptor_.bind(endpoint, ec); ec) return fail("listen on");
  if (acceptor_.listen(tuning::kListenBacklog, ec); ec) return fail("listen on");
  return Status::ok();
}

std::uint16_t Listener::port() const {
  beast::error_code ec;
  auto ep = acceptor_.local_endpoint(ec);
  return ec ? 0 : ep.port();
}

void Listener::run() {
  doAccept();
}

void Listener::stop() {
  net::dispatch(acceptor_.get_executor(), [self = shared_from_this()] {
    beast::error_code ec;
    self->acceptor_.close(ec);
    self->pause_.cancel();
  });
}

void Listener::doAccept() {
  acceptor_.async_accept(net::make_strand(ioc_), beast::bind_front_handler(&Listener::onAccept, shared_from_this()));
}

void Listener::onAccept(beast::error_code ec, tcp::socket socket) {
  if (ec == net::error::operation_aborted || !acceptor_.is_open()) return;
  if (ec) {
    // Out of descriptors (or kernel memory): accepting again at once fails again at once, a busy
    // loop. Wait a moment for sessions to end; log once per interval, with the count.
    const bool exhausted = ec == net::error::no_descriptors ||
                           ec == boost::system::errc::too_many_files_open_in_system ||
                           ec == net::error::no_buffer_space || ec == net::error::no_memory;
    if (auto count = accept_errors_.note(); count > 0) {
      logEvent(LogLevel::kWarn, "accept_failed",
               {{"error", ec.message()},
                {"count", std::to_string(count)},
                {"paused_ms", exhausted ? std::to_string(tuning::kAcceptPauseWhenExhausted.count()) : "0"}});
    }
    if (exhausted) {
      pause_.expires_after(tuning::kAcceptPauseWhenExhausted);
      pause_.async_wait([self = shared_from_this()](beast::error_code wait_ec) {
        if (!wait_ec && self->acceptor_.is_open()) self->doAccept();
      });
      return;
    }
  } else {
    // Messages are whole requests and replies: send them at once (no Nagle delay of ~40 ms).
    beast::error_code nodelay_ec;
    socket.set_option(tcp::no_delay(true), nodelay_ec);
    startHttpSession(std::move(socket), context_);
  }
  doAccept();
}

}  // namespace communesync::server
