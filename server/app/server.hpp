// communesync-server: one process, one port, HTTP and WebSocket, over one RocksDB store.
//
// Threads: run() drives the I/O on Config::threads threads (one per core by default) and returns
// after stop(). stop() may be called from any thread or a signal handler context via Asio.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>

#include "app/config.hpp"
#include "communesync/storage/result.hpp"

namespace communesync::server {

class Server {
 public:
  //! Opens the store and binds the port. Errors: the store's (kLocked, ...), or kUnavailable if the
  //! address cannot be bound, with the address in the message.
  static Result<std::unique_ptr<Server>> create(const Config& config);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  //! The port actually bound (useful with port 0).
  std::uint16_t port() const;
  //! The store's incarnation id.
  const std::string& incarnationId() const;

  //! Serves until stop() or SIGINT/SIGTERM (if handleSignals() was called); then closes the store cleanly.
  Status run();
  //! Asks run() to finish: stops accepting, closes sessions, lets commits in flight finish.
  void stop();
  //! Makes SIGINT and SIGTERM call stop().
  void handleSignals();

 private:
  struct Impl;
  explicit Server(std::unique_ptr<Impl> impl);
  void waitForSessions(std::chrono::steady_clock::time_point deadline);
  static Status listenToOthers(Impl& impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace communesync::server
