#include "communesync/sync/frame.hpp"

#include <zstd.h>

#include "communesync/sync/tuning.hpp"

namespace communesync::sync::proto {

const char* messageTypeName(MessageType type) {
  switch (type) {
    case MessageType::kHello:
      return "hello";
    case MessageType::kWelcome:
      return "welcome";
    case MessageType::kPush:
      return "push";
    case MessageType::kPushResult:
      return "push_result";
    case MessageType::kPull:
      return "pull";
    case MessageType::kPullBatch:
      return "pull_batch";
    case MessageType::kNotify:
      return "notify";
    case MessageType::kError:
      return "error";
    case MessageType::kAccess:
      return "access";
    case MessageType::kFileQuery:
      return "file_query";
    case MessageType::kFileStates:
      return "file_states";
    case MessageType::kFilePut:
      return "file_put";
    case MessageType::kFileAck:
      return "file_ack";
    case MessageType::kFileGet:
      return "file_get";
    case MessageType::kFileData:
      return "file_data";
  }
  return "unknown";
}

std::string encodeFrame(const Envelope& envelope) {
  const std::string body = encode(envelope);
  if (body.size() >= tuning::kCompressAboveBytes) {
    std::string out(1 + ZSTD_compressBound(body.size()), '\0');
    out[0] = static_cast<char>(FrameCodec::kZstd);
    const auto n = ZSTD_compress(out.data() + 1, out.size() - 1, body.data(), body.size(), tuning::kZstdLevel);
    if (!ZSTD_isError(n) && n + 1 < body.size()) {
      out.resize(n + 1);
      return out;
    }
  }
  std::string out;
  out.reserve(body.size() + 1);
  out.push_back(static_cast<char>(FrameCodec::kNone));
  out.append(body);
  return out;
}

Result<Envelope> decodeFrame(std::string_view frame, std::size_t max_bytes) {
  if (frame.empty()) return Status::error(ErrorCode::kProtocol, "empty frame");
  const auto codec = static_cast<FrameCodec>(static_cast<unsigned char>(frame[0]));
  const auto body = frame.substr(1);
  if (codec == FrameCodec::kNone) return decode<Envelope>(body);
  if (codec != FrameCodec::kZstd) {
    return Status::error(ErrorCode::kProtocol, "unknown frame codec " + std::to_string(static_cast<int>(codec)));
  }
  const auto size = ZSTD_getFrameContentSize(body.data(), body.size());
  if (size == ZSTD_CONTENTSIZE_ERROR || size == ZSTD_CONTENTSIZE_UNKNOWN) {
    return Status::error(ErrorCode::kProtocol, "compressed frame without a valid content size");
  }
  if (size > max_bytes) {
    return Status::error(
        ErrorCode::kLimitExceeded,
        "message of " + std::to_string(size) + " bytes decompressed; the limit is " + std::to_string(max_bytes));
  }
  std::string plain(static_cast<std::size_t>(size), '\0');
  const auto n = ZSTD_decompress(plain.data(), plain.size(), body.data(), body.size());
  if (ZSTD_isError(n) || n != size) {
    return Status::error(ErrorCode::kProtocol, std::string("corrupt compressed frame: ") +
                                                   (ZSTD_isError(n) ? ZSTD_getErrorName(n) : "size mismatch"));
  }
  return decode<Envelope>(plain);
}

}  // namespace communesync::sync::proto
