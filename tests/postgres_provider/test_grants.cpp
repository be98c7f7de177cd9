// Grant and revoke against the real cluster, checked in pg_auth_members before, during and after.
#include "pg_provider_fixture.hpp"

using namespace pg_test;

namespace {
const std::string kAlice = "alice@example.com";
}

TEST_CASE("postgres grant makes the login a member, revoke removes it, both idempotent") {
  Scenario pg("grant_cycle");
  auto instance = pg_provider().create(pg.config());
  const auto request = grant_request("g-1", kAlice, pg.target("app_readers"));
  const auto before = pg.admin.memberships();
  REQUIRE_FALSE(pg.admin.is_member("app_readers", kAlice));

  const auto granted = instance.grant(request);
  REQUIRE(granted.code == Code::ok);
  CHECK(pg.admin.is_member("app_readers", kAlice));
  const auto state = parsed(granted.result.state);
  CHECK(state["database"] == pg.database);
  CHECK(state["role"] == "app_readers");
  CHECK(state["login"] == kAlice);
  CHECK(state["pre_existing"] == false);
  auto during = before;
  during.insert("app_readers <- " + kAlice);
  CHECK(pg.admin.memberships() == during);  // exactly one membership more

  const auto again = instance.grant(request);
  CHECK(again.ok());
  CHECK(again.code == Code::already_exists);
  CHECK(again.result.already_exists);
  CHECK(again.result.state == granted.result.state);
  CHECK(pg.admin.memberships() == during);

  const auto revoked = instance.revoke(revoke_request(request, granted.result.state));
  CHECK(revoked.code == Code::ok);
  CHECK_FALSE(revoked.result.already_revoked);
  CHECK_FALSE(pg.admin.is_member("app_readers", kAlice));
  CHECK(pg.admin.memberships() == before);

  const auto twice = instance.revoke(revoke_request(request, granted.result.state));
  CHECK(twice.ok());
  CHECK(twice.code == Code::already_revoked);
  CHECK(twice.result.already_revoked);
  CHECK(pg.admin.memberships() == before);

  // The log says what happened (and is where a leaked secret would show up: see test_secrets.cpp).
  CHECK_THAT(LogCapture::instance().text(), Catch::Contains("granted role 'app_readers' for login '" + kAlice + "'"));
}

TEST_CASE("postgres membership gives the login the role's privileges") {
  Scenario pg("privileges");
  pg.admin.exec("CREATE TABLE secrets_table (v int)");
  pg.admin.exec("GRANT SELECT ON secrets_table TO app_readers");
  auto can_read = [&] {
    return pg.admin.query("SELECT has_table_privilege($1, 'secrets_table', 'SELECT')", kAlice)[0][0].as<bool>();
  };
  auto instance = pg_provider().create(pg.config());
  const auto request = grant_request("p-1", kAlice, pg.target("app_readers"));
  CHECK_FALSE(can_read());
  const auto granted = instance.grant(request);
  REQUIRE(granted.code == Code::ok);
  CHECK(can_read());
  REQUIRE(instance.revoke(revoke_request(request, granted.result.state)).code == Code::ok);
  CHECK_FALSE(can_read());
}

TEST_CASE("postgres revoke without a readable state falls back to the request") {
  Scenario pg("revoke_no_state");
  auto instance = pg_provider().create(pg.config());
  const auto request = grant_request("s-1", kAlice, pg.target("app_writers"));
  REQUIRE(instance.grant(request).code == Code::ok);
  const auto revoked = instance.revoke(revoke_request(request, "not json"));
  CHECK(revoked.code == Code::ok);
  CHECK_FALSE(pg.admin.is_member("app_writers", kAlice));
}

TEST_CASE("postgres refuses roles outside grantable, naming /target/role") {
  Scenario pg("grantable");
  const auto before = pg.admin.memberships();

  SECTION("the default pattern ^app_") {
    auto instance = pg_provider().create(pg.config());
    const auto refused = instance.grant(grant_request("r-1", kAlice, pg.target("admin_secret")));
    CHECK(refused.code == Code::invalid_argument);
    CHECK(has_path(refused.diagnostics, "/target/role"));
    CHECK_THAT(refused.message, Catch::Contains("admin_secret") && Catch::Contains("^app_"));
  }
  SECTION("a narrower pattern") {
    auto instance = pg_provider().create(pg.config({{"grantable", "^app_readers$"}}));
    CHECK(instance.grant(grant_request("r-2", kAlice, pg.target("app_writers"))).code == Code::invalid_argument);
    CHECK(pg.admin.memberships() == before);
    CHECK(instance.grant(grant_request("r-3", kAlice, pg.target("app_readers"))).code == Code::ok);
    pg.admin.clear_memberships(kAlice);
  }
  CHECK(pg.admin.memberships() == before);
}

TEST_CASE("postgres refuses grantable-looking roles that reach superuser powers") {
  Scenario pg("privileged");
  pg.admin.create_role("app_files");
  pg.admin.exec("GRANT pg_read_server_files TO app_files");
  pg.admin.create_role("app_person", "LOGIN");
  auto instance = pg_provider().create(pg.config());
  const auto before = pg.admin.memberships();

  const auto through = instance.grant(grant_request("x-1", kAlice, pg.target("app_escalate")));
  CHECK(through.code == Code::invalid_argument);
  CHECK(has_path(through.diagnostics, "/target/role"));
  CHECK_THAT(through.message, Catch::Contains("SUPERUSER") && Catch::Contains("root_like"));

  const auto creator = instance.grant(grant_request("x-2", kAlice, pg.target("app_creator")));
  CHECK(creator.code == Code::invalid_argument);
  CHECK_THAT(creator.message, Catch::Contains("CREATEROLE"));

  const auto files = instance.grant(grant_request("x-3", kAlice, pg.target("app_files")));
  CHECK(files.code == Code::invalid_argument);
  CHECK_THAT(files.message, Catch::Contains("pg_read_server_files"));

  const auto login = instance.grant(grant_request("x-4", kAlice, pg.target("app_person")));
  CHECK(login.code == Code::invalid_argument);
  CHECK_THAT(login.message, Catch::Contains("login role"));

  CHECK(pg.admin.memberships() == before);
}

TEST_CASE("postgres validates the target and the subject, naming the field") {
  Scenario pg("validation");
  auto instance = pg_provider().create(pg.config());
  pg.admin.create_role("a_group_role");
  struct Case {
    gatehouse::GrantRequest request;
    Code code;
    std::string path;
  };
  const std::vector<Case> cases{
      {grant_request("v-1", kAlice, {"Database", {{"database", pg.database}, {"role", "app_readers"}}}),
       Code::invalid_argument, "/target/kind"},
      {grant_request("v-2", kAlice, {"DatabaseRole", {{"database", pg.database}}}), Code::invalid_argument,
       "/target/role"},
      {grant_request("v-3", kAlice, {"DatabaseRole", {{"role", "app_readers"}}}), Code::invalid_argument,
       "/target/database"},
      {grant_request("v-4", kAlice, pg.target("app_missing")), Code::invalid_argument, "/target/role"},
      {grant_request("v-5", kAlice, {"DatabaseRole", {{"database", "no_such_db"}, {"role", "app_readers"}}}),
       Code::invalid_argument, "/target/database"},
      {grant_request("v-6", kAlice, {"DatabaseRole", {{"database", "template1"}, {"role", "app_readers"}}}),
       Code::invalid_argument, "/target/database"},
      {grant_request("v-7", "", pg.target("app_readers")), Code::invalid_argument, "/subject"},
      {grant_request("v-8", "a_group_role", pg.target("app_readers")), Code::invalid_argument, "/subject"},
      {grant_request("v-9", std::string(64, 'a'), pg.target("app_readers")), Code::invalid_argument, "/subject"},
      {grant_request("v-10", "bob\n@example.com", pg.target("app_readers")), Code::invalid_argument, "/subject"},
      {grant_request("v-11", kAlice, pg.target("app_" + std::string(60, 'x'))), Code::invalid_argument, "/target/role"},
  };
  const auto before = pg.admin.memberships();
  for (const auto& c : cases) {
    INFO("expected " << gatehouse::code_name(c.code) << " at " << c.path);
    const auto granted = instance.grant(c.request);
    CHECK(granted.code == c.code);
    CHECK(has_path(granted.diagnostics, c.path));
  }
  CHECK(pg.admin.memberships() == before);

  // What only the server can tell (a membership loop) is still the request's fault, not the provider's.
  pg.admin.create_role("app_loop");
  pg.admin.exec("GRANT \"alice@example.com\" TO app_loop");
  const auto loop = instance.grant(grant_request("v-12", kAlice, pg.target("app_loop")));
  CHECK(loop.code == Code::invalid_argument);
  CHECK_THAT(loop.message, Catch::Contains("app_loop"));
  pg.admin.exec("REVOKE \"alice@example.com\" FROM app_loop");
}

TEST_CASE("postgres needs the role to be able to connect to the database, and does not grant CONNECT") {
  Scenario pg("connect_check");
  pg.admin.exec("REVOKE CONNECT ON DATABASE " + pg.admin.quote_name(pg.database) + " FROM PUBLIC");
  auto instance = pg_provider().create(pg.config());
  const auto request = grant_request("c-1", kAlice, pg.target("app_readers"));

  const auto refused = instance.grant(request);
  CHECK(refused.code == Code::failed_precondition);
  CHECK_THAT(refused.message, Catch::Contains("CONNECT") && Catch::Contains(pg.database));
  CHECK_FALSE(pg.admin.is_member("app_readers", kAlice));

  pg.admin.exec("GRANT CONNECT ON DATABASE " + pg.admin.quote_name(pg.database) + " TO app_readers");
  CHECK(instance.grant(request).code == Code::ok);
  CHECK(pg.admin.is_member("app_readers", kAlice));
}

TEST_CASE("postgres with create_logins off refuses a subject without a login") {
  Scenario pg("no_create");
  const std::string subject = "nobody@example.com";
  pg.admin.drop_role(subject);
  auto instance = pg_provider().create(pg.config());
  const auto granted = instance.grant(grant_request("n-1", subject, pg.target("app_readers")));
  CHECK(granted.code == Code::not_found);
  CHECK(has_path(granted.diagnostics, "/subject"));
  CHECK_THAT(granted.message, Catch::Contains(subject) && Catch::Contains("create_logins"));
  CHECK_FALSE(pg.admin.role_exists(subject));
}

TEST_CASE("postgres with create_logins on creates a passwordless, unprivileged login") {
  Scenario pg("create_logins");
  const std::string subject = "newcomer@example.com";
  pg.admin.drop_role(subject);
  auto instance = pg_provider().create(pg.config({{"create_logins", true}}));
  const auto request = grant_request("l-1", subject, pg.target("app_writers"));

  const auto granted = instance.grant(request);
  REQUIRE(granted.code == Code::ok);
  const auto row = pg.admin.query(
      "SELECT rolcanlogin, rolsuper, rolcreaterole, rolcreatedb, rolreplication, rolbypassrls, rolinherit, "
      "rolpassword IS NULL, shobj_description(oid, 'pg_authid') FROM pg_authid WHERE rolname = $1",
      subject);
  REQUIRE(row.size() == 1);
  CHECK(row[0][0].as<bool>());        // LOGIN
  CHECK_FALSE(row[0][1].as<bool>());  // not SUPERUSER
  CHECK_FALSE(row[0][2].as<bool>());  // not CREATEROLE
  CHECK_FALSE(row[0][3].as<bool>());  // not CREATEDB
  CHECK_FALSE(row[0][4].as<bool>());  // not REPLICATION
  CHECK_FALSE(row[0][5].as<bool>());  // not BYPASSRLS
  CHECK(row[0][6].as<bool>());        // INHERIT: the role's privileges apply without SET ROLE
  CHECK(row[0][7].as<bool>());        // no password
  CHECK_THAT(row[0][8].as<std::string>(), Catch::Contains("gatehouse") && Catch::Contains(subject));
  CHECK(pg.admin.is_member("app_writers", subject));

  // A second role for the same subject reuses the login.
  CHECK(instance.grant(grant_request("l-2", subject, pg.target("app_readers"))).code == Code::ok);

  // Revoke takes the membership away and leaves the login (it may own objects or hold other grants).
  CHECK(instance.revoke(revoke_request(request, granted.result.state)).code == Code::ok);
  CHECK_FALSE(pg.admin.is_member("app_writers", subject));
  CHECK(pg.admin.role_exists(subject));
  pg.admin.clear_memberships(subject);
}

TEST_CASE("postgres login_prefix names the login") {
  Scenario pg("prefix");
  pg.admin.create_role("pg-gh-alice@example.com", "LOGIN");
  pg.admin.clear_memberships("pg-gh-alice@example.com");
  auto instance = pg_provider().create(pg.config({{"login_prefix", "pg-gh-"}}));
  const auto request = grant_request("x-1", kAlice, pg.target("app_readers"));
  const auto granted = instance.grant(request);
  REQUIRE(granted.code == Code::ok);
  CHECK(parsed(granted.result.state)["login"] == "pg-gh-alice@example.com");
  CHECK(pg.admin.is_member("app_readers", "pg-gh-alice@example.com"));
  CHECK_FALSE(pg.admin.is_member("app_readers", kAlice));

  // Revoke follows the state, even from a handler configured with another prefix since.
  auto changed = pg_provider().create(pg.config({{"login_prefix", ""}}));
  CHECK(changed.revoke(revoke_request(request, granted.result.state)).code == Code::ok);
  CHECK_FALSE(pg.admin.is_member("app_readers", "pg-gh-alice@example.com"));
}

TEST_CASE("postgres leaves a membership granted outside gatehouse in place") {
  Scenario pg("pre_existing");
  // gatehouse acts as a CREATEROLE login, so memberships made by postgres are someone else's.
  pg.admin.create_role("gatehouse_admin", "LOGIN CREATEROLE");
  auto instance = pg_provider().create(pg.config({{"dsn", pg.dsn("gatehouse_admin")}}));

  pg.admin.exec("GRANT app_readers TO \"alice@example.com\"");
  const auto request = grant_request("e-1", kAlice, pg.target("app_readers"));
  const auto granted = instance.grant(request);
  CHECK(granted.code == Code::already_exists);
  CHECK(parsed(granted.result.state)["pre_existing"] == true);
  CHECK_THAT(granted.result.message, Catch::Contains("postgres"));

  const auto revoked = instance.revoke(revoke_request(request, granted.result.state));
  CHECK(revoked.code == Code::ok);
  CHECK_THAT(revoked.result.message, Catch::Contains("left the membership granted by 'postgres' in place"));
  CHECK(pg.admin.is_member("app_readers", kAlice));

  // What gatehouse granted itself, it takes back.
  const auto own = grant_request("e-2", kAlice, pg.target("app_writers"));
  const auto granted_own = instance.grant(own);
  REQUIRE(granted_own.code == Code::ok);
  CHECK(parsed(granted_own.result.state)["pre_existing"] == false);
  CHECK(instance.revoke(revoke_request(own, granted_own.result.state)).code == Code::ok);
  CHECK_FALSE(pg.admin.is_member("app_writers", kAlice));
}

TEST_CASE("postgres reports the server's refusal as permission_denied") {
  Scenario pg("denied");
  pg.admin.create_role("weak_admin", "LOGIN");
  auto instance = pg_provider().create(pg.config({{"dsn", pg.dsn("weak_admin")}}));
  const auto granted = instance.grant(grant_request("d-1", kAlice, pg.target("app_readers")));
  INFO(granted.message);
  CHECK(granted.code == Code::permission_denied);
  CHECK_FALSE(gatehouse::is_retryable(granted.code));
  CHECK_THAT(granted.message, Catch::Contains("app_readers") && !Catch::Contains(kPasswordToken));
  CHECK_FALSE(pg.admin.is_member("app_readers", kAlice));
}

TEST_CASE("postgres reports an unreachable server as unavailable") {
  Scenario pg("unreachable");
  auto instance = pg_provider().create(
      pg.config({{"dsn", "host=/nonexistent/gatehouse-socket-dir dbname=postgres password=" + kPasswordToken},
                 {"connect_timeout_seconds", 2}}));
  const auto request = grant_request("u-1", kAlice, pg.target("app_readers"));
  for (const auto& call : {instance.grant(request).code, instance.revoke(revoke_request(request, "")).code,
                           instance.load({"fetch_roles", ""}).code}) {
    CHECK(call == Code::unavailable);
    CHECK(gatehouse::is_retryable(call));
  }
  const auto granted = instance.grant(request);
  CHECK_THAT(granted.message, Catch::Contains("/nonexistent/gatehouse-socket-dir") && !Catch::Contains(kPasswordToken));
}
