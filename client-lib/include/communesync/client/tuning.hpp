// Every limit and default of client-lib/, in one place.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>

namespace communesync::client::tuning {

//! A push grows until this many bytes of changes (or the server's change limit).
inline constexpr std::size_t kPushBatchBytes = 256 * 1024;
//! Pull batches asked of the server.
inline constexpr std::uint64_t kPullBatchBytes = 512 * 1024;
//! Pushes in flight when the server allows more (pipelining over a slow link).
inline constexpr std::uint32_t kMaxPushesInFlight = 4;
//! Connecting (TCP + WebSocket handshake) must finish within this.
inline constexpr std::chrono::seconds kConnectTimeout{20};
//! A reply that does not come within this ends the sync with a retryable error.
inline constexpr std::chrono::seconds kReplyTimeout{60};
//! Largest message the client accepts from the server.
inline constexpr std::size_t kMaxMessageBytes = 8 * 1024 * 1024;

}  // namespace communesync::client::tuning
