// The server's settings: defaults, the config file, and the command line, in that order of precedence.
// Every field is documented in docs/operations.md with its default.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>

#include "communesync/storage/result.hpp"

namespace communesync::server {

struct Config {
  //! Folder of the RocksDB store. Default: ./communesync-data. Fixed while running.
  std::filesystem::path data_dir = "communesync-data";
  //! Address to listen on. Default: 127.0.0.1. Fixed while running.
  std::string listen_host = "127.0.0.1";
  //! Port to listen on (0: any free port, printed at start). Default: 8080. Fixed while running.
  std::uint16_t listen_port = 8080;
  //! I/O threads; 0 means one per core. Default: 0. Fixed while running.
  unsigned threads = 0;
};

//! Parses "HOST:PORT" into the config. Errors: kInvalidArgument naming the bad part.
Status parseListen(const std::string& text, Config& config);

//! Reads a JSON config file ({"data": "...", "listen": "HOST:PORT", "threads": N}) over `config`.
//! Errors: kNotFound, kInvalidArgument (with the key at fault).
Status loadConfigFile(const std::filesystem::path& file, Config& config);

}  // namespace communesync::server
