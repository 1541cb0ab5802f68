// Transport over WebSocket (Boost.Beast), to ws://HOST:PORT or wss://HOST:PORT (path /sync). The
// token travels in the Authorization header at the handshake, never in the URL. With wss the
// server's certificate is verified (TlsOptions).
#pragma once

#include <memory>
#include <string>

#include "communesync/client/server_address.hpp"
#include "communesync/client/transport.hpp"

namespace communesync::client {

class WebSocketTransport : public Transport {
 public:
  //! `url`: ws:// or wss://HOST:PORT[/PATH]. Parse errors are reported by connect().
  WebSocketTransport(std::string url, std::string token, TlsOptions tls = {});
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
  TlsOptions tls_;
  std::uint64_t sent_ = 0;
  std::uint64_t received_ = 0;
};

//! Logs in with a name and password over HTTP(S) (POST /login): the server gives this device its
//! own token. `url` may be the ws(s):// address of the server. Errors: kUnauthorized (wrong name
//! or password), kForbidden (revoked device), kLimitExceeded (the user has its most devices), kBusy, kUnavailable.
Result<std::string> passwordLogin(const std::string& url, const std::string& user, const std::string& password,
                                  const std::string& device_hex, const TlsOptions& tls = {});
//! Exchanges a user token (from the administrator) for this device's own token (POST /login), so
//! that the device can be revoked alone. Errors as passwordLogin.
Result<std::string> tokenLogin(const std::string& url, const std::string& user_token, const std::string& device_hex,
                               const TlsOptions& tls = {});

}  // namespace communesync::client
