#include "store/backup.hpp"

#include <sodium.h>

#include <algorithm>
#include <array>
#include <ctime>
#include <fstream>

#include "base/log.hpp"
#include "base/tuning.hpp"
#include "communesync/sync/device_id.hpp"
#include "communesync/sync/file_ref.hpp"
#include "store/server_store.hpp"

namespace communesync::server {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// The data folder's files that RocksDB does not hold, copied into every backup.
constexpr std::array<std::string_view, 2> kFilesBesideTheStore = {"admin.token", kRestoredManifestFile};

Status ioError(const std::string& doing, const std::error_code& ec) {
  const auto code = ec == std::errc::no_space_on_device ? ErrorCode::kNoSpace : ErrorCode::kIoError;
  return Status::error(code, doing + ": " + ec.message());
}

}  // namespace

json BackupManifest::toJson() const {
  json list = json::array();
  for (const auto& f : files) list.push_back({{"name", f.name}, {"bytes", f.bytes}, {"sha256", f.sha256}});
  return {{"id", id},
          {"created_ms", created_ms},
          {"incarnation", incarnation},
          {"last_seq", last_seq},
          {"bytes", bytes},
          {"files", list}};
}

Result<BackupManifest> BackupManifest::fromJson(const json& j) {
  const auto refused = [](const std::string& what) {
    return Status::error(ErrorCode::kInvalidArgument, "the backup manifest " + what);
  };
  if (!j.is_object() || !j.contains("files") || !j["files"].is_array()) return refused("has no list of files");
  BackupManifest m;
  try {
    m.id = j.at("id").get<std::string>();
    m.created_ms = j.at("created_ms").get<std::int64_t>();
    m.incarnation = j.at("incarnation").get<std::string>();
    m.last_seq = j.at("last_seq").get<std::uint64_t>();
    m.bytes = j.at("bytes").get<std::uint64_t>();
    for (const auto& f : j["files"]) {
      BackupFile file{f.at("name").get<std::string>(), f.at("bytes").get<std::uint64_t>(),
                      f.at("sha256").get<std::string>()};
      // A name from the server becomes a path on the admin's machine: one plain name, nothing else.
      if (file.name.empty() || file.name.find('/') != std::string::npos || file.name == "." || file.name == "..") {
        return refused("names a file '" + file.name.substr(0, 80) + "' that is not a plain file name");
      }
      m.files.push_back(std::move(file));
    }
  } catch (const json::exception& e) {
    return refused(std::string("is malformed: ") + e.what());
  }
  return m;
}

Result<std::vector<BackupFile>> describeFiles(const fs::path& dir) {
  std::vector<BackupFile> out;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    if (!it->is_regular_file(ec)) continue;
    const auto name = it->path().filename().string();
    std::ifstream in(it->path(), std::ios::binary);
    sync::Sha256 hash;
    std::string piece(1 << 16, '\0');
    std::uint64_t bytes = 0;
    while (in) {
      in.read(piece.data(), static_cast<std::streamsize>(piece.size()));
      const auto got = static_cast<std::size_t>(in.gcount());
      hash.update(std::string_view(piece.data(), got));
      bytes += got;
    }
    if (in.bad()) return Status::error(ErrorCode::kIoError, "reading " + it->path().string());
    out.push_back({name, bytes, sync::fileHashToHex(hash.finish())});
  }
  if (ec) return ioError("listing " + dir.string(), ec);
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
  return out;
}

Backups::Backups(storage::Store& store, fs::path data_dir)
    : store_(store), data_dir_(std::move(data_dir)), root_(data_dir_ / "backups") {}

fs::path Backups::folderOf(std::string_view id) const {
  return root_ / std::string(id);
}

std::size_t Backups::expire(std::int64_t now_ms) {
  std::lock_guard lock(mutex_);
  return expireLocked(now_ms);
}

std::size_t Backups::expireLocked(std::int64_t now_ms) {
  std::size_t gone = 0;
  for (auto it = waiting_.begin(); it != waiting_.end();) {
    if (now_ms - it->created_ms < std::chrono::milliseconds(tuning::kBackupKeptFor).count()) {
      ++it;
      continue;
    }
    std::error_code ec;
    fs::remove_all(folderOf(it->id), ec);
    it = waiting_.erase(it);
    ++gone;
  }
  return gone;
}

Result<BackupManifest> Backups::make(std::int64_t now_ms) {
  std::lock_guard lock(mutex_);
  expireLocked(now_ms);  // a backup never fetched (the tool was stopped) goes after a day
  if (waiting_.size() >= tuning::kMaxBackupsKept) {
    return Status::error(ErrorCode::kBusy, "another backup is being fetched; retry when it is done");
  }
  BackupManifest m;
  std::string raw(16, '\0');
  randombytes_buf(raw.data(), raw.size());
  m.id = sync::toHex(raw);
  m.created_ms = now_ms;
  const auto folder = folderOf(m.id);
  std::error_code ec;
  fs::create_directories(root_, ec);
  if (ec) return ioError("creating " + root_.string(), ec);
  if (auto s = store_.checkpoint(folder); !s) {
    fs::remove_all(folder, ec);
    return s;
  }
  auto cleanup = [&](Status s) {
    std::error_code ignored;
    fs::remove_all(folder, ignored);
    return s;
  };
  for (auto name : kFilesBesideTheStore) {
    const auto from = data_dir_ / std::string(name);
    if (!fs::exists(from, ec)) continue;
    fs::copy_file(from, folder / std::string(name), fs::copy_options::overwrite_existing, ec);
    if (ec) return cleanup(ioError("copying " + from.string(), ec));
  }
  {
    // What the copy holds, read from the copy itself.
    storage::StoreOptions read_only;
    read_only.read_only = true;
    read_only.block_cache_bytes = 1 << 20;
    auto copy = storage::Store::open(folder, read_only);
    if (!copy) return cleanup(copy.status());
    m.incarnation = (*copy)->incarnationId();
    auto seq = ServerStore::lastSeqIn(**copy);
    if (!seq) return cleanup(seq.status());
    m.last_seq = *seq;
  }
  auto files = describeFiles(folder);
  if (!files) return cleanup(files.status());
  m.files = std::move(files).value();
  for (const auto& f : m.files) m.bytes += f.bytes;
  waiting_.push_back(m);
  logEvent(LogLevel::kInfo, "backup_made",
           {{"id", m.id}, {"bytes", std::to_string(m.bytes)}, {"last_seq", std::to_string(m.last_seq)}});
  return m;
}

Result<fs::path> Backups::file(std::string_view id, std::string_view name) const {
  std::lock_guard lock(mutex_);
  for (const auto& m : waiting_) {
    if (m.id != id) continue;
    for (const auto& f : m.files) {
      if (f.name == name) return folderOf(id) / f.name;
    }
  }
  return Status::error(ErrorCode::kNotFound, "no such backup, or no such file in it");
}

Status Backups::remove(std::string_view id) {
  std::lock_guard lock(mutex_);
  auto it = std::find_if(waiting_.begin(), waiting_.end(), [&](const auto& m) { return m.id == id; });
  if (it == waiting_.end()) return Status::error(ErrorCode::kNotFound, "no such backup");
  std::error_code ec;
  fs::remove_all(folderOf(id), ec);
  waiting_.erase(it);
  if (ec) return ioError("removing a backup", ec);
  return Status::ok();
}

Status Backups::removeAll() {
  std::lock_guard lock(mutex_);
  waiting_.clear();
  std::error_code ec;
  fs::remove_all(root_, ec);
  if (ec) return ioError("removing " + root_.string(), ec);
  return Status::ok();
}

Result<std::string> Backups::adoptIfRestored(storage::Store& store, const fs::path& data_dir) {
  const auto manifest_path = data_dir / std::string(kBackupManifestFile);
  std::error_code ec;
  if (!fs::exists(manifest_path, ec)) return std::string();
  std::ifstream in(manifest_path);
  auto j = json::parse(in, nullptr, false);
  auto manifest = BackupManifest::fromJson(j);
  const auto from = store.incarnationId();
  CS_RETURN_IF_ERROR(store.renewIncarnation());
  fs::rename(manifest_path, data_dir / std::string(kRestoredManifestFile), ec);
  if (ec) return ioError("renaming " + manifest_path.string(), ec);
  std::string when = "an unknown time";
  if (manifest) {
    const auto seconds = static_cast<std::time_t>(manifest->created_ms / 1000);
    char text[32];
    std::tm utc{};
    ::gmtime_r(&seconds, &utc);
    std::strftime(text, sizeof text, "%Y-%m-%d %H:%M:%SZ", &utc);
    when = text;
  }
  return "this folder is a backup made at " + when + " (sequence " +
         (manifest ? std::to_string(manifest->last_seq) : std::string("?")) + ", incarnation " + from +
         "), started as a server for the first time: its incarnation is now " + store.incarnationId() +
         ". Every device will push again the records it holds. What was done on the server alone after the "
         "backup and reached no device is not in it: reviews, committee grades, users, grants, passwords, unit "
         "changes and forms published since then; settle or enter them again.";
}

}  // namespace communesync::server
