#include "bench_server.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmath>

#include <algorithm>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

namespace communesync::tools {

namespace fs = std::filesystem;

namespace {

// Whether something accepts connections on 127.0.0.1:`port` within a few seconds (a server whose
// admin token was there before it started: a second one on a shared store).
bool waitForPort(std::uint16_t port) {
  for (int i = 0; i < 200; ++i) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    const bool up = fd >= 0 && ::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
    if (fd >= 0) ::close(fd);
    if (up) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return false;
}

}  // namespace

std::optional<ServerChild> startServer(const fs::path& self, const fs::path& data, std::uint16_t port,
                                       const std::string& config) {
  const fs::path binary = self.parent_path().parent_path() / "server" / "communesync-server";
  const std::string listen = "127.0.0.1:" + std::to_string(port);
  std::vector<std::string> args = {binary.string(), "--data", data.string(), "--listen", listen};
  if (!config.empty()) {
    fs::create_directories(data.parent_path());
    const auto file = data.parent_path() / "server-config.json";
    std::ofstream(file) << config;
    args.insert(args.end(), {"--config", file.string()});
  }
  std::vector<char*> argv;
  argv.reserve(args.size() + 1);
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
  ServerChild child{-1, port, data, {}};
  const int rc = posix_spawn(&child.pid, argv[0], &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) return std::nullopt;
  for (int i = 0; i < 200 && !fs::exists(data / "admin.token"); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  std::ifstream(data / "admin.token") >> child.admin_token;
  if (child.admin_token.empty() || !waitForPort(port)) {
    stopServer(child);
    return std::nullopt;
  }
  return child;
}

void stopServer(const ServerChild& s) {
  ::kill(s.pid, SIGTERM);
  int status = 0;
  ::waitpid(s.pid, &status, 0);
}

double cpuMicros(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string field;
  for (int i = 0; i < 13 && in >> field; ++i) {
  }
  long utime = 0, stime = 0;
  in >> utime >> stime;
  return static_cast<double>(utime + stime) * 1e6 / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

void waitUntilQuiet(pid_t pid, std::chrono::milliseconds limit) {
  const auto tick = 1e6 / static_cast<double>(::sysconf(_SC_CLK_TCK));
  const auto until = std::chrono::steady_clock::now() + limit;
  double last = cpuMicros(pid);
  while (std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    const double now = cpuMicros(pid);
    if (now - last <= tick) return;
    last = now;
  }
}

namespace {
double statusMb(pid_t pid, const std::string& key) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(key, 0) == 0) return std::stod(line.substr(key.size())) / 1024.0;
  }
  return 0;
}
}  // namespace

double rssMb(pid_t pid) {
  return statusMb(pid, "VmRSS:");
}
double peakRssMb(pid_t pid) {
  return statusMb(pid, "VmHWM:");
}

void resetPeakRss(pid_t pid) {
  std::ofstream("/proc/" + std::to_string(pid) + "/clear_refs") << "5";
}

std::optional<std::pair<int, std::string>> httpPost(const ServerChild& server, const std::string& path,
                                                    const std::string& token, const std::string& body) {
  namespace http = boost::beast::http;
  boost::asio::io_context ioc;
  boost::beast::tcp_stream stream(ioc);
  boost::beast::error_code ec;
  stream.connect(boost::asio::ip::tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), server.port), ec);
  if (ec) return std::nullopt;
  http::request<http::string_body> req{http::verb::post, path, 11};
  req.set(http::field::host, "127.0.0.1");
  if (!token.empty()) req.set(http::field::authorization, "Bearer " + token);
  req.set(http::field::content_type, "application/json");
  req.body() = body;
  req.prepare_payload();
  http::write(stream, req, ec);
  boost::beast::flat_buffer buffer;
  http::response<http::string_body> res;
  if (!ec) http::read(stream, buffer, res, ec);
  if (ec) return std::nullopt;
  return std::make_pair(static_cast<int>(res.result_int()), std::move(res.body()));
}

std::string addUser(const ServerChild& server, const std::string& name, const std::vector<std::string>& scopes) {
  auto res =
      httpPost(server, "/admin/users", server.admin_token, nlohmann::json{{"name", name}, {"scopes", scopes}}.dump());
  if (!res) return "";
  auto j = nlohmann::json::parse(res->second, nullptr, false);
  return j.is_object() ? j.value("token", "") : "";
}

double percentile(std::vector<double>& values, double p) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const auto index = static_cast<std::size_t>(std::lround(p / 100.0 * static_cast<double>(values.size() - 1)));
  return values[std::min(index, values.size() - 1)];
}

std::uint16_t benchPort() {
  return static_cast<std::uint16_t>(20000 + ::getpid() % 20000);
}

}  // namespace communesync::tools
