#include "communesync/client/websocket_transport.hpp"

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>

#include <optional>

#include "communesync/client/tuning.hpp"
#include "communesync/sync/messages.hpp"

namespace communesync::client {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace websocket = boost::beast::websocket;
namespace http = boost::beast::http;
using tcp = net::ip::tcp;

Result<ParsedUrl> parseWsUrl(const std::string& url) {
  constexpr std::string_view kScheme = "ws://";
  if (url.rfind(kScheme, 0) != 0) {
    return Status::error(ErrorCode::kInvalidArgument, "server address must start with ws:// (got '" + url + "')");
  }
  std::string rest = url.substr(kScheme.size());
  ParsedUrl out;
  auto slash = rest.find('/');
  out.path = slash == std::string::npos ? "/sync" : rest.substr(slash);
  if (out.path == "/") out.path = "/sync";
  rest = rest.substr(0, slash);
  auto colon = rest.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == rest.size()) {
    return Status::error(ErrorCode::kInvalidArgument, "server address needs HOST:PORT (got '" + url + "')");
  }
  out.host = rest.substr(0, colon);
  out.port = rest.substr(colon + 1);
  if (out.port.find_first_not_of("0123456789") != std::string::npos) {
    return Status::error(ErrorCode::kInvalidArgument, "'" + out.port + "' is not a port");
  }
  return out;
}

struct WebSocketTransport::Impl {
  net::io_context ioc;
  std::optional<websocket::stream<beast::tcp_stream>> ws;
  beast::flat_buffer buffer;
  bool open = false;
  // A read may outlive one call to poll(): it stays pending until a frame arrives.
  bool reading = false;
  bool read_done = false;
  beast::error_code read_ec;

  // Runs the io_context until `done` or the timeout; false on timeout (operations stay pending).
  template <class Pred>
  bool runUntil(Pred done, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!done()) {
      ioc.restart();
      if (ioc.run_one_until(deadline) == 0 && std::chrono::steady_clock::now() >= deadline) return done();
    }
    return true;
  }

  // Closes the socket so pending operations end, and lets them finish.
  void abort() {
    open = false;
    if (!ws) return;
    beast::error_code ec;
    beast::get_lowest_layer(*ws).socket().close(ec);
    ioc.restart();
    ioc.run_for(std::chrono::milliseconds(100));
  }
};

WebSocketTransport::WebSocketTransport(std::string url, std::string token)
    : impl_(std::make_unique<Impl>()), url_(std::move(url)), token_(std::move(token)) {}

WebSocketTransport::~WebSocketTransport() {
  close();
}

Status WebSocketTransport::connect() {
  auto url = parseWsUrl(url_);
  if (!url) return url.status();
  if (impl_->ws) impl_->abort();  // a previous connection's operations end before its stream goes
  impl_->reading = false;
  impl_->ws.emplace(impl_->ioc);
  impl_->buffer.clear();
  auto& ws = *impl_->ws;
  beast::error_code ec;

  tcp::resolver resolver(impl_->ioc);
  auto endpoints = resolver.resolve(url->host, url->port, ec);
  if (ec) return Status::error(ErrorCode::kUnavailable, "cannot find server " + url->host + ": " + ec.message());

  bool done = false;
  beast::get_lowest_layer(ws).expires_after(tuning::kConnectTimeout);
  beast::get_lowest_layer(ws).async_connect(endpoints, [&](beast::error_code e, const tcp::endpoint&) {
    ec = e;
    done = true;
  });
  impl_->ioc.restart();
  impl_->ioc.run();
  if (!done || ec) {
    return Status::error(ErrorCode::kUnavailable,
                         "cannot reach " + url->host + ":" + url->port + ": " + (ec ? ec.message() : "timed out"));
  }

  // Messages are whole requests: send them at once (no Nagle delay of ~40 ms per round trip).
  beast::get_lowest_layer(ws).socket().set_option(tcp::no_delay(true), ec);
  ws.set_option(websocket::stream_base::decorator([this](websocket::request_type& req) {
    req.set(http::field::authorization, "Bearer " + token_);
    req.set(http::field::sec_websocket_protocol, sync::proto::kSubprotocol);
    req.set(http::field::user_agent, "communesync-client");
  }));
  ws.read_message_max(tuning::kMaxMessageBytes);
  ws.binary(true);
  websocket::response_type response;
  done = false;
  ws.async_handshake(response, url->host + ":" + url->port, url->path, [&](beast::error_code e) {
    ec = e;
    done = true;
  });
  impl_->ioc.restart();
  impl_->ioc.run();
  if (!done || ec) {
    if (response.result() == http::status::unauthorized) {
      return Status::error(ErrorCode::kUnauthorized, "the server refused the token; log in again");
    }
    if (response.result_int() != 0 && response.result() != http::status::switching_protocols) {
      return Status::error(ErrorCode::kProtocol, "the server answered HTTP " + std::to_string(response.result_int()) +
                                                     ": " + response.body());
    }
    return Status::error(ErrorCode::kUnavailable, "WebSocket handshake failed: " + (ec ? ec.message() : "timed out"));
  }
  if (response[http::field::sec_websocket_protocol] != sync::proto::kSubprotocol) {
    return Status::error(ErrorCode::kProtocol, "the server does not speak " + std::string(sync::proto::kSubprotocol));
  }
  // From here on the reply timeouts of the replicator apply, through receive().
  beast::get_lowest_layer(ws).expires_never();
  impl_->open = true;
  return Status::ok();
}

Status WebSocketTransport::send(std::string_view frame) {
  if (!impl_->open) return Status::error(ErrorCode::kUnavailable, "not connected");
  beast::error_code ec;
  bool done = false;
  impl_->ws->async_write(net::buffer(frame.data(), frame.size()), [&](beast::error_code e, std::size_t) {
    ec = e;
    done = true;
  });
  if (!impl_->runUntil([&] { return done; }, tuning::kReplyTimeout)) {
    impl_->abort();  // ends the write before `done` and `ec` go out of scope
    return Status::error(ErrorCode::kUnavailable, "connection lost while sending: timed out");
  }
  if (ec) {
    impl_->open = false;
    return Status::error(ErrorCode::kUnavailable, "connection lost while sending: " + ec.message());
  }
  sent_ += frame.size();
  return Status::ok();
}

Result<std::optional<std::string>> WebSocketTransport::read(std::chrono::milliseconds timeout) {
  if (!impl_->open) return Status::error(ErrorCode::kUnavailable, "not connected");
  if (!impl_->reading) {
    impl_->reading = true;
    impl_->read_done = false;
    impl_->buffer.clear();
    impl_->ws->async_read(impl_->buffer, [this](beast::error_code e, std::size_t) {
      impl_->read_ec = e;
      impl_->read_done = true;
    });
  }
  if (!impl_->runUntil([&] { return impl_->read_done; }, timeout)) return std::optional<std::string>();
  impl_->reading = false;
  const auto ec = impl_->read_ec;
  if (ec) {
    impl_->open = false;
    // A close frame from the server (even if our reply to it could not be written) says why.
    const auto& reason = impl_->ws->reason();
    if (ec == websocket::error::closed || reason.code != websocket::close_code::none) {
      return Status::error(ErrorCode::kUnavailable,
                           "the server closed the connection" +
                               (reason.reason.empty() ? std::string() : ": " + std::string(reason.reason.c_str())));
    }
    return Status::error(ErrorCode::kUnavailable, "connection lost: " + ec.message());
  }
  std::string out = beast::buffers_to_string(impl_->buffer.data());
  received_ += out.size();
  return std::optional<std::string>(std::move(out));
}

Result<std::string> WebSocketTransport::receive(std::chrono::milliseconds timeout) {
  auto frame = read(timeout);
  if (!frame) return frame.status();
  if (!frame->has_value()) {
    impl_->abort();  // a reply that does not come in time ends the connection
    return Status::error(ErrorCode::kUnavailable,
                         "no answer from the server in " + std::to_string(timeout.count() / 1000) + " s");
  }
  return std::move(**frame);
}

Result<std::optional<std::string>> WebSocketTransport::poll(std::chrono::milliseconds timeout) {
  return read(timeout);
}

void WebSocketTransport::close() {
  if (!impl_->ws) return;
  if (impl_->open) {
    impl_->open = false;
    bool done = false;
    impl_->ws->async_close(websocket::close_code::normal, [&](beast::error_code) { done = true; });
    impl_->runUntil([&] { return done && (!impl_->reading || impl_->read_done); }, std::chrono::seconds(2));
  }
  impl_->abort();
  impl_->reading = false;
}

}  // namespace communesync::client
