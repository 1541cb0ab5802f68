// X-Forwarded-For as a client writes it (net/client_address.hpp) and address lists as an operator
// writes them (base/address_set.hpp): parsed by hand from untrusted text, so fuzzed here. The
// input's first line is the trusted proxies (comma-separated), the rest one header value per line.
// Properties: nothing throws; the client is always an address that reads back; from a peer that
// is not a trusted proxy the headers change nothing; a trusted peer's client is either the peer or
// one of the hops written.
#include <boost/algorithm/string/split.hpp>
#include <boost/algorithm/string/trim.hpp>

#include <cstdlib>

#include "fuzz_target.hpp"
#include "net/client_address.hpp"

namespace {

void require(bool ok) {
  if (!ok) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace communesync::server;
  namespace http = boost::beast::http;
  const std::string text(reinterpret_cast<const char*>(data), size);
  const auto newline = text.find('\n');
  std::vector<std::string> entries;
  boost::algorithm::split(entries, text.substr(0, newline), [](char c) { return c == ','; });
  for (auto& e : entries) boost::algorithm::trim(e);
  auto trusted = AddressSet::parse(entries);
  if (!trusted) trusted = AddressSet::parse({"127.0.0.1", "10.0.0.0/8"});

  http::request<http::string_body> request{http::verb::get, "/", 11};
  std::string headers = newline == std::string::npos ? std::string() : text.substr(newline + 1);
  std::size_t from = 0;
  while (from <= headers.size() && !headers.empty()) {
    const auto end = std::min(headers.find('\n', from), headers.size());
    std::string value = headers.substr(from, end - from);
    // Beast refuses what HTTP forbids in a field value; the server never sees it.
    value.erase(std::remove_if(value.begin(), value.end(), [](char c) { return c == '\r' || c == '\0'; }), value.end());
    request.insert("X-Forwarded-For", value);
    from = end + 1;
  }

  for (const char* peer_text : {"127.0.0.1", "10.1.2.3", "192.0.2.50", "::1", "::ffff:10.0.0.9"}) {
    const auto peer = boost::asio::ip::make_address(peer_text);
    const auto client = clientAddress(peer, request, *trusted);
    boost::system::error_code ec;
    const auto parsed = boost::asio::ip::make_address(client.text, ec);
    require(!ec);
    require(client.loopback == parsed.is_loopback());
    if (!trusted->contains(peer)) {
      require(client.text == clientAddress(peer, http::request<http::string_body>{}, *trusted).text);
    }
  }
  return 0;
}

std::vector<std::string> fuzzSeeds() {
  return {
      "127.0.0.1, ::1\n203.0.113.9",
      "10.0.0.0/8\n198.51.100.1, 203.0.113.9, 10.9.9.9\n192.0.2.1",
      "127.0.0.1\n[2001:db8::7]:443, 203.0.113.9:5123",
      "::/0, 0.0.0.0/0\n1.2.3.4, ::1, garbage, 5.6.7.8",
      "not a network/99\n,,, ,",
  };
}
