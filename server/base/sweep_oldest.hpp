// Retention's one loop: erase a column's entries from its start (its oldest, for columns keyed in
// the order they were written) until the first one to keep, in bounded batches.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "base/tuning.hpp"
#include "communesync/storage/store.hpp"

namespace communesync::server {

//! Calls `old(key, value, batch)` on the entries of `column` from its first key, each in turn;
//! `old` returns true when the entry is to go (and may add its own erasures to the batch: the
//! entry's own key is erased here), false at the first to keep, or an error. Commits every
//! tuning::kRetentionBatch entries, durably; stops after tuning::kMaxSweptPerRun. Returns how many went.
template <class Old>
Result<std::size_t> sweepOldest(storage::Store& store, storage::Column column, Old&& old) {
  std::size_t removed = 0;
  std::string from;
  for (;;) {
    storage::WriteBatch batch;
    std::size_t in_batch = 0;
    bool more = false;
    auto cursor = store.scan(column, from, "");
    for (; cursor.valid(); cursor.next()) {
      if (in_batch == tuning::kRetentionBatch || removed == tuning::kMaxSweptPerRun) {
        from = std::string(cursor.key());
        more = removed < tuning::kMaxSweptPerRun;
        break;
      }
      Result<bool> goes = old(cursor.key(), cursor.value(), batch);
      if (!goes) return goes.status();
      if (!*goes) break;
      batch.erase(column, cursor.key());
      ++in_batch;
      ++removed;
    }
    CS_RETURN_IF_ERROR(cursor.status());
    if (!batch.empty()) CS_RETURN_IF_ERROR(store.commit(batch, storage::Durability::kSynced));
    if (!more) return removed;
  }
}

}  // namespace communesync::server
