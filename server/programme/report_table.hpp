// The one shape of every report table (a section: a name, a bilingual title, columns and rows) and
// the report around them, so the admin tool and the web page print, write CSV and write XLSX the
// same way for all of them; and what support results delivered, summed the same way everywhere.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "programme/facts.hpp"

namespace communesync::server::programme {

struct Column {
  const char* name;
  const char* vi;
  const char* en;
};

inline nlohmann::json section(const char* name, const Bilingual& title, const std::vector<Column>& columns,
                              nlohmann::json rows) {
  nlohmann::json cols = nlohmann::json::array();
  for (const auto& c : columns) cols.push_back({{"name", c.name}, {"vi", c.vi}, {"en", c.en}});
  return {
      {"name", name}, {"title", {{"vi", title.vi}, {"en", title.en}}}, {"columns", cols}, {"rows", std::move(rows)}};
}

inline nlohmann::json report(const char* kind, const ReportRules& rules, const std::string& unit,
                             const Bilingual& title, nlohmann::json sections,
                             const std::vector<Assessment>& assessments) {
  nlohmann::json graded = nlohmann::json::array();
  for (const auto& a : assessments) graded.push_back(assessmentToJson(a));
  return {{"report", kind},
          {"year", rules.year},
          {"unit", unit},
          {"title", {{"vi", title.vi}, {"en", title.en}}},
          {"rules", reportRulesToJson(rules)},
          {"sections", std::move(sections)},
          {"assessments", std::move(graded)}};
}

inline nlohmann::json orNull(const std::string& text) {
  return text.empty() ? nlohmann::json(nullptr) : nlohmann::json(text);
}

// What support results delivered (one sponsor in one commune, a commune, a total). Gifts ("giảm dần tặng quà": to be
// reduced) are the part of the money and in-kind value given as gifts, shown apart so the Committee sees their share.
struct Delivered {
  std::int64_t households = 0, money = 0, in_kind = 0, models_new = 0, models_replicated = 0, trained = 0;
  std::int64_t models_consolidated = 0, gifts = 0;
  void add(const sync::Record& r) {
    households += wholeField(r, "so_ho_ngheo_duoc_giup");
    money += wholeField(r, "gia_tri_tien_mat");
    in_kind += wholeField(r, "gia_tri_hien_vat");
    models_new += wholeField(r, "so_mo_hinh_xay_dung");
    models_consolidated += wholeField(r, "so_mo_hinh_cung_co");
    models_replicated += wholeField(r, "so_mo_hinh_nhan_rong");
    trained += wholeField(r, "so_luot_dao_tao");
    gifts += wholeField(r, "gia_tri_qua_tang");
  }
  void add(const Delivered& d) {
    households += d.households;
    money += d.money;
    in_kind += d.in_kind;
    models_new += d.models_new;
    models_consolidated += d.models_consolidated;
    models_replicated += d.models_replicated;
    trained += d.trained;
    gifts += d.gifts;
  }
  std::int64_t models() const { return models_new + models_consolidated + models_replicated; }
};

}  // namespace communesync::server::programme
