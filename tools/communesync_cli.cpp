// communesync: the field CLI. A contract other tooling drives: names, flags and outputs stay.
//
// communesync [--home DIR] COMMAND     (default home ~/.communesync, or $COMMUNESYNC_HOME)
//   login --server ws[s]://HOST:PORT (--token TOKEN | --user NAME [--password-stdin]) [--ca FILE]
//   put COLLECTION [--id ID] [--scope UNIT] FIELD=VALUE... FIELD:=JSON...
//   get COLLECTION ID | list COLLECTION [--search TEXT] | delete COLLECTION ID | forms [--json]
//   sync [--json] | status [--json] | export
//   attach COLLECTION ID FIELD FILE | fetch HASH OUT | eager [COLLECTION... | --none]
#include <sys/stat.h>
#include <unistd.h>
#include <CLI/CLI.hpp>

#include <atomic>
#include <csignal>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <set>

#include "communesync/client/local_store.hpp"
#include "communesync/client/record_json.hpp"
#include "communesync/client/replicator.hpp"
#include "communesync/client/websocket_transport.hpp"
#include "communesync/sync/file_ref.hpp"
#include "read_password.hpp"

namespace {

using namespace communesync;
using nlohmann::json;
namespace fs = std::filesystem;

constexpr int kExitFailure = 1;
constexpr int kExitUsage = 2;

std::atomic<bool> g_cancel{false};

std::chrono::milliseconds now() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch());
}

int fail(const std::string& message, int code = kExitFailure) {
  std::cerr << "communesync: " << message << "\n";
  return code;
}

fs::path defaultHome() {
  if (const char* env = std::getenv("COMMUNESYNC_HOME"); env != nullptr && *env != '\0') return env;
  if (const char* home = std::getenv("HOME"); home != nullptr && *home != '\0') return fs::path(home) / ".communesync";
  return ".communesync";
}

// The login: which server, which token, and who we are there.
struct Login {
  std::string server;
  std::string token;
  std::string user;
  std::vector<std::string> scopes;
  std::string ca;  // a CA file to trust for wss:// (empty: the system's)
};

std::optional<Login> readLogin(const fs::path& home) {
  std::ifstream in(home / "config.json");
  if (!in) return std::nullopt;
  json j = json::parse(in, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return std::nullopt;
  Login l;
  l.server = j.value("server", "");
  l.token = j.value("token", "");
  l.user = j.value("user", "");
  l.scopes = j.value("scopes", std::vector<std::string>{});
  l.ca = j.value("ca", "");
  return l;
}

Status writeLogin(const fs::path& home, const Login& l) {
  const auto file = home / "config.json";
  const auto tmp = home / "config.json.tmp";
  {
    const auto old_mask = ::umask(077);  // the token is a secret
    std::ofstream out(tmp, std::ios::trunc);
    ::umask(old_mask);
    json j{{"server", l.server}, {"token", l.token}, {"user", l.user}, {"scopes", l.scopes}};
    if (!l.ca.empty()) j["ca"] = l.ca;
    out << j.dump(2) << "\n";
    if (!out) return Status::error(ErrorCode::kIoError, "cannot write " + tmp.string());
  }
  std::error_code ec;
  fs::rename(tmp, file, ec);
  if (ec) return Status::error(ErrorCode::kIoError, "cannot write " + file.string() + ": " + ec.message());
  return Status::ok();
}

Result<std::unique_ptr<client::LocalStore>> openStore(const fs::path& home) {
  std::error_code ec;
  fs::create_directories(home, ec);
  if (ec) return Status::error(ErrorCode::kIoError, "cannot create " + home.string() + ": " + ec.message());
  return client::LocalStore::open(home / "store");
}

// FIELD=VALUE (a string) or FIELD:=JSON (a typed value).
Result<std::pair<std::string, sync::Value>> parseAssignment(const std::string& arg) {
  const auto eq = arg.find('=');
  if (eq == std::string::npos || eq == 0) {
    return Status::error(ErrorCode::kInvalidArgument, "'" + arg + "' is not FIELD=VALUE or FIELD:=JSON");
  }
  if (arg[eq - 1] == ':') {
    if (eq == 1) return Status::error(ErrorCode::kInvalidArgument, "'" + arg + "' has no field name");
    json j = json::parse(arg.substr(eq + 1), nullptr, false);
    if (j.is_discarded()) {
      return Status::error(ErrorCode::kInvalidArgument,
                           "'" + arg.substr(eq + 1) + "' is not JSON (for text use FIELD=VALUE)");
    }
    auto v = client::valueFromJson(j);
    if (!v) return v.status();
    return std::make_pair(arg.substr(0, eq - 1), std::move(v).value());
  }
  return std::make_pair(arg.substr(0, eq), sync::Value(arg.substr(eq + 1)));
}

void printRecord(const sync::Record& r) {
  std::cout << client::recordToJson(r).dump() << "\n";
}

std::string formatTime(std::int64_t ms) {
  if (ms == 0) return "never";
  std::time_t t = static_cast<std::time_t>(ms / 1000);
  char buf[64];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", std::localtime(&t));
  return buf;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"communesync: record surveys offline and sync them with the province's server"};
  app.require_subcommand(1);
  std::string home_arg;
  app.add_option("--home", home_arg, "folder of this device's data (default ~/.communesync or $COMMUNESYNC_HOME)");

  auto* login = app.add_subcommand("login", "log this device in to a server");
  std::string server, token, user_name, ca_file;
  bool password_stdin = false;
  login->add_option("--server", server, "ws://HOST:PORT, or wss://HOST:PORT for TLS")->required();
  auto* token_opt = login->add_option("--token", token, "your token (from the administrator)");
  auto* user_opt = login->add_option("--user", user_name, "your user name; the password is asked for");
  login->add_flag("--password-stdin", password_stdin, "read the password from standard input (scripts)")
      ->needs(user_opt);
  login->add_option("--ca", ca_file, "a CA certificate file (PEM) to trust, for a self-signed provincial server")
      ->check(CLI::ExistingFile);
  token_opt->excludes(user_opt);

  auto* put = app.add_subcommand("put", "create a record, or update some fields of one; prints its id");
  std::string collection, id, scope;
  std::vector<std::string> assignments;
  put->add_option("collection", collection, "the form or table, e.g. household")->required();
  put->add_option("--id", id, "update this record (re-creating it if deleted)");
  put->add_option("--scope", scope, "the unit code of a new record (default: your only unit)");
  put->add_option("assignments", assignments, "FIELD=VALUE (text) or FIELD:=JSON (number, true, list, object)")
      ->required();

  auto* get = app.add_subcommand("get", "print one record as JSON");
  get->add_option("collection", collection)->required();
  get->add_option("id", id)->required();

  auto* list = app.add_subcommand("list", "print the records of a collection, one JSON object per line");
  list->add_option("collection", collection)->required();
  std::string search_text;
  list->add_option("--search", search_text, "only records with a text containing this (case and accents ignored)");

  auto* forms_cmd = app.add_subcommand("forms", "the forms this device knows (synced from the server)");

  auto* del = app.add_subcommand("delete", "delete a record");
  del->add_option("collection", collection)->required();
  del->add_option("id", id)->required();

  bool as_json = false;
  auto* sync_cmd = app.add_subcommand("sync", "send what is saved here and fetch what is new");
  sync_cmd->add_flag("--json", as_json, "print the summary as JSON");

  auto* status_cmd = app.add_subcommand("status", "pending and rejected changes, last sync, open conflicts");
  status_cmd->add_flag("--json", as_json, "print as JSON");
  forms_cmd->add_flag("--json", as_json, "print as JSON");

  auto* export_cmd = app.add_subcommand("export", "every live record as canonical JSON lines");

  auto* attach = app.add_subcommand("attach", "keep a photo or file here and set a record's field to it (offline)");
  std::string field, file_arg, out_arg, hash_arg;
  attach->add_option("collection", collection)->required();
  attach->add_option("id", id)->required();
  attach->add_option("field", field, "the field that refers to the file (a photo or file field)")->required();
  attach->add_option("file", file_arg, "the file to attach")->required();

  auto* fetch = app.add_subcommand("fetch", "write a file to OUT, downloading it from the server if needed");
  fetch->add_option("hash", hash_arg, "the file's SHA-256 (64 hex digits), as a record's field holds it")->required();
  fetch->add_option("out", out_arg, "where to write it")->required();

  auto* eager = app.add_subcommand("eager", "collections whose files every sync fetches (others: on demand)");
  std::vector<std::string> eager_collections;
  bool eager_none = false;
  eager->add_option("collections", eager_collections, "fetch the files of these collections at every sync");
  eager->add_flag("--none", eager_none, "fetch files only on demand");

  CLI11_PARSE(app, argc, argv);
  const fs::path home = home_arg.empty() ? defaultHome() : fs::path(home_arg);

  auto store = openStore(home);
  if (!store) return fail(store.status().message());
  auto& local = **store;

  if (*login) {
    if (token.empty() && user_name.empty()) return fail("give --token TOKEN or --user NAME", kExitUsage);
    const client::TlsOptions tls{ca_file.empty() ? std::string() : fs::absolute(ca_file).string()};
    // Either way the device ends up with a token of its own, revocable alone.
    Result<std::string> device_token = Status::error(ErrorCode::kInternal, "unset");
    if (!user_name.empty()) {
      auto password = tools::readPassword(password_stdin, "Mật khẩu / Password: ");
      if (!password) return fail("no terminal to ask the password on: use --password-stdin", kExitUsage);
      device_token = client::passwordLogin(server, user_name, *password, local.deviceId().hex(), tls);
    } else {
      device_token = client::tokenLogin(server, token, local.deviceId().hex(), tls);
    }
    if (!device_token) return fail("login failed: " + device_token.status().message());
    token = *device_token;
    client::WebSocketTransport transport(server, token, tls);
    auto welcome = client::introduce(local, transport);
    if (!welcome) return fail("login failed: " + welcome.status().message());
    // Units only: scopes starting with _ are the system's (the forms everyone reads).
    std::vector<std::string> units;
    for (const auto& s : welcome->scopes) {
      if (!s.empty() && s.front() != '_') units.push_back(s);
    }
    Login l{server, token, welcome->user, units, tls.ca_file};
    if (auto s = writeLogin(home, l); !s) return fail(s.message());
    std::cout << "logged in as " << welcome->user << " (units: ";
    for (std::size_t i = 0; i < l.scopes.size(); ++i) std::cout << (i ? ", " : "") << l.scopes[i];
    std::cout << "); device " << local.deviceId().hex() << "\n";
    return 0;
  }

  if (*put) {
    std::map<std::string, sync::Value> fields;
    for (const auto& a : assignments) {
      auto parsed = parseAssignment(a);
      if (!parsed) return fail(parsed.status().message(), kExitUsage);
      fields.insert_or_assign(parsed->first, std::move(parsed->second));
    }
    if (scope.empty()) {
      std::optional<sync::Record> existing;
      if (!id.empty()) {
        auto r = local.get({collection, id});
        if (!r) return fail(r.status().message());
        existing = *r;
      }
      if (!existing) {
        auto l = readLogin(home);
        if (!l || l->scopes.empty()) return fail("no unit: log in first, or give --scope UNIT", kExitUsage);
        if (l->scopes.size() > 1) {
          std::string names;
          for (const auto& s : l->scopes) names += (names.empty() ? "" : ", ") + s;
          return fail("you have several units (" + names + "); choose one with --scope UNIT", kExitUsage);
        }
        scope = l->scopes.front();
      }
    }
    auto new_id = local.put(collection, id, scope, fields, now());
    if (!new_id) return fail(new_id.status().message(), new_id.status().code() == ErrorCode::kIoError ? 1 : kExitUsage);
    std::cout << *new_id << "\n";
    return 0;
  }

  if (*get) {
    auto r = local.get({collection, id});
    if (!r) return fail(r.status().message());
    if (!r->has_value()) return fail("no record " + collection + "/" + id);
    printRecord(**r);
    return 0;
  }

  if (*forms_cmd) {
    auto forms = local.forms();
    if (!forms) return fail(forms.status().message());
    if (as_json) {
      json out = json::array();
      for (const auto& f : *forms) {
        out.push_back(
            {{"name", f->name}, {"version", f->version}, {"title", {{"vi", f->title.vi}, {"en", f->title.en}}}});
      }
      std::cout << out.dump() << "\n";
      return 0;
    }
    if (forms->empty()) std::cout << "no forms yet: run communesync sync\n";
    for (const auto& f : *forms) {
      std::cout << f->name << "\tv" << f->version << "\t" << f->title.vi
                << (f->title.en.empty() ? "" : " / " + f->title.en) << "\t" << f->fields.size() << " fields\n";
    }
    return 0;
  }

  if (*list || *export_cmd) {
    auto records =
        *list ? (search_text.empty() ? local.list(collection) : local.search(collection, search_text)) : local.all();
    if (!records) return fail(records.status().message());
    for (const auto& r : *records) printRecord(r);
    return 0;
  }

  if (*del) {
    if (auto s = local.remove({collection, id}, now()); !s) return fail(s.message());
    return 0;
  }

  if (*status_cmd) {
    auto st = local.status();
    if (!st) return fail(st.status().message());
    if (as_json) {
      json j = client::statusToJson(*st);
      j["device"] = local.deviceId().hex();
      std::cout << j.dump() << "\n";
      return 0;
    }
    std::cout << "pending changes:  " << st->pending << "\n"
              << "last sync:        " << formatTime(st->last_sync_ms) << "\n"
              << "rejected changes: " << st->rejected.size() << "\n";
    for (const auto& r : st->rejected) {
      std::cout << "  " << r.change.key.collection << "/" << r.change.key.id << ": " << r.reason << "\n";
    }
    std::cout << "files to send:    " << st->files_pending
              << (st->files_pending > 0 ? " (" + std::to_string(st->file_bytes_pending) + " bytes)" : "") << "\n";
    std::cout << "open conflicts:   " << st->conflicts.size() << "\n";
    for (const auto& c : st->conflicts) {
      std::cout << "  " << c.key.collection << "/" << c.key.id << " " << (c.field.empty() ? "(deleted)" : c.field)
                << "\n";
    }
    for (const auto& r : st->reviews) {
      if (r.state == sync::ReviewState::kApproved) continue;
      std::cout << (r.state == sync::ReviewState::kNeedsEdits ? "cần sửa / needs edits: " : "bị từ chối / rejected: ")
                << r.reviewed.collection << "/" << r.reviewed.id << " (" << r.by << "): " << r.comment << "\n";
    }
    if (!st->resolved.empty()) {
      std::cout << "settled conflicts: " << st->resolved.size() << "\n";
      for (const auto& c : st->resolved) {
        std::cout << "  " << c.key.collection << "/" << c.key.id << " " << (c.field.empty() ? "(deleted)" : c.field)
                  << ": settled by " << c.resolved_by << " (" << c.reason << ")\n";
      }
    }
    return 0;
  }

  if (*attach) {
    auto hash = local.attach({collection, id}, field, file_arg, now());
    if (!hash) return fail(hash.status().message(), hash.status().code() == ErrorCode::kIoError ? 1 : kExitUsage);
    std::cout << *hash << "\n";
    return 0;
  }

  if (*eager) {
    if (eager_none || !eager_collections.empty()) {
      const std::set<std::string> chosen(eager_collections.begin(), eager_collections.end());
      if (auto s = local.setEagerCollections(chosen); !s) return fail(s.message());
    }
    auto current = local.files().eagerCollections();
    if (!current) return fail(current.status().message());
    for (const auto& c : *current) std::cout << c << "\n";
    return 0;
  }

  if (*fetch) {
    const auto hash = sync::fileHashFromHex(hash_arg);
    if (hash.empty()) return fail("'" + hash_arg + "' is not a file hash (64 lowercase hex digits)", kExitUsage);
    auto held = local.files().entry(hash);
    if (!held) return fail(held.status().message());
    if (!held->has_value() || !(*held)->complete) {
      auto l = readLogin(home);
      if (!l || l->server.empty()) {
        return fail("the file is not on this device and you are not logged in: run communesync login first");
      }
      std::signal(SIGINT, [](int) { g_cancel.store(true); });
      client::SyncOptions options;
      options.cancel = &g_cancel;
      client::WebSocketTransport transport(l->server, l->token, client::TlsOptions{l->ca});
      auto report = client::fetchOnce(local, transport, hash, options);
      if (!report.status) {
        return fail("fetch failed (" + std::string(errorCodeName(report.status.code())) +
                    "): " + report.status.message() +
                    (report.status.retryable() ? "; what arrived is kept, run fetch again to resume" : ""));
      }
    }
    if (auto s = local.files().copyTo(hash, out_arg); !s) return fail(s.message());
    return 0;
  }

  if (*sync_cmd) {
    auto l = readLogin(home);
    if (!l || l->server.empty())
      return fail("not logged in: run communesync login --server ws://HOST:PORT --token TOKEN");
    std::signal(SIGINT, [](int) { g_cancel.store(true); });
    const bool tty = ::isatty(STDERR_FILENO) != 0 && !as_json;
    client::SyncOptions options;
    options.cancel = &g_cancel;
    if (tty) {
      options.on_progress = [](const client::SyncProgress& p) {
        switch (p.phase) {
          case client::SyncProgress::Phase::kConnecting:
            std::cerr << "\rconnecting…" << std::flush;
            break;
          case client::SyncProgress::Phase::kPushing: {
            const int width = 30;
            const int filled = p.to_push == 0 ? width : static_cast<int>(width * p.pushed / p.to_push);
            std::cerr << "\rsending   [" << std::string(static_cast<std::size_t>(filled), '#')
                      << std::string(static_cast<std::size_t>(width - filled), ' ') << "] " << p.pushed << "/"
                      << p.to_push << std::flush;
            break;
          }
          case client::SyncProgress::Phase::kPulling:
            std::cerr << "\rreceiving " << p.pulled << " records" << std::string(20, ' ') << std::flush;
            break;
          case client::SyncProgress::Phase::kFiles:
            std::cerr << "\rfiles " << p.files_done << "/" << p.files_total << ": "
                      << (p.file_bytes_total == 0 ? 100 : 100 * p.file_bytes / p.file_bytes_total) << "%"
                      << std::string(20, ' ') << std::flush;
            break;
          case client::SyncProgress::Phase::kDone:
            std::cerr << "\r" << std::string(60, ' ') << "\r" << std::flush;
            break;
        }
      };
    }
    client::WebSocketTransport transport(l->server, l->token, client::TlsOptions{l->ca});
    auto report = client::syncOnce(local, transport, options);
    if (tty) std::cerr << "\r" << std::string(60, ' ') << "\r";
    if (as_json) {
      std::cout << client::reportToJson(report).dump() << "\n";
    }
    if (!report.status) {
      const auto code = report.status.code();
      std::string why = code == ErrorCode::kUnavailable    ? "unreachable"
                        : code == ErrorCode::kUnauthorized ? "refused"
                        : code == ErrorCode::kCancelled    ? "cancelled"
                                                           : std::string(errorCodeName(code));
      return fail("sync failed (" + why + "): " + report.status.message() +
                  "; nothing saved here is lost, run sync again");
    }
    if (!as_json) {
      std::cout << "synced: sent " << report.pushed << " changes (" << report.accepted << " accepted, "
                << report.rejected << " rejected), received " << report.pulled << " records, " << report.conflicts
                << " conflicts"
                << (report.files_sent + report.files_received > 0
                        ? "; files: " + std::to_string(report.files_sent) + " sent, " +
                              std::to_string(report.files_received) + " received"
                        : std::string())
                << (report.server_reset ? "; the server was reset, your data was sent again" : "")
                << (report.purged > 0 ? "; " + std::to_string(report.purged) +
                                            " records removed from this device: your access to their units ended"
                                      : std::string())
                << (report.resynced > 0 ? "; " + std::to_string(report.resynced) +
                                              " units pulled afresh (the server no longer keeps old deletions), " +
                                              std::to_string(report.resync_dropped) + " records deleted there removed"
                                        : std::string())
                << "\n";
      if (report.rejected > 0) std::cout << "rejected changes are kept: see communesync status\n";
    }
    return 0;
  }
  return 0;
}
