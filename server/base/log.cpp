#include "base/log.hpp"

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
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

// "<N>" before a line: the syslog priority journald reads off a service's output (sd-daemon(3)),
// so `journalctl -p warning` finds the warnings. Written only when stderr is the journal.
class SyslogPriority : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg& msg, const std::tm& /*time*/, spdlog::memory_buf_t& dest) override {
    char digit = '6';  // info
    switch (msg.level) {
      case spdlog::level::err:
      case spdlog::level::critical:
        digit = '3';
        break;
      case spdlog::level::warn:
        digit = '4';
        break;
      case spdlog::level::debug:
      case spdlog::level::trace:
        digit = '7';
        break;
      default:
        break;
    }
    const char text[] = {'<', digit, '>'};
    dest.append(text, text + sizeof text);
  }
  std::unique_ptr<custom_flag_formatter> clone() const override { return std::make_unique<SyslogPriority>(); }
};

// Whether standard error is the journal: systemd sets $JOURNAL_STREAM to its device and inode.
bool stderrIsTheJournal() {
  const char* stream = std::getenv("JOURNAL_STREAM");  // NOLINT(concurrency-mt-unsafe): read once, before threads
  struct stat st {};
  if (stream == nullptr || ::fstat(STDERR_FILENO, &st) != 0) return false;
  const std::string expected = std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino);
  return expected == stream;
}

spdlog::logger& logger() {
  static const std::shared_ptr<spdlog::logger> instance = [] {
    auto out = std::make_shared<spdlog::logger>("communesync", std::make_shared<spdlog::sinks::stderr_sink_mt>());
    auto formatter = std::make_unique<spdlog::pattern_formatter>(spdlog::pattern_time_type::utc);
    formatter->add_flag<SyslogPriority>('*');
    formatter->set_pattern(stderrIsTheJournal() ? "%*%Y-%m-%dT%H:%M:%S.%eZ %l %v" : "%Y-%m-%dT%H:%M:%S.%eZ %l %v");
    out->set_formatter(std::move(formatter));
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
