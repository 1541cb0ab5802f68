// The reconciliation API: conflicts and their settlement, reviews, a record's history, exports.
// Every answer is limited to what the asker may read; settling and reviewing need a reconciler grant.
#include <chrono>
#include <fstream>
#include <optional>
#include <set>

#include "base/clock.hpp"
#include "communesync/sync/hybrid_clock.hpp"
#include "communesync/sync/json.hpp"
#include "communesync/sync/review.hpp"
#include "http/handlers.hpp"
#include "http/sheet_download.hpp"
#include "programme/programme_report.hpp"

namespace communesync::server {
namespace {

using nlohmann::json;

constexpr std::int64_t kDayMs = std::int64_t{24} * 60 * 60 * 1000;

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

Result<sync::Conflict> readableConflict(ServerState& state, const Asker& asker, const std::string& id) {
  auto c = state.data.conflict(id);
  if (!c) return c.status();
  if (!c->has_value() || !asker.mayRead((*c)->scope)) {
    return Status::error(ErrorCode::kNotFound, "no conflict " + id + " that you may see");
  }
  return std::move(c->value());
}

// A stamp newer than every stamp of `record` and of the conflict's sides: the resolution wins.
sync::Stamp newerThanAll(const sync::Record& record, const sync::Conflict& c, std::int64_t now_ms) {
  const sync::Stamp top = std::max({record.maxFieldStamp(), record.tombstone.stamp, c.kept.stamp, c.lost.stamp});
  return sync::stampAfter(top, now_ms, reconcilerDeviceId());
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

json reviewJson(const sync::Review& r, const Scope& scope) {
  return {{"collection", r.reviewed.collection},
          {"record", r.reviewed.id},
          {"scope", scope},
          {"state", sync::reviewStateName(r.state)},
          {"comment", r.comment},
          {"by", r.by},
          {"at_ms", r.at_ms}};
}

Status invalid(std::string message) {
  return Status::error(ErrorCode::kInvalidArgument, std::move(message));
}

}  // namespace

HttpResponse listConflicts(const ApiCall& call) {
  const auto& params = call.query;
  ConflictFilter filter;
  if (auto units = unitsAsked(call.state, params)) filter.units = std::move(*units);
  filter.collection = param(params, "collection");
  filter.field = param(params, "field");
  filter.author = param(params, "author");
  filter.open_only = param(params, "status") != "all";
  auto days = countParam(params, "older_than_days", 0, 0, 36500);
  if (!days) return call.fail(days.status());
  if (*days != 0) filter.detected_before_ms = nowMs() - static_cast<std::int64_t>(*days) * kDayMs;
  auto limit = countParam(params, "limit", filter.limit, 1, tuning::kMaxConflictList);
  if (!limit) return call.fail(limit.status());
  filter.limit = *limit;
  filter.after = param(params, "after");
  auto page = call.state.data.conflicts(call.asker->readable, filter);
  if (!page) return call.fail(page.status());
  json out = json::array();
  for (const auto& c : page->conflicts) out.push_back(conflictJson(c, call.state.data));
  json answer{{"conflicts", out}, {"partial", page->partial}};
  if (!page->next.empty()) answer["next"] = page->next;
  return call.ok(answer);
}

HttpResponse showConflict(const ApiCall& call) {
  auto c = readableConflict(call.state, *call.asker, call.parts.at(0));
  if (!c) return call.fail(c.status());
  auto record = call.state.data.record(c->key);
  if (!record) return call.fail(record.status());
  return call.ok({{"conflict", conflictJson(*c, call.state.data)},
                  {"record", record->has_value() ? sync::recordToJson(**record) : json(nullptr)}});
}

HttpResponse resolveConflict(const ApiCall& call) {
  auto& state = call.state;
  const auto& asker = *call.asker;
  const auto& id = call.parts.at(0);
  auto body = jsonBody(call.request);
  if (!body) return call.fail(body.status());
  auto c = readableConflict(state, asker, id);
  if (!c) return call.fail(c.status());
  if (!asker.maySettle(c->scope)) {
    return call.fail(Status::error(ErrorCode::kForbidden,
                                   "settling conflicts of " + c->scope + " needs a reconciler grant covering it"));
  }
  if (c->status != sync::ConflictStatus::kOpen) {
    return call.fail(
        Status::error(ErrorCode::kAlreadyExists, "conflict " + id + " was settled already by " + c->resolved_by));
  }
  const auto reason = body->value("reason", std::string());
  if (reason.empty()) return call.fail(invalid("say why: \"reason\" is required"));
  if (body->contains("take") == body->contains("value")) {
    return call.fail(invalid("give either \"take\": \"kept\" | \"lost\", or \"value\""));
  }
  std::optional<sync::Value> chosen;
  if (body->contains("take")) {
    const auto take = body->value("take", std::string());
    if (take != "kept" && take != "lost")
      return call.fail(invalid("\"take\" is \"kept\" or \"lost\" (the sides' ids)"));
    chosen = take == "kept" ? c->kept.value : c->lost.value;
  } else {
    if (c->field.empty()) return call.fail(invalid("a conflict about a deletion is settled by taking a side"));
    auto value = sync::valueFromJson((*body)["value"]);
    if (!value) return call.fail(value.status());
    chosen = std::move(value).value();
  }
  auto record = state.data.record(c->key);
  if (!record) return call.fail(record.status());
  if (!record->has_value()) return call.fail(Status::error(ErrorCode::kNotFound, "the record is gone"));
  auto change = resolutionChange(*c, **record, chosen, nowMs());
  if (!change) return call.fail(change.status());

  auto job = std::make_shared<PushJob>();
  job->server = true;
  job->user = asker.name;
  job->resolution = Resolution{id, asker.name, reason};
  job->changes.push_back(std::move(change).value());
  if (auto s = submitJob(state, job, "resolution"); !s) return call.fail(s);
  state.directory.audit(call.actor, "resolve",
                        id + " " + c->key.collection + "/" + c->key.id + " took " +
                            (body->contains("take") ? body->value("take", "") : "a value"));
  auto settled = readableConflict(state, asker, id);
  if (!settled) return call.fail(settled.status());
  return call.ok({{"conflict", conflictJson(*settled, state.data)}});
}

namespace {

// The columns of an export: the form's fields in its order, labelled Vietnamese first, then the
// fields no form names (free-form, or from older versions) that the records hold: a first pass.
Result<json> exportColumns(ServerState& state, const std::string& collection, const std::vector<Scope>& units) {
  json columns = json::array();
  std::set<std::string> named;
  if (auto form = state.forms.find(collection)) {
    for (const auto& f : form->fields) {
      columns.push_back({{"name", f.name}, {"vi", f.label.vi}, {"en", f.label.en}});
      named.insert(f.name);
    }
  }
  std::set<std::string> extra;
  CS_RETURN_IF_ERROR(state.data.forEachLiveRecord(collection, units, [&](const sync::Record& r) {
    for (const auto& [name, field] : r.fields) {
      if (named.count(name) == 0 && extra.size() < tuning::kMaxExportExtraColumns) extra.insert(name);
    }
    return true;
  }));
  for (const auto& name : extra) columns.push_back({{"name", name}, {"vi", name}, {"en", name}});
  return columns;
}

// The second pass: every record into `file`, in `format`; the records written.
Result<std::size_t> writeExport(ServerState& state, const std::string& collection, const std::vector<Scope>& units,
                                const json& columns, const std::string& format, const std::filesystem::path& file) {
  std::size_t written = 0;
  if (format == "xlsx") {
    auto sink = sheets::xlsxRows(file.string(), collection, sheets::exportHeaders(columns));
    if (!sink) return sink.status();
    Status failed;
    CS_RETURN_IF_ERROR(state.data.forEachLiveRecord(collection, units, [&](const sync::Record& r) {
      failed = (*sink)->row(sheets::exportRow(sync::recordToJson(r), columns));
      return failed && ++written;
    }));
    CS_RETURN_IF_ERROR(failed);
    CS_RETURN_IF_ERROR((*sink)->finish());
    return written;
  }
  std::ofstream out(file, std::ios::binary | std::ios::trunc);
  std::unique_ptr<sheets::RowSink> csv;
  if (format == "csv") {
    csv = sheets::csvRows(out, sheets::exportHeaders(columns));
  } else if (format != "jsonl") {
    out << R"({"collection":)" << json(collection).dump() << R"(,"columns":)" << columns.dump() << R"(,"records":[)";
  }
  CS_RETURN_IF_ERROR(state.data.forEachLiveRecord(collection, units, [&](const sync::Record& r) {
    const auto record = sync::recordToJson(r);
    if (csv) {
      (void)csv->row(sheets::exportRow(record, columns));
    } else if (format == "jsonl") {
      out << record.dump() << '\n';
    } else {
      out << (written == 0 ? "" : ",") << record.dump();
    }
    ++written;
    return static_cast<bool>(out);
  }));
  if (!csv && format != "jsonl") out << "]}\n";
  out.flush();
  if (!out)
    return Status::error(ErrorCode::kIoError, "the export could not be written to " + file.string() + " (disk full?)");
  return written;
}

}  // namespace

// The live records of a collection the asker may read (under `unit`, if given), with their columns.
// Written first into a temporary file, a record at a time, and sent from it: a whole province's
// export holds one record in the server's memory at a time, whatever its size (formats: JSON, JSON
// lines, CSV, XLSX in libxlsxwriter's constant-memory mode).
HttpResponse exportRecords(const ApiCall& call) {
  auto& state = call.state;
  const auto collection = percentDecoded(call.parts.at(0));
  if (collection.empty() || collection.front() == '_') {
    return call.fail(Status::error(ErrorCode::kNotFound, "no collection " + collection + " to export"));
  }
  const auto& params = call.query;
  auto format = param(params, "format");
  if (format.empty()) format = "json";
  if (format != "json" && format != "jsonl" && format != "csv" && format != "xlsx") {
    return call.fail(
        Status::error(ErrorCode::kInvalidArgument, "format is json, jsonl, csv or xlsx, not '" + format + "'"));
  }
  auto units = readableAsked(state, *call.asker, params);
  std::sort(units.begin(), units.end());
  auto columns = exportColumns(state, collection, units);
  if (!columns) return call.fail(columns.status());
  auto file = DownloadFile::create("." + format);
  if (!file) return call.fail(file.status());
  auto written = writeExport(state, collection, units, *columns, format, file->path());
  if (!written) return call.fail(written.status());
  const auto unit = param(params, "unit");
  state.directory.audit(call.actor, "export",
                        collection + (unit.empty() ? "" : " unit " + unit) + " (" + std::to_string(*written) +
                            " records, " + format + ")");
  const std::string type = format == "csv"     ? "text/csv; charset=utf-8"
                           : format == "xlsx"  ? "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
                           : format == "jsonl" ? "application/x-ndjson"
                                               : "application/json; charset=utf-8";
  auto answer = file->answer(call.request, type, collection + (unit.empty() ? "" : "-" + unit) + "." + format);
  if (!answer) return call.fail(answer.status());
  if (format == "json") answer->erase(http::field::content_disposition);  // the API's own answer, not a download
  return std::move(answer).value();
}

HttpResponse setReview(const ApiCall& call) {
  auto& state = call.state;
  const auto& asker = *call.asker;
  auto key = recordPath(call.parts.at(0));
  if (!key) return call.fail(Status::error(ErrorCode::kNotFound, "use /api/reviews/COLLECTION/ID"));
  auto body = jsonBody(call.request);
  if (!body) return call.fail(body.status());
  auto review_state = sync::reviewStateFromName(body->value("state", std::string()));
  if (!review_state || *review_state == sync::ReviewState::kReceived) {
    return call.fail(invalid("\"state\" is \"approved\", \"needs_edits\" or \"rejected\""));
  }
  const auto comment = body->value("comment", std::string());
  if (*review_state != sync::ReviewState::kApproved && comment.empty()) {
    return call.fail(invalid("say what is wrong: \"comment\" is required unless approving"));
  }
  auto record = state.data.record(*key);
  if (!record) return call.fail(record.status());
  if (!record->has_value() || (*record)->deleted() || !asker.mayRead((*record)->scope) || key->collection.empty() ||
      key->collection.front() == '_') {
    return call.fail(
        Status::error(ErrorCode::kNotFound, "no record " + key->collection + "/" + key->id + " that you may see"));
  }
  const auto scope = (*record)->scope;
  if (!asker.maySettle(scope)) {
    return call.fail(Status::error(ErrorCode::kForbidden,
                                   "reviewing records of " + scope + " needs a reconciler grant covering it"));
  }
  auto current = state.data.record({std::string(sync::kReviewsCollection), sync::reviewRecordId(*key)});
  if (!current) return call.fail(current.status());
  const sync::Review review{*key, *review_state, comment, asker.name, nowMs()};
  auto job = std::make_shared<PushJob>();
  job->server = true;
  job->user = asker.name;
  job->server_numbered = true;
  job->changes.push_back(sync::reviewChange(review, scope, *current, sync::ChangeId{}, review.at_ms));
  if (auto s = submitJob(state, job, "review"); !s) return call.fail(s);
  state.directory.audit(call.actor, "review",
                        key->collection + "/" + key->id + " " + std::string(sync::reviewStateName(*review_state)));
  return call.ok({{"review", reviewJson(review, scope)}});
}

// The Committee's grade of a sponsor, district or commune for a year, beside the software's proposal.
HttpResponse setCommitteeGrade(const ApiCall& call) {
  auto& state = call.state;
  const auto& asker = *call.asker;
  auto body = jsonBody(call.request);
  if (!body) return call.fail(body.status());
  const auto year = body->value("year", 0);
  if (year < 2000 || year > 2100) return call.fail(invalid("\"year\" is the year graded, e.g. 2025"));
  const auto grade = gradeFromName(body->value("grade", std::string()));
  if (!grade) {
    return call.fail(invalid("\"grade\" is \"excellent\", \"good\", \"fair\", \"average\" or \"weak\""));
  }
  const auto reason = body->value("reason", std::string());
  if (reason.empty()) return call.fail(invalid("say why: \"reason\" is required (the Committee's decision)"));
  if (reason.size() > tuning::kMaxReasonBytes) return call.fail(invalid("\"reason\" is too long"));
  // Who: a sponsor (its sponsor_unit record id) or a unit of the tree (its code); kept in its scope.
  const auto subject = body->value("subject", std::string());
  std::optional<Scope> scope;
  if (auto sponsor = state.data.record({kSponsorForm, subject}); sponsor && sponsor->has_value()) {
    if (!(*sponsor)->deleted()) scope = (*sponsor)->scope;
  } else if (state.directory.units()->find(subject) != nullptr) {
    scope = subject;
  }
  if (!scope || !asker.mayRead(*scope)) {
    return call.fail(Status::error(ErrorCode::kNotFound, "no sponsor or unit '" + subject + "' that you may see"));
  }
  if (!asker.maySettle(*scope)) {
    return call.fail(Status::error(ErrorCode::kForbidden,
                                   "recording grades in " + *scope + " needs a reconciler grant covering it"));
  }
  const sync::RecordKey key{kCommitteeGrades, std::to_string(year) + "/" + subject};
  auto current = state.data.record(key);
  if (!current) return call.fail(current.status());
  const CommitteeGrade decided{year, subject, *grade, reason, asker.name, nowMs()};
  auto job = std::make_shared<PushJob>();
  job->server = true;
  job->user = asker.name;
  job->server_numbered = true;
  job->changes.push_back(sync::serverChange(key, *scope, *current,
                                            {{"year", sync::Value(static_cast<std::int64_t>(year))},
                                             {"subject", sync::Value(subject)},
                                             {"grade", sync::Value(std::string(gradeName(*grade)))},
                                             {"reason", sync::Value(reason)},
                                             {"by", sync::Value(asker.name)},
                                             {"at_ms", sync::Value(decided.at_ms)}},
                                            sync::ChangeId{}, decided.at_ms));
  if (auto s = submitJob(state, job, "grade"); !s) return call.fail(s);
  state.directory.audit(call.actor, "committee_grade", key.id + " " + gradeName(*grade) + ": " + reason);
  return call.ok({{"grade", committeeGradeToJson(decided)}});
}

HttpResponse listReviews(const ApiCall& call) {
  const auto& params = call.query;
  const auto& readable = call.asker->readable;
  std::vector<Scope> units;
  for (const auto& u : unitsAsked(call.state, params).value_or(readable)) {
    if (std::binary_search(readable.begin(), readable.end(), u)) units.push_back(u);
  }
  std::sort(units.begin(), units.end());
  units.erase(std::unique(units.begin(), units.end()), units.end());
  std::optional<sync::ReviewState> state;
  if (const auto wanted = param(params, "state"); !wanted.empty()) {
    state = sync::reviewStateFromName(wanted);
    if (!state) return call.fail(invalid("state is received, approved, needs_edits or rejected"));
  }
  auto limit = countParam(params, "limit", tuning::kMaxReviewList, 1, tuning::kMaxReviewList);
  if (!limit) return call.fail(limit.status());
  auto page = call.state.data.reviewPage(units, state, param(params, "after"), *limit);
  if (!page) return call.fail(page.status());
  json out = json::array();
  for (const auto& r : page->reviews) {
    if (auto review = sync::reviewOf(r)) out.push_back(reviewJson(*review, r.scope));
  }
  json answer{{"reviews", out}};
  if (!page->next.empty()) answer["next"] = page->next;
  return call.ok(answer);
}

HttpResponse recordHistory(const ApiCall& call) {
  auto& state = call.state;
  auto key = recordPath(call.parts.at(0));
  if (!key) return call.fail(Status::error(ErrorCode::kNotFound, "use /api/history/COLLECTION/ID"));
  auto record = state.data.record(*key);
  if (!record) return call.fail(record.status());
  if (!record->has_value() || !call.asker->mayRead((*record)->scope)) {
    return call.fail(
        Status::error(ErrorCode::kNotFound, "no record " + key->collection + "/" + key->id + " that you may see"));
  }
  auto history = state.data.history(*key);
  if (!history) return call.fail(history.status());
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
  return call.ok({{"record", rec}, {"history", versions}});
}

}  // namespace communesync::server
