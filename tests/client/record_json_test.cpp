#include "communesync/client/record_json.hpp"

#include <gtest/gtest.h>
#include "assert_ok.hpp"

namespace communesync::client {
namespace {

TEST(RecordJson, ValuesRoundTrip) {
  auto j = nlohmann::json::parse(R"({"a":1,"b":2.5,"c":"Hà","d":[true,null],"e":{"x":-3}})");
  for (const auto& [k, v] : j.items()) {
    auto value = valueFromJson(v);
    ASSERT_OK(value);
    EXPECT_EQ(valueToJson(*value), v) << k;
  }
  EXPECT_FALSE(valueFromJson(nlohmann::json(18446744073709551615ULL)).isOk());
  EXPECT_EQ(valueFromJson(nlohmann::json::parse(std::string(100, '[') + std::string(100, ']'))).status().code(),
            ErrorCode::kLimitExceeded);
}

TEST(RecordJson, ExportLineHasSortedKeysAndTheContractShape) {
  sync::Record r;
  r.key = {"household", "h1"};
  r.scope = "xa-01";
  r.fields["members"] = {sync::Value(6), {}, {}, {}};
  r.fields["head"] = {sync::Value("An"), {}, {}, {}};
  EXPECT_EQ(recordToJson(r).dump(),
            R"({"collection":"household","fields":{"head":"An","members":6},"id":"h1","scope":"xa-01"})");
}

}  // namespace
}  // namespace communesync::client
