// Kill a process that commits durable batches at a random moment, many times: on reopen, every
// batch it reported committed is there, and every batch that is there is whole.
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <map>
#include <random>
#include <set>
#include <thread>

#include "assert_ok.hpp"
#include "communesync/storage/store.hpp"
#include "temp_dir.hpp"

extern char** environ;

namespace communesync::storage {
namespace {

constexpr int kKeysPerBatch = 7;

struct Child {
  pid_t pid = -1;
  int out_fd = -1;
};

Child spawnWriter(const std::filesystem::path& db, int round) {
  int fds[2];
  EXPECT_EQ(::pipe(fds), 0);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
  posix_spawn_file_actions_addclose(&actions, fds[0]);
  std::string path = db.string();
  std::string round_text = std::to_string(round);
  std::string keys = std::to_string(kKeysPerBatch);
  char* argv[] = {const_cast<char*>(CRASH_WRITER_PATH), path.data(), round_text.data(), keys.data(), nullptr};
  Child child;
  EXPECT_EQ(posix_spawn(&child.pid, CRASH_WRITER_PATH, &actions, nullptr, argv, environ), 0);
  posix_spawn_file_actions_destroy(&actions);
  ::close(fds[1]);
  child.out_fd = fds[0];
  return child;
}

// Reads everything the child reported before it died.
std::set<long> reportedBatches(int fd) {
  std::string all;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof buf)) > 0) all.append(buf, static_cast<std::size_t>(n));
  ::close(fd);
  std::set<long> out;
  std::size_t pos = 0;
  while (true) {
    auto nl = all.find('\n', pos);
    if (nl == std::string::npos) break;  // a partial last line was cut by the kill: not reported
    out.insert(std::stol(all.substr(pos, nl - pos)));
    pos = nl + 1;
  }
  return out;
}

TEST(StoreCrash, EveryReportedDurableBatchSurvivesSigkillWhole) {
  const auto seed = testing::testSeed(20261123);
  SCOPED_TRACE("seed " + std::to_string(seed) + " (rerun with COMMUNESYNC_SEED)");
  std::mt19937_64 rng(seed);
  testing::TempDir dir;
  const auto db = dir / "db";
  constexpr int kRounds = 25;
  long total_reported = 0;

  for (int round = 0; round < kRounds; ++round) {
    Child child = spawnWriter(db, round);
    // Kill it at a random moment once it is writing: its start (slow under sanitizers on a busy
    // machine) must not eat the whole delay. poll() leaves the report in the pipe.
    pollfd writing{child.out_fd, POLLIN, 0};
    ASSERT_EQ(::poll(&writing, 1, 60'000), 1) << "round " << round << ": the writer reported nothing in 60 s";
    std::this_thread::sleep_for(std::chrono::milliseconds(rng() % 250));
    ASSERT_EQ(::kill(child.pid, SIGKILL), 0);
    int wstatus = 0;
    ASSERT_EQ(::waitpid(child.pid, &wstatus, 0), child.pid);
    auto reported = reportedBatches(child.out_fd);
    total_reported += static_cast<long>(reported.size());

    auto store = Store::open(db);
    ASSERT_OK(store);
    std::map<long, int> keys_per_batch;
    const std::string prefix = std::to_string(round) + "/";
    for (auto c = (*store)->scanPrefix(Column::kLog, prefix); c.valid(); c.next()) {
      std::string rest(c.key().substr(prefix.size()));
      keys_per_batch[std::stol(rest.substr(0, rest.find('/')))]++;
    }
    for (long b : reported) {
      ASSERT_EQ(keys_per_batch.count(b), 1u)
          << "round " << round << ": batch " << b << " was reported durable but is gone";
    }
    for (auto [b, n] : keys_per_batch) {
      ASSERT_EQ(n, kKeysPerBatch) << "round " << round << ": batch " << b << " is torn";
    }
  }
  EXPECT_GT(total_reported, 0) << "the writer never got a batch in: the test proved nothing";
}

}  // namespace
}  // namespace communesync::storage
