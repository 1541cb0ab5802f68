// A frame is the body of one WebSocket binary message: one byte naming the compression, then the
// encoded Envelope, compressed with zstd when that makes it smaller.
//
//   byte 0: 0 = not compressed, 1 = zstd (one zstd frame with its content size)
//   rest:   the Envelope (cereal portable binary), or its zstd compression
//
// Why zstd and not permessage-deflate: measured on survey records (docs/protocol.md), zstd at
// level 3 gives smaller messages for less CPU, and it keeps no per-connection window, so an idle
// session costs no compression memory (permessage-deflate keeps ~300 KB per connection).
#pragma once

#include <string>
#include <string_view>

#include "communesync/storage/result.hpp"
#include "communesync/sync/messages.hpp"

namespace communesync::sync::proto {

enum class FrameCodec : std::uint8_t { kNone = 0, kZstd = 1 };

//! Encodes and, above a small size and if `may_compress` (the peer reads zstd: Hello::frame_codecs),
//! compresses an envelope.
std::string encodeFrame(const Envelope& envelope, bool may_compress = true);

//! Decodes a frame from untrusted bytes; the decompressed size may not exceed `max_bytes`.
//! Errors: kProtocol (bad codec byte, corrupt data, undecodable envelope), kLimitExceeded.
Result<Envelope> decodeFrame(std::string_view frame, std::size_t max_bytes);

//! Shorthand: the frame of `message` with `request_id`.
template <class T>
std::string frameOf(const T& message, std::uint64_t request_id, bool may_compress = true) {
  return encodeFrame(wrap(message, request_id), may_compress);
}

}  // namespace communesync::sync::proto
