// Child processes for tests: run a program to completion, or start one and kill it by its pid.
#pragma once

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <vector>

extern char** environ;

namespace communesync::testing {

struct RunResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

class Child {
 public:
  //! Starts `argv[0]` with `argv`; stdout and stderr are captured.
  explicit Child(const std::vector<std::string>& argv, const std::string& stdin_text = "") {
    int out[2], err[2], in[2];
    if (::pipe(out) != 0 || ::pipe(err) != 0 || ::pipe(in) != 0) return;
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
    posix_spawn_file_actions_adddup2(&actions, err[1], STDERR_FILENO);
    posix_spawn_file_actions_adddup2(&actions, in[0], STDIN_FILENO);
    for (int fd : {out[0], err[0], in[1]}) posix_spawn_file_actions_addclose(&actions, fd);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    if (posix_spawn(&pid_, args[0], &actions, nullptr, args.data(), environ) != 0) pid_ = -1;
    posix_spawn_file_actions_destroy(&actions);
    ::close(out[1]);
    ::close(err[1]);
    ::close(in[0]);
    if (!stdin_text.empty()) (void)!::write(in[1], stdin_text.data(), stdin_text.size());
    ::close(in[1]);
    out_fd_ = out[0];
    err_fd_ = err[0];
  }
  ~Child() {
    if (pid_ > 0 && !reaped_) {
      ::kill(pid_, SIGKILL);
      wait();
    }
    if (out_fd_ >= 0) ::close(out_fd_);
    if (err_fd_ >= 0) ::close(err_fd_);
  }
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;

  pid_t pid() const { return pid_; }

  //! Reads stdout until a line containing `needle` appears (or `timeout`); returns that line.
  std::string waitForLine(const std::string& needle, std::chrono::milliseconds timeout = std::chrono::seconds(20)) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      auto nl = out_.find('\n', scanned_);
      while (nl != std::string::npos) {
        std::string line = out_.substr(scanned_, nl - scanned_);
        scanned_ = nl + 1;
        if (line.find(needle) != std::string::npos) return line;
        nl = out_.find('\n', scanned_);
      }
      pollfd p{out_fd_, POLLIN, 0};
      if (::poll(&p, 1, 50) > 0) {
        char buf[4096];
        auto n = ::read(out_fd_, buf, sizeof buf);
        if (n <= 0) break;
        out_.append(buf, static_cast<std::size_t>(n));
      }
    }
    return {};
  }

  void signal(int sig) {
    if (pid_ > 0 && !reaped_) ::kill(pid_, sig);
  }

  //! Waits for the child to end, draining its output; returns its result.
  RunResult wait() {
    RunResult r;
    drain(out_fd_, out_);
    drain(err_fd_, err_);
    int status = 0;
    if (pid_ > 0 && !reaped_) {
      ::waitpid(pid_, &status, 0);
      reaped_ = true;
      exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }
    r.exit_code = exit_code_;
    r.out = out_;
    r.err = err_;
    return r;
  }

 private:
  static void drain(int fd, std::string& into) {
    if (fd < 0) return;
    char buf[4096];
    ssize_t n;
    while ((n = ::read(fd, buf, sizeof buf)) > 0) into.append(buf, static_cast<std::size_t>(n));
  }
  pid_t pid_ = -1;
  int out_fd_ = -1;
  int err_fd_ = -1;
  bool reaped_ = false;
  int exit_code_ = -1;
  std::string out_;
  std::string err_;
  std::size_t scanned_ = 0;
};

inline RunResult run(const std::vector<std::string>& argv, const std::string& stdin_text = "") {
  Child c(argv, stdin_text);
  return c.wait();
}

}  // namespace communesync::testing
