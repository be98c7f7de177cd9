// Numbered migrations: applied once, in order, under an advisory lock; newer databases refused.
#include "postgres_fixture.hpp"
#include "store/database.hpp"
#include "store/migrations.hpp"
#include "store_test_helpers.hpp"

#include <catch2/catch.hpp>

#include <thread>

using namespace gatehouse::host::store;
using gatehouse::host::Result;
using gatehouse::test::contains;
using gatehouse::test::TestPostgres;

namespace {

int count(Database& db, const std::string& sql) {
  auto n = db.with_transaction([&](pqxx::work& txn) { return txn.exec(sql)[0][0].as<int>(); });
  INFO((n.ok() ? std::string() : n.error().describe()));
  REQUIRE(n.ok());
  return n.value();
}

Result<void> run(Database& db, const std::string& sql) {
  return db.with_transaction([&](pqxx::work& txn) { txn.exec(sql); });
}

}  // namespace

TEST_CASE("embedded migrations are numbered from 1 and sorted") {
  const auto& all = embedded_migrations();
  REQUIRE_FALSE(all.empty());
  CHECK(all.front().version == 1);
  CHECK(all.front().name == "control_plane");
  CHECK(contains(all.front().sql, "CREATE TABLE handlers"));
  for (std::size_t i = 1; i < all.size(); ++i) CHECK(all[i - 1].version < all[i].version);
  CHECK(latest_schema_version() == all.back().version);
}

TEST_CASE("migrate applies every migration once and a second run is a no-op") {
  Database db(TestPostgres::instance().fresh_database("migrate once"));
  CHECK(schema_version(db).value() == 0);

  auto first = migrate(db);
  INFO((first.ok() ? std::string() : first.error().describe()));
  REQUIRE(first.ok());
  CHECK(first.value() == latest_schema_version());
  auto second = migrate(db);
  REQUIRE(second.ok());
  CHECK(second.value() == first.value());
  CHECK(schema_version(db).value() == first.value());
  CHECK(count(db, "SELECT count(*) FROM schema_migrations") == static_cast<int>(embedded_migrations().size()));
  CHECK(count(db, "SELECT count(*) FROM schema_migrations WHERE version = 1 AND name = 'control_plane' "
                  "AND applied_at <= now()") == 1);

  SECTION("the control-plane tables enforce their rules") {
    for (const char* table : {"providers", "handlers", "target_groups", "routes", "audit_log"})
      CHECK(count(db, std::string("SELECT count(*) FROM pg_tables WHERE tablename = '") + table + "'") == 1);

    REQUIRE(run(db, "INSERT INTO handlers (id, provider_publisher, provider_name, provider_version, config) "
                    "VALUES ('pg-prod-1', 'acme', 'postgres', '1.0.0', '{\"token\": \"env:PG_TOKEN\"}')").ok());
    CHECK(count(db, "SELECT count(*) FROM handlers WHERE health_status = 'unknown'") == 1);

    auto bad_id = run(db, "INSERT INTO handlers (id, provider_publisher, provider_name, provider_version, config) "
                          "VALUES ('Bad_Id', 'acme', 'postgres', '1.0.0', '{}')");
    REQUIRE_FALSE(bad_id.ok());
    CHECK(bad_id.error().code == "database_error");
    CHECK(sqlstate_of(bad_id.error()) == "23514");  // check_violation

    auto bad_health = run(db, "UPDATE handlers SET health_status = 'sick'");
    CHECK(sqlstate_of(bad_health.error()) == "23514");

    REQUIRE(run(db, "INSERT INTO target_groups (id, provider_publisher, provider_name, provider_version, kind, "
                    "kind_schema, max_duration_seconds) VALUES ('prod-dbs', 'acme', 'postgres', '1.0.0', "
                    "'Database', '{}', 3600)").ok());
    CHECK(sqlstate_of(run(db, "INSERT INTO target_groups (id, provider_publisher, provider_name, "
                              "provider_version, kind, kind_schema, max_duration_seconds) VALUES "
                              "('zero', 'a', 'b', '1', 'K', '{}', 0)").error()) == "23514");

    REQUIRE(run(db, "INSERT INTO routes (target_group_id, handler_id, kind, priority) "
                    "VALUES ('prod-dbs', 'pg-prod-1', 'Database', 100)").ok());
    CHECK(sqlstate_of(run(db, "UPDATE routes SET priority = 1000").error()) == "23514");
    CHECK(sqlstate_of(run(db, "INSERT INTO routes (target_group_id, handler_id, kind, priority) "
                              "VALUES ('nope', 'pg-prod-1', 'Database', 1)").error()) == "23503");
    CHECK(count(db, "SELECT count(*) FROM routes WHERE NOT valid") == 1);
    REQUIRE(run(db, "DELETE FROM handlers WHERE id = 'pg-prod-1'").ok());
    CHECK(count(db, "SELECT count(*) FROM routes") == 0);  // routes go with their handler

    REQUIRE(run(db, "INSERT INTO audit_log (actor, action, object, outcome) "
                    "VALUES ('ops@example.com', 'handler.create', 'pg-prod-1', 'ok')").ok());
    CHECK(count(db, "SELECT count(*) FROM audit_log WHERE id > 0 AND at <= now() AND details = '{}'") == 1);

    CHECK(count(db, "SELECT count(*) FROM pg_description d JOIN pg_class c ON c.oid = d.objoid "
                    "WHERE c.relname = 'handlers' AND d.objsubid > 0 AND d.description LIKE '%never in clear%'") == 1);
  }
}

TEST_CASE("two concurrent migrate calls both succeed and apply each migration once") {
  const std::string url = TestPostgres::instance().fresh_database("concurrent");
  // A slow first migration keeps the race window open: without the advisory lock the second caller would
  // fail on "relation already exists" or a duplicate schema_migrations row.
  const std::vector<Migration> slow = {
      {1, "slow_table", "CREATE TABLE slow (x int); SELECT pg_sleep(0.5);"},
      {2, "after_slow", "CREATE TABLE after_slow (x int); INSERT INTO slow VALUES (1);"},
  };
  Result<int> a = 0, b = 0;
  {
    Database first(url), second(url);
    std::thread t1([&] { a = migrate(first, slow); });
    std::thread t2([&] { b = migrate(second, slow); });
    t1.join();
    t2.join();
  }
  INFO((a.ok() ? std::string() : a.error().describe()) << (b.ok() ? std::string() : b.error().describe()));
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  CHECK(a.value() == 2);
  CHECK(b.value() == 2);
  Database db(url);
  CHECK(count(db, "SELECT count(*) FROM schema_migrations") == 2);
  CHECK(count(db, "SELECT count(*) FROM slow") == 1);

  SECTION("the embedded migrations too") {
    const std::string fresh = TestPostgres::instance().fresh_database("concurrent embedded");
    Result<int> x = 0, y = 0;
    {
      Database first(fresh), second(fresh);
      std::thread t1([&] { x = migrate(first); });
      std::thread t2([&] { y = migrate(second); });
      t1.join();
      t2.join();
    }
    REQUIRE(x.ok());
    REQUIRE(y.ok());
    CHECK(x.value() == latest_schema_version());
    CHECK(y.value() == latest_schema_version());
    Database check(fresh);
    CHECK(count(check, "SELECT count(*) FROM schema_migrations") == static_cast<int>(embedded_migrations().size()));
  }
}

TEST_CASE("migrate refuses a database whose schema is newer than this gatehouse") {
  Database db(TestPostgres::instance().fresh_database("too new"));
  REQUIRE(migrate(db).ok());
  const int latest = latest_schema_version();
  REQUIRE(run(db, "INSERT INTO schema_migrations (version, name) VALUES (" + std::to_string(latest + 1) +
                      ", 'from_the_future')").ok());
  auto refused = migrate(db);
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.error().code == "schema_too_new");
  CHECK(refused.error().message == "database schema version " + std::to_string(latest + 1) +
                                       " is newer than this gatehouse (" + std::to_string(latest) +
                                       "); upgrade gatehouse");
}

TEST_CASE("a failing migration is rolled back, reported, and earlier ones stay applied") {
  Database db(TestPostgres::instance().fresh_database("broken migration"));
  const std::vector<Migration> list = {
      {2, "broken", "CREATE TABLE half_done (x int); SELECT * FROM no_such_table;"},
      {1, "fine", "CREATE TABLE fine (x int);"},
  };
  auto result = migrate(db, list);
  REQUIRE_FALSE(result.ok());
  CHECK(result.error().code == "migration_failed");
  CHECK(contains(result.error().message, "migration 0002_broken failed: the database refused a statement (SQLSTATE 42P01)"));
  CHECK(contains(result.error().message, "\"no_such_table\" does not exist"));
  CHECK(schema_version(db).value() == 1);
  CHECK(count(db, "SELECT count(*) FROM pg_tables WHERE tablename IN ('fine', 'half_done')") == 1);

  SECTION("a recorded version this binary does not know") {
    const std::vector<Migration> other = {{2, "other", "SELECT 1"}};
    auto unknown = migrate(db, other);
    REQUIRE_FALSE(unknown.ok());
    CHECK(unknown.error().code == "schema_unknown_migration");
    CHECK(contains(unknown.error().message, "database has migration 1 applied, which this gatehouse does not know"));
  }
  SECTION("duplicate versions in the list") {
    const std::vector<Migration> twice = {{1, "a", "SELECT 1"}, {1, "b", "SELECT 1"}};
    auto duplicate = migrate(db, twice);
    REQUIRE_FALSE(duplicate.ok());
    CHECK(duplicate.error().message == "migrations 0001_a and 0001_b share version 1");
  }
}
