// The revoke rule with the postgres provider (issue 13 item 1): a revoke is confirmed only by a handler that
// holds the access, and the access is checked where it lives, in pg_auth_members. The granting handler's login
// is locked out (NOLOGIN) so that handler turns unhealthy; another postgres handler that declares no shared
// backend is never asked, the membership stays, and the grant is revoke_failing until the login works again.
// A handler that declares the same backend may take the revoke over, and the membership is then gone.
#include "daemon_checks.hpp"
#include "daemon_fixture.hpp"
#include "postgres_fixture.hpp"
#include "postgres_target.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

using gatehouse::test::create_role;
using gatehouse::test::apply_document;
using gatehouse::test::DaemonFixture;
using gatehouse::test::database_of;
using gatehouse::test::eventually;
using gatehouse::test::exec;
using gatehouse::test::grant_of;
using gatehouse::test::is_member;
using gatehouse::test::json_output;
using gatehouse::test::last_change_reason;
using gatehouse::test::require_healthy;
using nlohmann::json;

namespace {

// Locks `login` out and ends its sessions, so the handler using it can neither check its health nor revoke.
void lock_out(pqxx::connection& conn, const std::string& login) {
  pqxx::nontransaction txn(conn);
  txn.exec("ALTER ROLE " + conn.quote_name(login) + " NOLOGIN");
  txn.exec_params("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = $1", login);
}

void let_in(pqxx::connection& conn, const std::string& login) {
  exec(conn, "ALTER ROLE " + conn.quote_name(login) + " LOGIN");
}

}  // namespace

TEST_CASE("postgres: a revoke is confirmed only by a handler holding the membership (pg_auth_members)",
          "[daemon][postgres][revoke]") {
  auto& cluster = gatehouse::test::TestPostgres::instance();
  const std::string target_dsn = cluster.fresh_database("pg_revoke_rule_target");
  const std::string database = database_of(target_dsn);
  pqxx::connection admin(target_dsn);
  // Cluster-wide names with this test's own prefix. Three logins, one per handler, each with ADMIN OPTION on
  // the grantable role; NOINHERIT keeps them from using it themselves.
  create_role(admin, "rr_readers", "NOLOGIN");
  for (const char* login : {"rr_gh_a", "rr_gh_b", "rr_gh_c"}) {
    create_role(admin, login, "LOGIN NOINHERIT");
    let_in(admin, login);  // a section before this one may have left it locked out
    exec(admin, std::string("GRANT rr_readers TO ") + login + " WITH ADMIN OPTION");
  }
  create_role(admin, "rr-alice@example.com", "LOGIN");

  gatehouse::test::DaemonOptions options;
  options.env = {{"PG_DSN_A", target_dsn + " user='rr_gh_a'"},
                 {"PG_DSN_B", target_dsn + " user='rr_gh_b'"},
                 {"PG_DSN_C", target_dsn + " user='rr_gh_c'"}};
  options.extra_config = "inventory:\n  interval_seconds: 0\n";
  DaemonFixture d("daemon_pg_revoke_rule", options);

  // pg-a grants (priority 100). pg-b (50) is routed too but declares no backend, so it is not interchangeable
  // with pg-a for revokes, even though here it could reach the same server. pg-c declares pg-a's backend.
  apply_document(d, "pg.yaml", R"(
handlers:
  - id: pg-a
    provider: gatehouse/postgres@1.0.0
    backend: main-cluster
    config: {dsn: env:PG_DSN_A, grantable: "^rr_readers$"}
  - id: pg-b
    provider: gatehouse/postgres@1.0.0
    config: {dsn: env:PG_DSN_B, grantable: "^rr_readers$"}
target_groups:
  - {id: rr-databases, kind: gatehouse/postgres@1.0.0/DatabaseRole, max_duration: 1h}
routes:
  - {target_group: rr-databases, handler: pg-a, priority: 100}
  - {target_group: rr-databases, handler: pg-b, priority: 50}
)");
  require_healthy(d, "pg-a");
  require_healthy(d, "pg-b");

  auto granted = json_output(d.admin({"grant", "request", "--target-group", "rr-databases", "--subject",
                                "rr-alice@example.com", "--target", "database=" + database, "--target",
                                "role=rr_readers", "--duration", "10m", "--wait", "-o", "json"}));
  REQUIRE(granted["status"] == "active");
  REQUIRE(granted["handler"] == "pg-a");
  const std::string id = granted["id"];
  REQUIRE(is_member(admin, "rr_readers", "rr-alice@example.com"));

  lock_out(admin, "rr_gh_a");
  auto down = d.admin({"handler", "check", "pg-a"});
  INFO(down.out << down.err);
  REQUIRE_THAT(down.out, Catch::Contains("is unhealthy"));

  SECTION("no handler of another backend confirms it: the membership stays until pg-a can revoke it") {
    auto revoked = d.admin({"grant", "revoke", id, "--reason", "done", "--wait", "--wait-seconds", "60"});
    INFO(revoked.out << revoked.err << d.log());
    CHECK(revoked.exit_code == 3);
    CHECK_THAT(revoked.out, Catch::Contains("revoke_failing: handler 'pg-a'"));
    json g = grant_of(d, id);
    CHECK(g["status"] == "revoking");
    CHECK(g["revoke_failing"] == true);
    for (const auto& h : g["history"]) CHECK(h["handler"] != "pg-b");  // never asked
    CHECK(is_member(admin, "rr_readers", "rr-alice@example.com"));     // the access is live, and flagged so

    let_in(admin, "rr_gh_a");
    REQUIRE(eventually([&] { return grant_of(d, id)["status"] == "revoked"; }));
    CHECK_FALSE(is_member(admin, "rr_readers", "rr-alice@example.com"));
    g = grant_of(d, id);
    CHECK(g["revoke_failing"] == false);
    CHECK_THAT(last_change_reason(g),
               Catch::StartsWith("revoked by handler 'pg-a' (the granting handler)"));
  }

  SECTION("a handler declaring the same backend takes the revoke over and the membership is gone") {
    apply_document(d, "pg-c.yaml", R"(
handlers:
  - id: pg-c
    provider: gatehouse/postgres@1.0.0
    backend: main-cluster
    config: {dsn: env:PG_DSN_C, grantable: "^rr_readers$"}
)");
    auto revoked = d.admin({"grant", "revoke", id, "--reason", "done", "--wait", "--wait-seconds", "60"});
    INFO(revoked.out << revoked.err << d.log());
    CHECK(revoked.exit_code == 0);
    CHECK_THAT(revoked.out, Catch::Contains("is revoked"));
    CHECK_FALSE(is_member(admin, "rr_readers", "rr-alice@example.com"));
    const json g = grant_of(d, id);
    CHECK_THAT(last_change_reason(g),
               Catch::StartsWith("revoked by handler 'pg-c' (same backend 'main-cluster' as the granting handler "
                                 "'pg-a')"));
    for (const auto& h : g["history"]) CHECK(h["handler"] != "pg-b");
    let_in(admin, "rr_gh_a");
  }
}
