// The server's capacity alone (communesync-bench replay): the load of the push scenario without a
// device store in the loop. C connections, each its own user, device and commune; every change is
// made and every push frame encoded before the clock starts (records put in a device store, its
// outbox cut into pushes of the server's largest size, each framed once). Timed: every connection
// sends its frames, as many in flight as the server allows, and reads the results; nothing else
// runs on the load side, so the server gets nearly the whole machine. Reports records/s, the
// server's CPU per record and the share of a core the load itself used.
#pragma once

#include <filesystem>
#include <nlohmann/json.hpp>

#include "bench_server.hpp"

namespace communesync::tools {

//! Fills `out`; false (with a message on stderr) on failure.
bool benchReplay(const ServerChild& server, const std::filesystem::path& work, std::size_t records,
                 std::size_t connections, nlohmann::json& out);

}  // namespace communesync::tools
