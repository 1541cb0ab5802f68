// The programme's reports on a fixture year: four sponsors of three kinds, two mountainous districts
// with three twinned communes, support results, plans signed on both sides of 31 March, needs
// proposals and year-end reports received on both sides of their deadlines. Every expected figure
// and grade below was worked out by hand from the fixture (the comments show the sums).
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <set>

#include "assert_ok.hpp"
#include "programme/facts.hpp"
#include "programme/programme_report.hpp"

namespace communesync::server {
namespace {

using nlohmann::json;
using sync::Value;

// ms since the epoch of a UTC time "YYYY-MM-DD HH:MM".
std::int64_t utcMs(int y, unsigned m, unsigned d, int hour = 12, int minute = 0) {
  const std::chrono::sys_days day =
      std::chrono::year_month_day{std::chrono::year{y}, std::chrono::month{m}, std::chrono::day{d}};
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             (day + std::chrono::hours(hour) + std::chrono::minutes(minute)).time_since_epoch())
      .count();
}

class ProgrammeReport : public ::testing::Test {
 protected:
  void SetUp() override {
    units_ = UnitTree({
        {"49", "", UnitLevel::kProvince, "Quảng Nam", "", ""},
        {"NTM", "49", UnitLevel::kDistrict, "Nam Trà My", "", ""},
        {"BTM", "49", UnitLevel::kDistrict, "Bắc Trà My", "", ""},
        {"X1", "NTM", UnitLevel::kCommune, "Xã Một", "", ""},
        {"X1-T1", "X1", UnitLevel::kVillage, "Thôn 1", "", ""},
        {"X2", "NTM", UnitLevel::kCommune, "Xã Hai", "", ""},
        {"X3", "BTM", UnitLevel::kCommune, "Xã Ba", "", ""},
    });
    data_.units = &units_;

    // Sponsors. S1: a department with 45 staff -> "bình quân 10 biên chế, nhận giúp đỡ ít nhất 02 hộ
    // nghèo/năm" (Decision 1100, III.2.2a) -> 45 x 2 / 10 = 9 households; 1 model in each of X1 and
    // X2. S2: a lowland district -> 10 households, 200M VND, 2 models in X3. S3: a business (no
    // numeric target). S4: a department with 10 staff -> 2 households.
    add("sponsor_unit", "S1", "49",
        {{"ten", "Sở Y tế"}, {"loai", "so_nganh"}, {"bien_che", 45}, {"xa_ket_nghia", "X1, X2"}});
    add("sponsor_unit", "S2", "49",
        {{"ten", "Huyện Đồng Bằng"}, {"loai", "huyen_dong_bang"}, {"bien_che", 300}, {"xa_ket_nghia", "X3"}});
    add("sponsor_unit", "S3", "49",
        {{"ten", "Công ty ABC"}, {"loai", "doanh_nghiep"}, {"bien_che", 0}, {"xa_ket_nghia", "X2"}});
    add("sponsor_unit", "S4", "49",
        {{"ten", "Sở Giáo dục"}, {"loai", "so_nganh"}, {"bien_che", 10}, {"xa_ket_nghia", "X3"}});

    // Support results. S1 is named by its name as typed on a phone (case and accents differ).
    add("support_result", "R1", "X1",
        {{"don_vi_ket_nghia", "Sở Y tế"},
         {"nam", 2021},
         {"hinh_thuc_ho_tro", Value::List{"sinh_ke"}},
         {"so_ho_ngheo_duoc_giup", 6},
         {"gia_tri_tien_mat", std::int64_t{30'000'000}},
         {"so_mo_hinh_xay_dung", 1}});
    add("support_result", "R2", "X1-T1",  // a village: counts for X1
        {{"don_vi_ket_nghia", "SỞ Y TẾ"},
         {"nam", 2021},
         {"hinh_thuc_ho_tro", Value::List{"nha_o"}},
         {"so_ho_ngheo_duoc_giup", 3},
         {"gia_tri_tien_mat", 0},
         {"gia_tri_hien_vat", std::int64_t{5'000'000}}});
    add("support_result", "R3", "X2",
        {{"don_vi_ket_nghia", "so y te"},
         {"nam", 2021},
         {"hinh_thuc_ho_tro", Value::List{"y_te"}},
         {"so_ho_ngheo_duoc_giup", 2},
         {"gia_tri_tien_mat", 0}});
    add("support_result", "R4", "X3",
        {{"don_vi_ket_nghia", "S2"},
         {"nam", 2021},
         {"hinh_thuc_ho_tro", Value::List{"sinh_ke", "mo_hinh"}},
         {"so_ho_ngheo_duoc_giup", 12},
         {"gia_tri_tien_mat", std::int64_t{150'000'000}},
         {"gia_tri_hien_vat", std::int64_t{60'000'000}},
         {"so_mo_hinh_xay_dung", 2},
         {"so_mo_hinh_nhan_rong", 1},
         {"so_luot_dao_tao", 40}});
    add("support_result", "R5", "X3",
        {{"don_vi_ket_nghia", "Sở Giáo dục"},
         {"nam", 2021},
         {"hinh_thuc_ho_tro", Value::List{"giao_duc"}},
         {"so_ho_ngheo_duoc_giup", 4},
         {"gia_tri_tien_mat", std::int64_t{8'000'000}},
         {"so_mo_hinh_xay_dung", 2}});
    add("support_result", "R6", "X3",  // another year: never counted
        {{"don_vi_ket_nghia", "Sở Giáo dục"},
         {"nam", 2020},
         {"hinh_thuc_ho_tro", Value::List{"giao_duc"}},
         {"so_ho_ngheo_duoc_giup", 50},
         {"gia_tri_tien_mat", 0}});

    // Plans: the deadline is "before 31 March", so 31 March itself is late.
    add("twinning_plan", "P1", "X1", plan("Sở Y tế", "2021-03-15", 40'000'000));
    add("twinning_plan", "P2", "X2", plan("Sở Y tế", "2021-03-31", 10'000'000));
    add("twinning_plan", "P3", "X3", plan("S2", "2021-02-01", 300'000'000));
    add("twinning_plan", "P4", "X3", plan("Sở Giáo dục", "2021-01-10", 20'000'000));

    // Year-end reports: sponsors (present is enough), then communes and districts (in the window,
    // on Vietnam's calendar: 31 Oct 18:00 UTC is 1 Nov 01:00 there).
    // Each with "nhận xét đánh giá" of the other side (III.2.1c, III.2.2c) but A3 and A6.
    const std::pair<std::string, Value> assessed{"nhan_xet_danh_gia", std::string("Xã phối hợp tốt")};
    add("annual_report", "A1", "49", {{"nam", 2021}, {"don_vi_ket_nghia", "SỞ Y TẾ"}, {"ket_qua", "..."}, assessed},
        utcMs(2021, 11, 20));
    add("annual_report", "A2", "49", {{"nam", 2021}, {"don_vi_ket_nghia", "S2"}, {"ket_qua", "..."}, assessed},
        utcMs(2021, 11, 5));
    add("annual_report", "A3", "49", {{"nam", 2021}, {"don_vi_ket_nghia", "Công ty ABC"}, {"ket_qua", "..."}},
        utcMs(2021, 12, 20));
    add("annual_report", "A4", "49", {{"nam", 2021}, {"don_vi_ket_nghia", "Sở Giáo dục"}, {"ket_qua", "..."}, assessed},
        utcMs(2021, 11, 10));
    add("annual_report", "A5", "X1", {{"nam", 2021}, {"ket_qua", "..."}, assessed}, utcMs(2021, 11, 10));
    add("annual_report", "A6", "X2", {{"nam", 2021}, {"ket_qua", "..."}}, utcMs(2021, 12, 2));
    add("annual_report", "A7", "NTM", {{"nam", 2021}, {"ket_qua", "..."}, assessed}, utcMs(2021, 10, 31, 18));

    // Needs proposals: X1 in time (20 Feb), X2 late (2 March); X3 and BTM none.
    add("needs_proposal", "N1", "X1",
        {{"nam", 2021},
         {"linh_vuc", "chan_nuoi"},
         {"noi_dung", "Bò sinh sản"},
         {"so_ho_tham_gia", 20},
         {"kinh_phi_du_kien", std::int64_t{50'000'000}}},
        utcMs(2021, 2, 20));
    add("needs_proposal", "N2", "X2",
        {{"nam", 2021},
         {"linh_vuc", "trong_trot"},
         {"noi_dung", "Quế"},
         {"so_ho_tham_gia", 8},
         {"kinh_phi_du_kien", std::int64_t{20'000'000}}},
        utcMs(2021, 3, 2));

    // Local set-up: X1 complete; X2 a group without rules and no plan; NTM complete; BTM a plan only.
    add("local_setup", "L1", "X1",
        {{"nam", 2021}, {"ngay_ke_hoach", "2021-01-20"}, {"to_cong_tac", true}, {"quy_che", true}});
    add("local_setup", "L2", "X2", {{"nam", 2021}, {"to_cong_tac", true}, {"quy_che", false}});
    add("local_setup", "L3", "NTM", {{"nam", 2021}, {"ngay_ke_hoach", "2021-01-05"}, {"to_cong_tac", true}});
    add("local_setup", "L4", "BTM", {{"nam", 2021}, {"ngay_ke_hoach", "2021-02-01"}, {"to_cong_tac", false}});

    // Household surveys in X1: two dated 2021 (one poor), one of 2020 (not counted).
    add("household_survey", "H1", "X1-T1",
        {{"chu_ho", "Hồ Văn A"}, {"tinh_trang_ngheo", "ngheo"}, {"ngay_khao_sat", "2021-05-01"}});
    add("household_survey", "H2", "X1",
        {{"chu_ho", "Hồ Thị B"}, {"tinh_trang_ngheo", "can_ngheo"}, {"ngay_khao_sat", "2021-06-01"}});
    add("household_survey", "H3", "X1",
        {{"chu_ho", "Hồ Văn C"}, {"tinh_trang_ngheo", "ngheo"}, {"ngay_khao_sat", "2020-12-01"}});
  }

  static std::map<std::string, Value> plan(const std::string& sponsor, const std::string& signed_on,
                                           std::int64_t budget) {
    return {{"don_vi_ket_nghia", sponsor},
            {"nam", 2021},
            {"noi_dung", "Kế hoạch"},
            {"kinh_phi", budget},
            {"ngay_ky", signed_on}};
  }

  void add(const std::string& collection, const std::string& id, const std::string& scope,
           const std::map<std::string, Value>& fields, std::int64_t received_ms = 0) {
    sync::Record r;
    r.key = {collection, id};
    r.scope = scope;
    for (const auto& [name, value] : fields) r.fields[name].value = value;
    r.receive_time_ms = received_ms;
    if (received_ms != 0) data_.first_received_ms[r.key] = received_ms;
    if (collection == kHouseholdForm) {  // the reports read counts of surveys (the store keeps them)
      data_.countSurvey(r);
      return;
    }
    data_.records[collection].push_back(std::move(r));
  }

  const Assessment& find(const std::vector<Assessment>& all, const std::string& id) {
    for (const auto& a : all) {
      if (a.id == id) return a;
    }
    ADD_FAILURE() << "no assessment of " << id;
    static const Assessment none;
    return none;
  }

  static const TargetCheck& check(const Assessment& a, const std::string& id) {
    for (const auto& c : a.checks) {
      if (c.id == id) return c;
    }
    ADD_FAILURE() << a.id << " has no target " << id;
    static const TargetCheck none;
    return none;
  }

  // A section's rows as JSON, by the section's name.
  static const json& rowsOf(const json& report, const std::string& name) {
    for (const auto& s : report["sections"]) {
      if (s["name"] == name) return s["rows"];
    }
    ADD_FAILURE() << "no section " << name;
    static const json none = json::array();
    return none;
  }

  UnitTree units_;
  ReportData data_;
  ReportRules rules_ = defaultReportRules(2021);
};

TEST_F(ProgrammeReport, ADepartmentsFiguresPlansAndGradeAreWorkedOutAsByHand) {
  const auto all = assessTargets(data_, rules_, "");
  const auto& s1 = find(all, "S1");
  ASSERT_EQ(s1.checks.size(), 8u);  // households, models+plan per commune (2 communes), results, report, assessment
  // 6 + 3 (a village of X1) + 2 = 11 households against 45 x 2 / 10 = 9 (an average, not blocks).
  EXPECT_EQ(check(s1, "households").actual, 11.0);
  EXPECT_EQ(check(s1, "households").required, 9.0);
  EXPECT_TRUE(check(s1, "households").met);
  EXPECT_EQ(check(s1, "models:X1").actual, 1.0);
  EXPECT_TRUE(check(s1, "models:X1").met);
  EXPECT_EQ(check(s1, "models:X2").actual, 0.0);
  EXPECT_FALSE(check(s1, "models:X2").met);
  EXPECT_TRUE(check(s1, "plan:X1").met) << check(s1, "plan:X1").reason.en;
  EXPECT_FALSE(check(s1, "plan:X2").met) << "signed on 31 March: not before it";
  EXPECT_NE(check(s1, "plan:X2").reason.vi.find("sau hạn"), std::string::npos) << check(s1, "plan:X2").reason.vi;
  EXPECT_TRUE(check(s1, "results").met);
  EXPECT_TRUE(check(s1, "report").met) << "received 20 November, inside 1-30 November";
  EXPECT_TRUE(check(s1, "assessment").met);
  // 6 of 8 met, two missed, nothing of IV.2: the software proposes "average" (docs/reports.md).
  EXPECT_EQ(s1.grade, Grade::kAverage);
  EXPECT_NE(s1.grade_reason.en.find("6 of 8 targets met"), std::string::npos) << s1.grade_reason.en;
  EXPECT_NE(s1.grade_reason.en.find("the software's proposal"), std::string::npos) << s1.grade_reason.en;
  EXPECT_NE(s1.grade_reason.vi.find("Mô hình xây dựng, củng cố, nhân rộng tại Xã Hai"), std::string::npos)
      << s1.grade_reason.vi;
}

// "Bình quân 10 biên chế, nhận giúp đỡ ít nhất 02 hộ nghèo/năm" (III.2.2a) is an average: staff x 2
// / 10, to the nearest whole household (docs/reports.md says so): 45 -> 9, 44 -> 8.8 -> 9, 42 -> 8.4
// -> 8, 45 -> 9 (not the 10 of rounding blocks of ten up), 5 -> 1, 0 -> 0.
TEST_F(ProgrammeReport, ADepartmentOwesTheAverageRoundedToTheNearestHousehold) {
  for (const auto& [staff, owed] : std::vector<std::pair<std::int64_t, std::int64_t>>{
           {45, 9}, {44, 9}, {42, 8}, {10, 2}, {5, 1}, {4, 1}, {2, 0}, {0, 0}}) {
    EXPECT_EQ(programme::householdsOwed(staff, rules_), owed) << staff << " staff";
  }
}

TEST_F(ProgrammeReport, LowlandDistrictBusinessAndSmallDepartmentGetTheirGrades) {
  const auto all = assessTargets(data_, rules_, "");
  const auto& s2 = find(all, "S2");
  EXPECT_EQ(check(s2, "households").actual, 12.0);
  EXPECT_EQ(check(s2, "money").actual, 210'000'000.0) << "150M in money + 60M in kind";
  EXPECT_EQ(check(s2, "money").required, 200'000'000.0);
  EXPECT_EQ(check(s2, "models:X3").actual, 3.0) << "2 set up + 1 replicated";
  EXPECT_EQ(check(s2, "models:X3").required, 2.0);
  EXPECT_EQ(s2.grade, Grade::kGood) << s2.grade_reason.en;

  // S3, a business: no plan, no support at all, and its report came on 20 December. Section IV.2:
  // "không có chương trình, kế hoạch ký kết thực hiện hoặc có ký kết nhưng không thực hiện, không
  // có báo cáo" -> criticised; the 2021 letter: a report past 30 November "xem như đơn vị không
  // triển khai", and it is addressed to the sponsors too.
  const auto& s3 = find(all, "S3");
  ASSERT_EQ(s3.checks.size(), 4u) << "a business has a plan, support, a report and an assessment to do";
  EXPECT_FALSE(check(s3, "plan:X2").met);
  EXPECT_FALSE(check(s3, "results").met);
  EXPECT_FALSE(check(s3, "report").met) << "20 December: outside 1-30 November";
  EXPECT_NE(check(s3, "report").reason.vi.find("xem như không thực hiện"), std::string::npos);
  EXPECT_EQ(s3.grade, Grade::kWeak);
  EXPECT_NE(s3.grade_reason.vi.find("không có kế hoạch ký kết"), std::string::npos) << s3.grade_reason.vi;

  // S4: 4 households against 10 x 2 / 10 = 2 and 2 models against 1, everything met: "good", the most
  // figures can show ("xuất sắc" needs "các yếu tố tích cực khác", IV.1: the Committee's to judge).
  const auto& s4 = find(all, "S4");
  EXPECT_EQ(check(s4, "households").required, 2.0);
  EXPECT_EQ(s4.grade, Grade::kGood) << s4.grade_reason.en;
  EXPECT_NE(s4.grade_reason.vi.find("UBND tỉnh"), std::string::npos) << s4.grade_reason.vi;
  for (const auto& a : all) EXPECT_NE(a.grade, Grade::kExcellent) << a.id << ": no figure gives excellent";
}

// IV.2: "có ký kết nhưng không thực hiện". A business that signed its plan in time and reported in
// the window, but delivered nothing in the year, is criticised: weak, and the reason says why.
TEST_F(ProgrammeReport, ASponsorThatSignedButDeliveredNothingIsWeak) {
  add("twinning_plan", "P5", "X2", plan("Công ty ABC", "2021-03-01", 15'000'000));
  data_.records["annual_report"].erase(
      std::remove_if(data_.records["annual_report"].begin(), data_.records["annual_report"].end(),
                     [](const sync::Record& r) { return r.key.id == "A3"; }),
      data_.records["annual_report"].end());
  add("annual_report", "A3b", "49",
      {{"nam", 2021}, {"don_vi_ket_nghia", "Công ty ABC"}, {"ket_qua", "..."}, {"nhan_xet_danh_gia", "Tốt"}},
      utcMs(2021, 11, 15));
  const auto s3 = find(assessTargets(data_, rules_, ""), "S3");
  EXPECT_TRUE(check(s3, "plan:X2").met);
  EXPECT_TRUE(check(s3, "report").met);
  EXPECT_FALSE(check(s3, "results").met);
  EXPECT_EQ(s3.grade, Grade::kWeak) << "every other target met, but nothing carried out";
  EXPECT_NE(s3.grade_reason.vi.find("có ký kết nhưng không thực hiện"), std::string::npos) << s3.grade_reason.vi;
  EXPECT_NE(s3.grade_reason.en.find("signed but not carried out"), std::string::npos) << s3.grade_reason.en;
}

// "Hướng dẫn xây dựng, củng cố hoặc nhân rộng ít nhất 01 mô hình/xã/năm" (III.2.2a): a consolidated
// model counts. S1 had none in X2; one consolidated there meets it.
TEST_F(ProgrammeReport, AConsolidatedModelCountsAndGiftsAreShownApart) {
  add("support_result", "R7", "X2",
      {{"don_vi_ket_nghia", "Sở Y tế"},
       {"nam", 2021},
       {"hinh_thuc_ho_tro", Value::List{"mo_hinh", "qua_tang"}},
       {"so_ho_ngheo_duoc_giup", 0},
       {"gia_tri_tien_mat", std::int64_t{4'000'000}},
       {"gia_tri_qua_tang", std::int64_t{1'500'000}},
       {"so_mo_hinh_cung_co", 1}});
  const auto s1 = find(assessTargets(data_, rules_, ""), "S1");
  EXPECT_EQ(check(s1, "models:X2").actual, 1.0);
  EXPECT_TRUE(check(s1, "models:X2").met);
  // "Giảm dần tặng quà" (section I.2): the part given as gifts is its own column, within the value.
  const auto report = form1Report(data_, rules_, "S1");
  const auto& rows = rowsOf(report, "communes");
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[1][5], 4'000'000) << "money of X2";
  EXPECT_EQ(rows[1][11], 1) << "models consolidated";
  EXPECT_EQ(rows[1][12], 1'500'000) << "of which gifts";
  EXPECT_EQ(rows[2][12], 1'500'000) << "the sponsor's total gifts";
  const auto form2 = form2Report(data_, rules_, "NTM");
  const auto& x2 = rowsOf(form2, "communes")[1];
  EXPECT_EQ(x2[14], 1) << "Form 2 counts the consolidated model";
  EXPECT_EQ(x2[17], 1'500'000) << "Form 2's gifts";
}

TEST_F(ProgrammeReport, CommunesAndDistrictsAreJudgedOnWhenTheServerReceivedThings) {
  const auto all = assessTargets(data_, rules_, "");
  const auto& x1 = find(all, "X1");
  EXPECT_EQ(x1.subject, "commune");
  for (const auto& c : x1.checks) EXPECT_TRUE(c.met) << c.id << ": " << c.reason.en;
  EXPECT_EQ(x1.grade, Grade::kGood) << "no figure to exceed: good is the top a rule can give";

  const auto& x2 = find(all, "X2");
  EXPECT_FALSE(check(x2, "local_plan").met);
  EXPECT_FALSE(check(x2, "working_group").met) << "a group without rules";
  EXPECT_FALSE(check(x2, "needs").met) << "received 2 March";
  EXPECT_FALSE(check(x2, "report").met) << "received 2 December, outside 1-30 November";
  EXPECT_NE(check(x2, "report").reason.vi.find("xem như không thực hiện"), std::string::npos);
  EXPECT_EQ(x2.grade, Grade::kWeak);

  const auto& x3 = find(all, "X3");
  EXPECT_EQ(std::count_if(x3.checks.begin(), x3.checks.end(), [](const auto& c) { return c.met; }), 0);
  EXPECT_EQ(x3.grade, Grade::kWeak);

  const auto& ntm = find(all, "NTM");
  EXPECT_EQ(ntm.subject, "district");
  EXPECT_TRUE(check(ntm, "needs").met) << "X1's proposal arrived before 28 February";
  EXPECT_TRUE(check(ntm, "report").met) << "31 Oct 18:00 UTC is 1 Nov in Vietnam: " << check(ntm, "report").reason.en;
  EXPECT_EQ(ntm.grade, Grade::kGood);

  const auto& btm = find(all, "BTM");
  EXPECT_TRUE(check(btm, "local_plan").met);
  EXPECT_FALSE(check(btm, "working_group").met);
  EXPECT_EQ(btm.grade, Grade::kWeak) << "no report";
}

// "Cuối năm có báo cáo sơ kết và nhận xét đánh giá đối với địa phương miền núi được nhận kết nghĩa"
// (III.2.2c, the sponsors) and "... nhận xét đánh giá đối với cơ quan, đơn vị phân công nhận kết
// nghĩa" (III.2.1c, districts and communes): a target of its own, and Form 1 and 2 show the text.
TEST_F(ProgrammeReport, TheYearEndReportCarriesAnAssessmentOfTheOtherSide) {
  for (auto& r : data_.records["annual_report"]) {
    if (r.key.id == "A2") r.fields.erase("nhan_xet_danh_gia");
  }
  const auto all = assessTargets(data_, rules_, "");
  const auto& s2 = find(all, "S2");
  EXPECT_FALSE(check(s2, "assessment").met);
  EXPECT_NE(check(s2, "assessment").reason.vi.find("chưa có nhận xét đánh giá"), std::string::npos);
  EXPECT_EQ(s2.grade, Grade::kFair) << "every other target met, one missed";
  EXPECT_TRUE(check(find(all, "X1"), "assessment").met);
  EXPECT_FALSE(check(find(all, "X2"), "assessment").met) << "A6 has none";

  const auto form1 = form1Report(data_, rules_, "S1");
  const auto& year_end = rowsOf(form1, "year_end");
  ASSERT_EQ(year_end.size(), 1u);
  EXPECT_EQ(year_end[0], json::parse(R"(["Sở Y tế","A1","2021-11-20",true,"Xã phối hợp tốt"])"));
  const auto form2 = form2Report(data_, rules_, "NTM");
  std::map<std::string, std::string> written;
  for (const auto& row : rowsOf(form2, "year_end")) written[row[1]] = row[4];
  EXPECT_EQ(written,
            (std::map<std::string, std::string>{{"A5", "Xã phối hợp tốt"}, {"A6", ""}, {"A7", "Xã phối hợp tốt"}}))
      << "the district's and its communes' reports, not the sponsors'";
}

// Since 1 July 2025 Vietnam has two levels: province (or city) -> commune (domain.md; Quảng Nam is
// part of Đà Nẵng city). Form 2 is compiled by whatever unit has the communes under it: here the
// city, and its communes are assessed as communes, the city not as a district.
TEST_F(ProgrammeReport, AProvinceWithNoDistrictsCompilesForm2AndItsCommunesAreAssessed) {
  units_ = UnitTree({
      {"48", "", UnitLevel::kProvince, "Thành phố Đà Nẵng", "", ""},
      {"X9", "48", UnitLevel::kCommune, "Xã Trà Linh", "", ""},
      {"X9-T1", "X9", UnitLevel::kVillage, "Thôn 1", "", ""},
      {"X8", "48", UnitLevel::kCommune, "Xã Trà Tập", "", ""},
  });
  data_ = ReportData{};
  data_.units = &units_;
  add("sponsor_unit", "S9", "48",
      {{"ten", "Sở Nông nghiệp"}, {"loai", "so_nganh"}, {"bien_che", 20}, {"xa_ket_nghia", "X9"}});
  add("support_result", "R9", "X9-T1",
      {{"don_vi_ket_nghia", "S9"},
       {"nam", 2025},
       {"hinh_thuc_ho_tro", Value::List{"sinh_ke"}},
       {"so_ho_ngheo_duoc_giup", 5},
       {"gia_tri_tien_mat", std::int64_t{20'000'000}},
       {"so_mo_hinh_xay_dung", 1}});
  add("needs_proposal", "N9", "X9",
      {{"nam", 2025},
       {"linh_vuc", "chan_nuoi"},
       {"noi_dung", "Dê"},
       {"so_ho_tham_gia", 10},
       {"kinh_phi_du_kien", std::int64_t{30'000'000}}},
      utcMs(2025, 2, 10));
  add("needs_proposal", "N8", "X8",
      {{"nam", 2025},
       {"linh_vuc", "trong_trot"},
       {"noi_dung", "Sâm"},
       {"so_ho_tham_gia", 4},
       {"kinh_phi_du_kien", std::int64_t{8'000'000}}},
      utcMs(2025, 3, 5));
  const auto rules = defaultReportRules(2025);
  const auto form2 = form2Report(data_, rules, "48");
  const auto& rows = rowsOf(form2, "communes");
  ASSERT_EQ(rows.size(), 3u) << rows.dump();  // X8, X9, the city's total
  EXPECT_EQ(rows[0][0], "Thành phố Đà Nẵng");
  EXPECT_EQ(rows[1][2], "X9");
  EXPECT_EQ(rows[1][8], true) << "10 February, before 28 February";
  EXPECT_EQ(rows[1][11], 5) << "households helped, from a village of X9";
  EXPECT_EQ(rows[2][1], "Cộng / Total");
  EXPECT_EQ(rows[2][6], 2) << "two proposals in the city";
  std::map<std::string, std::string> subjects;
  for (const auto& a : form2["assessments"]) subjects[a["id"]] = a["subject"];
  EXPECT_EQ(subjects, (std::map<std::string, std::string>{{"X8", "commune"}, {"X9", "commune"}}))
      << "the communes are assessed; the city is not a district";
  // The sponsor's households: 20 x 2 / 10 = 4, helped 5.
  const auto s9 = find(assessTargets(data_, rules, ""), "S9");
  EXPECT_TRUE(check(s9, "households").met);
}

TEST_F(ProgrammeReport, RulesOfTheYearChangeTheVerdicts) {
  // The province moves the plan deadline to 2 April for 2021.
  auto rules = reportRules(2021, json{{"2021", {{"plan_signed_before", "04-02"}}}});
  ASSERT_OK(rules);
  const auto all = assessTargets(data_, *rules, "");
  EXPECT_TRUE(check(find(all, "S1"), "plan:X2").met);

  // The 2021 letter's dates are of 2022 only: "hoàn thành trước 31/01/2022" (the districts'
  // compilation) and "trước 28/02/2022" (the sponsors' plans); other years keep the decision's.
  EXPECT_EQ(defaultReportRules(2022).district_needs_before.in(2022), "2022-01-31");
  EXPECT_EQ(defaultReportRules(2022).plan_signed_before.in(2022), "2022-02-28");
  for (int year : {2021, 2023, 2025}) {
    EXPECT_EQ(defaultReportRules(year).district_needs_before.in(year), std::to_string(year) + "-02-28");
    EXPECT_EQ(defaultReportRules(year).plan_signed_before.in(year), std::to_string(year) + "-03-31");
  }
  auto bad = reportRules(2021, json{{"default", {{"plan_due", "03-31"}}}});
  EXPECT_FALSE(bad.isOk());
  EXPECT_NE(bad.status().message().find("plan_due"), std::string::npos);
  EXPECT_FALSE(reportRules(2021, json{{"2021", {{"plan_signed_before", "02-30"}}}}).isOk());
  EXPECT_FALSE(checkReportRules(json{{"next year", json::object()}}).isOk());
  // The invented thresholds are gone, and a config still naming one is told why.
  auto gone = reportRules(2021, json{{"default", {{"excellent_ratio", 1.5}}}});
  EXPECT_FALSE(gone.isOk());
  EXPECT_NE(gone.status().message().find("Committee"), std::string::npos) << gone.status().message();
}

// "Trước 28/02 hằng năm, 100% huyện, xã có kế hoạch hoặc báo cáo đề xuất nhu cầu" (III.2.1c): a
// plan OR a proposal meets it. And one rule says whether a proposal was in time, for the targets and
// for Form 2 alike: a commune's proposal by the commune's day, the district's own compilation by
// the district's (31/01 in 2022).
TEST_F(ProgrammeReport, APlanOrAProposalMeetsTheNeedsTargetByOneRule) {
  // BTM issued its plan on 1 February and sent no proposal: met by the plan.
  EXPECT_TRUE(check(find(assessTargets(data_, rules_, ""), "BTM"), "needs").met);
  // NTM without its plan, with the district's day moved to 31 January and its own compilation
  // received on 10 February: late; X1's proposal of 20 February is a commune's, in time by 28/02.
  for (auto& r : data_.records["local_setup"]) {
    if (r.key.id == "L3") r.fields.erase("ngay_ke_hoach");
  }
  add("needs_proposal", "N3", "NTM",
      {{"nam", 2021},
       {"linh_vuc", "giao_thong"},
       {"noi_dung", "Tổng hợp của huyện"},
       {"so_ho_tham_gia", 0},
       {"kinh_phi_du_kien", 0}},
      utcMs(2021, 2, 10));
  auto rules = reportRules(2021, json{{"2021", {{"district_needs_before", "01-31"}}}});
  ASSERT_OK(rules);
  const auto ntm = find(assessTargets(data_, *rules, ""), "NTM");
  EXPECT_TRUE(check(ntm, "needs").met) << check(ntm, "needs").reason.en;
  EXPECT_NE(check(ntm, "needs").reason.en.find("1 of 3 proposals in time"), std::string::npos)
      << check(ntm, "needs").reason.en;
  const auto form2 = form2Report(data_, *rules, "NTM");
  std::map<std::string, bool> in_time;
  for (const auto& row : rowsOf(form2, "proposals")) in_time[row[2]] = row[8];
  EXPECT_EQ(in_time, (std::map<std::string, bool>{{"N1", true}, {"N2", false}, {"N3", false}}));
}

TEST_F(ProgrammeReport, Form2CompilesADistrictFromItsCommunesWithTheListsBehind) {
  const auto report = form2Report(data_, rules_, "NTM");
  EXPECT_EQ(report["report"], "form2");
  const auto& rows = rowsOf(report, "communes");
  ASSERT_EQ(rows.size(), 3u) << rows.dump();  // X1, X2, the district's total
  // district, commune name, code, sponsors, plan, group, proposals, cost, in time, surveyed, poor,
  // households helped, money, in kind, models, trained, report received, of which gifts
  EXPECT_EQ(rows[0], json::parse(R"(["Nam Trà My","Xã Một","X1","Sở Y tế","2021-01-20",true,1,50000000,true,2,1,
                                      9,30000000,5000000,1,0,"2021-11-10",0])"));
  EXPECT_EQ(rows[1], json::parse(R"(["Nam Trà My","Xã Hai","X2","Công ty ABC; Sở Y tế",null,true,1,20000000,false,0,0,
                                      2,0,0,0,0,"2021-12-02",0])"));
  EXPECT_EQ(rows[2], json::parse(R"(["Nam Trà My","Cộng / Total","NTM",null,null,null,2,70000000,null,2,1,
                                      11,30000000,5000000,1,0,null,0])"));
  EXPECT_EQ(rowsOf(report, "proposals").size(), 2u);
  EXPECT_EQ(rowsOf(report, "results").size(), 3u) << "R1, R2 (village of X1), R3";
  // The grades of the district and its communes, not of another district's.
  std::set<std::string> graded;
  for (const auto& a : report["assessments"]) graded.insert(a["id"]);
  EXPECT_EQ(graded, (std::set<std::string>{"NTM", "X1", "X2"}));
}

TEST_F(ProgrammeReport, Form1ShowsASponsorsCommunesTotalsAndPlans) {
  const auto report = form1Report(data_, rules_, "sở y tế");  // found by name, as typed
  const auto& rows = rowsOf(report, "communes");
  ASSERT_EQ(rows.size(), 3u) << rows.dump();
  // sponsor, commune name, code, plan signed, households, money, in kind, total, models new, replicated,
  // trained, consolidated, of which gifts
  EXPECT_EQ(rows[0], json::parse(R"(["Sở Y tế","Xã Một","X1","2021-03-15",9,30000000,5000000,35000000,1,0,0,0,0])"));
  EXPECT_EQ(rows[1], json::parse(R"(["Sở Y tế","Xã Hai","X2","2021-03-31",2,0,0,0,0,0,0,0,0])"));
  EXPECT_EQ(rows[2], json::parse(R"(["Sở Y tế","Cộng / Total","",null,11,30000000,5000000,35000000,1,0,0,0,0])"));
  const auto& plans = rowsOf(report, "plans");
  ASSERT_EQ(plans.size(), 2u);
  EXPECT_EQ(plans[0][6], true);
  EXPECT_EQ(plans[1][6], false) << "31 March is not before 31 March";
  ASSERT_EQ(report["assessments"].size(), 1u);
  EXPECT_EQ(report["assessments"][0]["grade"], "average");
  EXPECT_EQ(report["rules"]["plan_signed_before"], "03-31");

  // A unit code selects the sponsors twinned with communes under it: BTM -> S2 and S4.
  std::set<std::string> sponsors;
  const auto btm = form1Report(data_, rules_, "BTM");
  for (const auto& a : btm["assessments"]) sponsors.insert(a["id"]);
  EXPECT_EQ(sponsors, (std::set<std::string>{"S2", "S4"}));
}

}  // namespace
}  // namespace communesync::server

namespace communesync::server {
namespace {

// Form 2's "sponsors" column by commune code.
std::map<std::string, std::string> sponsorsByCommune(const json& form2) {
  std::map<std::string, std::string> out;
  for (const auto& s : form2["sections"]) {
    if (s["name"] != "communes") continue;
    for (const auto& row : s["rows"]) {
      if (row[3].is_string()) out[row[2].get<std::string>()] = row[3].get<std::string>();
    }
  }
  return out;
}

// Point 12 of the domain issue: twinning assignments are dated facts (Decision 1100, III.2.2c:
// "cơ quan, đơn vị phân công nhận kết nghĩa": the Committee's "Quyết định phân công kết nghĩa"),
// and a department's staff is the year's ("bình quân 10 biên chế", III.2.2a). S1 (Sở Y tế) helped
// X1 until 30 June 2021 by decision 12/QĐ-UBND, then X3 by decision 99/QĐ-UBND; its sponsor_unit
// record still says "X1, X2" and 45 staff, which no longer decide anything.
TEST_F(ProgrammeReport, TwinningAssignmentsAndStaffAreTheYearsNotTheSponsorsCurrentRecord) {
  add("twinning_assignment", "T1", "49",
      {{"don_vi_ket_nghia", "S1"},
       {"dia_ban_ket_nghia", "X1"},
       {"tu_ngay", "2020-01-01"},
       {"den_ngay", "2021-06-30"},
       {"so_quyet_dinh", "12/QĐ-UBND"},
       {"ngay_quyet_dinh", "2019-12-20"}});
  add("twinning_assignment", "T2", "49",
      {{"don_vi_ket_nghia", "Sở Y tế"},
       {"dia_ban_ket_nghia", "X3"},
       {"tu_ngay", "2021-07-01"},
       {"so_quyet_dinh", "99/QĐ-UBND"},
       {"ngay_quyet_dinh", "2021-06-25"}});
  add("sponsor_staff", "B20", "49", {{"don_vi_ket_nghia", "S1"}, {"nam", 2020}, {"bien_che", 30}});
  add("sponsor_staff", "B21", "49", {{"don_vi_ket_nghia", "S1"}, {"nam", 2021}, {"bien_che", 60}});

  // 2021 is read on its reporting day, 30 November: X3 only. 60 staff x 2 / 10 = 12 households.
  const auto s1 = find(assessTargets(data_, rules_, ""), "S1");
  std::vector<std::string> ids;
  for (const auto& c : s1.checks) ids.push_back(c.id);
  EXPECT_EQ(ids, (std::vector<std::string>{"households", "models:X3", "plan:X3", "results", "report", "assessment"}));
  EXPECT_EQ(check(s1, "households").required, 12.0) << "the 2021 staff count, not the record's 45";
  EXPECT_EQ(check(s1, "households").actual, 11.0) << "6 + 3 + 2: its results count wherever they were";

  // 2020 reads X1 and 30 staff -> 6 households, whatever was decided later.
  const auto s1_2020 = find(assessTargets(data_, defaultReportRules(2020), ""), "S1");
  EXPECT_EQ(check(s1_2020, "households").required, 6.0);
  EXPECT_FALSE(check(s1_2020, "plan:X1").met);
  for (const auto& c : s1_2020.checks) EXPECT_NE(c.id, "plan:X3") << "X3 was not yet twinned in 2020";

  // Form 2 of 2021 names S1 beside X3 (in force on the reporting day), not beside X1 or X2.
  const auto named = sponsorsByCommune(form2Report(data_, rules_, ""));
  EXPECT_NE(named.at("X3").find("Sở Y tế"), std::string::npos) << named.at("X3");
  EXPECT_EQ(named.at("X1").find("Sở Y tế"), std::string::npos) << named.at("X1");
  EXPECT_EQ(named.at("X2").find("Sở Y tế"), std::string::npos) << named.at("X2");

  // The twinned pairs of 2021: both of S1's assignments touched the year; the sponsors with no
  // dated assignment show their record's communes, undated.
  const auto pairs = twinningReport(data_, rules_, "");
  const auto& rows = rowsOf(pairs, "pairs");
  ASSERT_EQ(rows.size(), 5u) << rows.dump();  // S1-X1, S1-X3, S2-X3, S3-X2, S4-X3
  EXPECT_EQ(rows[0][0], "Sở Y tế");
  EXPECT_EQ(rows[0][3], 60) << "the staff of the year";
  EXPECT_EQ(rows[0][4], "X1");
  EXPECT_EQ(rows[0][8], "2021-06-30");
  EXPECT_EQ(rows[0][9], "12/QĐ-UBND");
  EXPECT_EQ(rows[0][11], false) << "ended before 30 November";
  EXPECT_EQ(rows[1][4], "X3");
  EXPECT_EQ(rows[1][8], nullptr) << "still standing";
  EXPECT_EQ(rows[1][11], true);
  EXPECT_EQ(rows[2][7], "(không ghi ngày / undated)");
  // One sponsor's pairs, by its name.
  EXPECT_EQ(rowsOf(twinningReport(data_, rules_, "Sở Y tế"), "pairs").size(), 2u);
}

// Point 11: "kết nghĩa ... huyện miền núi" (the decision's title; III.2.2a: the lowland districts
// twin with mountainous districts and communes). S5, a department, is twinned with the whole of
// Bắc Trà My (BTM): its plan signed at the district and the models it built in X3, a commune of
// BTM, count for it; BTM is assessed and S5 is named beside X3 in Form 2.
TEST_F(ProgrammeReport, ASponsorTwinnedWithAWholeDistrictHasItsPlanAndModelsCounted) {
  add("sponsor_unit", "S5", "49", {{"ten", "Sở Công Thương"}, {"loai", "so_nganh"}, {"bien_che", 10}});
  add("twinning_assignment", "T5", "49",
      {{"don_vi_ket_nghia", "S5"},
       {"dia_ban_ket_nghia", "BTM"},
       {"tu_ngay", "2021-01-01"},
       {"so_quyet_dinh", "1100/QĐ-UBND"},
       {"ngay_quyet_dinh", "2020-12-28"}});
  add("twinning_plan", "P9", "BTM", plan("Sở Công Thương", "2021-03-10", 50'000'000));
  add("support_result", "R9", "X3",
      {{"don_vi_ket_nghia", "S5"},
       {"nam", 2021},
       {"hinh_thuc_ho_tro", Value::List{"sinh_ke"}},
       {"so_ho_ngheo_duoc_giup", 2},
       {"gia_tri_tien_mat", std::int64_t{10'000'000}},
       {"so_mo_hinh_xay_dung", 1},
       {"so_mo_hinh_cung_co", 1}});
  const auto all = assessTargets(data_, rules_, "");
  const auto& s5 = find(all, "S5");
  EXPECT_TRUE(check(s5, "plan:BTM").met) << "signed 10 March at the district";
  EXPECT_EQ(check(s5, "models:BTM").actual, 2.0) << "1 set up + 1 consolidated in X3, a commune of BTM";
  EXPECT_TRUE(check(s5, "households").met) << "2 helped of 10 x 2 / 10 = 2";
  find(all, "BTM");  // assessed
  // Selecting a commune of the district finds the sponsor of the whole district.
  const auto for_x3 = assessTargets(data_, rules_, "X3");
  EXPECT_TRUE(std::any_of(for_x3.begin(), for_x3.end(), [](const Assessment& a) { return a.id == "S5"; }));
  // Form 1: one row for the district, holding the plan and the result in X3; then the total.
  const auto form1 = form1Report(data_, rules_, "S5");
  const auto& summary = rowsOf(form1, "communes");
  ASSERT_EQ(summary.size(), 2u) << summary.dump();
  EXPECT_EQ(summary[0][2], "BTM");
  EXPECT_EQ(summary[0][3], "2021-03-10");
  EXPECT_EQ(summary[0][4], 2);
  const auto named = sponsorsByCommune(form2Report(data_, rules_, "BTM"));
  EXPECT_NE(named.at("X3").find("Sở Công Thương"), std::string::npos) << named.at("X3");
}

// Points 10 and 9 together, on the two-level administration of 1 July 2025 (the issue: "Vietnam
// ended the district level on 1 July 2025 ...; communes were merged too"). Xã Một (X1) and Xã Hai
// (X2) of Nam Trà My merge into Xã Trà Linh (X9) on 1 July 2025, and the district merges into the
// province. S1 was twinned with X1 and X2 by decision; in 2025 it is twinned with X9, once.
class MergedCommunes : public ProgrammeReport {
 protected:
  void SetUp() override {
    units_ = UnitTree({
        {"49", "", UnitLevel::kProvince, "Quảng Nam", "", ""},
        {"NTM", "49", UnitLevel::kDistrict, "Nam Trà My", "49", "2025-07-01"},
        {"X1", "NTM", UnitLevel::kCommune, "Xã Một", "X9", "2025-07-01"},
        {"X2", "NTM", UnitLevel::kCommune, "Xã Hai", "X9", "2025-07-01"},
        {"X9", "49", UnitLevel::kCommune, "Xã Trà Linh", "", ""},
    });
    data_ = ReportData{};
    data_.units = &units_;
    add("sponsor_unit", "S1", "49", {{"ten", "Sở Y tế"}, {"loai", "so_nganh"}, {"bien_che", 20}});
    for (const auto* commune : {"X1", "X2"}) {
      add("twinning_assignment", std::string("T-") + commune, "49",
          {{"don_vi_ket_nghia", "S1"},
           {"dia_ban_ket_nghia", commune},
           {"tu_ngay", "2021-01-01"},
           {"so_quyet_dinh", "1100/QĐ-UBND"},
           {"ngay_quyet_dinh", "2020-12-28"}});
    }
    // 2024: one proposal in X1, one household surveyed in X2.
    add("needs_proposal", "N0", "X1", proposal(2024, 10'000'000), utcMs(2024, 2, 10));
    add("household_survey", "H0", "X2", household("2024-05-01"));
    // 2025: the plan signed in X1 before the merge, a result in X9 after it; a proposal from each
    // old commune before the merge; a household surveyed in X1 before and one in X9 after.
    add("twinning_plan", "P1", "X1", yearPlan(2025, "2025-03-15"));
    add("support_result", "R1", "X9",
        {{"don_vi_ket_nghia", "S1"},
         {"nam", 2025},
         {"hinh_thuc_ho_tro", Value::List{"sinh_ke"}},
         {"so_ho_ngheo_duoc_giup", 5},
         {"gia_tri_tien_mat", std::int64_t{20'000'000}},
         {"so_mo_hinh_xay_dung", 1}});
    add("needs_proposal", "N1", "X1", proposal(2025, 30'000'000), utcMs(2025, 2, 10));
    add("needs_proposal", "N2", "X2", proposal(2025, 8'000'000), utcMs(2025, 2, 20));
    add("household_survey", "H1", "X1", household("2025-03-01"));
    add("household_survey", "H2", "X9", household("2025-09-01"));
  }

  static std::map<std::string, Value> proposal(int year, std::int64_t cost) {
    return {{"nam", year},
            {"linh_vuc", "chan_nuoi"},
            {"noi_dung", "Bò"},
            {"so_ho_tham_gia", 5},
            {"kinh_phi_du_kien", cost}};
  }
  static std::map<std::string, Value> household(const std::string& day) {
    return {{"chu_ho", "Hồ Văn A"}, {"tinh_trang_ngheo", "ngheo"}, {"ngay_khao_sat", day}};
  }
  static std::map<std::string, Value> yearPlan(int year, const std::string& signed_on) {
    auto p = plan("S1", signed_on, 10'000'000);
    p["nam"] = year;
    return p;
  }
};

TEST_F(MergedCommunes, TheYearOfTheMergeIsReportedByTheMergedCommuneOnce) {
  const auto rules = defaultReportRules(2025);
  const auto all = assessTargets(data_, rules, "");
  const auto& s1 = find(all, "S1");
  std::vector<std::string> ids;
  for (const auto& c : s1.checks) ids.push_back(c.id);
  EXPECT_EQ(ids, (std::vector<std::string>{"households", "models:X9", "plan:X9", "results", "report", "assessment"}))
      << "twinned with X9 once, not with X1 and X2";
  EXPECT_TRUE(check(s1, "plan:X9").met) << "the plan signed in X1 on 15 March counts for X9";
  EXPECT_TRUE(check(s1, "models:X9").met);
  EXPECT_EQ(s1.grade_reason.vi.find("không có kế hoạch"), std::string::npos) << s1.grade_reason.vi;
  std::set<std::string> assessed;
  for (const auto& a : all) assessed.insert(a.id);
  EXPECT_EQ(assessed, (std::set<std::string>{"S1", "X9"})) << "X1, X2 and Nam Trà My are not graded as if alive";

  // Form 2 is compiled by the province now; X9 holds both proposals and both surveys, and the
  // total counts each once: 2 proposals (38M), 2 households (not 4 and 76M).
  const auto form2 = form2Report(data_, rules, "49");
  const auto& rows = rowsOf(form2, "communes");
  ASSERT_EQ(rows.size(), 2u) << rows.dump();
  EXPECT_EQ(rows[0][2], "X9");
  EXPECT_EQ(rows[0][3], "Sở Y tế");
  EXPECT_EQ(rows[0][6], 2);
  EXPECT_EQ(rows[0][7], 38'000'000);
  EXPECT_EQ(rows[0][9], 2);
  EXPECT_EQ(rows[1][1], "Cộng / Total");
  EXPECT_EQ(rows[1][6], 2);
  EXPECT_EQ(rows[1][9], 2);
}

TEST_F(MergedCommunes, YearsBeforeTheMergeKeepTheirCommunesAndTheirDistrict) {
  const auto rules = defaultReportRules(2024);
  const auto form2 = form2Report(data_, rules, "");
  const auto& rows = rowsOf(form2, "communes");
  ASSERT_EQ(rows.size(), 3u) << rows.dump();  // X1, X2, Nam Trà My's total
  EXPECT_EQ(rows[0][0], "Nam Trà My") << "in 2024 the district compiled Form 2";
  EXPECT_EQ(rows[0][2], "X1");
  EXPECT_EQ(rows[0][6], 1);
  EXPECT_EQ(rows[1][2], "X2");
  EXPECT_EQ(rows[1][9], 1);
  const auto s1 = find(assessTargets(data_, rules, ""), "S1");
  EXPECT_FALSE(check(s1, "plan:X1").met);
  EXPECT_FALSE(check(s1, "plan:X2").met);

  // The review of 2024-2025: X1 and X2 up to 2024, X9 from 2025; S1's two years and its total.
  std::vector<ReportRules> years{defaultReportRules(2024), defaultReportRules(2025)};
  const auto review = reviewReport(data_, years, "");
  EXPECT_EQ(review["from"], 2024);
  EXPECT_EQ(review["to"], 2025);
  const auto& communes = rowsOf(review, "communes");
  std::vector<std::string> seen;
  for (const auto& row : communes) seen.push_back(row[1].get<std::string>() + "/" + row[2].dump());
  EXPECT_EQ(seen, (std::vector<std::string>{"X1/2024", "X1/\"Cộng 2024–2025\"", "X2/2024", "X2/\"Cộng 2024–2025\"",
                                            "X9/2025", "X9/\"Cộng 2024–2025\""}));
}

// Point 13: "hằng năm tổ chức sơ kết, 05 năm tổ chức tổng kết" (Directive 23). Over 2020-2021 on
// the fixture: Sở Giáo dục (S4) helped 50 households in 2020 (R6) and 4 in 2021 (R5): 54 in all;
// 2020 has no plan and no report (weak), 2021 is good (see above). X3 received 50 in 2020 and
// 12 + 4 = 16 in 2021: 66.
TEST_F(ProgrammeReport, TheFiveYearReviewGivesEachYearAndTheTotals) {
  std::vector<ReportRules> years{defaultReportRules(2020), defaultReportRules(2021)};
  const auto review = reviewReport(data_, years, "");
  std::map<std::string, json> s4;
  for (const auto& row : rowsOf(review, "sponsors")) {
    if (row[1] == "S4") s4[row[2].dump()] = row;
  }
  ASSERT_EQ(s4.size(), 3u);
  EXPECT_EQ(s4["2020"][3], 50);
  EXPECT_EQ(s4["2020"][7], "Yếu");
  EXPECT_EQ(s4["2021"][3], 4);
  EXPECT_EQ(s4["2021"][7], "Tốt");
  const auto& total = s4["\"Cộng 2020–2021\""];
  EXPECT_EQ(total[3], 54);
  EXPECT_EQ(total[7], "Tốt: 1 năm; Yếu: 1 năm");
  std::map<std::string, json> x3;
  for (const auto& row : rowsOf(review, "communes")) {
    if (row[1] == "X3") x3[row[2].dump()] = row;
  }
  EXPECT_EQ(x3["2020"][6], 50);
  EXPECT_EQ(x3["2021"][6], 16);
  EXPECT_EQ(x3["\"Cộng 2020–2021\""][6], 66);
}

}  // namespace
}  // namespace communesync::server
