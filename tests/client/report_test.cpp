// The programme's reports end to end: devices record a year's work in two communes of a district and
// a sponsor records itself and its plan; everything syncs to a real server; a reconciler rejects one
// doubtful result; the admin tool prints Form 2 and the targets as a table, CSV, JSON and XLSX, and
// the workbook read back holds the figures (rejected data not counted).
#include <gtest/gtest.h>

#include "assert_ok.hpp"
#include "process.hpp"
#include "server_harness.hpp"
#include "temp_dir.hpp"

namespace communesync {
namespace {

using nlohmann::json;
using sync::Value;
using testing::ServerHarness;
using testing::TestDevice;

std::map<std::string, Value> result(std::int64_t households, std::int64_t money, std::int64_t models) {
  return {{"don_vi_ket_nghia", Value("Sở Y tế")},
          {"nam", Value(2025)},
          {"hinh_thuc_ho_tro", Value(Value::List{Value("sinh_ke")})},
          {"so_ho_ngheo_duoc_giup", Value(households)},
          {"gia_tri_tien_mat", Value(money)},
          {"so_mo_hinh_xay_dung", Value(models)}};
}

std::map<std::string, Value> survey(const std::string& poverty, const std::string& day) {
  return {{"chu_ho", Value("Hồ Văn A")},        {"thon", Value("Thôn 1")}, {"so_nhan_khau", Value(4)},
          {"tinh_trang_ngheo", Value(poverty)}, {"nha_tam", Value(false)}, {"ly_do_ngheo", Value("Thiếu đất")},
          {"ngay_khao_sat", Value(day)}};
}

class Reports : public ::testing::Test {
 protected:
  void SetUp() override {
    // The sample tree: MAU-X01 and MAU-X02 are communes of Nam Trà My (49-NTM).
    x1_ = std::make_unique<TestDevice>(dir_ / "x1", server_.addUser("tuan", {"MAU-X01"}));
    x2_ = std::make_unique<TestDevice>(dir_ / "x2", server_.addUser("hoa", {"MAU-X02"}));
    sponsor_ = std::make_unique<TestDevice>(dir_ / "soyte", server_.addUser("soyte", {"49"}));
    lan_ = server_.addUser(json{{"name", "lan"}, {"grants", {"reconciler:49"}}});

    sponsor_->put("sponsor_unit", "",
                  {{"ten", Value("Sở Y tế")},
                   {"loai", Value("so_nganh")},
                   {"bien_che", Value(45)},
                   {"xa_ket_nghia", Value("MAU-X01, MAU-X02")}},
                  "49");
    sponsor_->put("twinning_plan", "",
                  {{"don_vi_ket_nghia", Value("Sở Y tế")},
                   {"nam", Value(2025)},
                   {"noi_dung", Value("Hỗ trợ bò sinh sản")},
                   {"dia_diem", Value("Thôn 1")},
                   {"doi_tuong_thu_huong", Value("Hộ nghèo")},
                   {"kinh_phi", Value(std::int64_t{40'000'000})},
                   {"tien_do", Value("Quý 2")},
                   {"ngay_ky", Value("2025-03-10")}},
                  "MAU-X01");
    x1_->put("support_result", "", result(6, 30'000'000, 1), "MAU-X01");
    x1_->put("local_setup", "",
             {{"nam", Value(2025)}, {"ngay_ke_hoach", Value("2025-01-15")}, {"to_cong_tac", Value(true)}}, "MAU-X01");
    x2_->put("support_result", "", result(2, 4'000'000, 0), "MAU-X02");
    doubtful_ = x2_->put("support_result", "", result(100, 900'000'000, 9), "MAU-X02");
    // Surveys: counted by the year of their date, and not when rejected.
    x1_->put("household_survey", "", survey("ngheo", "2025-04-02"), "MAU-X01");
    x1_->put("household_survey", "", survey("can_ngheo", "2025-04-03"), "MAU-X01");
    x1_->put("household_survey", "", survey("ngheo", "2024-11-20"), "MAU-X01");
    x2_->put("household_survey", "", survey("ngheo", "2025-05-01"), "MAU-X02");
    doubtful_survey_ = x2_->put("household_survey", "", survey("ngheo", "2025-05-02"), "MAU-X02");
    for (auto* d : {sponsor_.get(), x1_.get(), x2_.get()}) {
      auto report = d->sync(server_.url());
      ASSERT_OK(report.status);
      ASSERT_EQ(report.rejected, 0u) << "every record is valid for its form";
    }
    auto [status, body] = testing::httpCall(server_.port(), boost::beast::http::verb::post, lan_,
                                            "/api/reviews/support_result/" + doubtful_,
                                            json{{"state", "rejected"}, {"comment", "100 hộ? Sai số liệu"}}.dump());
    ASSERT_EQ(status, 200u) << body;
    std::tie(status, body) = testing::httpCall(server_.port(), boost::beast::http::verb::post, lan_,
                                               "/api/reviews/household_survey/" + doubtful_survey_,
                                               json{{"state", "rejected"}, {"comment", "Trùng hộ"}}.dump());
    ASSERT_EQ(status, 200u) << body;
  }

  auto admin(const std::string& token, std::vector<std::string> args) {
    args.insert(args.begin(),
                {ADMIN_PATH, "--server", "http://127.0.0.1:" + std::to_string(server_.port()), "--token", token});
    return testing::run(args);
  }

  testing::TempDir dir_;
  ServerHarness server_{dir_ / "server", 0, [](server::Config& c) { c.forms_dir = FORMS_DIR; }};
  std::unique_ptr<TestDevice> x1_, x2_, sponsor_;
  std::string lan_, doubtful_, doubtful_survey_;
};

TEST_F(Reports, Form2OfADistrictIsPrintedAndWrittenAndTheWorkbookHoldsItsFigures) {
  auto table = admin(lan_, {"report", "form2", "--year", "2025", "--unit", "49-NTM"});
  ASSERT_EQ(table.exit_code, 0) << table.err;
  EXPECT_NE(table.out.find("Biểu số 2"), std::string::npos) << table.out;
  EXPECT_NE(table.out.find("Xã mẫu 01 (MẪU / SAMPLE)"), std::string::npos) << table.out;

  auto as_json = admin(lan_, {"report", "form2", "--year", "2025", "--unit", "49-NTM", "--format", "json"});
  ASSERT_EQ(as_json.exit_code, 0) << as_json.err;
  const auto report = json::parse(as_json.out);
  const auto& rows = report["sections"][0]["rows"];
  ASSERT_EQ(rows.size(), 3u) << rows.dump();  // MAU-X01, MAU-X02, the total
  EXPECT_EQ(rows[0][2], "MAU-X01");
  EXPECT_EQ(rows[0][3], "Sở Y tế") << "the sponsor twinned with it";
  EXPECT_EQ(rows[0][4], "2025-01-15") << "the commune's plan";
  EXPECT_EQ(rows[0][11], 6);
  EXPECT_EQ(rows[1][11], 2) << "the rejected result (100 households) does not count";
  EXPECT_EQ(rows[2][11], 8);
  EXPECT_EQ(rows[2][12], 34'000'000);
  EXPECT_EQ(rows[0][9], 2) << "two surveys dated 2025 (the one of 2024 is not counted)";
  EXPECT_EQ(rows[0][10], 1) << "one of them poor";
  EXPECT_EQ(rows[1][9], 1) << "the rejected survey does not count";
  EXPECT_EQ(rows[2][9], 3);
  EXPECT_EQ(rows[2][10], 2);

  const auto xlsx = (dir_ / "bieu2.xlsx").string();
  auto wrote =
      admin(lan_, {"report", "form2", "--year", "2025", "--unit", "49-NTM", "--format", "xlsx", "--out", xlsx});
  ASSERT_EQ(wrote.exit_code, 0) << wrote.err;
  auto strings = testing::run({"/usr/bin/unzip", "-p", xlsx, "xl/sharedStrings.xml"});
  auto cells = testing::run({"/usr/bin/unzip", "-p", xlsx, "xl/worksheets/sheet1.xml"});
  auto book = testing::run({"/usr/bin/unzip", "-p", xlsx, "xl/workbook.xml"});
  ASSERT_EQ(cells.exit_code, 0) << cells.err;
  EXPECT_NE(strings.out.find("Số hộ nghèo được giúp đỡ / Poor households helped"), std::string::npos);
  EXPECT_NE(strings.out.find("Xã mẫu 02 (MẪU / SAMPLE)"), std::string::npos);
  EXPECT_NE(book.out.find("Tổng hợp theo xã"), std::string::npos) << "worksheets named in Vietnamese: " << book.out;
  EXPECT_NE(cells.out.find("<v>6</v>"), std::string::npos) << cells.out;
  EXPECT_NE(cells.out.find("<v>8</v>"), std::string::npos);
  EXPECT_NE(cells.out.find("<v>34000000</v>"), std::string::npos) << "money as a number";
  EXPECT_EQ(cells.out.find("<v>100</v>"), std::string::npos) << "no rejected figure anywhere";

  auto csv = admin(lan_, {"report", "form2", "--year", "2025", "--unit", "49-NTM", "--format", "csv"});
  ASSERT_EQ(csv.exit_code, 0) << csv.err;
  EXPECT_EQ(csv.out.rfind("\xEF\xBB\xBF"
                          "\"Biểu số 2",  // quoted: the English title has a comma
                          0),
            0u)
      << csv.out.substr(0, 200);
  EXPECT_NE(csv.out.find("Nam Trà My,Cộng / Total,49-NTM,,,,0,0,,3,2,8,34000000,0,1,0,,0\r\n"), std::string::npos)
      << csv.out;
}

TEST_F(Reports, TargetsGradeTheSponsorAndFollowTheReadersGrants) {
  auto as_json = admin(lan_, {"report", "targets", "--year", "2025", "--format", "json"});
  ASSERT_EQ(as_json.exit_code, 0) << as_json.err;
  const auto report = json::parse(as_json.out);
  const json* sponsor = nullptr;
  for (const auto& a : report["assessments"]) {
    if (a["subject"] == "sponsor") sponsor = &a;
  }
  ASSERT_NE(sponsor, nullptr) << report.dump();
  // 8 households against 45 x 2 / 10 = 9; a model in MAU-X01 and none in MAU-X02; a plan with
  // MAU-X01 in time and none with MAU-X02; support delivered; no year-end report: weak, for the
  // missing report.
  std::map<std::string, bool> met;
  for (const auto& c : (*sponsor)["checks"]) met[c["id"]] = c["met"];
  EXPECT_EQ(met, (std::map<std::string, bool>{{"households", false},
                                              {"models:MAU-X01", true},
                                              {"models:MAU-X02", false},
                                              {"plan:MAU-X01", true},
                                              {"plan:MAU-X02", false},
                                              {"results", true},
                                              {"report", false},
                                              {"assessment", false}}));
  EXPECT_EQ((*sponsor)["grade"], "weak");
  EXPECT_NE((*sponsor)["grade_reason"]["vi"].get<std::string>().find("không có báo cáo"), std::string::npos)
      << (*sponsor)["grade_reason"]["vi"];

  // A commune's field worker sees only what its grants let it read: MAU-X02's figures alone.
  auto hoa = admin(x2_->token(), {"report", "form2", "--year", "2025", "--format", "json"});
  ASSERT_EQ(hoa.exit_code, 0) << hoa.err;
  const auto seen = json::parse(hoa.out)["sections"][0]["rows"];
  ASSERT_FALSE(seen.empty());
  EXPECT_EQ(seen.back()[11], 2) << seen.dump();

  // Clear refusals.
  EXPECT_NE(admin(lan_, {"report", "form2"}).exit_code, 0) << "--year is required";
  EXPECT_NE(admin(lan_, {"report", "form3", "--year", "2025"}).exit_code, 0);
  auto no_file = admin(lan_, {"report", "targets", "--year", "2025", "--format", "xlsx"});
  EXPECT_NE(no_file.exit_code, 0);
  EXPECT_NE(no_file.err.find("--out"), std::string::npos) << no_file.err;
  auto [status, body] =
      testing::httpCall(server_.port(), boost::beast::http::verb::get, lan_, "/api/reports/form2?year=twenty", "");
  EXPECT_EQ(status, 400u) << body;
}

// "Đôn đốc" (section VI.1): `communesync-admin report due --year Y` lists the units that have not yet
// met a deadline still to come, soonest first, so staff chase them before the date. The fixture's
// 2025: the sponsor signed with MAU-X01 on 10 March, not with MAU-X02; MAU-X01 has a plan (15 Jan);
// nobody sent a year-end report.
TEST_F(Reports, DueListsTheUnitsToChaseBeforeEachComingDeadline) {
  auto march = admin(lan_, {"report", "due", "--year", "2025", "--today", "2025-03-20", "--format", "json"});
  ASSERT_EQ(march.exit_code, 0) << march.err;
  const auto report = json::parse(march.out);
  EXPECT_EQ(report["today"], "2025-03-20");
  const auto& rows = report["sections"][0]["rows"];
  std::vector<std::string> due;  // "unit id|deadline|days left"
  for (const auto& r : rows) {
    due.push_back(r[1].get<std::string>() + "|" + r[3].get<std::string>() + "|" + r[5].get<std::string>() + "|" +
                  std::to_string(r[6].get<int>()));
  }
  // The plan with MAU-X02 is due before 31 March (11 days); then every year-end report and its
  // assessment by 30 November. MAU-X02's needs (28 February) have passed: not a reminder any more.
  ASSERT_FALSE(due.empty());
  EXPECT_NE(due.front().find("2025-03-31|11"), std::string::npos) << due.front();
  EXPECT_NE(due.front().find("Ký kế hoạch với"), std::string::npos) << due.front();
  for (const auto& d : due) EXPECT_EQ(d.find("2025-02-28"), std::string::npos) << "past: " << d;
  std::size_t reports = 0;
  for (const auto& d : due) reports += d.find("Báo cáo năm nhập") != std::string::npos ? 1 : 0;
  EXPECT_GE(reports, 3u) << "the sponsor's, MAU-X01's and MAU-X02's year-end reports";

  // In December every deadline of 2025 is past: nothing to chase.
  auto december = admin(lan_, {"report", "due", "--year", "2025", "--today", "2025-12-05", "--format", "json"});
  ASSERT_EQ(december.exit_code, 0) << december.err;
  EXPECT_TRUE(json::parse(december.out)["sections"][0]["rows"].empty());
  // As a table, for a person; a malformed day is refused with a message.
  auto table = admin(lan_, {"report", "due", "--year", "2025", "--today", "2025-03-20"});
  EXPECT_NE(table.out.find("Đơn vị cần đôn đốc trước hạn"), std::string::npos) << table.out;
  auto bad = admin(lan_, {"report", "due", "--year", "2025", "--today", "20/03/2025"});
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_NE(bad.err.find("YYYY-MM-DD"), std::string::npos) << bad.err;
}

// Section IV.1: "hoàn thành xuất sắc" needs every target met "và có các yếu tố tích cực khác", which
// only the Committee judges. A reconciler records the Committee's grade and why; the reports show it
// beside the software's proposal (which never says excellent); the audit log keeps who did it.
TEST_F(Reports, TheCommitteesGradeIsRecordedAndShownBesideTheProposal) {
  auto before = json::parse(admin(lan_, {"report", "targets", "--year", "2025", "--format", "json"}).out);
  std::string sponsor_id;
  for (const auto& a : before["assessments"]) {
    if (a["subject"] == "sponsor") sponsor_id = a["id"];
  }
  ASSERT_FALSE(sponsor_id.empty());
  const auto post = [&](const std::string& token, const json& body) {
    return testing::httpCall(server_.port(), boost::beast::http::verb::post, token, "/api/grades", body.dump());
  };
  const std::string why = "Hỗ trợ vượt chỉ tiêu, có mô hình nhân rộng được khen (Quyết định 45/QĐ-UBND)";
  auto [status, body] = post(lan_, {{"year", 2025}, {"subject", sponsor_id}, {"grade", "excellent"}, {"reason", why}});
  ASSERT_EQ(status, 200u) << body;
  EXPECT_EQ(json::parse(body)["grade"]["by"], "lan");

  const auto report = json::parse(admin(lan_, {"report", "targets", "--year", "2025", "--format", "json"}).out);
  for (const auto& a : report["assessments"]) {
    if (a["id"] != sponsor_id) {
      EXPECT_TRUE(a["committee"].is_null()) << a["id"];
      continue;
    }
    EXPECT_EQ(a["grade"], "weak") << "the proposal from the figures is unchanged";
    EXPECT_EQ(a["committee"]["grade"], "excellent");
    EXPECT_EQ(a["committee"]["reason"], why);
  }
  auto csv = admin(lan_, {"report", "targets", "--year", "2025", "--format", "csv"});
  EXPECT_NE(csv.out.find("Xếp loại của UBND tỉnh"), std::string::npos) << csv.out.substr(0, 600);
  EXPECT_NE(csv.out.find("Hoàn thành xuất sắc / Excellent"), std::string::npos);
  // Another year keeps its own: none recorded for 2024.
  const auto other = json::parse(admin(lan_, {"report", "targets", "--year", "2024", "--format", "json"}).out);
  for (const auto& a : other["assessments"]) EXPECT_TRUE(a["committee"].is_null());

  // Refusals: a field worker may not; a grade not of the five; no reason; a subject unknown.
  EXPECT_EQ(post(x1_->token(), {{"year", 2025}, {"subject", "MAU-X01"}, {"grade", "good"}, {"reason", "x"}}).first,
            403u);
  EXPECT_EQ(post(lan_, {{"year", 2025}, {"subject", sponsor_id}, {"grade", "very good"}, {"reason", "x"}}).first, 400u);
  EXPECT_EQ(post(lan_, {{"year", 2025}, {"subject", sponsor_id}, {"grade", "good"}}).first, 400u);
  EXPECT_EQ(post(lan_, {{"year", 2025}, {"subject", "NO-SUCH"}, {"grade", "good"}, {"reason", "x"}}).first, 404u);
  // A commune by its code works too, and the audit log says who recorded what.
  EXPECT_EQ(post(lan_, {{"year", 2025}, {"subject", "MAU-X01"}, {"grade", "good"}, {"reason", "Đạt"}}).first, 200u);
  auto [audit_status, audit] = testing::httpCall(server_.port(), boost::beast::http::verb::get, server_.adminToken(),
                                                 "/admin/audit?limit=1000", "");
  ASSERT_EQ(audit_status, 200u);
  std::size_t recorded = 0;
  const auto log = json::parse(audit);  // kept alive: iterating a temporary's member dangles
  for (const auto& e : log["entries"]) {
    if (e.value("action", "") == "committee_grade") ++recorded;
  }
  EXPECT_EQ(recorded, 2u) << audit;
}

}  // namespace
}  // namespace communesync

namespace communesync {
namespace {

// The domain issue's points 10, 12 and 13 end to end. The sponsor records, on its device, the
// Committee's decision twinning it with MAU-X01 alone from 2025 and its staff of 2025 (60: "bình
// quân 10 biên chế ... 02 hộ" -> 12 households); the admin merges MAU-X02 into MAU-X01 on 1 July
// 2025; the admin tool lists the twinned pairs and the 2024-2025 review.
TEST_F(Reports, DatedAssignmentsMergesThePairsAndTheReviewFromTheAdminTool) {
  sponsor_->put("twinning_assignment", "",
                {{"don_vi_ket_nghia", Value("Sở Y tế")},
                 {"dia_ban_ket_nghia", Value("MAU-X01")},
                 {"tu_ngay", Value("2025-01-01")},
                 {"so_quyet_dinh", Value("15/QĐ-UBND")},
                 {"ngay_quyet_dinh", Value("2024-12-20")}},
                "49");
  sponsor_->put("sponsor_staff", "",
                {{"don_vi_ket_nghia", Value("Sở Y tế")}, {"nam", Value(2025)}, {"bien_che", Value(60)}}, "49");
  ASSERT_OK(sponsor_->sync(server_.url()).status);

  auto pairs = admin(lan_, {"report", "twinning", "--year", "2025", "--format", "json"});
  ASSERT_EQ(pairs.exit_code, 0) << pairs.err;
  const auto rows = json::parse(pairs.out)["sections"][0]["rows"];
  ASSERT_EQ(rows.size(), 1u) << rows.dump();
  EXPECT_EQ(rows[0][3], 60);
  EXPECT_EQ(rows[0][4], "MAU-X01");
  EXPECT_EQ(rows[0][9], "15/QĐ-UBND");
  auto table = admin(lan_, {"report", "twinning", "--year", "2025"});
  ASSERT_EQ(table.exit_code, 0) << table.err;
  EXPECT_NE(table.out.find("Danh sách các cặp kết nghĩa"), std::string::npos) << table.out;

  // Targets read the assignment and the year's staff, not the record's "MAU-X01, MAU-X02" and 45.
  const auto targets = json::parse(admin(lan_, {"report", "targets", "--year", "2025", "--format", "json"}).out);
  std::map<std::string, json> checks;
  for (const auto& a : targets["assessments"]) {
    if (a["subject"] != "sponsor") continue;
    for (const auto& c : a["checks"]) checks[c["id"]] = c;
  }
  EXPECT_EQ(checks.count("plan:MAU-X02"), 0u);
  EXPECT_EQ(checks["households"]["required"], 12.0);

  // The merge, dated; the units list shows it; Form 2 of 2025 counts MAU-X02's results under MAU-X01.
  auto merged = admin(server_.adminToken(), {"units", "merge", "MAU-X02", "--into", "MAU-X01", "--on", "2025-07-01"});
  ASSERT_EQ(merged.exit_code, 0) << merged.err;
  EXPECT_NE(merged.out.find("2025-07-01"), std::string::npos) << merged.out;
  auto bad_day = admin(server_.adminToken(), {"units", "merge", "MAU-X02", "--into", "MAU-X01", "--on", "1/7/2025"});
  EXPECT_NE(bad_day.exit_code, 0);
  EXPECT_NE(bad_day.err.find("YYYY-MM-DD"), std::string::npos) << "a day that is not YYYY-MM-DD: " << bad_day.err;
  auto listed = admin(server_.adminToken(), {"units", "list"});
  EXPECT_NE(listed.out.find("(merged into MAU-X01 on 2025-07-01)"), std::string::npos) << listed.out;
  const auto form2 = json::parse(admin(lan_, {"report", "form2", "--year", "2025", "--format", "json"}).out);
  const auto communes = form2["sections"][0]["rows"];
  ASSERT_EQ(communes.size(), 2u) << communes.dump();  // MAU-X01 and the district's total
  EXPECT_EQ(communes[0][2], "MAU-X01");
  EXPECT_EQ(communes[0][11], 8) << "6 in MAU-X01 + 2 in MAU-X02 (the rejected 100 not counted)";

  // The review of 2024-2025, and its refusals.
  auto review = admin(lan_, {"report", "review", "--from", "2024", "--to", "2025", "--format", "json"});
  ASSERT_EQ(review.exit_code, 0) << review.err;
  const auto reviewed = json::parse(review.out);
  EXPECT_EQ(reviewed["from"], 2024);
  const auto& sponsors = reviewed["sections"][0]["rows"];
  ASSERT_FALSE(sponsors.empty());
  EXPECT_EQ(sponsors.back()[2], "Cộng 2024–2025");
  EXPECT_EQ(sponsors.back()[3], 8);
  auto no_range = admin(lan_, {"report", "review", "--year", "2025"});
  EXPECT_NE(no_range.exit_code, 0);
  EXPECT_NE(no_range.err.find("--from"), std::string::npos) << no_range.err;
  auto [status, body] = testing::httpCall(server_.port(), boost::beast::http::verb::get, lan_,
                                          "/api/reports/review?from=2010&to=2025", "");
  EXPECT_EQ(status, 400u) << "more than ten years: " << body;
}

}  // namespace
}  // namespace communesync
