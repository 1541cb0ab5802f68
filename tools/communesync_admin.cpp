// communesync-admin: the administrator's tool, over the server's HTTP admin API (loopback by default).
// A contract other tooling drives: names, flags and outputs stay.
//
// communesync-admin [--server http[s]://HOST:PORT] [--token TOKEN] [--ca FILE] COMMAND
//   ($COMMUNESYNC_SERVER, $COMMUNESYNC_TOKEN work too; the admin token is in <data>/admin.token)
//   user add NAME --scope UNIT... [--grant ROLE:UNIT...] [--password-stdin]   prints the user's token alone
//   user list [--json]
//   user grant NAME ROLE:UNIT...
//   user revoke NAME ROLE:UNIT... | --device DEVICE_ID | --all
//   user passwd NAME [--password-stdin] [--keep-devices]
//   units import FILE.csv          (header code,parent_code,level,name)
//   units list [--json]
//   units merge OLD... --into NEW [--on YYYY-MM-DD]
//   forms publish FILE | forms list [--json] | forms show NAME [--version N]
//   audit [--limit N] [--json]
//   conflicts list [--unit UNIT] [--collection C] [--field F] [--author USER] [--older-than-days N] [--all] [--json]
//   conflicts show ID [--json] | conflicts resolve ID (--take kept|lost | --value JSON) --reason TEXT
//   history COLLECTION ID [--json]
//   backup --out DIR               an online copy of the store, checked; restore: communesync-server --data DIR
#include <CLI/CLI.hpp>

#include <cstdlib>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "admin_api.hpp"
#include "admin_backup.hpp"
#include "admin_reconcile.hpp"
#include "admin_report.hpp"
#include "communesync/client/http_client.hpp"
#include "read_password.hpp"

namespace {

using communesync::tools::Api;
using communesync::tools::urlPart;
using nlohmann::json;

std::string envOr(const char* name, const std::string& fallback) {
  const char* v = std::getenv(name);
  return (v != nullptr && *v != '\0') ? v : fallback;
}

// The password, or exits with a usage error if there is no terminal to ask it on.
std::string passwordOrExit(bool from_stdin, const std::string& prompt) {
  auto password = communesync::tools::readPassword(from_stdin, prompt);
  if (!password) {
    std::cerr << "communesync-admin: no terminal to ask the password on: use --password-stdin\n";
    std::exit(2);
  }
  return *password;
}

// The whole file, or nullopt (said on stderr) if it cannot be read.
std::optional<std::string> readFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  if (!in) {
    std::cerr << "communesync-admin: cannot read " << path << "\n";
    return std::nullopt;
  }
  return text.str();
}

void printUsers(const json& users) {
  for (const auto& u : users) {
    std::cout << u["name"].get<std::string>() << (u["disabled"].get<bool>() ? "  (disabled)" : "") << "\n  grants: ";
    for (std::size_t i = 0; i < u["grants"].size(); ++i)
      std::cout << (i ? ", " : "") << u["grants"][i].get<std::string>();
    std::cout << "\n  password: " << (u["has_password"].get<bool>() ? "yes" : "no")
              << "; devices: " << u["devices"].size() << "\n";
  }
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"communesync-admin: manage users, grants and units of a communesync server"};
  app.require_subcommand(1);
  Api api{envOr("COMMUNESYNC_SERVER", ""), envOr("COMMUNESYNC_TOKEN", ""), {}};
  app.add_option("--server", api.server, "http[s]://HOST:PORT of the server ($COMMUNESYNC_SERVER)");
  app.add_option("--token", api.token, "the admin token, from <data>/admin.token ($COMMUNESYNC_TOKEN)");
  app.add_option("--ca", api.tls.ca_file, "a CA certificate file (PEM) to trust for https")->check(CLI::ExistingFile);
  bool as_json = false;
  bool password_stdin = false;

  auto* user = app.add_subcommand("user", "users and their grants")->require_subcommand(1);
  std::string name;
  std::vector<std::string> scopes, grants, units;
  std::string device, into, file;
  bool all = false;
  auto* add = user->add_subcommand("add", "create a user; prints the user's token");
  add->add_option("name", name, "the user's name")->required();
  add->add_option("--scope", scopes, "a unit the user reads and writes as a field worker (repeat for several)");
  add->add_option("--grant", grants, "ROLE:UNIT, role one of field, sponsor, district, reconciler, admin");
  add->add_flag("--password-stdin", password_stdin, "read a password from standard input (else token only)");
  auto* list = user->add_subcommand("list", "list users, their grants and devices");
  list->add_flag("--json", as_json, "print as JSON");
  auto* grant = user->add_subcommand("grant", "add grants to a user");
  grant->add_option("name", name)->required();
  grant->add_option("grants", grants, "ROLE:UNIT...")->required();
  auto* revoke = user->add_subcommand("revoke", "remove grants, revoke a device, or disable the user (--all)");
  revoke->add_option("name", name)->required();
  revoke->add_option("grants", grants, "ROLE:UNIT...");
  revoke->add_option("--device", device, "the device id (32 hex digits) to revoke");
  revoke->add_flag("--all", all, "disable the user and every token; open sessions close");
  auto* passwd = user->add_subcommand("passwd", "set a user's password (asked on the terminal)");
  passwd->add_option("name", name)->required();
  passwd->add_flag("--password-stdin", password_stdin, "read the password from standard input");
  bool keep_devices = false;
  passwd->add_flag("--keep-devices", keep_devices,
                   "keep the devices signed in (by default every device the user logged in with must log in again)");

  auto* unit = app.add_subcommand("units", "the administrative unit tree")->require_subcommand(1);
  auto* import = unit->add_subcommand("import", "import units from a CSV file (code,parent_code,level,name)");
  import->add_option("file", file, "the CSV file, UTF-8")->required()->check(CLI::ExistingFile);
  auto* units_list = unit->add_subcommand("list", "list the units");
  units_list->add_flag("--json", as_json, "print as JSON");
  auto* merge = unit->add_subcommand("merge", "merge units into another; their records stay visible under it");
  merge->add_option("old", units, "the units that are merged away")->required();
  merge->add_option("--into", into, "the unit they become part of")->required();
  std::string merged_on;
  merge->add_option("--on", merged_on,
                    "the day the merge took effect, YYYY-MM-DD (default today): reports of that year and after "
                    "count the old units as part of the new one");

  auto* forms = app.add_subcommand("forms", "survey forms")->require_subcommand(1);
  auto* publish = forms->add_subcommand("publish", "check a form file and publish it as the next version");
  publish->add_option("file", file, "the form, JSON (see docs/forms.md)")->required()->check(CLI::ExistingFile);
  auto* forms_list = forms->add_subcommand("list", "every version of every form");
  forms_list->add_flag("--json", as_json, "print as JSON");
  auto* show = forms->add_subcommand("show", "print a form (the latest version unless --version)");
  std::uint32_t version = 0;
  show->add_option("name", name, "the form's name (its collection)")->required();
  show->add_option("--version", version, "a published version");

  auto* audit = app.add_subcommand("audit", "show the audit log (logins, user, grant and unit changes)");
  std::size_t limit = 100;
  audit->add_option("--limit", limit, "the latest N entries (default 100)");
  audit->add_flag("--json", as_json, "print as JSON");

  communesync::tools::ReconcileCommands reconcile(app);
  communesync::tools::ReportCommands reports(app);
  communesync::tools::BackupCommand backup(app);

  CLI11_PARSE(app, argc, argv);
  if (api.server.empty()) {
    std::cerr << "communesync-admin: give --server http://HOST:PORT (or set COMMUNESYNC_SERVER)\n";
    return 2;
  }
  if (api.token.empty()) {
    std::cerr << "communesync-admin: give --token (or set COMMUNESYNC_TOKEN); it is in <data>/admin.token\n";
    return 2;
  }
  if (api.server.rfind("http://", 0) != 0 && api.server.rfind("https://", 0) != 0) {
    std::cerr << "communesync-admin: --server must look like http://HOST:PORT or https://HOST:PORT (got '" << api.server
              << "')\n";
    return 2;
  }

  if (auto handled = reconcile.run(api)) return *handled;
  if (auto handled = reports.run(api)) return *handled;
  if (auto handled = backup.run(api)) return *handled;
  if (*add) {
    if (scopes.empty() && grants.empty()) {
      std::cerr << "communesync-admin: give at least one --scope UNIT or --grant ROLE:UNIT\n";
      return 2;
    }
    json body{{"name", name}, {"scopes", scopes}, {"grants", grants}};
    if (password_stdin) body["password"] = passwordOrExit(true, "");
    auto j = api.call("POST", "/admin/users", body.dump(), "application/json", 201);
    if (!j) return 1;
    std::cout << (*j)["token"].get<std::string>() << "\n";
    return 0;
  }
  if (*list) {
    auto j = api.call("GET", "/admin/users");
    if (!j) return 1;
    if (as_json) {
      std::cout << (*j)["users"].dump(2) << "\n";
    } else {
      printUsers((*j)["users"]);
    }
    return 0;
  }
  if (*grant) {
    auto j = api.call("POST", "/admin/users/" + urlPart(name) + "/grant", json{{"grants", grants}}.dump());
    if (!j) return 1;
    std::cout << "granted " << name << ": " << json(grants).dump() << "\n";
    return 0;
  }
  if (*revoke) {
    json body;
    if (all) {
      body = {{"all", true}};
    } else if (!device.empty()) {
      body = {{"device", device}};
    } else if (!grants.empty()) {
      body = {{"grants", grants}};
    } else {
      std::cerr << "communesync-admin: give ROLE:UNIT..., --device DEVICE_ID or --all\n";
      return 2;
    }
    auto j = api.call("POST", "/admin/users/" + urlPart(name) + "/revoke", body.dump());
    if (!j) return 1;
    std::cout << "revoked " << name << ": " << body.dump() << " (open sessions are closed)\n";
    return 0;
  }
  if (*passwd) {
    const auto password = passwordOrExit(password_stdin, "Mật khẩu mới / New password: ");
    auto j = api.call("POST", "/admin/users/" + urlPart(name) + "/passwd",
                      json{{"password", password}, {"keep_devices", keep_devices}}.dump());
    if (!j) return 1;
    std::cout << "password set for " << name;
    if (keep_devices) {
      std::cout << "; its devices stay signed in\n";
    } else {
      std::cout << "; " << j->value("devices_signed_out", 0)
                << " device(s) signed out: they log in again with the new password\n";
    }
    return 0;
  }
  if (*import) {
    auto text = readFile(file);
    if (!text) return 1;
    auto j = api.call("POST", "/admin/units/import", *text, "text/csv; charset=utf-8");
    if (!j) return 1;
    std::cout << "units: " << (*j)["added"] << " added, " << (*j)["updated"] << " updated, " << (*j)["unchanged"]
              << " unchanged\n";
    return 0;
  }
  if (*units_list) {
    auto j = api.call("GET", "/admin/units");
    if (!j) return 1;
    if (as_json) {
      std::cout << (*j)["units"].dump(2) << "\n";
      return 0;
    }
    for (const auto& u : (*j)["units"]) {
      std::cout << u["code"].get<std::string>() << "\t" << u["level"].get<std::string>() << "\t"
                << u["parent_code"].get<std::string>() << "\t" << u["name"].get<std::string>();
      if (!u["merged_into"].get<std::string>().empty()) {
        std::cout << "\t(merged into " << u["merged_into"].get<std::string>() << " on "
                  << u.value("merged_on", std::string("?")) << ")";
      }
      std::cout << "\n";
    }
    return 0;
  }
  if (*merge) {
    auto j = api.call("POST", "/admin/units/merge", json{{"old", units}, {"into", into}, {"on", merged_on}}.dump());
    if (!j) return 1;
    std::cout << "merged into " << into << " from " << (*j)["on"].get<std::string>() << "\n";
    return 0;
  }
  if (*publish) {
    auto text = readFile(file);
    if (!text) return 1;
    auto j = api.call("POST", "/admin/forms", *text, "application/json", 201);
    if (!j) return 1;
    std::cout << "published " << (*j)["name"].get<std::string>() << " version " << (*j)["version"] << "\n";
    return 0;
  }
  if (*forms_list) {
    auto j = api.call("GET", "/admin/forms");
    if (!j) return 1;
    if (as_json) {
      std::cout << (*j)["forms"].dump(2) << "\n";
      return 0;
    }
    for (const auto& f : (*j)["forms"]) {
      std::cout << f["name"].get<std::string>() << "\tv" << f["version"] << "\t" << f["title"].value("vi", "") << " / "
                << f["title"].value("en", "") << "\n";
    }
    return 0;
  }
  if (*show) {
    auto j =
        api.call("GET", "/admin/forms/" + urlPart(name) + (version != 0 ? "?version=" + std::to_string(version) : ""));
    if (!j) return 1;
    std::cout << j->dump(2) << "\n";
    return 0;
  }
  if (*audit) {
    auto j = api.call("GET", "/admin/audit?limit=" + std::to_string(limit));
    if (!j) return 1;
    if (as_json) {
      std::cout << (*j)["entries"].dump(2) << "\n";
      return 0;
    }
    for (const auto& e : (*j)["entries"]) {
      const auto ms = e["time_ms"].get<std::int64_t>();
      std::time_t t = static_cast<std::time_t>(ms / 1000);
      char when[32];
      std::strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", std::gmtime(&t));
      std::cout << when << "Z\t" << e["actor"].get<std::string>() << "\t" << e["from"].get<std::string>() << "\t"
                << e["action"].get<std::string>() << "\t" << e["detail"].get<std::string>() << "\n";
    }
    return 0;
  }
  return 0;
}
