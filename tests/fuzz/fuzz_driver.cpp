// Runs a fuzz target without libFuzzer: its seeds, every file of the given corpus folders (the kept
// corpus and the crash regressions), then seeded random mutations, bounded in count.
//   fuzz_X [--iterations N] [--seed S] [--corpus DIR]... [--write-seeds DIR]
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <random>

#include "fuzz_target.hpp"

namespace {

void run(const std::string& input) {
  LLVMFuzzerTestOneInput(reinterpret_cast<const std::uint8_t*>(input.data()), input.size());
}

std::string mutate(std::string s, std::mt19937_64& rng) {
  const int edits = 1 + static_cast<int>(rng() % 8);
  for (int i = 0; i < edits; ++i) {
    switch (rng() % 5) {
      case 0:  // flip a byte
        if (!s.empty()) s[rng() % s.size()] = static_cast<char>(rng());
        break;
      case 1:  // truncate
        if (!s.empty()) s.resize(rng() % s.size());
        break;
      case 2:  // insert bytes
        s.insert(s.empty() ? 0 : rng() % s.size(), std::string(1 + rng() % 8, static_cast<char>(rng())));
        break;
      case 3:  // duplicate a slice
        if (s.size() > 2) {
          auto from = rng() % s.size();
          auto len = 1 + rng() % std::min<std::size_t>(64, s.size() - from);
          s.insert(rng() % s.size(), s.substr(from, len));
        }
        break;
      default:  // set a byte to an edge value
        if (!s.empty()) s[rng() % s.size()] = "\x00\x01\x7f\x80\xff"[rng() % 5];
    }
  }
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  long iterations = 20000;
  std::uint64_t seed = 1;
  std::size_t replayed = 0;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--iterations") == 0) iterations = std::atol(argv[i + 1]);
    if (std::strcmp(argv[i], "--corpus") == 0 && std::filesystem::is_directory(argv[i + 1])) {
      for (const auto& entry : std::filesystem::directory_iterator(argv[i + 1])) {
        if (!entry.is_regular_file()) continue;
        std::ifstream in(entry.path(), std::ios::binary);
        run(std::string(std::istreambuf_iterator<char>(in), {}));
        ++replayed;
      }
    }
    if (std::strcmp(argv[i], "--seed") == 0) seed = std::strtoull(argv[i + 1], nullptr, 10);
    if (std::strcmp(argv[i], "--write-seeds") == 0) {
      std::filesystem::create_directories(argv[i + 1]);
      int n = 0;
      for (const auto& s : fuzzSeeds()) std::ofstream(std::filesystem::path(argv[i + 1]) / std::to_string(n++)) << s;
      return 0;
    }
  }
  const auto seeds = fuzzSeeds();
  for (const auto& s : seeds) run(s);
  std::mt19937_64 rng(seed);
  for (long i = 0; i < iterations; ++i) run(mutate(seeds[rng() % seeds.size()], rng));
  std::cout << "ran " << seeds.size() << " seeds, " << replayed << " corpus files and " << iterations
            << " mutations (seed " << seed << ")\n";
  return 0;
}
