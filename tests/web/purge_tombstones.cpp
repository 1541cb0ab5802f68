// For the field app's browser test: purges the tombstones of a stopped server's store received
// before a time, as the server's hourly sweep does with "retention": {"tombstone_years": N} (whose
// years a test cannot wait for).
//
//   purge_tombstones DATA_DIR BEFORE_MS      prints how many went
#include <cstdlib>
#include <iostream>
#include <string>

#include "communesync/storage/store.hpp"
#include "store/server_store.hpp"

int main(int argc, char** argv) {
  using namespace communesync;
  if (argc != 3) {
    std::cerr << "usage: purge_tombstones DATA_DIR BEFORE_MS\n";
    return 2;
  }
  auto store = storage::Store::open(argv[1]);
  if (!store) {
    std::cerr << "purge_tombstones: " << store.status().toString() << "\n";
    return 1;
  }
  auto data = server::ServerStore::open(**store);
  if (!data) {
    std::cerr << "purge_tombstones: " << data.status().toString() << "\n";
    return 1;
  }
  auto purged = (*data)->purgeTombstones(std::stoll(argv[2]));
  if (!purged) {
    std::cerr << "purge_tombstones: " << purged.status().toString() << "\n";
    return 1;
  }
  std::cout << *purged << "\n";
  return 0;
}
