#include "communesync/client/http_client.hpp"

#include <boost/beast/http.hpp>

#include "connect.hpp"

namespace communesync::client {
namespace {

namespace http = boost::beast::http;
namespace beast = boost::beast;
namespace net = boost::asio;

template <class Stream>
Result<HttpReply> exchange(net::io_context& ioc, Stream& stream, const ServerAddress& url,
                           http::request<http::string_body>& req) {
  req.set(http::field::host, url.host + ":" + url.port);
  req.prepare_payload();
  beast::get_lowest_layer(stream).expires_after(tuning::kReplyTimeout);
  auto ec = detail::runOne(ioc, [&](auto handler) { http::async_write(stream, req, handler); });
  if (ec) return Status::error(ErrorCode::kUnavailable, "cannot send the request: " + ec.message());
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(tuning::kMaxMessageBytes);
  ec = detail::runOne(ioc, [&](auto handler) { http::async_read(stream, buffer, parser, handler); });
  if (ec) return Status::error(ErrorCode::kUnavailable, "no answer from the server: " + ec.message());
  const auto& res = parser.get();
  return HttpReply{res.result_int(), res.body(), std::string(res[http::field::retry_after])};
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
  net::io_context ioc;
  if (url->tls) {
    auto ctx = detail::makeTlsContext(tls);
    if (!ctx) return ctx.status();
    beast::ssl_stream<beast::tcp_stream> stream(ioc, **ctx);
    CS_RETURN_IF_ERROR(detail::connectTcp(ioc, beast::get_lowest_layer(stream), *url));
    CS_RETURN_IF_ERROR(detail::handshakeTls(ioc, stream, *url));
    return exchange(ioc, stream, *url, req);
  }
  beast::tcp_stream stream(ioc);
  CS_RETURN_IF_ERROR(detail::connectTcp(ioc, stream, *url));
  return exchange(ioc, stream, *url, req);
}

}  // namespace communesync::client
