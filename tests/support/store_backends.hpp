// The store backends a test runs on, as a test parameter: RocksDB in a scratch folder, and
// PostgreSQL in scratch databases of the cluster the test run starts (tools/scripts/
// postgres-scratch.sh, the CTest fixture Postgres.ScratchClusterStarts; its URL built in as
// COMMUNESYNC_TEST_POSTGRES, or from the environment variable of that name, which wins). When the
// cluster cannot be reached the PostgreSQL cases are skipped, except under CI=true, where they fail.
#pragma once

#include <gtest/gtest.h>
#include <libpq-fe.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "communesync/storage/postgres_store.hpp"
#include "communesync/storage/store.hpp"
#include "temp_dir.hpp"

namespace communesync::testing {

//! kPostgresTwoServers: PostgreSQL, and the test's server is two servers on the one database
//! (ServerHarness: each url() names the next, so a device's syncs go to one, then the other).
enum class Backend { kRocksDb, kPostgres, kPostgresTwoServers };

inline std::string backendName(const ::testing::TestParamInfo<Backend>& info) {
  switch (info.param) {
    case Backend::kRocksDb:
      return "RocksDb";
    case Backend::kPostgres:
      return "Postgres";
    case Backend::kPostgresTwoServers:
      return "PostgresTwoServers";
  }
  return "?";
}

inline bool onPostgres(Backend backend) {
  return backend != Backend::kRocksDb;
}

inline const auto kBothBackends = ::testing::Values(Backend::kRocksDb, Backend::kPostgres);
//! The end-to-end suites that go through ServerHarness run on two servers as well.
inline const auto kEveryServerSetup =
    ::testing::Values(Backend::kRocksDb, Backend::kPostgres, Backend::kPostgresTwoServers);

//! The scratch cluster's URL (to its "postgres" database), or "" when the run has none.
inline std::string postgresAdminUrl() {
  if (const char* url = std::getenv("COMMUNESYNC_TEST_POSTGRES"); url != nullptr) return url;
#ifdef COMMUNESYNC_TEST_POSTGRES
  return COMMUNESYNC_TEST_POSTGRES;
#else
  return "";
#endif
}

//! Runs one statement on the scratch cluster's admin database; "" or the error.
inline std::string postgresAdmin(const std::string& sql) {
  PGconn* pg = PQconnectdb(postgresAdminUrl().c_str());
  std::string error;
  if (PQstatus(pg) != CONNECTION_OK) {
    error = PQerrorMessage(pg);
  } else {
    PGresult* res = PQexec(pg, sql.c_str());
    if (PQresultStatus(res) != PGRES_COMMAND_OK && PQresultStatus(res) != PGRES_TUPLES_OK)
      error = PQresultErrorMessage(res);
    PQclear(res);
  }
  PQfinish(pg);
  return error;
}

//! The stores of one test on one backend: each name is a folder or a database of its own, made on
//! first use and removed with this object.
class ScratchStores {
 public:
  explicit ScratchStores(Backend backend) : backend_(backend) {}
  ~ScratchStores() {
    for (const auto& db : databases_) (void)postgresAdmin("DROP DATABASE IF EXISTS " + db + " WITH (FORCE)");
  }
  ScratchStores(const ScratchStores&) = delete;
  ScratchStores& operator=(const ScratchStores&) = delete;

  Backend backend() const { return backend_; }

  //! Whether the backend is there; call from a test's SetUp and GTEST_SKIP when not (a PostgreSQL
  //! case without a scratch cluster, outside CI).
  static bool available(Backend backend) {
    if (!onPostgres(backend)) return true;
    const auto error = postgresAdminUrl().empty() ? std::string("no cluster configured") : postgresAdmin("SELECT 1");
    if (error.empty()) return true;
    const char* ci = std::getenv("CI");
    EXPECT_FALSE(ci != nullptr && std::string(ci) == "true")
        << "CI runs the PostgreSQL cases, and the scratch cluster cannot be reached (the CTest fixture "
           "Postgres.ScratchClusterStarts starts it): "
        << error;
    return false;
  }

  //! Where store `name` is: a folder, or a database URL (the database made now if new).
  std::string location(const std::string& name) {
    if (!onPostgres(backend_)) return (dir_ / name).string();
    static std::atomic<unsigned> counter{0};
    const std::string db = "cs_" + std::to_string(::getpid()) + "_" + std::to_string(counter++) + "_" + name;
    for (std::size_t i = 0; i < names_.size(); ++i) {
      if (names_[i] == name) return urlOf(databases_[i]);
    }
    const auto error = postgresAdmin("CREATE DATABASE " + db);
    EXPECT_EQ(error, "") << "creating a scratch database";
    names_.push_back(name);
    databases_.push_back(db);
    return urlOf(db);
  }

  //! PostgreSQL: the database of store `name` (made by location()), for the admin's statements.
  std::string database(const std::string& name) const {
    for (std::size_t i = 0; i < names_.size(); ++i) {
      if (names_[i] == name) return databases_[i];
    }
    return {};
  }

  //! PostgreSQL: store `to` becomes a copy of store `from` (whose users must have gone: a stopped
  //! server), as a backup taken then; `to` is replaced if it exists.
  void copy(const std::string& from, const std::string& to) {
    const auto source = databaseOf(from);
    (void)location(to);
    const auto target = databaseOf(to);
    EXPECT_EQ(postgresAdmin("DROP DATABASE IF EXISTS " + target + " WITH (FORCE)"), "");
    EXPECT_EQ(postgresAdmin("CREATE DATABASE " + target + " TEMPLATE " + source), "") << "copying " << from;
  }
  //! PostgreSQL: store `name` emptied (a new database of the same name).
  void wipe(const std::string& name) {
    const auto db = databaseOf(name);
    EXPECT_EQ(postgresAdmin("DROP DATABASE IF EXISTS " + db + " WITH (FORCE)"), "");
    EXPECT_EQ(postgresAdmin("CREATE DATABASE " + db), "");
  }

  Result<std::unique_ptr<storage::Store>> open(const std::string& name, const storage::StoreOptions& options = {}) {
    return storage::openStoreAt(location(name), options);
  }

  const std::filesystem::path& dir() const { return dir_.path(); }

 private:
  std::string databaseOf(const std::string& name) {
    (void)location(name);
    for (std::size_t i = 0; i < names_.size(); ++i) {
      if (names_[i] == name) return databases_[i];
    }
    return {};
  }

  // The admin URL names the "postgres" database: postgresql:///postgres?host=...&user=...
  static std::string urlOf(const std::string& db) {
    auto url = postgresAdminUrl();
    const auto at = url.find("/postgres?");
    if (at == std::string::npos) return url;
    return url.substr(0, at) + "/" + db + url.substr(at + 9);
  }

  Backend backend_;
  TempDir dir_;
  std::vector<std::string> names_;
  std::vector<std::string> databases_;
};

//! A test run on each backend: a scratch folder `dir` and the backend's `stores` (skipped when
//! the backend is not there: see ScratchStores::available). Instantiate it with kBothBackends.
class OnEachStore : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    if (!ScratchStores::available(GetParam())) GTEST_SKIP() << "no PostgreSQL cluster for this run";
  }
  TempDir dir;
  ScratchStores stores{GetParam()};
};

}  // namespace communesync::testing
