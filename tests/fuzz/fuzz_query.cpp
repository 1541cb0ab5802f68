// The query strings and record paths of every /api/ request (server/http/api_request.hpp): written by
// hand (Beast parses the request line but leaves the target's query to us), so fuzzed here.
// Properties: decoding never grows the text; every byte written as %XX decodes to itself; a record
// path is either refused or splits the text at its first slash into two non-empty parts.
#include <cstdlib>

#include "fuzz_target.hpp"
#include "http/api_request.hpp"

namespace {

void require(bool ok) {
  if (!ok) std::abort();  // a broken property is a crash, for libFuzzer and the ctest driver alike
}

std::string percentEncodedEveryByte(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    out += '%';
    out += kHex[c >> 4];
    out += kHex[c & 0xF];
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace communesync::server;
  const std::string_view text(reinterpret_cast<const char*>(data), size);

  require(percentDecoded(text).size() <= text.size());
  require(percentDecoded(percentEncodedEveryByte(text)) == text);

  for (const auto& [key, value] : queryParams(text)) require(key.size() + value.size() <= text.size());

  if (auto key = recordPath(text)) {
    require(!key->collection.empty() && !key->id.empty());
    require(key->collection.find('/') == std::string::npos);
    require(key->collection + "/" + key->id == text);
  }
  return 0;
}

std::vector<std::string> fuzzSeeds() {
  return {
      "unit=49-NTM&year=2025&format=xlsx",
      "q=h%E1%BB%93+v%C4%83n+m%E1%BB%ABng&collection=household_survey&offset=50&limit=50",
      "a=%zz&b=%4&c=%&=x&&d",
      "household_survey/01a20fc1629828215a879499a8235564",
      "household_survey//x",
      "/id",
  };
}
