// TLS end to end: a test CA (made here with the openssl tool), a server certificate it signed, the
// server on wss:// and https://. A client trusting that CA syncs and logs in; a client trusting
// another CA, or only the system's, is refused; plain ws:// to the TLS port fails.
#include <gtest/gtest.h>

#include <fstream>

#include "assert_ok.hpp"
#include "communesync/client/http_client.hpp"
#include "process.hpp"
#include "server_harness.hpp"
#include "temp_dir.hpp"

namespace communesync::testing {
namespace {

using nlohmann::json;

void openssl(const std::vector<std::string>& args) {
  std::vector<std::string> argv{"/usr/bin/openssl"};
  argv.insert(argv.end(), args.begin(), args.end());
  auto r = run(argv);
  ASSERT_EQ(r.exit_code, 0) << "openssl " << args[0] << ": " << r.err;
}

// A CA and, if `server` is set, a certificate for localhost and 127.0.0.1 signed by it.
void makeCa(const std::filesystem::path& dir, const std::string& name) {
  const auto p = [&](const std::string& f) { return (dir / f).string(); };
  openssl({"req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", p(name + ".key"), "-out", p(name + ".pem"),
           "-days", "2", "-subj", "/CN=" + name});
}

void makeServerCert(const std::filesystem::path& dir, const std::string& ca) {
  const auto p = [&](const std::string& f) { return (dir / f).string(); };
  std::ofstream(dir / "ext.cnf") << "subjectAltName=DNS:localhost,IP:127.0.0.1\n";
  openssl({"req", "-newkey", "rsa:2048", "-nodes", "-keyout", p("server.key"), "-out", p("server.csr"), "-subj",
           "/CN=localhost"});
  openssl({"x509", "-req", "-in", p("server.csr"), "-CA", p(ca + ".pem"), "-CAkey", p(ca + ".key"), "-CAcreateserial",
           "-out", p("server.pem"), "-days", "2", "-extfile", p("ext.cnf")});
}

class TlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::filesystem::create_directories(dir_ / "pki");
    ASSERT_NO_FATAL_FAILURE(makeCa(dir_ / "pki", "provincial-ca"));
    ASSERT_NO_FATAL_FAILURE(makeCa(dir_ / "pki", "stranger-ca"));
    ASSERT_NO_FATAL_FAILURE(makeServerCert(dir_ / "pki", "provincial-ca"));
    server_ = std::make_unique<ServerHarness>(dir_ / "server", 0, [this](server::Config& c) {
      c.tls_cert = dir_ / "pki" / "server.pem";
      c.tls_key = dir_ / "pki" / "server.key";
    });
  }

  std::string wss() const { return "wss://localhost:" + std::to_string(server_->port()); }
  std::string https() const { return "https://localhost:" + std::to_string(server_->port()); }
  client::TlsOptions trust(const std::string& ca) const { return {(dir_ / "pki" / (ca + ".pem")).string()}; }

  TempDir dir_;
  std::unique_ptr<ServerHarness> server_;
};

TEST_F(TlsTest, ATrustedCertificateSyncsAndAWrongOneIsRefused) {
  // Users are made over https with the admin token (the harness's plain helper cannot speak TLS).
  auto made = client::httpRequest(https(), "POST", "/admin/users", server_->adminToken(), "application/json",
                                  json{{"name", "an"}, {"grants", {"field:X1"}}, {"password", "mật khẩu an"}}.dump(),
                                  trust("provincial-ca"));
  ASSERT_OK(made);
  ASSERT_EQ(made->status, 201u) << made->body;
  const auto token = json::parse(made->body)["token"].get<std::string>();

  TestDevice device(dir_ / "d", token);
  device.put("household_survey", "h1", {{"chu_ho", sync::Value("Lò Văn Pá")}}, "X1");
  auto ok = device.sync(wss(), trust("provincial-ca"));
  ASSERT_OK(ok.status);
  EXPECT_EQ(ok.accepted, 1u);

  auto login =
      client::passwordLogin(wss(), "an", "mật khẩu an", device.store().deviceId().hex(), trust("provincial-ca"));
  EXPECT_OK(login);

  auto stranger = device.sync(wss(), trust("stranger-ca"));
  EXPECT_EQ(stranger.status.code(), ErrorCode::kUnavailable);
  EXPECT_NE(stranger.status.message().find("TLS"), std::string::npos) << stranger.status.message();
  auto system_only = device.sync(wss());
  EXPECT_FALSE(system_only.status.isOk()) << "a self-signed provincial CA is not among the system's";
  auto plain = device.sync("ws://localhost:" + std::to_string(server_->port()));
  EXPECT_FALSE(plain.status.isOk()) << "the TLS port does not speak plain WebSocket";
}

TEST_F(TlsTest, TheHostNameIsChecked) {
  // 127.0.0.2 reaches the same loopback server, but the certificate names localhost and 127.0.0.1 only.
  TestDevice device(dir_ / "d", "any-token");
  auto r = device.sync("wss://127.0.0.2:" + std::to_string(server_->port()), trust("provincial-ca"));
  EXPECT_EQ(r.status.code(), ErrorCode::kUnavailable) << r.status.toString();
}

}  // namespace
}  // namespace communesync::testing
