// The real server a benchmark measures: started as a child process on 127.0.0.1 with its own store
// (and, when a scenario needs it, its own config), watched through /proc, stopped by its pid.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace communesync::tools {

struct ServerChild {
  pid_t pid = -1;
  std::uint16_t port = 0;
  std::filesystem::path data;
  std::string admin_token;
  std::string url() const { return "ws://127.0.0.1:" + std::to_string(port); }
};

//! Starts communesync-server from the build tree next to `self` (this program); `config` is a JSON
//! config file's text, or empty. Waits until it answers. nullopt if it does not start.
std::optional<ServerChild> startServer(const std::filesystem::path& self, const std::filesystem::path& data,
                                       std::uint16_t port, const std::string& config = {});
//! SIGTERM to the child and wait for it.
void stopServer(const ServerChild& server);

//! CPU time (user + system) of a process so far, in microseconds.
double cpuMicros(pid_t pid);
//! Waits until the process uses no more than a clock tick of CPU in 200 ms (the work a load left
//! behind it, as the server's search index catching up and RocksDB's flushes, is done), at most
//! `limit`, so that what is measured next is not charged with it.
void waitUntilQuiet(pid_t pid, std::chrono::milliseconds limit = std::chrono::seconds(20));
//! Resident memory now, and at its peak, in MiB.
double rssMb(pid_t pid);
double peakRssMb(pid_t pid);
//! Starts a new peak for peakRssMb (the process must be ours: clear_refs).
void resetPeakRss(pid_t pid);

//! POSTs `body` (JSON) to `path` with a bearer token on a new connection: the status and the body,
//! or nullopt when the server cannot be reached.
std::optional<std::pair<int, std::string>> httpPost(const ServerChild& server, const std::string& path,
                                                    const std::string& token, const std::string& body);

//! Adds a user reading and writing `scopes`; returns its token ("" on failure).
std::string addUser(const ServerChild& server, const std::string& name,
                    const std::vector<std::string>& scopes = {"xa-01"});

//! p-th percentile (0-100) of `values`, sorted in place (0 when empty).
double percentile(std::vector<double>& values, double p);

//! A free-running port for this run's server (from the pid, so parallel runs do not collide).
std::uint16_t benchPort();

}  // namespace communesync::tools
