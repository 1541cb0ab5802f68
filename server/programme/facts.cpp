#include "programme/facts.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <optional>
#include <set>

#include "communesync/sync/text.hpp"

namespace communesync::server::programme {
namespace {

// Deeper than any tree (province, district, commune, village, and merges on the way): stops a walk
// up a cycle that a corrupt list could hold.
constexpr int kMaxTreeDepth = 32;

const sync::Value* fieldValue(const sync::Record& record, std::string_view name) {
  auto it = record.fields.find(name);
  return it == record.fields.end() ? nullptr : &it->second.value;
}

// A commune list as people type it: codes separated by commas, semicolons or spaces.
std::vector<std::string> splitCodes(const std::string& text) {
  std::vector<std::string> out;
  std::string current;
  for (char c : text + ",") {
    if (c == ',' || c == ';' || c == ' ' || c == '\n' || c == '\t' || c == '\r') {
      if (!current.empty() && std::find(out.begin(), out.end(), current) == out.end()) out.push_back(current);
      current.clear();
    } else {
      current += c;
    }
  }
  return out;
}

}  // namespace

std::int64_t wholeField(const sync::Record& record, std::string_view name) {
  const auto* v = fieldValue(record, name);
  if (v == nullptr) return 0;
  if (const auto* i = v->get<std::int64_t>()) return *i;
  if (const auto* d = v->get<double>()) return static_cast<std::int64_t>(*d);
  return 0;
}

std::string textField(const sync::Record& record, std::string_view name) {
  const auto* v = fieldValue(record, name);
  const auto* s = v == nullptr ? nullptr : v->get<std::string>();
  return s == nullptr ? std::string() : *s;
}

bool yesField(const sync::Record& record, std::string_view name) {
  const auto* v = fieldValue(record, name);
  const auto* b = v == nullptr ? nullptr : v->get<bool>();
  return b != nullptr && *b;
}

std::vector<std::string> codesField(const sync::Record& record, std::string_view name) {
  std::vector<std::string> out;
  const auto* v = fieldValue(record, name);
  const auto* list = v == nullptr ? nullptr : v->get<sync::Value::List>();
  if (list == nullptr) return out;
  for (const auto& item : *list) {
    if (const auto* s = item.get<std::string>()) out.push_back(*s);
  }
  return out;
}

std::string earliestDate(const std::vector<const sync::Record*>& records, std::string_view field) {
  std::string first;
  for (const auto* r : records) {
    const auto day = textField(*r, field);
    if (!day.empty() && (first.empty() || day < first)) first = day;
  }
  return first;
}

std::string localDate(std::int64_t ms, int utc_offset_minutes) {
  const auto local = std::chrono::sys_time<std::chrono::milliseconds>(std::chrono::milliseconds(ms)) +
                     std::chrono::minutes(utc_offset_minutes);
  const std::chrono::year_month_day ymd{std::chrono::floor<std::chrono::days>(local)};
  char out[16];
  std::snprintf(out, sizeof out, "%04d-%02u-%02u", static_cast<int>(ymd.year()), static_cast<unsigned>(ymd.month()),
                static_cast<unsigned>(ymd.day()));
  return out;
}

namespace {
std::optional<std::chrono::sys_days> parseDay(const std::string& text) {
  int y = 0;
  unsigned m = 0;
  unsigned d = 0;
  if (text.size() != 10 || std::sscanf(text.c_str(), "%4d-%2u-%2u", &y, &m, &d) != 3) return std::nullopt;
  const std::chrono::year_month_day ymd{std::chrono::year{y}, std::chrono::month{m}, std::chrono::day{d}};
  if (!ymd.ok()) return std::nullopt;
  return std::chrono::sys_days(ymd);
}
}  // namespace

bool isDay(const std::string& text) {
  return parseDay(text).has_value();
}

bool inReportWindow(const ReportRules& rules, const std::string& day) {
  return day >= rules.report_window_from.in(rules.year) && day <= rules.report_window_to.in(rules.year);
}

std::int64_t daysBetween(const std::string& from, const std::string& to) {
  const auto a = parseDay(from);
  const auto b = parseDay(to);
  return a && b ? (*b - *a).count() : 0;
}

std::string dayMonth(const std::string& date) {
  if (date.size() != 10) return date;
  return date.substr(8, 2) + "/" + date.substr(5, 2);
}

Facts::Facts(const ReportData& data, const ReportRules& rules) : data_(data), rules_(rules) {
  for (const auto& r : data.of(kSponsorForm)) {
    sponsors_.push_back(Sponsor{&r, r.key.id, textField(r, "ten"), textField(r, "loai"), wholeField(r, "bien_che"),
                                false, splitCodes(textField(r, "xa_ket_nghia"))});
  }
  std::sort(sponsors_.begin(), sponsors_.end(),
            [](const Sponsor& a, const Sponsor& b) { return std::tie(a.name, a.id) < std::tie(b.name, b.id); });
  readAssignments();
  for (const char* collection : {kPlanForm, kResultForm, kProposalForm, kAnnualReportForm, kLocalSetupForm}) {
    auto& year = of_year_[collection];
    for (const auto& r : data.of(collection)) {
      if (wholeField(r, "nam") == rules.year) year.push_back(&r);
    }
  }
  std::set<std::string> communes;
  std::set<std::string> districts;
  for (const auto& s : sponsors_) {
    for (const auto& c : s.twinned) {
      const auto* unit = data.units->find(c);
      if (unit != nullptr && unit->level == UnitLevel::kCommune) communes.insert(c);
      if (unit != nullptr && unit->level == UnitLevel::kDistrict) districts.insert(c);  // twinned whole
    }
  }
  // Any record of the year in a commune makes it part of the programme (a sponsor's report is
  // usually filed above communes and adds none).
  for (const auto& [collection, records] : of_year_) {
    for (const auto* r : records) {
      if (auto c = communeOf(r->scope); !c.empty()) communes.insert(c);
    }
  }
  communes_.assign(communes.begin(), communes.end());
  for (const auto& c : communes_) {
    if (auto d = districtOf(c); !d.empty()) districts.insert(d);
  }
  districts_.assign(districts.begin(), districts.end());
  std::set<std::string> compilers(districts.begin(), districts.end());
  for (const auto& c : communes_) {
    if (auto d = compilerOf(c); !d.empty()) compilers.insert(d);
  }
  compilers_.assign(compilers.begin(), compilers.end());
}

void Facts::readAssignments() {
  for (const auto& r : data_.of(kAssignmentForm)) {
    assignments_.push_back(Assignment{
        &r, sponsorNamed(textField(r, "don_vi_ket_nghia")), textField(r, "dia_ban_ket_nghia"), textField(r, "tu_ngay"),
        textField(r, "den_ngay"), textField(r, "so_quyet_dinh"), textField(r, "ngay_quyet_dinh")});
  }
  std::sort(assignments_.begin(), assignments_.end(), [](const Assignment& a, const Assignment& b) {
    const auto* an = a.sponsor == nullptr ? &a.unit : &a.sponsor->name;
    const auto* bn = b.sponsor == nullptr ? &b.unit : &b.sponsor->name;
    return std::tie(*an, a.from, a.unit, a.record->key.id) < std::tie(*bn, b.from, b.unit, b.record->key.id);
  });
  const auto day = reportDay();
  for (auto& s : sponsors_) {
    const bool assigned =
        std::any_of(assignments_.begin(), assignments_.end(), [&](const Assignment& a) { return a.sponsor == &s; });
    if (assigned) {
      s.twinned.clear();
      for (const auto& a : assignments_) {
        if (a.sponsor == &s && a.inForceOn(day)) s.twinned.push_back(a.unit);
      }
    }
    // As the units stand in the year: communes merged by then are their successor, counted once.
    std::vector<std::string> twinned;
    for (const auto& code : s.twinned) {
      auto now = successorOf(code);
      if (std::find(twinned.begin(), twinned.end(), now) == twinned.end()) twinned.push_back(std::move(now));
    }
    s.twinned = std::move(twinned);
    // The staff of the year, when recorded (the latest received of the year's records).
    const sync::Record* staff = nullptr;
    for (const auto& r : data_.of(kStaffForm)) {
      if (wholeField(r, "nam") != rules_.year || sponsorNamed(textField(r, "don_vi_ket_nghia")) != &s) continue;
      if (staff == nullptr || r.receive_time_ms > staff->receive_time_ms) staff = &r;
    }
    if (staff != nullptr) {
      s.staff = wholeField(*staff, "bien_che");
      s.staff_of_year = true;
    }
  }
}

std::string Facts::reportDay() const {
  return rules_.report_window_to.in(rules_.year);
}

bool Facts::mergedBy(const Unit& unit) const {
  if (unit.merged_into.empty()) return false;
  // Merged on a day of the report's year or before (an undated merge: in every year).
  return unit.merged_on.empty() || unit.merged_on.substr(0, 4) <= std::to_string(rules_.year);
}

const Unit* Facts::upOf(const Unit& unit) const {
  const auto& next = mergedBy(unit) ? unit.merged_into : unit.parent_code;
  return next.empty() ? nullptr : data_.units->find(next);
}

std::string Facts::successorOf(const std::string& code) const {
  const Unit* unit = data_.units->find(code);
  for (int depth = 0; unit != nullptr && mergedBy(*unit) && depth < kMaxTreeDepth; ++depth) {
    const Unit* into = data_.units->find(unit->merged_into);
    if (into == nullptr) break;
    unit = into;
  }
  return unit == nullptr ? code : unit->code;
}

std::string Facts::compilerOf(const std::string& commune) const {
  if (auto d = districtOf(commune); !d.empty()) return d;
  const Unit* unit = data_.units->find(commune);
  for (int depth = 0; unit != nullptr && depth < kMaxTreeDepth; ++depth) {
    if (unit->level == UnitLevel::kProvince && !mergedBy(*unit)) return unit->code;
    unit = upOf(*unit);
  }
  return {};
}

const Sponsor* Facts::sponsorNamed(std::string_view id_or_name) const {
  if (id_or_name.empty()) return nullptr;
  for (const auto& s : sponsors_) {
    if (s.id == id_or_name) return &s;
  }
  const auto folded = sync::foldForSearch(id_or_name);
  // Folding keeps inner spaces as typed; compare without them so "Sở  Y tế" finds "Sở Y tế".
  auto squeezed = [](std::string text) {
    text.erase(std::remove(text.begin(), text.end(), ' '), text.end());
    return text;
  };
  const auto wanted = squeezed(folded);
  for (const auto& s : sponsors_) {
    if (!wanted.empty() && squeezed(sync::foldForSearch(s.name)) == wanted) return &s;
  }
  return nullptr;
}

const std::vector<const sync::Record*>& Facts::ofYear(const std::string& collection) const {
  static const std::vector<const sync::Record*> none;
  auto it = of_year_.find(collection);
  return it == of_year_.end() ? none : it->second;
}

std::vector<const sync::Record*> Facts::ofSponsor(const std::string& collection, const Sponsor& sponsor,
                                                  const std::string& place) const {
  std::vector<const sync::Record*> out;
  for (const auto* r : ofYear(collection)) {
    if (sponsorNamed(textField(*r, "don_vi_ket_nghia")) != &sponsor) continue;
    if (!place.empty() && placeOf(sponsor, r->scope) != place) continue;
    out.push_back(r);
  }
  return out;
}

std::string Facts::placeOf(const Sponsor& sponsor, const Scope& scope) const {
  for (const auto& unit : sponsor.twinned) {
    if (covers(unit, scope)) return unit;
  }
  return communeOf(scope);
}

std::vector<const sync::Record*> Facts::ofUnit(const std::string& collection, const std::string& unit) const {
  std::vector<const sync::Record*> out;
  for (const auto* r : ofYear(collection)) {
    if (textField(*r, "don_vi_ket_nghia").empty() && covers(unit, r->scope)) out.push_back(r);
  }
  return out;
}

SurveyCount Facts::surveysIn(const std::string& unit) const {
  SurveyCount out;
  for (const auto& [scope, years] : data_.surveys) {
    auto it = years.find(rules_.year);
    if (it == years.end() || !covers(unit, scope)) continue;
    out.surveyed += it->second.surveyed;
    out.poor += it->second.poor;
  }
  return out;
}

std::string Facts::communeOf(const Scope& scope) const {
  const Unit* unit = data_.units->find(scope);
  for (int depth = 0; unit != nullptr && depth < kMaxTreeDepth; ++depth) {
    if (unit->level == UnitLevel::kCommune && !mergedBy(*unit)) return unit->code;
    if (unit->level < UnitLevel::kCommune) return {};
    unit = upOf(*unit);
  }
  return {};
}

std::string Facts::districtOf(const std::string& code) const {
  const Unit* unit = data_.units->find(code);
  for (int depth = 0; unit != nullptr && depth < kMaxTreeDepth; ++depth) {
    if (unit->level == UnitLevel::kDistrict && !mergedBy(*unit)) return unit->code;
    if (unit->level < UnitLevel::kDistrict) return {};
    unit = upOf(*unit);
  }
  return {};
}

bool Facts::covers(const std::string& ancestor, const std::string& code) const {
  if (ancestor == code) return true;
  const Unit* unit = data_.units->find(code);
  for (int depth = 0; unit != nullptr && depth < kMaxTreeDepth; ++depth) {
    unit = upOf(*unit);
    if (unit != nullptr && unit->code == ancestor) return true;
  }
  return false;
}

std::string Facts::unitName(const std::string& code) const {
  const Unit* unit = data_.units->find(code);
  return unit == nullptr ? code : unit->name;
}

const sync::Record* Facts::setupOf(const std::string& unit) const {
  const sync::Record* found = nullptr;
  for (const auto* r : ofYear(kLocalSetupForm)) {
    if (r->scope == unit && (found == nullptr || r->receive_time_ms > found->receive_time_ms)) found = r;
  }
  return found;
}

std::optional<std::string> Facts::receivedDate(const sync::Record& record) const {
  auto it = data_.first_received_ms.find(record.key);
  if (it == data_.first_received_ms.end()) return std::nullopt;
  return localDate(it->second, rules_.utc_offset_minutes);
}

std::vector<const Sponsor*> Facts::sponsorsFor(const std::string& unit) const {
  std::vector<const Sponsor*> out;
  if (const auto* named = sponsorNamed(unit); named != nullptr && data_.units->find(unit) == nullptr) {
    out.push_back(named);
    return out;
  }
  for (const auto& s : sponsors_) {
    const bool selected = unit.empty() || std::any_of(s.twinned.begin(), s.twinned.end(), [&](const auto& c) {
                            return covers(unit, c) || covers(c, unit);
                          });
    if (selected) out.push_back(&s);
  }
  return out;
}

bool Facts::selects(const std::string& unit, const std::string& code) const {
  if (unit.empty()) return true;
  if (data_.units->find(unit) == nullptr) return false;  // a sponsor: no district or commune
  return covers(unit, code) || covers(code, unit);
}

std::int64_t householdsOwed(std::int64_t staff, const ReportRules& rules) {
  if (rules.department_staff_block <= 0 || staff <= 0) return 0;
  // staff x per_block / block, to the nearest whole, a half up, in whole numbers: (2n + d) / 2d.
  const std::int64_t n = staff * rules.department_households_per_block;
  const std::int64_t d = rules.department_staff_block;
  return (2 * n + d) / (2 * d);
}

std::int64_t modelsOf(const sync::Record& result) {
  return wholeField(result, "so_mo_hinh_xay_dung") + wholeField(result, "so_mo_hinh_cung_co") +
         wholeField(result, "so_mo_hinh_nhan_rong");
}

bool proposalInTime(const Facts& facts, const sync::Record& proposal) {
  const auto& rules = facts.rules();
  const auto received = facts.receivedDate(proposal).value_or("");
  const Unit* at = facts.units().find(proposal.scope);
  const bool district = at != nullptr && at->level == UnitLevel::kDistrict;
  const auto deadline = (district ? rules.district_needs_before : rules.commune_needs_before).in(rules.year);
  return !received.empty() && received < deadline;
}

}  // namespace communesync::server::programme

namespace communesync::server {

std::optional<SurveyFacts> surveyFactsOf(const sync::Record& record) {
  if (record.key.collection != kHouseholdForm) return std::nullopt;
  const auto date = programme::textField(record, "ngay_khao_sat");
  if (date.size() < 4 || !std::all_of(date.begin(), date.begin() + 4, [](char c) { return c >= '0' && c <= '9'; })) {
    return std::nullopt;
  }
  return SurveyFacts{std::stoi(date.substr(0, 4)), programme::textField(record, "tinh_trang_ngheo") == "ngheo"};
}

void ReportData::countSurvey(const sync::Record& record) {
  const auto facts = surveyFactsOf(record);
  if (!facts || record.deleted()) return;
  auto& count = surveys[record.scope][facts->year];
  ++count.surveyed;
  count.poor += facts->poor ? 1 : 0;
}

const std::vector<sync::Record>& ReportData::of(const std::string& collection) const {
  static const std::vector<sync::Record> none;
  auto it = records.find(collection);
  return it == records.end() ? none : it->second;
}

}  // namespace communesync::server
