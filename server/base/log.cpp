#include "base/log.hpp"

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <mutex>

namespace communesync::server {
namespace {

std::atomic<LogLevel> g_level{LogLevel::kInfo};
std::mutex g_output_mutex;
std::function<void(LogLevel, std::string_view)> g_output;  // empty: stderr

spdlog::level::level_enum spdlogLevel(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug:
      return spdlog::level::debug;
    case LogLevel::kInfo:
      return spdlog::level::info;
    case LogLevel::kWarn:
      return spdlog::level::warn;
    case LogLevel::kError:
      return spdlog::level::err;
  }
  return spdlog::level::info;
}

spdlog::logger& logger() {
  static const std::shared_ptr<spdlog::logger> instance = [] {
    auto out = std::make_shared<spdlog::logger>("communesync", std::make_shared<spdlog::sinks::stderr_sink_mt>());
    out->set_pattern("%Y-%m-%dT%H:%M:%S.%eZ %l %v", spdlog::pattern_time_type::utc);
    out->set_level(spdlog::level::trace);  // filtered by g_level before a line is built
    out->flush_on(spdlog::level::trace);
    return out;
  }();
  return *instance;
}

void appendValue(std::string& line, std::string_view value) {
  const bool quote = value.empty() || value.find_first_of(" \"=\t\n") != std::string_view::npos;
  if (!quote) {
    line += value;
    return;
  }
  line += '"';
  for (char c : value) {
    if (c == '"' || c == '\\') line += '\\';
    line += c == '\n' ? ' ' : c;
  }
  line += '"';
}

}  // namespace

Result<LogLevel> logLevelFromName(std::string_view name) {
  for (auto level : {LogLevel::kDebug, LogLevel::kInfo, LogLevel::kWarn, LogLevel::kError}) {
    if (logLevelName(level) == name) return level;
  }
  return Status::error(ErrorCode::kInvalidArgument,
                       "log level '" + std::string(name.substr(0, 40)) + "': use debug, info, warn or error");
}

std::string_view logLevelName(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug:
      return "debug";
    case LogLevel::kInfo:
      return "info";
    case LogLevel::kWarn:
      return "warn";
    case LogLevel::kError:
      return "error";
  }
  return "info";
}

void setLogOutput(std::function<void(LogLevel, std::string_view)> output) {
  std::lock_guard lock(g_output_mutex);
  g_output = std::move(output);
}

void setLogLevel(LogLevel level) {
  g_level.store(level, std::memory_order_relaxed);
}

bool logEnabled(LogLevel level) {
  return level >= g_level.load(std::memory_order_relaxed);
}

void logEvent(LogLevel level, std::string_view event, std::initializer_list<LogField> fields) {
  if (!logEnabled(level)) return;
  std::string line(event);
  for (const auto& f : fields) {
    line += ' ';
    line += f.key;
    line += '=';
    appendValue(line, f.value);
  }
  {
    std::lock_guard lock(g_output_mutex);
    if (g_output) return g_output(level, line);
  }
  logger().log(spdlogLevel(level), line);
}

}  // namespace communesync::server
