// The reconciliation API (docs/admin-api.md): conflicts and record histories for the people who
// settle them. Answered on any interface (reconcilers work from the provincial office), to the admin
// token or to a user token: a user sees the units its grants let it read, and settles conflicts
// only where a reconciler grant covers them.
//
//   GET  /api/conflicts?unit=U&collection=C&field=F&author=USER&older_than_days=N&status=open|all&limit=N
//                                   -> 200 {"conflicts":[CONFLICT...]}   newest first
//   GET  /api/conflicts/ID          -> 200 {"conflict":CONFLICT,"record":RECORD|null}
//   POST /api/conflicts/ID/resolve  {"take":"kept"|"lost"} or {"value":JSON}, and {"reason":TEXT}
//                                   -> 200 {"conflict":CONFLICT}         (settled, with who, when, why)
//   GET  /api/history/COLLECTION/ID -> 200 {"record":RECORD|null,"history":[VERSION...]}   oldest first
//   POST /api/reviews/COLLECTION/ID {"state":"approved"|"needs_edits"|"rejected","comment":TEXT}
//                                   -> 200 {"review":REVIEW}
//   GET  /api/reviews?unit=U&state=S -> 200 {"reviews":[REVIEW...]}
//   GET  /api/export/COLLECTION?unit=U -> 200 {"collection","columns":[{"name","vi","en"}],"records":[RECORD...]}
//   GET  /api/reports/KIND?year=YYYY&unit=U -> the programme's reports (report_api.hpp)
#pragma once

#include <string>
#include <string_view>

#include "communesync/server/http_handler.hpp"

namespace communesync::server {

HttpResponse reconcileApi(const HttpRequest& request, ServerState& state, const std::string& peer,
                          std::string_view path, std::string_view query);

}  // namespace communesync::server
