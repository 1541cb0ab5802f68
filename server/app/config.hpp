// The server's settings: defaults, the config file, and the command line, in that order of precedence.
// Every field is documented in docs/operations.md with its default.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "base/log.hpp"
#include "base/tuning.hpp"
#include "communesync/storage/result.hpp"
#include "communesync/storage/tuning.hpp"

namespace communesync::server {

//! Limits that operators may tune; defaults from tuning.hpp. docs/operations.md lists each.
struct Limits {
  std::size_t max_connections_per_address = tuning::kMaxConnectionsPerAddress;
  //! The whole server's connections; 0: from the descriptor limit (app/descriptors.hpp).
  std::size_t max_connections = 0;
  std::size_t max_sessions_per_user = tuning::kMaxSessionsPerUser;
  std::chrono::milliseconds handshake_timeout = tuning::kHandshakeTimeout;
  std::chrono::milliseconds session_idle_timeout = tuning::kSessionIdleTimeout;
  double messages_per_second = tuning::kMessagesPerSecond;
  double bytes_per_second = tuning::kBytesPerSecond;
  std::uint64_t max_file_bytes = tuning::kMaxFileBytes;
  std::uint64_t max_file_bytes_per_user_day = tuning::kMaxFileBytesPerUserDay;
  std::uint64_t max_unreferenced_file_bytes_per_user = tuning::kMaxUnreferencedFileBytesPerUser;
  std::chrono::milliseconds file_retention = tuning::kFileRetention;
};

//! What the store keeps of the past (docs/operations.md, "Retention"); 0 years: forever.
struct Retention {
  int history_years = 0;                           //!< each accepted change, who and when
  int audit_years = tuning::kAuditRetentionYears;  //!< logins, users, grants, unit changes
  //! Deleted records of the forms, counted from their deletion; a device offline longer than this
  //! with a checkpoint from before resynchronises the unit (docs/architecture.md).
  int tombstone_years = 0;
};

struct Config {
  //! Folder of the RocksDB store (and, with `store` set, of the admin token alone). Default:
  //! ./communesync-data. Fixed while running.
  std::filesystem::path data_dir = "communesync-data";
  //! A PostgreSQL database to keep everything in instead (postgresql://USER@HOST[:PORT]/DB);
  //! empty: the RocksDB store in `data_dir`. Fixed while running.
  std::string store;
  //! Address to listen on. Default: 127.0.0.1. Fixed while running.
  std::string listen_host = "127.0.0.1";
  //! Port to listen on (0: any free port, printed at start). Default: 8080. Fixed while running.
  std::uint16_t listen_port = 8080;
  //! I/O threads; 0 means one per core. Default: 0. Fixed while running.
  unsigned threads = 0;
  //! Answer the admin API to other machines too (it needs the admin token either way). Default:
  //! false, loopback only.
  bool admin_remote = false;
  //! Browser origins allowed to call the server ("https://host[:port]"). Default: none.
  std::vector<std::string> allowed_origins;
  //! PEM certificate chain and private key: with both, the port speaks only TLS (https, wss).
  std::filesystem::path tls_cert;
  std::filesystem::path tls_key;
  Limits limits;
  //! A folder of form files (*.json) and units-sample.csv, loaded at every start: each form whose
  //! name has no published version yet (a new store, or an upgrade shipping a new form), and the
  //! units when the tree is empty. Default: none.
  std::filesystem::path forms_dir;
  //! The dashboard's files (index.html and the rest), served at "/". Default: none given, and the
  //! server program then looks beside itself (web/, ../share/communesync/web). Fixed while running.
  std::filesystem::path web_dir;
  //! A device silent for more days than this stands out on the dashboard. Default: 7.
  int device_silent_days = tuning::kDeviceSilentDays;
  //! The RocksDB store's block cache in MiB (4-65536): more keeps more of a large province's records
  //! and indexes in memory for the dashboard; less lowers the server's peak memory. Default: 32.
  int cache_mb = static_cast<int>(storage::tuning::kServerBlockCacheBytes / storage::tuning::kMiB);
  //! Refuse records of collections that have no published form. Default: false (free-form).
  bool require_forms = false;
  //! For measuring only (communesync-bench central): false leaves the views (store/views.hpp) out
  //! of every commit; the overview and the records page are then wrong until the next start with
  //! true, which rebuilds them. Default: true.
  bool keep_views = true;
  //! Overrides of the programme's targets and deadlines, for every year or one (report_rules.hpp,
  //! docs/reports.md). Default: none, the seeds' values.
  nlohmann::json report_rules;
  //! What the field app reads from GET /app/settings.json: the longer side a photo is shrunk to
  //! (pixels) and its JPEG quality. Defaults: 1600, 0.75 (tuning.hpp).
  int photo_max_px = tuning::kPhotoMaxPixels;
  double photo_quality = tuning::kPhotoQuality;
  //! The least an event must be to be logged: debug, info, warn, error. Default: info.
  LogLevel log_level = LogLevel::kInfo;
  //! {"history_years": N, "audit_years": N, "tombstone_years": N}: how long the history of changes and the audit log
  //! are kept (0: forever). Defaults: history forever, audit 5 years.
  Retention retention;
  //! Reverse proxies (addresses or networks) whose X-Forwarded-For is believed: the client's address
  //! it names is what the login throttle, the audit log and the admin API's loopback check see
  //! (net/client_address.hpp). Default: none, the header is ignored.
  std::vector<std::string> trusted_proxies;
  //! Addresses or networks that may read GET /metrics without a token (a Prometheus server).
  //! Default: none; the admin token is needed.
  std::vector<std::string> metrics_from;
};

//! Every key a config file may hold, and every key of its "limits": a key not listed is refused, and
//! a test checks that docs/operations.md documents each.
const std::vector<std::string_view>& configKeys();
const std::vector<std::string_view>& limitKeys();

//! Parses "HOST:PORT" into the config. Errors: kInvalidArgument naming the bad part.
Status parseListen(const std::string& text, Config& config);

//! Reads a JSON config file over `config`: {"data": "...", "listen": "HOST:PORT", "threads": N,
//! "admin_remote": bool, "allowed_origins": ["..."], "trusted_proxies": ["ADDRESS[/PREFIX]"], "metrics_from": [...],
//! "tls_cert": "...", "tls_key": "...",
//! "limits": {"max_connections": N, "max_connections_per_address": N, "max_sessions_per_user": N,
//! "handshake_timeout_ms": N, "session_idle_timeout_ms": N, "messages_per_second": X, "bytes_per_second": X,
//! "max_file_bytes": N, "max_file_bytes_per_user_day": N (older name: "max_file_bytes_per_device_day"),
//! "max_unreferenced_file_bytes_per_user": N, "file_retention_hours": N}}.
//! Errors: kNotFound, kInvalidArgument (with the key at fault).
Status loadConfigFile(const std::filesystem::path& file, Config& config);
//! The same, from the file's text (`name` is used in messages). For the fuzz target and tests.
Status parseConfig(std::string_view text, const std::string& name, Config& config);

}  // namespace communesync::server
