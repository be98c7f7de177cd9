// Health: connect with the dsn and check that the login can do the handler's job, saying what is missing.
#include "pg_provider_fixture.hpp"

using namespace pg_test;

TEST_CASE("postgres is healthy with a superuser dsn and lists what it can grant") {
  Scenario pg("health_super");
  auto instance = pg_provider().create(pg.config({{"create_logins", true}}));
  const auto health = instance.check_health();
  REQUIRE(health.code == Code::ok);
  CHECK(health.result.healthy);
  CHECK_THAT(health.result.message, Catch::Contains("'postgres'") && Catch::Contains("SUPERUSER") &&
                                        Catch::Contains("'app_readers'") && Catch::Contains("'app_writers'") &&
                                        !Catch::Contains("app_escalate") && !Catch::Contains("admin_secret"));
}

TEST_CASE("postgres is healthy with a CREATEROLE login") {
  Scenario pg("health_createrole");
  pg.admin.create_role("role_manager", "LOGIN CREATEROLE");
  auto instance = pg_provider().create(pg.config({{"dsn", pg.dsn("role_manager")}, {"create_logins", true}}));
  const auto health = instance.check_health();
  CHECK(health.result.healthy);
  CHECK_THAT(health.result.message, Catch::Contains("'role_manager'"));
}

TEST_CASE("postgres is unhealthy when the server cannot be reached") {
  auto instance = pg_provider().create(
      {{"dsn", "host=/nonexistent/gatehouse-socket-dir dbname=postgres user=postgres password=" + kPasswordToken},
       {"connect_timeout_seconds", 2}});
  const auto health = instance.check_health();
  REQUIRE(health.code == Code::ok);  // the check ran; its answer is "unhealthy"
  CHECK_FALSE(health.result.healthy);
  CHECK_THAT(health.result.message, Catch::Contains("cannot connect to PostgreSQL") &&
                                        Catch::Contains("/nonexistent/gatehouse-socket-dir") &&
                                        !Catch::Contains(kPasswordToken));
}

TEST_CASE("postgres is unhealthy when the dsn names a database that does not exist") {
  Scenario pg("health_nodb");
  const std::string dsn = cluster().cluster().connection_string_for("no_such_database") + " password=" + kPasswordToken;
  auto instance = pg_provider().create({{"dsn", dsn}});
  const auto health = instance.check_health();
  CHECK_FALSE(health.result.healthy);
  CHECK_THAT(health.result.message, Catch::Contains("no_such_database") && !Catch::Contains(kPasswordToken));
}

TEST_CASE("postgres is unhealthy, saying what is missing, when the login lacks privileges") {
  Scenario pg("health_weak");
  pg.admin.create_role("weak_admin", "LOGIN");

  SECTION("no CREATEROLE and no ADMIN OPTION") {
    auto instance = pg_provider().create(pg.config({{"dsn", pg.dsn("weak_admin")}}));
    const auto health = instance.check_health();
    CHECK_FALSE(health.result.healthy);
    CHECK_THAT(health.result.message, Catch::Contains("'weak_admin'") && Catch::Contains("cannot grant") &&
                                          Catch::Contains("'app_readers'") && Catch::Contains("'app_writers'") &&
                                          Catch::Contains("ADMIN OPTION"));
  }
  SECTION("create_logins needs CREATEROLE") {
    auto instance = pg_provider().create(pg.config({{"dsn", pg.dsn("weak_admin")}, {"create_logins", true}}));
    const auto health = instance.check_health();
    CHECK_FALSE(health.result.healthy);
    CHECK_THAT(health.result.message, Catch::Contains("CREATEROLE") && Catch::Contains("create_logins"));
  }
  SECTION("ADMIN OPTION on the grantable roles is enough without create_logins") {
    pg.admin.exec("GRANT app_readers TO weak_admin WITH ADMIN OPTION");
    pg.admin.exec("GRANT app_writers TO weak_admin WITH ADMIN OPTION");
    // Narrowed to these two: other tests sharing the cluster may have created more app_ roles.
    auto instance =
        pg_provider().create(pg.config({{"dsn", pg.dsn("weak_admin")}, {"grantable", "^app_(readers|writers)$"}}));
    const auto health = instance.check_health();
    INFO(health.result.message);
    CHECK(health.result.healthy);
    CHECK_THAT(health.result.message, Catch::Contains("ADMIN OPTION"));
    // And it really is: the grant goes through.
    const auto request = grant_request("w-1", "alice@example.com", pg.target("app_readers"));
    const auto granted = instance.grant(request);
    CHECK(granted.code == Code::ok);
    CHECK(instance.revoke(revoke_request(request, granted.result.state)).code == Code::ok);
    pg.admin.clear_memberships("weak_admin");
  }
}
