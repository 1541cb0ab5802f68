// communesync-admin backup --out DIR: an online backup of the running server, fetched to this
// machine (store/backup.hpp is the server's side; docs/operations.md, "Backup and restore"):
//   1. the server makes a consistent copy of its store (RocksDB's checkpoint) while it keeps serving;
//   2. each file of it is fetched into DIR and checked against the manifest (size, SHA-256);
//   3. DIR is opened as a store, read-only: every block's checksum is checked, and its incarnation and
//      last sequence must be the manifest's;
//   4. the manifest is written as DIR/BACKUP.json and the server drops its copy.
// Prints the backup's size and the last sequence it holds. Restoring is `communesync-server --data DIR`.
#pragma once

#include <CLI/CLI.hpp>
#include <optional>
#include <string>

#include "admin_api.hpp"

namespace communesync::tools {

class BackupCommand {
 public:
  explicit BackupCommand(CLI::App& app);
  //! Runs the command that was parsed, if it is this one: its exit code.
  std::optional<int> run(const Api& api) const;

 private:
  CLI::App* backup_ = nullptr;
  std::string out_;
};

}  // namespace communesync::tools
