// The twinning programme's targets, deadlines and grading thresholds for one year. The defaults are
// the seeds' values (Decision 1100/QĐ-UBND of 2020, section III-IV, and the provincial Ethnic
// Minorities Committee's 2021 reporting letter); the province changes them, so the server's config
// may override any of them for every year or for one year:
//
//   "report_rules": {"default": {"lowland_money_vnd": 250000000},
//                    "2022": {"district_needs_before": "01-31"}}
//
// Dates are "MM-DD" within the report's year. "X_before" means strictly before that day; a window
// includes both of its days. docs/reports.md explains each rule and where it comes from.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "communesync/storage/result.hpp"

namespace communesync::server {

//! A day of the year, "MM-DD".
struct MonthDay {
  unsigned month = 1;
  unsigned day = 1;
  //! "YYYY-MM-DD" of this day in `year`.
  std::string in(int year) const;
};

struct ReportRules {
  int year = 0;

  // A provincial department (loai "so_nganh"): households per block of staff, models per commune.
  // "Bình quân 10 biên chế, nhận giúp đỡ ít nhất 02 hộ nghèo/năm" is an average: staff x 2 / 10,
  // rounded to the nearest whole household, a half up (45 staff -> 9; 44 -> 8.8 -> 9; 42 -> 8.4 -> 8).
  int department_households_per_block = 2;
  int department_staff_block = 10;
  int department_models_per_commune = 1;  //!< "ít nhất 01 mô hình/xã/năm"

  // A lowland district, town or city (loai "huyen_dong_bang").
  int lowland_households = 10;                   //!< "ít nhất 10 hộ nghèo"
  std::int64_t lowland_money_vnd = 200'000'000;  //!< "ít nhất từ 200 triệu đồng/năm": money and in kind
  int lowland_models_per_commune = 2;            //!< "ít nhất 02 mô hình/xã/năm"

  // Every sponsor: a plan signed with each of its communes before this day ("Trước ngày 31/3"; for
  // 2022 only, the 2021 letter's 28/02/2022).
  MonthDay plan_signed_before{3, 31};

  // Every mountainous district and commune: needs proposals received before these days.
  // A plan or a needs proposal meets it ("có kế hoạch hoặc báo cáo đề xuất nhu cầu").
  MonthDay commune_needs_before{2, 28};   //!< "Trước 28/02 hằng năm"
  MonthDay district_needs_before{2, 28};  //!< the district's own compilation; 31/01 in 2022 only (the 2021 letter)
  // The year-end report of every sponsor, district and commune is entered in this window (the 2021
  // letter: 01/11 to 30/11, "quá thời hạn ... xem như đơn vị không triển khai").
  MonthDay report_window_from{11, 1};
  MonthDay report_window_to{11, 30};

  //! The province's time zone: received times are judged on its calendar (Vietnam: UTC+7).
  int utc_offset_minutes = 7 * 60;

  // Grading (section IV) is not a number here: targets.cpp proposes a grade from the figures, at
  // most "good" ("excellent" needs "các yếu tố tích cực khác", which only the Committee judges).
};

//! The seeds' rules for `year`.
ReportRules defaultReportRules(int year);

//! The rules for `year`: the defaults, then `overrides["default"]`, then `overrides["YEAR"]`.
//! Errors: kInvalidArgument naming the key at fault (an unknown rule, a bad date or number).
Result<ReportRules> reportRules(int year, const nlohmann::json& overrides);

//! Checks a config's "report_rules" value (every year it names). Errors: as reportRules.
Status checkReportRules(const nlohmann::json& overrides);

//! The rules as JSON, as reports carry them so a reader sees what they were judged by.
nlohmann::json reportRulesToJson(const ReportRules& rules);

}  // namespace communesync::server
