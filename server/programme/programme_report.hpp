// The twinning programme's yearly reports, computed from synced records: each sponsor's and each
// mountainous district's and commune's targets with a grade and its reasons (Decision 1100, section
// III-IV), Form 1 (a sponsor's report) and Form 2 (a district's report compiled from its communes).
//
// Pure functions of the records, the unit tree and the year's rules: no store, no clock, no network,
// so the tests feed them a fixture year and compare with figures worked out by hand. The server's
// API (report_api.cpp) gathers the records a user may read and answers with these.
//
// How records are read (docs/reports.md says it for users):
// - A sponsor is a `sponsor_unit` record; `twinning_plan`, `support_result` and `annual_report`
//   records name it in `don_vi_ket_nghia`, by its record id or by its name (accents, case and spaces
//   as typed do not matter). Whom it helps in a year are its `twinning_assignment` records in force
//   on the year's reporting day (a commune, or a whole district); for a sponsor with none recorded,
//   the unit codes listed in its `xa_ket_nghia`. Its staff of a year is its `sponsor_staff` record
//   of the year, else `bien_che`.
// - A record belongs to the commune its unit is in (a village counts for its commune).
// - Dates people write on a document (a plan's `ngay_ky`) are taken as written. When something was
//   *sent* (needs proposals, year-end reports) is when the server first received it, on the
//   province's calendar: a phone's clock is not trusted.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "communesync/sync/record.hpp"
#include "programme/report_rules.hpp"
#include "programme/units.hpp"

namespace communesync::server {

//! The collections (forms) the reports read, in the order ReportData holds them.
inline constexpr const char* kSponsorForm = "sponsor_unit";
inline constexpr const char* kPlanForm = "twinning_plan";
inline constexpr const char* kResultForm = "support_result";
inline constexpr const char* kProposalForm = "needs_proposal";
inline constexpr const char* kAnnualReportForm = "annual_report";
inline constexpr const char* kLocalSetupForm = "local_setup";
inline constexpr const char* kHouseholdForm = "household_survey";
//! Who is twinned with whom, from when to when, by which decision (dated facts: a reassignment does
//! not rewrite past years), and a sponsor's staff count of each year.
inline constexpr const char* kAssignmentForm = "twinning_assignment";
inline constexpr const char* kStaffForm = "sponsor_staff";

//! What the reports count of a household survey: the year of its `ngay_khao_sat` and whether its
//! `tinh_trang_ngheo` is "ngheo". Surveys are most of a province's records and the reports need
//! only how many there are, so the server keeps these counts per unit and year as surveys change
//! (store/views.hpp) instead of reading every survey for a report.
struct SurveyFacts {
  int year = 0;
  bool poor = false;
  bool operator==(const SurveyFacts&) const = default;
};
//! nullopt: not a household survey, or its survey date has no year.
std::optional<SurveyFacts> surveyFactsOf(const sync::Record& record);

struct SurveyCount {
  std::int64_t surveyed = 0;
  std::int64_t poor = 0;
};

struct ReportData {
  const UnitTree* units = nullptr;
  //! Live records by collection (the names above), household surveys aside.
  std::map<std::string, std::vector<sync::Record>> records;
  //! Live household surveys not rejected, counted by unit and survey year.
  std::map<std::string, std::map<int, SurveyCount>> surveys;
  //! When the server first received each needs proposal and year-end report (ms since the epoch).
  std::map<sync::RecordKey, std::int64_t> first_received_ms;

  const std::vector<sync::Record>& of(const std::string& collection) const;
  //! Counts a live survey into `surveys` (for data gathered by hand: the server reads its counts).
  void countSurvey(const sync::Record& record);
};

//! Text shown to people: Vietnamese first, with English.
struct Bilingual {
  std::string vi;
  std::string en;
};

enum class Grade : std::uint8_t { kExcellent, kGood, kFair, kAverage, kWeak };
//! "excellent", "good", "fair", "average", "weak".
const char* gradeName(Grade grade);
Bilingual gradeLabel(Grade grade);

//! One target of one unit, met or not, and why.
struct TargetCheck {
  std::string id;  //!< "households", "money", "models:COMMUNE", "plan:COMMUNE", "report", "local_plan", ...
  Bilingual label;
  std::optional<double> actual;    //!< for figures
  std::optional<double> required;  //!< for figures
  bool met = false;
  Bilingual reason;
  std::string deadline;  //!< "YYYY-MM-DD" it is due by, for targets with a date (plans, needs, reports)
};

//! The server's own collection of the grades the provincial Committee gave (section IV: "hoàn thành
//! xuất sắc" needs "các yếu tố tích cực khác", which only it judges): id "YEAR/SUBJECT", fields
//! year, subject, grade, reason, by, at_ms; written by a reconciler (POST /api/grades), audited.
inline constexpr const char* kCommitteeGrades = "_grades";

//! "excellent", "good", ... back to a grade; nullopt for any other text.
std::optional<Grade> gradeFromName(std::string_view name);

struct CommitteeGrade {
  int year = 0;
  std::string subject;  //!< the sponsor_unit record id, or the unit code
  Grade grade = Grade::kWeak;
  std::string reason;
  std::string by;
  std::int64_t at_ms = 0;
};
//! The Committee's grade a live _grades record holds; nullopt if it is not one.
std::optional<CommitteeGrade> committeeGradeOf(const sync::Record& record);

//! A sponsor's, a district's or a commune's year against its targets.
struct Assessment {
  std::string subject;  //!< "sponsor", "district", "commune"
  std::string id;       //!< the sponsor_unit record id, or the unit code
  std::string name;
  std::string kind;  //!< a sponsor's `loai`; the unit level otherwise
  std::vector<TargetCheck> checks;
  Grade grade = Grade::kWeak;  //!< the software's proposal, from the figures: at most good
  Bilingual grade_reason;
  std::optional<CommitteeGrade> committee;  //!< what the Committee decided, when recorded
};

//! Which units a report covers: `unit` is a sponsor (its record id or name), a unit code (the
//! sponsors twinned with communes under it, and the districts and communes in or above it), or empty
//! (everything the data holds).
std::vector<Assessment> assessTargets(const ReportData& data, const ReportRules& rules, const std::string& unit);

//! The reports as the API answers them:
//!   {"report","year","unit","title":{"vi","en"},"rules":{...},
//!    "sections":[{"name","title":{"vi","en"},"columns":[{"name","vi","en"}],"rows":[[cell...]]}],
//!    "assessments":[...]}      (targets and the forms' "targets" section carry the grades)
nlohmann::json targetsReport(const ReportData& data, const ReportRules& rules, const std::string& unit);
nlohmann::json form1Report(const ReportData& data, const ReportRules& rules, const std::string& unit);
nlohmann::json form2Report(const ReportData& data, const ReportRules& rules, const std::string& unit);
//! "Đôn đốc" (section VI.1): the units that have not yet met a deadline still to come on `today`
//! ("YYYY-MM-DD", the province's calendar): plans, needs proposals, year-end reports and their
//! assessments, soonest first, so staff chase them before the date, not after.
nlohmann::json dueReport(const ReportData& data, const ReportRules& rules, const std::string& unit,
                         const std::string& today);

//! The twinned pairs of the year (twinning_assignment records in force on any day of it), with their
//! decisions, the sponsor's staff of the year and whether each stood on the reporting day.
nlohmann::json twinningReport(const ReportData& data, const ReportRules& rules, const std::string& unit);
//! The five-year review ("05 năm tổ chức tổng kết", Directive 23): for each year of `years` (their
//! rules, ascending; at least one), each sponsor's and commune's figures and grades, then totals.
//! "from" and "to" name the range.
//! The longest range a review covers (a five-year review, twice over).
inline constexpr int kMaxReviewYears = 10;
nlohmann::json reviewReport(const ReportData& data, const std::vector<ReportRules>& years, const std::string& unit);

//! An assessment as JSON: its checks, the proposed grade and reason, and "committee" (or null).
nlohmann::json assessmentToJson(const Assessment& assessment);
//! {"year","subject","grade","grade_label":{"vi","en"},"reason","by","at_ms"}
nlohmann::json committeeGradeToJson(const CommitteeGrade& grade);

}  // namespace communesync::server
