// The server as its own process (SERVER_PATH), so that it can be killed or measured; 127.0.0.1 only.
#pragma once

#include <gtest/gtest.h>

#include <fstream>

#include "assert_ok.hpp"
#include "communesync/storage/postgres_store.hpp"
#include "communesync/storage/store.hpp"
#include "process.hpp"
#include "store/server_store.hpp"

namespace communesync::testing {

// The server as its own process, so that it can be killed.
class ServerProcess {
 public:
  //! `extra` is added to the command line (e.g. --config FILE).
  explicit ServerProcess(std::filesystem::path data, std::vector<std::string> extra = {})
      : data_(std::move(data)), extra_(std::move(extra)) {}

  //! Runs the server under `wrapper` (e.g. prlimit with its options, ending in "--").
  void wrapWith(std::vector<std::string> wrapper) { wrapper_ = std::move(wrapper); }

  void start() {
    std::vector<std::string> argv = wrapper_;
    for (std::string arg : {std::string(SERVER_PATH), std::string("--data"), data_.string(), std::string("--listen"),
                            "127.0.0.1:" + std::to_string(port_)}) {
      argv.push_back(std::move(arg));
    }
    argv.insert(argv.end(), extra_.begin(), extra_.end());
    child_ = std::make_unique<Child>(argv);
    auto line = child_->waitForLine("listening on");
    ASSERT_FALSE(line.empty()) << "the server did not start";
    auto colon = line.find("127.0.0.1:");
    port_ = static_cast<std::uint16_t>(std::stoi(line.substr(colon + 10)));
  }
  void kill() {
    child_->signal(SIGKILL);
    child_->wait();
  }
  //! Stops the server with SIGTERM; returns what it printed (its log is on stderr).
  RunResult stopGracefully() {
    child_->signal(SIGTERM);
    auto r = child_->wait();
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return r;
  }
  pid_t pid() const { return child_->pid(); }
  std::string url() const { return "ws://127.0.0.1:" + std::to_string(port_); }
  std::uint16_t port() const { return port_; }
  std::string adminToken() const {
    std::ifstream in(data_ / "admin.token");
    std::string t;
    in >> t;
    return t;
  }
  //! Keeps everything in the PostgreSQL database at `url` instead of the folder (--store).
  void useStore(std::string url) {
    store_url_ = url;
    extra_.push_back("--store");
    extra_.push_back(std::move(url));
  }

  //! Change ids in the log, read while the server is stopped (a RocksDB folder is one process's;
  //! a PostgreSQL store may be read while servers run).
  std::vector<sync::ChangeId> loggedIds() const {
    auto store = storage::openStoreAt(store_url_.empty() ? data_.string() : store_url_);
    EXPECT_OK(store);
    auto data = server::ServerStore::open(**store);
    auto log = (*data)->logForTesting();
    std::vector<sync::ChangeId> out;
    for (const auto& c : *log) out.push_back(c.id);
    return out;
  }

 private:
  std::filesystem::path data_;
  std::string store_url_;
  std::vector<std::string> extra_;
  std::vector<std::string> wrapper_;
  std::uint16_t port_ = 0;
  std::unique_ptr<Child> child_;
};

}  // namespace communesync::testing
