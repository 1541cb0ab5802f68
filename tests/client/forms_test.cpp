// Forms end to end: a new server offers the twinning forms; a device refuses a bad record offline;
// the server refuses a bad change alone (from a device that did not know the form), the user sees
// why and fixes it; two live versions of a form, and a mapped rename applied; accent-insensitive search.
#include <gtest/gtest.h>

#include <fstream>

#include "assert_ok.hpp"
#include "process.hpp"
#include "server_harness.hpp"
#include "store/form_catalog.hpp"
#include "temp_dir.hpp"

namespace communesync::testing {
namespace {

using nlohmann::json;
using sync::Value;

class FormsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = std::make_unique<ServerHarness>(dir_ / "server", 0, [](server::Config& c) { c.forms_dir = FORMS_DIR; });
    token_ = server_->addUser(json{{"name", "an"}, {"grants", {"field:MAU-X01"}}});
  }

  std::map<std::string, Value> household(const std::string& head) {
    return {{"chu_ho", Value(head)},    {"thon", Value("Thôn 1")},
            {"so_nhan_khau", Value(4)}, {"tinh_trang_ngheo", "khong_ngheo"},
            {"nha_tam", Value(false)},  {"ngay_khao_sat", Value("2026-04-02")}};
  }

  Result<std::string> put(TestDevice& d, const std::string& collection, const std::string& id,
                          const std::map<std::string, Value>& fields) {
    return d.store().put(collection, id, "MAU-X01", fields, wallNow());
  }

  TempDir dir_;
  std::unique_ptr<ServerHarness> server_;
  std::string token_;
};

TEST_F(FormsTest, ANewServerOffersTheTwinningFormsAndTheDeviceRefusesABadRecordOffline) {
  TestDevice device(dir_ / "d", token_);
  device.syncOk(server_->url());
  auto forms = *device.store().forms();
  std::vector<std::string> names;
  for (const auto& f : forms) names.push_back(f->name + "@" + std::to_string(f->version));
  EXPECT_EQ(names, (std::vector<std::string>{"annual_report@1", "household_survey@1", "local_setup@1", "model@1",
                                             "needs_proposal@1", "sponsor_staff@1", "sponsor_unit@1",
                                             "support_result@1", "twinning_assignment@1", "twinning_plan@1"}));
  auto fields = household("Hồ Văn Minh");
  fields.erase("so_nhan_khau");
  auto refused = put(device, "household_survey", "", fields);
  ASSERT_FALSE(refused.isOk());
  EXPECT_NE(refused.status().message().find("so_nhan_khau: bắt buộc / is required"), std::string::npos)
      << refused.status().message();
  EXPECT_EQ(device.pendingCount(), 0u) << "nothing was saved";
  ASSERT_OK(put(device, "household_survey", "h1", household("Hồ Văn Minh")));
  auto r = device.sync(server_->url());
  EXPECT_EQ(r.accepted, 1u);
  EXPECT_EQ((*device.store().get({"household_survey", "h1"}))->form_version, 1u) << "pinned to the version filled";
}

TEST_F(FormsTest, TheServerRefusesABadChangeAloneAndTheUserFixesIt) {
  TestDevice device(dir_ / "d", token_);  // never synced: it does not know the forms yet
  ASSERT_OK(put(device, "household_survey", "ok1", household("A")));
  auto bad = household("B");
  bad["so_nhan_khau"] = Value(0);
  ASSERT_OK(put(device, "household_survey", "bad", bad)) << "offline, without the form, it is saved";
  ASSERT_OK(put(device, "household_survey", "ok2", household("C")));
  auto r = device.sync(server_->url());
  ASSERT_OK(r.status);
  EXPECT_EQ(r.accepted, 2u) << "the rest of the batch goes in";
  EXPECT_EQ(r.rejected, 1u);
  auto status = *device.store().status();
  ASSERT_EQ(status.rejected.size(), 1u);
  EXPECT_EQ(status.rejected[0].change.key.id, "bad");
  EXPECT_EQ(status.rejected[0].reason, "so_nhan_khau: phải từ 1 trở lên / must be at least 1");

  // The user fixes it with a new put (now checked on the device too) and syncs.
  bad["so_nhan_khau"] = Value(0);
  EXPECT_FALSE(put(device, "household_survey", "bad", bad).isOk()) << "now the device knows the form";
  bad["so_nhan_khau"] = Value(3);
  ASSERT_OK(put(device, "household_survey", "bad", bad));
  r = device.sync(server_->url());
  EXPECT_EQ(r.accepted, 1u);
  EXPECT_TRUE(device.store().status()->rejected.empty()) << "the refusal is settled by the fix";
  EXPECT_EQ((*device.store().get({"household_survey", "bad"}))->fields.at("so_nhan_khau").value, Value(3));
}

TEST_F(FormsTest, TwoLiveVersionsAndAMappedRenameApplied) {
  const json v1 = {{"name", "ho_gia_dinh"},
                   {"title", {{"vi", "Hộ gia đình"}}},
                   {"fields",
                    {{{"name", "chu_ho"}, {"type", "text"}, {"required", true}, {"label", {{"vi", "Chủ hộ"}}}},
                     {{"name", "so_nguoi"}, {"type", "integer"}, {"min", 1}, {"label", {{"vi", "Số người"}}}}}}};
  auto [s1, b1] =
      httpCall(server_->port(), boost::beast::http::verb::post, server_->adminToken(), "/admin/forms", v1.dump());
  ASSERT_EQ(s1, 201u) << b1;
  EXPECT_EQ(json::parse(b1)["version"], 1);

  TestDevice old_app(dir_ / "old", token_);
  old_app.syncOk(server_->url());
  ASSERT_OK(put(old_app, "ho_gia_dinh", "r1", {{"chu_ho", Value("Lò Văn Pá")}, {"so_nguoi", Value(6)}}));
  ASSERT_OK(put(old_app, "ho_gia_dinh", "r3", {{"chu_ho", Value("Hồ Thị Lan")}}));
  old_app.syncOk(server_->url());

  json v2 = v1;
  v2["fields"] = {
      {{"name", "ho_ten_chu_ho"}, {"type", "text"}, {"required", true}, {"label", {{"vi", "Họ tên chủ hộ"}}}},
      {{"name", "so_nguoi"}, {"type", "integer"}, {"min", 1}, {"label", {{"vi", "Số người"}}}},
      {{"name", "co_dien"}, {"type", "yes_no"}, {"required", true}, {"label", {{"vi", "Có điện"}}}}};
  v2["upgrade"] = {{"renamed", {{"chu_ho", "ho_ten_chu_ho"}}}, {"defaults", {{"co_dien", false}}}};
  auto [s2, b2] =
      httpCall(server_->port(), boost::beast::http::verb::post, server_->adminToken(), "/admin/forms", v2.dump());
  ASSERT_EQ(s2, 201u) << b2;
  EXPECT_EQ(json::parse(b2)["version"], 2);

  // A device that knows both: new records take version 2; an old one edited is carried onto it.
  TestDevice new_app(dir_ / "new", token_);
  new_app.syncOk(server_->url());
  ASSERT_OK(put(new_app, "ho_gia_dinh", "r2", {{"ho_ten_chu_ho", Value("Đinh Văn Ba")}, {"co_dien", Value(true)}}));
  EXPECT_FALSE(put(new_app, "ho_gia_dinh", "r4", {{"chu_ho", Value("x")}}).isOk()) << "v2 has no chu_ho";
  ASSERT_OK(put(new_app, "ho_gia_dinh", "r1", {{"so_nguoi", Value(7)}}));
  auto r = new_app.sync(server_->url());
  ASSERT_OK(r.status);
  EXPECT_EQ(r.accepted, 2u);
  EXPECT_EQ(r.rejected, 0u);
  auto r1 = *new_app.store().get({"ho_gia_dinh", "r1"});
  EXPECT_EQ(r1->form_version, 2u);
  EXPECT_EQ(r1->fields.at("ho_ten_chu_ho").value, Value("Lò Văn Pá")) << "the rename is applied, not lost";
  EXPECT_TRUE(r1->fields.at("chu_ho").value.isNull());
  EXPECT_EQ(r1->fields.at("co_dien").value, Value(false)) << "the new field's default";
  EXPECT_EQ(r1->fields.at("so_nguoi").value, Value(7));
  // r3 was not touched: it stays on version 1, which keeps validating it.
  auto r3 = *new_app.store().get({"ho_gia_dinh", "r3"});
  EXPECT_EQ(r3->form_version, 1u);
  // The old app still writes version 1 records; the server accepts them under version 1.
  ASSERT_OK(put(old_app, "ho_gia_dinh", "r3", {{"so_nguoi", Value(2)}}));
  EXPECT_EQ(old_app.sync(server_->url()).accepted, 1u);

  auto [s3, b3] = httpCall(server_->port(), boost::beast::http::verb::get, server_->adminToken(),
                           "/admin/forms/ho_gia_dinh?version=1", "");
  ASSERT_EQ(s3, 200u);
  EXPECT_EQ(json::parse(b3)["fields"][0]["name"], "chu_ho");
  auto [s4, b4] =
      httpCall(server_->port(), boost::beast::http::verb::post, server_->adminToken(), "/admin/forms", "{\"name\":1}");
  EXPECT_EQ(s4, 400u) << b4;
}

TEST_F(FormsTest, EachRuleRefusesTheSameOnTheDeviceAndOnTheServer) {
  TestDevice device(dir_ / "d", token_);
  device.syncOk(server_->url());
  auto store = storage::Store::open(dir_ / "catalog");  // the server's catalog, fed the same forms
  ASSERT_OK(store);
  auto catalog = server::FormCatalog::open(**store);
  ASSERT_OK(catalog);
  for (const auto& f : *device.store().forms()) (*catalog)->added(*f);

  struct Case {
    std::string field;
    Value value;  // null: the field is left out
    std::string reason;
  };
  const std::vector<Case> cases = {
      {"chu_ho", Value(), "chu_ho: bắt buộc / is required"},
      {"so_nhan_khau", Value(0), "so_nhan_khau: phải từ 1 trở lên / must be at least 1"},
      {"tinh_trang_ngheo", Value("giau"), "tinh_trang_ngheo: 'giau' không có trong danh sách / 'giau' is not a choice"},
      {"nha_tam", Value("có"), "nha_tam: phải là có/không (true/false) / must be yes or no (true/false)"},
      {"ngay_khao_sat", Value("2026-13-01"), "ngay_khao_sat: phải là ngày dạng YYYY-MM-DD / must be a date YYYY-MM-DD"},
      {"mau_sac", Value("đỏ"), "mau_sac: không có trong biểu mẫu / is not a field of this form"},
  };
  for (const auto& c : cases) {
    auto fields = household("Hồ Văn Minh");
    if (c.value.isNull()) {
      fields.erase(c.field);
    } else {
      fields[c.field] = c.value;
    }
    auto on_device = put(device, "household_survey", "", fields);
    ASSERT_FALSE(on_device.isOk()) << c.field;
    EXPECT_NE(on_device.status().message().find(c.reason), std::string::npos) << on_device.status().message();

    sync::Record record;
    record.key = {"household_survey", "r"};
    record.form_version = 1;
    for (const auto& [name, value] : fields) record.fields[name].value = value;
    EXPECT_EQ((*catalog)->check(record).message(), c.reason) << "the server says the same";
  }
}

TEST_F(FormsTest, SearchIgnoresCaseAndVietnameseDiacritics) {
  TestDevice device(dir_ / "d", token_);
  device.syncOk(server_->url());
  ASSERT_OK(put(device, "household_survey", "a", household("Nguyễn Văn A")));
  ASSERT_OK(put(device, "household_survey", "b", household("Nguyễn Thị Bình")));
  ASSERT_OK(put(device, "household_survey", "c", household("Đặng Văn An")));
  auto found = *device.store().search("household_survey", "nguyen van a");
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].key.id, "a");
  EXPECT_EQ(device.store().search("household_survey", "DANG")->size(), 1u);
  EXPECT_EQ(device.store().search("household_survey", "văn")->size(), 2u);
  EXPECT_EQ(device.store().search("household_survey", "nobody")->size(), 0u);
}

TEST(FormsUpgrade, ANewFormShippedByAnUpgradeIsPublishedAndPublishedOnesAreLeftAlone) {
  TempDir dir;
  const auto forms = dir / "forms";
  std::filesystem::create_directories(forms);
  std::filesystem::copy_file(std::filesystem::path(FORMS_DIR) / "household_survey.json",
                             forms / "household_survey.json");
  auto server = std::make_unique<ServerHarness>(dir / "server", 0, [&](server::Config& c) { c.forms_dir = forms; });
  // The province publishes its own version 2 of the survey.
  auto v2 = json::parse(std::ifstream(forms / "household_survey.json"));
  v2["title"]["vi"] = "Khảo sát hộ (bản tỉnh)";
  auto [status, body] =
      httpCall(server->port(), boost::beast::http::verb::post, server->adminToken(), "/admin/forms", v2.dump());
  ASSERT_EQ(status, 201u) << body;
  // The upgrade ships a new form; the server restarts on the same store with the new folder.
  std::filesystem::copy_file(std::filesystem::path(FORMS_DIR) / "annual_report.json", forms / "annual_report.json");
  server->stop();
  server->start();
  auto [listed_status, listed] =
      httpCall(server->port(), boost::beast::http::verb::get, server->adminToken(), "/admin/forms", "");
  ASSERT_EQ(listed_status, 200u) << listed;
  std::map<std::string, std::vector<int>> versions;
  const auto published = json::parse(listed);
  for (const auto& f : published["forms"]) versions[f["name"]].push_back(f["version"]);
  EXPECT_EQ(versions, (std::map<std::string, std::vector<int>>{{"annual_report", {1}}, {"household_survey", {1, 2}}}))
      << listed;
}

}  // namespace
}  // namespace communesync::testing
