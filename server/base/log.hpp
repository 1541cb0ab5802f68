// The server's log: one line per event on standard error (journald keeps it under systemd), with a
// UTC timestamp, a level and the event's fields as key=value:
//
//   2026-12-02T19:40:00.123Z info session_end user=an device=3f2a... reason="idle timeout"
//
// The level is set once at start (config "log_level", --log-level); events below it cost one
// comparison. Written over spdlog (Debian's libspdlog).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <mutex>
#include <string>
#include <string_view>

#include "communesync/storage/result.hpp"

namespace communesync::server {

enum class LogLevel : std::uint8_t { kDebug, kInfo, kWarn, kError };

//! "debug", "info", "warn" or "error". Errors: kInvalidArgument naming the choices.
Result<LogLevel> logLevelFromName(std::string_view name);
std::string_view logLevelName(LogLevel level);

void setLogLevel(LogLevel level);
bool logEnabled(LogLevel level);

struct LogField {
  std::string_view key;
  std::string value;
};

//! Where lines go instead of standard error (tests read them); an empty function restores stderr.
void setLogOutput(std::function<void(LogLevel, std::string_view line)> output);

//! One line: `event` and its fields. Values with spaces, quotes or '=' are quoted.
void logEvent(LogLevel level, std::string_view event, std::initializer_list<LogField> fields);

//! For an event that can repeat thousands of times a second (a refused connection, a failed
//! accept): counts each one and says when to log, at most once per interval, with how many
//! happened since the last line. A flood then writes one line per interval, not one per event.
class LogEvery {
 public:
  explicit LogEvery(std::chrono::steady_clock::duration interval) : interval_(interval) {}
  //! Counts one event; returns the count to log now (> 0), or 0 if the last line is too recent.
  std::uint64_t note() {
    std::lock_guard lock(mutex_);
    ++count_;
    const auto now = std::chrono::steady_clock::now();
    if (logged_ && now - last_ < interval_) return 0;
    logged_ = true;
    last_ = now;
    return std::exchange(count_, 0);
  }

 private:
  std::chrono::steady_clock::duration interval_;
  std::mutex mutex_;
  bool logged_ = false;
  std::chrono::steady_clock::time_point last_;
  std::uint64_t count_ = 0;
};

}  // namespace communesync::server
