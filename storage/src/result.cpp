#include "communesync/storage/result.hpp"

namespace communesync {

std::string_view errorCodeName(ErrorCode code) {
  switch (code) {
    case ErrorCode::kOk:
      return "ok";
    case ErrorCode::kNotFound:
      return "not_found";
    case ErrorCode::kInvalidArgument:
      return "invalid_argument";
    case ErrorCode::kLocked:
      return "locked";
    case ErrorCode::kNoSpace:
      return "no_space";
    case ErrorCode::kCorruption:
      return "corruption";
    case ErrorCode::kPermissionDenied:
      return "permission_denied";
    case ErrorCode::kIoError:
      return "io_error";
    case ErrorCode::kBusy:
      return "busy";
    case ErrorCode::kUnavailable:
      return "unavailable";
    case ErrorCode::kUnauthorized:
      return "unauthorized";
    case ErrorCode::kForbidden:
      return "forbidden";
    case ErrorCode::kRejected:
      return "rejected";
    case ErrorCode::kLimitExceeded:
      return "limit_exceeded";
    case ErrorCode::kProtocol:
      return "protocol";
    case ErrorCode::kCancelled:
      return "cancelled";
    case ErrorCode::kInternal:
      return "internal";
    case ErrorCode::kDeadlineExceeded:
      return "deadline_exceeded";
    case ErrorCode::kAlreadyExists:
      return "already_exists";
  }
  return "unknown";
}

bool isRetryable(ErrorCode code) {
  switch (code) {
    case ErrorCode::kBusy:
    case ErrorCode::kUnavailable:
    case ErrorCode::kIoError:
    case ErrorCode::kNoSpace:
    case ErrorCode::kLocked:
    case ErrorCode::kDeadlineExceeded:
      return true;
    default:
      return false;
  }
}

std::string Status::toString() const {
  if (isOk()) return "ok";
  std::string out(errorCodeName(code_));
  out += ": ";
  out += message_;
  return out;
}

}  // namespace communesync
