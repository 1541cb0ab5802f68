// Reading a password for the command-line tools: from standard input as given (--password-stdin,
// for scripts), else from the terminal without echo.
#pragma once

#include <termios.h>
#include <unistd.h>

#include <iostream>
#include <optional>
#include <string>

namespace communesync::tools {

//! The password, or std::nullopt if it must come from a terminal and there is none.
inline std::optional<std::string> readPassword(bool from_stdin, const std::string& prompt) {
  std::string password;
  if (from_stdin) {
    std::getline(std::cin, password);
  } else {
    if (::isatty(STDIN_FILENO) == 0) return std::nullopt;
    std::cerr << prompt << std::flush;
    termios old_mode{};
    ::tcgetattr(STDIN_FILENO, &old_mode);
    termios quiet = old_mode;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    ::tcsetattr(STDIN_FILENO, TCSANOW, &quiet);
    std::getline(std::cin, password);
    ::tcsetattr(STDIN_FILENO, TCSANOW, &old_mode);
    std::cerr << "\n";
  }
  if (!password.empty() && password.back() == '\r') password.pop_back();
  return password;
}

}  // namespace communesync::tools
