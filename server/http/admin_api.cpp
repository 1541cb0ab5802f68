// The admin API: users, units, forms and the audit log (Right::kAdmin: the router checked the
// token and the address before any of these runs).
#include <limits>
#include <nlohmann/json.hpp>

#include "base/clock.hpp"
#include "base/tuning.hpp"
#include "http/handlers.hpp"
#include "programme/facts.hpp"

namespace communesync::server {
namespace {

using nlohmann::json;

// A list of strings under `key` (absent: empty), or an error message.
std::variant<std::vector<std::string>, std::string> stringList(const json& body, const char* key) {
  std::vector<std::string> out;
  if (!body.contains(key)) return out;
  if (!body[key].is_array()) return std::string("\"") + key + "\" must be a list of strings";
  for (const auto& v : body[key]) {
    if (!v.is_string()) return std::string("every entry of \"") + key + "\" must be a string";
    out.push_back(v.get<std::string>());
  }
  return out;
}

json grantsJson(const std::vector<Grant>& grants) {
  json out = json::array();
  for (const auto& g : grants) out.push_back(grantText(g));
  return out;
}

// Grants from "grants" (ROLE:UNIT) and "scopes" (UNIT: field, the sync issue's contract).
std::variant<std::vector<Grant>, Status> grantsOf(const json& body) {
  std::vector<Grant> grants;
  for (const char* key : {"grants", "scopes"}) {
    auto list = stringList(body, key);
    if (auto* e = std::get_if<std::string>(&list)) return Status::error(ErrorCode::kInvalidArgument, *e);
    for (const auto& text : std::get<std::vector<std::string>>(list)) {
      auto g = parseGrant(text);
      if (!g) return g.status();
      if (std::string_view(key) == "scopes" && text.find(':') != std::string::npos) {
        return Status::error(ErrorCode::kInvalidArgument, "\"scopes\" holds unit codes; use \"grants\" for ROLE:UNIT");
      }
      grants.push_back(*g);
    }
  }
  return grants;
}

// ---- admin API ----

// The answer to a change of users, grants or units: live sessions re-check their rights first.
HttpResponse changed(const ApiCall& call, const Status& s, const json& ok_body) {
  if (!s) return call.fail(s);
  call.state.access_changed();
  return call.ok(ok_body);
}

// The user a /admin/users/NAME/... route names (as sent: names are not percent-encoded by the tools).
const std::string& userNamed(const ApiCall& call) {
  return call.parts.at(0);
}

}  // namespace

HttpResponse addUser(const ApiCall& call) {
  auto body = jsonBody(call.request);
  if (!body) return call.fail(body.status());
  if (!body->contains("name") || !(*body)["name"].is_string()) {
    return call.fail(Status::error(ErrorCode::kInvalidArgument, "\"name\" must be a string"));
  }
  auto grants = grantsOf(*body);
  if (auto* s = std::get_if<Status>(&grants)) return call.fail(*s);
  const auto name = (*body)["name"].get<std::string>();
  const auto& list = std::get<std::vector<Grant>>(grants);
  auto token = call.state.directory.addUser(name, list, stringField(*body, "password"), call.actor);
  if (!token) return call.fail(token.status());
  call.state.access_changed();
  json scopes = json::array();
  for (const auto& g : list) scopes.push_back(g.unit);
  return call.ok({{"name", name}, {"grants", grantsJson(list)}, {"scopes", scopes}, {"token", *token}},
                 http::status::created);
}

HttpResponse listUsers(const ApiCall& call) {
  auto users = call.state.directory.listUsers();
  if (!users) return call.fail(users.status());
  json out = json::array();
  for (const auto& u : *users) {
    out.push_back({{"name", u.name},
                   {"grants", grantsJson(u.grants)},
                   {"has_password", u.has_password},
                   {"disabled", u.disabled},
                   {"devices", u.devices}});
  }
  return call.ok({{"users", out}});
}

HttpResponse setUserPassword(const ApiCall& call) {
  auto body = jsonBody(call.request);
  if (!body) return call.fail(body.status());
  const auto& name = userNamed(call);
  const bool keep = body->value("keep_devices", false);
  auto signed_out = call.state.directory.setPassword(name, stringField(*body, "password"), call.actor, keep);
  if (!signed_out) return call.fail(signed_out.status());
  return changed(call, Status::ok(), {{"name", name}, {"devices_signed_out", *signed_out}});
}

HttpResponse grantUser(const ApiCall& call) {
  auto body = jsonBody(call.request);
  if (!body) return call.fail(body.status());
  auto grants = grantsOf(*body);
  if (auto* s = std::get_if<Status>(&grants)) return call.fail(*s);
  const auto& list = std::get<std::vector<Grant>>(grants);
  if (list.empty()) return call.fail(Status::error(ErrorCode::kInvalidArgument, "give \"grants\""));
  const auto& name = userNamed(call);
  return changed(call, call.state.directory.grant(name, list, call.actor),
                 {{"name", name}, {"grants", grantsJson(list)}});
}

HttpResponse revokeUser(const ApiCall& call) {
  auto body = jsonBody(call.request);
  if (!body) return call.fail(body.status());
  const auto& name = userNamed(call);
  auto& directory = call.state.directory;
  if (body->value("all", false)) {
    return changed(call, directory.disableUser(name, call.actor), {{"name", name}, {"disabled", true}});
  }
  if (body->contains("device")) {
    auto device = sync::DeviceId::fromHex(stringField(*body, "device"));
    if (!device) return call.fail(Status::error(ErrorCode::kInvalidArgument, "\"device\" must be 32 hex digits"));
    return changed(call, directory.revokeDevice(name, *device, call.actor),
                   {{"name", name}, {"device", device->hex()}});
  }
  auto grants = grantsOf(*body);
  if (auto* s = std::get_if<Status>(&grants)) return call.fail(*s);
  const auto& list = std::get<std::vector<Grant>>(grants);
  if (list.empty()) {
    return call.fail(Status::error(ErrorCode::kInvalidArgument, "give \"grants\", \"device\" or \"all\""));
  }
  return changed(call, directory.revokeGrants(name, list, call.actor), {{"name", name}, {"grants", grantsJson(list)}});
}

HttpResponse importUnits(const ApiCall& call) {
  auto units = parseUnitsCsv(call.request.body());
  if (!units) return call.fail(units.status());
  auto summary = call.state.directory.importUnits(*units, call.actor);
  if (!summary) return call.fail(summary.status());
  if (summary->added + summary->updated > 0) call.state.access_changed();
  return call.ok({{"added", summary->added}, {"updated", summary->updated}, {"unchanged", summary->unchanged}});
}

HttpResponse listUnits(const ApiCall& call) {
  auto tree = call.state.directory.units();
  json out = json::array();
  for (const auto& u : tree->all()) {
    out.push_back({{"code", u.code},
                   {"parent_code", u.parent_code},
                   {"level", unitLevelName(u.level)},
                   {"name", u.name},
                   {"merged_into", u.merged_into},
                   {"merged_on", u.merged_on}});
  }
  return call.ok({{"units", out}});
}

HttpResponse mergeUnits(const ApiCall& call) {
  auto body = jsonBody(call.request);
  if (!body) return call.fail(body.status());
  auto old = stringList(*body, "old");
  if (auto* e = std::get_if<std::string>(&old)) return call.fail(Status::error(ErrorCode::kInvalidArgument, *e));
  const auto into = stringField(*body, "into");
  // The day the merge took effect: the reports of its year and after read the old units as part of
  // the new one. Today on the province's calendar when not given.
  auto on = stringField(*body, "on");
  if (on.empty()) {
    // The offset is the current year's rule (a config may change it); the year, from the seeds' UTC+7.
    const auto now = nowMs();
    const int year = std::stoi(programme::localDate(now, 7 * 60).substr(0, 4));
    auto rules = reportRules(year, call.state.report_rules);
    on = programme::localDate(now, rules ? rules->utc_offset_minutes : 7 * 60);
  }
  if (!programme::isDay(on)) {
    return call.fail(Status::error(ErrorCode::kInvalidArgument, "\"on\" is the day the merge took effect, YYYY-MM-DD"));
  }
  return changed(call, call.state.directory.mergeUnits(std::get<std::vector<std::string>>(old), into, on, call.actor),
                 {{"into", into}, {"on", on}});
}

HttpResponse publishForm(const ApiCall& call) {
  auto form = sync::parseForm(call.request.body());
  if (!form) return call.fail(form.status());
  form->version = 0;  // the server numbers versions
  auto published = call.state.publish_form(std::move(form).value());
  if (!published) return call.fail(published.status());
  call.state.directory.audit(call.actor, "form_publish", published->name + "@" + std::to_string(published->version));
  return call.ok({{"name", published->name}, {"version", published->version}}, http::status::created);
}

HttpResponse listForms(const ApiCall& call) {
  json out = json::array();
  for (const auto& f : call.state.forms.all()) {
    out.push_back({{"name", f->name}, {"version", f->version}, {"title", {{"vi", f->title.vi}, {"en", f->title.en}}}});
  }
  return call.ok({{"forms", out}});
}

HttpResponse showForm(const ApiCall& call) {
  const auto& name = call.parts.at(0);
  auto version = countParam(call.query, "version", 0, 0, std::numeric_limits<std::uint32_t>::max());
  if (!version) return call.fail(version.status());
  auto form = call.state.forms.find(name, static_cast<std::uint32_t>(*version));
  if (form == nullptr) {
    return call.fail(
        Status::error(ErrorCode::kNotFound,
                      "no form '" + name + "'" + (*version != 0 ? " version " + std::to_string(*version) : "")));
  }
  return call.ok(json::parse(sync::formToJson(*form)));
}

HttpResponse auditLog(const ApiCall& call) {
  auto limit = countParam(call.query, "limit", 100, 1, tuning::kMaxAuditList);
  if (!limit) return call.fail(limit.status());
  auto entries = call.state.directory.auditLog(*limit);
  if (!entries) return call.fail(entries.status());
  json out = json::array();
  for (const auto& e : *entries) {
    out.push_back({{"seq", e.seq},
                   {"time_ms", e.time_ms},
                   {"actor", e.actor},
                   {"from", e.from},
                   {"action", e.action},
                   {"detail", e.detail}});
  }
  return call.ok({{"entries", out}});
}

}  // namespace communesync::server
