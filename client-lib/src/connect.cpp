#include "connect.hpp"

namespace communesync::client {

Result<ServerAddress> parseServerUrl(const std::string& url) {
  ServerAddress out;
  std::string rest;
  std::string default_port;
  for (auto [scheme, tls, port] : {std::tuple{"ws://", false, "80"}, std::tuple{"wss://", true, "443"},
                                   std::tuple{"http://", false, "80"}, std::tuple{"https://", true, "443"}}) {
    if (url.rfind(scheme, 0) == 0) {
      rest = url.substr(std::string_view(scheme).size());
      out.tls = tls;
      default_port = port;
    }
  }
  if (default_port.empty()) {
    return Status::error(ErrorCode::kInvalidArgument,
                         "server address must start with ws://, wss://, http:// or https:// (got '" + url + "')");
  }
  auto slash = rest.find('/');
  out.path = slash == std::string::npos ? "/sync" : rest.substr(slash);
  if (out.path == "/") out.path = "/sync";
  rest = rest.substr(0, slash);
  if (rest.empty()) return Status::error(ErrorCode::kInvalidArgument, "server address has no host (got '" + url + "')");
  auto colon = rest.rfind(':');
  if (colon == std::string::npos || (rest.front() == '[' && rest.back() == ']')) {
    out.host = rest;
    out.port = default_port;
  } else {
    out.host = rest.substr(0, colon);
    out.port = rest.substr(colon + 1);
  }
  if (out.host.size() > 2 && out.host.front() == '[' && out.host.back() == ']') {
    out.host = out.host.substr(1, out.host.size() - 2);
  }
  if (out.host.empty() || out.port.empty() || out.port.find_first_not_of("0123456789") != std::string::npos ||
      out.port.size() > 5) {
    return Status::error(ErrorCode::kInvalidArgument, "server address needs HOST:PORT (got '" + url + "')");
  }
  return out;
}

namespace detail {

Result<std::shared_ptr<ssl::context>> makeTlsContext(const TlsOptions& options) {
  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_client);
  SSL_CTX_set_min_proto_version(ctx->native_handle(), TLS1_2_VERSION);
  ctx->set_verify_mode(ssl::verify_peer);
  beast::error_code ec;
  if (options.ca_file.empty()) {
    ctx->set_default_verify_paths(ec);
    if (ec) return Status::error(ErrorCode::kIoError, "cannot load the system's trusted CAs: " + ec.message());
  } else {
    ctx->load_verify_file(options.ca_file, ec);
    if (ec) {
      return Status::error(ErrorCode::kInvalidArgument,
                           "cannot use CA file " + options.ca_file + ": " + ec.message() + " (a PEM file is needed)");
    }
  }
  return ctx;
}

Status connectTcp(net::io_context& ioc, beast::tcp_stream& stream, const ServerAddress& address) {
  tcp::resolver resolver(ioc);
  beast::error_code ec;
  auto endpoints = resolver.resolve(address.host, address.port, ec);
  if (ec) return Status::error(ErrorCode::kUnavailable, "cannot find server " + address.host + ": " + ec.message());
  stream.expires_after(tuning::kConnectTimeout);
  ec = runOne(ioc, [&](auto handler) { stream.async_connect(endpoints, handler); });
  if (ec) {
    return Status::error(ErrorCode::kUnavailable,
                         "cannot reach " + address.host + ":" + address.port + ": " + ec.message());
  }
  stream.socket().set_option(tcp::no_delay(true), ec);
  return Status::ok();
}

}  // namespace detail
}  // namespace communesync::client
