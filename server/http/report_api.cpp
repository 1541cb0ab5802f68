// The programme's reports over HTTP: /api/reports/KIND?year=Y&unit=U&format=json|csv|xlsx, from what
// the asker may read (programme/programme_report.hpp computes them).
#include <set>

#include "base/clock.hpp"
#include "communesync/sync/review.hpp"
#include "http/handlers.hpp"
#include "http/sheet_download.hpp"
#include "programme/facts.hpp"
#include "programme/programme_report.hpp"

namespace communesync::server {
namespace {

// The records the reports read, as far as the asker may read them, without those a reviewer rejected;
// and when the server first received the ones whose sending has a deadline.
Result<ReportData> gather(ServerState& state, const std::vector<Scope>& readable, const UnitTree& units) {
  ReportData data;
  data.units = &units;
  std::set<sync::RecordKey> rejected;
  auto reviews = state.data.reviews(readable, readable);
  if (!reviews) return reviews.status();
  for (const auto& r : *reviews) {
    if (auto review = sync::reviewOf(r); review && review->state == sync::ReviewState::kRejected) {
      rejected.insert(review->reviewed);
    }
  }
  for (const char* collection : {kSponsorForm, kPlanForm, kResultForm, kProposalForm, kAnnualReportForm,
                                 kLocalSetupForm, kHouseholdForm, kAssignmentForm, kStaffForm}) {
    auto records = state.data.liveRecords(collection, readable);
    if (!records) return records.status();
    auto& kept = data.records[collection];
    for (auto& r : *records) {
      if (rejected.count(r.key) == 0) kept.push_back(std::move(r));
    }
  }
  // The Committee's grades, beside the proposals (no review applies to them).
  auto grades = state.data.liveRecords(kCommitteeGrades, readable);
  if (!grades) return grades.status();
  data.records[kCommitteeGrades] = std::move(grades).value();
  for (const char* collection : {kProposalForm, kAnnualReportForm}) {
    for (const auto& r : data.records[collection]) {
      auto history = state.data.history(r.key);
      if (!history) return history.status();
      if (!history->empty()) data.first_received_ms[r.key] = history->front().receive_ms;
    }
  }
  return data;
}

// The five-year review: /api/reports/review?from=Y1&to=Y2[&unit=U], each year by its own rules.
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
  auto data = gather(call.state, call.asker->readable, *units);
  if (!data) return statusResponse(request, data.status());
  const auto unit = param(call.query, "unit");
  const auto report = server::reviewReport(*data, rules, unit);
  const auto basename =
      "review-" + std::to_string(*from) + "-" + std::to_string(*to) + (unit.empty() ? "" : "-" + unit);
  if (auto file = sheetDownload(request, param(call.query, "format"), sheets::reportSheets(report), basename)) {
    return std::move(*file);
  }
  return jsonResponse(request, http::status::ok, report);
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
  auto data = gather(state, readable, *units);
  if (!data) return statusResponse(request, data.status());
  const auto report = kind == "targets"    ? targetsReport(*data, *rules, unit)
                      : kind == "form1"    ? form1Report(*data, *rules, unit)
                      : kind == "form2"    ? form2Report(*data, *rules, unit)
                      : kind == "twinning" ? twinningReport(*data, *rules, unit)
                                           : dueReport(*data, *rules, unit, today);
  const auto basename = std::string(kind) + "-" + std::to_string(year) + (unit.empty() ? "" : "-" + unit);
  if (auto file = sheetDownload(request, param(params, "format"), sheets::reportSheets(report), basename)) {
    return std::move(*file);
  }
  return jsonResponse(request, http::status::ok, report);
}

}  // namespace communesync::server
