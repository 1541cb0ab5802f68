#include "communesync/sync/frame.hpp"

#include "communesync/sync/tuning.hpp"
#include "frame_compression.hpp"

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

std::string sealFrame(std::string frame, bool may_compress) {
  const auto body = std::string_view(frame).substr(1);
  if (may_compress && body.size() >= tuning::kCompressAboveBytes) {
    if (auto packed = frame_detail::compress(body)) {
      std::string out;
      out.reserve(packed->size() + 1);
      out.push_back(static_cast<char>(FrameCodec::kZstd));
      out.append(*packed);
      return out;
    }
  }
  frame[0] = static_cast<char>(FrameCodec::kNone);
  return frame;
}

std::string encodeFrame(const Envelope& envelope, bool may_compress) {
  std::string frame(1, '\0');
  CompactWriter w(frame);
  writeCompact(w, envelope);
  return sealFrame(std::move(frame), may_compress);
}

Result<Envelope> decodeFrame(std::string_view frame, std::size_t max_bytes) {
  if (frame.empty()) return Status::error(ErrorCode::kProtocol, "empty frame");
  const auto codec = static_cast<FrameCodec>(static_cast<unsigned char>(frame[0]));
  const auto body = frame.substr(1);
  if (codec == FrameCodec::kNone) return decode<Envelope>(body);
  if (codec != FrameCodec::kZstd) {
    return Status::error(ErrorCode::kProtocol, "unknown frame codec " + std::to_string(static_cast<int>(codec)));
  }
  auto plain = frame_detail::decompress(body, max_bytes);
  if (!plain) return plain.status();
  return decode<Envelope>(*plain);
}

}  // namespace communesync::sync::proto
