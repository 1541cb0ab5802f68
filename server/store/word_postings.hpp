// The accent-free search's word index as postings: for each form and folded word, the live records
// that have it, newest first (by when the server first accepted each record), kept in chunks of
// about tuning::kPostingChunkMean records, so indexing thousands of records writes one key per word
// for every few dozen of them, not one per word of every record (docs/architecture.md, "The views").
//
// Layout (column search):
//   'w' collection \0 word \0 age (8) last id \0   -> (id \0 scope \0) ...  sorted by id
// where age = UINT64_MAX - when the record was first accepted (newestSuffix). A chunk holds records of
// one age only (a "segment": the records one group created). A chunk ends after a record whose id's
// hash says so (content-defined cuts), or at the end of its segment; so where the cuts fall depends
// on the records alone: a change rewrites the chunk it falls in, and what the index keeps is byte
// for byte what a rebuild writes. A key names its chunk's last record, so a seek to a position lands
// on the chunk that holds it or on the next one.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "communesync/storage/store.hpp"

namespace communesync::server {

//! What one group (a group commit, or a batch of a rebuild) does to the word index: each record's
//! words added or removed, by segment, then written at the end, each touched segment read and
//! written once.
class WordGroup {
 public:
  //! The record `id` of scope `scope`, first accepted at `created_ms`, has (or no longer has) the word
  //! whose list starts with `word_prefix` (wordPrefix()). The last call for a record and word wins.
  void add(const std::string& word_prefix, std::int64_t created_ms, const std::string& id, const std::string& scope);
  void remove(const std::string& word_prefix, std::int64_t created_ms, const std::string& id);

  //! Reads each touched segment from the store (as committed), applies this group's additions and
  //! removals, and rewrites it into the batch. Errors: kCorruption (a chunk does not decode), I/O.
  Status writeTo(const storage::Store& store, storage::WriteBatch& batch);

 private:
  // By (word prefix, age): each record id's scope, or nullopt when its word is removed.
  std::map<std::pair<std::string, std::uint64_t>, std::map<std::string, std::optional<std::string>>> segments_;
};

//! One word's records in the index, newest first across its chunks: a position is age (8) id \0
//! (newestSuffix()), the order of the views' pages.
class WordCursor {
 public:
  //! The records of the list `word_prefix` at or after `start` (a position; empty: from the newest).
  WordCursor(const storage::Store& store, const storage::Snapshot* snapshot, std::string word_prefix,
             std::string_view start);

  bool valid() const { return status_.isOk() && at_ < entries_.size(); }
  //! Ok unless reading stopped on an error (a chunk that does not decode, I/O).
  Status status() const;
  std::string_view position() const { return entries_[at_].first; }
  std::string_view scope() const { return entries_[at_].second; }
  void next();
  //! Moves to the first record at or after `position`: within the chunk when it holds it, else one
  //! seek in the store.
  void seek(std::string_view position);

 private:
  // Decodes the chunk under the store's cursor (none: the list ended).
  void load();

  std::string prefix_;
  storage::Cursor cursor_;
  std::vector<std::pair<std::string, std::string>> entries_;  // position, scope
  std::size_t at_ = 0;
  Status status_;
};

}  // namespace communesync::server
