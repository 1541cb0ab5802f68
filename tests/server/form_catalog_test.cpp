// The server's form catalog: pinning changes to a version, checking merged records, requiring forms.
#include "store/form_catalog.hpp"

#include <gtest/gtest.h>

#include "assert_ok.hpp"
#include "temp_dir.hpp"

namespace communesync::server {
namespace {

sync::Form form(std::uint32_t version, bool with_b) {
  std::string json = R"({"name":"hh","title":{"vi":"Hộ"},"fields":[)"
                     R"({"name":"a","type":"integer","required":true,"min":1,"label":{"vi":"A"}})";
  if (with_b) json += R"(,{"name":"b","type":"text","label":{"vi":"B"}})";
  json += "]}";
  auto f = sync::parseForm(json);
  EXPECT_OK(f);
  f->version = version;
  return *f;
}

sync::Record record(std::uint32_t version, std::map<std::string, sync::Value> values) {
  sync::Record r;
  r.key = {"hh", "r1"};
  r.scope = "X1";
  r.form_version = version;
  for (auto& [k, v] : values) r.fields[k].value = v;
  return r;
}

TEST(FormCatalog, PinsChangesAndChecksRecordsAgainstTheirVersion) {
  testing::TempDir dir;
  auto store = storage::Store::open(dir / "db");
  ASSERT_OK(store);
  auto catalog = FormCatalog::open(**store);
  ASSERT_OK(catalog);
  auto& forms = **catalog;

  sync::Change free_form;
  free_form.key = {"notes", "n1"};
  EXPECT_OK(forms.pin(free_form)) << "no form: free-form";
  forms.requireForms(true);
  EXPECT_EQ(forms.pin(free_form).code(), ErrorCode::kInvalidArgument) << "unless forms are required";
  forms.requireForms(false);

  forms.added(form(1, false));
  forms.added(form(2, true));
  sync::Change change;
  change.key = {"hh", "r1"};
  ASSERT_OK(forms.pin(change));
  EXPECT_EQ(change.form_version, 2u) << "a change with no version takes the latest";
  change.form_version = 7;
  EXPECT_NE(forms.pin(change).message().find("no version 7"), std::string::npos);

  EXPECT_OK(forms.check(record(1, {{"a", sync::Value(1)}})));
  EXPECT_EQ(forms.check(record(1, {{"a", sync::Value(1)}, {"b", sync::Value("x")}})).message(),
            "b: không có trong biểu mẫu / is not a field of this form")
      << "version 1 keeps validating its records";
  EXPECT_OK(forms.check(record(2, {{"a", sync::Value(1)}, {"b", sync::Value("x")}})));
  EXPECT_EQ(forms.check(record(2, {{"a", sync::Value(0)}})).message(), "a: phải từ 1 trở lên / must be at least 1");

  // A publication is the next version, as the server's own device.
  auto next = form(0, true);
  auto published = forms.publication(next, 1'800'000'000'000);
  EXPECT_EQ(next.version, 3u);
  EXPECT_EQ(published.key.id, "hh@3");
  EXPECT_EQ(published.scope, std::string(kFormsScope));
  EXPECT_EQ(published.id.device, serverDeviceId());
  EXPECT_EQ(published.id.seq, 3u) << "numbered by the publications so far";
}

}  // namespace
}  // namespace communesync::server
