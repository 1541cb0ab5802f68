// The programme's reports over HTTP (docs/admin-api.md), for the reconcilers and the web page:
//
//   GET /api/reports/targets?year=YYYY&unit=U  -> 200 REPORT   targets and grades with their reasons
//   GET /api/reports/form1?year=YYYY&unit=U    -> 200 REPORT   Form 1 (Biểu số 1): sponsors' reports
//   GET /api/reports/form2?year=YYYY&unit=U    -> 200 REPORT   Form 2 (Biểu số 2): districts' reports
//   GET /api/reports/rules?year=YYYY           -> 200 {"rules":{...}}  the rules that year is judged by
//
// REPORT is programme_report.hpp's shape. Computed from the records the asker may read; records a
// reviewer rejected do not count.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "communesync/server/http_handler.hpp"

namespace communesync::server {

HttpResponse programmeReport(const HttpRequest& request, ServerState& state, const std::vector<Scope>& readable,
                             std::string_view kind, const std::map<std::string, std::string>& params);

}  // namespace communesync::server
