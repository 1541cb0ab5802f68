// Targets and grades (Decision 1100/QĐ-UBND, section III.2 and IV): what each sponsor, mountainous
// district and commune had to do in the year, whether it did, and the grade that follows.
#include <algorithm>
#include <cmath>

#include "programme/facts.hpp"

namespace communesync::server {
namespace {

using programme::Facts;
using programme::Sponsor;

std::string number(double value) {
  // Whole figures print without decimals; money gets thousands separators as Vietnamese write them.
  auto whole = static_cast<std::int64_t>(std::llround(value));
  std::string digits = std::to_string(whole < 0 ? -whole : whole);
  std::string out;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += '.';
    out += digits[i];
  }
  return (whole < 0 ? "-" : "") + out;
}

// A figure against its target: "5/6 ... (thiếu 1)" or "12/10 ...".
TargetCheck figure(std::string id, Bilingual label, double actual, double required, const Bilingual& unit_words) {
  TargetCheck c{std::move(id), std::move(label), actual, required, actual >= required, {}, {}};
  const auto head_vi = number(actual) + "/" + number(required) + " " + unit_words.vi;
  const auto head_en = number(actual) + " of " + number(required) + " " + unit_words.en;
  if (c.met) {
    c.reason = {"Đạt: " + head_vi, "Met: " + head_en};
  } else {
    c.reason = {"Chưa đạt: " + head_vi + " (thiếu " + number(required - actual) + ")",
                "Missed: " + head_en + " (" + number(required - actual) + " short)"};
  }
  return c;
}

TargetCheck yesNo(std::string id, Bilingual label, bool met, Bilingual reason) {
  return TargetCheck{std::move(id), std::move(label), std::nullopt, std::nullopt, met, std::move(reason), {}};
}

TargetCheck planCheck(const Facts& facts, const Sponsor& sponsor, const std::string& commune) {
  const auto deadline = facts.rules().plan_signed_before.in(facts.rules().year);
  const auto where_vi = commune.empty() ? std::string() : " với " + facts.unitName(commune);
  const auto where_en = commune.empty() ? std::string() : " with " + facts.unitName(commune);
  const Bilingual label{"Ký kế hoạch" + where_vi + " trước " + programme::dayMonth(deadline),
                        "Plan signed" + where_en + " before " + deadline.substr(5)};
  const auto signed_on = programme::earliestDate(facts.ofSponsor(kPlanForm, sponsor, commune), "ngay_ky");
  const auto id = commune.empty() ? std::string("plan") : "plan:" + commune;
  if (signed_on.empty()) {
    return yesNo(id, label, false, {"Chưa có kế hoạch ký kết" + where_vi, "No signed plan" + where_en});
  }
  if (signed_on < deadline) {
    return yesNo(id, label, true, {"Ký ngày " + signed_on + ", đúng hạn", "Signed " + signed_on + ", in time"});
  }
  return yesNo(id, label, false,
               {"Ký ngày " + signed_on + ", sau hạn " + programme::dayMonth(deadline),
                "Signed " + signed_on + ", after the deadline " + deadline});
}

// The year-end report, received in the window: sponsors, districts and communes alike ("quá thời
// hạn ... xem như đơn vị không triển khai", the 2021 letter, addressed to all of them).
TargetCheck reportCheck(const Facts& facts, const std::vector<const sync::Record*>& reports) {
  const auto& rules = facts.rules();
  const auto from = rules.report_window_from.in(rules.year);
  const auto to = rules.report_window_to.in(rules.year);
  std::optional<std::string> first;
  bool inside = false;
  for (const auto* r : reports) {
    const auto day = facts.receivedDate(*r).value_or("");
    if (!first || day < *first) first = day;
    inside = inside || programme::inReportWindow(rules, day);
  }
  const Bilingual label{"Báo cáo năm nhập từ " + programme::dayMonth(from) + " đến " + programme::dayMonth(to),
                        "Year-end report entered " + from.substr(5) + " to " + to.substr(5)};
  if (!first) return yesNo("report", label, false, {"Chưa có báo cáo năm", "No year-end report"});
  if (inside) {
    return yesNo("report", label, true, {"Nhận ngày " + *first + ", trong thời gian nhập", "Received " + *first});
  }
  return yesNo("report", label, false,
               {"Nhận ngày " + *first + ", ngoài thời gian nhập: xem như không thực hiện",
                "Received " + *first + ", outside the window: counts as not carried out"});
}

// "Trước 28/02 hằng năm, 100% huyện, xã có kế hoạch hoặc báo cáo đề xuất nhu cầu": the unit's
// plan, or a needs proposal (its own, or for a district one of its communes'), each judged by
// programme::proposalInTime, the rule Form 2's "in time" column shows too.
// "Cuối năm có báo cáo ... và nhận xét đánh giá" of the other side (III.2.1c for the communes and
// districts, of their sponsors; III.2.2c for the sponsors, of their communes): a year-end report
// of the year with `nhan_xet_danh_gia` written.
TargetCheck assessmentCheck(const std::vector<const sync::Record*>& reports, bool sponsor) {
  const Bilingual label{
      sponsor ? "Nhận xét đánh giá địa phương được nhận kết nghĩa" : "Nhận xét đánh giá cơ quan, đơn vị nhận kết nghĩa",
      sponsor ? "Assessment of the twinned communes" : "Assessment of the sponsors"};
  for (const auto* r : reports) {
    if (!programme::textField(*r, "nhan_xet_danh_gia").empty()) {
      return yesNo("assessment", label, true, {"Có trong báo cáo năm", "In the year-end report"});
    }
  }
  return yesNo("assessment", label, false,
               {reports.empty() ? "Chưa có báo cáo năm" : "Báo cáo năm chưa có nhận xét đánh giá",
                reports.empty() ? "No year-end report" : "The year-end report has no assessment"});
}

// The year-end report and the assessment in it, both due by the window's last day; whether the
// report arrived in time (what section IV.2 asks).
bool addReportChecks(Assessment& a, const Facts& facts, const std::vector<const sync::Record*>& reports, bool sponsor) {
  const auto& rules = facts.rules();
  a.checks.push_back(reportCheck(facts, reports));
  const bool in_time = a.checks.back().met;
  a.checks.push_back(assessmentCheck(reports, sponsor));
  for (auto it = a.checks.end() - 2; it != a.checks.end(); ++it) it->deadline = rules.report_window_to.in(rules.year);
  return in_time;
}

TargetCheck needsCheck(const Facts& facts, const std::string& unit, const MonthDay& before) {
  const auto deadline = before.in(facts.rules().year);
  const Bilingual label{"Có kế hoạch hoặc đề xuất nhu cầu trước " + programme::dayMonth(deadline),
                        "A plan or needs proposals before " + deadline.substr(5)};
  const auto* setup = facts.setupOf(unit);
  const auto plan_day = setup == nullptr ? std::string() : programme::textField(*setup, "ngay_ke_hoach");
  const auto proposals = facts.ofUnit(kProposalForm, unit);
  std::size_t on_time = 0;
  std::string first;
  for (const auto* p : proposals) {
    const auto day = facts.receivedDate(*p).value_or("");
    if (programme::proposalInTime(facts, *p)) ++on_time;
    if (first.empty() || day < first) first = day;
  }
  if (!plan_day.empty() && plan_day < deadline) {
    return yesNo("needs", label, true, {"Có kế hoạch ngày " + plan_day, "Plan of " + plan_day});
  }
  if (proposals.empty()) {
    return yesNo("needs", label, false, {"Chưa có kế hoạch, chưa gửi đề xuất nhu cầu", "No plan, no needs proposal"});
  }
  if (on_time > 0) {
    return yesNo("needs", label, true,
                 {std::to_string(on_time) + "/" + std::to_string(proposals.size()) + " đề xuất nhận trước hạn",
                  std::to_string(on_time) + " of " + std::to_string(proposals.size()) + " proposals in time"});
  }
  return yesNo("needs", label, false,
               {"Đề xuất đầu tiên nhận ngày " + first + ", sau hạn", "First proposal received " + first + ", late"});
}

// What makes a unit "criticised, not considered for awards" whatever its figures (section IV.2:
// "không có chương trình, kế hoạch ký kết thực hiện hoặc có ký kết nhưng không thực hiện, không
// có báo cáo"): each that applies, in words.
struct Failings {
  bool no_plan = false;
  bool no_result = false;  //!< signed but delivered nothing (sponsors)
  bool no_report = false;
};

// The software's proposal of a grade from the figures (section IV.1 leaves the rest to judgement):
// every target met -> good, the most figures can show ("xuất sắc" needs "các yếu tố tích cực khác",
// which only the Committee judges; its grade is recorded beside this one); a failing of IV.2 ->
// weak; otherwise one target missed -> fair, at least half met -> average, fewer -> weak.
void grade(Assessment& a, const Failings& failings) {
  const auto met =
      static_cast<std::size_t>(std::count_if(a.checks.begin(), a.checks.end(), [](const auto& c) { return c.met; }));
  const auto total = a.checks.size();
  std::vector<std::string> missed_vi, missed_en;
  for (const auto& c : a.checks) {
    if (!c.met) {
      missed_vi.push_back(c.label.vi);
      missed_en.push_back(c.label.en);
    }
  }
  auto joined = [](const std::vector<std::string>& parts) {
    std::string out;
    for (const auto& p : parts) out += (out.empty() ? "" : "; ") + p;
    return out;
  };
  const auto tally_vi = "Đạt " + std::to_string(met) + "/" + std::to_string(total) + " chỉ tiêu";
  const auto tally_en = std::to_string(met) + " of " + std::to_string(total) + " targets met";
  std::vector<std::string> why_vi, why_en;
  if (failings.no_plan) {
    why_vi.emplace_back("không có kế hoạch ký kết");
    why_en.emplace_back("no signed plan");
  }
  if (failings.no_result) {
    why_vi.emplace_back("có ký kết nhưng không thực hiện (không có kết quả hỗ trợ trong năm)");
    why_en.emplace_back("signed but not carried out (no support delivered in the year)");
  }
  if (failings.no_report) {
    why_vi.emplace_back("không có báo cáo đúng hạn");
    why_en.emplace_back("no year-end report in time");
  }
  if (!why_vi.empty()) {
    a.grade = Grade::kWeak;
    a.grade_reason = {
        "Yếu: " + joined(why_vi) + " (mục IV.2: kiểm điểm, phê bình, không xét thi đua). " + tally_vi,
        "Weak: " + joined(why_en) + " (section IV.2: criticised, not considered for awards). " + tally_en};
    return;
  }
  if (met == total) {
    a.grade = Grade::kGood;
    a.grade_reason = {tally_vi + " (xếp loại xuất sắc do UBND tỉnh xét thêm các yếu tố tích cực khác)",
                      tally_en + " (excellent is the Committee's to give, on other positive factors)"};
    return;
  }
  a.grade = total - met == 1 ? Grade::kFair : 2 * met >= total ? Grade::kAverage : Grade::kWeak;
  a.grade_reason = {tally_vi + "; chưa đạt: " + joined(missed_vi) + " (đề xuất của phần mềm)",
                    tally_en + "; missed: " + joined(missed_en) + " (the software's proposal)"};
}

Assessment assessSponsor(const Facts& facts, const Sponsor& s) {
  const auto& rules = facts.rules();
  Assessment a{"sponsor", s.id, s.name, s.kind, {}, Grade::kWeak, {}, std::nullopt};
  const bool department = s.kind == "so_nganh";
  const bool lowland = s.kind == "huyen_dong_bang";
  std::int64_t households = 0;
  std::int64_t money = 0;
  const auto results = facts.ofSponsor(kResultForm, s);
  for (const auto* r : results) {
    households += programme::wholeField(*r, "so_ho_ngheo_duoc_giup");
    money += programme::wholeField(*r, "gia_tri_tien_mat") + programme::wholeField(*r, "gia_tri_hien_vat");
  }
  const Bilingual households_words{"hộ nghèo", "poor households"};
  if (department) {
    // "Bình quân 10 biên chế, nhận giúp đỡ ít nhất 02 hộ nghèo/năm": an average, staff x 2 / 10,
    // rounded to the nearest whole household, a half up (45 -> 9; 44 -> 8.8 -> 9).
    const auto required = programme::householdsOwed(s.staff, rules);
    a.checks.push_back(figure(
        "households",
        {"Giúp đỡ hộ nghèo (" + std::to_string(rules.department_households_per_block) + " hộ/" +
             std::to_string(rules.department_staff_block) + " biên chế; " + std::to_string(s.staff) + " biên chế)",
         "Poor households helped (" + std::to_string(rules.department_households_per_block) + " per " +
             std::to_string(rules.department_staff_block) + " staff; " + std::to_string(s.staff) + " staff)"},
        static_cast<double>(households), static_cast<double>(required), households_words));
  }
  if (lowland) {
    a.checks.push_back(figure("households", {"Giúp đỡ hộ nghèo", "Poor households helped"},
                              static_cast<double>(households), rules.lowland_households, households_words));
    a.checks.push_back(figure("money", {"Giá trị hỗ trợ (tiền và hiện vật)", "Support value (money and in kind)"},
                              static_cast<double>(money), static_cast<double>(rules.lowland_money_vnd),
                              {"đồng", "VND"}));
  }
  const int models_required = department ? rules.department_models_per_commune
                              : lowland  ? rules.lowland_models_per_commune
                                         : 0;
  bool has_plan = false;
  // Each commune twinned in the year, or a whole district (the decision's title, III.2.2a: its
  // plan and models are those anywhere in it, asked once for it).
  const auto places = s.twinned.empty() ? std::vector<std::string>{std::string()} : s.twinned;
  for (const auto& commune : places) {
    if (models_required > 0 && !commune.empty()) {
      std::int64_t models = 0;
      for (const auto* r : facts.ofSponsor(kResultForm, s, commune)) {
        models += programme::modelsOf(*r);
      }
      // "xây dựng, củng cố hoặc nhân rộng ít nhất 01 mô hình/xã/năm": all three count.
      a.checks.push_back(figure("models:" + commune,
                                {"Mô hình xây dựng, củng cố, nhân rộng tại " + facts.unitName(commune),
                                 "Models set up, consolidated or replicated in " + facts.unitName(commune)},
                                static_cast<double>(models), models_required, {"mô hình", "models"}));
    }
    auto plan = planCheck(facts, s, commune);
    plan.deadline = rules.plan_signed_before.in(rules.year);
    has_plan = has_plan || !facts.ofSponsor(kPlanForm, s, commune).empty();
    a.checks.push_back(std::move(plan));
  }
  // Whatever its kind, a sponsor owes support: a year with none is "có ký kết nhưng không thực hiện".
  a.checks.push_back(results.empty()
                         ? yesNo("results", {"Có kết quả hỗ trợ trong năm", "Support delivered in the year"}, false,
                                 {"Không có kết quả hỗ trợ nào trong năm", "No support result in the year"})
                         : yesNo("results", {"Có kết quả hỗ trợ trong năm", "Support delivered in the year"}, true,
                                 {std::to_string(results.size()) + " kết quả hỗ trợ",
                                  std::to_string(results.size()) + " support results"}));
  const auto reports = facts.ofSponsor(kAnnualReportForm, s);
  const bool has_report = addReportChecks(a, facts, reports, true);
  grade(a, Failings{!has_plan, results.empty(), !has_report});
  return a;
}

Assessment assessLocal(const Facts& facts, const std::string& code, bool district) {
  const auto& rules = facts.rules();
  Assessment a{district ? "district" : "commune",
               code,
               facts.unitName(code),
               district ? "district" : "commune",
               {},
               Grade::kWeak,
               {},
               std::nullopt};
  const auto* setup = facts.setupOf(code);
  const auto plan_day = setup == nullptr ? std::string() : programme::textField(*setup, "ngay_ke_hoach");
  const Bilingual plan_label{district ? "Có kế hoạch triển khai trên địa bàn huyện" : "Có kế hoạch triển khai của xã",
                             district ? "District plan issued" : "Commune plan issued"};
  a.checks.push_back(plan_day.empty()
                         ? yesNo("local_plan", plan_label, false, {"Chưa có kế hoạch", "No plan"})
                         : yesNo("local_plan", plan_label, true, {"Ban hành ngày " + plan_day, "Issued " + plan_day}));
  if (district) {
    const bool assigned = setup != nullptr && programme::yesField(*setup, "to_cong_tac");
    a.checks.push_back(yesNo(
        "working_group", {"Có văn bản phân công theo dõi, chỉ đạo", "Duties assigned in writing"}, assigned,
        assigned ? Bilingual{"Đã phân công", "Assigned"} : Bilingual{"Chưa có văn bản phân công", "Not assigned"}));
  } else {
    const bool group = setup != nullptr && programme::yesField(*setup, "to_cong_tac");
    const bool rules_adopted = setup != nullptr && programme::yesField(*setup, "quy_che");
    a.checks.push_back(yesNo("working_group", {"Thành lập Tổ công tác có quy chế", "Working group with rules"},
                             group && rules_adopted,
                             group && rules_adopted ? Bilingual{"Đã thành lập, có quy chế", "Set up, with rules"}
                             : group ? Bilingual{"Đã thành lập, chưa có quy chế", "Set up, no rules"}
                                     : Bilingual{"Chưa thành lập", "Not set up"}));
  }
  const auto& needs_before = district ? rules.district_needs_before : rules.commune_needs_before;
  a.checks.push_back(needsCheck(facts, code, needs_before));
  a.checks.back().deadline = needs_before.in(rules.year);
  // A district's report is its own, at the district; a commune's may be entered at a village.
  std::vector<const sync::Record*> reports;
  for (const auto* r : facts.ofUnit(kAnnualReportForm, code)) {
    if (!district || r->scope == code) reports.push_back(r);
  }
  const bool has_report = addReportChecks(a, facts, reports, false);
  grade(a, Failings{plan_day.empty(), false, !has_report});
  return a;
}

}  // namespace

const char* gradeName(Grade grade) {
  switch (grade) {
    case Grade::kExcellent:
      return "excellent";
    case Grade::kGood:
      return "good";
    case Grade::kFair:
      return "fair";
    case Grade::kAverage:
      return "average";
    case Grade::kWeak:
      return "weak";
  }
  return "weak";
}

std::optional<Grade> gradeFromName(std::string_view name) {
  for (auto g : {Grade::kExcellent, Grade::kGood, Grade::kFair, Grade::kAverage, Grade::kWeak}) {
    if (name == gradeName(g)) return g;
  }
  return std::nullopt;
}

std::optional<CommitteeGrade> committeeGradeOf(const sync::Record& record) {
  if (record.key.collection != kCommitteeGrades || record.deleted()) return std::nullopt;
  auto grade = gradeFromName(programme::textField(record, "grade"));
  if (!grade) return std::nullopt;
  return CommitteeGrade{static_cast<int>(programme::wholeField(record, "year")),
                        programme::textField(record, "subject"),
                        *grade,
                        programme::textField(record, "reason"),
                        programme::textField(record, "by"),
                        programme::wholeField(record, "at_ms")};
}

Bilingual gradeLabel(Grade grade) {
  switch (grade) {
    case Grade::kExcellent:
      return {"Hoàn thành xuất sắc", "Excellent"};
    case Grade::kGood:
      return {"Tốt", "Good"};
    case Grade::kFair:
      return {"Khá", "Fair"};
    case Grade::kAverage:
      return {"Trung bình", "Average"};
    case Grade::kWeak:
      return {"Yếu", "Weak"};
  }
  return {"Yếu", "Weak"};
}

std::vector<Assessment> assessTargets(const ReportData& data, const ReportRules& rules, const std::string& unit) {
  const Facts facts(data, rules);
  std::vector<Assessment> out;
  for (const auto* s : facts.sponsorsFor(unit)) out.push_back(assessSponsor(facts, *s));
  for (const auto& d : facts.districts()) {
    if (facts.selects(unit, d)) out.push_back(assessLocal(facts, d, true));
  }
  for (const auto& c : facts.communes()) {
    if (facts.selects(unit, c)) out.push_back(assessLocal(facts, c, false));
  }
  // Beside each proposal, the Committee's grade of that year, when a reconciler recorded it.
  std::map<std::string, CommitteeGrade> decided;
  for (const auto& r : data.of(kCommitteeGrades)) {
    if (auto g = committeeGradeOf(r); g && g->year == rules.year) decided[g->subject] = *g;
  }
  for (auto& a : out) {
    if (auto it = decided.find(a.id); it != decided.end()) a.committee = it->second;
  }
  return out;
}

nlohmann::json assessmentToJson(const Assessment& a) {
  nlohmann::json checks = nlohmann::json::array();
  for (const auto& c : a.checks) {
    checks.push_back({{"id", c.id},
                      {"label", {{"vi", c.label.vi}, {"en", c.label.en}}},
                      {"actual", c.actual ? nlohmann::json(*c.actual) : nlohmann::json(nullptr)},
                      {"required", c.required ? nlohmann::json(*c.required) : nlohmann::json(nullptr)},
                      {"met", c.met},
                      {"reason", {{"vi", c.reason.vi}, {"en", c.reason.en}}}});
  }
  const auto label = gradeLabel(a.grade);
  return {{"subject", a.subject},
          {"id", a.id},
          {"name", a.name},
          {"kind", a.kind},
          {"checks", checks},
          {"grade", gradeName(a.grade)},
          {"grade_label", {{"vi", label.vi}, {"en", label.en}}},
          {"grade_reason", {{"vi", a.grade_reason.vi}, {"en", a.grade_reason.en}}},
          {"committee", a.committee ? committeeGradeToJson(*a.committee) : nlohmann::json(nullptr)}};
}

nlohmann::json committeeGradeToJson(const CommitteeGrade& g) {
  const auto label = gradeLabel(g.grade);
  return {{"year", g.year},
          {"subject", g.subject},
          {"grade", gradeName(g.grade)},
          {"grade_label", {{"vi", label.vi}, {"en", label.en}}},
          {"reason", g.reason},
          {"by", g.by},
          {"at_ms", g.at_ms}};
}

}  // namespace communesync::server
