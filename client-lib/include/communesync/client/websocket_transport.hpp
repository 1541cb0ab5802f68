// Transport over WebSocket (Boost.Beast), to ws://HOST:PORT (path /sync). The token travels in the
// Authorization header at the handshake, never in the URL.
#pragma once

#include <memory>
#include <string>

#include "communesync/client/transport.hpp"

namespace communesync::client {

class WebSocketTransport : public Transport {
 public:
  //! `url`: ws://HOST:PORT[/PATH]. Parse errors are reported by connect().
  WebSocketTransport(std::string url, std::string token);
  ~WebSocketTransport() override;

  Status connect() override;
  Status send(std::string_view frame) override;
  Result<std::string> receive(std::chrono::milliseconds timeout) override;
  Result<std::optional<std::string>> poll(std::chrono::milliseconds timeout) override;
  void close() override;
  std::uint64_t bytesSent() const override { return sent_; }
  std::uint64_t bytesReceived() const override { return received_; }

 private:
  //! One read, which may stay pending across calls (poll); nullopt on timeout.
  Result<std::optional<std::string>> read(std::chrono::milliseconds timeout);
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::string url_;
  std::string token_;
  std::uint64_t sent_ = 0;
  std::uint64_t received_ = 0;
};

struct ParsedUrl {
  std::string host;
  std::string port;
  std::string path;
};
//! Parses ws://HOST:PORT[/PATH]. Errors: kInvalidArgument with what is wrong.
Result<ParsedUrl> parseWsUrl(const std::string& url);

}  // namespace communesync::client
