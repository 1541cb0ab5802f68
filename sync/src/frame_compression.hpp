// How a frame's body is compressed (FrameCodec::kZstd). Two builds: zstd (the server, the C++
// client: frame_compression_zstd.cpp) and none (the field app's WebAssembly, which has no zstd:
// frame_compression_none.cpp; it says so in its hello and the server sends it plain frames).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "communesync/storage/result.hpp"

namespace communesync::sync::proto::frame_detail {

//! The compressed body, or nullopt when compressing does not pay (or is not built in).
std::optional<std::string> compress(std::string_view body);
//! The body of a compressed frame, at most `max_bytes`. Errors: kProtocol, kLimitExceeded.
Result<std::string> decompress(std::string_view packed, std::size_t max_bytes);

}  // namespace communesync::sync::proto::frame_detail
