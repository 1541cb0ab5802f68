// Online backup (docs/operations.md, "Backup and restore"): a consistent copy of the running store,
// made with RocksDB's checkpoint while pushes go on, with every file of the data folder that lives
// outside RocksDB (admin.token). It is kept under <data>/backups/ID until the admin tool has fetched
// it (communesync-admin backup), and described by a manifest the tool checks each file against.
//
// Restoring is starting a server on the fetched folder. The tool leaves kBackupManifestFile in it;
// the first start of a server on a folder holding it renews the store's incarnation (so every
// device notices the server went back in time and pushes again what it holds, whatever
// sequence numbers the restored server hands out meanwhile) and warns what the copy cannot bring
// back (Backups::restoreWarning).
#pragma once

#include <cstdint>
#include <filesystem>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "communesync/storage/store.hpp"

namespace communesync::server {

//! In a fetched backup: its manifest. Renamed to kRestoredManifestFile at the first start on it.
inline constexpr std::string_view kBackupManifestFile = "BACKUP.json";
inline constexpr std::string_view kRestoredManifestFile = "RESTORED-FROM-BACKUP.json";

struct BackupFile {
  std::string name;  //!< relative to the backup's folder, '/'-separated
  std::uint64_t bytes = 0;
  std::string sha256;  //!< hex
};

struct BackupManifest {
  std::string id;
  std::int64_t created_ms = 0;
  std::string incarnation;     //!< of the store it was copied from
  std::uint64_t last_seq = 0;  //!< the server-wide log sequence the copy holds
  std::uint64_t bytes = 0;     //!< every file together
  std::vector<BackupFile> files;

  nlohmann::json toJson() const;
  //! Errors: kInvalidArgument naming what is missing or malformed.
  static Result<BackupManifest> fromJson(const nlohmann::json& j);
};

//! Every regular file under `dir` (sorted by name), with its size and SHA-256.
Result<std::vector<BackupFile>> describeFiles(const std::filesystem::path& dir);

class Backups {
 public:
  Backups(storage::Store& store, std::filesystem::path data_dir);

  //! Makes a backup: checkpoint, the files outside RocksDB, the manifest. At most
  //! tuning::kMaxBackupsKept wait to be fetched at once (kBusy past it). Errors: the store's, kNoSpace.
  Result<BackupManifest> make(std::int64_t now_ms);
  //! The path of one file of a waiting backup. Errors: kNotFound (no such backup or file).
  Result<std::filesystem::path> file(std::string_view id, std::string_view name) const;
  //! Removes a waiting backup (the tool has it). Errors: kNotFound.
  Status remove(std::string_view id);
  //! Removes every waiting backup (at start: nobody is fetching).
  Status removeAll();
  //! Removes the backups made more than tuning::kBackupKeptFor before `now_ms` and never fetched
  //! whole (the writer's hourly sweep). Returns how many went.
  std::size_t expire(std::int64_t now_ms);

  //! When `data_dir` is a backup started as a server for the first time: renews the store's
  //! incarnation, renames the manifest and returns what the operator must know; else "".
  static Result<std::string> adoptIfRestored(storage::Store& store, const std::filesystem::path& data_dir);

 private:
  std::filesystem::path folderOf(std::string_view id) const;
  std::size_t expireLocked(std::int64_t now_ms);

  storage::Store& store_;
  std::filesystem::path data_dir_;
  std::filesystem::path root_;  // <data>/backups
  mutable std::mutex mutex_;
  std::vector<BackupManifest> waiting_;
};

}  // namespace communesync::server
