// A form file: uploaded by an administrator (POST /admin/forms) and read by every device from the
// synced _forms records. Parsed, written back, parsed again, and used to validate records.
#include "communesync/sync/form.hpp"
#include "fuzz_target.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace communesync::sync;
  auto form = parseForm(std::string_view(reinterpret_cast<const char*>(data), size));
  if (!form.isOk()) return 0;
  auto again = parseForm(formToJson(*form));
  if (!again.isOk()) __builtin_trap();  // what the server stores must read back on every device
  const std::map<std::string, Value> records[] = {
      {},
      {{"a", Value(1)}, {"b", Value("x")}, {"c", Value(Value::List{Value("y"), Value(2.5)})}},
      {{"g", Value(Value::List{Value(Value::Map{{"a", Value(true)}})})}, {"d", Value("2026-02-29")}},
  };
  for (const auto& r : records) {
    auto errors = validate(*form, r);
    (void)errorsText(errors);
    (void)upgradeFields(*form, r);
  }
  return 0;
}

std::vector<std::string> fuzzSeeds() {
  return {
      R"({"name":"hh","title":{"vi":"Hộ","en":"Household"},"fields":[)"
      R"({"name":"a","type":"integer","required":true,"min":1,"max":9,"label":{"vi":"A"}},)"
      R"({"name":"b","type":"choice","choices":[{"code":"x","vi":"X"}],"label":{"vi":"B"}},)"
      R"({"name":"c","type":"multi_choice","max_items":2,"choices":[{"code":"y","vi":"Y"}],"label":{"vi":"C"}},)"
      R"({"name":"d","type":"date","min":"2020-01-01","relevant":{"field":"a","in":[1,2]},"label":{"vi":"D"}},)"
      R"({"name":"g","type":"group","fields":[{"name":"a","type":"yes_no","label":{"vi":"A"}}],"label":{"vi":"G"}}],)"
      R"("upgrade":{"renamed":{"old":"a"},"defaults":{"b":"x"}}})",
      R"({"name":"t","title":{"vi":"T"},"fields":[{"name":"m","type":"money","label":{"vi":"M"}},)"
      R"({"name":"p","type":"gps","label":{"vi":"P"}},{"name":"f","type":"photo","label":{"vi":"F"}}]})",
  };
}
