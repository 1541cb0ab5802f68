// THE FORMS: every shipped form loads; a valid sample record of each passes; each rule, broken,
// fails with the field and the reason; upgrades carry renamed fields and defaults; search folds
// Vietnamese text.
#include "communesync/sync/form.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "assert_ok.hpp"
#include "communesync/sync/text.hpp"

namespace communesync::sync {
namespace {

using Fields = std::map<std::string, Value>;
const std::string kPhotoHash(64, 'a');

Form shipped(const std::string& name) {
  std::ifstream in(std::filesystem::path(FORMS_DIR) / (name + ".json"));
  std::stringstream text;
  text << in.rdbuf();
  auto form = parseForm(text.str());
  EXPECT_OK(form) << name << ": " << form.status().message();
  return form.isOk() ? *form : Form{};
}

// A valid record of each shipped form.
const std::map<std::string, Fields> kValid = {
    {"household_survey",
     {{"chu_ho", "Hồ Văn Minh"},
      {"thon", "Thôn 2"},
      {"so_nhan_khau", 5},
      {"tinh_trang_ngheo", "ngheo"},
      {"ly_do_ngheo", "Thiếu đất sản xuất"},
      {"sinh_ke", Value::List{"trong_trot", "chan_nuoi"}},
      {"vat_nuoi", Value::List{Value::Map{{"loai", "bo"}, {"so_con", 2}}}},
      {"nha_tam", true},
      {"vi_tri", Value::Map{{"lat", 15.05}, {"lon", 108.1}}},
      {"anh_nha", kPhotoHash},
      {"dien_tich_dat_m2", 1200.5},
      {"ngay_khao_sat", "2026-03-15"}}},
    {"needs_proposal",
     {{"nam", 2026},
      {"linh_vuc", "chan_nuoi"},
      {"vat_nuoi", "bo_sinh_san"},
      {"noi_dung", "Hỗ trợ bò sinh sản cho hộ nghèo"},
      {"dia_diem", "Thôn 1, Thôn 2"},
      {"so_ho_tham_gia", 20},
      {"kinh_phi_du_kien", std::int64_t{300'000'000}},
      {"nhan_dan_dong_gop", "Chuồng trại, công chăm sóc"}}},
    {"twinning_plan",
     {{"don_vi_ket_nghia", "Sở Tài chính"},
      {"nam", 2026},
      {"noi_dung", "Xây dựng mô hình nuôi bò"},
      {"dia_diem", "Xã mẫu 01"},
      {"doi_tuong_thu_huong", "10 hộ nghèo"},
      {"kinh_phi", std::int64_t{200'000'000}},
      {"tien_do", "Quý II"},
      {"ngay_ky", "2026-03-20"}}},
    {"support_result",
     {{"don_vi_ket_nghia", "Sở Tài chính"},
      {"nam", 2026},
      {"hinh_thuc_ho_tro", Value::List{"sinh_ke", "dao_tao"}},
      {"so_ho_ngheo_duoc_giup", 4},
      {"gia_tri_tien_mat", std::int64_t{50'000'000}},
      {"so_luot_dao_tao", 30}}},
    {"sponsor_unit", {{"ten", "Sở Tài chính"}, {"loai", "so_nganh"}, {"bien_che", 80}, {"xa_ket_nghia", "MAU-X01"}}},
    {"model",
     {{"ten", "Tổ hợp tác nuôi dê"},
      {"loai", "to_hop_tac"},
      {"xa", "MAU-X01"},
      {"so_ho", 12},
      {"tinh_trang", "hoat_dong"}}},
    {"annual_report",
     {{"nam", 2021},
      {"don_vi_ket_nghia", "Sở Tài chính"},
      {"ket_qua", "Giúp 16 hộ nghèo, 2 mô hình"},
      {"ngay_bao_cao", "2021-11-15"}}},
    {"local_setup", {{"nam", 2021}, {"ngay_ke_hoach", "2021-01-20"}, {"to_cong_tac", true}, {"quy_che", true}}},
    {"twinning_assignment",
     {{"don_vi_ket_nghia", "Sở Tài chính"},
      {"dia_ban_ket_nghia", "MAU-X01"},
      {"tu_ngay", "2021-01-01"},
      {"so_quyet_dinh", "1100/QĐ-UBND"},
      {"ngay_quyet_dinh", "2020-12-28"}}},
    {"sponsor_staff", {{"don_vi_ket_nghia", "Sở Tài chính"}, {"nam", 2024}, {"bien_che", 75}}},
};

TEST(Forms, EveryShippedFormLoadsAndAValidRecordOfEachPasses) {
  for (const auto& [name, fields] : kValid) {
    const Form form = shipped(name);
    EXPECT_EQ(form.name, name);
    EXPECT_FALSE(form.title.vi.empty());
    auto errors = validate(form, fields);
    EXPECT_TRUE(errors.empty()) << name << ": " << errorsText(errors);
    // The JSON a server stores reads back to the same form.
    auto again = parseForm(formToJson(form));
    ASSERT_OK(again);
    EXPECT_EQ(formToJson(*again), formToJson(form));
  }
  // A sponsor whose staff and communes are dated records (sponsor_staff, twinning_assignment).
  EXPECT_TRUE(validate(shipped("sponsor_unit"), {{"ten", "Sở Nội vụ"}, {"loai", "so_nganh"}}).empty());
}

TEST(Forms, EachRuleBrokenFailsWithTheFieldAndTheReason) {
  const Form form = shipped("household_survey");
  struct Case {
    std::string field;
    Value value;  // null: remove the field
    std::string path;
    std::string reason;
  };
  const std::vector<Case> cases = {
      {"chu_ho", Value(), "chu_ho", "is required"},
      {"so_nhan_khau", 0, "so_nhan_khau", "must be at least 1"},
      {"so_nhan_khau", 51, "so_nhan_khau", "must be at most 50"},
      {"so_nhan_khau", "năm", "so_nhan_khau", "must be a whole number"},
      {"chu_ho", std::string(201, 'a'), "chu_ho", "must be at most 200 characters long"},
      {"tinh_trang_ngheo", "giau", "tinh_trang_ngheo", "'giau' is not a choice"},
      {"sinh_ke", Value::List{"chan_nuoi", "chan_nuoi"}, "sinh_ke", "'chan_nuoi' is chosen twice"},
      {"sinh_ke", "chan_nuoi", "sinh_ke", "must be a list of choice codes"},
      {"nha_tam", "có", "nha_tam", "must be yes or no"},
      {"ngay_khao_sat", "2026-02-30", "ngay_khao_sat", "must be a date YYYY-MM-DD"},
      {"ngay_khao_sat", "2019-12-31", "ngay_khao_sat", "must be at least 2020-01-01"},
      {"dien_tich_dat_m2", -1.5, "dien_tich_dat_m2", "must be at least 0"},
      {"vi_tri", Value::Map{{"lat", 95.0}, {"lon", 108.0}}, "vi_tri", "must have lat (-90..90)"},
      {"anh_nha", "not-a-hash", "anh_nha", "must be the file's SHA-256"},
      {"vat_nuoi", Value::List{Value::Map{{"loai", "bo"}}}, "vat_nuoi[0].so_con", "is required"},
      {"vat_nuoi", Value::List{Value::Map{{"loai", "voi"}, {"so_con", 1}}}, "vat_nuoi[0].loai",
       "'voi' is not a choice"},
      {"ly_do_ngheo", Value(), "ly_do_ngheo", "is required"},  // required while the household is poor
      {"mau_sac", "đỏ", "mau_sac", "is not a field of this form"},
  };
  for (const auto& c : cases) {
    Fields fields = kValid.at("household_survey");
    if (c.value.isNull()) {
      fields.erase(c.field);
    } else {
      fields[c.field] = c.value;
    }
    auto errors = validate(form, fields);
    ASSERT_EQ(errors.size(), 1u) << c.field << ": " << errorsText(errors);
    EXPECT_EQ(errors[0].field, c.path);
    EXPECT_NE(errors[0].reason.find(c.reason), std::string::npos) << errors[0].text();
    EXPECT_NE(errors[0].reason.find(" / "), std::string::npos) << "Vietnamese first, with English";
  }
  // The condition: a household that is not poor need not say why.
  Fields not_poor = kValid.at("household_survey");
  not_poor["tinh_trang_ngheo"] = "khong_ngheo";
  not_poor.erase("ly_do_ngheo");
  EXPECT_TRUE(validate(form, not_poor).empty());
  // Money is whole VND and never negative.
  Fields plan = kValid.at("twinning_plan");
  plan["kinh_phi"] = -5;
  EXPECT_EQ(errorsText(validate(shipped("twinning_plan"), plan)), "kinh_phi: không được âm / must not be negative");
  plan["kinh_phi"] = 12.5;
  EXPECT_NE(errorsText(validate(shipped("twinning_plan"), plan)).find("whole amount of VND"), std::string::npos);
}

TEST(Forms, BadFormFilesAreRefusedWithThePlace) {
  struct Case {
    std::string json;
    std::string expect;
  };
  const std::vector<Case> cases = {
      {"{", "not valid JSON"},
      {R"({"name":"x","title":{"vi":"X"},"fields":[]})", "fields: must be a non-empty list"},
      {R"({"name":"X y","title":{"vi":"X"},"fields":[{"name":"a","type":"text","label":{"vi":"A"}}]})", "name"},
      {R"({"name":"x","title":{"vi":"X"},"fields":[{"name":"a","type":"colour","label":{"vi":"A"}}]})",
       "fields[0] (a).type: 'colour' is not a type"},
      {R"({"name":"x","title":{"vi":"X"},"fields":[{"name":"a","type":"choice","label":{"vi":"A"}}]})",
       "a choice field needs a list of choices"},
      {R"({"name":"x","title":{"vi":"X"},"fields":[{"name":"a","type":"text","label":{"en":"A"}}]})",
       "the Vietnamese text"},
      {R"({"name":"x","title":{"vi":"X"},"fields":[{"name":"a","type":"text","label":{"vi":"A"}},)"
       R"({"name":"a","type":"text","label":{"vi":"B"}}]})",
       "used twice"},
      {R"({"name":"x","title":{"vi":"X"},"fields":[{"name":"a","type":"text","label":{"vi":"A"},)"
       R"("relevant":{"field":"nope"}}]})",
       "'nope' is not a field"},
      {R"({"name":"x","title":{"vi":"X"},"fields":[{"name":"a","type":"integer","label":{"vi":"A"},"min":5,"max":1}]})",
       "min is above max"},
      {R"({"name":"x","title":{"vi":"X"},"colour":1,"fields":[{"name":"a","type":"text","label":{"vi":"A"}}]})",
       "\"colour\" is not a form property"},
  };
  for (const auto& c : cases) {
    auto form = parseForm(c.json);
    ASSERT_FALSE(form.isOk()) << c.json;
    EXPECT_NE(form.status().message().find(c.expect), std::string::npos) << form.status().message();
  }
}

TEST(Forms, AnUpgradeCarriesRenamedFieldsAndDefaults) {
  auto v2 = parseForm(R"({"name":"hh","title":{"vi":"Hộ"},
    "fields":[{"name":"ho_ten_chu_ho","type":"text","required":true,"label":{"vi":"Chủ hộ"}},
              {"name":"co_dien","type":"yes_no","required":true,"label":{"vi":"Có điện"}}],
    "upgrade":{"renamed":{"chu_ho":"ho_ten_chu_ho"},"defaults":{"co_dien":false}}})");
  ASSERT_OK(v2);
  const Fields old_record = {{"chu_ho", "Hồ Văn Minh"}};
  EXPECT_FALSE(validate(*v2, old_record).empty()) << "an old record does not fit the new version as it is";
  auto assignments = upgradeFields(*v2, old_record);
  EXPECT_EQ(assignments.at("ho_ten_chu_ho"), Value("Hồ Văn Minh"));
  EXPECT_TRUE(assignments.at("chu_ho").isNull()) << "the old name is cleared, the value is not lost";
  EXPECT_EQ(assignments.at("co_dien"), Value(false));
  Fields upgraded = old_record;
  for (const auto& [k, v] : assignments) upgraded[k] = v;
  EXPECT_TRUE(validate(*v2, upgraded).empty()) << errorsText(validate(*v2, upgraded));
}

TEST(Forms, TheCompleteExampleOfTheDocsParsesAndItsRecordPasses) {
  std::ifstream in(std::filesystem::path(FORMS_DIR) / ".." / "docs" / "forms.md");
  std::stringstream text;
  text << in.rdbuf();
  const auto doc = text.str();
  const auto section = doc.find("## A complete example");
  ASSERT_NE(section, std::string::npos);
  const auto start = doc.find("```json\n", section) + 8;
  const auto end = doc.find("```", start);
  auto form = parseForm(doc.substr(start, end - start));
  ASSERT_OK(form);
  const Fields record = {{"nam", 2026},
                         {"linh_vuc", "chan_nuoi"},
                         {"vat_nuoi", "bo_sinh_san"},
                         {"dia_diem", "Thôn 1, Thôn 2"},
                         {"so_ho_tham_gia", 20},
                         {"kinh_phi_du_kien", std::int64_t{300'000'000}},
                         {"nhan_dan_dong_gop", "Chuồng trại, công chăm sóc"}};
  EXPECT_TRUE(validate(*form, record).empty()) << errorsText(validate(*form, record));
}

TEST(Search, FoldingIgnoresCaseAndVietnameseDiacritics) {
  EXPECT_EQ(foldForSearch("Nguyễn Văn A"), "nguyen van a");
  EXPECT_EQ(foldForSearch("ĐẶNG THỊ Đào"), "dang thi dao");
  EXPECT_EQ(foldForSearch("Nguye\xcc\x82\xcc\x83n"), "nguyen") << "decomposed input folds the same";
  EXPECT_EQ(foldForSearch("Lò Văn Pá"), foldForSearch("lo van pa"));
  EXPECT_NE(foldForSearch("Hà"), foldForSearch("Hồ"));
}

}  // namespace
}  // namespace communesync::sync
