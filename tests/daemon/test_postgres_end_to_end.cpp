// Just-in-time database access end to end: gatehoused with the postgres provider grants a group role to a
// real login on a real PostgreSQL, and the expiry — not a person — takes it away again.
#include "daemon_checks.hpp"
#include "daemon_fixture.hpp"
#include "postgres_fixture.hpp"
#include "postgres_target.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <thread>

using gatehouse::test::apply_document;
using gatehouse::test::DaemonFixture;
using gatehouse::test::grant_of;
using gatehouse::test::database_of;
using gatehouse::test::is_member;
using gatehouse::test::require_healthy;
using nlohmann::json;

TEST_CASE("postgres provider through the daemon: GRANT on request, REVOKE at expiry", "[daemon][postgres][e2e]") {
  auto& cluster = gatehouse::test::TestPostgres::instance();
  const std::string target_dsn = cluster.fresh_database("pg_e2e_target");
  const std::string database = database_of(target_dsn);
  pqxx::connection admin(target_dsn);
  {
    pqxx::nontransaction txn(admin);
    txn.exec("CREATE ROLE app_readers NOLOGIN");
    txn.exec("CREATE ROLE admin_secret NOLOGIN");
    txn.exec("CREATE ROLE \"alice@example.com\" LOGIN");
  }

  gatehouse::test::DaemonOptions options;
  options.env = {{"PG_DSN", target_dsn + " user='postgres'"}};
  DaemonFixture d("daemon_postgres", options);
  apply_document(d, "pg.yaml", R"(
handlers:
  - id: pg-main
    provider: gatehouse/postgres@1.0.0
    config: {dsn: env:PG_DSN, grantable: "^app_"}
target_groups:
  - id: databases
    kind: gatehouse/postgres@1.0.0/DatabaseRole
    max_duration: 1h
routes:
  - {target_group: databases, handler: pg-main, priority: 100}
)");
  require_healthy(d, "pg-main");
  auto synced = d.admin({"sync", "run", "--handler", "pg-main"});
  INFO(synced.out << synced.err);
  REQUIRE(synced.exit_code == 0);

  // A role the inventory does not know is refused before any provider call, naming the property.
  auto unknown = d.admin({"grant", "request", "--target-group", "databases", "--subject", "alice@example.com",
                          "--target", "database=" + database, "--target", "role=app_nobody", "--duration", "5m"});
  CHECK(unknown.exit_code == 3);
  CHECK_THAT(unknown.err, Catch::Contains("/target/role"));

  // A role outside the grantable pattern exists, so it passes the inventory and the provider refuses it.
  auto secret = d.admin({"grant", "request", "--target-group", "databases", "--subject", "alice@example.com",
                         "--target", "database=" + database, "--target", "role=admin_secret", "--duration", "5m",
                         "--wait"});
  CHECK(secret.exit_code == 3);
  CHECK_THAT(secret.out, Catch::Contains("failed"));
  CHECK_FALSE(is_member(admin, "admin_secret", "alice@example.com"));

  CHECK_FALSE(is_member(admin, "app_readers", "alice@example.com"));
  auto granted = d.admin({"grant", "request", "--target-group", "databases", "--subject", "alice@example.com",
                          "--target", "database=" + database, "--target", "role=app_readers", "--duration", "4s",
                          "--wait", "-o", "json"});
  INFO(granted.out << granted.err << d.log());
  REQUIRE(granted.exit_code == 0);
  const auto grant = json::parse(granted.out);
  CHECK(grant["status"] == "active");
  CHECK(is_member(admin, "app_readers", "alice@example.com"));

  // Nobody revokes it: at ends_at the engine does.
  json now = grant;
  for (int i = 0; i < 300 && now["status"] != "expired"; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    now = grant_of(d, grant["id"]);
  }
  INFO(now.dump(2));
  REQUIRE(now["status"] == "expired");
  CHECK_FALSE(is_member(admin, "app_readers", "alice@example.com"));
  // The dsn never leaves the daemon: not in API output, not in its log.
  auto handler = d.admin({"handler", "show", "pg-main", "-o", "json"});
  CHECK(json::parse(handler.out)["config"]["dsn"] == "env:PG_DSN");
  CHECK(d.log().find(database_of(target_dsn) + "' user='postgres'") == std::string::npos);
}
