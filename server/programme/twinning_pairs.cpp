// The twinned pairs of a year (issue: "a list of the twinned pairs with their decisions is a report
// of its own"): every twinning assignment in force on any day of the year, with its decision, the
// sponsor's staff of the year, and whether it still stood on the day the year is reported (the day
// that sets the year's targets). A sponsor with no dated assignment shows the communes of its
// `xa_ket_nghia`, marked as undated.
#include <algorithm>

#include "programme/report_table.hpp"

namespace communesync::server {

using nlohmann::json;
using programme::orNull;

json twinningReport(const ReportData& data, const ReportRules& rules, const std::string& unit) {
  const programme::Facts facts(data, rules);
  const auto year = std::to_string(rules.year);
  const auto first_day = year + "-01-01";
  const auto last_day = year + "-12-31";
  const auto report_day = facts.reportDay();
  json rows = json::array();
  // `unit` is a unit code (pairs in or above it), a sponsor's id or name, or empty (all).
  const programme::Sponsor* only = facts.units().find(unit) == nullptr ? facts.sponsorNamed(unit) : nullptr;
  auto selected = [&](const programme::Sponsor* s, const std::string& code) {
    if (only != nullptr) return s == only;
    return unit.empty() || facts.covers(unit, code) || facts.covers(code, unit);
  };
  auto sponsorCells = [](const programme::Sponsor* s, json& row) {
    row.push_back(s == nullptr ? json(nullptr) : json(s->name));
    row.push_back(s == nullptr ? json(nullptr) : json(s->id));
    row.push_back(s == nullptr ? json(nullptr) : json(s->kind));
    row.push_back(s == nullptr ? json(nullptr) : json(s->staff));
  };
  for (const auto& a : facts.assignments()) {
    const bool overlaps = a.from <= last_day && (a.to.empty() || a.to >= first_day);
    if (!overlaps || !selected(a.sponsor, a.unit)) continue;
    json row = json::array();
    sponsorCells(a.sponsor, row);
    const auto now = facts.successorOf(a.unit);
    row.push_back(a.unit);
    row.push_back(facts.unitName(a.unit));
    row.push_back(now == a.unit ? json(nullptr) : json(now));
    row.push_back(a.from);
    row.push_back(orNull(a.to));
    row.push_back(a.decision);
    row.push_back(orNull(a.decision_date));
    row.push_back(a.inForceOn(report_day));
    if (a.sponsor == nullptr)
      row[0] = programme::textField(*a.record, "don_vi_ket_nghia") + " (chưa rõ đơn vị / unknown sponsor)";
    rows.push_back(std::move(row));
  }
  // Sponsors with no dated assignment: the communes their record lists today, undated.
  for (const auto& s : facts.sponsors()) {
    const bool dated = std::any_of(facts.assignments().begin(), facts.assignments().end(),
                                   [&](const programme::Assignment& a) { return a.sponsor == &s; });
    if (dated) continue;
    for (const auto& code : s.twinned) {
      if (!selected(&s, code)) continue;
      json row = json::array();
      sponsorCells(&s, row);
      row.push_back(code);
      row.push_back(facts.unitName(code));
      row.push_back(nullptr);
      row.push_back("(không ghi ngày / undated)");
      row.insert(row.end(), {nullptr, nullptr, nullptr, true});
      rows.push_back(std::move(row));
    }
  }
  json sections = json::array();
  sections.push_back(programme::section(
      "pairs", {"Danh sách các cặp kết nghĩa", "Twinned pairs"},
      {{"sponsor", "Đơn vị nhận kết nghĩa", "Sponsor"},
       {"sponsor_id", "Mã đơn vị", "Sponsor id"},
       {"kind", "Loại đơn vị", "Kind"},
       {"staff", "Biên chế trong năm", "Staff of the year"},
       {"unit", "Mã địa bàn kết nghĩa", "Unit code"},
       {"unit_name", "Xã, huyện được nhận kết nghĩa", "Commune or district twinned"},
       {"now_part_of", "Nay thuộc (sau sáp nhập)", "Now part of (after a merge)"},
       {"from", "Từ ngày", "From"},
       {"to", "Đến ngày", "Until"},
       {"decision", "Số quyết định", "Decision"},
       {"decision_date", "Ngày quyết định", "Decision date"},
       {"in_force", "Còn hiệu lực ngày báo cáo (hết hạn nhập báo cáo năm)", "In force on the reporting day"}},
      std::move(rows)));
  const Bilingual title{"Danh sách các cặp kết nghĩa năm " + year, "Twinned pairs, " + year};
  auto out = programme::report("twinning", rules, unit, title, std::move(sections), {});
  out["report_day"] = report_day;
  return out;
}

}  // namespace communesync::server
