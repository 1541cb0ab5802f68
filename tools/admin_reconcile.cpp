#include "admin_reconcile.hpp"

#include <ctime>
#include <fstream>
#include <functional>

#include "sheet_output.hpp"

namespace communesync::tools {
namespace {

using nlohmann::json;

std::string when(const json& ms) {
  if (!ms.is_number() || ms.get<std::int64_t>() == 0) return "?";
  std::time_t t = static_cast<std::time_t>(ms.get<std::int64_t>() / 1000);
  char out[32];
  std::strftime(out, sizeof out, "%Y-%m-%d %H:%M", std::gmtime(&t));
  return std::string(out) + "Z";
}

std::string valueText(const json& side) {
  if (side.is_null()) return "?";
  if (side.value("deleted", false)) return "(xoá / deleted)";
  return side.contains("value") ? side["value"].dump() : "?";
}

void printConflict(const json& c, bool detailed) {
  std::cout << c["id"].get<std::string>() << "  " << c["collection"].get<std::string>() << "/"
            << c["record"].get<std::string>() << "  "
            << (c["field"].get<std::string>().empty() ? "(bản ghi / record)" : c["field"].get<std::string>()) << "  "
            << c["scope"].get<std::string>() << "  " << c["status"].get<std::string>() << "\n";
  for (const auto& side : c["values"]) {
    std::cout << "  " << (side["kept"].get<bool>() ? "kept (giữ)  " : "lost (mất)  ") << valueText(side) << "  by "
              << side.value("user", "?") << " on " << side["device"].get<std::string>().substr(0, 8) << ", captured "
              << when(side["captured_ms"]) << ", received " << when(side["received_ms"]) << "\n";
  }
  if (!detailed) return;
  std::cout << "  agreed before (trước khi sửa): " << valueText(c["agreed"]) << "\n";
  if (c["status"] == "resolved") {
    std::cout << "  settled by " << c["resolved_by"].get<std::string>() << " at " << when(c["resolved_ms"]) << ": "
              << valueText(c["resolution"]) << " — " << c["reason"].get<std::string>() << "\n";
  }
}

// Calls `fn` with every item of a paged list (`path` has a query already), following each page's
// `next` until the last: a province's list arrives a page at a time. False when a call failed
// (the error was printed).
bool eachPage(const Api& api, const std::string& path, const std::string& items,
              const std::function<void(const json&)>& fn) {
  std::string after;
  do {
    auto page = api.call("GET", path + (after.empty() ? "" : "&after=" + urlPart(after)));
    if (!page) return false;
    for (const auto& item : (*page)[items]) fn(item);
    after = page->value("next", "");
  } while (!after.empty());
  return true;
}

}  // namespace

ReconcileCommands::ReconcileCommands(CLI::App& app) {
  auto* conflicts = app.add_subcommand("conflicts", "conflicting edits: list, show, settle")->require_subcommand(1);
  list_ = conflicts->add_subcommand("list", "open conflicts you may see, newest first");
  list_->add_option("--unit", unit_, "only this unit and the units under it (a district covers its communes)");
  list_->add_option("--collection", collection_, "only this form");
  list_->add_option("--field", field_, "only this field");
  list_->add_option("--author", author_, "only conflicts where this user wrote a side");
  list_->add_option("--older-than-days", older_than_days_, "only conflicts found more than N days ago");
  list_->add_flag("--all", all_, "settled ones too");
  list_->add_flag("--json", json_, "one JSON object per line");
  show_ = conflicts->add_subcommand("show", "one conflict: the record, both sides, the value before");
  show_->add_option("id", id_)->required();
  show_->add_flag("--json", json_, "print as JSON");
  resolve_ = conflicts->add_subcommand("resolve", "settle a conflict; the decision syncs to every device");
  resolve_->add_option("id", id_)->required();
  auto* take = resolve_->add_option("--take", take_, "the side to keep: kept or lost (their ids in show)");
  auto* value = resolve_->add_option("--value", value_, "a new value, as JSON (\"text\" in quotes, 6, true, ...)");
  take->excludes(value);
  resolve_->add_option("--reason", reason_, "why, for the record and for the authors")->required();
  history_ = app.add_subcommand("history", "every version of a record: who, which device, when, what changed");
  history_->add_option("collection", collection_)->required();
  history_->add_option("id", record_)->required();
  history_->add_flag("--json", json_, "print as JSON");
  review_ = app.add_subcommand("review", "review a record; the verdict and comment reach its unit's devices");
  review_->add_option("collection", collection_)->required();
  review_->add_option("id", record_)->required();
  review_->add_option("verdict", verdict_, "approve, needs-edits or reject")
      ->required()
      ->check(CLI::IsMember({"approve", "needs-edits", "reject"}));
  review_->add_option("--comment", comment_, "what to fix, or why (needed unless approving)");
  reviews_ = app.add_subcommand("reviews", "reviews of records you may see");
  reviews_->add_option("--unit", unit_, "only this unit and the units under it");
  reviews_->add_option("--state", state_, "received, approved, needs_edits or rejected");
  reviews_->add_flag("--json", json_, "one JSON object per line");
  export_ = app.add_subcommand("export", "the records of a form, for the province's own spreadsheets");
  export_->add_option("collection", collection_)->required();
  export_->add_option("--unit", unit_, "only this unit and the units under it");
  export_->add_option("--format", format_, "csv, xlsx or jsonl")
      ->required()
      ->check(CLI::IsMember({"csv", "xlsx", "jsonl"}));
  export_->add_option("--out", out_, "the file to write (default: standard output; xlsx needs a file)");
}

std::optional<int> ReconcileCommands::run(const Api& api) const {
  if (*list_) {
    std::string query = all_ ? "status=all" : "status=open";
    if (!unit_.empty()) query += "&unit=" + urlPart(unit_);
    if (!collection_.empty()) query += "&collection=" + urlPart(collection_);
    if (!field_.empty()) query += "&field=" + urlPart(field_);
    if (!author_.empty()) query += "&author=" + urlPart(author_);
    if (older_than_days_ > 0) query += "&older_than_days=" + std::to_string(older_than_days_);
    std::size_t listed = 0;
    const auto ok = eachPage(api, "/api/conflicts?" + query, "conflicts", [&](const json& c) {
      ++listed;
      if (json_) {
        std::cout << c.dump() << "\n";
      } else {
        printConflict(c, false);
      }
    });
    if (!ok) return 1;
    if (!json_ && listed == 0) std::cout << "không có xung đột / no conflicts\n";
    return 0;
  }
  if (*show_) {
    auto j = api.call("GET", "/api/conflicts/" + urlPart(id_));
    if (!j) return 1;
    if (json_) {
      std::cout << j->dump(2) << "\n";
      return 0;
    }
    printConflict((*j)["conflict"], true);
    if (!(*j)["record"].is_null()) std::cout << "  record: " << (*j)["record"]["fields"].dump() << "\n";
    return 0;
  }
  if (*resolve_) {
    if (take_.empty() && value_.empty()) {
      std::cerr << "communesync-admin: give --take kept|lost or --value JSON\n";
      return 2;
    }
    json body{{"reason", reason_}};
    if (!take_.empty()) {
      body["take"] = take_;
    } else {
      json v = json::parse(value_, nullptr, false);
      if (v.is_discarded()) {
        std::cerr << "communesync-admin: --value must be JSON (text goes in quotes: '\"Lò Văn Pá\"')\n";
        return 2;
      }
      body["value"] = v;
    }
    auto j = api.call("POST", "/api/conflicts/" + urlPart(id_) + "/resolve", body.dump());
    if (!j) return 1;
    std::cout << "settled " << id_ << ": " << valueText((*j)["conflict"]["resolution"])
              << " (every device holding the record gets it at its next sync)\n";
    return 0;
  }
  if (*history_) {
    auto j = api.call("GET", "/api/history/" + urlPart(collection_) + "/" + urlPart(record_));
    if (!j) return 1;
    if (json_) {
      std::cout << j->dump(2) << "\n";
      return 0;
    }
    for (const auto& v : (*j)["history"]) {
      std::cout << when(v["received_ms"]) << "  " << v["user"].get<std::string>() << "  device "
                << v["device"].get<std::string>().substr(0, 8) << "  captured " << when(v["captured_ms"]) << "  "
                << (v["deleted"].get<bool>() ? std::string("(deleted)") : v["changed"].dump()) << "\n";
    }
    return 0;
  }
  if (*review_) {
    const std::string state = verdict_ == "approve" ? "approved" : verdict_ == "reject" ? "rejected" : "needs_edits";
    auto j = api.call("POST", "/api/reviews/" + urlPart(collection_) + "/" + urlPart(record_),
                      json{{"state", state}, {"comment", comment_}}.dump());
    if (!j) return 1;
    std::cout << collection_ << "/" << record_ << ": " << state << "\n";
    return 0;
  }
  if (*reviews_) {
    std::string query;
    if (!unit_.empty()) query += "unit=" + urlPart(unit_);
    if (!state_.empty()) query += std::string(query.empty() ? "" : "&") + "state=" + urlPart(state_);
    const auto ok = eachPage(api, "/api/reviews?" + query, "reviews", [&](const json& r) {
      if (json_) {
        std::cout << r.dump() << "\n";
      } else {
        std::cout << r["collection"].get<std::string>() << "/" << r["record"].get<std::string>() << "  "
                  << r["state"].get<std::string>() << "  " << r["by"].get<std::string>() << "  "
                  << r["comment"].get<std::string>() << "\n";
      }
    });
    return ok ? 0 : 1;
  }
  if (*export_) {
    // The server writes the file (streamed: a whole province's export in constant memory, on both
    // sides); the tool copies it as it arrives.
    if (format_ == "xlsx" && out_.empty()) {
      std::cerr << "communesync-admin: --format xlsx needs --out FILE.xlsx\n";
      return 2;
    }
    std::ofstream file;
    if (!out_.empty()) file.open(out_, std::ios::binary | std::ios::trunc);
    std::ostream& out = out_.empty() ? std::cout : file;
    if (!out) {
      std::cerr << "communesync-admin: cannot write " << out_ << "\n";
      return 1;
    }
    const auto path =
        "/api/export/" + urlPart(collection_) + "?format=" + format_ + (unit_.empty() ? "" : "&unit=" + urlPart(unit_));
    if (!api.download(path, out)) return 1;
    out.flush();
    if (!out) {
      std::cerr << "communesync-admin: cannot write " << (out_.empty() ? "standard output" : out_) << "\n";
      return 1;
    }
    return 0;
  }
  return std::nullopt;
}

}  // namespace communesync::tools
