// Tiny syncs (one record up, then the pull) timed one by one, shared by two scenarios:
//   tiny:      N of them on an open connection (bench.cpp).
//   busy-http: N of them with the server quiet, then N while clients keep its HTTP side busy with
//              password logins (Argon2id, tens of milliseconds each by design, and a new token each).
//              The ratio of the medians and of the p99s says how much the devices' syncs suffer
//              from the dashboard's and the admin tools' work.
#pragma once

#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <vector>

#include "bench_server.hpp"
#include "communesync/client/local_store.hpp"
#include "communesync/client/replicator.hpp"

namespace communesync::tools {

struct TinyTimes {
  std::vector<double> ms;   //!< each sync, sorted
  std::uint64_t bytes = 0;  //!< sent and received, all syncs
};

//! `count` syncs of one new record each, at most fifteen a second (under the server's message rate,
//! so the device's own pacing never waits inside a timed sync). False, with a message, on failure.
bool timeTinySyncs(client::LocalStore& device, client::Replicator& replicator, std::size_t count, std::uint64_t seed,
                   TinyTimes& out);

bool benchBusyHttp(const ServerChild& server, const std::filesystem::path& work, std::size_t syncs,
                   nlohmann::json& out);

}  // namespace communesync::tools
