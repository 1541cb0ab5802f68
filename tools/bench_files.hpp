// The file scenarios of communesync-bench (bench_files.cpp):
//   files:      N photos of S MiB each go up from one device over a clean link, then through a link
//               cut every C KiB, then a second device fetches them: MiB/s, wire bytes per file
//               byte, and the waste after cuts (link bytes per file byte).
//   file-store: how the server keeps file pieces, measured without a network: 64 KiB pieces,
//               each durable before the next, in RocksDB blob files against plain files.
#pragma once

#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

namespace communesync::tools {

struct FileBenchOptions {
  std::string url;         //!< the server
  std::string token_up;    //!< the uploading device's user
  std::string token_cut;   //!< the device that uploads through the cut link
  std::string token_down;  //!< the fetching device's user
  std::uint16_t port = 0;  //!< the server's port (the cutting proxy forwards to it)
  std::size_t files = 10;
  std::size_t file_kib = 2048;
  std::size_t cut_kib = 64;
};

//! Runs the `files` scenario; fills `out`. Returns false (with a message on stderr) on failure.
bool benchFiles(const std::filesystem::path& work, const FileBenchOptions& options, nlohmann::json& out);
//! Runs the `file-store` scenario; fills `out`.
bool benchFileStore(const std::filesystem::path& work, std::size_t mib, nlohmann::json& out);

}  // namespace communesync::tools
