// The load scenarios of communesync-bench (bench_load.cpp), against a real server on 127.0.0.1:
//   concurrent: D devices, each its own store, user and commune, push at once: each in rounds of
//               `batch` new records and a sync on its open connection. Aggregate records/s, server
//               CPU per record, and the p50/p99 of one round (the push acknowledged, durable, and
//               the pull that confirms the device caught up).
//   idle:       S authenticated sessions (WebSocket upgrade with a token, hello, a first pull) left
//               open and idle: the server's resident memory per session, and its CPU while idle
//               (keep-alive pings only).
//   scale:      a device pulls 10 new changes of its commune while the server holds a small store,
//               then again after the province's store grew to N records: the ratio of the medians.
#pragma once

#include <filesystem>
#include <nlohmann/json.hpp>

#include "bench_server.hpp"

namespace communesync::tools {

//! Each fills `out`; false (with a message on stderr) on failure.
bool benchConcurrent(const ServerChild& server, const std::filesystem::path& work, std::size_t records,
                     std::size_t devices, nlohmann::json& out);
bool benchIdle(const ServerChild& server, std::size_t sessions, nlohmann::json& out);
bool benchScale(const ServerChild& server, const std::filesystem::path& work, std::size_t records, nlohmann::json& out);

//! The server config each scenario needs beyond the defaults (more sessions per user and address).
std::string loadScenarioConfig(std::size_t sessions);

}  // namespace communesync::tools
