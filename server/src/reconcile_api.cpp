#include "reconcile_api.hpp"

#include <chrono>
#include <optional>
#include <set>

#include "api_request.hpp"
#include "communesync/sync/json.hpp"
#include "communesync/sync/review.hpp"
#include "dashboard_api.hpp"
#include "http_json.hpp"
#include "report_api.hpp"
#include "sheet_download.hpp"

namespace communesync::server {
namespace {

using nlohmann::json;

constexpr std::int64_t kDayMs = 24 * 60 * 60 * 1000;

// A conflict with who wrote each side and when the server received it, and what both had seen.
json conflictJson(const sync::Conflict& c, const ServerStore& data) {
  auto j = sync::conflictToJson(c);
  auto authors = data.conflictAuthors(c.id());
  const ConflictAuthors a = authors ? *authors : ConflictAuthors{};
  auto enrich = [](json& side, const sync::ConflictSide& s, const std::string& user, std::int64_t received) {
    side["user"] = user;
    side["captured_ms"] = s.stamp.wall_ms;
    side["received_ms"] = received;
  };
  enrich(j["kept"], c.kept, a.kept_user, a.kept_received_ms);
  enrich(j["lost"], c.lost, a.lost_user, a.lost_received_ms);
  j["kept"]["kept"] = true;
  j["lost"]["kept"] = false;
  j["values"] = json::array({j["kept"], j["lost"]});
  j["agreed"] = a.agreed_known ? sync::conflictSideToJson(a.agreed, "agreed") : json(nullptr);
  return j;
}

HttpResponse listConflicts(const HttpRequest& request, ServerState& state, const Asker& asker, std::string_view query) {
  const auto params = queryParams(query);
  ConflictFilter filter;
  if (auto units = unitsAsked(state, params)) filter.units = std::move(*units);
  filter.collection = param(params, "collection");
  filter.field = param(params, "field");
  filter.author = param(params, "author");
  filter.open_only = param(params, "status") != "all";
  try {
    if (auto days = param(params, "older_than_days"); !days.empty()) {
      filter.detected_before_ms = nowMs() - std::stoll(days) * kDayMs;
    }
    if (auto limit = param(params, "limit"); !limit.empty()) {
      filter.limit = std::clamp<std::size_t>(std::stoul(limit), 1, tuning::kMaxConflictList);
    }
  } catch (const std::exception&) {
    return errorResponse(request, http::status::bad_request, "invalid_argument",
                         "older_than_days and limit must be whole numbers");
  }
  auto conflicts = state.data.conflicts(asker.readable, filter);
  if (!conflicts) return statusResponse(request, conflicts.status());
  json out = json::array();
  for (const auto& c : *conflicts) out.push_back(conflictJson(c, state.data));
  return jsonResponse(request, http::status::ok, {{"conflicts", out}});
}

Result<sync::Conflict> readableConflict(ServerState& state, const Asker& asker, const std::string& id) {
  auto c = state.data.conflict(id);
  if (!c) return c.status();
  if (!c->has_value() || !asker.mayRead((*c)->scope)) {
    return Status::error(ErrorCode::kNotFound, "no conflict " + id + " that you may see");
  }
  return std::move(c->value());
}

HttpResponse showConflict(const HttpRequest& request, ServerState& state, const Asker& asker, const std::string& id) {
  auto c = readableConflict(state, asker, id);
  if (!c) return statusResponse(request, c.status());
  auto record = state.data.record(c->key);
  if (!record) return statusResponse(request, record.status());
  return jsonResponse(request, http::status::ok,
                      {{"conflict", conflictJson(*c, state.data)},
                       {"record", record->has_value() ? sync::recordToJson(**record) : json(nullptr)}});
}

// A stamp newer than every stamp of `record` and of the conflict's sides: the resolution wins.
sync::Stamp newerThanAll(const sync::Record& record, const sync::Conflict& c, std::int64_t now_ms) {
  sync::Stamp top = std::max({record.maxFieldStamp(), record.tombstone.stamp, c.kept.stamp, c.lost.stamp});
  if (now_ms > top.wall_ms) return sync::Stamp{now_ms, 0, reconcilerDeviceId()};
  return sync::Stamp{top.wall_ms, top.counter + 1, reconcilerDeviceId()};
}

// The change that settles `c` with `chosen` (a value, or nullopt: the record's deletion). A conflict
// about a deletion (no field) taking the value side re-asserts every field, which brings the record back.
Result<sync::Change> resolutionChange(const sync::Conflict& c, const sync::Record& record,
                                      const std::optional<sync::Value>& chosen, std::int64_t now_ms) {
  sync::Change change;
  change.key = c.key;
  change.scope = c.scope;
  change.form_version = record.form_version;
  change.capture_time_ms = now_ms;
  change.seen_tombstone = record.tombstone.stamp;
  const auto stamp = newerThanAll(record, c, now_ms);
  if (!chosen) {
    sync::Deletion d;
    d.stamp = stamp;
    for (const auto& [name, field] : record.fields) d.seen.emplace(name, field.stamp);
    change.deletion = std::move(d);
  } else if (!c.field.empty()) {
    auto value = sync::normalizeValue(*chosen);
    if (!value) return value.status();
    change.assignments.push_back({c.field, std::move(value).value(), stamp, record.fieldStamp(c.field)});
  } else {
    for (const auto& [name, field] : record.fields) {
      change.assignments.push_back({name, field.value, stamp, field.stamp});
    }
    if (change.assignments.empty()) {
      return Status::error(ErrorCode::kInvalidArgument, "the record has no field to bring back");
    }
  }
  return change;
}

HttpResponse resolveConflict(const HttpRequest& request, ServerState& state, const Asker& asker,
                             const std::string& id) {
  auto parsed = jsonBody(request);
  if (auto* res = std::get_if<HttpResponse>(&parsed)) return std::move(*res);
  auto& body = std::get<json>(parsed);
  auto c = readableConflict(state, asker, id);
  if (!c) return statusResponse(request, c.status());
  if (!asker.maySettle(c->scope)) {
    return errorResponse(request, http::status::forbidden, "forbidden",
                         "settling conflicts of " + c->scope + " needs a reconciler grant covering it");
  }
  if (c->status != sync::ConflictStatus::kOpen) {
    return errorResponse(request, http::status::conflict, "invalid_argument",
                         "conflict " + id + " was settled already by " + c->resolved_by);
  }
  const auto reason = body.value("reason", std::string());
  if (reason.empty()) {
    return errorResponse(request, http::status::bad_request, "invalid_argument", "say why: \"reason\" is required");
  }
  std::optional<sync::Value> chosen;
  if (body.contains("take") == body.contains("value")) {
    return errorResponse(request, http::status::bad_request, "invalid_argument",
                         "give either \"take\": \"kept\" | \"lost\", or \"value\"");
  }
  if (body.contains("take")) {
    const auto take = body.value("take", std::string());
    if (take != "kept" && take != "lost") {
      return errorResponse(request, http::status::bad_request, "invalid_argument",
                           "\"take\" is \"kept\" or \"lost\" (the sides' ids)");
    }
    chosen = take == "kept" ? c->kept.value : c->lost.value;
  } else {
    if (c->field.empty()) {
      return errorResponse(request, http::status::bad_request, "invalid_argument",
                           "a conflict about a deletion is settled by taking a side");
    }
    auto value = sync::valueFromJson(body["value"]);
    if (!value) return statusResponse(request, value.status());
    chosen = std::move(value).value();
  }
  auto record = state.data.record(c->key);
  if (!record) return statusResponse(request, record.status());
  if (!record->has_value()) return statusResponse(request, Status::error(ErrorCode::kNotFound, "the record is gone"));
  auto change = resolutionChange(*c, **record, chosen, nowMs());
  if (!change) return statusResponse(request, change.status());

  auto job = std::make_shared<PushJob>();
  job->server = true;
  job->user = asker.name;
  job->resolution = Resolution{id, asker.name, reason};
  job->changes.push_back(std::move(change).value());
  if (auto s = state.apply_job(job); !s) return statusResponse(request, s);
  if (job->results.empty() || job->results[0].outcome != sync::proto::Outcome::kAccepted) {
    const auto why = job->results.empty() ? std::string("no result") : job->results[0].reason;
    return errorResponse(request, http::status::bad_request, "rejected", "the resolution was refused: " + why);
  }
  auto settled = readableConflict(state, asker, id);
  if (!settled) return statusResponse(request, settled.status());
  return jsonResponse(request, http::status::ok, {{"conflict", conflictJson(*settled, state.data)}});
}

// ---- export ----

// The live records of a collection the asker may read (under `unit`, if given), with their columns:
// the form's fields in its order, labelled Vietnamese first (or the field names when there is no form).
HttpResponse exportRecords(const HttpRequest& request, ServerState& state, const Asker& asker,
                           const std::string& collection, std::string_view query) {
  if (collection.empty() || collection.front() == '_') {
    return errorResponse(request, http::status::not_found, "not_found", "no collection " + collection + " to export");
  }
  const auto params = queryParams(query);
  auto records = state.data.liveRecords(collection, readableAsked(state, asker, params));
  if (!records) return statusResponse(request, records.status());
  json columns = json::array();
  std::set<std::string> named;
  if (auto form = state.forms.find(collection)) {
    for (const auto& f : form->fields) {
      columns.push_back({{"name", f.name}, {"vi", f.label.vi}, {"en", f.label.en}});
      named.insert(f.name);
    }
  }
  std::set<std::string> extra;  // fields no form names (free-form, or from older versions)
  json rows = json::array();
  for (const auto& r : *records) {
    for (const auto& [name, field] : r.fields) {
      if (named.count(name) == 0) extra.insert(name);
    }
    rows.push_back(sync::recordToJson(r));
  }
  for (const auto& name : extra) columns.push_back({{"name", name}, {"vi", name}, {"en", name}});
  const json exported{{"collection", collection}, {"columns", columns}, {"records", rows}};
  const auto unit = param(params, "unit");
  if (auto file = sheetDownload(request, param(params, "format"), {sheets::exportSheet(exported, collection)},
                                collection + (unit.empty() ? "" : "-" + unit))) {
    return std::move(*file);
  }
  return jsonResponse(request, http::status::ok, exported);
}

// ---- reviews ----

json reviewJson(const sync::Review& r, const Scope& scope) {
  return {{"collection", r.reviewed.collection},
          {"record", r.reviewed.id},
          {"scope", scope},
          {"state", sync::reviewStateName(r.state)},
          {"comment", r.comment},
          {"by", r.by},
          {"at_ms", r.at_ms}};
}

HttpResponse setReview(const HttpRequest& request, ServerState& state, const Asker& asker, const sync::RecordKey& key) {
  auto parsed = jsonBody(request);
  if (auto* res = std::get_if<HttpResponse>(&parsed)) return std::move(*res);
  auto& body = std::get<json>(parsed);
  auto review_state = sync::reviewStateFromName(body.value("state", std::string()));
  if (!review_state || *review_state == sync::ReviewState::kReceived) {
    return errorResponse(request, http::status::bad_request, "invalid_argument",
                         "\"state\" is \"approved\", \"needs_edits\" or \"rejected\"");
  }
  const auto comment = body.value("comment", std::string());
  if (*review_state != sync::ReviewState::kApproved && comment.empty()) {
    return errorResponse(request, http::status::bad_request, "invalid_argument",
                         "say what is wrong: \"comment\" is required unless approving");
  }
  auto record = state.data.record(key);
  if (!record) return statusResponse(request, record.status());
  if (!record->has_value() || (*record)->deleted() || !asker.mayRead((*record)->scope) || key.collection.empty() ||
      key.collection.front() == '_') {
    return errorResponse(request, http::status::not_found, "not_found",
                         "no record " + key.collection + "/" + key.id + " that you may see");
  }
  const auto scope = (*record)->scope;
  if (!asker.maySettle(scope)) {
    return errorResponse(request, http::status::forbidden, "forbidden",
                         "reviewing records of " + scope + " needs a reconciler grant covering it");
  }
  auto current = state.data.record({std::string(sync::kReviewsCollection), sync::reviewRecordId(key)});
  if (!current) return statusResponse(request, current.status());
  const sync::Review review{key, *review_state, comment, asker.name, nowMs()};
  auto job = std::make_shared<PushJob>();
  job->server = true;
  job->user = asker.name;
  job->server_numbered = true;
  job->changes.push_back(sync::reviewChange(review, scope, *current, sync::ChangeId{}, review.at_ms));
  if (auto s = state.apply_job(job); !s) return statusResponse(request, s);
  if (job->results.empty() || job->results[0].outcome != sync::proto::Outcome::kAccepted) {
    const auto why = job->results.empty() ? std::string("no result") : job->results[0].reason;
    return errorResponse(request, http::status::bad_request, "rejected", "the review was refused: " + why);
  }
  return jsonResponse(request, http::status::ok, {{"review", reviewJson(review, scope)}});
}

HttpResponse listReviews(const HttpRequest& request, ServerState& state, const Asker& asker, std::string_view query) {
  const auto params = queryParams(query);
  const auto units = unitsAsked(state, params).value_or(asker.readable);
  const auto wanted = param(params, "state");
  auto records = state.data.reviews(asker.readable, units);
  if (!records) return statusResponse(request, records.status());
  json out = json::array();
  for (const auto& r : *records) {
    auto review = sync::reviewOf(r);
    if (!review || (!wanted.empty() && sync::reviewStateName(review->state) != wanted)) continue;
    out.push_back(reviewJson(*review, r.scope));
  }
  return jsonResponse(request, http::status::ok, {{"reviews", out}});
}

HttpResponse recordHistory(const HttpRequest& request, ServerState& state, const Asker& asker,
                           const sync::RecordKey& key) {
  auto record = state.data.record(key);
  if (!record) return statusResponse(request, record.status());
  if (!record->has_value() || !asker.mayRead((*record)->scope)) {
    return errorResponse(request, http::status::not_found, "not_found",
                         "no record " + key.collection + "/" + key.id + " that you may see");
  }
  auto history = state.data.history(key);
  if (!history) return statusResponse(request, history.status());
  json versions = json::array();
  for (const auto& h : *history) {
    json changed = json::object();
    for (const auto& a : h.change.assignments) changed[a.field] = sync::valueToJson(a.value);
    versions.push_back({{"log_seq", h.log_seq},
                        {"user", h.user},
                        {"device", h.change.id.device.hex()},
                        {"captured_ms", h.change.capture_time_ms},
                        {"received_ms", h.receive_ms},
                        {"changed", changed},
                        {"deleted", h.change.deletion.has_value()}});
  }
  json rec = sync::recordToJson(**record);
  rec["deleted"] = (*record)->deleted();
  return jsonResponse(request, http::status::ok, {{"record", rec}, {"history", versions}});
}

}  // namespace

HttpResponse reconcileApi(const HttpRequest& request, ServerState& state, const std::string& /*peer*/,
                          std::string_view path, std::string_view query) {
  auto asker = askerOf(request, state);
  if (!asker) {
    auto res = errorResponse(request, http::status::unauthorized, "unauthorized",
                             "this API needs 'Authorization: Bearer <token>': a user's token or the admin token");
    res.set(http::field::www_authenticate, "Bearer");
    return res;
  }
  if (auto answered = dashboardApi(request, state, *asker, path, query)) return std::move(*answered);
  const auto method = request.method();
  auto wrongMethod = [&](const char* use) {
    return errorResponse(request, http::status::method_not_allowed, "method_not_allowed", std::string("use ") + use);
  };
  constexpr std::string_view kConflicts = "/api/conflicts";
  constexpr std::string_view kHistory = "/api/history/";
  constexpr std::string_view kReviews = "/api/reviews";
  constexpr std::string_view kExport = "/api/export/";
  constexpr std::string_view kReports = "/api/reports/";
  if (path.substr(0, kReports.size()) == kReports) {
    if (method != http::verb::get) return wrongMethod("GET");
    return programmeReport(request, state, asker->readable, path.substr(kReports.size()), queryParams(query));
  }
  if (path.substr(0, kExport.size()) == kExport) {
    if (method != http::verb::get) return wrongMethod("GET");
    return exportRecords(request, state, *asker, percentDecoded(path.substr(kExport.size())), query);
  }
  if (path == kReviews) {
    if (method != http::verb::get) return wrongMethod("GET");
    return listReviews(request, state, *asker, query);
  }
  if (path.substr(0, kReviews.size() + 1) == std::string(kReviews) + "/") {
    if (method != http::verb::post) return wrongMethod("POST");
    auto key = recordPath(path.substr(kReviews.size() + 1));
    if (!key) return errorResponse(request, http::status::not_found, "not_found", "use /api/reviews/COLLECTION/ID");
    return setReview(request, state, *asker, *key);
  }
  if (path == kConflicts) {
    if (method != http::verb::get) return wrongMethod("GET");
    return listConflicts(request, state, *asker, query);
  }
  if (path.substr(0, kConflicts.size() + 1) == std::string(kConflicts) + "/") {
    auto rest = std::string(path.substr(kConflicts.size() + 1));
    constexpr std::string_view kResolve = "/resolve";
    if (rest.size() > kResolve.size() && rest.substr(rest.size() - kResolve.size()) == kResolve) {
      if (method != http::verb::post) return wrongMethod("POST");
      return resolveConflict(request, state, *asker, rest.substr(0, rest.size() - kResolve.size()));
    }
    if (method != http::verb::get) return wrongMethod("GET");
    return showConflict(request, state, *asker, rest);
  }
  if (path.substr(0, kHistory.size()) == kHistory) {
    if (method != http::verb::get) return wrongMethod("GET");
    auto key = recordPath(path.substr(kHistory.size()));
    if (!key) return errorResponse(request, http::status::not_found, "not_found", "use /api/history/COLLECTION/ID");
    return recordHistory(request, state, *asker, *key);
  }
  return errorResponse(request, http::status::not_found, "not_found", "no such path: " + std::string(path));
}

}  // namespace communesync::server
