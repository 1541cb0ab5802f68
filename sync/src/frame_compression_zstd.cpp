#include <zstd.h>

#include <memory>

#include "communesync/sync/tuning.hpp"
#include "frame_compression.hpp"

namespace communesync::sync::proto::frame_detail {
namespace {

// One compression and one decompression context per thread, made at its first frame and reused.
// ZSTD_compress and ZSTD_decompress make and free a context at every call, setting up its tables
// (hundreds of KiB) each time: for the small frames of a sync (a push of one record, its result, an
// empty pull) that was most of zstd's cost (docs/benchmarks.md). A context keeps the tables of the
// largest frame it has handled (at most a few MiB at kZstdLevel) until its thread ends.
struct FreeCompression {
  void operator()(ZSTD_CCtx* c) const { ZSTD_freeCCtx(c); }
};
struct FreeDecompression {
  void operator()(ZSTD_DCtx* d) const { ZSTD_freeDCtx(d); }
};

ZSTD_CCtx* compressionContext() {
  thread_local std::unique_ptr<ZSTD_CCtx, FreeCompression> context(ZSTD_createCCtx());
  return context.get();
}

ZSTD_DCtx* decompressionContext() {
  thread_local std::unique_ptr<ZSTD_DCtx, FreeDecompression> context(ZSTD_createDCtx());
  return context.get();
}

}  // namespace

std::optional<std::string> compress(std::string_view body) {
  auto* context = compressionContext();
  if (context == nullptr) return std::nullopt;  // out of memory: the frame goes uncompressed
  std::string out(ZSTD_compressBound(body.size()), '\0');
  const auto n = ZSTD_compressCCtx(context, out.data(), out.size(), body.data(), body.size(), tuning::kZstdLevel);
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
  auto* context = decompressionContext();
  if (context == nullptr) return Status::error(ErrorCode::kBusy, "no memory for a decompression context; try again");
  std::string plain(static_cast<std::size_t>(size), '\0');
  const auto n = ZSTD_decompressDCtx(context, plain.data(), plain.size(), packed.data(), packed.size());
  if (ZSTD_isError(n) || n != size) {
    return Status::error(ErrorCode::kProtocol, std::string("corrupt compressed frame: ") +
                                                   (ZSTD_isError(n) ? ZSTD_getErrorName(n) : "size mismatch"));
  }
  return plain;
}

}  // namespace communesync::sync::proto::frame_detail
