#include "communesync/client/websocket_transport.hpp"

#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <nlohmann/json.hpp>
#include <optional>

#include "communesync/client/http_client.hpp"
#include "communesync/client/tuning.hpp"
#include "communesync/sync/messages.hpp"
#include "connect.hpp"

namespace communesync::client {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace websocket = boost::beast::websocket;
namespace http = boost::beast::http;
namespace ssl = boost::asio::ssl;
using tcp = net::ip::tcp;
using detail::runOne;

struct WebSocketTransport::Impl {
  net::io_context ioc;
  std::shared_ptr<ssl::context> tls;
  // One of the two, by the URL's scheme.
  std::optional<websocket::stream<beast::tcp_stream>> plain;
  std::optional<websocket::stream<beast::ssl_stream<beast::tcp_stream>>> secure;
  beast::flat_buffer buffer;
  bool open = false;
  // A read may outlive one call to poll(): it stays pending until a frame arrives.
  bool reading = false;
  bool read_done = false;
  beast::error_code read_ec;

  bool exists() const { return plain.has_value() || secure.has_value(); }
  //! Calls `f` with whichever stream is in use.
  template <class F>
  decltype(auto) with(F&& f) {
    if (secure) return f(*secure);
    return f(*plain);
  }

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
    if (!exists()) return;
    beast::error_code ec;
    with([&](auto& ws) { beast::get_lowest_layer(ws).socket().close(ec); });
    ioc.restart();
    ioc.run_for(std::chrono::milliseconds(100));
  }
};

WebSocketTransport::WebSocketTransport(std::string url, std::string token, TlsOptions tls)
    : impl_(std::make_unique<Impl>()), url_(std::move(url)), token_(std::move(token)), tls_(std::move(tls)) {}

WebSocketTransport::~WebSocketTransport() {
  close();
}

Status WebSocketTransport::connect() {
  auto url = parseServerUrl(url_);
  if (!url) return url.status();
  if (impl_->exists()) impl_->abort();  // a previous connection's operations end before its stream goes
  impl_->reading = false;
  impl_->plain.reset();
  impl_->secure.reset();
  impl_->buffer.clear();
  if (url->tls) {
    if (!impl_->tls) {
      auto ctx = detail::makeTlsContext(tls_);
      if (!ctx) return ctx.status();
      impl_->tls = std::move(ctx).value();
    }
    impl_->secure.emplace(impl_->ioc, *impl_->tls);
    CS_RETURN_IF_ERROR(detail::connectTcp(impl_->ioc, beast::get_lowest_layer(*impl_->secure), *url));
    CS_RETURN_IF_ERROR(detail::handshakeTls(impl_->ioc, impl_->secure->next_layer(), *url));
  } else {
    impl_->plain.emplace(impl_->ioc);
    CS_RETURN_IF_ERROR(detail::connectTcp(impl_->ioc, beast::get_lowest_layer(*impl_->plain), *url));
  }

  return impl_->with([&](auto& ws) -> Status {
    ws.set_option(websocket::stream_base::decorator([this](websocket::request_type& req) {
      req.set(http::field::authorization, "Bearer " + token_);
      req.set(http::field::sec_websocket_protocol, sync::proto::kSubprotocol);
      req.set(http::field::user_agent, "communesync-client");
    }));
    ws.read_message_max(tuning::kMaxMessageBytes);
    ws.binary(true);
    websocket::response_type response;
    beast::get_lowest_layer(ws).expires_after(tuning::kConnectTimeout);
    auto ec = runOne(impl_->ioc, [&](auto handler) {
      ws.async_handshake(response, url->host + ":" + url->port, url->path, handler);
    });
    if (ec) {
      if (response.result() == http::status::unauthorized) {
        return Status::error(ErrorCode::kUnauthorized, "the server refused the token; log in again");
      }
      if (response.result_int() != 0 && response.result() != http::status::switching_protocols) {
        return Status::error(ErrorCode::kProtocol, "the server answered HTTP " + std::to_string(response.result_int()) +
                                                       ": " + response.body());
      }
      return Status::error(ErrorCode::kUnavailable, "WebSocket handshake failed: " + ec.message());
    }
    if (response[http::field::sec_websocket_protocol] != sync::proto::kSubprotocol) {
      return Status::error(ErrorCode::kProtocol, "the server does not speak " + std::string(sync::proto::kSubprotocol));
    }
    // From here on the reply timeouts of the replicator apply, through receive().
    beast::get_lowest_layer(ws).expires_never();
    impl_->open = true;
    return Status::ok();
  });
}

Status WebSocketTransport::send(std::string_view frame) {
  if (!impl_->open) return Status::error(ErrorCode::kUnavailable, "not connected");
  beast::error_code ec;
  bool done = false;
  impl_->with([&](auto& ws) {
    ws.async_write(net::buffer(frame.data(), frame.size()), [&](beast::error_code e, std::size_t) {
      ec = e;
      done = true;
    });
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
    impl_->with([&](auto& ws) {
      ws.async_read(impl_->buffer, [this](beast::error_code e, std::size_t) {
        impl_->read_ec = e;
        impl_->read_done = true;
      });
    });
  }
  if (!impl_->runUntil([&] { return impl_->read_done; }, timeout)) return std::optional<std::string>();
  impl_->reading = false;
  const auto ec = impl_->read_ec;
  if (ec) {
    impl_->open = false;
    // A close frame from the server (even if our reply to it could not be written) says why.
    const auto reason = impl_->with([](auto& ws) { return ws.reason(); });
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
  if (!impl_->exists()) return;
  if (impl_->open) {
    impl_->open = false;
    bool done = false;
    impl_->with(
        [&](auto& ws) { ws.async_close(websocket::close_code::normal, [&](beast::error_code) { done = true; }); });
    impl_->runUntil([&] { return done && (!impl_->reading || impl_->read_done); }, std::chrono::seconds(2));
  }
  impl_->abort();
  impl_->reading = false;
}

// ---- password login ----

namespace {

// POST /login and the device token from its answer.
Result<std::string> login(const std::string& url, const std::string& bearer, const nlohmann::json& body,
                          const TlsOptions& tls) {
  auto res = httpRequest(url, "POST", "/login", bearer, "application/json", body.dump(), tls);
  if (!res) return res.status();
  auto j = nlohmann::json::parse(res->body, nullptr, false);
  const bool object = !j.is_discarded() && j.is_object();
  const std::string message = (object && j.contains("message") && j["message"].is_string())
                                  ? j["message"].get<std::string>()
                                  : "HTTP " + std::to_string(res->status);
  switch (res->status) {
    case 200:
      if (object && j.contains("token") && j["token"].is_string()) return j["token"].get<std::string>();
      return Status::error(ErrorCode::kProtocol, "the server's login answer has no token");
    case 401:
      return Status::error(ErrorCode::kUnauthorized, message);
    case 403:
      return Status::error(ErrorCode::kForbidden, message);
    case 413:  // a limit, e.g. the user's devices: the message says which and what to do
      return Status::error(ErrorCode::kLimitExceeded, message);
    case 429:  // too many failed logins: the message says how long to wait
    case 503:
      return Status::error(ErrorCode::kBusy, message);
    default:
      return Status::error(ErrorCode::kProtocol, "login refused: " + message);
  }
}

}  // namespace

Result<std::string> passwordLogin(const std::string& url, const std::string& user, const std::string& password,
                                  const std::string& device_hex, const TlsOptions& tls) {
  return login(url, "", nlohmann::json{{"user", user}, {"password", password}, {"device", device_hex}}, tls);
}

Result<std::string> tokenLogin(const std::string& url, const std::string& user_token, const std::string& device_hex,
                               const TlsOptions& tls) {
  return login(url, user_token, nlohmann::json{{"device", device_hex}}, tls);
}

}  // namespace communesync::client
