// What the web page needs beyond the reconciliation API (docs/admin-api.md, "For the web page"):
//
//   GET /api/me                       -> 200 {"user","admin","reconciler","grants","units","forms",
//                                              "server_time_ms","device_silent_days"}
//   GET /api/overview?year=YYYY&unit=U -> 200 {"year","units":{CODE:{"records":{FORM:n},"conflicts":n,
//                                              "reviews":{STATE:n}}}}   per unit, not rolled up
//   GET /api/records/COLLECTION?unit=U&q=TEXT&review=STATE&after=CURSOR&offset=N&limit=N
//                                     -> 200 {"collection","columns","total","offset","records":[RECORD+],
//                                              "next": the cursor of the next page, absent on the last}
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
#include "store/views.hpp"

namespace communesync::server {
using nlohmann::json;

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
  // From the tallies the writer keeps (store/views.hpp): a read per unit, whatever the store holds.
  auto summaries = state.data.summaries(units, year);
  if (!summaries) return statusResponse(request, summaries.status());
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
  for (const auto& [unit, summary] : *summaries) {
    auto& u = unitEntry(unit);
    for (const auto& [form, tally] : summary.forms) {
      std::uint64_t live = 0;
      for (std::size_t k = 0; k < tally.size(); ++k) {
        live += tally[k];
        auto& count = u["reviews"][std::string(sync::reviewStateName(static_cast<sync::ReviewState>(k)))];
        count = count.get<std::uint64_t>() + tally[k];
      }
      if (live != 0) u["records"][form] = live;
    }
    u["conflicts"] = summary.open_conflicts;
  }
  return jsonResponse(request, http::status::ok, {{"year", year}, {"units", out}});
}

namespace {

// A row of the records page: the record with its review state and when it was captured and received.
json recordRow(const sync::Record& r, sync::ReviewState review) {
  json row = sync::recordToJson(r);
  row["review"] = std::string(sync::reviewStateName(review));
  row["captured_ms"] = firstCapturedMs(r);
  row["received_ms"] = r.receive_time_ms;
  return row;
}

// A page from the indexes the writer keeps (store/views.hpp): without a search, the newest-first
// index (a seek per unit, the total from the tallies); a search, the words' lists intersected. A
// page reads what it shows plus a bounded amount, whatever the store holds.
Status pageRecords(ServerState& state, const RecordPageQuery& query, json& out) {
  auto page = state.data.recordPage(query);
  if (!page) return page.status();
  json rows = json::array();
  for (const auto& item : page->items) {
    auto record = state.data.record(item.key);
    if (!record) return record.status();
    if (!record->has_value() || (*record)->deleted()) continue;  // the index and the record are one commit
    sync::ReviewState review = query.review.value_or(sync::ReviewState::kReceived);
    if (!query.review) {
      auto known = state.data.reviewState(item.key);
      if (!known) return known.status();
      review = *known;
    }
    rows.push_back(recordRow(**record, review));
  }
  out["total"] = page->total;
  out["partial"] = page->partial;
  out["records"] = std::move(rows);
  if (!page->next.empty()) out["next"] = page->next;
  return Status::ok();
}

}  // namespace

HttpResponse listRecords(const ApiCall& call) {
  auto& state = call.state;
  const auto& asker = *call.asker;
  const auto collection = percentDecoded(call.parts.at(0));

  if (collection.empty() || collection.front() == '_') {
    return call.fail(Status::error(ErrorCode::kNotFound, "no collection '" + collection + "'"));
  }
  const auto& params = call.query;
  auto asked_offset = countParam(params, "offset", 0, 0, tuning::kMaxRecordPageOffset);
  if (!asked_offset) return call.fail(asked_offset.status());
  auto asked_limit = countParam(params, "limit", 50, 1, tuning::kMaxRecordPage);
  if (!asked_limit) return call.fail(asked_limit.status());
  RecordPageQuery query;
  query.collection = collection;
  query.skip = *asked_offset;
  query.limit = *asked_limit;
  query.after = param(params, "after");
  if (const auto wanted = param(params, "review"); !wanted.empty()) {
    query.review = sync::reviewStateFromName(wanted);
    if (!query.review) {
      return call.fail(
          Status::error(ErrorCode::kInvalidArgument, "review is received, approved, needs_edits or rejected"));
    }
  }
  query.units = readableAsked(state, asker, params);
  std::sort(query.units.begin(), query.units.end());
  query.words = queryWords(param(params, "q"));
  if (query.words.size() > tuning::kMaxSearchQueryWords) {
    return call.fail(Status::error(ErrorCode::kInvalidArgument,
                                   "search with at most " + std::to_string(tuning::kMaxSearchQueryWords) + " words"));
  }
  json columns = json::array();
  if (auto form = state.forms.find(collection)) {
    for (const auto& f : form->fields) columns.push_back({{"name", f.name}, {"vi", f.label.vi}, {"en", f.label.en}});
  }
  json out{{"collection", collection}, {"columns", columns}, {"offset", query.skip}};
  const auto listed = pageRecords(state, query, out);
  if (!listed) return call.fail(listed);
  return call.ok(out);
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
