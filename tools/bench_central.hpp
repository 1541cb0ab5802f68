// The central side at a province's size (communesync-bench central, issue 21): a store filled with
// N records over 200 communes (households, proposals, plans, results; some reviewed), read as
// provincial staff read it, first at 10,000 records and again at N. Reports the contract's keys:
// overview_p50_ms, overview_ratio_vs_10k, records_page_p50_ms, search_p50_ms, targets_ms, form2_ms,
// export_rows_per_s, export_rss_growth_mb, push_ratio_with_summaries, store_bytes_ratio. A figure
// the server refused to give is -1, with the server's reason under "<key>_error".
#pragma once

#include <filesystem>
#include <nlohmann/json.hpp>

#include "bench_server.hpp"

namespace communesync::tools {

//! Fills `out`; false (with a message on stderr) on failure. `self` is this program (to start more
//! servers from the build tree), `port` a free port for them.
bool benchCentral(const ServerChild& server, const std::filesystem::path& self, const std::filesystem::path& work,
                  std::uint16_t port, std::size_t records, nlohmann::json& out);

}  // namespace communesync::tools
