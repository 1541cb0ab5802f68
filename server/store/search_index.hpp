// The accent-free search's word index, kept off the write path (docs/architecture.md, "The views").
// A push writes nothing for it: the index reads the change log from where it last stopped, and for
// each record the log names compares the record's words now with those it last indexed it under,
// and moves its postings (store/word_postings.hpp), all of a slice in one batch with the new mark.
// The writer's indexing thread runs it after each commit (Writer), so it trails the writer by about
// a group; a search first catches it up, bounded, so what was pushed before the search is found.
// Why off the path: a record of a province's forms has about nine words; kept with each change they
// cost pushes more than every other view together (docs/benchmarks.md).
//
// Layout (column search), besides the postings:
//   'i' collection \0 id \0  -> first accepted (8) (word \0)...: what a live record is indexed under
//   "m"                      -> the log seq (8) through which every change is indexed
// Indexing reads each record as it is now, not as the logged change left it, so indexing a record
// twice is harmless and a crash between two slices loses nothing: the mark moves in the same batch.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>

#include "communesync/storage/store.hpp"
#include "store/word_postings.hpp"

namespace communesync::server {

class SearchIndex {
 public:
  explicit SearchIndex(storage::Store& store) : store_(store) {}

  //! Indexes the changes after the mark through `last_seq` (the log as committed), at most
  //! `max_changes` of them. Returns whether the index holds every change through `last_seq`.
  //! Errors: the store's; kCorruption (a log entry, record or index entry does not decode).
  Result<bool> catchUp(std::uint64_t last_seq, std::size_t max_changes);
  //! Drops the index and indexes every record as `snapshot` holds it; the mark at `last_seq`, a log
  //! seq the snapshot holds every change through. Not concurrently with catchUp (the store's open).
  Status rebuild(const storage::Snapshot& snapshot, std::uint64_t last_seq);
  //! The log seq through which the index holds every change (read from the store once).
  Result<std::uint64_t> through();
  //! The same without waiting for an indexer at work: nullopt before the mark was first read.
  std::optional<std::uint64_t> throughNow() const;

 private:
  Result<std::uint64_t> throughLocked();
  // Writes the postings and the mark into the batch and commits it.
  Status finish(WordGroup& words, storage::WriteBatch& batch, std::uint64_t through);

  storage::Store& store_;
  std::mutex mutex_;                       // one indexer at a time: the writer's thread or a search
  std::atomic<std::uint64_t> through_{0};  // the mark, once read
  std::atomic<bool> through_known_{false};
};

}  // namespace communesync::server
