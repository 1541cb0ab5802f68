// The server's JSON config file: read by parseConfig into a Config.
#include "app/config.hpp"
#include "fuzz_target.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  communesync::server::Config config;
  (void)communesync::server::parseConfig(std::string_view(reinterpret_cast<const char*>(data), size), "fuzz", config);
  return 0;
}

std::vector<std::string> fuzzSeeds() {
  return {
      R"({"data":"/var/lib/communesync","listen":"0.0.0.0:8443","threads":2})",
      R"({"tls_cert":"/etc/communesync/cert.pem","tls_key":"/etc/communesync/key.pem","admin_remote":false})",
      R"({"allowed_origins":["https://tinh.example.vn"],"limits":{"max_connections_per_address":100,)"
      R"("handshake_timeout_ms":5000,"messages_per_second":20.5,"bytes_per_second":1048576}})",
      R"({"listen":"[::1]:8080"})",
      R"({"limits":{"nope":1}})",
  };
}
