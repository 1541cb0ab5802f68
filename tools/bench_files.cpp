#include "bench_files.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <iostream>
#include <random>

#include "communesync/client/local_store.hpp"
#include "communesync/client/replicator.hpp"
#include "communesync/client/websocket_transport.hpp"
#include "communesync/storage/store.hpp"
#include "communesync/sync/file_ref.hpp"
#include "communesync/sync/file_store.hpp"
// The tests' cutting proxy: the same link model the resumable-upload test uses (127.0.0.1 only).
#include "cutting_proxy.hpp"

namespace communesync::tools {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

std::chrono::milliseconds wallNow() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch());
}

std::string randomBytes(std::size_t size, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::string out(size, '\0');
  for (std::size_t i = 0; i + 8 <= size; i += 8) {
    const auto v = rng();
    std::memcpy(out.data() + i, &v, 8);
  }
  return out;
}

// A device with `files` photos attached to household records; returns the hex hashes.
std::vector<std::string> attachPhotos(client::LocalStore& device, const fs::path& dir, std::size_t files,
                                      std::size_t bytes, std::uint64_t seed) {
  std::vector<std::string> hashes;
  fs::create_directories(dir);
  for (std::size_t i = 0; i < files; ++i) {
    const auto path = dir / ("photo-" + std::to_string(i) + ".jpg");
    std::ofstream(path, std::ios::binary) << randomBytes(bytes, seed + i);
    auto id = device.put("household", "", "xa-01", {{"chu_ho", sync::Value("Hộ " + std::to_string(i))}}, wallNow());
    if (!id) return {};
    auto hash = device.attach({"household", *id}, "anh_nha", path, wallNow());
    if (!hash) {
      std::cerr << hash.status().toString() << "\n";
      return {};
    }
    hashes.push_back(*hash);
  }
  return hashes;
}

}  // namespace

bool benchFiles(const fs::path& work, const FileBenchOptions& o, nlohmann::json& out) {
  const std::size_t bytes = o.file_kib * 1024;
  const double total = static_cast<double>(bytes * o.files);
  const double mib = total / (1024.0 * 1024.0);

  // 1. Up over a clean link.
  auto up = client::LocalStore::open(work / "up");
  if (!up) return false;
  auto hashes = attachPhotos(**up, work / "photos", o.files, bytes, 1);
  if (hashes.size() != o.files) return false;
  auto start = Clock::now();
  client::WebSocketTransport up_link(o.url, o.token_up);
  auto sent = client::syncOnce(**up, up_link);
  double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  if (!sent.status || sent.files_sent != o.files) {
    std::cerr << "upload failed: " << sent.status.toString() << "\n";
    return false;
  }
  out["upload_mib_per_s"] = mib / seconds;
  out["upload_wire_bytes_per_file_byte"] = static_cast<double>(sent.bytes_sent) / total;

  // 2. Up through a link cut every cut_kib (other photos, so nothing is deduplicated away).
  auto cut = client::LocalStore::open(work / "cut");
  if (!cut) return false;
  if (attachPhotos(**cut, work / "photos-cut", o.files, bytes, 1000).size() != o.files) return false;
  testing::CuttingProxy proxy(o.port, o.cut_kib * 1024, /*every_connection=*/true);
  const std::string cut_url = "ws://127.0.0.1:" + std::to_string(proxy.port());
  std::uint64_t client_bytes = 0;
  int syncs = 0;
  start = Clock::now();
  for (; syncs < 100000; ++syncs) {
    client::WebSocketTransport link(cut_url, o.token_cut);
    auto r = client::syncOnce(**cut, link);
    client_bytes += r.bytes_sent;
    if (r.status) break;
    if (r.status.code() != ErrorCode::kUnavailable) {
      std::cerr << "upload through cuts failed: " << r.status.toString() << "\n";
      return false;
    }
  }
  seconds = std::chrono::duration<double>(Clock::now() - start).count();
  out["cut_every_kib"] = o.cut_kib;
  out["cut_connections"] = proxy.connections();
  out["cut_link_bytes_per_file_byte"] = static_cast<double>(proxy.upstream()) / total;
  out["cut_client_bytes_per_file_byte"] = static_cast<double>(client_bytes) / total;
  out["cut_upload_mib_per_s"] = mib / seconds;

  // 3. Down: another device of the commune fetches every photo of the clean upload.
  auto down = client::LocalStore::open(work / "down");
  if (!down) return false;
  client::WebSocketTransport first(o.url, o.token_down);
  if (auto s = client::syncOnce(**down, first); !s.status) return false;
  std::uint64_t received = 0;
  start = Clock::now();
  for (const auto& hex : hashes) {
    client::WebSocketTransport link(o.url, o.token_down);
    auto r = client::fetchOnce(**down, link, sync::fileHashFromHex(hex));
    if (!r.status) {
      std::cerr << "fetch failed: " << r.status.toString() << "\n";
      return false;
    }
    received += r.bytes_received;
  }
  seconds = std::chrono::duration<double>(Clock::now() - start).count();
  out["fetch_mib_per_s"] = mib / seconds;
  out["fetch_wire_bytes_per_file_byte"] = static_cast<double>(received) / total;
  return true;
}

bool benchFileStore(const fs::path& work, std::size_t mib, nlohmann::json& out) {
  constexpr std::size_t kPiece = std::size_t{64} * 1024;
  const std::size_t pieces = mib * 1024 * 1024 / kPiece;
  const auto data = randomBytes(pieces * kPiece, 7);
  const std::string hash = [&] {
    sync::Sha256 sha;
    sha.update(data);
    return sha.finish();
  }();

  // RocksDB: each piece and its entry in one synced commit (the server's way).
  {
    auto store = storage::Store::open(work / "rocksdb");
    if (!store) return false;
    sync::FileEntry entry;
    entry.size = data.size();
    auto start = Clock::now();
    for (std::size_t i = 0; i < pieces; ++i) {
      storage::WriteBatch batch;
      (void)sync::FileStore::append(batch, hash, entry, i * kPiece, std::string_view(data).substr(i * kPiece, kPiece));
      sync::FileStore::putEntry(batch, hash, entry);
      if (!(*store)->commit(batch, storage::Durability::kSynced)) return false;
    }
    out["rocksdb_blob_write_mib_per_s"] =
        static_cast<double>(mib) / std::chrono::duration<double>(Clock::now() - start).count();
    start = Clock::now();
    auto ok = sync::FileStore(**store).verify(hash, data.size());
    out["rocksdb_blob_read_mib_per_s"] =
        static_cast<double>(mib) / std::chrono::duration<double>(Clock::now() - start).count();
    if (!ok || !*ok) return false;
  }
  // Plain files: the piece appended and fdatasync'd, then the entry in RocksDB, synced (two syncs,
  // since the entry must not count bytes the file does not durably hold).
  {
    auto store = storage::Store::open(work / "meta");
    if (!store) return false;
    const auto path = work / "plain.part";
    const int fd = ::open(path.c_str(), O_CREAT | O_WRONLY | O_TRUNC, 0600);
    if (fd < 0) return false;
    sync::FileEntry entry;
    entry.size = data.size();
    auto start = Clock::now();
    for (std::size_t i = 0; i < pieces; ++i) {
      if (::pwrite(fd, data.data() + i * kPiece, kPiece, static_cast<off_t>(i * kPiece)) !=
          static_cast<ssize_t>(kPiece))
        return false;
      if (::fdatasync(fd) != 0) return false;
      entry.have += kPiece;
      storage::WriteBatch batch;
      sync::FileStore::putEntry(batch, hash, entry);
      if (!(*store)->commit(batch, storage::Durability::kSynced)) return false;
    }
    ::close(fd);
    out["plain_file_write_mib_per_s"] =
        static_cast<double>(mib) / std::chrono::duration<double>(Clock::now() - start).count();
    start = Clock::now();
    std::ifstream in(path, std::ios::binary);
    std::string buffer(kPiece, '\0');
    sync::Sha256 sha;
    while (in.read(buffer.data(), kPiece) || in.gcount() > 0)
      sha.update(std::string_view(buffer.data(), static_cast<std::size_t>(in.gcount())));
    out["plain_file_read_mib_per_s"] =
        static_cast<double>(mib) / std::chrono::duration<double>(Clock::now() - start).count();
    if (sha.finish() != hash) return false;
  }
  out["mib"] = mib;
  out["piece_kib"] = kPiece / 1024;
  return true;
}

}  // namespace communesync::tools
