// records-search: the dashboard's records page over one commune's households (N, default 20000), as
// a reconciler browses it: the newest page, and an accent-free search for a name. Reports the
// server's resident memory before and its peak while answering, and the median answer times.
#pragma once

#include <filesystem>
#include <nlohmann/json.hpp>

#include "bench_server.hpp"

namespace communesync::tools {

bool benchRecordsSearch(const ServerChild& server, const std::filesystem::path& work, std::size_t records,
                        nlohmann::json& out);

}  // namespace communesync::tools
