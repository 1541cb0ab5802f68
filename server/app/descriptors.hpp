// The process's limit on open file descriptors, and the server's connection limit under it.
// Each connection holds one descriptor; RocksDB holds up to storage::tuning::kMaxOpenFiles more.
// A server that accepts connections until accept() fails with EMFILE has also left the store
// without descriptors: the connection limit stops well below.
#pragma once

#include <cstddef>
#include <cstdint>

namespace communesync::server {

//! Raises the soft limit on open files to the hard limit (Debian's default soft limit is 1024,
//! the hard one far above), and returns the limit now in force.
std::uint64_t raiseDescriptorLimit();

//! Connections the server admits under `descriptors`: all but tuning::kDescriptorsKeptBack, and
//! at least a quarter of them (a test machine's tiny limit still serves a few).
std::size_t connectionLimitFor(std::uint64_t descriptors);

}  // namespace communesync::server
