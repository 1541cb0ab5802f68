// Every handler of the route table (routes.cpp), by the file it lives in. Each is a function of one
// ApiCall: call it directly in a test, no socket needed (tests/server/http_routes_test.cpp).
#pragma once

#include "http/api_request.hpp"

namespace communesync::server {

// login_api.cpp: health and device login.
HttpResponse health(const ApiCall& call);
//! The field app's settings (how it shrinks photos): nothing secret, read before login.
HttpResponse fieldAppSettings(const ApiCall& call);
HttpResponse login(const ApiCall& call);

// backup_api.cpp: online backup (store/backup.hpp).
HttpResponse makeBackup(const ApiCall& call);
HttpResponse backupFile(const ApiCall& call);
HttpResponse dropBackup(const ApiCall& call);

// metrics_api.cpp: GET /metrics in Prometheus' text format.
HttpResponse metricsText(const ApiCall& call);

// admin_api.cpp: users, units, forms, the audit log (docs/admin-api.md).
HttpResponse addUser(const ApiCall& call);
HttpResponse listUsers(const ApiCall& call);
HttpResponse grantUser(const ApiCall& call);
HttpResponse revokeUser(const ApiCall& call);
HttpResponse setUserPassword(const ApiCall& call);
HttpResponse listUnits(const ApiCall& call);
HttpResponse importUnits(const ApiCall& call);
HttpResponse mergeUnits(const ApiCall& call);
HttpResponse publishForm(const ApiCall& call);
HttpResponse listForms(const ApiCall& call);
HttpResponse showForm(const ApiCall& call);
HttpResponse auditLog(const ApiCall& call);

// reconcile_api.cpp: conflicts, reviews, history, exports.
HttpResponse listConflicts(const ApiCall& call);
HttpResponse showConflict(const ApiCall& call);
HttpResponse resolveConflict(const ApiCall& call);
HttpResponse exportRecords(const ApiCall& call);
HttpResponse listReviews(const ApiCall& call);
HttpResponse setReview(const ApiCall& call);
HttpResponse setCommitteeGrade(const ApiCall& call);
HttpResponse recordHistory(const ApiCall& call);

// dashboard_api.cpp: what the web page needs beyond that.
HttpResponse me(const ApiCall& call);
HttpResponse overview(const ApiCall& call);
HttpResponse listRecords(const ApiCall& call);
HttpResponse listDevices(const ApiCall& call);
HttpResponse fileBytes(const ApiCall& call);

// report_api.cpp: the programme's reports.
HttpResponse programmeReport(const ApiCall& call);

}  // namespace communesync::server
