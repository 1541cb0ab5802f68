// How the replicator reaches the server: whole frames in and out. The WebSocket implementation is
// websocket_transport.hpp; a phone may plug in its own socket, and tests plug in faulty ones.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "communesync/storage/result.hpp"

namespace communesync::client {

class Transport {
 public:
  virtual ~Transport() = default;
  //! Connects and completes the handshake. Errors: kUnavailable (unreachable), kUnauthorized
  //! (token refused), kProtocol (not a communesync server).
  virtual Status connect() = 0;
  //! Sends one frame. Errors: kUnavailable when the connection is gone.
  virtual Status send(std::string_view frame) = 0;
  //! Waits up to `timeout` for one frame. Errors: kUnavailable (closed, cut, timed out: a reply that
  //! does not come in time ends the connection).
  virtual Result<std::string> receive(std::chrono::milliseconds timeout) = 0;
  //! Waits up to `timeout` for a frame the server may send unasked (a notify); std::nullopt if
  //! none came, and the connection stays open. Errors: kUnavailable when the connection is gone.
  virtual Result<std::optional<std::string>> poll(std::chrono::milliseconds timeout) = 0;
  //! Closes politely if still open. Never fails.
  virtual void close() = 0;
  //! Bytes of frames sent and received on this transport so far.
  virtual std::uint64_t bytesSent() const = 0;
  virtual std::uint64_t bytesReceived() const = 0;
};

//! Another transport, with the frames sent through it counted: each is a request the server
//! answers, so during a sync the count is its number of round trips (for benchmarks and tests).
class CountingTransport : public Transport {
 public:
  explicit CountingTransport(Transport& inner) : inner_(inner) {}
  Status connect() override { return inner_.connect(); }
  Status send(std::string_view frame) override {
    ++frames_sent_;
    return inner_.send(frame);
  }
  Result<std::string> receive(std::chrono::milliseconds timeout) override { return inner_.receive(timeout); }
  Result<std::optional<std::string>> poll(std::chrono::milliseconds timeout) override { return inner_.poll(timeout); }
  void close() override { inner_.close(); }
  std::uint64_t bytesSent() const override { return inner_.bytesSent(); }
  std::uint64_t bytesReceived() const override { return inner_.bytesReceived(); }
  std::uint64_t framesSent() const { return frames_sent_; }

 private:
  Transport& inner_;
  std::uint64_t frames_sent_ = 0;
};

}  // namespace communesync::client
