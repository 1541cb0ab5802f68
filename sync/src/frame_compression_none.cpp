// The field app's build (WebAssembly): no zstd. Its hello says it reads plain frames only, so the
// server never sends it a compressed one; one arriving anyway is a protocol error.
#include "frame_compression.hpp"

namespace communesync::sync::proto::frame_detail {

std::optional<std::string> compress(std::string_view /*body*/) {
  return std::nullopt;
}

Result<std::string> decompress(std::string_view /*packed*/, std::size_t /*max_bytes*/) {
  return Status::error(ErrorCode::kProtocol, "a compressed frame, and this build reads plain frames only");
}

}  // namespace communesync::sync::proto::frame_detail
