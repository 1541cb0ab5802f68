// JSON typed by a person on the command line (FIELD:=JSON) or sent to the C API.
#include <nlohmann/json.hpp>

#include "communesync/client/record_json.hpp"
#include "communesync/sync/value.hpp"
#include "fuzz_target.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto json = nlohmann::json::parse(data, data + size, nullptr, false);
  if (json.is_discarded()) return 0;
  // nlohmann's parser nests as deep as the input; keep the fuzzer's stack bounded like the API does.
  auto value = communesync::client::valueFromJson(json);
  if (!value.isOk()) return 0;
  auto normalized = communesync::sync::normalizeValue(*value);
  if (normalized.isOk()) (void)communesync::client::valueToJson(*normalized).dump();
  return 0;
}

std::vector<std::string> fuzzSeeds() {
  return {R"({"a":1,"b":[true,null,2.5],"c":{"d":"Hà"}})",
          "6",
          R"("Lò Văn Pá")",
          "[[[[1]]]]",
          "-9223372036854775808",
          "18446744073709551615",
          "1e308"};
}
