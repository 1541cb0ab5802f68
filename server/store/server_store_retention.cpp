// What the server store forgets, and when: the history of old changes (by the config's retention).
// Idempotency results go as devices acknowledge them (GroupCommit::forgetAcknowledged).
#include "base/sweep_oldest.hpp"
#include "store/server_store.hpp"
#include "store/store_keys.hpp"
#include "store/stored_types.hpp"

namespace communesync::server {

using storage::Column;

// The log is in the order changes were accepted, so the oldest history is at its start: the sweep
// reads from there, and stops at the first change received on or after `before_ms`. Each log entry
// names its record, whose history key holds when it arrived.
Result<std::size_t> ServerStore::sweepHistory(std::int64_t before_ms) {
  return sweepOldest(store_, Column::kLog,
                     [&](std::string_view log_key, std::string_view value, storage::WriteBatch& batch) -> Result<bool> {
                       const auto log_seq = storage::readUint64(log_key).value_or(0);
                       auto change = sync::decode<sync::Change>(value);
                       if (!change) {
                         return Status::error(ErrorCode::kCorruption,
                                              "log entry " + std::to_string(log_seq) + " does not decode");
                       }
                       const auto key = historyKey(change->key, log_seq);
                       auto meta = sync::readDecoded<HistoryMeta>(store_, Column::kHistory, key);
                       if (!meta) return meta.status();
                       if (meta->has_value() && (*meta)->receive_ms >= before_ms) return false;
                       batch.erase(Column::kHistory, key);
                       return true;
                     });
}

}  // namespace communesync::server
