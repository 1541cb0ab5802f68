// The files phase of a sync, after the records: send the files made here that the server lacks,
// then fetch the files of eagerly fetched collections. One file at a time, in pieces sized to the
// link (LocalFiles::linkEstimate), a few in flight, each resuming where the server's durable copy
// ends; new record changes made meanwhile are pushed between pieces, so they never wait behind a file.
#include <deque>

#include "communesync/sync/file_ref.hpp"
#include "replicator_impl.hpp"

namespace communesync::client {
namespace {

std::uint64_t floorPowerOfTwo(std::uint64_t n) {
  std::uint64_t p = 1;
  while (p * 2 <= n) p *= 2;
  return p;
}

std::string describe(const LocalFile& file) {
  return "file " + (file.entry.name.empty() ? sync::fileHashToHex(file.hash) : file.entry.name);
}

}  // namespace

std::size_t Replicator::Impl::pieceBytes() const {
  std::uint64_t most = sync::tuning::kMaxFilePieceBytes;
  if (limits_.max_piece_bytes != 0) most = std::min<std::uint64_t>(most, limits_.max_piece_bytes);
  const auto wish = floorPowerOfTwo(std::max<std::uint64_t>(1, link_estimate_ / tuning::kLinkPieceDivisor));
  return static_cast<std::size_t>(std::clamp<std::uint64_t>(wish, tuning::kMinFilePieceBytes, most));
}

void Replicator::Impl::carried(std::uint64_t bytes) {
  carried_ += bytes;
  // The link carried more than expected: let the pieces grow.
  link_estimate_ = std::max(link_estimate_, carried_);
}

void Replicator::Impl::learnLink(const Status& status) {
  std::uint64_t next = link_estimate_;
  if (status && carried_ > 0) {
    // Files moved and nothing cut them: the link may carry more than thought.
    next = std::min(tuning::kMaxLinkEstimateBytes, link_estimate_ * 2);
  } else if (status.code() == ErrorCode::kUnavailable && in_files_) {
    // Cut while moving a file: a connection carries about what this one did.
    next = std::max({carried_, link_estimate_ / 4, std::uint64_t{4} * tuning::kMinFilePieceBytes});
  }
  in_files_ = false;
  link_estimate_ = next;
  if (next != stored_link_estimate_) {
    (void)store_.files().setLinkEstimate(next);  // a hint: losing it costs nothing
    stored_link_estimate_ = next;
  }
}

bool Replicator::Impl::changesWaiting() const {
  auto next = store_.pending(0, 1, SIZE_MAX);
  return next && !next->empty();
}

Result<std::vector<proto::FileState>> Replicator::Impl::queryFiles(const std::vector<std::string>& hashes) {
  std::vector<proto::FileState> out;
  for (std::size_t at = 0; at < hashes.size(); at += sync::tuning::kMaxFilesPerQuery) {
    proto::FileQuery query;
    const auto end = std::min(hashes.size(), at + sync::tuning::kMaxFilesPerQuery);
    query.hashes.assign(hashes.begin() + static_cast<std::ptrdiff_t>(at),
                        hashes.begin() + static_cast<std::ptrdiff_t>(end));
    const auto id = next_request_++;
    CS_RETURN_IF_ERROR(send(query, id));
    auto reply = receive();
    if (!reply) return reply.status();
    if (reply->request_id != id) return Status::error(ErrorCode::kProtocol, "a reply to a request never sent");
    auto states = proto::unwrap<proto::FileStates>(*reply);
    if (!states) return states.status();
    if (states->files.size() != query.hashes.size()) {
      return Status::error(ErrorCode::kProtocol, "a file query was answered for other files");
    }
    for (auto& f : states->files) out.push_back(std::move(f));
  }
  return out;
}

Status Replicator::Impl::files() {
  in_files_ = true;
  CS_RETURN_IF_ERROR(uploadFiles());
  CS_RETURN_IF_ERROR(fetchWanted());
  in_files_ = false;
  return Status::ok();
}

Result<bool> Replicator::Impl::filesWaiting() {
  auto uploads = store_.files().toUpload();
  if (!uploads) return uploads.status();
  auto wanted = store_.files().wanted();
  if (!wanted) return wanted.status();
  return !uploads->empty() || !wanted->empty();
}

Status Replicator::Impl::uploadFiles() {
  auto uploads = store_.files().toUpload();
  if (!uploads) return uploads.status();
  if (uploads->empty()) return Status::ok();
  std::vector<std::string> hashes;
  for (const auto& f : *uploads) hashes.push_back(f.hash);
  auto states = queryFiles(hashes);
  if (!states) return states.status();
  progress_.files_total = uploads->size();
  progress_.files_done = 0;
  for (std::size_t i = 0; i < uploads->size(); ++i) {
    const auto& file = (*uploads)[i];
    const auto& state = (*states)[i];
    if (!state.complete) CS_RETURN_IF_ERROR(uploadOne(file, state.size == file.entry.size ? state.have : 0));
    // Whole on the server, from us or from another device that had the same file: it is "sent".
    CS_RETURN_IF_ERROR(store_.files().markUploaded(file.hash));
    ++report_->files_sent;
    ++progress_.files_done;
    progress(SyncProgress::Phase::kFiles);
  }
  return Status::ok();
}

Status Replicator::Impl::uploadOne(const LocalFile& file, std::uint64_t server_have) {
  const auto& hash = file.hash;
  const std::uint64_t size = file.entry.size;
  std::uint64_t next = server_have;                  // the next byte to send
  std::uint64_t acked = server_have;                 // what the server holds durably
  std::map<std::uint64_t, std::uint64_t> in_flight;  // request id -> end of its piece
  bool resync = false;                               // stop sending until the window drains, then go on from `acked`
  bool complete = false;
  int resends = 0;
  progress_.file_bytes_total = size;

  auto onReply = [&](const proto::Envelope& reply) -> Status {
    auto it = in_flight.find(reply.request_id);
    if (it == in_flight.end()) return Status::error(ErrorCode::kProtocol, "a reply to a request never sent");
    const std::uint64_t end = it->second;
    in_flight.erase(it);
    auto ack = proto::unwrap<proto::FileAck>(reply);
    if (!ack) return ack.status();
    if (ack->hash != hash) return Status::error(ErrorCode::kProtocol, "an acknowledgement of another file");
    if (ack->code == static_cast<std::uint16_t>(ErrorCode::kCorruption)) {
      // The server's copy did not hash to the name: it dropped it. Ours must be sound to send again.
      auto intact = store_.files().verify(hash);
      if (!intact) return intact.status();
      if (!*intact) {
        return Status::error(ErrorCode::kCorruption, describe(file) + " is damaged on this device; attach it again");
      }
      if (++resends > tuning::kMaxFileResends) {
        return Status::error(ErrorCode::kCorruption, describe(file) + ": the server keeps refusing its bytes");
      }
      acked = 0;
      resync = true;
      return Status::ok();
    }
    if (ack->code != 0) {
      const auto code = static_cast<ErrorCode>(ack->code);
      return Status::error(code == ErrorCode::kOk ? ErrorCode::kProtocol : code, describe(file) + ": " + ack->reason);
    }
    if (ack->have > acked) {
      carried(ack->have - acked);
      acked = ack->have;
    }
    if (ack->complete) {
      complete = true;
    } else if (ack->have < end) {
      resync = true;  // the server holds less than we sent up to here: go on from what it holds
    }
    progress_.file_bytes = acked;
    progress(SyncProgress::Phase::kFiles);
    return Status::ok();
  };
  auto drain = [&]() -> Status {
    while (!in_flight.empty()) {
      auto reply = receive();
      if (!reply) return reply.status();
      CS_RETURN_IF_ERROR(onReply(*reply));
    }
    return Status::ok();
  };

  while (!complete) {
    if (in_flight.empty() && resync) {
      next = acked;
      resync = false;
    }
    if (!resync && changesWaiting()) {
      CS_RETURN_IF_ERROR(drain());
      CS_RETURN_IF_ERROR(push());
      pushed_during_files_ = true;
      progress(SyncProgress::Phase::kFiles);
      continue;
    }
    while (!resync && in_flight.size() < tuning::kFilePiecesInFlight && next < size) {
      CS_RETURN_IF_ERROR(cancelled());
      auto data = store_.files().read(hash, next, std::min<std::uint64_t>(pieceBytes(), size - next));
      if (!data) return data.status();
      const auto n = data->size();
      proto::FilePut put{hash, size, next, std::move(data).value()};
      const auto id = next_request_++;
      CS_RETURN_IF_ERROR(send(put, id));
      in_flight[id] = next + n;
      next += n;
      report_->file_bytes_sent += n;
    }
    if (in_flight.empty()) {
      if (resync) continue;
      return Status::error(ErrorCode::kProtocol,
                           "the server took all of " + describe(file) + " but did not complete it");
    }
    auto reply = receive();
    if (!reply) return reply.status();
    CS_RETURN_IF_ERROR(onReply(*reply));
  }
  return drain();
}

Status Replicator::Impl::fetchWanted() {
  auto wanted = store_.files().wanted();
  if (!wanted) return wanted.status();
  if (wanted->empty()) return Status::ok();
  std::vector<std::string> hashes;
  for (const auto& f : *wanted) hashes.push_back(f.hash);
  auto states = queryFiles(hashes);
  if (!states) return states.status();
  progress_.files_total = wanted->size();
  progress_.files_done = 0;
  for (const auto& state : *states) {
    // Not readable, or not whole on the server yet: it stays wanted for a later sync.
    if (!state.readable || !state.complete) continue;
    CS_RETURN_IF_ERROR(download(state.hash, state.size));
    ++progress_.files_done;
  }
  return Status::ok();
}

Status Replicator::Impl::fetchFile(const std::string& hash) {
  auto held = store_.files().entry(hash);
  if (!held) return held.status();
  if (held->has_value() && (*held)->complete) return Status::ok();
  auto states = queryFiles({hash});
  if (!states) return states.status();
  const auto& state = states->front();
  const auto hex = sync::fileHashToHex(hash);
  if (!state.readable) {
    return Status::error(ErrorCode::kForbidden, "file " + hex + ": no record you may read refers to it");
  }
  if (!state.complete) {
    return Status::error(ErrorCode::kNotFound,
                         "file " + hex + " is not on the server yet" +
                             (state.size > 0 ? " (" + std::to_string(state.have) + " of " + std::to_string(state.size) +
                                                   " bytes have arrived)"
                                             : ": the device that made it has not sent it"));
  }
  in_files_ = true;
  CS_RETURN_IF_ERROR(download(hash, state.size));
  in_files_ = false;
  return Status::ok();
}

Status Replicator::Impl::download(const std::string& hash, std::uint64_t size) {
  auto held = store_.files().entry(hash);
  if (!held) return held.status();
  std::uint64_t next = held->has_value() && (*held)->size == size ? (*held)->have : 0;
  std::deque<std::pair<std::uint64_t, std::uint64_t>> in_flight;  // request id, offset asked
  Status failure;
  bool complete = false;
  progress_.file_bytes_total = size;
  while (!complete || !in_flight.empty()) {
    while (!complete && failure && in_flight.size() < tuning::kFilePiecesInFlight && next < size) {
      CS_RETURN_IF_ERROR(cancelled());
      const auto n = std::min<std::uint64_t>(pieceBytes(), size - next);
      const auto id = next_request_++;
      CS_RETURN_IF_ERROR(send(proto::FileGet{hash, next, static_cast<std::uint32_t>(n)}, id));
      in_flight.emplace_back(id, next);
      next += n;
    }
    if (in_flight.empty()) break;
    auto reply = receive(true);
    if (!reply) return reply.status();
    if (reply->request_id != in_flight.front().first) {
      return Status::error(ErrorCode::kProtocol, "a reply out of order while fetching a file");
    }
    in_flight.pop_front();
    if (!failure || complete) continue;  // draining what was asked before
    if (reply->type == proto::MessageType::kError) {
      failure = errorStatus(*reply);
      continue;
    }
    auto data = proto::unwrap<proto::FileData>(*reply);
    if (!data) return data.status();
    if (data->hash != hash || data->size != size || data->data.empty()) {
      return Status::error(ErrorCode::kProtocol, "a file piece that was not asked for");
    }
    auto whole = store_.files().storeFetched(hash, size, data->offset, data->data);
    if (!whole) {
      failure = whole.status();
      continue;
    }
    carried(data->data.size());
    report_->file_bytes_received += data->data.size();
    progress_.file_bytes = data->offset + data->data.size();
    progress(SyncProgress::Phase::kFiles);
    if (*whole) {
      complete = true;
      ++report_->files_received;
    }
  }
  CS_RETURN_IF_ERROR(failure);
  if (!complete) return Status::error(ErrorCode::kProtocol, "the server's pieces did not make the whole file");
  return Status::ok();
}

}  // namespace communesync::client
