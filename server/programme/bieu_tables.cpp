// The reports as tables: targets and grades, Form 1 (Biểu số 1, a sponsor's report) and Form 2
// (Biểu số 2, a mountainous district's report compiled from its communes), each with the lists of
// records behind its figures, in the one shape of every table (report_table.hpp).
#include <algorithm>

#include "programme/report_table.hpp"

namespace communesync::server {
namespace {

using nlohmann::json;
using programme::Column;
using programme::Delivered;
using programme::Facts;
using programme::orNull;
using programme::report;
using programme::section;
using programme::textField;
using programme::wholeField;

std::string joinedCodes(const std::vector<std::string>& codes) {
  std::string out;
  for (const auto& c : codes) out += (out.empty() ? "" : ", ") + c;
  return out;
}

// The targets of every assessment, one row per target, then one row per grade.
json targetsSection(const std::vector<Assessment>& assessments) {
  json rows = json::array();
  for (const auto& a : assessments) {
    for (const auto& c : a.checks) {
      rows.push_back({a.name, a.id, c.label.vi, c.actual ? json(*c.actual) : json(nullptr),
                      c.required ? json(*c.required) : json(nullptr), c.met, c.reason.vi});
    }
  }
  return section("targets", {"Chỉ tiêu", "Targets"},
                 {{"unit", "Đơn vị", "Unit"},
                  {"id", "Mã", "Id"},
                  {"target", "Chỉ tiêu", "Target"},
                  {"actual", "Thực hiện", "Actual"},
                  {"required", "Chỉ tiêu giao", "Required"},
                  {"met", "Đạt", "Met"},
                  {"reason", "Lý do", "Reason"}},
                 rows);
}

json gradesSection(const std::vector<Assessment>& assessments) {
  json rows = json::array();
  for (const auto& a : assessments) {
    const auto label = gradeLabel(a.grade);
    const auto met = std::count_if(a.checks.begin(), a.checks.end(), [](const auto& c) { return c.met; });
    json decided = nullptr;
    json why = nullptr;
    if (a.committee) {
      const auto given = gradeLabel(a.committee->grade);
      decided = given.vi + " / " + given.en;
      why = a.committee->reason;
    }
    rows.push_back({a.name, a.id, a.kind, static_cast<std::int64_t>(met), static_cast<std::int64_t>(a.checks.size()),
                    label.vi + " / " + label.en, a.grade_reason.vi, decided, why});
  }
  return section("grades", {"Xếp loại", "Grades"},
                 {{"unit", "Đơn vị", "Unit"},
                  {"id", "Mã", "Id"},
                  {"kind", "Loại", "Kind"},
                  {"met", "Số chỉ tiêu đạt", "Targets met"},
                  {"targets", "Số chỉ tiêu", "Targets"},
                  {"grade", "Xếp loại đề xuất (theo chỉ tiêu)", "Proposed grade (from the targets)"},
                  {"reason", "Lý do", "Reason"},
                  {"committee_grade", "Xếp loại của UBND tỉnh", "The Committee's grade"},
                  {"committee_reason", "Lý do của UBND tỉnh", "The Committee's reason"}},
                 rows);
}

// The year-end reports behind the "report" and "assessment" targets, with the assessment of the
// other side written in them ("nhận xét đánh giá", III.2.1c and III.2.2c).
json yearEndRow(const Facts& facts, const std::string& who, const sync::Record& r) {
  const auto received = facts.receivedDate(r).value_or("");
  return {who, r.key.id, orNull(received), programme::inReportWindow(facts.rules(), received),
          textField(r, "nhan_xet_danh_gia")};
}

json yearEndSection(json rows, const Column& who) {
  return section("year_end", {"Báo cáo năm và nhận xét đánh giá", "Year-end reports and assessments"},
                 {who,
                  {"record", "Mã bản ghi", "Record id"},
                  {"received", "Ngày nhận", "Received"},
                  {"in_window", "Trong thời gian nhập", "In the window"},
                  {"assessment", "Nhận xét, đánh giá bên kết nghĩa", "Assessment of the other side"}},
                 std::move(rows));
}

std::string kindsText(const sync::Record& r) {
  return joinedCodes(programme::codesField(r, "hinh_thuc_ho_tro"));
}

}  // namespace

json targetsReport(const ReportData& data, const ReportRules& rules, const std::string& unit) {
  const auto assessments = assessTargets(data, rules, unit);
  const Bilingual title{"Kết quả thực hiện chỉ tiêu kết nghĩa năm " + std::to_string(rules.year),
                        "Twinning targets, " + std::to_string(rules.year)};
  return report("targets", rules, unit, title, json::array({gradesSection(assessments), targetsSection(assessments)}),
                assessments);
}

json form1Report(const ReportData& data, const ReportRules& rules, const std::string& unit) {
  const Facts facts(data, rules);
  const auto sponsors = facts.sponsorsFor(unit);
  const auto deadline = rules.plan_signed_before.in(rules.year);
  json summary = json::array();
  json results = json::array();
  json plans = json::array();
  std::vector<Assessment> assessments;
  for (const auto* s : sponsors) {
    Delivered total;
    // The communes (or whole districts) twinned with the sponsor in the year, then any other
    // commune its records name; each record counts at one of them (Facts::placeOf).
    auto communes = s->twinned;
    for (const char* collection : {kResultForm, kPlanForm}) {
      for (const auto* r : facts.ofSponsor(collection, *s)) {
        const auto c = facts.placeOf(*s, r->scope);
        if (std::find(communes.begin(), communes.end(), c) == communes.end()) communes.push_back(c);
      }
    }
    for (const auto& commune : communes) {
      Delivered here;
      for (const auto* r : facts.ofSponsor(kResultForm, *s, commune)) here.add(*r);
      const auto commune_plans = facts.ofSponsor(kPlanForm, *s, commune);
      total.add(here);
      summary.push_back({s->name, commune.empty() ? "(chưa rõ xã / no commune)" : facts.unitName(commune), commune,
                         orNull(programme::earliestDate(commune_plans, "ngay_ky")), here.households, here.money,
                         here.in_kind, here.money + here.in_kind, here.models_new, here.models_replicated, here.trained,
                         here.models_consolidated, here.gifts});
    }
    summary.push_back({s->name, "Cộng / Total", "", nullptr, total.households, total.money, total.in_kind,
                       total.money + total.in_kind, total.models_new, total.models_replicated, total.trained,
                       total.models_consolidated, total.gifts});
    for (const auto* r : facts.ofSponsor(kResultForm, *s)) {
      results.push_back({s->name, facts.placeOf(*s, r->scope), r->key.id, kindsText(*r),
                         wholeField(*r, "so_ho_ngheo_duoc_giup"), wholeField(*r, "gia_tri_tien_mat"),
                         wholeField(*r, "gia_tri_hien_vat"), wholeField(*r, "so_mo_hinh_xay_dung"),
                         wholeField(*r, "so_mo_hinh_nhan_rong"), wholeField(*r, "so_luot_dao_tao"),
                         wholeField(*r, "so_mo_hinh_cung_co"), wholeField(*r, "gia_tri_qua_tang")});
    }
    for (const auto* r : facts.ofSponsor(kPlanForm, *s)) {
      const auto signed_on = textField(*r, "ngay_ky");
      plans.push_back({s->name, facts.placeOf(*s, r->scope), r->key.id, textField(*r, "noi_dung"),
                       wholeField(*r, "kinh_phi"), orNull(signed_on), !signed_on.empty() && signed_on < deadline});
    }
  }
  for (const auto& a : assessTargets(data, rules, unit)) {
    if (a.subject == "sponsor") assessments.push_back(a);
  }
  json sections = json::array();
  sections.push_back(section("communes", {"Kết quả theo xã kết nghĩa", "By twinned commune"},
                             {{"sponsor", "Đơn vị kết nghĩa", "Sponsor"},
                              {"commune_name", "Xã", "Commune"},
                              {"commune", "Mã xã", "Commune code"},
                              {"plan_signed", "Ngày ký kế hoạch", "Plan signed"},
                              {"households", "Số hộ nghèo được giúp đỡ", "Poor households helped"},
                              {"money", "Giá trị bằng tiền (đồng)", "Money (VND)"},
                              {"in_kind", "Giá trị hiện vật (đồng)", "In kind (VND)"},
                              {"total_value", "Tổng giá trị (đồng)", "Total value (VND)"},
                              {"models_new", "Mô hình xây dựng mới", "Models set up"},
                              {"models_replicated", "Mô hình nhân rộng", "Models replicated"},
                              {"trained", "Lượt người được đào tạo", "People trained"},
                              {"models_consolidated", "Mô hình củng cố", "Models consolidated"},
                              {"gifts", "Trong đó: quà tặng (đồng)", "Of which gifts (VND)"}},
                             summary));
  sections.push_back(gradesSection(assessments));
  sections.push_back(targetsSection(assessments));
  sections.push_back(section("results", {"Danh sách kết quả hỗ trợ", "Support results"},
                             {{"sponsor", "Đơn vị kết nghĩa", "Sponsor"},
                              {"commune", "Mã xã", "Commune code"},
                              {"record", "Mã bản ghi", "Record id"},
                              {"kinds", "Hình thức hỗ trợ", "Kind of support"},
                              {"households", "Số hộ nghèo được giúp đỡ", "Poor households helped"},
                              {"money", "Giá trị bằng tiền (đồng)", "Money (VND)"},
                              {"in_kind", "Giá trị hiện vật (đồng)", "In kind (VND)"},
                              {"models_new", "Mô hình xây dựng mới", "Models set up"},
                              {"models_replicated", "Mô hình nhân rộng", "Models replicated"},
                              {"trained", "Lượt người được đào tạo", "People trained"},
                              {"models_consolidated", "Mô hình củng cố", "Models consolidated"},
                              {"gifts", "Trong đó: quà tặng (đồng)", "Of which gifts (VND)"}},
                             results));
  sections.push_back(section("plans", {"Danh sách kế hoạch ký kết", "Signed plans"},
                             {{"sponsor", "Đơn vị kết nghĩa", "Sponsor"},
                              {"commune", "Mã xã", "Commune code"},
                              {"record", "Mã bản ghi", "Record id"},
                              {"content", "Nội dung", "Content"},
                              {"budget", "Kinh phí (đồng)", "Budget (VND)"},
                              {"signed", "Ngày ký", "Date signed"},
                              {"in_time", "Đúng hạn", "In time"}},
                             plans));
  json year_end = json::array();
  for (const auto* s : sponsors) {
    for (const auto* r : facts.ofSponsor(kAnnualReportForm, *s)) year_end.push_back(yearEndRow(facts, s->name, *r));
  }
  sections.push_back(yearEndSection(std::move(year_end), {"sponsor", "Đơn vị kết nghĩa", "Sponsor"}));
  const std::string who = sponsors.size() == 1 ? ": " + sponsors.front()->name : "";
  const Bilingual title{
      "Biểu số 1: Báo cáo kết quả thực hiện công tác kết nghĩa năm " + std::to_string(rules.year) + who,
      "Form 1: sponsor's twinning report, " + std::to_string(rules.year) + who};
  return report("form1", rules, unit, title, std::move(sections), assessments);
}

json form2Report(const ReportData& data, const ReportRules& rules, const std::string& unit) {
  const Facts facts(data, rules);
  json rows = json::array();
  json proposals = json::array();
  json results = json::array();
  std::vector<std::string> districts;
  // Form 2 is compiled by a district, or since July 2025 (no districts) by the province or city.
  for (const auto& d : facts.compilers()) {
    if (facts.selects(unit, d)) districts.push_back(d);
  }
  for (const auto& district : districts) {
    struct Totals {
      std::int64_t proposals = 0, proposal_cost = 0, surveyed = 0, poor = 0;
      Delivered delivered;
    } totals;
    for (const auto& commune : facts.communes()) {
      if (facts.compilerOf(commune) != district) continue;
      std::string sponsors;
      for (const auto& s : facts.sponsors()) {
        if (std::any_of(s.twinned.begin(), s.twinned.end(), [&](const auto& t) { return facts.covers(t, commune); })) {
          sponsors += (sponsors.empty() ? "" : "; ") + s.name;
        }
      }
      const auto* setup = facts.setupOf(commune);
      std::int64_t cost = 0;
      bool in_time = false;
      const auto needs = facts.ofUnit(kProposalForm, commune);
      for (const auto* p : needs) {
        cost += wholeField(*p, "kinh_phi_du_kien");
        const auto received = facts.receivedDate(*p).value_or("");
        const bool early = programme::proposalInTime(facts, *p);
        in_time = in_time || early;
        proposals.push_back({district, commune, p->key.id, textField(*p, "linh_vuc"), textField(*p, "noi_dung"),
                             wholeField(*p, "so_ho_tham_gia"), wholeField(*p, "kinh_phi_du_kien"), orNull(received),
                             early});
      }
      const auto surveyed = facts.surveysIn(commune);
      Delivered delivered;
      for (const auto* r : facts.ofYear(kResultForm)) {
        if (facts.communeOf(r->scope) != commune) continue;
        delivered.add(*r);
        results.push_back({district, commune, textField(*r, "don_vi_ket_nghia"), r->key.id,
                           wholeField(*r, "so_ho_ngheo_duoc_giup"), wholeField(*r, "gia_tri_tien_mat"),
                           wholeField(*r, "gia_tri_hien_vat"), programme::modelsOf(*r)});
      }
      std::string report_received;
      for (const auto* r : facts.ofUnit(kAnnualReportForm, commune)) {
        const auto day = facts.receivedDate(*r).value_or("");
        if (report_received.empty() || day < report_received) report_received = day;
      }
      const auto plan_day = setup == nullptr ? std::string() : textField(*setup, "ngay_ke_hoach");
      const bool group = setup != nullptr && programme::yesField(*setup, "to_cong_tac");
      rows.push_back({facts.unitName(district), facts.unitName(commune), commune, sponsors, orNull(plan_day), group,
                      static_cast<std::int64_t>(needs.size()), cost, in_time, surveyed.surveyed, surveyed.poor,
                      delivered.households, delivered.money, delivered.in_kind, delivered.models(), delivered.trained,
                      orNull(report_received), delivered.gifts});
      totals.proposals += static_cast<std::int64_t>(needs.size());
      totals.proposal_cost += cost;
      totals.surveyed += surveyed.surveyed;
      totals.poor += surveyed.poor;
      totals.delivered.add(delivered);
    }
    // The district's own proposals (its compilation of its communes' needs), judged by its own day.
    for (const auto* p : facts.ofUnit(kProposalForm, district)) {
      if (!facts.communeOf(p->scope).empty()) continue;  // a commune's: listed above
      const auto received = facts.receivedDate(*p).value_or("");
      proposals.push_back({district, nullptr, p->key.id, textField(*p, "linh_vuc"), textField(*p, "noi_dung"),
                           wholeField(*p, "so_ho_tham_gia"), wholeField(*p, "kinh_phi_du_kien"), orNull(received),
                           programme::proposalInTime(facts, *p)});
    }
    const auto& t = totals.delivered;
    rows.push_back({facts.unitName(district), "Cộng / Total", district, nullptr, nullptr, nullptr, totals.proposals,
                    totals.proposal_cost, nullptr, totals.surveyed, totals.poor, t.households, t.money, t.in_kind,
                    t.models(), t.trained, nullptr, t.gifts});
  }
  std::vector<Assessment> assessments;
  for (const auto& a : assessTargets(data, rules, unit)) {
    if (a.subject != "sponsor") assessments.push_back(a);
  }
  json sections = json::array();
  sections.push_back(section("communes", {"Tổng hợp theo xã", "By commune"},
                             {{"district", "Huyện", "District"},
                              {"commune_name", "Xã", "Commune"},
                              {"commune", "Mã xã", "Commune code"},
                              {"sponsors", "Đơn vị kết nghĩa", "Sponsors"},
                              {"plan", "Ngày ban hành kế hoạch", "Plan issued"},
                              {"working_group", "Có Tổ công tác", "Working group"},
                              {"proposals", "Số đề xuất nhu cầu", "Needs proposals"},
                              {"proposal_cost", "Kinh phí đề xuất (đồng)", "Proposed cost (VND)"},
                              {"proposals_in_time", "Đề xuất gửi đúng hạn", "Proposals in time"},
                              {"surveyed", "Số hộ được khảo sát", "Households surveyed"},
                              {"poor", "Trong đó hộ nghèo", "Of which poor"},
                              {"households_helped", "Số hộ nghèo được giúp đỡ", "Poor households helped"},
                              {"money", "Giá trị bằng tiền (đồng)", "Money (VND)"},
                              {"in_kind", "Giá trị hiện vật (đồng)", "In kind (VND)"},
                              {"models", "Số mô hình", "Models"},
                              {"trained", "Lượt người được đào tạo", "People trained"},
                              {"report_received", "Ngày nhận báo cáo năm", "Year-end report received"},
                              {"gifts", "Trong đó: quà tặng (đồng)", "Of which gifts (VND)"}},
                             rows));
  sections.push_back(gradesSection(assessments));
  sections.push_back(targetsSection(assessments));
  sections.push_back(section("proposals", {"Danh sách đề xuất nhu cầu", "Needs proposals"},
                             {{"district", "Mã huyện", "District code"},
                              {"commune", "Mã xã", "Commune code"},
                              {"record", "Mã bản ghi", "Record id"},
                              {"field", "Lĩnh vực", "Field"},
                              {"content", "Nội dung", "Content"},
                              {"households", "Số hộ tham gia", "Households taking part"},
                              {"cost", "Kinh phí dự kiến (đồng)", "Estimated cost (VND)"},
                              {"received", "Ngày nhận", "Received"},
                              {"in_time", "Đúng hạn", "In time"}},
                             proposals));
  sections.push_back(section("results", {"Danh sách kết quả hỗ trợ nhận được", "Support received"},
                             {{"district", "Mã huyện", "District code"},
                              {"commune", "Mã xã", "Commune code"},
                              {"sponsor", "Đơn vị kết nghĩa", "Sponsor"},
                              {"record", "Mã bản ghi", "Record id"},
                              {"households", "Số hộ nghèo được giúp đỡ", "Poor households helped"},
                              {"money", "Giá trị bằng tiền (đồng)", "Money (VND)"},
                              {"in_kind", "Giá trị hiện vật (đồng)", "In kind (VND)"},
                              {"models", "Số mô hình", "Models"}},
                             results));
  json year_end = json::array();
  for (const auto& district : districts) {
    for (const auto* r : facts.ofUnit(kAnnualReportForm, district)) {
      if (programme::textField(*r, "don_vi_ket_nghia").empty()) {  // the district's and its communes', not sponsors'
        year_end.push_back(yearEndRow(facts, facts.unitName(r->scope), *r));
      }
    }
  }
  sections.push_back(yearEndSection(std::move(year_end), {"unit", "Đơn vị báo cáo", "Reporting unit"}));
  const std::string who = districts.size() == 1 ? ": " + facts.unitName(districts.front()) : "";
  const Bilingual title{
      "Biểu số 2: Tổng hợp kết quả kết nghĩa của huyện miền núi năm " + std::to_string(rules.year) + who,
      "Form 2: mountainous district's twinning report, " + std::to_string(rules.year) + who};
  return report("form2", rules, unit, title, std::move(sections), assessments);
}

json dueReport(const ReportData& data, const ReportRules& rules, const std::string& unit, const std::string& today) {
  std::vector<std::pair<std::string, json>> due;  // (deadline, row)
  for (const auto& a : assessTargets(data, rules, unit)) {
    for (const auto& c : a.checks) {
      if (c.met || c.deadline.empty() || c.deadline < today) continue;
      due.emplace_back(c.deadline + a.name + c.id, json{a.name, a.id, a.subject, c.label.vi, c.reason.vi, c.deadline,
                                                        programme::daysBetween(today, c.deadline)});
    }
  }
  std::sort(due.begin(), due.end(), [](const auto& x, const auto& y) { return x.first < y.first; });
  json rows = json::array();
  for (auto& [key, row] : due) rows.push_back(std::move(row));
  json sections = json::array();
  sections.push_back(section("due", {"Đơn vị cần đôn đốc trước hạn", "Units to chase before the deadline"},
                             {{"unit", "Đơn vị", "Unit"},
                              {"id", "Mã", "Id"},
                              {"subject", "Loại", "Kind"},
                              {"target", "Việc phải làm", "What is due"},
                              {"now", "Hiện trạng", "Where it stands"},
                              {"deadline", "Hạn", "Deadline"},
                              {"days_left", "Còn (ngày)", "Days left"}},
                             std::move(rows)));
  const Bilingual title{
      "Đôn đốc thực hiện công tác kết nghĩa năm " + std::to_string(rules.year) + " (ngày " + today + ")",
      "Reminders, " + std::to_string(rules.year) + " (as of " + today + ")"};
  auto out = report("due", rules, unit, title, std::move(sections), {});
  out["today"] = today;
  return out;
}

}  // namespace communesync::server
