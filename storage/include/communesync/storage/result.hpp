// Errors as values, shared by every layer of communesync.
//
// Expected outcomes (not found, locked, rejected, offline) travel as a Status or a Result<T>,
// never as exceptions; rocksdb::Status never leaves storage/. Programmer errors are assertions.
#pragma once

#include <cassert>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace communesync {

//! What went wrong, in terms a caller can act on.
enum class ErrorCode : std::uint8_t {
  kOk = 0,
  kNotFound,          //!< the thing asked for does not exist
  kInvalidArgument,   //!< the caller's input is malformed; the message says which part
  kLocked,            //!< another process holds the store
  kNoSpace,           //!< the disk is full
  kCorruption,        //!< stored bytes do not decode; needs an operator
  kPermissionDenied,  //!< the file system refused access
  kIoError,           //!< any other I/O failure
  kBusy,              //!< try again shortly
  kUnavailable,       //!< the peer cannot be reached
  kUnauthorized,      //!< credentials missing or wrong
  kForbidden,         //!< authenticated, but not allowed
  kRejected,          //!< the server refused a change; the message has its reason
  kLimitExceeded,     //!< a named limit was passed
  kProtocol,          //!< the peer broke the protocol
  kCancelled,         //!< the caller asked to stop
  kInternal,          //!< a bug: please report it
  kDeadlineExceeded,  //!< stopped cleanly at the caller's deadline; what was done is kept
  kAlreadyExists,     //!< the thing to create exists already (a user name), or was settled already
};
//! The last code: the C API's CS_ERR_* values mirror these one for one (checked in c_api.cpp).
inline constexpr ErrorCode kLastErrorCode = ErrorCode::kAlreadyExists;

//! A stable, lowercase name for an error code ("not_found", "locked", ...), used on the wire and in JSON.
std::string_view errorCodeName(ErrorCode code);

//! True for errors that may pass by themselves (network, busy): the caller may retry later.
bool isRetryable(ErrorCode code);

//! The outcome of an operation with no value: ok, or a code with a message a person can act on.
class [[nodiscard]] Status {
 public:
  Status() = default;
  static Status ok() { return {}; }
  static Status error(ErrorCode code, std::string message) {
    assert(code != ErrorCode::kOk);
    return Status(code, std::move(message));
  }

  bool isOk() const { return code_ == ErrorCode::kOk; }
  explicit operator bool() const { return isOk(); }
  ErrorCode code() const { return code_; }
  const std::string& message() const { return message_; }
  bool retryable() const { return isRetryable(code_); }

  //! "code: message", for logs and command-line output.
  std::string toString() const;

 private:
  Status(ErrorCode code, std::string message) : code_(code), message_(std::move(message)) {}
  ErrorCode code_ = ErrorCode::kOk;
  std::string message_;
};

//! A value or the Status that explains why there is none.
template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : state_(std::move(value)) {}        // NOLINT(google-explicit-constructor)
  Result(Status status) : state_(std::move(status)) {  // NOLINT(google-explicit-constructor)
    assert(!std::get<Status>(state_).isOk() && "a Result built from a Status must carry an error");
  }

  bool isOk() const { return std::holds_alternative<T>(state_); }
  explicit operator bool() const { return isOk(); }

  const T& value() const& {
    assert(isOk());
    return std::get<T>(state_);
  }
  T& value() & {
    assert(isOk());
    return std::get<T>(state_);
  }
  //! From a temporary Result, the value is moved out (not referenced), so that
  //! `for (auto& x : *makeList())` does not read a destroyed temporary.
  T value() && {
    assert(isOk());
    return std::get<T>(std::move(state_));
  }
  const T& operator*() const& { return value(); }
  T& operator*() & { return value(); }
  T operator*() && { return std::move(*this).value(); }
  const T* operator->() const { return &value(); }
  T* operator->() { return &value(); }

  //! The error; Status::ok() when there is a value.
  Status status() const { return isOk() ? Status::ok() : std::get<Status>(state_); }

 private:
  std::variant<T, Status> state_;
};

}  // namespace communesync

//! Returns the Status of `expr` from the enclosing function if it is an error.
#define CS_RETURN_IF_ERROR(expr)               \
  do {                                         \
    ::communesync::Status cs_status_ = (expr); \
    if (!cs_status_.isOk()) return cs_status_; \
  } while (false)
