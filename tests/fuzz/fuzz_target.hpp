// Every fuzz target defines LLVMFuzzerTestOneInput (the libFuzzer entry point) and fuzzSeeds()
// (valid inputs to start from). Built with the `fuzz` preset (clang, -fsanitize=fuzzer) they are
// libFuzzer binaries; in every other build they link fuzz_driver.cpp and run as bounded ctest
// smoke tests: the seeds, then a fixed number of seeded mutations of them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);
std::vector<std::string> fuzzSeeds();
