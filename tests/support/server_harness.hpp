// A communesync server in this process on 127.0.0.1 (port 0), and devices that sync with it.
#pragma once

#include <gtest/gtest.h>

#include <atomic>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "app/server.hpp"
#include "assert_ok.hpp"
#include "communesync/client/local_store.hpp"
#include "communesync/client/record_json.hpp"
#include "communesync/client/replicator.hpp"
#include "communesync/client/websocket_transport.hpp"
#include "store/server_store.hpp"
#include "store_backends.hpp"

namespace communesync::testing {

inline std::chrono::milliseconds wallNow() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch());
}

//! Sends one HTTP request to the server on 127.0.0.1 and returns the whole response (headers too).
inline boost::beast::http::response<boost::beast::http::string_body> httpExchange(
    std::uint16_t port, boost::beast::http::request<boost::beast::http::string_body> req) {
  namespace http = boost::beast::http;
  boost::asio::io_context ioc;
  boost::beast::tcp_stream stream(ioc);
  stream.connect(boost::asio::ip::tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), port));
  if (req.find(http::field::host) == req.end()) req.set(http::field::host, "127.0.0.1");
  req.prepare_payload();
  http::write(stream, req);
  boost::beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(256 * 1024 * 1024);
  http::read(stream, buffer, parser);
  return parser.release();
}

//! Sends a request to the server's HTTP API; returns (status, body).
inline std::pair<unsigned, std::string> httpCall(std::uint16_t port, boost::beast::http::verb verb,
                                                 const std::string& token, const std::string& path,
                                                 const std::string& body) {
  namespace http = boost::beast::http;
  http::request<http::string_body> req{verb, path, 11};
  if (!token.empty()) req.set(http::field::authorization, "Bearer " + token);
  req.body() = body;
  auto res = httpExchange(port, std::move(req));
  return {res.result_int(), res.body()};
}

//! POSTs to the server's admin API; returns (status, body).
inline std::pair<unsigned, std::string> adminPost(std::uint16_t port, const std::string& token, const std::string& path,
                                                  const std::string& body) {
  return httpCall(port, boost::beast::http::verb::post, token, path, body);
}

class ServerHarness {
 public:
  using Tune = std::function<void(server::Config&)>;

  //! `tune` adjusts the config (limits, TLS) before each start. With `stores` on PostgreSQL, the
  //! server keeps everything in its store "server" (store_backends.hpp); else in `data`.
  explicit ServerHarness(std::filesystem::path data, std::uint16_t port = 0, Tune tune = {},
                         ScratchStores* stores = nullptr)
      : data_(std::move(data)),
        tune_(std::move(tune)),
        stores_(stores != nullptr && onPostgres(stores->backend()) ? stores : nullptr),
        two_servers_(stores_ != nullptr && stores_->backend() == Backend::kPostgresTwoServers) {
    if (stores_ != nullptr) store_url_ = stores_->location("server");
    start(port);
  }
  //! The same on the test's backend.
  ServerHarness(std::filesystem::path data, ScratchStores& stores) : ServerHarness(std::move(data), 0, {}, &stores) {}
  ~ServerHarness() { stop(); }

  void start(std::uint16_t port = 0) {
    startOne(first_, data_, port != 0 ? port : first_.port);
    std::ifstream in(data_ / "admin.token");
    in >> admin_token_;
    // The second server on the same database: its own folder (no admin token: the store has one).
    if (two_servers_) startOne(second_, data_.string() + "-second", second_.port);
  }

  void stop() {
    stopOne(second_);
    stopOne(first_);
  }

  //! Stops the server, deletes its store, starts a new one on the same port.
  void wipeAndRestart() {
    stop();
    std::filesystem::remove_all(data_);
    if (stores_ != nullptr) stores_->wipe("server");
    start(first_.port);
  }

  //! Stops the server, copies its store to `to` (a backup: a folder, or a database named after
  //! its last part), starts it again.
  void backupTo(const std::filesystem::path& to) {
    stop();
    std::filesystem::copy(data_, to, std::filesystem::copy_options::recursive);
    if (stores_ != nullptr) stores_->copy("server", to.filename().string());
    start(first_.port);
  }

  //! Stops the server, replaces its store with the backup at `from`, starts it again.
  void restoreFrom(const std::filesystem::path& from) {
    stop();
    std::filesystem::remove_all(data_);
    std::filesystem::copy(from, data_, std::filesystem::copy_options::recursive);
    if (stores_ != nullptr) stores_->copy(from.filename().string(), "server");
    start(first_.port);
  }

  std::string addUser(const std::string& name, const std::vector<std::string>& scopes) {
    return addUser(nlohmann::json{{"name", name}, {"scopes", scopes}});
  }
  //! Creates a user from the admin API's JSON ({"name", "grants", "scopes", "password"}); returns its token.
  std::string addUser(const nlohmann::json& user) {
    auto [status, body] = adminPost(first_.port, admin_token_, "/admin/users", user.dump());
    EXPECT_EQ(status, 201u) << body;
    return status == 201u ? nlohmann::json::parse(body).value("token", "") : "";
  }
  //! POSTs to the admin API with the admin token; expects 200 and returns the JSON answer.
  nlohmann::json admin(const std::string& path, const std::string& body) {
    auto [status, text] = adminPost(first_.port, admin_token_, path, body);
    EXPECT_EQ(status, 200u) << path << ": " << text;
    return nlohmann::json::parse(text, nullptr, false);
  }

  //! The (first) server's port: the admin API's.
  std::uint16_t port() const { return first_.port; }
  //! Where devices sync. With two servers, each call names the next one.
  std::string url() const {
    const bool second = two_servers_ && (turn_++ % 2 == 1);
    return "ws://127.0.0.1:" + std::to_string(second ? second_.port : first_.port);
  }
  const std::filesystem::path& data() const { return data_; }
  const std::string& adminToken() const { return admin_token_; }

  //! The server's change log (stops the server while reading it, then starts it again).
  std::vector<sync::Change> log() {
    std::vector<sync::Change> out;
    whileStopped([&](storage::Store& store) {
      auto data = server::ServerStore::open(store);
      auto changes = (*data)->logForTesting();
      EXPECT_OK(changes);
      out = *changes;
    });
    return out;
  }

  //! Purges the tombstones received before `before_ms` as the writer's sweep would (stops the
  //! server meanwhile). Returns how many went.
  std::size_t purgeTombstones(std::int64_t before_ms) {
    std::size_t n = 0;
    whileStopped([&](storage::Store& store) {
      auto data = server::ServerStore::open(store);
      ASSERT_OK(data);
      auto purged = (*data)->purgeTombstones(before_ms);
      EXPECT_OK(purged);
      n = purged ? *purged : 0;
    });
    return n;
  }

  //! How many change results the server keeps to answer replays (stops the server while counting).
  std::size_t keptResults() {
    std::size_t n = 0;
    whileStopped([&](storage::Store& store) {
      for (auto c = store.scan(storage::Column::kIdempotency, "", ""); c.valid(); c.next()) ++n;
    });
    return n;
  }

 private:
  //! Stops the server, opens its store for `read`, then starts it again on the same port.
  template <class Read>
  void whileStopped(Read&& read) {
    stop();
    {
      auto store = storage::openStoreAt(store_url_.empty() ? data_.string() : store_url_);
      EXPECT_OK(store);
      if (store) read(**store);
    }
    start(first_.port);
  }

  struct Running {
    std::unique_ptr<server::Server> server;
    std::thread thread;
    std::uint16_t port = 0;
  };
  void startOne(Running& one, const std::filesystem::path& data, std::uint16_t port) {
    server::Config config;
    if (tune_) tune_(config);
    config.data_dir = data;
    config.store = store_url_;
    config.listen_port = port;
    config.threads = 2;
    auto s = server::Server::create(config);
    ASSERT_OK(s);
    one.server = std::move(s).value();
    one.port = one.server->port();
    one.thread = std::thread([&one] { (void)one.server->run(); });
  }
  static void stopOne(Running& one) {
    if (!one.server) return;
    one.server->stop();
    one.thread.join();
    one.server.reset();
  }

  std::filesystem::path data_;
  Tune tune_;
  ScratchStores* stores_ = nullptr;  // on PostgreSQL
  bool two_servers_ = false;         // a second server on the same PostgreSQL database
  std::string store_url_;
  std::string admin_token_;
  Running first_;
  Running second_;
  mutable std::atomic<unsigned> turn_{0};
};

class TestDevice {
 public:
  TestDevice(std::filesystem::path path, std::string token) : path_(std::move(path)), token_(std::move(token)) {
    auto s = client::LocalStore::open(path_);
    EXPECT_OK(s);
    store_ = std::move(s).value();
  }

  client::LocalStore& store() { return *store_; }

  std::string put(const std::string& collection, const std::string& id, const std::map<std::string, sync::Value>& f,
                  const std::string& scope = "xa-01") {
    auto r = store_->put(collection, id, scope, f, wallNow());
    EXPECT_OK(r);
    return r.isOk() ? *r : "";
  }

  void remove(const std::string& collection, const std::string& id) {
    auto s = store_->remove({collection, id}, wallNow());
    EXPECT_OK(s);
  }

  client::SyncReport sync(const std::string& url, const client::TlsOptions& tls = {},
                          std::function<void(const client::SyncProgress&)> on_progress = {}) {
    client::WebSocketTransport transport(url, token_, tls);
    client::SyncOptions options;
    options.reply_timeout = std::chrono::seconds(20);
    options.on_progress = std::move(on_progress);
    return client::syncOnce(*store_, transport, options);
  }

  void syncOk(const std::string& url) {
    auto r = sync(url);
    ASSERT_OK(r.status);
  }

  //! Canonical export: every live record as a JSON line, sorted.
  std::string exportText() {
    auto all = store_->all();
    EXPECT_OK(all);
    std::string out;
    for (const auto& r : *all) out += client::recordToJson(r).dump() + "\n";
    return out;
  }

  void setToken(std::string token) { token_ = std::move(token); }
  const std::string& token() const { return token_; }

  std::uint64_t pendingCount() {
    auto st = store_->status();
    return st.isOk() ? st->pending : 0;
  }

  //! The first of this device's changes 1..`count` it holds as acknowledged (no longer in its outbox)
  //! that is not in `logged` (the server's log, by this device's seq), or 0 when none is missing.
  std::uint64_t acknowledgedButNotLogged(const std::set<std::uint64_t>& logged, std::uint64_t count) {
    std::set<std::uint64_t> pending;
    auto outbox = store_->pending(0, 1 << 20, SIZE_MAX);
    EXPECT_OK(outbox);
    if (!outbox.isOk()) return 0;
    for (const auto& p : *outbox) pending.insert(p.change.id.seq);
    for (std::uint64_t seq = 1; seq <= count; ++seq) {
      if (pending.count(seq) == 0 && logged.count(seq) == 0) return seq;
    }
    return 0;
  }

 private:
  std::filesystem::path path_;
  std::string token_;
  std::unique_ptr<client::LocalStore> store_;
};

}  // namespace communesync::testing
