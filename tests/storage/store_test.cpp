#include "communesync/storage/store.hpp"

#include "communesync/storage/key_codec.hpp"
#include "communesync/storage/postgres_store.hpp"
#include "communesync/storage/tuning.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <condition_variable>
#include <fstream>
#include <mutex>
#include <random>
#include <thread>
#include <vector>

#include "assert_ok.hpp"
#include "store_backends.hpp"
#include "temp_dir.hpp"

namespace communesync::storage {
namespace {

using testing::Backend;
using testing::ScratchStores;
using testing::TempDir;

// The conformance suite: what every backend of Store must do, run on each (store_backends.hpp).
class StoreConformance : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    if (!ScratchStores::available(GetParam())) GTEST_SKIP() << "no PostgreSQL cluster for this run";
  }
  std::unique_ptr<Store> openOrDie(const std::string& name = "db") {
    auto store = stores_.open(name);
    EXPECT_OK(store);
    return store.isOk() ? std::move(store).value() : nullptr;
  }
  ScratchStores stores_{GetParam()};
};

std::unique_ptr<Store> openOrDie(const std::filesystem::path& path) {
  auto store = Store::open(path);
  EXPECT_OK(store);
  return std::move(store).value();
}

std::optional<std::string> read(Store& store, Column c, std::string_view key) {
  auto v = store.get(c, key);
  EXPECT_OK(v);
  return v.isOk() ? *v : std::nullopt;
}

TEST_P(StoreConformance, PutGetAndDeleteInColumns) {
  auto store = openOrDie();
  ASSERT_NE(store, nullptr);
  WriteBatch batch;
  batch.put(Column::kRecords, "k", "record");
  batch.put(Column::kLog, "k", "log");
  ASSERT_OK(store->commit(batch, Durability::kSynced));
  EXPECT_EQ(read(*store, Column::kRecords, "k"), "record");
  EXPECT_EQ(read(*store, Column::kLog, "k"), "log");
  EXPECT_EQ(read(*store, Column::kConflicts, "k"), std::nullopt) << "columns are separate key spaces";

  WriteBatch del;
  del.erase(Column::kRecords, "k");
  ASSERT_OK(store->commit(del, Durability::kBuffered));
  EXPECT_EQ(read(*store, Column::kRecords, "k"), std::nullopt);
  EXPECT_EQ(read(*store, Column::kLog, "k"), "log");
}

TEST_P(StoreConformance, LastKeyIsTheGreatestUnderAPrefix) {
  auto store = openOrDie();
  ASSERT_NE(store, nullptr);
  WriteBatch batch;
  for (const char* key : {"a\x01", "a\x7f", "a\xff\xff", "b", "ab", "c"}) batch.put(Column::kIdempotency, key, "v");
  batch.put(Column::kLog, "a\xff\xff\xff", "another column");
  ASSERT_OK(store->commit(batch, Durability::kSynced));
  auto last = [&](std::string_view prefix) {
    auto k = store->lastKey(Column::kIdempotency, prefix);
    EXPECT_OK(k.status());
    return k.isOk() ? *k : std::optional<std::string>();
  };
  EXPECT_EQ(last("a"), std::optional<std::string>("a\xff\xff")) << "bytes compare unsigned";
  EXPECT_EQ(last("a\x01"), std::optional<std::string>("a\x01"));
  EXPECT_EQ(last("b"), std::optional<std::string>("b"));
  EXPECT_EQ(last("d"), std::nullopt);
  EXPECT_EQ(last("0"), std::nullopt) << "before every key";
  EXPECT_EQ(last(""), std::optional<std::string>("c")) << "no prefix: the last key of the column";
  EXPECT_EQ(last("\xff"), std::nullopt) << "a prefix with no successor";
}

// A full compaction drops what edits and deletions left behind, and keeps what is live.
TEST(Store, CompactAllDropsOldVersionsAndKeepsTheLive) {
  TempDir dir;
  auto store = openOrDie(dir / "db");
  std::mt19937 rng(3);
  std::string value(2000, ' ');  // incompressible, so sizes are the data's
  for (auto& c : value) c = static_cast<char>(rng());
  for (int round = 0; round < 2; ++round) {  // three files in all: below RocksDB's own trigger
    WriteBatch batch;
    for (int k = 0; k < 500; ++k) batch.put(Column::kRecords, "k" + std::to_string(k), value + std::to_string(round));
    ASSERT_OK(store->commit(batch, Durability::kBuffered));
    ASSERT_OK(store->flush());  // each round in files of its own
  }
  WriteBatch gone;
  for (int k = 250; k < 500; ++k) gone.erase(Column::kRecords, "k" + std::to_string(k));
  ASSERT_OK(store->commit(gone, Durability::kBuffered));
  ASSERT_OK(store->flush());
  auto folderBytes = [&] {
    std::uintmax_t total = 0;
    for (const auto& f : std::filesystem::recursive_directory_iterator(dir / "db")) {
      if (f.is_regular_file()) total += f.file_size();
    }
    return total;
  };
  const auto before = folderBytes();
  ASSERT_OK(store->compactAll());
  const auto after = folderBytes();
  EXPECT_LT(after * 2, before) << "two versions of 500 keys, half deleted: one version of 250 is left";
  EXPECT_LT(after, std::uintmax_t{500} * value.size()) << "about the live data (250 values)";
  EXPECT_EQ(read(*store, Column::kRecords, "k7"), value + "1");
  EXPECT_EQ(read(*store, Column::kRecords, "k300"), std::nullopt);
}

TEST_P(StoreConformance, DataAndIncarnationSurviveReopen) {
  std::string incarnation;
  {
    auto store = openOrDie();
    ASSERT_NE(store, nullptr);
    incarnation = store->incarnationId();
    EXPECT_EQ(incarnation.size(), 32u);
    WriteBatch batch;
    for (int i = 0; i < 1000; ++i) batch.put(Column::kRecords, "key" + std::to_string(i), std::string(100, 'x'));
    ASSERT_OK(store->commit(batch, Durability::kSynced));
  }
  auto store = openOrDie();
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->incarnationId(), incarnation);
  EXPECT_EQ(read(*store, Column::kRecords, "key999"), std::string(100, 'x'));
  ASSERT_OK(store->renewIncarnation());
  EXPECT_NE(store->incarnationId(), incarnation);
  const auto renewed = store->incarnationId();
  store.reset();
  EXPECT_EQ(openOrDie()->incarnationId(), renewed) << "a renewed incarnation is kept";

  auto fresh = openOrDie("other");
  ASSERT_NE(fresh, nullptr);
  EXPECT_NE(fresh->incarnationId(), incarnation) << "a new store has a new incarnation";
}

// How an operator renews a restored store's incarnation by hand (docs/operations.md, PostgreSQL):
// the identity row removed, the next open makes a new one and keeps the data.
TEST_P(StoreConformance, AStoreWhoseIncarnationWasRemovedGetsANewOneAndKeepsItsData) {
  std::string incarnation;
  {
    auto store = openOrDie();
    ASSERT_NE(store, nullptr);
    incarnation = store->incarnationId();
    WriteBatch batch;
    batch.put(Column::kRecords, "r", "kept");
    batch.erase(Column::kMeta, "incarnation");
    ASSERT_OK(store->commit(batch, Durability::kSynced));
  }
  auto store = openOrDie();
  ASSERT_NE(store, nullptr);
  EXPECT_NE(store->incarnationId(), incarnation);
  EXPECT_EQ(store->incarnationId().size(), 32u);
  EXPECT_EQ(read(*store, Column::kRecords, "r"), "kept");
}

TEST_P(StoreConformance, AStoreOfAnotherFormatIsRefusedWithWhatToDo) {
  for (const auto& [format, expected] :
       {std::pair<std::string, std::string>{"1", "pre-release format 1"}, {"99", "newer communesync (format 99"}}) {
    const std::string name = "f" + format;  // each round in a store of its own
    {
      auto store = openOrDie(name);
      ASSERT_NE(store, nullptr);
      WriteBatch batch;
      batch.put(Column::kMeta, "format_version", format);
      ASSERT_OK(store->commit(batch, Durability::kSynced));
    }
    auto again = stores_.open(name);
    ASSERT_FALSE(again.isOk()) << "format " << format;
    EXPECT_EQ(again.status().code(), ErrorCode::kInvalidArgument);
    EXPECT_NE(again.status().message().find(expected), std::string::npos) << again.status().message();
  }
}

// Several keys in one read: in the order asked, absent ones empty, a key asked twice answered twice,
// through a snapshot as of its moment.
TEST_P(StoreConformance, MultiGetAnswersEachKeyInOrder) {
  auto store = openOrDie();
  ASSERT_NE(store, nullptr);
  WriteBatch batch;
  batch.put(Column::kRecords, "a", "1");
  batch.put(Column::kRecords, std::string("b\0", 2), "2");
  ASSERT_OK(store->commit(batch, Durability::kSynced));
  auto snap = store->snapshot();
  WriteBatch later;
  later.put(Column::kRecords, "a", "changed");
  ASSERT_OK(store->commit(later, Durability::kSynced));
  const std::vector<std::string> keys = {std::string("b\0", 2), "absent", "a", "a"};
  auto now = store->multiGet(Column::kRecords, keys);
  ASSERT_OK(now);
  EXPECT_EQ(*now, (std::vector<std::optional<std::string>>{"2", std::nullopt, "changed", "changed"}));
  auto then = store->multiGet(Column::kRecords, keys, &snap);
  ASSERT_OK(then);
  EXPECT_EQ(*then, (std::vector<std::optional<std::string>>{"2", std::nullopt, "1", "1"}));
  EXPECT_TRUE(store->multiGet(Column::kRecords, {})->empty());
}

// A batch applies its operations in order: the last on a key is what it holds.
TEST_P(StoreConformance, ABatchEndsWithTheLastOperationOnEachKey) {
  auto store = openOrDie();
  ASSERT_NE(store, nullptr);
  WriteBatch seed;
  seed.put(Column::kRecords, "kept", "old");
  seed.put(Column::kRecords, "erased", "old");
  ASSERT_OK(store->commit(seed, Durability::kSynced));
  WriteBatch batch;
  batch.erase(Column::kRecords, "kept");
  batch.put(Column::kRecords, "kept", "new");
  batch.put(Column::kRecords, "erased", "new");
  batch.erase(Column::kRecords, "erased");
  batch.put(Column::kRecords, "twice", "1");
  batch.put(Column::kRecords, "twice", "2");
  batch.erase(Column::kRecords, "never-there");
  ASSERT_OK(store->commit(batch, Durability::kBuffered));
  EXPECT_EQ(read(*store, Column::kRecords, "kept"), "new");
  EXPECT_EQ(read(*store, Column::kRecords, "erased"), std::nullopt);
  EXPECT_EQ(read(*store, Column::kRecords, "twice"), "2");
  WriteBatch empty;
  EXPECT_OK(store->commit(empty, Durability::kSynced));
}

// Keys and values are bytes: NUL and 0xff bytes, an empty value, a value of a few hundred KiB (a
// file piece); a long scan reads on page after page, and a seek jumps within it.
TEST_P(StoreConformance, BytesRoundTripAndLongScansReadEveryKeyInOrder) {
  auto store = openOrDie();
  ASSERT_NE(store, nullptr);
  const std::string nul_key("k\0\xff\x01", 4);
  std::string big(300 * 1024, '\0');
  for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>(i * 7);
  WriteBatch batch;
  batch.put(Column::kChunks, nul_key, std::string("v\0v", 3));
  batch.put(Column::kChunks, "empty", "");
  batch.put(Column::kChunks, "big", big);
  for (int i = 0; i < 10000; ++i) {
    std::string key = "n";
    storage::appendUint64(key, static_cast<std::uint64_t>(i) * 3);
    batch.put(Column::kScopeIndex, key, std::to_string(i));
  }
  ASSERT_OK(store->commit(batch, Durability::kSynced));
  EXPECT_EQ(read(*store, Column::kChunks, nul_key), std::string("v\0v", 3));
  EXPECT_EQ(read(*store, Column::kChunks, "empty"), std::string());
  EXPECT_EQ(read(*store, Column::kChunks, "big"), big);

  int count = 0;
  std::string previous;
  for (auto c = store->scanPrefix(Column::kScopeIndex, "n"); c.valid(); c.next()) {
    EXPECT_LT(previous, std::string(c.key()));
    EXPECT_EQ(c.value(), std::to_string(count));
    previous = std::string(c.key());
    ++count;
  }
  EXPECT_EQ(count, 10000);
  auto cursor = store->scanPrefix(Column::kScopeIndex, "n");
  std::string target = "n";
  storage::appendUint64(target, 7000 * 3 + 1);  // between two keys: lands on the next
  cursor.seek(target);
  ASSERT_TRUE(cursor.valid());
  EXPECT_EQ(cursor.value(), "7001");
  cursor.next();
  ASSERT_TRUE(cursor.valid());
  EXPECT_EQ(cursor.value(), "7002");
  ASSERT_OK(cursor.status());
}

TEST(Store, StatsShowTheBlockCachesSizeAndWhatItHolds) {
  TempDir dir;
  StoreOptions options;
  options.block_cache_bytes = 8 * tuning::kMiB;
  auto opened = Store::open(dir / "db", options);
  ASSERT_OK(opened);
  auto& store = **opened;
  EXPECT_EQ(store.stats().block_cache_capacity_bytes, 8 * tuning::kMiB);
  WriteBatch batch;
  for (int k = 0; k < 2000; ++k) batch.put(Column::kRecords, "k" + std::to_string(k), std::string(100, 'v'));
  ASSERT_OK(store.commit(batch, Durability::kBuffered));
  ASSERT_OK(store.flush());  // in a file now: reading it goes through the cache
  const auto before = store.stats().block_cache_usage_bytes;
  for (int k = 0; k < 2000; k += 50)
    EXPECT_EQ(read(store, Column::kRecords, "k" + std::to_string(k)), std::string(100, 'v'));
  const auto after = store.stats().block_cache_usage_bytes;
  EXPECT_GT(after, before) << "the blocks read are held";
  EXPECT_LE(after, 8 * tuning::kMiB);
}

TEST(Store, OpeningMissingStoreWithoutCreateIsNotFound) {
  TempDir dir;
  StoreOptions options;
  options.create_if_missing = false;
  auto store = Store::open(dir / "absent", options);
  ASSERT_FALSE(store.isOk());
  EXPECT_EQ(store.status().code(), ErrorCode::kNotFound);
}

TEST(Store, PathUnderAFileIsAClearError) {
  TempDir dir;
  std::ofstream(dir / "file") << "not a folder";
  auto store = Store::open(dir / "file" / "db");
  ASSERT_FALSE(store.isOk());
  EXPECT_NE(store.status().message().find("file"), std::string::npos) << store.status().toString();
}

TEST(Store, UnwritableFolderIsPermissionDenied) {
  if (::geteuid() == 0) GTEST_SKIP() << "root ignores file modes";
  TempDir dir;
  std::filesystem::create_directories(dir / "ro");
  std::filesystem::permissions(dir / "ro", std::filesystem::perms::owner_read | std::filesystem::perms::owner_exec);
  auto store = Store::open(dir / "ro" / "db");
  ASSERT_FALSE(store.isOk());
  EXPECT_EQ(store.status().code(), ErrorCode::kPermissionDenied) << store.status().toString();
}

TEST_P(StoreConformance, PrefixAndRangeScansAreOrderedAndBounded) {
  auto store = openOrDie();
  ASSERT_NE(store, nullptr);
  WriteBatch batch;
  for (auto key : {"a/1", "a/2", "a/3", "b/1", "a", "a0"}) batch.put(Column::kScopeIndex, key, key);
  ASSERT_OK(store->commit(batch, Durability::kBuffered));

  std::vector<std::string> seen;
  for (auto c = store->scanPrefix(Column::kScopeIndex, "a/"); c.valid(); c.next()) seen.emplace_back(c.key());
  EXPECT_EQ(seen, (std::vector<std::string>{"a/1", "a/2", "a/3"}));

  seen.clear();
  for (auto c = store->scan(Column::kScopeIndex, "a/2", "b"); c.valid(); c.next()) seen.emplace_back(c.key());
  EXPECT_EQ(seen, (std::vector<std::string>{"a/2", "a/3", "a0"}));

  seen.clear();
  for (auto c = store->scan(Column::kScopeIndex, "a0", ""); c.valid(); c.next()) seen.emplace_back(c.key());
  EXPECT_EQ(seen, (std::vector<std::string>{"a0", "b/1"}));
}

TEST_P(StoreConformance, SnapshotSeesOneMomentAcrossReads) {
  auto store = openOrDie();
  ASSERT_NE(store, nullptr);
  WriteBatch first;
  first.put(Column::kRecords, "x", "1");
  first.put(Column::kLog, "x", "1");
  ASSERT_OK(store->commit(first, Durability::kBuffered));
  auto snap = store->snapshot();

  WriteBatch second;
  second.put(Column::kRecords, "x", "2");
  second.put(Column::kLog, "y", "2");
  ASSERT_OK(store->commit(second, Durability::kBuffered));

  EXPECT_EQ(**store->get(Column::kRecords, "x", &snap), "1");
  EXPECT_EQ(*store->get(Column::kLog, "y", &snap), std::nullopt);
  int count = 0;
  for (auto c = store->scanPrefix(Column::kLog, "", &snap); c.valid(); c.next()) ++count;
  EXPECT_EQ(count, 1);
  EXPECT_EQ(read(*store, Column::kRecords, "x"), "2");
}

TEST_P(StoreConformance, ConcurrentDurableCommitsAllLand) {
  auto store = openOrDie();
  ASSERT_NE(store, nullptr);
  std::vector<std::thread> threads;
  threads.reserve(4);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 50; ++i) {
        WriteBatch b;
        b.put(Column::kLog, std::to_string(t) + "/" + std::to_string(i), "v");
        EXPECT_OK(store->commit(b, Durability::kSynced));
      }
    });
  }
  for (auto& th : threads) th.join();
  int count = 0;
  for (auto c = store->scanPrefix(Column::kLog, ""); c.valid(); c.next()) ++count;
  EXPECT_EQ(count, 200);
}

// Adds one to meta "counter" `times` times, each a read-modify-write under the writer lock.
void countUnderLock(Store& store, int times) {
  for (int i = 0; i < times; ++i) {
    auto held = store.lock(LockName::kWriter, std::chrono::milliseconds(10000));
    ASSERT_OK(held);
    auto raw = store.get(Column::kMeta, "counter");
    ASSERT_OK(raw);
    std::string next;
    appendUint64(next, (raw->has_value() ? readUint64(**raw).value_or(0) : 0) + 1);
    WriteBatch batch;
    batch.put(Column::kMeta, "counter", next);
    ASSERT_OK(store.commit(batch, Durability::kSynced));
  }
}

// Store::lock: one holder at a time; the holder's reads see every commit made before it took the
// lock, so a read-modify-write under it never loses an update (the server's group commits).
TEST_P(StoreConformance, ALockHasOneHolderAtATimeAndItsReadModifyWritesLoseNothing) {
  auto store = openOrDie();
  ASSERT_NE(store, nullptr);
  {
    auto held = store->lock(LockName::kWriter, std::chrono::milliseconds(1000));
    ASSERT_OK(held);
    auto again = store->lock(LockName::kWriter, std::chrono::milliseconds(1000));
    EXPECT_OK(again) << "the holder's thread may take it again";
    std::thread other([&] {
      auto directory = store->lock(LockName::kDirectory, std::chrono::milliseconds(1000));
      EXPECT_OK(directory) << "another name is free";
      // Refused while the thread holds another lock.
      auto busy = store->lock(LockName::kWriter, std::chrono::milliseconds(100));
      ASSERT_FALSE(busy.isOk());
      EXPECT_EQ(busy.status().code(), ErrorCode::kBusy) << busy.status().toString();
    });
    other.join();
    // The refused lock did not disturb the one its thread held: that one was let go at its end.
    EXPECT_OK(store->lock(LockName::kDirectory, std::chrono::milliseconds(1000)))
        << "a lock stayed held after its holder let go";
  }
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] { countUnderLock(*store, 25); });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(readUint64(*read(*store, Column::kMeta, "counter")).value_or(0), 100u);
}

INSTANTIATE_TEST_SUITE_P(Backends, StoreConformance, testing::kBothBackends, testing::backendName);

// PostgreSQL: one database opened twice, as two servers hold it (each store its own connections).
std::pair<std::unique_ptr<Store>, std::unique_ptr<Store>> openTwice(ScratchStores& stores) {
  auto a = openPostgresStore(stores.location("db"));
  auto b = openPostgresStore(stores.location("db"));
  EXPECT_OK(a);
  EXPECT_OK(b);
  if (!a.isOk() || !b.isOk()) return {};
  return {std::move(a).value(), std::move(b).value()};
}

// PostgreSQL: two processes on one database (two stores here, each with its own connections, as two
// servers have): the lock is one across them, and their read-modify-writes under it lose nothing.
TEST(PostgresStore, TwoStoresOnOneDatabaseShareTheLockAndLoseNoUpdate) {
  if (!ScratchStores::available(Backend::kPostgres)) GTEST_SKIP() << "no PostgreSQL cluster for this run";
  ScratchStores stores(Backend::kPostgres);
  auto [a, b] = openTwice(stores);
  ASSERT_TRUE(a && b);
  EXPECT_EQ(a->incarnationId(), b->incarnationId()) << "one store";
  {
    auto held = a->lock(LockName::kWriter, std::chrono::milliseconds(1000));
    ASSERT_OK(held);
    auto busy = b->lock(LockName::kWriter, std::chrono::milliseconds(100));
    ASSERT_FALSE(busy.isOk());
    EXPECT_EQ(busy.status().code(), ErrorCode::kBusy);
  }
  std::vector<std::thread> threads;
  for (Store* store : {a.get(), b.get(), a.get(), b.get()}) {
    threads.emplace_back([store] { countUnderLock(*store, 25); });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(readUint64(*read(*b, Column::kMeta, "counter")).value_or(0), 100u);
}

// PostgreSQL: a holder whose session ends (its process killed, its network cut) holds nothing, and
// nothing it writes after can commit: the lock and the writes are the same session.
TEST(PostgresStore, AHolderWhoseSessionEndsLosesTheLockAndCannotCommit) {
  if (!ScratchStores::available(Backend::kPostgres)) GTEST_SKIP() << "no PostgreSQL cluster for this run";
  ScratchStores stores(Backend::kPostgres);
  auto [a, b] = openTwice(stores);
  ASSERT_TRUE(a && b);
  auto held = a->lock(LockName::kWriter, std::chrono::milliseconds(1000));
  ASSERT_OK(held);
  ASSERT_EQ(testing::postgresAdmin("SELECT pg_terminate_backend(pid) FROM pg_locks l JOIN pg_database d ON "
                                   "d.oid = l.database WHERE l.locktype = 'advisory' AND l.granted AND d.datname = '" +
                                   stores.database("db") + "'"),
            "");
  auto taken = b->lock(LockName::kWriter, std::chrono::milliseconds(5000));
  EXPECT_OK(taken) << "the lock went with its session";
  WriteBatch late;
  late.put(Column::kMeta, "late", "x");
  EXPECT_FALSE(a->commit(late, Durability::kSynced).isOk()) << "the old holder's write must not commit";
  EXPECT_EQ(read(*b, Column::kMeta, "late"), std::nullopt);
}

// PostgreSQL: a batch's notices reach the other stores listening on the database when it commits,
// never the store that sent them; a batch of notices alone sends them too.
TEST(PostgresStore, NoticesReachTheOtherStoresWhenTheirBatchCommits) {
  if (!ScratchStores::available(Backend::kPostgres)) GTEST_SKIP() << "no PostgreSQL cluster for this run";
  ScratchStores stores(Backend::kPostgres);
  auto [a, b] = openTwice(stores);
  ASSERT_TRUE(a && b);
  std::mutex mutex;
  std::condition_variable heard;
  std::vector<std::string> at_a, at_b;
  ASSERT_OK(a->listen([&](std::string_view n) {
    std::lock_guard lock(mutex);
    at_a.emplace_back(n);
    heard.notify_all();
  }));
  ASSERT_OK(b->listen([&](std::string_view n) {
    std::lock_guard lock(mutex);
    at_b.emplace_back(n);
    heard.notify_all();
  }));
  EXPECT_EQ(a->listen([](std::string_view) {}).code(), ErrorCode::kInvalidArgument);
  WriteBatch batch;
  batch.put(Column::kRecords, "k", "v");
  batch.notice("c 1\nunit\t1");
  ASSERT_OK(a->commit(batch, Durability::kSynced));
  WriteBatch alone;
  alone.notice("d");
  ASSERT_OK(b->commit(alone, Durability::kBuffered));
  std::unique_lock lock(mutex);
  ASSERT_TRUE(heard.wait_for(lock, std::chrono::seconds(10), [&] { return !at_a.empty() && !at_b.empty(); }));
  EXPECT_EQ(at_b, std::vector<std::string>{"c 1\nunit\t1"});
  EXPECT_EQ(at_a, std::vector<std::string>{"d"});
  lock.unlock();
  EXPECT_OK(a->listen({})) << "stops listening";
  EXPECT_OK(a->listen([](std::string_view) {})) << "and may listen again";
  EXPECT_OK(b->listen({}));  // before what it calls into goes
}

// PostgreSQL alone: a snapshot needs a connection of its own; when none is to be had, every read
// through it says so instead of reading outside the snapshot.
TEST(PostgresStore, ASnapshotThatCouldNotBeTakenSaysSoOnEveryRead) {
  if (!ScratchStores::available(Backend::kPostgres)) GTEST_SKIP() << "no PostgreSQL cluster for this run";
  ScratchStores stores(Backend::kPostgres);
  PostgresOptions options;
  options.max_connections = 1;
  options.busy_wait = std::chrono::milliseconds(100);
  auto store = openPostgresStore(stores.location("db"), options);
  ASSERT_OK(store);
  WriteBatch batch;
  batch.put(Column::kRecords, "k", "v");
  ASSERT_OK((*store)->commit(batch, Durability::kSynced));
  auto held = (*store)->snapshot();  // the one connection
  EXPECT_EQ(**(*store)->get(Column::kRecords, "k", &held), "v");
  auto starved = (*store)->snapshot();
  auto got = (*store)->get(Column::kRecords, "k", &starved);
  ASSERT_FALSE(got.isOk());
  EXPECT_EQ(got.status().code(), ErrorCode::kBusy) << got.status().toString();
  EXPECT_FALSE((*store)->multiGet(Column::kRecords, {"k"}, &starved).isOk());
  auto cursor = (*store)->scan(Column::kRecords, "", "", &starved);
  EXPECT_FALSE(cursor.valid());
  EXPECT_EQ(cursor.status().code(), ErrorCode::kBusy);
}

// RocksDB alone: a folder (one process's: its lock file), its modes. (A PostgreSQL database takes
// several processes: PostgresStore.TwoStoresOnOneDatabase...)
TEST(Store, SecondOpenOfAFolderNamesIt) {
  TempDir dir;
  auto store = Store::open(dir / "db");
  ASSERT_OK(store);
  auto second = Store::open(dir / "db");
  ASSERT_FALSE(second.isOk());
  EXPECT_EQ(second.status().code(), ErrorCode::kLocked) << second.status().toString();
  EXPECT_NE(second.status().message().find((dir / "db").string()), std::string::npos) << "the message names the path";
  store->reset();
  EXPECT_OK(Store::open(dir / "db")) << "free again once the first has gone";
}

TEST(Store, PrefixSuccessor) {
  EXPECT_EQ(prefixSuccessor("ab"), "ac");
  EXPECT_EQ(prefixSuccessor(std::string("a\xff", 2)), "b");
  EXPECT_EQ(prefixSuccessor(std::string("\xff\xff", 2)), "");
}

}  // namespace
}  // namespace communesync::storage
