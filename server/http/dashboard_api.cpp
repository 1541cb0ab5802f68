// What the web page needs beyond the reconciliation API (docs/admin-api.md, "For the web page"):
//
//   GET /api/me                       -> 200 {"user","admin","reconciler","grants","units","forms",
//                                              "server_time_ms","device_silent_days"}
//   GET /api/overview?year=YYYY&unit=U -> 200 {"year","units":{CODE:{"records":{FORM:n},"conflicts":n,
//                                              "reviews":{STATE:n}}}}   per unit, not rolled up
//   GET /api/records/COLLECTION?unit=U&q=TEXT&review=STATE&offset=N&limit=N
//                                     -> 200 {"collection","columns","total","offset","records":[RECORD+]}
//   GET /api/devices                  -> 200 {"device_silent_days","server_time_ms","devices":[DEVICE]}
//   GET /api/files/HASH               -> the file's bytes (a photo), if a record the asker may read refers to it
//
// Every answer is limited to what the asker may read, like the rest of /api/.

#include <algorithm>
#include <set>

#include "base/clock.hpp"
#include "base/tuning.hpp"
#include "communesync/sync/file_ref.hpp"
#include "communesync/sync/json.hpp"
#include "communesync/sync/review.hpp"
#include "communesync/sync/text.hpp"
#include "http/handlers.hpp"

namespace communesync::server {
namespace {

using nlohmann::json;

// When a record was first captured: its oldest field stamp (the device's clock, corrected).
std::int64_t firstCapturedMs(const sync::Record& r) {
  std::int64_t oldest = 0;
  for (const auto& [name, field] : r.fields) {
    if (field.stamp.wall_ms != 0 && (oldest == 0 || field.stamp.wall_ms < oldest)) oldest = field.stamp.wall_ms;
  }
  return oldest != 0 ? oldest : r.capture_time_ms;
}

// The year of a time on the province's calendar (UTC+7: the programme is in Viet Nam).
int localYear(std::int64_t ms) {
  constexpr std::int64_t kOffsetMs = std::int64_t{7} * 60 * 60 * 1000;
  const auto days = std::chrono::floor<std::chrono::days>(
      std::chrono::sys_time<std::chrono::milliseconds>(std::chrono::milliseconds(ms + kOffsetMs)));
  return static_cast<int>(std::chrono::year_month_day(days).year());
}

// The review state of each record that has one (records with none are "received").
Result<std::map<sync::RecordKey, sync::ReviewState>> reviewStates(ServerState& state, const Asker& asker,
                                                                  const std::vector<Scope>& units) {
  std::map<sync::RecordKey, sync::ReviewState> out;
  auto reviews = state.data.reviews(asker.readable, units);
  if (!reviews) return reviews.status();
  for (const auto& r : *reviews) {
    if (auto review = sync::reviewOf(r)) out[review->reviewed] = review->state;
  }
  return out;
}

}  // namespace

HttpResponse me(const ApiCall& call) {
  const auto& request = call.request;
  auto& state = call.state;
  const auto& asker = *call.asker;

  json grants = json::array();
  for (const auto& g : asker.access.grants()) grants.push_back(grantText(g));
  // Every unit the asker reads, named from the tree (a scope outside the tree is its own name).
  const auto tree = state.directory.units();
  json units = json::array();
  for (const auto& code : asker.readable) {
    if (code == kFormsScope) continue;  // where forms travel to devices: not a unit
    const Unit* u = tree->find(code);
    if (u == nullptr) {
      units.push_back({{"code", code}, {"parent_code", ""}, {"level", ""}, {"name", code}, {"merged_into", ""}});
      continue;
    }
    units.push_back({{"code", u->code},
                     {"parent_code", u->parent_code},
                     {"level", unitLevelName(u->level)},
                     {"name", u->name},
                     {"merged_into", u->merged_into}});
  }
  json forms = json::array();
  for (const auto& f : state.forms.all()) forms.push_back(json::parse(sync::formToJson(*f)));
  return jsonResponse(request, http::status::ok,
                      {{"user", asker.name},
                       {"admin", asker.isAdmin()},
                       {"reconciler", asker.admin_token || asker.access.isReconciler()},
                       {"grants", grants},
                       {"units", units},
                       {"forms", forms},
                       {"server_time_ms", nowMs()},
                       {"device_silent_days", state.device_silent_days}});
}

HttpResponse overview(const ApiCall& call) {
  const auto& request = call.request;
  auto& state = call.state;
  const auto& asker = *call.asker;

  const auto& params = call.query;
  auto asked_year = yearParam(params);
  if (!asked_year) return call.fail(asked_year.status());
  const int year = *asked_year;
  auto units = readableAsked(state, asker, params);
  std::sort(units.begin(), units.end());
  auto reviews = reviewStates(state, asker, units);
  if (!reviews) return statusResponse(request, reviews.status());
  json out = json::object();
  auto unitEntry = [&out](const Scope& scope) -> json& {
    auto& u = out[scope];
    if (u.is_null()) {
      u = {{"records", json::object()},
           {"conflicts", 0},
           {"reviews", {{"received", 0}, {"approved", 0}, {"needs_edits", 0}, {"rejected", 0}}}};
    }
    return u;
  };
  auto counted = state.data.forEachLiveRecord("", units, [&](const sync::Record& r) {
    if (localYear(firstCapturedMs(r)) != year) return true;
    auto& u = unitEntry(r.scope);
    u["records"][r.key.collection] = u["records"].value(r.key.collection, 0) + 1;
    auto it = reviews->find(r.key);
    const auto review = it == reviews->end() ? sync::ReviewState::kReceived : it->second;
    auto& count = u["reviews"][std::string(sync::reviewStateName(review))];
    count = count.get<int>() + 1;
    return true;
  });
  if (!counted) return statusResponse(request, counted);
  ConflictFilter filter;
  filter.units = units;
  filter.limit = tuning::kMaxConflictList;
  auto conflicts = state.data.conflicts(asker.readable, filter);
  if (!conflicts) return statusResponse(request, conflicts.status());
  for (const auto& c : *conflicts) {
    auto& u = unitEntry(c.scope);
    u["conflicts"] = u["conflicts"].get<int>() + 1;
  }
  return jsonResponse(request, http::status::ok, {{"year", year}, {"units", out}});
}

namespace {

// Whether a record matches a search: the folded text of its id, unit and every value holds `folded`.
bool matches(const sync::Record& r, const std::string& folded) {
  if (folded.empty()) return true;
  auto holds = [&folded](std::string_view text) { return sync::foldForSearch(text).find(folded) != std::string::npos; };
  if (holds(r.key.id) || holds(r.scope)) return true;
  for (const auto& [name, field] : r.fields) {
    if (holds(sync::valueToJson(field.value).dump())) return true;
  }
  return false;
}

}  // namespace

HttpResponse listRecords(const ApiCall& call) {
  const auto& request = call.request;
  auto& state = call.state;
  const auto& asker = *call.asker;
  const auto collection = percentDecoded(call.parts.at(0));

  if (collection.empty() || collection.front() == '_') {
    return statusResponse(request, Status::error(ErrorCode::kNotFound, "no collection '" + collection + "'"));
  }
  const auto& params = call.query;
  auto asked_offset = countParam(params, "offset", 0, 0, tuning::kMaxRecordsSearched);
  if (!asked_offset) return call.fail(asked_offset.status());
  auto asked_limit = countParam(params, "limit", 50, 1, tuning::kMaxRecordPage);
  if (!asked_limit) return call.fail(asked_limit.status());
  const std::size_t offset = *asked_offset;
  const std::size_t limit = *asked_limit;
  const auto wanted_review = param(params, "review");
  if (!wanted_review.empty() && !sync::reviewStateFromName(wanted_review)) {
    return statusResponse(
        request, Status::error(ErrorCode::kInvalidArgument, "review is received, approved, needs_edits or rejected"));
  }
  auto units = readableAsked(state, asker, params);
  std::sort(units.begin(), units.end());
  auto reviews = reviewStates(state, asker, units);
  if (!reviews) return statusResponse(request, reviews.status());
  const auto folded = sync::foldForSearch(param(params, "q"));
  // One pass over the records, one in memory at a time; of each match only what sorts it is kept
  // (a province's households would take hundreds of megabytes whole). The page's records are read
  // again at the end, and one deleted meanwhile is left out of the page.
  struct Match {
    std::int64_t received_ms;
    sync::RecordKey key;
    sync::ReviewState review;
  };
  std::vector<Match> found;
  std::size_t read = 0;
  bool partial = false;
  auto scanned = state.data.forEachLiveRecord(collection, units, [&](const sync::Record& r) {
    if (read++ == tuning::kMaxRecordsSearched) return !(partial = true);
    auto it = reviews->find(r.key);
    const auto review = it == reviews->end() ? sync::ReviewState::kReceived : it->second;
    if (!wanted_review.empty() && sync::reviewStateName(review) != wanted_review) return true;
    if (matches(r, folded)) found.push_back({r.receive_time_ms, r.key, review});
    return true;
  });
  if (!scanned) return statusResponse(request, scanned);
  // Newest first: what arrived last is what people look for.
  std::stable_sort(found.begin(), found.end(),
                   [](const Match& a, const Match& b) { return a.received_ms > b.received_ms; });
  json rows = json::array();
  for (std::size_t k = offset; k < found.size() && rows.size() < limit; ++k) {
    auto record = state.data.record(found[k].key);
    if (!record) return statusResponse(request, record.status());
    if (!record->has_value() || (*record)->deleted()) continue;
    const auto& r = **record;
    json row = sync::recordToJson(r);
    row["review"] = std::string(sync::reviewStateName(found[k].review));
    row["captured_ms"] = firstCapturedMs(r);
    row["received_ms"] = r.receive_time_ms;
    rows.push_back(std::move(row));
  }
  json columns = json::array();
  if (auto form = state.forms.find(collection)) {
    for (const auto& f : form->fields) columns.push_back({{"name", f.name}, {"vi", f.label.vi}, {"en", f.label.en}});
  }
  return jsonResponse(request, http::status::ok,
                      {{"collection", collection},
                       {"columns", columns},
                       {"total", found.size()},
                       {"partial", partial},
                       {"offset", offset},
                       {"records", rows}});
}

HttpResponse listDevices(const ApiCall& call) {
  const auto& request = call.request;
  auto& state = call.state;
  const auto& asker = *call.asker;

  auto list = state.directory.listDevices();
  if (!list) return statusResponse(request, list.status());
  // A device shows to those who may read a unit its user holds a grant on (admins: every device).
  std::map<std::string, bool> visible_user;
  if (!asker.isAdmin()) {
    auto users = state.directory.listUsers();
    if (!users) return statusResponse(request, users.status());
    for (const auto& u : *users) {
      visible_user[u.name] =
          std::any_of(u.grants.begin(), u.grants.end(), [&](const Grant& g) { return asker.mayRead(g.unit); });
    }
  }
  const auto now = nowMs();
  const std::int64_t silent_ms = static_cast<std::int64_t>(state.device_silent_days) * 24 * 60 * 60 * 1000;
  json out = json::array();
  for (const auto& d : *list) {
    if (!asker.isAdmin() && !visible_user[d.user]) continue;
    out.push_back({{"device", d.device},
                   {"user", d.user},
                   {"first_contact_ms", d.first_contact_ms},
                   {"last_contact_ms", d.last_contact_ms},
                   {"client_version", d.client_version},
                   {"clock_offset_ms", d.clock_offset_ms},
                   {"pending_age_ms", d.pending_age_ms},
                   {"revoked", d.revoked},
                   {"silent", now - d.last_contact_ms > silent_ms}});
  }
  return jsonResponse(request, http::status::ok,
                      {{"device_silent_days", state.device_silent_days}, {"server_time_ms", now}, {"devices", out}});
}

namespace {

// The type of a file from its first bytes: the page shows photos inline and offers the rest.
std::string sniffedType(std::string_view head) {
  if (head.substr(0, 3) == "\xFF\xD8\xFF") return "image/jpeg";
  if (head.substr(0, 8) == "\x89PNG\r\n\x1A\n") return "image/png";
  if (head.substr(0, 4) == "%PDF") return "application/pdf";
  if (head.substr(0, 4) == "RIFF" && head.size() >= 12 && head.substr(8, 4) == "WEBP") return "image/webp";
  return "application/octet-stream";
}

}  // namespace

HttpResponse fileBytes(const ApiCall& call) {
  const auto& request = call.request;
  auto& state = call.state;
  const auto& asker = *call.asker;
  const auto& hex = call.parts.at(0);

  const auto hash = sync::fileHashFromHex(hex);
  if (hash.empty()) {
    return statusResponse(request, Status::error(ErrorCode::kNotFound, "a file is named by 64 hex digits"));
  }
  std::string bytes;
  std::uint64_t size = 0;
  do {
    auto piece = state.data.readFile(hash, bytes.size(), sync::tuning::kMaxFilePieceBytes, asker.readable);
    if (!piece) return statusResponse(request, piece.status());
    size = piece->size;
    if (size > tuning::kMaxFileServedBytes) {
      return statusResponse(request, Status::error(ErrorCode::kLimitExceeded,
                                                   "the file is larger than the page shows; use communesync file get"));
    }
    if (piece->data.empty()) break;
    bytes += piece->data;
  } while (bytes.size() < size);
  HttpResponse res{http::status::ok, request.version()};
  res.set(http::field::server, "communesync");
  res.set(http::field::content_type, sniffedType(std::string_view(bytes).substr(0, 16)));
  res.set(http::field::cache_control, "private, max-age=31536000, immutable");  // named by its content
  res.set("X-Content-Type-Options", "nosniff");
  res.keep_alive(request.keep_alive());
  res.body() = std::move(bytes);
  res.prepare_payload();
  return res;
}

}  // namespace communesync::server
