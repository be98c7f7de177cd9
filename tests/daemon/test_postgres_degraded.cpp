// The postgres provider's privilege edges through the daemon (issue 19): a handler whose login lacks ADMIN
// OPTION on one new role is degraded, not unhealthy (its routes serve, that role is refused at request time
// with the reason); `target-group options` leaves out roles the provider would refuse; and a request made
// before the first inventory sync says in its history that the inventory check was skipped.
#include "daemon_checks.hpp"
#include "daemon_fixture.hpp"
#include "postgres_fixture.hpp"
#include "postgres_target.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>

using gatehouse::test::apply_document;
using gatehouse::test::DaemonFixture;
using gatehouse::test::create_role;
using gatehouse::test::database_of;
using gatehouse::test::exec;
using gatehouse::test::is_member;
using nlohmann::json;

TEST_CASE("postgres through the daemon: degraded handler, refused predefined roles, first-sync note",
          "[daemon][postgres][degraded]") {
  auto& cluster = gatehouse::test::TestPostgres::instance();
  const std::string target_dsn = cluster.fresh_database("pg_degraded_target");
  const std::string database = database_of(target_dsn);
  pqxx::connection admin(target_dsn);
  // Role names are cluster-wide: this test's own prefix keeps it apart from the others sharing the cluster.
  create_role(admin, "dg_readers", "NOLOGIN");
  create_role(admin, "dg_wad", "NOLOGIN");
  exec(admin, "GRANT pg_write_all_data TO dg_wad");
  create_role(admin, "dg_gatehouse", "LOGIN NOINHERIT");
  exec(admin, "GRANT dg_readers TO dg_gatehouse WITH ADMIN OPTION");
  exec(admin, "GRANT dg_wad TO dg_gatehouse WITH ADMIN OPTION");
  create_role(admin, "dg-alice@example.com", "LOGIN");
  create_role(admin, "dg-bob@example.com", "LOGIN");

  gatehouse::test::DaemonOptions options;
  options.env = {{"PG_DSN", target_dsn + " user='dg_gatehouse'"}};
  options.extra_config = "inventory:\n  interval_seconds: 0\n";  // the test decides when the inventory syncs
  DaemonFixture d("daemon_pg_degraded", options);
  apply_document(d, "pg.yaml", R"(
handlers:
  - id: pg-dg
    provider: gatehouse/postgres@1.0.0
    config: {dsn: env:PG_DSN, grantable: "^dg_"}
target_groups:
  - id: dg-databases
    kind: gatehouse/postgres@1.0.0/DatabaseRole
    max_duration: 1h
routes:
  - {target_group: dg-databases, handler: pg-dg, priority: 100}
)");
  auto checked = d.admin({"handler", "check", "pg-dg"});
  INFO(checked.out << checked.err);
  REQUIRE(checked.exit_code == 0);
  CHECK_THAT(checked.out, Catch::Contains("is healthy") && !Catch::Contains("warning"));  // NOINHERIT

  const std::vector<std::string> request = {"grant", "request", "--target-group", "dg-databases", "--subject",
                                            "dg-alice@example.com", "--target", "database=" + database};
  auto with = [&](std::vector<std::string> more) {
    auto args = request;
    args.insert(args.end(), more.begin(), more.end());
    return d.admin(args);
  };

  SECTION("before the first sync, the history says the inventory check was skipped") {
    auto granted = with({"--target", "role=dg_readers", "--duration", "5m", "--wait", "-o", "json"});
    INFO(granted.out << granted.err);
    REQUIRE(granted.exit_code == 0);
    const auto id = json::parse(granted.out)["id"].get<std::string>();
    auto shown = d.admin({"grant", "show", id});
    CHECK_THAT(shown.out, Catch::Contains("inventory check skipped for database, role") ||
                              Catch::Contains("inventory check skipped for role, database"));
    CHECK(d.admin({"grant", "revoke", id}).exit_code == 0);
  }

  SECTION("options leave out roles the provider refuses; a new role without ADMIN OPTION degrades the handler") {
    REQUIRE(d.admin({"sync", "run", "--handler", "pg-dg"}).exit_code == 0);
    auto offered = d.admin({"target-group", "options", "dg-databases", "-o", "json"});
    INFO(offered.out << offered.err);
    REQUIRE(offered.exit_code == 0);
    std::vector<std::string> roles;
    const json options = json::parse(offered.out);  // named: a range-for over a temporary's member dangles
    for (const auto& v : options["properties"]["role"]["values"]) roles.push_back(v["id"].get<std::string>());
    CHECK(std::find(roles.begin(), roles.end(), "dg_readers") != roles.end());
    CHECK(std::find(roles.begin(), roles.end(), "dg_wad") == roles.end());
    CHECK(std::find(roles.begin(), roles.end(), "pg_execute_server_program") == roles.end());
    CHECK(std::find(roles.begin(), roles.end(), "pg_write_all_data") == roles.end());
    auto wad = with({"--target", "role=dg_wad", "--duration", "5m", "--wait"});
    CHECK(wad.exit_code == 3);
    CHECK_FALSE(is_member(admin, "dg_wad", "dg-alice@example.com"));

    // A grant active before the handler degrades...
    auto before = d.admin({"grant", "request", "--target-group", "dg-databases", "--subject", "dg-bob@example.com",
                           "--target", "database=" + database, "--target", "role=dg_readers", "--duration", "5m",
                           "--wait", "-o", "json"});
    INFO(before.out << before.err);
    REQUIRE(before.exit_code == 0);
    REQUIRE(is_member(admin, "dg_readers", "dg-bob@example.com"));

    // The DBA adds a role matching grantable without ADMIN OPTION for gatehouse.
    create_role(admin, "dg_new", "NOLOGIN");
    auto degraded = d.admin({"handler", "check", "pg-dg"});
    INFO(degraded.out << degraded.err);
    CHECK(degraded.exit_code == 0);
    CHECK_THAT(degraded.out, Catch::Contains("is degraded") && Catch::Contains("'dg_new'"));

    // ...is revoked at once all the same: the unrelated role delays nothing (issue 19 item 1).
    auto revoked = d.admin({"grant", "revoke", json::parse(before.out)["id"].get<std::string>(), "--wait"});
    INFO(revoked.out << revoked.err);
    CHECK(revoked.exit_code == 0);
    CHECK_THAT(revoked.out, Catch::Contains("is revoked"));
    CHECK_FALSE(is_member(admin, "dg_readers", "dg-bob@example.com"));
    auto shown = d.admin({"handler", "show", "pg-dg"});
    CHECK_THAT(shown.out, Catch::Contains("degraded") && Catch::Contains("Refused    role=dg_new") &&
                              Catch::Contains("ADMIN OPTION"));
    REQUIRE(d.admin({"sync", "run", "--handler", "pg-dg"}).exit_code == 0);  // dg_new is in the inventory now

    // Its routes stay usable: another role is granted at once.
    auto granted = with({"--target", "role=dg_readers", "--duration", "5m", "--wait", "-o", "json"});
    INFO(granted.out << granted.err);
    REQUIRE(granted.exit_code == 0);
    CHECK(json::parse(granted.out)["status"] == "active");
    CHECK(is_member(admin, "dg_readers", "dg-alice@example.com"));
    CHECK(d.admin({"grant", "revoke", json::parse(granted.out)["id"].get<std::string>(), "--wait"}).exit_code == 0);
    CHECK_FALSE(is_member(admin, "dg_readers", "dg-alice@example.com"));

    // The new role is refused at request time, with the provider's reason.
    auto refused = with({"--target", "role=dg_new", "--duration", "5m"});
    CHECK(refused.exit_code == 3);
    CHECK_THAT(refused.err, Catch::Contains("pg-dg") && Catch::Contains("degraded") && Catch::Contains("dg_new") &&
                                Catch::Contains("ADMIN OPTION"));
    CHECK_FALSE(is_member(admin, "dg_new", "dg-alice@example.com"));

    // Fixed by the DBA: healthy again, and the role is granted.
    exec(admin, "GRANT dg_new TO dg_gatehouse WITH ADMIN OPTION");
    auto healthy = d.admin({"handler", "check", "pg-dg"});
    CHECK_THAT(healthy.out, Catch::Contains("is healthy"));
    auto now = with({"--target", "role=dg_new", "--duration", "5m", "--wait"});
    INFO(now.out << now.err);
    CHECK(now.exit_code == 0);
    CHECK(is_member(admin, "dg_new", "dg-alice@example.com"));
    exec(admin, "REVOKE dg_new FROM dg_gatehouse");
  }
}
