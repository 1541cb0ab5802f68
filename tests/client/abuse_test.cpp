// Abuse while a legitimate device syncs, against the server as its own process on 127.0.0.1:
// hundreds of idle unauthenticated sockets, half-finished handshakes, garbage bytes, an oversized
// frame, a flood of messages on one session, too many sessions of one user. The legitimate sync
// completes; the offenders are closed with the right codes; the server's memory stays bounded.
// Every socket here is ours and closes by itself; the server is stopped by its pid.
#include <gtest/gtest.h>

#include <optional>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>
#include <cstdlib>
#include <fstream>
#include <thread>

#include "assert_ok.hpp"
#include "communesync/sync/file_ref.hpp"
#include "communesync/sync/frame.hpp"
#include "server_harness.hpp"
#include "server_process.hpp"
#include "temp_dir.hpp"

namespace communesync::testing {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace websocket = boost::beast::websocket;
using tcp = net::ip::tcp;
using nlohmann::json;

// The resident memory of a process, in KiB, from /proc.
long residentKib(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  }
  return -1;
}

tcp::endpoint serverAt(std::uint16_t port) {
  return {net::ip::make_address("127.0.0.1"), port};
}

// True if the server closes `socket` (EOF or reset) within `within`.
bool closedByServer(tcp::socket& socket, std::chrono::milliseconds within) {
  const auto deadline = std::chrono::steady_clock::now() + within;
  socket.non_blocking(true);
  char buf[4096];
  while (std::chrono::steady_clock::now() < deadline) {
    beast::error_code ec;
    socket.read_some(net::buffer(buf), ec);
    if (ec == net::error::would_block) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      continue;
    }
    if (ec) return true;  // eof, reset
  }
  return false;
}

// A WebSocket session with the token, as an attacker would open it.
struct RawSession {
  net::io_context ioc;
  websocket::stream<beast::tcp_stream> ws{ioc};

  beast::error_code open(std::uint16_t port, const std::string& token) {
    beast::error_code ec;
    beast::get_lowest_layer(ws).connect(serverAt(port), ec);
    if (ec) return ec;
    ws.set_option(websocket::stream_base::decorator([token](websocket::request_type& req) {
      req.set(beast::http::field::authorization, "Bearer " + token);
      req.set(beast::http::field::sec_websocket_protocol, sync::proto::kSubprotocol);
    }));
    ws.binary(true);
    ws.handshake("127.0.0.1", "/sync", ec);
    return ec;
  }

  // Writes `bytes` as one message, giving up after `within`: a server that stops reading must fail
  // the test, not hang it (a blocking write has no timeout).
  beast::error_code writeWithin(std::string_view bytes, std::chrono::seconds within) {
    std::optional<beast::error_code> result;
    ws.async_write(net::buffer(bytes.data(), bytes.size()), [&](beast::error_code ec, std::size_t) { result = ec; });
    ioc.restart();
    ioc.run_for(within);
    if (result) return *result;
    beast::get_lowest_layer(ws).close();
    ioc.restart();
    ioc.run();
    return net::error::timed_out;
  }

  // Reads until the server closes; the close code it gave (none if it did not close in time, or
  // reset the connection: a reset throws away a close frame not read yet).
  std::uint16_t closeCode(std::chrono::seconds within) {
    const auto deadline = std::chrono::steady_clock::now() + within;
    beast::flat_buffer buffer;
    beast::error_code ec;
    while (!ec) {
      std::optional<beast::error_code> result;
      ws.async_read(buffer, [&](beast::error_code e, std::size_t) { result = e; });
      ioc.restart();
      ioc.run_until(deadline);
      if (!result) {
        beast::get_lowest_layer(ws).close();
        ioc.restart();
        ioc.run();
        return 0;
      }
      ec = *result;
      buffer.clear();
    }
    return ws.reason().code;
  }
};

class AbuseTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::ofstream(dir_ / "server.json") << json{{"limits",
                                                 {{"handshake_timeout_ms", 1500},
                                                  {"messages_per_second", 20},
                                                  {"max_sessions_per_user", 4},
                                                  {"max_connections_per_address", 400}}}}
                                               .dump();
    // Under AddressSanitizer, freed memory waits in a quarantine (256 MiB by default) before it is
    // reused: keep it small so that resident memory measures the server, not the sanitizer.
    const char* asan = std::getenv("ASAN_OPTIONS");
    const std::string options = std::string(asan != nullptr ? asan : "") + ":quarantine_size_mb=16";
    setenv("ASAN_OPTIONS", options.c_str(), 1);
    server_ = std::make_unique<ServerProcess>(dir_ / "data",
                                              std::vector<std::string>{"--config", (dir_ / "server.json").string()});
    ASSERT_NO_FATAL_FAILURE(server_->start());
  }
  void TearDown() override {
    if (server_) server_->stopGracefully();
  }

  std::string addUser(const std::string& name) {
    auto [status, body] = adminPost(server_->port(), server_->adminToken(), "/admin/users",
                                    json{{"name", name}, {"scopes", {"xa-01"}}}.dump());
    EXPECT_EQ(status, 201u) << body;
    return json::parse(body).value("token", "");
  }

  TempDir dir_;
  std::unique_ptr<ServerProcess> server_;
};

TEST_F(AbuseTest, TheLegitimateSyncCompletesAndOffendersAreClosed) {
  const auto port = server_->port();
  const auto legit_token = addUser("legit");
  const auto rogue_token = addUser("rogue");
  const long rss_before = residentKib(server_->pid());
  ASSERT_GT(rss_before, 0);

  net::io_context ioc;
  // 300 idle sockets that never say a word, and 20 handshakes left half-finished.
  std::vector<tcp::socket> idle;
  for (int i = 0; i < 300; ++i) {
    idle.emplace_back(ioc);
    beast::error_code ec;
    idle.back().connect(serverAt(port), ec);
    ASSERT_FALSE(ec) << "socket " << i << ": " << ec.message();
  }
  std::vector<tcp::socket> half;
  for (int i = 0; i < 20; ++i) {
    half.emplace_back(ioc);
    half.back().connect(serverAt(port));
    net::write(half.back(), net::buffer(std::string("GET /sync HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n")));
  }
  // Garbage bytes where HTTP is expected.
  tcp::socket garbage(ioc);
  garbage.connect(serverAt(port));
  net::write(garbage, net::buffer(std::string(4096, '\x07') + "\r\n\r\n"));

  // An oversized frame and a flood, each on a real session of the rogue user.
  RawSession big;
  ASSERT_FALSE(big.open(port, rogue_token));
  beast::error_code write_ec;
  write_ec = big.writeWithin(std::string(5 * 1024 * 1024, 'x'), std::chrono::seconds(30));  // the limit is 4 MiB
  EXPECT_NE(write_ec, net::error::timed_out) << "the server neither read the frame nor closed the session";
  // Each close code read at once: a server whose closing handshake times out resets the
  // connection, and a reset throws away a close frame not read yet.
  // The server refuses the frame and closes the session: with 1009, or, when it closes while the
  // rest of the frame is still arriving, with a reset that the sender sees as its write failing.
  const auto resetWhileSending = [](const beast::error_code& ec) {
    return ec == net::error::connection_reset || ec == net::error::broken_pipe;
  };
  const auto big_code = big.closeCode(std::chrono::seconds(10));
  EXPECT_TRUE(big_code == websocket::close_code::too_big || resetWhileSending(write_ec))
      << "1009 expected; close code " << big_code << ", write: " << write_ec.message();
  RawSession flood;
  ASSERT_FALSE(flood.open(port, rogue_token));
  const auto hello = sync::proto::frameOf(sync::proto::Pull{{}, 1024}, 1);
  beast::error_code flood_ec;  // the server closes the session part way: the writes then fail
  for (int i = 0; i < 1000 && !flood_ec; ++i) flood_ec = flood.writeWithin(hello, std::chrono::seconds(30));
  EXPECT_NE(flood_ec, net::error::timed_out) << "the server neither read the flood nor closed the session";

  const auto flood_code = flood.closeCode(std::chrono::seconds(10));
  EXPECT_TRUE(flood_code == websocket::close_code::policy_error || resetWhileSending(flood_ec))
      << "1008 expected; close code " << flood_code << ", writes: " << flood_ec.message();

  // Meanwhile (the idle, half-open and garbage connections still held) the legitimate device
  // pushes and pulls 300 records.
  TestDevice device(dir_ / "device", legit_token);
  for (int i = 0; i < 300; ++i) device.put("household_survey", "", {{"n", sync::Value(std::int64_t{i})}});
  auto report = device.sync(server_->url());
  ASSERT_OK(report.status);
  EXPECT_EQ(report.accepted, 300u);

  EXPECT_TRUE(closedByServer(garbage, std::chrono::seconds(5))) << "garbage gets a 400 and the door";
  for (auto& s : half) EXPECT_TRUE(closedByServer(s, std::chrono::seconds(10))) << "a handshake left half-done";
  int closed = 0;
  for (auto& s : idle) closed += closedByServer(s, std::chrono::seconds(10)) ? 1 : 0;
  EXPECT_EQ(closed, 300) << "idle unauthenticated sockets are closed after the handshake timeout";

  // Memory stays bounded: nothing above was allowed to pile up (the 5 MiB frame was refused, the
  // flood was cut, idle sockets hold no buffers).
  const long rss_after = residentKib(server_->pid());
  EXPECT_LT(rss_after - rss_before, 64 * 1024) << "before " << rss_before << " KiB, after " << rss_after << " KiB";

  // The server still serves.
  auto again = device.sync(server_->url());
  EXPECT_OK(again.status);
}

TEST_F(AbuseTest, ADeviceSyncingOftenOnOneConnectionKeepsUnderTheAnnouncedRateAndStaysOpen) {
  // 20 messages a second here; a sync is a push and a pull. Forty syncs in a tight loop would be
  // closed for flooding within the first second if the device did not pace itself.
  TestDevice device(dir_ / "often", addUser("often"));
  client::WebSocketTransport transport("ws://127.0.0.1:" + std::to_string(server_->port()), device.token());
  client::Replicator replicator(device.store(), transport);
  ASSERT_OK(replicator.connect());
  for (int i = 0; i < 40; ++i) {
    device.put("household", "", {{"n", sync::Value(i)}});
    auto report = replicator.sync();
    ASSERT_OK(report.status) << "sync " << i << ": " << report.status.toString();
    ASSERT_EQ(report.accepted, 1u);
  }
  replicator.close();
}

// Issue 23.7: a body is read only once the header allows it. Without a valid token a body of more
// than 4 KiB is refused from its header (413), unread; with one, bodies share a server-wide budget
// (64 MiB) and past it requests are answered "busy". Memory stays bounded either way.
TEST_F(AbuseTest, LargeBodiesAreReadOnlyAfterAuthenticationAndWithinTheServersBudget) {
  const auto token = addUser("nhieu");
  const long rss_before = residentKib(server_->pid());
  ASSERT_GT(rss_before, 0);
  net::io_context ioc;
  const std::string chunk(64 * 1024, 'x');
  // Sends a request header declaring 1 MiB, then up to `body` bytes of it without blocking.
  auto open = [&](const std::string& target, const std::string& bearer, std::size_t body) {
    auto s = std::make_unique<tcp::socket>(ioc);
    s->connect(serverAt(server_->port()));
    std::string head = "POST " + target + " HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n";
    if (!bearer.empty()) head += "Authorization: Bearer " + bearer + "\r\n";
    net::write(*s, net::buffer(head + "Content-Length: 1048576\r\n\r\n"));
    s->non_blocking(true);
    for (std::size_t sent = 0; sent < body;) {
      beast::error_code ec;
      const auto n = s->write_some(net::buffer(chunk), ec);
      if (ec) break;  // would block (the server reads no more), or closed
      sent += n;
    }
    return s;
  };
  // The status line the server answered with, or "" if none within a second.
  auto status = [](tcp::socket& s) {
    std::string got;
    char buf[512];
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(1);
    while (got.find("\r\n") == std::string::npos && std::chrono::steady_clock::now() < deadline) {
      beast::error_code ec;
      const auto n = s.read_some(net::buffer(buf), ec);
      if (ec == net::error::would_block) {
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
        continue;
      }
      if (ec) break;
      got.append(buf, n);
    }
    return got.substr(0, got.find("\r\n"));
  };

  std::vector<std::unique_ptr<tcp::socket>> anonymous;
  for (int i = 0; i < 150; ++i) anonymous.push_back(open("/login", "", 900 * 1024));
  int too_large = 0;
  for (auto& s : anonymous) too_large += status(*s).find(" 413 ") != std::string::npos ? 1 : 0;
  EXPECT_EQ(too_large, 150) << "an unauthenticated 1 MiB body is refused from its header";

  std::vector<std::unique_ptr<tcp::socket>> known;
  for (int i = 0; i < 100; ++i) known.push_back(open("/api/conflicts/x/resolve", token, 512 * 1024));
  int busy = 0;
  for (auto& s : known) busy += status(*s).find(" 503 ") != std::string::npos ? 1 : 0;
  EXPECT_GE(busy, 30) << "100 bodies of 1 MiB: past the 64 MiB budget the rest are told to come back";

  const long rss_after = residentKib(server_->pid());
  EXPECT_LT(rss_after - rss_before, 96 * 1024) << "before " << rss_before << " KiB, after " << rss_after << " KiB";
  anonymous.clear();
  known.clear();
  TestDevice device(dir_ / "device", addUser("sau"));
  device.put("household", "", {{"n", sync::Value(std::int64_t{1})}});
  EXPECT_OK(device.sync(server_->url()).status);
}

// Issue 23.10: the store holds households' personal data: every file the server made is its
// user's alone (0600; folders 0700), whatever the umask it was started with.
TEST_F(AbuseTest, TheStoresFilesAreReadableByTheServersUserAlone) {
  TestDevice device(dir_ / "device", addUser("rieng"));
  device.put("household", "", {{"n", sync::Value(std::int64_t{1})}});
  ASSERT_OK(device.sync(server_->url()).status);
  std::size_t checked = 0;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(dir_ / "data")) {
    const auto perms = entry.status().permissions();
    const auto others = std::filesystem::perms::group_all | std::filesystem::perms::others_all;
    EXPECT_EQ(perms & others, std::filesystem::perms::none) << entry.path();
    ++checked;
  }
  EXPECT_GT(checked, 5u) << "the store's files were looked at";
  EXPECT_EQ(std::filesystem::status(dir_ / "data").permissions() &
                (std::filesystem::perms::group_all | std::filesystem::perms::others_all),
            std::filesystem::perms::none);
}

// Issue 23.3: sync sessions refused for an unknown token are audited, summarised: 25 attempts make
// one entry (the next, a minute on, would carry the count), not 25.
TEST_F(AbuseTest, BadTokensAtTheSyncUpgradeAreAuditedInSummary) {
  for (int i = 0; i < 25; ++i) {
    RawSession s;
    EXPECT_TRUE(s.open(server_->port(), "not-a-token-" + std::to_string(i))) << "refused";
  }
  auto [status, body] =
      httpCall(server_->port(), boost::beast::http::verb::get, server_->adminToken(), "/admin/audit", "");
  ASSERT_EQ(status, 200u) << body;
  std::size_t entries = 0;
  const auto audit = json::parse(body);
  for (const auto& e : audit["entries"]) {
    if (e.value("action", "") == "bad_tokens") {
      ++entries;
      EXPECT_NE(e.value("detail", "").find("unknown token"), std::string::npos) << e.dump();
      EXPECT_NE(e.value("detail", "").find("127.0.0.1"), std::string::npos) << e.dump();
    }
  }
  EXPECT_EQ(entries, 1u) << body.substr(0, 2000);
}

// The field app's WebAssembly has no zstd: its hello says so (reads_zstd = false) and every frame
// the server sends it is plain, however large; a C++ device still gets compressed ones.
TEST_F(AbuseTest, ADeviceThatReadsNoZstdGetsPlainFramesOnly) {
  TestDevice writer(dir_ / "writer", addUser("viet"));
  for (int i = 0; i < 30; ++i) writer.put("household", "", {{"chu_ho", sync::Value("Hộ số " + std::to_string(i))}});
  ASSERT_OK(writer.sync(server_->url()).status);
  const auto token = addUser("doc");
  for (bool reads_zstd : {false, true}) {
    RawSession session;
    ASSERT_FALSE(session.open(server_->port(), token));
    sync::proto::Hello hello;
    hello.device.bytes[0] = reads_zstd ? 0x21 : 0x20;
    hello.reads_zstd = reads_zstd;
    session.ws.write(net::buffer(sync::proto::frameOf(hello, 1, false)));
    beast::flat_buffer reply;
    session.ws.read(reply);  // welcome
    reply.clear();
    session.ws.write(net::buffer(sync::proto::frameOf(sync::proto::Pull{{}, 1 << 20}, 2, false)));
    session.ws.read(reply);
    const auto frame = beast::buffers_to_string(reply.data());
    ASSERT_GT(frame.size(), 256u) << "30 records in one batch: above the size the server compresses from";
    EXPECT_EQ(static_cast<int>(frame[0]),
              static_cast<int>(reads_zstd ? sync::proto::FrameCodec::kZstd : sync::proto::FrameCodec::kNone))
        << "reads_zstd " << reads_zstd;
    auto envelope = sync::proto::decodeFrame(frame, 4 << 20);
    ASSERT_OK(envelope);
    auto batch = sync::proto::unwrap<sync::proto::PullBatch>(*envelope);
    ASSERT_OK(batch);
    EXPECT_EQ(batch->records.size(), 30u);
  }
}

// A browser's WebSocket cannot send an Authorization header: the field app offers its token as a
// second subprotocol, and the server answers with communesync.v1 alone (the token is not echoed).
TEST_F(AbuseTest, ABrowserOffersItsTokenAsASubprotocolAndTheServerSelectsOnlyTheProtocol) {
  const auto token = addUser("trinh");
  for (const std::string& offered : {token, std::string(64, 'f')}) {
    RawSession session;
    beast::get_lowest_layer(session.ws).connect(serverAt(server_->port()));
    websocket::response_type answer;
    session.ws.set_option(websocket::stream_base::decorator([&](websocket::request_type& req) {
      req.set(beast::http::field::sec_websocket_protocol,
              std::string(sync::proto::kSubprotocol) + ", communesync.token." + offered);
    }));
    beast::error_code ec;
    session.ws.handshake(answer, "127.0.0.1", "/sync", ec);
    if (offered == token) {
      ASSERT_FALSE(ec) << ec.message();
      EXPECT_EQ(answer[beast::http::field::sec_websocket_protocol], sync::proto::kSubprotocol);
    } else {
      EXPECT_TRUE(ec) << "an unknown token is refused";
      EXPECT_EQ(answer.result_int(), 401u);
    }
  }
}

// Issue 23.1: another user who learnt a photo's hash sends a first piece of it with a wrong size,
// then the right size and wrong bytes. The owner's upload is neither refused nor spoilt.
TEST_F(AbuseTest, AFileCannotBeBlockedByWhoeverClaimsItsHashFirst) {
  TestDevice owner(dir_ / "owner", addUser("chu"));
  std::string photo(200000, '\0');
  for (std::size_t i = 0; i < photo.size(); ++i) photo[i] = static_cast<char>((i * 7919) >> 3);
  std::ofstream(dir_ / "photo.jpg", std::ios::binary) << photo;
  auto hex = owner.store().files().add(dir_ / "photo.jpg", 1 << 20);
  ASSERT_OK(hex);
  const auto hash = sync::fileHashFromHex(*hex);

  RawSession mallory;
  ASSERT_FALSE(mallory.open(server_->port(), addUser("mallory")));
  sync::proto::Hello hello;
  hello.device.bytes[0] = 0x66;
  hello.client_version = "attacker";
  mallory.ws.write(net::buffer(sync::proto::frameOf(hello, 1)));
  beast::flat_buffer reply;
  mallory.ws.read(reply);  // welcome
  for (auto [id, size, bytes] : {std::tuple<std::uint64_t, std::uint64_t, std::string>{2, 7, "1234567"},
                                 {3, photo.size(), std::string(1000, '!')}}) {
    mallory.ws.write(net::buffer(sync::proto::frameOf(sync::proto::FilePut{hash, size, 0, bytes}, id)));
    reply.clear();
    mallory.ws.read(reply);
  }

  owner.put("household", "", {{"photo", sync::Value(*hex)}});
  auto report = owner.sync(server_->url());
  ASSERT_OK(report.status) << report.status.toString();
  EXPECT_EQ(report.files_sent, 1u);
  TestDevice office(dir_ / "office", addUser("van"));
  office.syncOk(server_->url());
  client::WebSocketTransport transport(server_->url(), office.token());
  auto fetched = client::fetchOnce(office.store(), transport, hash);
  ASSERT_OK(fetched.status);
  ASSERT_OK(office.store().files().copyTo(hash, dir_ / "fetched.jpg"));
  std::ifstream in(dir_ / "fetched.jpg", std::ios::binary);
  EXPECT_TRUE(std::string(std::istreambuf_iterator<char>(in), {}) == photo) << "the owner's bytes, not the attacker's";
}

TEST_F(AbuseTest, OneUserCannotHoldMoreSessionsThanItsLimit) {
  const auto token = addUser("many");
  std::vector<std::unique_ptr<RawSession>> sessions;
  for (int i = 0; i < 4; ++i) {
    sessions.push_back(std::make_unique<RawSession>());
    ASSERT_FALSE(sessions.back()->open(server_->port(), token)) << "session " << i;
  }
  RawSession fifth;
  auto ec = fifth.open(server_->port(), token);
  EXPECT_TRUE(ec) << "the fifth session of one user is refused (429)";
  sessions.pop_back();  // one closes: a place frees up
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  RawSession again;
  EXPECT_FALSE(again.open(server_->port(), token));
}

// Issue 23.6: with few descriptors (prlimit), a flood of idle connections from one address is
// refused one by one past the server's connection limit (below the descriptor limit, read at
// start), logged once per interval, not in a busy loop of failed accepts; a real sync then works.
TEST(AbuseDescriptors, OutOfDescriptorsTheServerRefusesConnectionsCalmlyAndStillServes) {
  const std::filesystem::path prlimit = "/usr/bin/prlimit";
  if (!std::filesystem::exists(prlimit)) GTEST_SKIP() << "no prlimit (util-linux) here";
  TempDir dir;
  std::ofstream(dir / "server.json")
      << json{{"limits", {{"handshake_timeout_ms", 60000}, {"max_connections_per_address", 5000}}}}.dump();
  ServerProcess server(dir / "data", {"--config", (dir / "server.json").string()});
  server.wrapWith({prlimit.string(), "--nofile=300:300", "--"});
  ASSERT_NO_FATAL_FAILURE(server.start());
  const auto token = [&] {
    auto [status, body] = adminPost(server.port(), server.adminToken(), "/admin/users",
                                    json{{"name", "an"}, {"scopes", {"xa-01"}}}.dump());
    EXPECT_EQ(status, 201u) << body;
    return json::parse(body).value("token", "");
  }();

  // 300 descriptors: the server admits 75 connections. 400 idle ones: 325 are refused at once.
  net::io_context ioc;
  std::vector<tcp::socket> idle;
  for (int i = 0; i < 400; ++i) {
    idle.emplace_back(ioc);
    beast::error_code ec;
    idle.back().connect(serverAt(server.port()), ec);
  }
  int refused = 0;
  for (auto& s : idle) refused += closedByServer(s, std::chrono::milliseconds(20)) ? 1 : 0;
  EXPECT_GE(refused, 315) << "past its connection limit the server closes new connections at once";
  EXPECT_LE(refused, 330) << "and admits up to its limit";
  // A moment more of the flood: the server must not spin on failed accepts meanwhile.
  std::this_thread::sleep_for(std::chrono::seconds(2));
  idle.clear();

  TestDevice device(dir / "device", token);
  device.put("household", "", {{"n", sync::Value(std::int64_t{1})}});
  auto report = device.sync(server.url());
  ASSERT_OK(report.status) << report.status.toString();
  EXPECT_EQ(report.accepted, 1u);

  const auto log = server.stopGracefully().err;
  auto count = [&](std::string_view event) {
    std::size_t n = 0;
    for (auto at = log.find(event); at != std::string::npos; at = log.find(event, at + 1)) ++n;
    return n;
  };
  EXPECT_EQ(count("accept_failed"), 0u) << "the limit keeps accept() from running out of descriptors";
  EXPECT_GE(count("connections_refused"), 1u);
  EXPECT_LE(count("connections_refused"), 3u) << "one line per interval, with the count:\n" << log.substr(0, 4000);
  EXPECT_NE(log.find("max_connections=75 descriptor_limit=300"), std::string::npos) << log.substr(0, 2000);
}

}  // namespace
}  // namespace communesync::testing
