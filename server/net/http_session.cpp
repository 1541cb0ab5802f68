#include "net/http_session.hpp"

#include <boost/algorithm/string.hpp>
#include <boost/beast/ssl.hpp>
#include <iostream>

#include "base/log.hpp"
#include "base/tuning.hpp"
#include "http/http_json.hpp"
#include "net/client_address.hpp"
#include "net/sync_session.hpp"

namespace communesync::server {

namespace {

template <class Stream>
constexpr bool kIsTls = !std::is_same_v<Stream, beast::tcp_stream>;

// handleHttp does not throw; should it ever (out of memory), the worker thread must not die with it.
HttpResponse answer(const HttpRequest& request, ServerState& state, const std::string& peer, bool loopback) {
  try {
    return handleHttp(request, state, peer, loopback);
  } catch (const std::exception& e) {
    logEvent(LogLevel::kError, "http_internal_error",
             {{"method", std::string(request.method_string())},
              {"target", std::string(request.target())},
              {"error", e.what()}});
    return errorResponse(request, http::status::internal_server_error, "internal",
                         "the server failed to answer; retry");
  }
}

}  // namespace

void startHttpSession(tcp::socket socket, ServerContext& context) {
  beast::error_code ec;
  const auto address = socket.remote_endpoint(ec).address();
  const auto peer = ec ? std::string("unknown") : address.to_string();
  Admission::Full full = Admission::Full::kNo;
  auto ticket = context.admission.connection(peer, &full, !ec && context.trusted_proxies.contains(address));
  if (!ticket) {
    socket.close(ec);  // the address, or the server, holds its limit of connections: drop at once, nothing read
    static LogEvery refusals(tuning::kRepeatedEventLogInterval);
    if (auto count = refusals.note(); count > 0) {
      logEvent(LogLevel::kWarn, "connections_refused",
               {{"count", std::to_string(count)},
                {"last_peer", peer},
                {"full", full == Admission::Full::kServer ? "server" : "address"},
                {"server_limit", std::to_string(context.admission.connectionLimit())}});
    }
    return;
  }
  if (context.tls) {
    using Tls = beast::ssl_stream<beast::tcp_stream>;
    std::make_shared<HttpSession<Tls>>(Tls(beast::tcp_stream(std::move(socket)), *context.tls), context,
                                       std::move(ticket))
        ->run();
  } else {
    std::make_shared<HttpSession<beast::tcp_stream>>(beast::tcp_stream(std::move(socket)), context, std::move(ticket))
        ->run();
  }
}

template <class Stream>
HttpSession<Stream>::HttpSession(Stream&& stream, ServerContext& context, Admission::Ticket ticket)
    : stream_(std::move(stream)), context_(context), ticket_(std::move(ticket)) {}

template <class Stream>
void HttpSession<Stream>::run() {
  // Start on the connection's strand: every handler of this session runs there, one at a time.
  net::dispatch(stream_.get_executor(), [self = this->shared_from_this()] {
    if constexpr (kIsTls<Stream>) {
      beast::get_lowest_layer(self->stream_).expires_after(self->context_.limits.handshake_timeout);
      self->stream_.async_handshake(net::ssl::stream_base::server,
                                    beast::bind_front_handler(&HttpSession::onHandshake, self));
    } else {
      self->doRead();
    }
  });
}

template <class Stream>
void HttpSession<Stream>::onHandshake(beast::error_code ec) {
  if (ec) return doClose();  // not TLS, a wrong version, or too slow: nothing to answer
  doRead();
}

template <class Stream>
void HttpSession<Stream>::doRead() {
  parser_.emplace();
  parser_->body_limit(tuning::kMaxHttpBodyBytes);
  parser_->header_limit(static_cast<std::uint32_t>(tuning::kMaxHttpHeaderBytes));
  // The first request must come within the handshake timeout; later ones within the idle timeout.
  beast::get_lowest_layer(stream_).expires_after(
      served_ == 0 ? std::chrono::milliseconds(context_.limits.handshake_timeout) : tuning::kHttpIdleTimeout);
  http::async_read_header(stream_, buffer_, *parser_,
                          beast::bind_front_handler(&HttpSession::onHeader, this->shared_from_this()));
}

// A body is read only once the header says it may come: a request without a valid token brings at
// most a few KiB (a login), and every body's bytes are reserved among the server's first. So idle
// connections holding large unauthenticated bodies cannot fill the server's memory.
template <class Stream>
void HttpSession<Stream>::onHeader(beast::error_code ec, std::size_t bytes) {
  if (ec || parser_->is_done()) return onRead(ec, bytes);
  const auto& request = parser_->get();
  auto principal = context_.state.directory.authenticate(bearerToken(request));
  const bool known = principal.isOk() && principal->has_value();
  const std::size_t limit = known ? tuning::kMaxHttpBodyBytes : tuning::kMaxAnonymousBodyBytes;
  const auto declared = parser_->content_length();
  auto refuse = [&](http::status status, std::string_view code, const std::string& message) {
    auto response = errorResponse(request, status, code, message);
    response.keep_alive(false);  // the body was not read: the connection cannot carry another request
    reply(std::move(response));
  };
  if (declared && *declared > limit) {
    return refuse(http::status::payload_too_large, "limit_exceeded",
                  "a request body " + std::string(known ? "" : "without a valid token ") + "is at most " +
                      std::to_string(limit) + " bytes");
  }
  body_ticket_ = context_.admission.bodyBytes(declared ? static_cast<std::size_t>(*declared) : limit);
  if (!body_ticket_) {
    return refuse(http::status::service_unavailable, "busy",
                  "the server holds too many request bodies at once; retry in a moment");
  }
  parser_->body_limit(limit);
  http::async_read(stream_, buffer_, *parser_,
                   beast::bind_front_handler(&HttpSession::onRead, this->shared_from_this()));
}

template <class Stream>
void HttpSession<Stream>::onRead(beast::error_code ec, std::size_t /*bytes*/) {
  if (ec == http::error::end_of_stream || ec == beast::error::timeout || ec == net::error::operation_aborted) {
    return doClose();
  }
  if (ec) {
    // Bad request framing or a limit passed: answer once if we can, then close.
    response_ = std::make_shared<HttpResponse>(http::status::bad_request, 11);
    response_->set(http::field::content_type, "application/json; charset=utf-8");
    response_->body() = std::string(R"({"error":"bad_request","message":")") + ec.message() + "\"}\n";
    response_->keep_alive(false);
    response_->prepare_payload();
    beast::get_lowest_layer(stream_).expires_after(context_.limits.handshake_timeout);
    return http::async_write(stream_, *response_,
                             beast::bind_front_handler(&HttpSession::onWrite, this->shared_from_this(), false));
  }
  auto request = parser_->release();
  if (websocket::is_upgrade(request)) return upgrade(std::move(request));
  auto place = context_.admission.httpRequest();
  if (!place) {
    return reply(errorResponse(request, http::status::service_unavailable, "busy",
                               "the server has too many requests waiting; retry in a moment"));
  }
  // Answered on the HTTP workers, then written from this connection's strand again. The session
  // reads nothing meanwhile (one request at a time), so nothing else touches it.
  auto client = clientOf(request);
  net::post(context_.http_work,
            [self = this->shared_from_this(), place = std::move(place), home = stream_.get_executor(),
             request = std::move(request), client = std::move(client)]() mutable {
              auto response = answer(request, self->context_.state, client.text, client.loopback);
              net::post(home, [self, response = std::move(response)]() mutable { self->reply(std::move(response)); });
            });
}

template <class Stream>
ClientAddress HttpSession<Stream>::clientOf(const HttpRequest& request) {
  beast::error_code ec;
  const auto peer = beast::get_lowest_layer(stream_).socket().remote_endpoint(ec).address();
  if (ec) return {"unknown", false};
  return clientAddress(peer, request, context_.trusted_proxies);
}

template <class Stream>
void HttpSession<Stream>::reply(HttpResponse response) {
  response_ = std::make_shared<HttpResponse>(std::move(response));
  const bool keep_alive = response_->keep_alive();
  beast::get_lowest_layer(stream_).expires_after(tuning::kHandshakeTimeout);
  http::async_write(stream_, *response_,
                    beast::bind_front_handler(&HttpSession::onWrite, this->shared_from_this(), keep_alive));
}

template <class Stream>
void HttpSession<Stream>::upgrade(HttpRequest request) {
  auto refuse = [&](http::status status, std::string_view code, const std::string& message) {
    HttpResponse res{status, request.version()};
    res.set(http::field::content_type, "application/json; charset=utf-8");
    if (status == http::status::unauthorized) res.set(http::field::www_authenticate, "Bearer");
    res.body() = std::string(R"({"error":")") + std::string(code) + R"(","message":")" + message + "\"}\n";
    res.keep_alive(false);
    res.prepare_payload();
    reply(std::move(res));
  };
  const auto target = request.target();
  if (target.substr(0, target.find('?')) != "/sync") {
    return refuse(http::status::not_found, "not_found", "WebSocket sync is served on /sync");
  }
  bool offered = false;
  if (auto it = request.find(http::field::sec_websocket_protocol); it != request.end()) {
    std::vector<std::string> names;
    boost::split(names, std::string(it->value()), boost::is_any_of(","));
    for (auto& n : names) offered |= boost::trim_copy(n) == sync::proto::kSubprotocol;
  }
  if (!offered) {
    return refuse(http::status::bad_request, "protocol",
                  "offer the WebSocket subprotocol " + std::string(sync::proto::kSubprotocol));
  }
  if (auto s = checkOrigin(request, context_.state); !s)
    return refuse(http::status::forbidden, "forbidden", s.message());
  const std::string token(upgradeToken(request));
  auto principal = context_.state.directory.authenticate(token);
  if (!principal) return refuse(http::status::service_unavailable, "busy", principal.status().message());
  if (!principal->has_value()) {
    context_.state.directory.noteBadToken(clientOf(request).text);
    return refuse(http::status::unauthorized, "unauthorized", "a valid token is needed: Authorization: Bearer <token>");
  }
  auto session_ticket = context_.admission.session((**principal).user);
  if (!session_ticket) {
    return refuse(http::status::too_many_requests, "limit_exceeded",
                  "this user has too many open sessions; close another device's sync first");
  }
  std::vector<Admission::Ticket> tickets{std::move(ticket_), std::move(session_ticket)};
  std::make_shared<SyncSession<Stream>>(std::move(stream_), context_, token, std::move(**principal), std::move(tickets))
      ->run(std::move(request));
}

template <class Stream>
void HttpSession<Stream>::onWrite(bool keep_alive, beast::error_code ec, std::size_t /*bytes*/) {
  response_.reset();
  body_ticket_.reset();
  ++served_;
  if (ec || !keep_alive) return doClose();
  doRead();
}

template <class Stream>
void HttpSession<Stream>::doClose() {
  beast::error_code ec;
  auto& socket = beast::get_lowest_layer(stream_).socket();
  socket.shutdown(tcp::socket::shutdown_send, ec);
  socket.close(ec);
}

template class HttpSession<beast::tcp_stream>;
template class HttpSession<beast::ssl_stream<beast::tcp_stream>>;

}  // namespace communesync::server
