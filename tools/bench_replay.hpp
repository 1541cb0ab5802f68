// The server's capacity alone (communesync-bench replay): the load of the push scenario without a
// device store in the loop. C connections, each its own user, device and commune; every change is
// made and every push frame encoded before the clock starts (records put in a device store, its
// outbox cut into pushes of the server's largest size, each framed once). Timed: every connection
// sends its frames, as many in flight as the server allows, and reads the results; nothing else
// runs on the load side, so the server gets nearly the whole machine. Reports records/s, the
// server's CPU per record and the share of a core the load itself used.
#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <vector>

#include "communesync/client/websocket_transport.hpp"
#include "communesync/sync/change.hpp"

#include "bench_server.hpp"

namespace communesync::tools {

//! One connection's load, ready to send: its transport (hello done) and its push frames.
struct ReplayLoad {
  std::unique_ptr<client::WebSocketTransport> transport;
  std::vector<std::string> frames;
  std::map<std::uint64_t, std::size_t> changes_of;  // request id -> changes in the frame
  std::size_t window = 1;
};

//! Connects as `token` with device `device`, then cuts `changes` into pushes of the server's largest
//! size, each framed once. nullopt (with a message on stderr) on failure.
std::optional<ReplayLoad> prepareLoad(const ServerChild& server, const std::string& token, const sync::DeviceId& device,
                                      std::vector<sync::Change> changes);
//! Sends every load from a thread of its own, all at once, and reads the results. Fills `out` with
//! records, records_per_s, server_cpu_us_per_record, server_cores_used, load_cores_used; false
//! (with a message on stderr) when a change was not accepted.
//! With several servers (on one PostgreSQL store), the loads connect to them in turn and the server
//! CPU is theirs together (the database's own is not counted: docs/benchmarks.md measures it).
bool replayLoads(const std::vector<ServerChild>& servers, std::vector<ReplayLoad>& loads, nlohmann::json& out);
inline bool replayLoads(const ServerChild& server, std::vector<ReplayLoad>& loads, nlohmann::json& out) {
  return replayLoads(std::vector<ServerChild>{server}, loads, out);
}

//! Fills `out`; false (with a message on stderr) on failure.
//! Connection i pushes through servers[i % servers.size()].
bool benchReplay(const std::vector<ServerChild>& servers, const std::filesystem::path& work, std::size_t records,
                 std::size_t connections, nlohmann::json& out);

}  // namespace communesync::tools
