#include "programme/report_rules.hpp"

#include <chrono>
#include <cstdio>
#include <functional>
#include <map>

namespace communesync::server {
namespace {

using nlohmann::json;

std::string twoDigits(unsigned n) {
  char out[4];
  std::snprintf(out, sizeof out, "%02u", n % 100);
  return out;
}

Result<MonthDay> monthDayFrom(const json& value, const std::string& where) {
  const auto bad = Status::error(ErrorCode::kInvalidArgument, where + " must be a day \"MM-DD\"");
  if (!value.is_string()) return bad;
  const auto text = value.get<std::string>();
  unsigned month = 0;
  unsigned day = 0;
  char tail = 0;
  if (text.size() != 5 || std::sscanf(text.c_str(), "%2u-%2u%c", &month, &day, &tail) != 2) return bad;
  // Checked against a leap year, so 02-29 is allowed (it then means 1 March in other years).
  const std::chrono::year_month_day ymd{std::chrono::year{2024}, std::chrono::month{month}, std::chrono::day{day}};
  if (!ymd.ok()) return bad;
  return MonthDay{month, day};
}

// Each rule by its name in the config: how to read it into ReportRules and how to print it.
struct RuleField {
  std::function<Status(const json&, const std::string&, ReportRules&)> read;
  std::function<json(const ReportRules&)> write;
};

template <class T>
RuleField wholeRule(T ReportRules::*member, std::int64_t max) {
  return {[member, max](const json& v, const std::string& where, ReportRules& r) -> Status {
            if (!v.is_number_integer() || v.get<std::int64_t>() < 0 || v.get<std::int64_t>() > max) {
              return Status::error(ErrorCode::kInvalidArgument,
                                   where + " must be a whole number from 0 to " + std::to_string(max));
            }
            r.*member = static_cast<T>(v.get<std::int64_t>());
            return Status::ok();
          },
          [member](const ReportRules& r) { return json(r.*member); }};
}

RuleField dayRule(MonthDay ReportRules::*member) {
  return {
      [member](const json& v, const std::string& where, ReportRules& r) -> Status {
        auto day = monthDayFrom(v, where);
        if (!day) return day.status();
        r.*member = *day;
        return Status::ok();
      },
      [member](const ReportRules& r) { return json(twoDigits((r.*member).month) + "-" + twoDigits((r.*member).day)); }};
}

const std::map<std::string, RuleField>& ruleFields() {
  static const std::map<std::string, RuleField> fields = {
      {"department_households_per_block", wholeRule(&ReportRules::department_households_per_block, 1000)},
      {"department_staff_block", wholeRule(&ReportRules::department_staff_block, 100000)},
      {"department_models_per_commune", wholeRule(&ReportRules::department_models_per_commune, 1000)},
      {"lowland_households", wholeRule(&ReportRules::lowland_households, 100000)},
      {"lowland_money_vnd", wholeRule(&ReportRules::lowland_money_vnd, 1'000'000'000'000'000LL)},
      {"lowland_models_per_commune", wholeRule(&ReportRules::lowland_models_per_commune, 1000)},
      {"plan_signed_before", dayRule(&ReportRules::plan_signed_before)},
      {"commune_needs_before", dayRule(&ReportRules::commune_needs_before)},
      {"district_needs_before", dayRule(&ReportRules::district_needs_before)},
      {"report_window_from", dayRule(&ReportRules::report_window_from)},
      {"report_window_to", dayRule(&ReportRules::report_window_to)},
      {"utc_offset_minutes", wholeRule(&ReportRules::utc_offset_minutes, std::int64_t{14} * 60)},
  };
  return fields;
}

Status applyOverrides(const json& section, const std::string& where, ReportRules& rules) {
  if (!section.is_object()) return Status::error(ErrorCode::kInvalidArgument, where + " must be an object");
  for (const auto& [name, value] : section.items()) {
    if (name == "excellent_ratio" || name == "fair_share" || name == "average_share") {
      return Status::error(ErrorCode::kInvalidArgument,
                           where + ": \"" + name +
                               "\" is no longer a rule: the seeds give no such threshold; the software proposes a "
                               "grade (at most good) and the Committee's grade is recorded (docs/reports.md)");
    }
    auto it = ruleFields().find(name);
    if (it == ruleFields().end()) {
      return Status::error(ErrorCode::kInvalidArgument,
                           where + ": \"" + name + "\" is not a report rule (see docs/reports.md)");
    }
    CS_RETURN_IF_ERROR(it->second.read(value, where + ": \"" + name + "\"", rules));
  }
  return Status::ok();
}

}  // namespace

std::string MonthDay::in(int year) const {
  return std::to_string(year) + "-" + twoDigits(month) + "-" + twoDigits(day);
}

ReportRules defaultReportRules(int year) {
  ReportRules rules;
  rules.year = year;
  // The 2021 letter set two dates of 2022 only: the districts' compilation of their communes'
  // proposals "trước 31/01/2022" and the sponsors' plans "trước 28/02/2022". Other years keep the
  // decision's dates (28/02 for needs, 31/3 for plans) until the province says otherwise (config).
  if (year == 2022) {
    rules.district_needs_before = MonthDay{1, 31};
    rules.plan_signed_before = MonthDay{2, 28};
  }
  return rules;
}

Result<ReportRules> reportRules(int year, const json& overrides) {
  auto rules = defaultReportRules(year);
  if (overrides.is_null()) return rules;
  if (!overrides.is_object()) return Status::error(ErrorCode::kInvalidArgument, "\"report_rules\" must be an object");
  if (auto it = overrides.find("default"); it != overrides.end()) {
    CS_RETURN_IF_ERROR(applyOverrides(*it, "\"report_rules\".\"default\"", rules));
  }
  const auto key = std::to_string(year);
  if (auto it = overrides.find(key); it != overrides.end()) {
    CS_RETURN_IF_ERROR(applyOverrides(*it, "\"report_rules\".\"" + key + "\"", rules));
  }
  return rules;
}

Status checkReportRules(const json& overrides) {
  if (!overrides.is_object()) return Status::error(ErrorCode::kInvalidArgument, "\"report_rules\" must be an object");
  for (const auto& [key, value] : overrides.items()) {
    int year = 2000;
    if (key != "default") {
      char tail = 0;
      if (std::sscanf(key.c_str(), "%d%c", &year, &tail) != 1 || year < 2000 || year > 2100) {
        return Status::error(ErrorCode::kInvalidArgument,
                             "\"report_rules\": \"" + key + "\" is neither \"default\" nor a year");
      }
    }
    auto rules = reportRules(year, overrides);
    if (!rules) return rules.status();
  }
  return Status::ok();
}

json reportRulesToJson(const ReportRules& rules) {
  json out = {{"year", rules.year}};
  for (const auto& [name, field] : ruleFields()) out[name] = field.write(rules);
  return out;
}

}  // namespace communesync::server
