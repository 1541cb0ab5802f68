#include "report_api.hpp"

#include <set>

#include "api_request.hpp"
#include "communesync/server/programme_report.hpp"
#include "communesync/sync/review.hpp"
#include "http_json.hpp"
#include "sheet_download.hpp"

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
  for (const char* collection :
       {kSponsorForm, kPlanForm, kResultForm, kProposalForm, kAnnualReportForm, kLocalSetupForm, kHouseholdForm}) {
    auto records = state.data.liveRecords(collection, readable);
    if (!records) return records.status();
    auto& kept = data.records[collection];
    for (auto& r : *records) {
      if (rejected.count(r.key) == 0) kept.push_back(std::move(r));
    }
  }
  for (const char* collection : {kProposalForm, kAnnualReportForm}) {
    for (const auto& r : data.records[collection]) {
      auto history = state.data.history(r.key);
      if (!history) return history.status();
      if (!history->empty()) data.first_received_ms[r.key] = history->front().receive_ms;
    }
  }
  return data;
}

}  // namespace

HttpResponse programmeReport(const HttpRequest& request, ServerState& state, const std::vector<Scope>& readable,
                             std::string_view kind, const std::map<std::string, std::string>& params) {
  const auto year_text = param(params, "year");
  int year = 0;
  char tail = 0;
  if (std::sscanf(year_text.c_str(), "%d%c", &year, &tail) != 1 || year < 2000 || year > 2100) {
    return errorResponse(request, http::status::bad_request, "invalid_argument",
                         "say which year: ?year=YYYY (2000 to 2100)");
  }
  auto rules = reportRules(year, state.report_rules);
  if (!rules) return statusResponse(request, rules.status());
  if (kind == "rules") return jsonResponse(request, http::status::ok, {{"rules", reportRulesToJson(*rules)}});
  if (kind != "targets" && kind != "form1" && kind != "form2") {
    return errorResponse(request, http::status::not_found, "not_found",
                         "no report " + std::string(kind) + ": targets, form1, form2 or rules");
  }
  const auto units = state.directory.units();
  const auto unit = param(params, "unit");
  auto data = gather(state, readable, *units);
  if (!data) return statusResponse(request, data.status());
  const auto report = kind == "targets" ? targetsReport(*data, *rules, unit)
                      : kind == "form1" ? form1Report(*data, *rules, unit)
                                        : form2Report(*data, *rules, unit);
  const auto basename = std::string(kind) + "-" + std::to_string(year) + (unit.empty() ? "" : "-" + unit);
  if (auto file = sheetDownload(request, param(params, "format"), sheets::reportSheets(report), basename)) {
    return std::move(*file);
  }
  return jsonResponse(request, http::status::ok, report);
}

}  // namespace communesync::server
