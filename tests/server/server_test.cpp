#include "app/server.hpp"

#include <gtest/gtest.h>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <fstream>
#include <iterator>
#include <thread>

#include "assert_ok.hpp"
#include "temp_dir.hpp"

namespace communesync::server {
namespace {

namespace http = boost::beast::http;
using tcp = boost::asio::ip::tcp;

http::response<http::string_body> get(std::uint16_t port, const std::string& target) {
  boost::asio::io_context ioc;
  boost::beast::tcp_stream stream(ioc);
  stream.connect(tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), port));
  http::request<http::empty_body> req{http::verb::get, target, 11};
  req.set(http::field::host, "127.0.0.1");
  http::write(stream, req);
  boost::beast::flat_buffer buffer;
  http::response<http::string_body> res;
  http::read(stream, buffer, res);
  return res;
}

struct RunningServer {
  explicit RunningServer(const std::filesystem::path& data) {
    Config config;
    config.data_dir = data;
    config.listen_port = 0;
    config.threads = 2;
    auto s = Server::create(config);
    EXPECT_OK(s);
    server = std::move(s).value();
    thread = std::thread([this] { run_status = server->run(); });
  }
  ~RunningServer() {
    server->stop();
    thread.join();
  }
  std::unique_ptr<Server> server;
  std::thread thread;
  Status run_status;
};

TEST(Server, HealthzNamesTheIncarnation) {
  testing::TempDir dir;
  RunningServer running(dir / "data");
  auto res = get(running.server->port(), "/healthz");
  EXPECT_EQ(res.result(), http::status::ok);
  EXPECT_NE(res[http::field::content_type].find("application/json"), std::string::npos);
  EXPECT_NE(res.body().find("\"incarnation\":\"" + running.server->incarnationId() + "\""), std::string::npos)
      << res.body();
}

TEST(Server, UnknownPathIs404WithJson) {
  testing::TempDir dir;
  RunningServer running(dir / "data");
  auto res = get(running.server->port(), "/nope");
  EXPECT_EQ(res.result(), http::status::not_found);
  EXPECT_NE(res.body().find("\"error\":\"not_found\""), std::string::npos);
}

TEST(Server, SecondServerOnTheSameStoreFailsClearly) {
  testing::TempDir dir;
  RunningServer running(dir / "data");
  Config config;
  config.data_dir = dir / "data";
  config.listen_port = 0;
  auto second = Server::create(config);
  ASSERT_FALSE(second.isOk());
  EXPECT_EQ(second.status().code(), ErrorCode::kLocked);
}

// What RocksDB itself reports of the block cache it was given (its LOG dumps the table options at
// open): the setting reaches the store, not only the config.
TEST(Server, TheCacheSettingSizesTheStoresBlockCache) {
  testing::TempDir dir;
  Config config;
  config.data_dir = dir / "data";
  config.listen_port = 0;
  config.cache_mb = 16;
  {
    auto s = Server::create(config);
    ASSERT_OK(s);
  }
  std::ifstream log(dir / "data" / "LOG");
  const std::string text((std::istreambuf_iterator<char>(log)), std::istreambuf_iterator<char>());
  EXPECT_NE(text.find("capacity : 16777216"), std::string::npos) << "no 16 MiB block cache in RocksDB's LOG";
  EXPECT_EQ(text.find("capacity : 33554432"), std::string::npos) << "the default cache, not the setting";
}

TEST(Server, IncarnationSurvivesRestart) {
  testing::TempDir dir;
  std::string first;
  {
    RunningServer running(dir / "data");
    first = running.server->incarnationId();
  }
  RunningServer again(dir / "data");
  EXPECT_EQ(again.server->incarnationId(), first);
}

}  // namespace
}  // namespace communesync::server
