// A TCP proxy on 127.0.0.1 that forwards one connection at a time to a target port and cuts it
// (closes both sides) after `limit` bytes have crossed it in either direction together: in all,
// or, with `every_connection`, on each connection (a link that drops every `limit` bytes).
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <thread>

namespace communesync::testing {

class CuttingProxy {
 public:
  CuttingProxy(std::uint16_t target_port, std::uint64_t limit, bool every_connection = false)
      : target_(target_port), limit_(limit), every_connection_(every_connection) {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    ::listen(listen_fd_, 4);
    socklen_t len = sizeof addr;
    ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { serve(); });
  }
  ~CuttingProxy() {
    stop_ = true;
    ::shutdown(listen_fd_, SHUT_RDWR);
    ::close(listen_fd_);
    thread_.join();
  }
  std::uint16_t port() const { return port_; }
  std::uint64_t forwarded() const { return forwarded_; }
  //! Bytes that crossed from the client towards the server, over all connections.
  std::uint64_t upstream() const { return upstream_; }
  std::uint64_t connections() const { return connections_; }

 private:
  void serve() {
    while (!stop_) {
      pollfd p{listen_fd_, POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) continue;
      int client = ::accept(listen_fd_, nullptr, nullptr);
      if (client < 0) continue;
      int upstream = ::socket(AF_INET, SOCK_STREAM, 0);
      sockaddr_in addr{};
      addr.sin_family = AF_INET;
      addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      addr.sin_port = htons(target_);
      ++connections_;
      if (::connect(upstream, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) pump(client, upstream);
      ::close(upstream);
      ::close(client);
    }
  }

  void pump(int a, int b) {
    char buf[16384];
    std::uint64_t base = every_connection_ ? forwarded_.load() : 0;  // bytes before this connection
    while (!stop_ && forwarded_ - base < limit_) {
      pollfd fds[2] = {{a, POLLIN, 0}, {b, POLLIN, 0}};
      if (::poll(fds, 2, 50) <= 0) continue;
      for (int i = 0; i < 2; ++i) {
        if ((fds[i].revents & (POLLIN | POLLHUP | POLLERR)) == 0) continue;
        const int from = i == 0 ? a : b;
        const int to = i == 0 ? b : a;
        const auto budget = static_cast<std::size_t>(std::min<std::uint64_t>(sizeof buf, limit_ - (forwarded_ - base)));
        const auto n = ::read(from, buf, budget);
        if (n <= 0) return;
        if (::write(to, buf, static_cast<std::size_t>(n)) != n) return;
        forwarded_ += static_cast<std::uint64_t>(n);
        if (i == 0) upstream_ += static_cast<std::uint64_t>(n);
        if (forwarded_ - base >= limit_) return;  // the cut: both sides see the connection drop
      }
    }
  }

  std::uint16_t target_;
  std::uint64_t limit_;
  bool every_connection_ = false;
  int listen_fd_ = -1;
  std::uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<std::uint64_t> forwarded_{0};
  std::atomic<std::uint64_t> upstream_{0};
  std::atomic<std::uint64_t> connections_{0};
  std::thread thread_;
};

}  // namespace communesync::testing
