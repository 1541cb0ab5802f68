// The PostgreSQL backend of storage::Store (postgres_store.hpp), on libpq: its C API returns
// errors as values, as this layer does, and carries bytes as bytes (binary parameters and results).
#include "communesync/storage/postgres_store.hpp"

#include <libpq-fe.h>
#include <sodium.h>

#include <poll.h>
#include <pthread.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <map>
#include <mutex>
#include <set>
#include <thread>
#include <utility>
#include <vector>

#include "communesync/storage/store_backend.hpp"

namespace communesync::storage {
namespace {

// Advisory lock keys (64-bit numbers nobody else uses): the schema's creation, and Store::lock's
// names (kLockBase + LockName).
constexpr std::int64_t kSchemaLock = 0x636f6d6d756e6501;  // "commune" 1
constexpr std::int64_t kLockBase = 0x636f6d6d756e6510;
// The channel of the notices (WriteBatch::notice); each starts with the sending store's id.
constexpr const char* kNoticeChannel = "communesync";

constexpr Oid kByteaOid = 17;
constexpr Oid kByteaArrayOid = 1001;

std::string tableOf(Column column) {
  return column == Column::kMeta ? "cs_meta" : "cs_" + std::string(columnName(column));
}

// One connection and the statements prepared on it.
struct Conn {
  PGconn* pg = nullptr;
  std::set<std::string> prepared;
  ~Conn() {
    if (pg != nullptr) PQfinish(pg);
  }
};

using ResultPtr = std::unique_ptr<PGresult, decltype(&PQclear)>;

Status errorOf(PGconn* pg, const PGresult* res, const std::string& doing) {
  std::string message = res != nullptr ? PQresultErrorMessage(res) : PQerrorMessage(pg);
  while (!message.empty() && (message.back() == '\n' || message.back() == ' ')) message.pop_back();
  const char* state = res != nullptr ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : nullptr;
  const std::string sqlstate = state != nullptr ? state : "";
  ErrorCode code = ErrorCode::kIoError;
  if (PQstatus(pg) == CONNECTION_BAD || sqlstate.rfind("08", 0) == 0 || sqlstate.rfind("57P", 0) == 0) {
    code = ErrorCode::kUnavailable;
  } else if (sqlstate == "53100") {
    code = ErrorCode::kNoSpace;
  } else if (sqlstate == "42501") {
    code = ErrorCode::kPermissionDenied;
  } else if (sqlstate == "40001" || sqlstate == "40P01" || sqlstate == "55P03") {
    code = ErrorCode::kBusy;
  }
  return Status::error(code, doing + ": " + message);
}

// Parameters as libpq takes them: pointers, lengths, and every one in binary format.
struct BinaryParams {
  explicit BinaryParams(const std::vector<std::string_view>& params) {
    for (auto p : params) {
      values.push_back(p.data());
      lengths.push_back(static_cast<int>(p.size()));
      formats.push_back(1);
    }
  }
  std::vector<const char*> values;
  std::vector<int> lengths;
  std::vector<int> formats;
};

// Runs `sql` with binary parameters, binary results (unless `text`). nullptr result: see `status`.
ResultPtr run(PGconn* pg, const char* sql, const std::vector<std::string_view>& params, Status& status,
              const std::string& doing, const std::vector<Oid>& types = {}, bool text = false) {
  const BinaryParams bound(params);
  ResultPtr res(PQexecParams(pg, sql, static_cast<int>(params.size()), types.empty() ? nullptr : types.data(),
                             bound.values.data(), bound.lengths.data(), bound.formats.data(), text ? 0 : 1),
                &PQclear);
  const auto st = PQresultStatus(res.get());
  if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
    status = errorOf(pg, res.get(), doing);
    return ResultPtr(nullptr, &PQclear);
  }
  status = Status::ok();
  return res;
}

// The same through a statement prepared on the connection once (`name` is unique to `sql`): a read
// repeated thousands of times a second is parsed and planned once per connection.
ResultPtr runPrepared(Conn& conn, const std::string& name, const std::string& sql,
                      const std::vector<std::string_view>& params, Status& status, const std::string& doing) {
  if (conn.prepared.count(name) == 0) {
    ResultPtr prepared(PQprepare(conn.pg, name.c_str(), sql.c_str(), static_cast<int>(params.size()), nullptr),
                       &PQclear);
    if (PQresultStatus(prepared.get()) != PGRES_COMMAND_OK) {
      status = errorOf(conn.pg, prepared.get(), doing);
      return ResultPtr(nullptr, &PQclear);
    }
    conn.prepared.insert(name);
  }
  const BinaryParams bound(params);
  ResultPtr res(PQexecPrepared(conn.pg, name.c_str(), static_cast<int>(params.size()), bound.values.data(),
                               bound.lengths.data(), bound.formats.data(), 1),
                &PQclear);
  if (PQresultStatus(res.get()) != PGRES_TUPLES_OK && PQresultStatus(res.get()) != PGRES_COMMAND_OK) {
    status = errorOf(conn.pg, res.get(), doing);
    return ResultPtr(nullptr, &PQclear);
  }
  status = Status::ok();
  return res;
}

Status exec(PGconn* pg, const char* sql, const std::string& doing) {
  Status status;
  run(pg, sql, {}, status, doing, {}, true);
  return status;
}

void appendInt32(std::string& out, std::uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<char>((v >> shift) & 0xff));
}

// A bytea[] in PostgreSQL's binary array format: dimensions, flags, element type, then each
// element's length and bytes.
std::string byteaArray(const std::vector<std::string_view>& items) {
  std::string out;
  appendInt32(out, 1);  // one dimension
  appendInt32(out, 0);  // no nulls
  appendInt32(out, kByteaOid);
  appendInt32(out, static_cast<std::uint32_t>(items.size()));
  appendInt32(out, 1);  // lower bound
  for (auto item : items) {
    appendInt32(out, static_cast<std::uint32_t>(item.size()));
    out.append(item);
  }
  return out;
}

std::string_view cell(const PGresult* res, int row, int column) {
  return {PQgetvalue(res, row, column), static_cast<std::size_t>(PQgetlength(res, row, column))};
}

class PostgresStore;

// A connection borrowed from the store's pool, given back when it goes (dropped if it broke).
class Lease {
 public:
  Lease() = default;
  Lease(const PostgresStore* store, std::unique_ptr<Conn> conn) : store_(store), conn_(std::move(conn)) {}
  Lease(Lease&&) noexcept = default;
  Lease& operator=(Lease&&) noexcept = default;
  Lease(const Lease&) = delete;
  Lease& operator=(const Lease&) = delete;
  ~Lease();
  Conn* operator->() const { return conn_.get(); }
  Conn* get() const { return conn_.get(); }
  explicit operator bool() const { return conn_ != nullptr; }

 private:
  const PostgresStore* store_ = nullptr;
  std::unique_ptr<Conn> conn_;
};

struct PgSnapshot final : Snapshot::Impl {
  Lease lease;   // in a REPEATABLE READ transaction, rolled back when the snapshot goes
  Status error;  // why there is none: every read through the snapshot reports it
  ~PgSnapshot() override {
    if (lease) (void)exec(lease->pg, "ROLLBACK", "ending a snapshot");
  }
};

class PostgresStore final : public Store {
 public:
  PostgresStore(std::string url, PostgresOptions options) : Store({}, {}), url_(std::move(url)), options_(options) {}
  ~PostgresStore() override {
    stopping_ = true;
    if (listener_.joinable()) listener_.join();
    std::lock_guard lock(mutex_);
    idle_.clear();
  }

  std::string location() const override { return redactedUrl(url_); }
  bool local() const override { return false; }

  Status init();
  Result<Lease> acquire() const;
  void giveBack(std::unique_ptr<Conn> conn) const;
  // A connection for one call: the calling thread's own while it holds a Store::lock (its reads and
  // commits go through the session that holds the lock), else one from the pool.
  struct Borrowed {
    Lease lease;
    Conn* conn = nullptr;
    Conn* operator->() const { return conn; }
  };
  Result<Borrowed> borrow() const;
  Result<StoreLock> lock(LockName name, std::chrono::milliseconds wait) override;
  Status listen(Listener listener) override;
  // The lock's end (PgLock's destructor).
  void unlock(Conn& conn, std::int64_t key) const;

  Result<std::optional<std::string>> get(Column column, std::string_view key, const Snapshot* snapshot) const override;
  Result<std::vector<std::optional<std::string>>> multiGet(Column column, const std::vector<std::string>& keys,
                                                           const Snapshot* snapshot) const override;
  Status commit(WriteBatch& batch, Durability durability) override;
  Snapshot snapshot() const override;
  Cursor scan(Column column, std::string_view lower, std::string_view upper, const Snapshot* snapshot) const override;
  Result<std::optional<std::string>> lastKey(Column column, std::string_view prefix) const override;
  Status flush() override { return Status::ok(); }
  Status compactAll() override;
  std::uint64_t approximateSizeBytes() const override;
  Stats stats() const override { return {}; }
  Status checkpoint(const std::filesystem::path& /*dir*/) const override {
    return Status::error(ErrorCode::kInvalidArgument,
                         "the store is in PostgreSQL (" + location() +
                             "): back it up with the database's own tools (pg_basebackup, pg_dump; "
                             "docs/operations.md)");
  }
  Status verifyChecksums() const override { return Status::ok(); }
  Status renewIncarnation() override;

  // The cursor's page read: rows of `column` from `from` (inclusive or not) below `upper`.
  Status readPage(Conn& conn, Column column, std::string_view from, bool inclusive, std::string_view upper,
                  std::size_t limit, std::vector<std::pair<std::string, std::string>>& rows) const;

 private:
  Result<std::unique_ptr<Conn>> connect() const;
  std::string doing(const std::string& what) const { return what + " " + location(); }

  std::string url_;
  PostgresOptions options_;
  mutable std::mutex mutex_;
  mutable std::condition_variable freed_;
  mutable std::vector<std::unique_ptr<Conn>> idle_;
  mutable std::size_t open_ = 0;         // connections out on lease or idle
  const std::string id_ = randomHex(8);  // in front of this store's notices, to know its own
  std::atomic<bool> stopping_{false};
  std::thread listener_;
  void listenLoop(std::unique_ptr<Conn> conn, const Listener& listener);
};

// The connection each thread holds a Store::lock through, per store (a thread may hold locks of
// several stores, and several locks of one: they share its session).
struct Pin {
  const PostgresStore* store;
  Conn* conn;
  int depth;
};
thread_local std::vector<Pin> t_pins;

Pin* pinOf(const PostgresStore* store) {
  for (auto& pin : t_pins) {
    if (pin.store == store) return &pin;
  }
  return nullptr;
}

struct PgLock final : StoreLock::Impl {
  const PostgresStore* store = nullptr;
  Lease lease;  // the session, when this lock is the thread's first of the store
  std::int64_t key = 0;
  ~PgLock() override {
    if (store == nullptr) return;
    Pin* pin = pinOf(store);
    if (pin == nullptr) return;
    store->unlock(*pin->conn, key);
    if (--pin->depth == 0) std::erase_if(t_pins, [&](const Pin& p) { return p.store == store; });
  }
};

Lease::~Lease() {
  if (conn_ && store_ != nullptr) store_->giveBack(std::move(conn_));
}

struct PgCursor final : Cursor::Impl {
  const PostgresStore* store = nullptr;
  Column column = Column::kMeta;
  std::string lower;
  std::string upper;
  Conn* pinned = nullptr;  // the snapshot's connection, if any
  std::vector<std::pair<std::string, std::string>> rows;
  std::size_t pos = 0;
  std::size_t page = tuning::kPostgresFirstPageRows;
  bool last_page = false;
  Status error;

  void fetch(std::string_view from, bool inclusive) {
    std::string start(from);  // `from` may point into the rows replaced here
    rows.clear();
    pos = 0;
    if (pinned != nullptr) {
      error = store->readPage(*pinned, column, start, inclusive, upper, page, rows);
    } else {
      auto conn = store->borrow();
      error = conn ? store->readPage(*conn->conn, column, start, inclusive, upper, page, rows) : conn.status();
    }
    if (!error) rows.clear();
    last_page = rows.size() < page;
    page = std::min(page * 2, tuning::kPostgresMaxPageRows);
  }

  bool valid() const override { return pos < rows.size(); }
  void next() override {
    if (++pos < rows.size() || last_page) return;
    fetch(rows.back().first, false);
  }
  void seek(std::string_view key) override {
    page = tuning::kPostgresFirstPageRows;
    fetch(std::max(key, std::string_view(lower)), true);
  }
  std::string_view key() const override { return rows[pos].first; }
  std::string_view value() const override { return rows[pos].second; }
  Status status() const override { return error; }
};

Result<std::unique_ptr<Conn>> PostgresStore::connect() const {
  const std::string timeout = std::to_string(tuning::kPostgresConnectTimeoutSeconds);
  const std::array<const char*, 4> keys = {"dbname", "connect_timeout", "application_name", nullptr};
  const std::array<const char*, 4> values = {url_.c_str(), timeout.c_str(), "communesync", nullptr};
  auto conn = std::make_unique<Conn>();
  conn->pg = PQconnectdbParams(keys.data(), values.data(), /*expand_dbname=*/1);
  if (conn->pg == nullptr) return Status::error(ErrorCode::kInternal, "libpq could not allocate a connection");
  // The server's (NOTICE: "relation ... already exists, skipping" at every start): not for its log.
  PQsetNoticeProcessor(
      conn->pg, [](void* /*arg*/, const char* /*message*/) {}, nullptr);
  if (PQstatus(conn->pg) != CONNECTION_OK) {
    std::string message = PQerrorMessage(conn->pg);
    while (!message.empty() && message.back() == '\n') message.pop_back();
    return Status::error(ErrorCode::kUnavailable, "connecting to " + location() + ": " + message);
  }
  return conn;
}

Result<Lease> PostgresStore::acquire() const {
  std::unique_lock lock(mutex_);
  for (;;) {
    if (!idle_.empty()) {
      auto conn = std::move(idle_.back());
      idle_.pop_back();
      return Lease(this, std::move(conn));
    }
    if (open_ < options_.max_connections) {
      ++open_;
      lock.unlock();
      auto conn = connect();
      if (!conn) {
        std::lock_guard relock(mutex_);
        --open_;
        return conn.status();
      }
      return Lease(this, std::move(conn).value());
    }
    if (!freed_.wait_for(lock, options_.busy_wait,
                         [&] { return !idle_.empty() || open_ < options_.max_connections; })) {
      return Status::error(ErrorCode::kBusy, "all " + std::to_string(options_.max_connections) + " connections to " +
                                                 location() + " stayed busy");
    }
  }
}

void PostgresStore::giveBack(std::unique_ptr<Conn> conn) const {
  const bool healthy = PQstatus(conn->pg) == CONNECTION_OK && PQtransactionStatus(conn->pg) == PQTRANS_IDLE;
  {
    std::lock_guard lock(mutex_);
    if (healthy) {
      idle_.push_back(std::move(conn));
    } else {
      --open_;
    }
  }
  conn.reset();  // a broken one is closed outside the lock
  freed_.notify_one();
}

Status PostgresStore::init() {
  auto lease = acquire();
  if (!lease) return lease.status();
  PGconn* pg = (*lease)->pg;
  CS_RETURN_IF_ERROR(exec(pg, "BEGIN", doing("opening")));
  auto body = [&]() -> Status {
    CS_RETURN_IF_ERROR(exec(pg, ("SELECT pg_advisory_xact_lock(" + std::to_string(kSchemaLock) + ")").c_str(),
                            doing("locking the schema of")));
    for (std::size_t i = 0; i < static_cast<std::size_t>(Column::kCount); ++i) {
      const auto sql =
          "CREATE TABLE IF NOT EXISTS " + tableOf(static_cast<Column>(i)) + " (k bytea PRIMARY KEY, v bytea NOT NULL)";
      CS_RETURN_IF_ERROR(exec(pg, sql.c_str(), doing("creating the tables of")));
    }
    Status status;
    auto format = run(pg, "SELECT v FROM cs_meta WHERE k = $1", {kFormatKey}, status, doing("reading the format of"));
    if (!status) return status;
    if (PQntuples(format.get()) == 1) CS_RETURN_IF_ERROR(checkFormat(cell(format.get(), 0, 0), location()));
    auto incarnation =
        run(pg, "SELECT v FROM cs_meta WHERE k = $1", {kIncarnationKey}, status, doing("reading the identity of"));
    if (!status) return status;
    if (PQntuples(incarnation.get()) == 1) {
      incarnation_id_ = std::string(cell(incarnation.get(), 0, 0));
      return Status::ok();
    }
    incarnation_id_ = randomHex(16);
    const std::string version = std::to_string(tuning::kFormatVersion);
    run(pg, "INSERT INTO cs_meta (k, v) VALUES ($1, $2), ($3, $4) ON CONFLICT (k) DO NOTHING",
        {kIncarnationKey, incarnation_id_, kFormatKey, version}, status, doing("initialising"));
    return status;
  };
  if (auto s = body(); !s) {
    (void)exec(pg, "ROLLBACK", doing("opening"));
    return s;
  }
  return exec(pg, "COMMIT", doing("initialising"));
}

Result<std::optional<std::string>> PostgresStore::get(Column column, std::string_view key,
                                                      const Snapshot* snapshot) const {
  auto read = [&](Conn& conn) -> Result<std::optional<std::string>> {
    Status status;
    auto res = runPrepared(conn, "get_" + std::to_string(static_cast<int>(column)),
                           "SELECT v FROM " + tableOf(column) + " WHERE k = $1", {key}, status, doing("reading"));
    if (!status) return status;
    if (PQntuples(res.get()) == 0) return std::optional<std::string>();
    return std::optional<std::string>(std::string(cell(res.get(), 0, 0)));
  };
  if (snapshot != nullptr) {
    const auto* pinned = static_cast<const PgSnapshot*>(snapshot->impl());
    if (!pinned->lease) return pinned->error;
    return read(*pinned->lease.get());
  }
  auto conn = borrow();
  if (!conn) return conn.status();
  return read(*conn->conn);
}

Result<std::vector<std::optional<std::string>>> PostgresStore::multiGet(Column column,
                                                                        const std::vector<std::string>& keys,
                                                                        const Snapshot* snapshot) const {
  std::vector<std::optional<std::string>> out(keys.size());
  if (keys.empty()) return out;
  const auto array = byteaArray(std::vector<std::string_view>(keys.begin(), keys.end()));
  auto read = [&](Conn& conn) -> Status {
    Status status;
    auto res = runPrepared(conn, "multi_" + std::to_string(static_cast<int>(column)),
                           "SELECT k, v FROM " + tableOf(column) + " WHERE k = ANY($1::bytea[])", {array}, status,
                           doing("reading"));
    if (!status) return status;
    std::map<std::string_view, std::vector<std::size_t>> where;  // a key may be asked for twice
    for (std::size_t i = 0; i < keys.size(); ++i) where[keys[i]].push_back(i);
    for (int row = 0; row < PQntuples(res.get()); ++row) {
      auto it = where.find(cell(res.get(), row, 0));
      if (it == where.end()) continue;
      for (auto i : it->second) out[i] = std::string(cell(res.get(), row, 1));
    }
    return Status::ok();
  };
  if (snapshot != nullptr) {
    const auto* pinned = static_cast<const PgSnapshot*>(snapshot->impl());
    if (!pinned->lease) return pinned->error;
    CS_RETURN_IF_ERROR(read(*pinned->lease.get()));
    return out;
  }
  auto conn = borrow();
  if (!conn) return conn.status();
  CS_RETURN_IF_ERROR(read(*conn->conn));
  return out;
}

// A batch's operations in order, so the last one on a key is what the key holds: each column
// becomes one upsert of what is put and one delete of what is erased (an upsert may name a key
// only once).
Status PostgresStore::commit(WriteBatch& batch, Durability durability) {
  if (batch.empty() && batch.notices().empty()) return Status::ok();
  std::map<Column, std::map<std::string_view, const WriteBatch::Op*>> last;
  for (const auto& op : batch.ops()) last[op.column][op.key] = &op;
  auto conn = borrow();
  if (!conn) return conn.status();
  PGconn* pg = (*conn)->pg;
  CS_RETURN_IF_ERROR(exec(pg, "BEGIN", doing("writing to")));
  auto body = [&]() -> Status {
    // Buffered: committed without waiting for the WAL's flush (survives this process, not the
    // database machine's power cut), as RocksDB's unsynced write.
    if (durability == Durability::kBuffered)
      CS_RETURN_IF_ERROR(exec(pg, "SET LOCAL synchronous_commit TO OFF", doing("writing to")));
    for (const auto& [column, ops] : last) {
      std::vector<std::string_view> put_keys;
      std::vector<std::string_view> put_values;
      std::vector<std::string_view> erased;
      for (const auto& [key, op] : ops) {
        if (op->is_delete) {
          erased.push_back(key);
        } else {
          put_keys.push_back(key);
          put_values.push_back(op->value);
        }
      }
      Status status;
      const auto table = tableOf(column);
      if (!put_keys.empty()) {
        const auto keys = byteaArray(put_keys);
        const auto values = byteaArray(put_values);
        const auto sql = "INSERT INTO " + table + " (k, v) SELECT * FROM unnest($1::bytea[], $2::bytea[]) " +
                         "ON CONFLICT (k) DO UPDATE SET v = EXCLUDED.v";
        run(pg, sql.c_str(), {keys, values}, status, doing("writing to"), {kByteaArrayOid, kByteaArrayOid});
        if (!status) return status;
      }
      if (!erased.empty()) {
        const auto keys = byteaArray(erased);
        const auto sql = "DELETE FROM " + table + " WHERE k = ANY($1::bytea[])";
        run(pg, sql.c_str(), {keys}, status, doing("writing to"), {kByteaArrayOid});
        if (!status) return status;
      }
    }
    // Sent when the transaction commits, and only then.
    for (const auto& text : batch.notices()) {
      Status status;
      const std::string payload = id_ + " " + text;
      run(pg, "SELECT pg_notify($1, $2)", {kNoticeChannel, payload}, status, doing("writing to"));
      if (!status) return status;
    }
    return Status::ok();
  };
  if (auto s = body(); !s) {
    (void)exec(pg, "ROLLBACK", doing("writing to"));
    return s;
  }
  return exec(pg, "COMMIT", doing("committing to"));
}

Snapshot PostgresStore::snapshot() const {
  auto impl = std::make_unique<PgSnapshot>();
  auto lease = acquire();
  if (!lease) {
    impl->error = lease.status();
  } else {
    PGconn* pg = (*lease)->pg;
    // The snapshot is taken at the transaction's first query, so one is made at once.
    impl->error = exec(pg, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", doing("reading"));
    if (impl->error) impl->error = exec(pg, "SELECT 1", doing("reading"));
    if (impl->error) impl->lease = std::move(lease).value();
  }
  return Snapshot(std::move(impl));
}

Status PostgresStore::readPage(Conn& conn, Column column, std::string_view from, bool inclusive, std::string_view upper,
                               std::size_t limit, std::vector<std::pair<std::string, std::string>>& rows) const {
  std::string sql = "SELECT k, v FROM " + tableOf(column) + " WHERE k " + (inclusive ? ">=" : ">") + " $1";
  std::vector<std::string_view> params = {from};
  if (!upper.empty()) {
    sql += " AND k < $2";
    params.push_back(upper);
  }
  sql += " ORDER BY k LIMIT " + std::to_string(limit);
  const auto name = "page_" + std::to_string(static_cast<int>(column)) + (inclusive ? "i" : "x") +
                    (upper.empty() ? "o" : "u") + std::to_string(limit);
  Status status;
  auto res = runPrepared(conn, name, sql, params, status, doing("reading"));
  if (!status) return status;
  const int n = PQntuples(res.get());
  rows.reserve(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) rows.emplace_back(cell(res.get(), i, 0), cell(res.get(), i, 1));
  return Status::ok();
}

Cursor PostgresStore::scan(Column column, std::string_view lower, std::string_view upper,
                           const Snapshot* snapshot) const {
  auto impl = std::make_unique<PgCursor>();
  impl->store = this;
  impl->column = column;
  impl->lower.assign(lower);
  impl->upper.assign(upper);
  if (snapshot != nullptr) {
    const auto* pg = static_cast<const PgSnapshot*>(snapshot->impl());
    if (!pg->lease) {
      impl->error = pg->error;  // a cursor that is not valid, and says why
      return Cursor(std::move(impl));
    }
    impl->pinned = pg->lease.get();
  }
  impl->fetch(impl->lower, true);
  return Cursor(std::move(impl));
}

Result<std::optional<std::string>> PostgresStore::lastKey(Column column, std::string_view prefix) const {
  const auto upper = prefixSuccessor(prefix);
  std::string sql = "SELECT k FROM " + tableOf(column) + " WHERE k >= $1";
  std::vector<std::string_view> params = {prefix};
  if (!upper.empty()) {
    sql += " AND k < $2";
    params.push_back(upper);
  }
  sql += " ORDER BY k DESC LIMIT 1";
  auto conn = borrow();
  if (!conn) return conn.status();
  Status status;
  auto res = run((*conn)->pg, sql.c_str(), params, status, doing("reading"));
  if (!status) return status;
  if (PQntuples(res.get()) == 0) return std::optional<std::string>();
  return std::optional<std::string>(std::string(cell(res.get(), 0, 0)));
}

Status PostgresStore::compactAll() {
  auto lease = acquire();
  if (!lease) return lease.status();
  for (std::size_t i = 0; i < static_cast<std::size_t>(Column::kCount); ++i) {
    const auto sql = "VACUUM " + tableOf(static_cast<Column>(i));
    CS_RETURN_IF_ERROR(exec((*lease)->pg, sql.c_str(), doing("compacting")));
  }
  return Status::ok();
}

std::uint64_t PostgresStore::approximateSizeBytes() const {
  auto lease = acquire();
  if (!lease) return 0;
  std::string sql = "SELECT (0";
  for (std::size_t i = 0; i < static_cast<std::size_t>(Column::kCount); ++i) {
    sql += " + pg_total_relation_size('" + tableOf(static_cast<Column>(i)) + "')";
  }
  sql += ")::text";
  Status status;
  auto res = run((*lease)->pg, sql.c_str(), {}, status, doing("sizing"), {}, true);
  if (!status || PQntuples(res.get()) != 1) return 0;
  return std::strtoull(PQgetvalue(res.get(), 0, 0), nullptr, 10);
}

Result<PostgresStore::Borrowed> PostgresStore::borrow() const {
  Borrowed out;
  if (Pin* pin = pinOf(this)) {
    out.conn = pin->conn;
    return out;
  }
  auto lease = acquire();
  if (!lease) return lease.status();
  out.lease = std::move(lease).value();
  out.conn = out.lease.get();
  return out;
}

Result<StoreLock> PostgresStore::lock(LockName name, std::chrono::milliseconds wait) {
  auto impl = std::make_unique<PgLock>();
  impl->store = this;
  impl->key = kLockBase + static_cast<std::int64_t>(name);
  Pin* pin = pinOf(this);
  Conn* conn = pin != nullptr ? pin->conn : nullptr;
  if (conn == nullptr) {
    auto lease = acquire();
    if (!lease) return lease.status();
    impl->lease = std::move(lease).value();
    conn = impl->lease.get();
  }
  // A session lock, not a transaction's: it stays across the holder's commits, and it ends with
  // the session, so a holder that died or lost the database holds nothing. Free (the usual case:
  // a group commit) it takes one statement; held elsewhere, it is waited for up to `wait`.
  const std::string key = std::to_string(impl->key);
  Status status;
  auto tried =
      run(conn->pg, ("SELECT pg_try_advisory_lock(" + key + ")").c_str(), {}, status, doing("locking"), {}, true);
  if (status && std::string_view(PQgetvalue(tried.get(), 0, 0)) != "t") {
    const std::string timeout = "SET lock_timeout = " + std::to_string(std::max<std::int64_t>(1, wait.count()));
    status = exec(conn->pg, timeout.c_str(), doing("locking"));
    if (status)
      run(conn->pg, ("SELECT pg_advisory_lock(" + key + ")").c_str(), {}, status, doing("waiting for the lock of"), {},
          true);
    (void)exec(conn->pg, "RESET lock_timeout", doing("locking"));
  }
  if (!status) {
    impl->store = nullptr;  // not held: its end must not release another lock of the thread's
    return status;
  }
  if (pin != nullptr) {
    ++pin->depth;
  } else {
    t_pins.push_back({this, conn, 1});
  }
  return StoreLock(std::move(impl));
}

void PostgresStore::unlock(Conn& conn, std::int64_t key) const {
  // A session that broke holds nothing any more; one in a failed transaction is rolled back first.
  if (PQstatus(conn.pg) != CONNECTION_OK) return;
  if (PQtransactionStatus(conn.pg) != PQTRANS_IDLE) (void)exec(conn.pg, "ROLLBACK", doing("unlocking"));
  (void)exec(conn.pg, ("SELECT pg_advisory_unlock(" + std::to_string(key) + ")").c_str(), doing("unlocking"));
}

Status PostgresStore::listen(Listener listener) {
  if (!listener) {
    stopping_ = true;
    if (listener_.joinable()) listener_.join();
    stopping_ = false;
    return Status::ok();
  }
  if (listener_.joinable()) return Status::error(ErrorCode::kInvalidArgument, "the store has a listener already");
  auto conn = connect();
  if (!conn) return conn.status();
  CS_RETURN_IF_ERROR(exec((*conn)->pg, (std::string("LISTEN ") + kNoticeChannel).c_str(), doing("listening to")));
  listener_ = std::thread(
      [this, c = std::move(conn).value(), l = std::move(listener)]() mutable { listenLoop(std::move(c), l); });
  return Status::ok();
}

// Waits on the connection's socket a little at a time (so the store's end stops it), hands each
// notice of another store to the listener, and after losing the database connects again and says
// so with an empty notice.
void PostgresStore::listenLoop(std::unique_ptr<Conn> conn, const Listener& listener) {
  pthread_setname_np(pthread_self(), "store-listen");
  while (!stopping_) {
    if (!conn) {
      std::this_thread::sleep_for(tuning::kPostgresListenRetry);
      auto again = connect();
      if (!again) continue;
      if (!exec((*again)->pg, (std::string("LISTEN ") + kNoticeChannel).c_str(), doing("listening to"))) continue;
      conn = std::move(again).value();
      listener("");
      continue;
    }
    pollfd fd{PQsocket(conn->pg), POLLIN, 0};
    const int ready = ::poll(&fd, 1, static_cast<int>(tuning::kPostgresListenPoll.count()));
    if (ready < 0 && errno != EINTR) {
      conn.reset();
      continue;
    }
    if (ready <= 0) continue;
    if (PQconsumeInput(conn->pg) == 0) {
      conn.reset();
      continue;
    }
    while (PGnotify* notify = PQnotifies(conn->pg)) {
      std::string_view payload(notify->extra);
      if (payload.size() > id_.size() && payload.substr(0, id_.size()) != id_) {
        listener(payload.substr(id_.size() + 1));
      }
      PQfreemem(notify);
    }
  }
}

Status PostgresStore::renewIncarnation() {
  std::string fresh = randomHex(16);
  WriteBatch batch;
  batch.put(Column::kMeta, kIncarnationKey, fresh);
  CS_RETURN_IF_ERROR(commit(batch, Durability::kSynced));
  incarnation_id_ = std::move(fresh);
  return Status::ok();
}

}  // namespace

std::string redactedUrl(const std::string& url) {
  const auto scheme = url.find("://");
  const auto at = url.find('@');
  if (scheme == std::string::npos || at == std::string::npos || at < scheme) return url;
  const auto colon = url.find(':', scheme + 3);
  if (colon == std::string::npos || colon > at) return url;
  return url.substr(0, colon) + ":***" + url.substr(at);
}

bool isPostgresUrl(std::string_view location) {
  return location.rfind("postgresql://", 0) == 0 || location.rfind("postgres://", 0) == 0;
}

Result<std::unique_ptr<Store>> openPostgresStore(const std::string& url, const PostgresOptions& options) {
  if (sodium_init() < 0) return Status::error(ErrorCode::kInternal, "libsodium failed to initialise");
  if (!isPostgresUrl(url)) {
    return Status::error(ErrorCode::kInvalidArgument,
                         "not a PostgreSQL URL: " + redactedUrl(url) + " (postgresql://USER@HOST[:PORT]/DB)");
  }
  auto store = std::make_unique<PostgresStore>(url, options);
  CS_RETURN_IF_ERROR(store->init());
  return std::unique_ptr<Store>(std::move(store));
}

Result<std::unique_ptr<Store>> openStoreAt(const std::string& location, const StoreOptions& options) {
  if (isPostgresUrl(location)) return openPostgresStore(location);
  return Store::open(location, options);
}

}  // namespace communesync::storage
