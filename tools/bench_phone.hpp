// The phone's budget (docs/mobile.md): what the client library costs the device it runs on, measured
// in this process (the client; the server is a child process and not counted).
#pragma once

#include <filesystem>
#include <nlohmann/json.hpp>

#include "bench_server.hpp"

namespace communesync::tools {

//! Writes `records` survey records locally (write latency), pushes them, pulls them into a second
//! store (peak RSS of this process during each), then holds a connection open and idle for
//! `idle_seconds` (CPU time used meanwhile). False if a step failed (said on stderr).
bool benchPhone(const ServerChild& server, const std::filesystem::path& work, std::size_t records, int idle_seconds,
                nlohmann::json& out);

}  // namespace communesync::tools
