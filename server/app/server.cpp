#include "app/server.hpp"

#include <openssl/ssl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/asio/ssl.hpp>

#include <algorithm>
#include <fstream>
#include <future>
#include <iostream>
#include <mutex>
#include <thread>
#include <vector>

#include "app/descriptors.hpp"
#include "base/log.hpp"
#include "base/tuning.hpp"
#include "communesync/storage/postgres_store.hpp"
#include "communesync/storage/store.hpp"
#include "http/web_files.hpp"
#include "net/listener.hpp"

namespace communesync::server {

namespace {

// The writer's hourly sweep, after the files: the history, the tombstones and the audit log by the
// retention policy (0 years: kept forever), and online backups nobody fetched (their hard links
// hold disk the store has let go).
Writer::Sweep retentionSweep(ServerStore& data, Directory& directory, Retention retention,
                             std::shared_ptr<Backups> backups) {
  const auto before = [](std::int64_t now_ms, int years) {
    return now_ms - std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::years(years)).count();
  };
  return [&data, &directory, retention, before, backups = std::move(backups)](std::int64_t now_ms) {
    if (auto gone = backups->expire(now_ms); gone > 0) {
      logEvent(LogLevel::kWarn, "backup_expired", {{"backups", std::to_string(gone)}});
    }
    if (retention.history_years > 0) {
      auto removed = data.sweepHistory(before(now_ms, retention.history_years));
      if (!removed) logEvent(LogLevel::kError, "history_sweep_failed", {{"error", removed.status().toString()}});
      if (removed && *removed > 0) logEvent(LogLevel::kInfo, "history_swept", {{"changes", std::to_string(*removed)}});
    }
    if (retention.tombstone_years > 0) {
      auto removed = data.purgeTombstones(before(now_ms, retention.tombstone_years));
      if (!removed) logEvent(LogLevel::kError, "tombstone_purge_failed", {{"error", removed.status().toString()}});
      if (removed && *removed > 0)
        logEvent(LogLevel::kInfo, "tombstones_purged", {{"records", std::to_string(*removed)}});
    }
    if (retention.audit_years > 0) {
      auto removed = directory.sweepAudit(before(now_ms, retention.audit_years));
      if (!removed) logEvent(LogLevel::kError, "audit_sweep_failed", {{"error", removed.status().toString()}});
      if (removed && *removed > 0) logEvent(LogLevel::kInfo, "audit_swept", {{"entries", std::to_string(*removed)}});
    }
  };
}

}  // namespace

struct Server::Impl {
  // The store's listener (several servers on one database) calls into what follows the store:
  // it stops first.
  ~Impl() {
    if (store) (void)store->listen({});
  }
  Config config;
  std::unique_ptr<storage::Store> store;
  std::unique_ptr<ServerStore> data;
  std::unique_ptr<Directory> directory;
  std::unique_ptr<FormCatalog> forms;
  std::mutex publishing;  // one publication at a time: each takes the next version of its form
  std::unique_ptr<ServerState> state;
  std::unique_ptr<Hub> hub;
  std::unique_ptr<Admission> admission;
  std::unique_ptr<Writer> writer;
  std::unique_ptr<ServerContext> context;
  net::io_context ioc;
  // After ioc: destroyed first, so a request still queued there lets go of its session while the
  // session's socket and ioc still exist.
  net::thread_pool http_work{tuning::kHttpWorkerThreads};
  std::shared_ptr<Listener> listener;
  std::optional<net::signal_set> signals;
  std::optional<net::steady_timer> grace;

  explicit Impl(const Config& c) : config(c), ioc(static_cast<int>(threadCount(c))) {}

  // Applies a job the server made through the writer, like any push; waits until it is durable.
  Status applyNow(const std::shared_ptr<PushJob>& job) {
    std::promise<Status> committed;
    auto done = committed.get_future();
    if (!writer->submit(job, [&committed](const Status& s) { committed.set_value(s); })) {
      return Status::error(ErrorCode::kBusy, "the server is busy or stopping; retry");
    }
    return done.get();
  }

  // Publishes `form` as the next version of its name, through the writer like any change.
  Result<sync::Form> publishForm(sync::Form form) {
    std::lock_guard lock(publishing);
    auto job = std::make_shared<PushJob>();
    job->server = true;
    job->user = "server";
    job->changes.push_back(forms->publication(form, nowMs()));
    CS_RETURN_IF_ERROR(applyNow(job));
    if (job->results.empty() || job->results[0].outcome != sync::proto::Outcome::kAccepted) {
      return Status::error(ErrorCode::kInternal,
                           "the form was not stored: " + (job->results.empty() ? "" : job->results[0].reason));
    }
    forms->added(form);
    return form;
  }

  // A new store's defaults: the forms of `dir` when none is published, its units-sample.csv when
  // the tree is empty. A file that does not parse stops the start with its name.
  Status loadDefaults(const std::filesystem::path& dir) {
    std::error_code ec;
    if (!std::filesystem::is_directory(dir, ec)) {
      return Status::error(ErrorCode::kNotFound, "forms folder " + dir.string() + " does not exist");
    }
    const Actor actor{"server", "forms folder"};
    // A form whose name has no published version yet is published, at the first start and after an
    // upgrade that ships a new form; a published form is never replaced from here (publish a version).
    {
      std::vector<std::filesystem::path> files;
      for (const auto& e : std::filesystem::directory_iterator(dir)) {
        if (e.path().extension() == ".json") files.push_back(e.path());
      }
      std::sort(files.begin(), files.end());
      for (const auto& file : files) {
        std::ifstream in(file, std::ios::binary);
        std::string text((std::istreambuf_iterator<char>(in)), {});
        auto form = sync::parseForm(text);
        if (!form) return Status::error(ErrorCode::kInvalidArgument, file.string() + ": " + form.status().message());
        if (forms->find(form->name)) continue;
        form->version = 0;
        auto published = publishForm(std::move(form).value());
        if (!published) return published.status();
        directory->audit(actor, "form_publish", published->name + "@" + std::to_string(published->version));
      }
    }
    const auto units_file = dir / "units-sample.csv";
    if (directory->units()->all().empty() && std::filesystem::exists(units_file, ec)) {
      std::ifstream in(units_file, std::ios::binary);
      std::string text((std::istreambuf_iterator<char>(in)), {});
      auto units = parseUnitsCsv(text);
      if (!units)
        return Status::error(ErrorCode::kInvalidArgument, units_file.string() + ": " + units.status().message());
      CS_RETURN_IF_ERROR(directory->importUnits(*units, actor).status());
    }
    return Status::ok();
  }

  static unsigned threadCount(const Config& c) {
    if (c.threads != 0) return c.threads;
    return std::max(1u, std::thread::hardware_concurrency());
  }
};

namespace {

// Writes the admin token where only the owner can read it.
Status writeAdminToken(const std::filesystem::path& file, const std::string& token) {
  const auto old_mask = ::umask(077);
  std::ofstream out(file, std::ios::trunc);
  ::umask(old_mask);
  if (!out) return Status::error(ErrorCode::kIoError, "cannot write " + file.string());
  out << token << "\n";
  out.close();
  std::error_code ec;
  std::filesystem::permissions(file, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write,
                               std::filesystem::perm_options::replace, ec);
  if (!out || ec) return Status::error(ErrorCode::kIoError, "cannot write " + file.string());
  return Status::ok();
}

// The server's TLS settings: the certificate chain and key from PEM files, TLS 1.2 or newer.
Result<std::shared_ptr<net::ssl::context>> makeServerTls(const Config& config) {
  if (config.tls_cert.empty() || config.tls_key.empty()) {
    return Status::error(ErrorCode::kInvalidArgument, "TLS needs both --tls-cert and --tls-key");
  }
  auto ctx = std::make_shared<net::ssl::context>(net::ssl::context::tls_server);
  ctx->set_options(net::ssl::context::default_workarounds | net::ssl::context::no_sslv2 | net::ssl::context::no_sslv3 |
                   net::ssl::context::single_dh_use);
  SSL_CTX_set_min_proto_version(ctx->native_handle(), TLS1_2_VERSION);
  // TLS 1.2 only with forward secrecy (ECDHE) and authenticated encryption (GCM, ChaCha20), in the
  // server's order; TLS 1.3's suites are all of that already.
  SSL_CTX_set_cipher_list(ctx->native_handle(),
                          "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-CHACHA20-POLY1305:"
                          "ECDHE-RSA-CHACHA20-POLY1305:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384");
  SSL_CTX_set_options(ctx->native_handle(), SSL_OP_CIPHER_SERVER_PREFERENCE);
  beast::error_code ec;
  ctx->use_certificate_chain_file(config.tls_cert.string(), ec);
  if (ec) {
    return Status::error(ErrorCode::kInvalidArgument,
                         "cannot use TLS certificate " + config.tls_cert.string() + ": " + ec.message());
  }
  ctx->use_private_key_file(config.tls_key.string(), net::ssl::context::pem, ec);
  if (ec) {
    return Status::error(ErrorCode::kInvalidArgument,
                         "cannot use TLS key " + config.tls_key.string() + ": " + ec.message());
  }
  if (SSL_CTX_check_private_key(ctx->native_handle()) != 1) {
    return Status::error(ErrorCode::kInvalidArgument, "the TLS key does not match the certificate");
  }
  return ctx;
}

}  // namespace

Server::Server(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

// Several servers on one database: what the others commit reaches this one's devices (notifies)
// and memory (sequences, counters, forms); a directory change there rechecks the sessions here (a
// revoked token's session closes on every server).
Status Server::listenToOthers(Impl& impl) {
  ServerStore* data = impl.data.get();
  Directory* directory = impl.directory.get();
  Hub* hub = impl.hub.get();
  return impl.store->listen([data, directory, hub](std::string_view notice) {
    if (auto commit = parseCommitNotice(notice)) {
      data->othersCommitted(*commit);
      hub->notify(commit->scopes);
      return;
    }
    const bool missed = notice.empty();  // the connection came back: anything may have happened
    if (missed) {
      auto latest = data->othersMayHaveCommitted();
      if (!latest) logEvent(LogLevel::kError, "store_catch_up_failed", {{"error", latest.status().toString()}});
      if (latest) hub->notify(*latest);
    }
    if (missed || notice == kDirectoryNotice) {
      if (auto s = directory->othersChanged(); !s)
        logEvent(LogLevel::kError, "directory_reload_failed", {{"error", s.toString()}});
      hub->recheckAll();
    }
  });
}

Server::~Server() {
  if (impl_->writer) impl_->writer->stop();
}

Result<std::unique_ptr<Server>> Server::create(const Config& config) {
  auto impl = std::make_unique<Impl>(config);
  storage::StoreOptions options;
  options.block_cache_bytes = static_cast<std::size_t>(config.cache_mb) * storage::tuning::kMiB;
  auto store =
      config.store.empty() ? storage::Store::open(config.data_dir, options) : storage::openPostgresStore(config.store);
  if (!store) return store.status();
  impl->store = std::move(store).value();
  if (impl->store->local()) {
    auto restored = Backups::adoptIfRestored(*impl->store, config.data_dir);
    if (!restored) return restored.status();
    if (!restored->empty()) logEvent(LogLevel::kWarn, "restored_from_backup", {{"note", *restored}});
  } else {
    // The admin token's folder (the store is the database's).
    std::error_code ec;
    std::filesystem::create_directories(config.data_dir, ec);
    if (ec) return Status::error(ErrorCode::kIoError, "creating " + config.data_dir.string() + ": " + ec.message());
    logEvent(LogLevel::kInfo, "store_opened", {{"store", impl->store->location()}});
  }
  auto data = ServerStore::open(*impl->store);
  if (!data) return data.status();
  impl->data = std::move(data).value();
  if (!config.keep_views) {
    if (auto s = impl->data->stopKeepingViews(); !s) return s;
  }
  auto directory = Directory::open(*impl->store);
  if (!directory) return directory.status();
  impl->directory = std::move(directory).value();

  auto forms = FormCatalog::open(*impl->store);
  if (!forms) return forms.status();
  impl->forms = std::move(forms).value();
  impl->forms->requireForms(config.require_forms);
  impl->data->setForms(impl->forms.get());
  impl->data->setFileLimits(
      FileLimits{impl->config.limits.max_file_bytes, impl->config.limits.max_file_bytes_per_user_day,
                 impl->config.limits.max_unreferenced_file_bytes_per_user, impl->config.limits.file_retention});

  auto admin = impl->directory->ensureAdminToken();
  if (!admin) return admin.status();
  if (admin->has_value()) {
    const auto file = config.data_dir / "admin.token";
    CS_RETURN_IF_ERROR(writeAdminToken(file, **admin));
    // On a terminal the operator sees it once; under systemd stdout is the journal, which others may
    // read and which keeps it for months: there the file alone holds it.
    if (::isatty(STDOUT_FILENO) != 0) {
      std::cout << "communesync-server: new store; admin token (shown once, also in " << file.string() << "):\n"
                << **admin << std::endl;
    } else {
      std::cout << "communesync-server: new store; the admin token is in " << file.string()
                << " (readable by this user only)" << std::endl;
    }
  }

  auto backups = std::make_shared<Backups>(*impl->store, config.data_dir);
  CS_RETURN_IF_ERROR(backups->removeAll());  // a fetch cut by the last stop: the tool starts over
  impl->hub = std::make_unique<Hub>();
  Hub* hub = impl->hub.get();
  impl->writer = std::make_unique<Writer>(
      *impl->data, [hub](const sync::proto::Checkpoints& latest) { hub->notify(latest); },
      std::chrono::milliseconds(tuning::kFileSweepInterval),
      retentionSweep(*impl->data, *impl->directory, config.retention, backups));
  if (!impl->store->local()) CS_RETURN_IF_ERROR(listenToOthers(*impl));
  Impl* raw = impl.get();
  impl->state = std::make_unique<ServerState>(
      ServerState{*impl->store, *impl->data, *impl->directory, [hub] { hub->recheckAll(); }, *impl->forms,
                  [raw](sync::Form form) { return raw->publishForm(std::move(form)); },
                  [raw](const std::shared_ptr<PushJob>& job) { return raw->applyNow(job); }, config.admin_remote,
                  config.allowed_origins, config.report_rules, nullptr, config.device_silent_days});
  impl->state->field_app = {{"photo_max_px", config.photo_max_px}, {"photo_quality", config.photo_quality}};
  impl->state->sessions_open = [hub] { return hub->size(); };
  impl->state->backups = backups;
  auto metrics_from = AddressSet::parse(config.metrics_from);
  if (!metrics_from)
    return Status::error(ErrorCode::kInvalidArgument, "metrics_from: " + metrics_from.status().message());
  impl->state->metrics_from = std::move(metrics_from).value();
  auto trusted_proxies = AddressSet::parse(config.trusted_proxies);
  if (!trusted_proxies) {
    return Status::error(ErrorCode::kInvalidArgument, "trusted_proxies: " + trusted_proxies.status().message());
  }
  if (!config.web_dir.empty()) {
    auto web = WebFiles::load(config.web_dir);
    if (!web) return web.status();
    impl->state->web = std::make_shared<const WebFiles>(std::move(web).value());
  }
  if (!config.forms_dir.empty()) CS_RETURN_IF_ERROR(impl->loadDefaults(config.forms_dir));
  const auto descriptors = raiseDescriptorLimit();
  auto connections = connectionLimitFor(descriptors);
  if (config.limits.max_connections > 0) connections = std::min(connections, config.limits.max_connections);
  logEvent(LogLevel::kInfo, "connection_limit",
           {{"max_connections", std::to_string(connections)}, {"descriptor_limit", std::to_string(descriptors)}});
  impl->admission =
      std::make_unique<Admission>(config.limits.max_connections_per_address, config.limits.max_sessions_per_user,
                                  tuning::kMaxHttpRequestsWaiting, connections);
  std::shared_ptr<net::ssl::context> tls;
  if (!config.tls_cert.empty() || !config.tls_key.empty()) {
    auto ctx = makeServerTls(config);
    if (!ctx) return ctx.status();
    tls = std::move(ctx).value();
  }
  impl->context = std::make_unique<ServerContext>(
      ServerContext{*impl->state, *impl->writer, *impl->hub, *impl->admission, impl->config.limits,
                    impl->http_work.get_executor(), tls, std::move(trusted_proxies).value()});

  beast::error_code ec;
  auto address = net::ip::make_address(config.listen_host, ec);
  if (ec) {
    tcp::resolver resolver(impl->ioc);
    auto results = resolver.resolve(config.listen_host, std::to_string(config.listen_port), ec);
    if (ec || results.empty()) {
      return Status::error(ErrorCode::kInvalidArgument, "cannot resolve listen host '" + config.listen_host + "'");
    }
    address = results.begin()->endpoint().address();
  }
  impl->listener = std::make_shared<Listener>(impl->ioc, *impl->context);
  CS_RETURN_IF_ERROR(impl->listener->open(tcp::endpoint(address, config.listen_port)));
  return std::unique_ptr<Server>(new Server(std::move(impl)));
}

std::uint16_t Server::port() const {
  return impl_->listener->port();
}
const std::string& Server::incarnationId() const {
  return impl_->store->incarnationId();
}

void Server::handleSignals() {
  impl_->signals.emplace(impl_->ioc, SIGINT, SIGTERM);
  impl_->signals->async_wait([this](const beast::error_code& ec, int) {
    if (!ec) stop();
  });
}

Status Server::run() {
  impl_->listener->run();
  const unsigned n = Impl::threadCount(impl_->config);
  std::vector<std::thread> threads;
  threads.reserve(n - 1);
  for (unsigned i = 1; i < n; ++i) threads.emplace_back([this] { impl_->ioc.run(); });
  impl_->ioc.run();
  for (auto& t : threads) t.join();
  // Requests being answered finish (a resolution may wait for the writer: it is still running);
  // their replies find the I/O loop stopped and are dropped with their connections.
  impl_->http_work.join();
  // Sessions are gone; let the writer finish the commits it holds, then make the store durable.
  impl_->writer->stop();
  return impl_->store->flush();
}

void Server::stop() {
  net::post(impl_->ioc, [this] {
    if (impl_->grace) return;  // already stopping
    if (impl_->signals) {
      beast::error_code ec;
      impl_->signals->cancel(ec);
    }
    impl_->listener->stop();
    impl_->hub->closeAll();  // going-away close to every device
    // Idle HTTP connections and devices that do not answer the close would hold run() open:
    // stop the loop once every sync session has ended, or after a grace period regardless.
    impl_->grace.emplace(impl_->ioc);
    waitForSessions(std::chrono::steady_clock::now() + tuning::kShutdownGrace);
  });
}

void Server::waitForSessions(std::chrono::steady_clock::time_point deadline) {
  if (impl_->hub->size() == 0 || std::chrono::steady_clock::now() >= deadline) {
    impl_->ioc.stop();
    return;
  }
  impl_->grace->expires_after(std::chrono::milliseconds(20));
  impl_->grace->async_wait([this, deadline](beast::error_code) { waitForSessions(deadline); });
}

}  // namespace communesync::server
