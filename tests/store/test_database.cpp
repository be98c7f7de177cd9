// Connections and the pool against a real server (the process's TestPostgres cluster).
#include "postgres_fixture.hpp"
#include "store/database.hpp"
#include "store/migrations.hpp"
#include "store_test_helpers.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <thread>
#include <vector>

#include <pqxx/nontransaction>

using namespace gatehouse::host::store;
using gatehouse::host::Result;
using gatehouse::test::contains;
using gatehouse::test::TestPostgres;

TEST_CASE("quote_identifier makes a hostile name a plain table name") {
  Database db(TestPostgres::instance().fresh_database("quote identifier"));
  REQUIRE(migrate(db).ok());
  const std::string hostile = "x\"; DROP TABLE handlers; --";

  auto written = db.with_transaction([&](pqxx::work& txn) {
    const std::string table = quote_identifier(txn.conn(), hostile);
    txn.exec("CREATE TABLE " + table + " (value text)");
    txn.exec("INSERT INTO " + table + " VALUES ('literal')");
  });
  REQUIRE(written.ok());

  auto read = db.with_transaction([&](pqxx::work& txn) {
    const auto names = txn.exec_params("SELECT count(*) FROM pg_tables WHERE tablename = $1", hostile);
    const auto value = txn.exec("SELECT value FROM " + quote_identifier(txn.conn(), hostile));
    const auto handlers = txn.exec("SELECT count(*) FROM pg_tables WHERE tablename = 'handlers'");
    return std::to_string(names[0][0].as<int>()) + "/" + value[0][0].as<std::string>() + "/" +
           std::to_string(handlers[0][0].as<int>());
  });
  REQUIRE(read.ok());
  CHECK(read.value() == "1/literal/1");  // the table exists under that exact name; handlers survived
}

TEST_CASE("a connection that cannot be made is database_unavailable with a sentence") {
  SECTION("no server behind the socket") {
    Database db("host=/nonexistent-gatehouse-socket port=5432 dbname=x user=postgres connect_timeout=5");
    auto pinged = db.ping();
    REQUIRE_FALSE(pinged.ok());
    CHECK(pinged.error().code == "database_unavailable");
    CHECK(contains(pinged.error().message, "cannot connect to the database: "));
    CHECK(contains(pinged.error().message, "/nonexistent-gatehouse-socket"));
    CHECK_FALSE(contains(pinged.error().message, "\n"));
  }
  SECTION("a malformed connection string") {
    Database db("nonsense_option=1");
    auto pinged = db.ping();
    REQUIRE_FALSE(pinged.ok());
    CHECK(pinged.error().code == "database_unavailable");
    CHECK(contains(pinged.error().message, "cannot connect to the database: "));
    CHECK(contains(pinged.error().message, "nonsense_option"));
  }
  SECTION("a database that does not exist") {
    Database db(TestPostgres::instance().cluster().connection_string_for("no_such_database"));
    auto pinged = db.ping();
    REQUIRE_FALSE(pinged.ok());
    CHECK(pinged.error().code == "database_unavailable");
    CHECK(contains(pinged.error().message, "\"no_such_database\" does not exist"));
  }
}

TEST_CASE("a refused statement is database_error with its SQLSTATE") {
  Database db(TestPostgres::instance().fresh_database("sqlstate"));
  auto result = db.with_transaction([](pqxx::work& txn) { txn.exec("SELECT * FROM missing_table"); });
  REQUIRE_FALSE(result.ok());
  CHECK(result.error().code == "database_error");
  CHECK(sqlstate_of(result.error()) == "42P01");
  CHECK(contains(result.error().message, "the database refused a statement (SQLSTATE 42P01): "));
  CHECK(contains(result.error().message, "\"missing_table\" does not exist"));
  // The connection went back to the pool in a usable state.
  CHECK(db.ping().ok());
}

TEST_CASE("with_transaction commits values and rolls back errors") {
  Database db(TestPostgres::instance().fresh_database("transactions"));
  REQUIRE(db.with_transaction([](pqxx::work& txn) { txn.exec("CREATE TABLE t (n int)"); }).ok());

  auto refused = db.with_transaction([](pqxx::work& txn) -> Result<int> {
    txn.exec("INSERT INTO t VALUES (1)");
    return gatehouse::host::make_error(gatehouse::host::ErrorCode::failed_precondition, "the caller changed its mind");
  });
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.error().code == "failed_precondition");

  auto thrown = db.with_transaction([](pqxx::work& txn) {
    txn.exec("INSERT INTO t VALUES (2)");
    throw std::runtime_error("boom");
  });
  REQUIRE_FALSE(thrown.ok());
  CHECK(thrown.error().code == "internal_error");
  CHECK(thrown.error().message == "a database callback failed: boom");

  auto kept = db.with_transaction([](pqxx::work& txn) {
    txn.exec("INSERT INTO t VALUES (3)");
    return 3;
  });
  REQUIRE(kept.ok());
  CHECK(kept.value() == 3);

  auto rows = db.with_transaction([](pqxx::work& txn) { return txn.exec("SELECT string_agg(n::text, ',') FROM t")[0][0].as<std::string>(); });
  CHECK(rows.value() == "3");
}

TEST_CASE("the pool serves many threads with few connections and drops broken ones") {
  const std::string url = TestPostgres::instance().fresh_database("pool");
  Database db(url, DatabaseOptions{3, std::chrono::seconds(30)});
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 20; ++i) {
        auto r = db.with_transaction([](pqxx::work& txn) { return txn.exec("SELECT pg_backend_pid()")[0][0].as<int>(); });
        if (!r.ok()) ++failures;
      }
    });
  }
  for (auto& t : threads) t.join();
  CHECK(failures == 0);

  Database observer(TestPostgres::instance().maintenance_connection_string());
  auto backends = db.with_connection([](pqxx::connection& conn) {
    pqxx::nontransaction q(conn);
    return q.exec("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()")[0][0].as<int>();
  });
  REQUIRE(backends.ok());
  CHECK(backends.value() <= 3);

  // Kill the backend behind a pooled connection: one call may fail as unavailable, then the pool recovers.
  auto pid = db.with_connection([](pqxx::connection& conn) { return conn.backendpid(); });
  REQUIRE(pid.ok());
  auto killed = observer.with_transaction([&](pqxx::work& txn) {
    return txn.exec_params("SELECT pg_terminate_backend($1)", pid.value())[0][0].as<bool>();
  });
  REQUIRE(killed.value());
  int unavailable = 0;
  for (int i = 0; i < 6; ++i) {
    auto r = db.ping();
    if (!r.ok()) {
      CHECK(r.error().code == "database_unavailable");
      ++unavailable;
    }
  }
  CHECK(unavailable <= 1);
  CHECK(db.ping().ok());
}

TEST_CASE("the pool answers database_unavailable when no connection frees up in time") {
  Database db(TestPostgres::instance().fresh_database("exhausted"), DatabaseOptions{1, std::chrono::milliseconds(100)});
  auto held = db.acquire();
  REQUIRE(held.ok());
  auto waited = db.ping();
  REQUIRE_FALSE(waited.ok());
  CHECK(waited.error().code == "database_unavailable");
  CHECK(waited.error().message == "no database connection became free within 100 ms (all 1 are in use)");
}

TEST_CASE("conninfo quotes values the way libpq reads them") {
  CHECK(conninfo({{"host", "/a b/it's"}, {"dbname", "x\\y"}}) == "host='/a b/it\\'s' dbname='x\\\\y'");
}
