#include "communesync/client/replicator.hpp"

#include "replicator_impl.hpp"

namespace communesync::client {
Replicator::Replicator(LocalStore& store, Transport& transport, SyncOptions options)
    : impl_(std::make_unique<Impl>(store, transport, std::move(options))) {}

Replicator::~Replicator() = default;

Status Replicator::connect() {
  SyncReport scratch;
  impl_->report_ = &scratch;
  auto status = impl_->connect();
  impl_->report_ = nullptr;
  return status;
}

SyncReport Replicator::run(const std::function<Status()>& step) {
  SyncReport report;
  const auto sent_before = impl_->transport_.bytesSent();
  const auto received_before = impl_->transport_.bytesReceived();
  impl_->report_ = &report;
  report.status = step();
  impl_->report_ = nullptr;
  report.user = impl_->welcome_.user;
  report.scopes = impl_->welcome_.scopes;
  report.bytes_sent = impl_->transport_.bytesSent() - sent_before;
  report.bytes_received = impl_->transport_.bytesReceived() - received_before;
  return report;
}

SyncReport Replicator::sync() {
  return run([this] { return impl_->sync(); });
}

SyncReport Replicator::fetch(const std::string& hash) {
  return run([&]() -> Status {
    auto status = [&]() -> Status {
      if (!impl_->connected_) CS_RETURN_IF_ERROR(impl_->connect());
      return impl_->fetchFile(hash);
    }();
    impl_->learnLink(status);
    if (!status && status.code() == ErrorCode::kUnavailable) impl_->connected_ = false;
    return status;
  });
}

SyncReport fetchOnce(LocalStore& store, Transport& transport, const std::string& hash, const SyncOptions& options) {
  Replicator replicator(store, transport, options);
  auto report = replicator.fetch(hash);
  replicator.close();
  return report;
}

Result<bool> Replicator::waitForNotify(std::chrono::milliseconds timeout) {
  return impl_->waitForNotify(timeout);
}

const sync::proto::Welcome& Replicator::welcome() const {
  return impl_->welcome_;
}

void Replicator::close() {
  impl_->connected_ = false;
  impl_->transport_.close();
}

Result<sync::proto::Welcome> introduce(LocalStore& store, Transport& transport) {
  Replicator replicator(store, transport);
  auto status = replicator.connect();
  replicator.close();
  if (!status) return status;
  return replicator.welcome();
}

SyncReport syncOnce(LocalStore& store, Transport& transport, const SyncOptions& options) {
  Replicator replicator(store, transport, options);
  // Bytes of the whole exchange, hello included.
  const auto sent_before = transport.bytesSent();
  const auto received_before = transport.bytesReceived();
  auto report = replicator.sync();
  replicator.close();
  report.bytes_sent = transport.bytesSent() - sent_before;
  report.bytes_received = transport.bytesReceived() - received_before;
  return report;
}

}  // namespace communesync::client
