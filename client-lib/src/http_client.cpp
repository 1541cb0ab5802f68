#include "communesync/client/http_client.hpp"

#include <boost/beast/http.hpp>

#include <vector>

#include "connect.hpp"

namespace communesync::client {
namespace {

namespace http = boost::beast::http;
namespace beast = boost::beast;
namespace net = boost::asio;

// Sends `req` on a connected stream (the Host header set here).
template <class Stream>
Status send(net::io_context& ioc, Stream& stream, const ServerAddress& url, http::request<http::string_body>& req) {
  req.set(http::field::host, url.host + ":" + url.port);
  req.prepare_payload();
  beast::get_lowest_layer(stream).expires_after(tuning::kReplyTimeout);
  auto ec = detail::runOne(ioc, [&](auto handler) { http::async_write(stream, req, handler); });
  if (ec) return Status::error(ErrorCode::kUnavailable, "cannot send the request: " + ec.message());
  return Status::ok();
}

// The whole answer (at most a message's size).
template <class Stream>
Result<HttpReply> exchange(net::io_context& ioc, Stream& stream, const ServerAddress& url,
                           http::request<http::string_body>& req) {
  CS_RETURN_IF_ERROR(send(ioc, stream, url, req));
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(tuning::kMaxMessageBytes);
  auto ec = detail::runOne(ioc, [&](auto handler) { http::async_read(stream, buffer, parser, handler); });
  if (ec) return Status::error(ErrorCode::kUnavailable, "no answer from the server: " + ec.message());
  const auto& res = parser.get();
  return HttpReply{res.result_int(), res.body(), std::string(res[http::field::retry_after])};
}

// The answer's body a piece at a time into `sink` when it is a 200; else whole, as httpRequest does.
template <class Stream>
Result<HttpReply> download(net::io_context& ioc, Stream& stream, const ServerAddress& url,
                           http::request<http::string_body>& req, const std::function<bool(std::string_view)>& sink) {
  CS_RETURN_IF_ERROR(send(ioc, stream, url, req));
  beast::flat_buffer buffer;
  http::response_parser<http::buffer_body> parser;
  parser.body_limit(boost::none);  // any size: the sink decides
  auto ec = detail::runOne(ioc, [&](auto handler) { http::async_read_header(stream, buffer, parser, handler); });
  if (ec) return Status::error(ErrorCode::kUnavailable, "no answer from the server: " + ec.message());
  HttpReply reply{parser.get().result_int(), "", std::string(parser.get()[http::field::retry_after])};
  std::vector<char> piece(std::size_t{64} * 1024);
  while (!parser.is_done()) {
    parser.get().body().data = piece.data();
    parser.get().body().size = piece.size();
    beast::get_lowest_layer(stream).expires_after(tuning::kReplyTimeout);
    ec = detail::runOne(ioc, [&](auto handler) { http::async_read(stream, buffer, parser, handler); });
    if (ec == http::error::need_buffer) ec = {};
    if (ec) return Status::error(ErrorCode::kUnavailable, "the answer was cut: " + ec.message());
    const std::string_view got(piece.data(), piece.size() - parser.get().body().size);
    if (reply.status != 200) {
      if (reply.body.size() + got.size() > tuning::kMaxMessageBytes) {
        return Status::error(ErrorCode::kLimitExceeded, "an error answer too large to read");
      }
      reply.body.append(got);
    } else if (!got.empty() && !sink(got)) {
      return Status::error(ErrorCode::kCancelled, "the download was stopped");
    }
  }
  return reply;
}

// Connects to `url` (TLS when it says so) and runs `talk(ioc, stream)` on the connection.
template <class Talk>
Result<HttpReply> overConnection(const ServerAddress& url, const TlsOptions& tls, Talk&& talk) {
  net::io_context ioc;
  if (url.tls) {
    auto ctx = detail::makeTlsContext(tls);
    if (!ctx) return ctx.status();
    beast::ssl_stream<beast::tcp_stream> stream(ioc, **ctx);
    CS_RETURN_IF_ERROR(detail::connectTcp(ioc, beast::get_lowest_layer(stream), url));
    CS_RETURN_IF_ERROR(detail::handshakeTls(ioc, stream, url));
    return talk(ioc, stream);
  }
  beast::tcp_stream stream(ioc);
  CS_RETURN_IF_ERROR(detail::connectTcp(ioc, stream, url));
  return talk(ioc, stream);
}

}  // namespace

Result<HttpReply> httpRequest(const std::string& url_text, const std::string& method, const std::string& path,
                              const std::string& bearer, const std::string& content_type, const std::string& body,
                              const TlsOptions& tls) {
  auto url = parseServerUrl(url_text);
  if (!url) return url.status();
  http::request<http::string_body> req{http::string_to_verb(method), path, 11};
  if (req.method() == http::verb::unknown) return Status::error(ErrorCode::kInvalidArgument, "bad method " + method);
  req.set(http::field::user_agent, "communesync-client");
  if (!bearer.empty()) req.set(http::field::authorization, "Bearer " + bearer);
  if (!content_type.empty()) req.set(http::field::content_type, content_type);
  req.body() = body;
  return overConnection(*url, tls,
                        [&](net::io_context& ioc, auto& stream) { return exchange(ioc, stream, *url, req); });
}

Result<HttpReply> httpDownload(const std::string& url_text, const std::string& path, const std::string& bearer,
                               const std::function<bool(std::string_view)>& sink, const TlsOptions& tls) {
  auto url = parseServerUrl(url_text);
  if (!url) return url.status();
  http::request<http::string_body> req{http::verb::get, path, 11};
  req.set(http::field::user_agent, "communesync-client");
  if (!bearer.empty()) req.set(http::field::authorization, "Bearer " + bearer);
  return overConnection(*url, tls,
                        [&](net::io_context& ioc, auto& stream) { return download(ioc, stream, *url, req, sink); });
}

}  // namespace communesync::client
