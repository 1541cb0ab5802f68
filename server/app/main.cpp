// communesync-server [--data DIR | --store postgresql://USER@HOST[:PORT]/DB] [--listen HOST:PORT] [--config FILE]
//                    [--tls-cert PEM --tls-key PEM] [--forms DIR] [--web DIR]
#include <CLI/CLI.hpp>

#include <sys/stat.h>

#include <filesystem>
#include <iostream>

#include "app/server.hpp"
#include "base/log.hpp"
#include "communesync/storage/postgres_store.hpp"

namespace {

// Where the build (web/ beside the program) or `cmake --install` (share/communesync/web) put the
// dashboard's files; empty when neither holds them (the server then runs without the page).
std::filesystem::path installedWebDir() {
  std::error_code ec;
  const auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) return {};
  for (const auto& dir : {self.parent_path() / "web", self.parent_path().parent_path() / "share/communesync/web"}) {
    if (std::filesystem::is_regular_file(dir / "index.html", ec)) return dir;
  }
  return {};
}

}  // namespace

// jemalloc's settings (server/CMakeLists.txt links it; without it this is an unused string). Pages
// freed by a burst of pushes go back to the system within a second, by jemalloc's own thread, not
// after its default ten: the server's peak RSS under `communesync-bench push --records 100000` was
// 164 MB without, 135 MB with (docs/benchmarks.md). Returning them at once (a decay of 0) cost 1.4x
// the CPU per record. The environment's MALLOC_CONF still overrides it, for a heap profile.
// NOLINTNEXTLINE(cppcoreguidelines-avoid-non-const-global-variables): the name and type jemalloc reads
extern "C" const char* malloc_conf;
const char* malloc_conf = "background_thread:true,dirty_decay_ms:1000,muzzy_decay_ms:0";

int main(int argc, char** argv) {
  using namespace communesync;
  CLI::App app{"communesync-server: the authoritative sync server (WebSocket and HTTP on one port)"};
  std::string data_dir;
  std::string listen;
  std::string config_file;
  std::string store_url;
  app.add_option("--data", data_dir, "folder of the RocksDB store (default ./communesync-data)");
  app.add_option("--store", store_url,
                 "postgresql://USER@HOST[:PORT]/DB: keep everything in PostgreSQL instead (--data then holds the "
                 "admin token alone)");
  app.add_option("--listen", listen, "HOST:PORT to listen on (default 127.0.0.1:8080)");
  app.add_option("--config", config_file, "JSON config file; flags given on the command line win");
  std::string tls_cert, tls_key, forms_dir, web_dir, log_level;
  app.add_option("--log-level", log_level,
                 "debug, info (default), warn or error: the least an event must be to be logged");
  app.add_option("--forms", forms_dir, "folder of forms (*.json) and units-sample.csv to load into a new store")
      ->check(CLI::ExistingDirectory);
  app.add_option("--tls-cert", tls_cert, "PEM certificate chain: the port then speaks only TLS (https, wss)")
      ->check(CLI::ExistingFile);
  app.add_option("--tls-key", tls_key, "PEM private key of the certificate")->check(CLI::ExistingFile);
  app.add_option("--web", web_dir,
                 "folder of the dashboard's files (default: web/ beside this program, or ../share/communesync/web)")
      ->check(CLI::ExistingDirectory);
  CLI11_PARSE(app, argc, argv);

  server::Config config;
  if (!config_file.empty()) {
    if (auto s = server::loadConfigFile(config_file, config); !s) {
      std::cerr << "communesync-server: " << s.message() << "\n";
      return 2;
    }
  }
  if (!data_dir.empty()) config.data_dir = data_dir;
  if (!store_url.empty()) {
    if (!storage::isPostgresUrl(store_url)) {
      std::cerr << "communesync-server: --store must be a PostgreSQL URL (postgresql://USER@HOST[:PORT]/DB); "
                   "the RocksDB store is chosen with --data\n";
      return 2;
    }
    config.store = store_url;
  }
  if (!tls_cert.empty()) config.tls_cert = tls_cert;
  if (!forms_dir.empty()) config.forms_dir = forms_dir;
  if (!tls_key.empty()) config.tls_key = tls_key;
  if (!web_dir.empty()) config.web_dir = web_dir;
  if (config.web_dir.empty()) config.web_dir = installedWebDir();
  if (!log_level.empty()) {
    auto level = server::logLevelFromName(log_level);
    if (!level) {
      std::cerr << "communesync-server: --log-level: " << level.status().message() << "\n";
      return 2;
    }
    config.log_level = *level;
  }
  server::setLogLevel(config.log_level);
  if (!listen.empty()) {
    if (auto s = server::parseListen(listen, config); !s) {
      std::cerr << "communesync-server: " << s.message() << "\n";
      return 2;
    }
  }

  // Everything the server creates (the store's files, admin.token, its folders) is its user's alone:
  // the records are personal data of households. Folders made before keep the mode they have.
  ::umask(0077);
  auto server = server::Server::create(config);
  if (!server) {
    std::cerr << "communesync-server: " << server.status().message() << "\n";
    return 1;
  }
  (*server)->handleSignals();
  std::cout << "communesync-server: listening on " << (config.tls_cert.empty() ? "" : "(TLS) ") << config.listen_host
            << ":" << (*server)->port() << ", store "
            << (config.store.empty() ? config.data_dir.string() : storage::redactedUrl(config.store))
            << " (incarnation " << (*server)->incarnationId() << ")" << std::endl;
  if (!config.web_dir.empty()) {
    std::cout << "communesync-server: dashboard at " << (config.tls_cert.empty() ? "http" : "https") << "://"
              << config.listen_host << ":" << (*server)->port() << "/" << std::endl;
  }
  auto status = (*server)->run();
  if (!status) {
    std::cerr << "communesync-server: closing the store: " << status.message() << "\n";
    return 1;
  }
  std::cout << "communesync-server: stopped cleanly" << std::endl;
  return 0;
}
