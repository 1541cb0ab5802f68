// Photos and files end to end: a real server on 127.0.0.1, devices over WebSocket. A large file
// through a link cut every 64 KiB, a server killed mid-upload, records that never wait behind a
// file, the same photo attached twice, eager and on-demand fetching, and who may fetch what.
#include <gtest/gtest.h>

#include <atomic>
#include <fstream>
#include <random>

#include "assert_ok.hpp"
#include "communesync/sync/file_ref.hpp"
#include "cutting_proxy.hpp"
#include "server_harness.hpp"
#include "server_process.hpp"
#include "store/file_group.hpp"
#include "temp_dir.hpp"

namespace communesync {
namespace {

using sync::Value;
using testing::ServerHarness;
using testing::TestDevice;

// Random bytes (photos do not compress), written to `path`; returns them.
std::string makeFile(const std::filesystem::path& path, std::size_t size, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::string bytes(size, '\0');
  for (auto& b : bytes) b = static_cast<char>(rng());
  std::ofstream(path, std::ios::binary) << bytes;
  return bytes;
}

std::string hexOf(const std::string& bytes) {
  sync::Sha256 sha;
  sha.update(bytes);
  return sync::fileHashToHex(sha.finish());
}

std::string readAll(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// Attaches `file` to a new household record; returns the record id and the file's hex hash.
std::pair<std::string, std::string> attachToNewRecord(TestDevice& device, const std::filesystem::path& file) {
  const auto id = device.put("household", "", {{"head", Value("Lò Văn Pá")}});
  auto hash = device.store().files().add(file, 64ull << 20);
  EXPECT_OK(hash);
  device.put("household", id, {{"photo", Value(*hash)}});
  return {id, *hash};
}

client::SyncReport fetchWith(TestDevice& device, const std::string& url, const std::string& hex) {
  client::WebSocketTransport transport(url, device.token());
  return client::fetchOnce(device.store(), transport, sync::fileHashFromHex(hex));
}

// The file as `device` holds it, written out and read back.
std::string heldBytes(TestDevice& device, const std::string& hex, const std::filesystem::path& out) {
  auto s = device.store().files().copyTo(sync::fileHashFromHex(hex), out);
  EXPECT_OK(s);
  return readAll(out);
}

TEST(Files, AFiveMegabyteFileCrossesALinkCutEvery64KiBWithLittleWaste) {
  testing::TempDir dir;
  ServerHarness server(dir / "server");
  TestDevice field(dir / "field", server.addUser("an", {"xa-01"}));
  TestDevice office(dir / "office", server.addUser("binh", {"xa-01"}));
  constexpr std::size_t kSize = 5 * 1024 * 1024;
  const auto bytes = makeFile(dir / "plan.jpg", kSize, 61);
  const auto [id, hex] = attachToNewRecord(field, dir / "plan.jpg");
  ASSERT_EQ(hex, hexOf(bytes));

  testing::CuttingProxy link(server.port(), 64 * 1024, /*every_connection=*/true);
  const std::string url = "ws://127.0.0.1:" + std::to_string(link.port());
  int attempts = 0;
  client::SyncReport last;
  for (; attempts < 400; ++attempts) {
    last = field.sync(url);
    if (last.status.isOk()) break;
    ASSERT_EQ(last.status.code(), ErrorCode::kUnavailable) << last.status.toString();
  }
  ASSERT_OK(last.status) << "gave up after " << attempts << " syncs: " << last.status.toString();
  EXPECT_GT(attempts, 60) << "the link must actually cut the upload many times";
  EXPECT_EQ(last.files_sent, 1u);
  auto status = field.store().status();
  ASSERT_OK(status);
  EXPECT_EQ(status->files_pending, 0u);
  const double ratio = static_cast<double>(link.upstream()) / kSize;
  std::cout << "[ figures ] 5 MiB through a link cut every 64 KiB: " << link.connections() << " connections, "
            << link.upstream() << " bytes up, " << ratio << " per file byte\n";
  // Each connection carries at most 64 KiB, about one piece: what is lost per cut is what was in
  // flight plus the handshake and hello. That share moves with the timing of the cuts (1.10 to 1.19
  // seen, under ASan and a loaded machine); an upload that restarted from zero anywhere would
  // resend megabytes and pass 2. The figure itself is printed above.
  EXPECT_LT(ratio, 1.5) << "bytes sent over the link, all connections together";

  // Another device of the commune fetches it on demand: the same bytes.
  office.syncOk(server.url());
  auto fetched = fetchWith(office, server.url(), hex);
  ASSERT_OK(fetched.status);
  EXPECT_EQ(fetched.files_received, 1u);
  EXPECT_TRUE(heldBytes(office, hex, dir / "out.jpg") == bytes) << "the bytes differ";
}

TEST(Files, RecordsMadeDuringALargeUploadReachTheServerBeforeTheFile) {
  testing::TempDir dir;
  ServerHarness server(dir / "server");
  TestDevice field(dir / "field", server.addUser("an", {"xa-01"}));
  TestDevice watcher(dir / "watcher", server.addUser("binh", {"xa-01"}));
  const auto bytes = makeFile(dir / "model.jpg", 3 * 1024 * 1024, 7);
  const auto [id, hex] = attachToNewRecord(field, dir / "model.jpg");

  // A slow link: each frame the field device sends waits a little.
  class SlowTransport : public client::WebSocketTransport {
   public:
    using WebSocketTransport::WebSocketTransport;
    Status send(std::string_view frame) override {
      std::this_thread::sleep_for(std::chrono::milliseconds(15));
      return WebSocketTransport::send(frame);
    }
  };
  std::atomic<bool> uploading{false};
  std::atomic<bool> done{false};
  client::SyncReport report;
  std::thread syncing([&] {
    SlowTransport transport(server.url(), field.token());
    client::SyncOptions options;
    options.on_progress = [&](const client::SyncProgress& p) {
      if (p.phase == client::SyncProgress::Phase::kFiles && p.file_bytes > 0) uploading = true;
    };
    report = client::syncOnce(field.store(), transport, options);
    done = true;
  });
  for (int i = 0; i < 2000 && !uploading; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  ASSERT_TRUE(uploading) << "the upload never started";
  const auto later = field.put("household", "", {{"head", Value("Hộ mới")}});

  // The new record shows on another device while the file is still not whole on the server.
  bool seen = false;
  for (int i = 0; i < 200 && !seen && !done; ++i) {
    watcher.syncOk(server.url());
    auto r = watcher.store().get({"household", later});
    ASSERT_OK(r);
    seen = r->has_value();
    if (seen) {
      auto early = fetchWith(watcher, server.url(), hex);
      EXPECT_EQ(early.status.code(), ErrorCode::kNotFound) << early.status.toString();
    }
  }
  syncing.join();
  EXPECT_TRUE(seen) << "the record waited behind the file";
  ASSERT_OK(report.status);
  EXPECT_EQ(report.files_sent, 1u);
  EXPECT_GE(report.accepted, 3u);  // the record, its photo field, and the record made meanwhile
  auto fetched = fetchWith(watcher, server.url(), hex);
  ASSERT_OK(fetched.status);
  EXPECT_TRUE(heldBytes(watcher, hex, dir / "out.jpg") == bytes) << "the bytes differ";
}

TEST(Files, TheSamePhotoAttachedTwiceIsStoredAndSentOnce) {
  testing::TempDir dir;
  ServerHarness server(dir / "server");
  TestDevice field(dir / "field", server.addUser("an", {"xa-01"}));
  TestDevice other(dir / "other", server.addUser("chi", {"xa-01"}));
  constexpr std::size_t kSize = 1024 * 1024;
  makeFile(dir / "house.jpg", kSize, 3);
  std::filesystem::copy_file(dir / "house.jpg", dir / "same-house.jpg");
  const auto [first, hex] = attachToNewRecord(field, dir / "house.jpg");
  const auto [second, hex2] = attachToNewRecord(field, dir / "same-house.jpg");
  EXPECT_EQ(hex, hex2);
  auto uploads = field.store().files().toUpload();
  ASSERT_OK(uploads);
  EXPECT_EQ(uploads->size(), 1u) << "kept once on the device";

  auto report = field.sync(server.url());
  ASSERT_OK(report.status);
  EXPECT_EQ(report.files_sent, 1u);
  EXPECT_EQ(report.file_bytes_sent, kSize) << "sent once";

  // A device that attaches the same photo later sends no byte of it: the server has it.
  makeFile(dir / "again.jpg", kSize, 3);
  attachToNewRecord(other, dir / "again.jpg");
  auto again = other.sync(server.url());
  ASSERT_OK(again.status);
  EXPECT_EQ(again.files_sent, 1u);
  EXPECT_EQ(again.file_bytes_sent, 0u);
}

TEST(Files, EagerCollectionsAreFetchedBySyncOthersOnDemandAndOnlyByThoseWhoMayRead) {
  testing::TempDir dir;
  ServerHarness server(dir / "server");
  TestDevice field(dir / "field", server.addUser("an", {"xa-01"}));
  TestDevice office(dir / "office", server.addUser("binh", {"xa-01"}));
  TestDevice phone(dir / "phone", server.addUser("chi", {"xa-01"}));
  TestDevice stranger(dir / "stranger", server.addUser("dung", {"xa-02"}));
  ASSERT_OK(office.store().files().setEagerCollections({"household"}));
  const auto bytes = makeFile(dir / "p.jpg", 200 * 1024, 5);
  const auto [id, hex] = attachToNewRecord(field, dir / "p.jpg");
  field.syncOk(server.url());

  auto eager = office.sync(server.url());
  ASSERT_OK(eager.status);
  EXPECT_EQ(eager.files_received, 1u);
  EXPECT_EQ(eager.file_bytes_received, bytes.size());
  EXPECT_TRUE(heldBytes(office, hex, dir / "office.jpg") == bytes) << "the bytes differ";

  auto lazy = phone.sync(server.url());
  ASSERT_OK(lazy.status);
  EXPECT_EQ(lazy.files_received, 0u) << "a field phone fetches on demand";
  auto entry = phone.store().files().entry(sync::fileHashFromHex(hex));
  ASSERT_OK(entry);
  EXPECT_FALSE(entry->has_value());
  auto on_demand = fetchWith(phone, server.url(), hex);
  ASSERT_OK(on_demand.status);
  EXPECT_TRUE(heldBytes(phone, hex, dir / "phone.jpg") == bytes) << "the bytes differ";

  auto refused = fetchWith(stranger, server.url(), hex);
  EXPECT_EQ(refused.status.code(), ErrorCode::kForbidden) << refused.status.toString();

  // Deleting the record takes the reference away: the file is no longer readable by the commune
  // (the server keeps it until the retention time passes; ServerFiles tests the sweep).
  field.remove("household", id);
  field.syncOk(server.url());
  TestDevice late(dir / "late", server.addUser("em", {"xa-01"}));
  late.syncOk(server.url());
  EXPECT_EQ(fetchWith(late, server.url(), hex).status.code(), ErrorCode::kForbidden);
}

TEST(Files, PhotosOfRecordsAUserNoLongerMayReadLeaveTheDeviceWithThem) {
  testing::TempDir dir;
  ServerHarness server(dir / "server");
  TestDevice one(dir / "one", server.addUser("an", {"xa-01"}));
  TestDevice two(dir / "two", server.addUser("binh", {"xa-02"}));
  TestDevice office(dir / "office", server.addUser(nlohmann::json{{"name", "lan"}, {"scopes", {"xa-01", "xa-02"}}}));
  ASSERT_OK(office.store().files().setEagerCollections({"household"}));
  makeFile(dir / "a.jpg", 50 * 1024, 1);
  makeFile(dir / "b.jpg", 50 * 1024, 2);
  const auto [ida, hexa] = attachToNewRecord(one, dir / "a.jpg");
  const auto idb = two.put("household", "", {{"chu_ho", Value("Hộ B")}}, "xa-02");
  auto hexb = two.store().attach({"household", idb}, "photo", dir / "b.jpg", testing::wallNow());
  ASSERT_OK(hexb);
  one.syncOk(server.url());
  two.syncOk(server.url());
  auto both = office.sync(server.url());
  ASSERT_OK(both.status);
  EXPECT_EQ(both.files_received, 2u);

  server.admin("/admin/users/lan/revoke", nlohmann::json{{"grants", {"field:xa-02"}}}.dump());
  auto after = office.sync(server.url());
  ASSERT_OK(after.status);
  EXPECT_EQ(after.purged, 1u);
  auto kept = office.store().files().entry(sync::fileHashFromHex(hexa));
  auto gone = office.store().files().entry(sync::fileHashFromHex(*hexb));
  ASSERT_TRUE(kept.isOk() && gone.isOk());
  EXPECT_TRUE(kept->has_value() && (*kept)->complete);
  EXPECT_FALSE(gone->has_value()) << "the photo of a record the user may no longer read stayed on the device";
}

TEST(Files, ServerKilledMidUploadResumesWithoutCorruptionOrUndurableAcknowledgements) {
  testing::TempDir dir;
  testing::ServerProcess server(dir / "server");
  server.start();
  auto user = [&](const std::string& name) {
    auto [status, body] = testing::adminPost(server.port(), server.adminToken(), "/admin/users",
                                             nlohmann::json{{"name", name}, {"scopes", {"xa-01"}}}.dump());
    EXPECT_EQ(status, 201u) << body;
    return nlohmann::json::parse(body).value("token", "");
  };
  TestDevice field(dir / "field", user("an"));
  constexpr std::size_t kSize = 6 * 1024 * 1024;
  const auto bytes = makeFile(dir / "scan.pdf", kSize, 17);
  const auto [id, hex] = attachToNewRecord(field, dir / "scan.pdf");
  const auto raw = sync::fileHashFromHex(hex);

  std::uint64_t acknowledged = 0;
  int kills = 0;
  for (std::uint64_t stop_at : {kSize / 4, kSize / 2, 3 * kSize / 4}) {
    client::WebSocketTransport transport(server.url(), field.token());
    client::SyncOptions options;
    options.on_progress = [&](const client::SyncProgress& p) {
      if (p.phase != client::SyncProgress::Phase::kFiles) return;
      acknowledged = std::max<std::uint64_t>(acknowledged, p.file_bytes);  // the server said: durable
      if (p.file_bytes >= stop_at && kills < 3 && p.file_bytes < kSize) {
        server.kill();
        ++kills;
      }
    };
    auto report = client::syncOnce(field.store(), transport, options);
    EXPECT_FALSE(report.status.isOk()) << "the kill should have cut this sync";

    // The server's store after the kill: every acknowledged byte is there, and what it holds of the
    // user's upload (under its own name until whole) is the file's own prefix.
    {
      auto store = storage::Store::open(dir / "server");
      ASSERT_OK(store);
      sync::FileStore files(**store);
      const auto held_as = server::partialName(raw, "an");
      auto entry = files.entry(held_as);
      ASSERT_OK(entry);
      ASSERT_TRUE(entry->has_value());
      EXPECT_GE((*entry)->have, acknowledged) << "an acknowledged piece was lost";
      EXPECT_FALSE((*entry)->complete);
      auto prefix = files.read(held_as, 0, (*entry)->have);
      ASSERT_OK(prefix);
      EXPECT_TRUE(*prefix == bytes.substr(0, prefix->size())) << "the server holds bytes that are not the file's";
    }
    server.start();
  }
  EXPECT_EQ(kills, 3);

  // The next sync resumes: it sends what is missing, not the whole file again.
  auto resumed = field.sync(server.url());
  ASSERT_OK(resumed.status);
  EXPECT_EQ(resumed.files_sent, 1u);
  EXPECT_LT(resumed.file_bytes_sent, kSize - acknowledged + 512 * 1024);
  TestDevice reader(dir / "reader", user("binh"));
  reader.syncOk(server.url());
  auto fetched = fetchWith(reader, server.url(), hex);
  ASSERT_OK(fetched.status);
  EXPECT_TRUE(heldBytes(reader, hex, dir / "out.pdf") == bytes) << "the bytes differ";
  server.stopGracefully();
}

}  // namespace
}  // namespace communesync
