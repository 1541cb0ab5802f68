// A frame is the body of one WebSocket binary message: one byte naming the compression, then the
// encoded Envelope, compressed with zstd when that makes it smaller.
//
//   byte 0: 0 = not compressed, 1 = zstd (one zstd frame with its content size)
//   rest:   the Envelope (compact codec, messages.hpp), or its zstd compression
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

//! Turns `frame` into a frame: its byte 0 is a placeholder, the rest an encoded envelope, which is
//! compressed (into a new string) or left in place.
std::string sealFrame(std::string frame, bool may_compress);

//! The frame of `message` with `request_id`, encoded in one buffer (no envelope copied around it).
template <class T>
std::string frameOf(const T& message, std::uint64_t request_id, bool may_compress = true) {
  std::string frame(1, '\0');
  frame.reserve(256);
  CompactWriter w(frame);
  writeEnvelopeHead(w, typeOf<T>(), request_id);
  if constexpr (CompactCoded<T>) {
    writeCompact(w, message);
  } else {
    frame += encode(message);
  }
  return sealFrame(std::move(frame), may_compress);
}

}  // namespace communesync::sync::proto
