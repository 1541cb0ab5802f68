// Opening a connection to the server, plain or TLS, shared by the WebSocket transport and the
// password login. Private to client-lib.
#pragma once

#include <openssl/ssl.h>

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/ssl.hpp>

#include "communesync/client/server_address.hpp"
#include "communesync/client/tuning.hpp"

namespace communesync::client::detail {

namespace net = boost::asio;
namespace ssl = boost::asio::ssl;
namespace beast = boost::beast;
using tcp = net::ip::tcp;

//! A client TLS context: peer verification on, TLS 1.2 at least, the given CA file or the system's.
Result<std::shared_ptr<ssl::context>> makeTlsContext(const TlsOptions& options);

//! Runs `ioc` until the operation started by `start(handler)` completes (or its stream's timeout
//! fires); returns its error code.
template <class Start>
beast::error_code runOne(net::io_context& ioc, Start start) {
  beast::error_code result;
  bool done = false;
  start([&](beast::error_code ec, auto&&...) {
    result = ec;
    done = true;
  });
  ioc.restart();
  while (!done && ioc.run_one() > 0) {
  }
  return done ? result : beast::error_code(net::error::timed_out);
}

//! Resolves and connects the TCP stream (no Nagle delay: messages are whole requests).
Status connectTcp(net::io_context& ioc, beast::tcp_stream& stream, const ServerAddress& address);

//! The TLS handshake on a connected stream, with SNI and host name verification.
template <class SslStream>
Status handshakeTls(net::io_context& ioc, SslStream& stream, const ServerAddress& address) {
  // SSL_set_tlsext_host_name, spelled out: the macro's C cast trips -Wold-style-cast.
  if (SSL_ctrl(stream.native_handle(), SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
               static_cast<void*>(const_cast<char*>(address.host.c_str()))) != 1) {
    return Status::error(ErrorCode::kInvalidArgument, "cannot use '" + address.host + "' as a TLS server name");
  }
  stream.set_verify_callback(ssl::host_name_verification(address.host));
  beast::get_lowest_layer(stream).expires_after(tuning::kConnectTimeout);
  auto ec = runOne(ioc, [&](auto handler) { stream.async_handshake(ssl::stream_base::client, handler); });
  if (ec) {
    return Status::error(ErrorCode::kUnavailable, "TLS with " + address.host + " failed: " + ec.message() +
                                                      " (is the server's certificate trusted? see --ca)");
  }
  return Status::ok();
}

}  // namespace communesync::client::detail
