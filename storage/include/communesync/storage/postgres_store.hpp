// The PostgreSQL backend of storage::Store, for a server past one machine (docs/architecture.md,
// "The store boundary"): each column is a table `cs_<column> (k bytea PRIMARY KEY, v bytea)`,
// ordered as RocksDB orders keys (bytea compares byte by byte); a batch is one transaction; a
// snapshot is a REPEATABLE READ transaction held open; a cursor reads in pages by key.
//
// Its own library (communesync::storage_postgres): the phone's library links RocksDB only.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "communesync/storage/store.hpp"

namespace communesync::storage {

struct PostgresOptions {
  //! Connections the store opens at most (a snapshot holds one while it lives; a read or a commit
  //! borrows one). A caller that finds them all busy waits up to `busy_wait`, then gets kBusy.
  std::size_t max_connections = tuning::kPostgresMaxConnections;
  std::chrono::milliseconds busy_wait = tuning::kPostgresBusyWait;
};

//! The URL with its password (if any) as *** : for messages and logs.
std::string redactedUrl(const std::string& url);

//! Whether `location` names a PostgreSQL database ("postgresql://..." or "postgres://...").
bool isPostgresUrl(std::string_view location);

//! Connects to the database at `url` (a libpq URI: postgresql://USER@HOST[:PORT]/DB, or with
//! ?host=/socket/dir), creates the tables if they are missing, and reads or makes the store's
//! identity. Several processes may open one database at once (Store::lock serialises their writers).
//! Errors: kUnavailable (cannot connect, with libpq's words), kInvalidArgument (a newer format), kPermissionDenied (the
//! role may not create tables).
Result<std::unique_ptr<Store>> openPostgresStore(const std::string& url, const PostgresOptions& options = {});

//! Opens the store a server is told to use: a PostgreSQL database by URL, else a RocksDB folder.
Result<std::unique_ptr<Store>> openStoreAt(const std::string& location, const StoreOptions& options = {});

}  // namespace communesync::storage
