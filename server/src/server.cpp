#include "communesync/server/server.hpp"

#include <algorithm>
#include <thread>
#include <vector>

#include "communesync/storage/store.hpp"
#include "listener.hpp"

namespace communesync::server {

struct Server::Impl {
  Config config;
  std::unique_ptr<storage::Store> store;
  std::unique_ptr<ServerState> state;
  net::io_context ioc;
  std::shared_ptr<Listener> listener;
  std::optional<net::signal_set> signals;

  explicit Impl(const Config& c) : config(c), ioc(static_cast<int>(threadCount(c))) {}

  static unsigned threadCount(const Config& c) {
    if (c.threads != 0) return c.threads;
    return std::max(1u, std::thread::hardware_concurrency());
  }
};

Server::Server(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Server::~Server() = default;

Result<std::unique_ptr<Server>> Server::create(const Config& config) {
  auto impl = std::make_unique<Impl>(config);
  auto store = storage::Store::open(config.data_dir);
  if (!store) return store.status();
  impl->store = std::move(store).value();
  impl->state = std::make_unique<ServerState>(ServerState{*impl->store});

  beast::error_code ec;
  auto address = net::ip::make_address(config.listen_host, ec);
  if (ec) {
    // A host name: resolve it once at start.
    tcp::resolver resolver(impl->ioc);
    auto results = resolver.resolve(config.listen_host, std::to_string(config.listen_port), ec);
    if (ec || results.empty()) {
      return Status::error(ErrorCode::kInvalidArgument, "cannot resolve listen host '" + config.listen_host + "'");
    }
    address = results.begin()->endpoint().address();
  }
  impl->listener = std::make_shared<Listener>(impl->ioc, *impl->state);
  CS_RETURN_IF_ERROR(impl->listener->open(tcp::endpoint(address, config.listen_port)));
  return std::unique_ptr<Server>(new Server(std::move(impl)));
}

std::uint16_t Server::port() const { return impl_->listener->port(); }
const std::string& Server::incarnationId() const { return impl_->store->incarnationId(); }

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
  // Every session has ended: nothing writes any more. Make the store's state durable and close it.
  return impl_->store->flush();
}

void Server::stop() {
  net::post(impl_->ioc, [this] {
    if (impl_->signals) {
      beast::error_code ec;
      impl_->signals->cancel(ec);
    }
    impl_->listener->stop();
    // HTTP sessions hold no state worth finishing; the sync sessions (next issue) get a going-away close.
    impl_->ioc.stop();
  });
}

}  // namespace communesync::server
