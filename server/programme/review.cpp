// The five-year review (Directive 23: "hằng năm tổ chức sơ kết, 05 năm tổ chức tổng kết"): over a
// range of years, each sponsor's and each commune's figures, proposed grade and the Committee's
// grade year by year, and their totals. Each year is read as it stood (its rules, its twinning
// assignments, its units: a commune merged away appears up to the year before its merge, its
// successor from then on).
#include <map>

#include "programme/report_table.hpp"

namespace communesync::server {

using nlohmann::json;
using programme::Delivered;
using programme::Facts;

namespace {

struct Tally {
  Delivered delivered;
  std::int64_t surveyed = 0, poor = 0, proposals = 0;
  std::map<Grade, int> grades;  //!< years by proposed grade
};

std::string gradeCount(const std::map<Grade, int>& grades) {
  std::string out;
  for (const auto& [grade, years] : grades) {
    out += (out.empty() ? "" : "; ") + gradeLabel(grade).vi + ": " + std::to_string(years) + " năm";
  }
  return out;
}

json gradeCell(const Assessment* a) {
  if (a == nullptr) return nullptr;
  return gradeLabel(a->grade).vi;
}

json committeeCell(const Assessment* a) {
  if (a == nullptr || !a->committee) return nullptr;
  return gradeLabel(a->committee->grade).vi;
}

}  // namespace

json reviewReport(const ReportData& data, const std::vector<ReportRules>& years, const std::string& unit) {
  // Rows of each subject, year by year, and the subject's running totals; keyed by sort order.
  struct Subject {
    std::string name;
    json rows = json::array();
    Tally total;
  };
  std::map<std::pair<std::string, std::string>, Subject> sponsors;  // (name, id)
  std::map<std::string, Subject> communes;                          // code
  for (const auto& rules : years) {
    const Facts facts(data, rules);
    const auto assessments = assessTargets(data, rules, unit);
    auto graded = [&](const std::string& subject, const std::string& id) -> const Assessment* {
      for (const auto& a : assessments) {
        if (a.subject == subject && a.id == id) return &a;
      }
      return nullptr;
    };
    for (const auto* s : facts.sponsorsFor(unit)) {
      const auto* a = graded("sponsor", s->id);
      Delivered d;
      for (const auto* r : facts.ofSponsor(kResultForm, *s)) d.add(*r);
      if (a == nullptr && d.households == 0 && d.money + d.in_kind == 0) continue;
      auto& subject = sponsors[{s->name, s->id}];
      subject.name = s->name;
      subject.rows.push_back({s->name, s->id, rules.year, d.households, d.money + d.in_kind, d.gifts, d.models(),
                              gradeCell(a), committeeCell(a)});
      subject.total.delivered.add(d);
      if (a != nullptr) ++subject.total.grades[a->grade];
    }
    for (const auto& code : facts.communes()) {
      if (!facts.selects(unit, code)) continue;
      const auto* a = graded("commune", code);
      Tally year;
      for (const auto* r : facts.ofYear(kResultForm)) {
        if (facts.communeOf(r->scope) == code) year.delivered.add(*r);
      }
      const auto surveyed = facts.surveysIn(code);
      year.surveyed = surveyed.surveyed;
      year.poor = surveyed.poor;
      year.proposals = static_cast<std::int64_t>(facts.ofUnit(kProposalForm, code).size());
      auto& subject = communes[code];
      subject.name = facts.unitName(code);
      const auto& d = year.delivered;
      subject.rows.push_back({subject.name, code, rules.year, year.surveyed, year.poor, year.proposals, d.households,
                              d.money + d.in_kind, d.models(), gradeCell(a), committeeCell(a)});
      subject.total.delivered.add(d);
      subject.total.surveyed += year.surveyed;
      subject.total.poor += year.poor;
      subject.total.proposals += year.proposals;
      if (a != nullptr) ++subject.total.grades[a->grade];
    }
  }
  const auto span = std::to_string(years.front().year) + "–" + std::to_string(years.back().year);
  json sponsor_rows = json::array();
  for (auto& [key, s] : sponsors) {
    for (auto& row : s.rows) sponsor_rows.push_back(std::move(row));
    const auto& d = s.total.delivered;
    sponsor_rows.push_back({s.name, key.second, "Cộng " + span, d.households, d.money + d.in_kind, d.gifts, d.models(),
                            gradeCount(s.total.grades), nullptr});
  }
  json commune_rows = json::array();
  for (auto& [code, c] : communes) {
    for (auto& row : c.rows) commune_rows.push_back(std::move(row));
    const auto& t = c.total;
    commune_rows.push_back({c.name, code, "Cộng " + span, t.surveyed, t.poor, t.proposals, t.delivered.households,
                            t.delivered.money + t.delivered.in_kind, t.delivered.models(), gradeCount(t.grades),
                            nullptr});
  }
  json sections = json::array();
  sections.push_back(programme::section("sponsors", {"Đơn vị nhận kết nghĩa qua các năm", "Sponsors, year by year"},
                                        {{"sponsor", "Đơn vị nhận kết nghĩa", "Sponsor"},
                                         {"id", "Mã", "Id"},
                                         {"year", "Năm", "Year"},
                                         {"households", "Số hộ nghèo được giúp đỡ", "Poor households helped"},
                                         {"value", "Tổng giá trị hỗ trợ (đồng)", "Support value (VND)"},
                                         {"gifts", "Trong đó: quà tặng (đồng)", "Of which gifts (VND)"},
                                         {"models", "Số mô hình", "Models"},
                                         {"grade", "Xếp loại đề xuất", "Proposed grade"},
                                         {"committee_grade", "Xếp loại của UBND tỉnh", "The Committee's grade"}},
                                        std::move(sponsor_rows)));
  sections.push_back(programme::section("communes", {"Xã được nhận kết nghĩa qua các năm", "Communes, year by year"},
                                        {{"commune_name", "Xã", "Commune"},
                                         {"commune", "Mã xã", "Commune code"},
                                         {"year", "Năm", "Year"},
                                         {"surveyed", "Số hộ được khảo sát", "Households surveyed"},
                                         {"poor", "Trong đó hộ nghèo", "Of which poor"},
                                         {"proposals", "Số đề xuất nhu cầu", "Needs proposals"},
                                         {"households_helped", "Số hộ nghèo được giúp đỡ", "Poor households helped"},
                                         {"value", "Giá trị hỗ trợ nhận được (đồng)", "Support received (VND)"},
                                         {"models", "Số mô hình", "Models"},
                                         {"grade", "Xếp loại đề xuất", "Proposed grade"},
                                         {"committee_grade", "Xếp loại của UBND tỉnh", "The Committee's grade"}},
                                        std::move(commune_rows)));
  const Bilingual title{"Tổng kết công tác kết nghĩa giai đoạn " + span, "Twinning review, " + span};
  auto out = programme::report("review", years.back(), unit, title, std::move(sections), {});
  out["from"] = years.front().year;
  out["to"] = years.back().year;
  return out;
}

}  // namespace communesync::server
