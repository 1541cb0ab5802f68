// The programme's reports over HTTP: /api/reports/KIND?year=Y&unit=U&format=json|csv|xlsx, from what
// the asker may read (programme/programme_report.hpp computes them).
#include <set>
#include <span>

#include "base/clock.hpp"
#include "communesync/sync/review.hpp"
#include "http/handlers.hpp"
#include "http/sheet_download.hpp"
#include "programme/facts.hpp"
#include "programme/programme_report.hpp"

namespace communesync::server {
namespace {

// The records the reports read, as far as the asker may read them, without those a reviewer
// rejected: the sponsors, assignments and staff, the records of `years` (by their `nam`) of the
// other forms, and the survey counts the writer keeps (store/views.hpp) in place of the surveys;
// and when the server first received the ones whose sending has a deadline. What is held is one
// year's records of a province (a few tens of thousands), not its store.
Result<ReportData> gather(ServerState& state, const std::vector<Scope>& readable, const UnitTree& units,
                          const std::set<int>& years) {
  ReportData data;
  data.units = &units;
  static constexpr const char* kAnyYear[] = {kSponsorForm, kAssignmentForm, kStaffForm};
  static constexpr const char* kOfAYear[] = {kPlanForm, kResultForm, kProposalForm, kAnnualReportForm, kLocalSetupForm};
  std::set<sync::RecordKey> rejected;  // from the index of records by review state
  for (const auto& unit : readable) {
    for (const auto forms : {std::span<const char* const>(kAnyYear), std::span<const char* const>(kOfAYear)}) {
      for (const char* collection : forms) {
        CS_RETURN_IF_ERROR(state.data.forEachIndexed(unit, collection, sync::ReviewState::kRejected,
                                                     [&](std::string_view id, std::int64_t) {
                                                       rejected.insert({collection, std::string(id)});
                                                     }));
      }
    }
  }
  std::size_t held = 0;
  auto read = [&](const char* collection, bool of_a_year) -> Status {
    auto& kept = data.records[collection];
    bool over = false;
    CS_RETURN_IF_ERROR(state.data.forEachLiveRecord(collection, readable, [&](const sync::Record& r) {
      if (rejected.count(r.key) != 0) return true;
      if (of_a_year && years.count(static_cast<int>(programme::wholeField(r, "nam"))) == 0) return true;
      if (++held > tuning::kMaxReportRecords) return !(over = true);
      kept.push_back(r);
      return true;
    }));
    if (over) {
      return Status::error(ErrorCode::kLimitExceeded, "the report's years hold more than " +
                                                          std::to_string(tuning::kMaxReportRecords) +
                                                          " records: ask for one unit, or fewer years");
    }
    return Status::ok();
  };
  for (const char* collection : kAnyYear) CS_RETURN_IF_ERROR(read(collection, false));
  for (const char* collection : kOfAYear) CS_RETURN_IF_ERROR(read(collection, true));
  auto surveys = state.data.surveyCounts(readable);
  if (!surveys) return surveys.status();
  data.surveys = std::move(surveys).value();
  // The Committee's grades, beside the proposals (no review applies to them).
  CS_RETURN_IF_ERROR(state.data.forEachLiveRecord(kCommitteeGrades, readable, [&](const sync::Record& r) {
    data.records[kCommitteeGrades].push_back(r);
    return true;
  }));
  // When each proposal and year-end report was first received: from the index of records by when
  // the server first accepted them.
  for (const char* collection : {kProposalForm, kAnnualReportForm}) {
    std::set<std::string> held_ids;
    for (const auto& r : data.records[collection]) held_ids.insert(r.key.id);
    for (const auto& unit : readable) {
      CS_RETURN_IF_ERROR(
          state.data.forEachIndexed(unit, collection, std::nullopt, [&](std::string_view id, std::int64_t created_ms) {
            if (held_ids.count(std::string(id)) != 0) {
              data.first_received_ms[{collection, std::string(id)}] = created_ms;
            }
          }));
    }
  }
  return data;
}

// The five-year review: /api/reports/review?from=Y1&to=Y2[&unit=U], each year by its own rules.
// A report as the file `format` asks for (csv, xlsx), else as JSON.
HttpResponse reportResponse(const ApiCall& call, const nlohmann::json& report, const std::string& basename) {
  if (auto file = sheetDownload(call.request, param(call.query, "format"), sheets::reportSheets(report), basename)) {
    return std::move(*file);
  }
  return jsonResponse(call.request, http::status::ok, report);
}

HttpResponse reviewReport(const ApiCall& call) {
  const auto& request = call.request;
  auto from = countParam(call.query, "from", 0, 0, 10000);
  auto to = countParam(call.query, "to", 0, 0, 10000);
  if (!from || !to || *from < 2000 || *to > 2100 || *to < *from || *to - *from + 1 > kMaxReviewYears) {
    return call.fail(
        Status::error(ErrorCode::kInvalidArgument, "say which years: ?from=YYYY&to=YYYY, from 2000 to 2100, at most " +
                                                       std::to_string(kMaxReviewYears) + " years"));
  }
  std::vector<ReportRules> rules;
  for (auto y = *from; y <= *to; ++y) {
    auto of_year = reportRules(static_cast<int>(y), call.state.report_rules);
    if (!of_year) return statusResponse(request, of_year.status());
    rules.push_back(std::move(of_year).value());
  }
  const auto units = call.state.directory.units();
  std::set<int> years;
  for (auto y = *from; y <= *to; ++y) years.insert(static_cast<int>(y));
  auto data = gather(call.state, call.asker->readable, *units, years);
  if (!data) return statusResponse(request, data.status());
  const auto unit = param(call.query, "unit");
  const auto report = server::reviewReport(*data, rules, unit);
  return reportResponse(
      call, report, "review-" + std::to_string(*from) + "-" + std::to_string(*to) + (unit.empty() ? "" : "-" + unit));
}

}  // namespace

HttpResponse programmeReport(const ApiCall& call) {
  const auto& request = call.request;
  auto& state = call.state;
  const auto& params = call.query;
  const auto& readable = call.asker->readable;
  const std::string_view kind = call.parts.at(0);
  if (kind == "review") return reviewReport(call);
  auto asked_year = yearParam(params);
  if (!asked_year) return call.fail(asked_year.status());
  const int year = *asked_year;
  auto rules = reportRules(year, state.report_rules);
  if (!rules) return statusResponse(request, rules.status());
  if (kind == "rules") return jsonResponse(request, http::status::ok, {{"rules", reportRulesToJson(*rules)}});
  if (kind != "targets" && kind != "form1" && kind != "form2" && kind != "due" && kind != "twinning") {
    return statusResponse(
        request, Status::error(ErrorCode::kNotFound, "no report " + std::string(kind) +
                                                         ": targets, form1, form2, due, twinning, review or rules"));
  }
  // "due" is as of a day: today on the province's calendar, or `today=YYYY-MM-DD`.
  auto today = param(params, "today");
  if (today.empty()) today = programme::localDate(nowMs(), rules->utc_offset_minutes);
  if (kind == "due" && !programme::isDay(today)) {
    return statusResponse(request, Status::error(ErrorCode::kInvalidArgument, "\"today\" is a day YYYY-MM-DD"));
  }
  const auto units = state.directory.units();
  const auto unit = param(params, "unit");
  auto data = gather(state, readable, *units, {year});
  if (!data) return statusResponse(request, data.status());
  const auto report = kind == "targets"    ? targetsReport(*data, *rules, unit)
                      : kind == "form1"    ? form1Report(*data, *rules, unit)
                      : kind == "form2"    ? form2Report(*data, *rules, unit)
                      : kind == "twinning" ? twinningReport(*data, *rules, unit)
                                           : dueReport(*data, *rules, unit, today);
  return reportResponse(call, report,
                        std::string(kind) + "-" + std::to_string(year) + (unit.empty() ? "" : "-" + unit));
}

}  // namespace communesync::server
