#include <zstd.h>

#include "communesync/sync/tuning.hpp"
#include "frame_compression.hpp"

namespace communesync::sync::proto::frame_detail {

std::optional<std::string> compress(std::string_view body) {
  std::string out(ZSTD_compressBound(body.size()), '\0');
  const auto n = ZSTD_compress(out.data(), out.size(), body.data(), body.size(), tuning::kZstdLevel);
  if (ZSTD_isError(n) || n + 1 >= body.size()) return std::nullopt;
  out.resize(n);
  return out;
}

Result<std::string> decompress(std::string_view packed, std::size_t max_bytes) {
  const auto size = ZSTD_getFrameContentSize(packed.data(), packed.size());
  if (size == ZSTD_CONTENTSIZE_ERROR || size == ZSTD_CONTENTSIZE_UNKNOWN) {
    return Status::error(ErrorCode::kProtocol, "compressed frame without a valid content size");
  }
  if (size > max_bytes) {
    return Status::error(
        ErrorCode::kLimitExceeded,
        "message of " + std::to_string(size) + " bytes decompressed; the limit is " + std::to_string(max_bytes));
  }
  std::string plain(static_cast<std::size_t>(size), '\0');
  const auto n = ZSTD_decompress(plain.data(), plain.size(), packed.data(), packed.size());
  if (ZSTD_isError(n) || n != size) {
    return Status::error(ErrorCode::kProtocol, std::string("corrupt compressed frame: ") +
                                                   (ZSTD_isError(n) ? ZSTD_getErrorName(n) : "size mismatch"));
  }
  return plain;
}

}  // namespace communesync::sync::proto::frame_detail
