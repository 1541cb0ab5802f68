// Every limit of server/, in one place.
#pragma once

#include <chrono>
#include <cstddef>

namespace communesync::server::tuning {

//! A client must finish sending an HTTP request (or the WebSocket handshake) within this.
inline constexpr std::chrono::seconds kHandshakeTimeout{15};
//! An HTTP connection with no request in flight is closed after this.
inline constexpr std::chrono::seconds kHttpIdleTimeout{30};
//! Largest HTTP request body (admin API).
inline constexpr std::size_t kMaxHttpBodyBytes = 1024 * 1024;
//! Largest HTTP request header block.
inline constexpr std::size_t kMaxHttpHeaderBytes = 16 * 1024;
//! Pending connections in the kernel's accept queue.
inline constexpr int kListenBacklog = 1024;

}  // namespace communesync::server::tuning
