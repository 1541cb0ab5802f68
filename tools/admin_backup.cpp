#include "admin_backup.hpp"

#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <iostream>

#include "communesync/storage/store.hpp"
#include "communesync/sync/file_ref.hpp"
#include "store/backup.hpp"
#include "store/server_store.hpp"

namespace communesync::tools {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// Fetches one file of the backup into `to`, hashing it on the way; false (said why) if it is not
// exactly what the manifest says.
bool fetch(const Api& api, const server::BackupManifest& m, const server::BackupFile& file, const fs::path& to) {
  const auto part = fs::path(to.string() + ".part");
  std::ofstream out(part, std::ios::binary | std::ios::trunc);
  sync::Sha256 hash;
  std::uint64_t bytes = 0;
  const bool fetched = api.download("/admin/backups/" + m.id + "/" + urlPart(file.name), [&](std::string_view piece) {
    bytes += piece.size();
    if (bytes > file.bytes) return false;  // more than the manifest said: stop, it is not this file
    hash.update(piece);
    out.write(piece.data(), static_cast<std::streamsize>(piece.size()));
    return static_cast<bool>(out);
  });
  out.close();
  if (!fetched) {
    std::cerr << "communesync-admin: fetching " << file.name << " failed (or the disk is full: " << part.string()
              << ")\n";
    return false;
  }
  if (!out) {
    std::cerr << "communesync-admin: cannot write " << part.string() << " (is the disk full?)\n";
    return false;
  }
  if (bytes != file.bytes || sync::fileHashToHex(hash.finish()) != file.sha256) {
    std::cerr << "communesync-admin: " << file.name << " arrived damaged (" << bytes << " bytes of " << file.bytes
              << ", or its SHA-256 differs); run the backup again\n";
    return false;
  }
  std::error_code ec;
  fs::rename(part, to, ec);
  if (ec) {
    std::cerr << "communesync-admin: cannot rename " << part.string() << ": " << ec.message() << "\n";
    return false;
  }
  return true;
}

// Opens the fetched copy as a store, read-only: what it holds must be what the manifest says.
bool verify(const fs::path& dir, const server::BackupManifest& m) {
  storage::StoreOptions read_only;
  read_only.read_only = true;
  read_only.block_cache_bytes = 1 << 20;
  auto store = storage::Store::open(dir, read_only);
  if (!store) {
    std::cerr << "communesync-admin: the fetched copy does not open as a store: " << store.status().message() << "\n";
    return false;
  }
  if (auto s = (*store)->verifyChecksums(); !s) {
    std::cerr << "communesync-admin: the fetched copy is damaged: " << s.message() << "\n";
    return false;
  }
  auto seq = server::ServerStore::lastSeqIn(**store);
  if (!seq || *seq != m.last_seq || (*store)->incarnationId() != m.incarnation) {
    std::cerr << "communesync-admin: the fetched copy is not the backup the server described (sequence "
              << (seq ? std::to_string(*seq) : seq.status().message()) << ", expected " << m.last_seq << ")\n";
    return false;
  }
  return true;
}

std::string mebibytes(std::uint64_t bytes) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1f MiB", static_cast<double>(bytes) / (1024.0 * 1024.0));
  return text;
}

}  // namespace

BackupCommand::BackupCommand(CLI::App& app) {
  backup_ = app.add_subcommand("backup", "copy the running server's store to this machine (online, checked)");
  backup_->add_option("--out", out_, "a new (or empty) folder for the copy; start a server on it to restore")
      ->required();
}

std::optional<int> BackupCommand::run(const Api& api) const {
  if (!*backup_) return std::nullopt;
  const fs::path dir(out_);
  ::umask(0077);  // the copy is households' personal data: this user's alone, as on the server
  std::error_code ec;
  if (fs::exists(dir, ec) && !fs::is_empty(dir, ec)) {
    std::cerr << "communesync-admin: " << dir.string() << " is not empty: give a new folder\n";
    return 2;
  }
  fs::create_directories(dir, ec);
  if (ec) {
    std::cerr << "communesync-admin: cannot create " << dir.string() << ": " << ec.message() << "\n";
    return 1;
  }
  fs::permissions(dir, fs::perms::owner_all, fs::perm_options::replace, ec);  // households' personal data
  auto answer = api.call("POST", "/admin/backups", "", "application/json", 201);
  if (!answer) return 1;
  auto manifest = server::BackupManifest::fromJson(*answer);
  if (!manifest) {
    std::cerr << "communesync-admin: " << manifest.status().message() << "\n";
    return 1;
  }
  const auto& m = *manifest;
  auto failed = [&] {
    (void)api.call("DELETE", "/admin/backups/" + m.id);
    fs::remove_all(dir, ec);
    return 1;
  };
  std::cerr << "communesync-admin: fetching " << m.files.size() << " files, " << mebibytes(m.bytes) << "\n";
  for (const auto& file : m.files) {
    if (!fetch(api, m, file, dir / file.name)) return failed();
  }
  if (!verify(dir, m)) return failed();
  {
    std::ofstream out(dir / std::string(server::kBackupManifestFile));
    out << m.toJson().dump(2) << "\n";
    if (!out) {
      std::cerr << "communesync-admin: cannot write the manifest into " << dir.string() << "\n";
      return failed();
    }
  }
  (void)api.call("DELETE", "/admin/backups/" + m.id);  // the copy is here now; the server's can go
  std::cout << "backup " << m.id << ": " << m.files.size() << " files, " << m.bytes << " bytes (" << mebibytes(m.bytes)
            << "), last sequence " << m.last_seq << ", incarnation " << m.incarnation << ", checked, in "
            << dir.string() << "\n"
            << "to restore: communesync-server --data " << dir.string() << "\n";
  return 0;
}

}  // namespace communesync::tools
