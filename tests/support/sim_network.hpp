// A simulated network for tests that run the server's protocol handler and devices in one process:
// a server store on disk that can be crashed and reopened, and a Transport that hands each frame to
// a SyncHandler at once, with faults drawn from a seeded generator. Used by the fault simulation
// and the isolation test.
#pragma once

#include <algorithm>
#include <deque>
#include <filesystem>
#include <functional>
#include <memory>
#include <random>
#include <stdexcept>

#include "communesync/client/transport.hpp"
#include "communesync/storage/postgres_store.hpp"
#include "communesync/sync/frame.hpp"
#include "directory/directory.hpp"
#include "protocol/sync_handler.hpp"

namespace communesync::testing {

namespace fs = std::filesystem;
using std::chrono::milliseconds;

// Faults the network may inject, per message.
struct Faults {
  double drop_request = 0;
  double drop_reply = 0;
  double duplicate_reply = 0;
  double cut = 0;  // the connection dies after this message
  // The request is held in the network and reaches the server later, after the device gave up on
  // this connection and maybe sent newer requests on another: delayed and reordered. Its reply
  // goes to the dead connection.
  double delay_request = 0;
};

// The server: a store on disk, opened and closed ("crashed") at will. Pushes are applied at once
// and durably (the writer thread's job, done synchronously).
class SimServer : public server::PushSink {
 public:
  //! `location`: a PostgreSQL database to keep everything in instead of `dir`.
  explicit SimServer(fs::path dir, std::string location = {}) : dir_(std::move(dir)), location_(std::move(location)) {
    open();
  }

  void open() {
    auto store = storage::openStoreAt(location_.empty() ? dir_.string() : location_);
    if (!store) throw std::runtime_error(store.status().toString());
    store_ = std::move(store).value();
    auto data = server::ServerStore::open(*store_);
    if (!data) throw std::runtime_error(data.status().toString());
    data_ = std::move(data).value();
    auto directory = server::Directory::open(*store_);
    if (!directory) throw std::runtime_error(directory.status().toString());
    directory_ = std::move(directory).value();
    ++generation_;
  }
  //! Closes the store (and stops its background threads).
  void close() {
    held_.clear();
    directory_.reset();
    data_.reset();
    store_.reset();
  }
  void crash() {
    held_.clear();  // requests on their way to a crashed server are lost
    directory_.reset();
    data_.reset();
    store_.reset();
    open();
  }
  std::uint64_t generation() const { return generation_; }
  server::ServerStore& data() { return *data_; }
  server::Directory& directory() { return *directory_; }
  milliseconds now() const { return milliseconds(now_ms); }

  bool submit(std::shared_ptr<server::PushJob> job, std::function<void(const Status&)> done) override {
    std::vector<server::PushJob*> jobs{job.get()};
    sync::proto::Checkpoints touched;
    done(data_->apply(jobs, now_ms, touched));
    return true;
  }

  std::int64_t now_ms = 1'800'000'000'000;

  //! Keeps a request in the network (Faults::delay_request); its connection's handler handles it later.
  void hold(std::shared_ptr<server::SyncHandler> handler, std::string frame) {
    held_.push_back({std::move(handler), std::move(frame)});
  }
  //! Lets each held request arrive with probability `p`, in random order.
  void deliverHeld(std::mt19937_64& rng, double p) {
    std::shuffle(held_.begin(), held_.end(), rng);
    std::vector<Held> still;
    for (auto& h : held_) {
      if (std::uniform_real_distribution<double>(0, 1)(rng) >= p) {
        still.push_back(std::move(h));
        continue;
      }
      auto envelope = sync::proto::decodeFrame(h.frame, 1 << 24);
      if (envelope) (void)h.handler->handle(*envelope);
      ++delivered_late_;
    }
    held_ = std::move(still);
  }
  std::size_t heldCount() const { return held_.size(); }
  //! Held requests that reached the server so far.
  std::uint64_t deliveredLate() const { return delivered_late_; }

 private:
  struct Held {
    std::shared_ptr<server::SyncHandler> handler;
    std::string frame;
  };
  std::vector<Held> held_;
  std::uint64_t delivered_late_ = 0;
  fs::path dir_;
  std::string location_;
  std::unique_ptr<storage::Store> store_;
  std::unique_ptr<server::ServerStore> data_;
  std::unique_ptr<server::Directory> directory_;
  std::uint64_t generation_ = 0;
};

// One connection over the simulated network: requests are handled as they are sent, replies wait
// in an inbox; faults come from the simulation's random generator.
class SimTransport : public client::Transport {
 public:
  //! Sees every frame the server sends to this device, before faults (tests check what leaks).
  std::function<void(std::string_view)> on_server_frame;

  SimTransport(SimServer& server, std::string token, std::mt19937_64& rng, Faults faults)
      : server_(server), token_(std::move(token)), rng_(rng), faults_(faults) {}

  Status connect() override {
    if (chance(faults_.cut)) return Status::error(ErrorCode::kUnavailable, "sim: no route");
    generation_ = server_.generation();
    auto principal = server_.directory().authenticate(token_);
    if (!principal || !principal->has_value()) throw std::runtime_error("sim: the token does not authenticate");
    // Each connection has its own inbox: a reply to a request the network held back lands in the
    // inbox of the connection it came on, which nobody reads any more.
    inbox_ = std::make_shared<std::deque<std::string>>();
    handler_ = std::make_shared<server::SyncHandler>(
        server_.data(), server_.directory(), server_, token_, std::move(**principal),
        [inbox = inbox_, seen = on_server_frame, faults = faults_, &rng = rng_](std::string frame) {
          if (seen) seen(frame);
          auto chance = [&](double p) { return p > 0 && std::uniform_real_distribution<double>(0, 1)(rng) < p; };
          if (chance(faults.drop_reply)) return;
          if (chance(faults.duplicate_reply)) inbox->push_back(frame);
          inbox->push_back(std::move(frame));
        },
        [&server = server_] { return server.now(); });  // not this: a held request outlives its transport
    open_ = true;
    return Status::ok();
  }

  Status send(std::string_view frame) override {
    if (!alive()) return Status::error(ErrorCode::kUnavailable, "sim: connection lost");
    sent_ += frame.size();
    if (chance(faults_.drop_request)) return Status::ok();  // lost on the way; the reply never comes
    if (chance(faults_.delay_request)) {
      server_.hold(handler_, std::string(frame));  // arrives later; the device times out meanwhile
      return Status::ok();
    }
    auto envelope = sync::proto::decodeFrame(frame, 1 << 24);
    if (!envelope) throw std::runtime_error("the client sent an undecodable frame");
    if (auto s = handler_->handle(*envelope); !s) open_ = false;
    if (chance(faults_.cut)) open_ = false;
    return Status::ok();
  }

  Result<std::string> receive(milliseconds) override {
    if (!inbox_ || inbox_->empty() || !alive()) {
      open_ = false;
      return Status::error(ErrorCode::kUnavailable, "sim: no answer");
    }
    auto frame = std::move(inbox_->front());
    inbox_->pop_front();
    received_ += frame.size();
    return frame;
  }

  Result<std::optional<std::string>> poll(milliseconds) override {
    if (!alive()) return Status::error(ErrorCode::kUnavailable, "sim: connection lost");
    if (inbox_->empty()) return std::optional<std::string>();
    auto frame = std::move(inbox_->front());
    inbox_->pop_front();
    received_ += frame.size();
    return std::optional<std::string>(std::move(frame));
  }

  void close() override { open_ = false; }
  std::uint64_t bytesSent() const override { return sent_; }
  std::uint64_t bytesReceived() const override { return received_; }

 private:
  bool chance(double p) { return p > 0 && std::uniform_real_distribution<double>(0, 1)(rng_) < p; }
  // A server crash ends every connection to it.
  bool alive() const { return open_ && generation_ == server_.generation(); }

  SimServer& server_;
  std::string token_;
  std::mt19937_64& rng_;
  Faults faults_;
  std::shared_ptr<server::SyncHandler> handler_;
  std::shared_ptr<std::deque<std::string>> inbox_;
  std::uint64_t generation_ = 0;
  bool open_ = false;
  std::uint64_t sent_ = 0;
  std::uint64_t received_ = 0;
};

}  // namespace communesync::testing
