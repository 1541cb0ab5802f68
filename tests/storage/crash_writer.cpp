// Helper for crash_test.cpp: commits durable batches forever and reports each one on stdout only
// after commit() returned. The test kills it with SIGKILL at a random moment.
//   storage_crash_writer PATH ROUND KEYS_PER_BATCH
#include <cstdio>
#include <cstdlib>
#include <string>

#include "communesync/storage/store.hpp"

int main(int argc, char** argv) {
  using namespace communesync::storage;
  if (argc != 4) {
    std::fprintf(stderr, "usage: storage_crash_writer PATH ROUND KEYS_PER_BATCH\n");
    return 2;
  }
  auto store = Store::open(argv[1]);
  if (!store) {
    std::fprintf(stderr, "%s\n", store.status().toString().c_str());
    return 1;
  }
  const std::string round = argv[2];
  const int keys = std::atoi(argv[3]);
  for (long batch_no = 0;; ++batch_no) {
    WriteBatch batch;
    for (int k = 0; k < keys; ++k) {
      batch.put(Column::kLog, round + "/" + std::to_string(batch_no) + "/" + std::to_string(k),
                std::string(64 + k, 'v'));
    }
    if (auto s = (*store)->commit(batch, Durability::kSynced); !s) {
      std::fprintf(stderr, "%s\n", s.toString().c_str());
      return 1;
    }
    std::printf("%ld\n", batch_no);
    std::fflush(stdout);
  }
}
