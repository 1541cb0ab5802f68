// Every limit and default of client-lib/, in one place.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>

namespace communesync::client::tuning {

//! A push grows until this many bytes of changes (or the server's change limit).
inline constexpr std::size_t kPushBatchBytes = std::size_t{256} * 1024;
//! Pull batches asked of the server.
inline constexpr std::uint64_t kPullBatchBytes = std::uint64_t{512} * 1024;
//! Pushes in flight when the server allows more (pipelining over a slow link).
inline constexpr std::uint32_t kMaxPushesInFlight = 4;
//! Connecting (TCP + WebSocket handshake) must finish within this.
inline constexpr std::chrono::seconds kConnectTimeout{20};
//! A reply that does not come within this ends the sync with a retryable error.
inline constexpr std::chrono::seconds kReplyTimeout{60};
//! Largest message the client accepts from the server.
inline constexpr std::size_t kMaxMessageBytes = std::size_t{8} * 1024 * 1024;

//! Pieces a file is kept in on the device when attached, and read in.
inline constexpr std::size_t kFileChunkBytes = std::size_t{64} * 1024;
//! Attaching a large file commits its pieces in batches of about this size.
inline constexpr std::size_t kFileWriteBatchBytes = std::size_t{4} * 1024 * 1024;
//! Largest file the device attaches before it has heard the server's own limit.
inline constexpr std::uint64_t kDefaultMaxFileBytes = 32ull * 1024 * 1024;
//! Pieces of a file (upload or download) are about 1/16 of what a connection is expected to carry
//! before it drops, between these bounds: a cut then wastes about 1/32 of a connection.
inline constexpr std::size_t kMinFilePieceBytes = std::size_t{4} * 1024;
inline constexpr std::size_t kLinkPieceDivisor = 16;
//! What a connection is expected to carry before anything is known of the link.
inline constexpr std::uint64_t kInitialLinkEstimateBytes = std::uint64_t{256} * 1024;
//! The estimate doubles after each sync that finished, up to this.
inline constexpr std::uint64_t kMaxLinkEstimateBytes = 16ull * 1024 * 1024;
//! File messages in flight at once (upload pieces or download requests).
inline constexpr std::size_t kFilePiecesInFlight = 4;
//! The device keeps under this share of the server's advertised message and byte rates.
inline constexpr double kRateShare = 0.8;
//! A file whose upload came back as corrupt is sent again at most this many times in one sync.
inline constexpr int kMaxFileResends = 2;

}  // namespace communesync::client::tuning
