// communesync-admin's reconciliation commands, over the server's /api/ (docs/admin-api.md):
//   conflicts list [--unit UNIT] [--collection C] [--field F] [--author USER] [--older-than-days N] [--all] [--json]
//                                 --json: one object per line: "id","collection","record","field","status","values",...
//   conflicts show ID [--json]
//   conflicts resolve ID (--take kept|lost | --value JSON) --reason TEXT
//   history COLLECTION ID [--json]
//   review COLLECTION ID approve|needs-edits|reject [--comment TEXT]   (a comment is needed unless approving)
//   reviews [--unit UNIT] [--state received|approved|needs_edits|rejected] [--json]
//   export COLLECTION [--unit UNIT] --format csv|xlsx|jsonl [--out FILE]   (xlsx needs --out)
#pragma once

#include <CLI/CLI.hpp>
#include <optional>
#include <string>

#include "admin_api.hpp"

namespace communesync::tools {

class ReconcileCommands {
 public:
  //! Adds the commands to `app`.
  explicit ReconcileCommands(CLI::App& app);
  //! Runs the command that was parsed, if it is one of these: its exit code.
  std::optional<int> run(const Api& api) const;

 private:
  CLI::App* list_ = nullptr;
  CLI::App* show_ = nullptr;
  CLI::App* resolve_ = nullptr;
  CLI::App* history_ = nullptr;
  CLI::App* review_ = nullptr;
  CLI::App* reviews_ = nullptr;
  std::string verdict_, comment_, state_;
  CLI::App* export_ = nullptr;
  std::string format_, out_;
  std::string id_, unit_, collection_, field_, author_, take_, value_, reason_, record_;
  long older_than_days_ = 0;
  bool all_ = false;
  bool json_ = false;
};

}  // namespace communesync::tools
