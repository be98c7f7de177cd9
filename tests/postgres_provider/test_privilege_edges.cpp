// The privilege edges a DBA found (issue 19): predefined roles that read or write everything, a role the
// provider's login cannot grant (degraded, not unhealthy), a DBA's own membership, and a NOINHERIT login.
#include "pg_provider_fixture.hpp"

using namespace pg_test;

namespace {

const std::string kAlice = "alice@example.com";

// The unavailable target of `health` naming `role`, or nullptr.
const gatehouse::UnavailableTarget* unavailable(const gatehouse::Health& health, const std::string& role) {
  for (const auto& u : health.unavailable) {
    auto it = u.target.properties.find("role");
    if (it != u.target.properties.end() && it->second == role) return &u;
  }
  return nullptr;
}

}  // namespace

TEST_CASE("postgres refuses roles that reach privileged predefined roles, naming the chain") {
  Scenario pg("predefined");
  pg.admin.create_role("app_wad");
  pg.admin.exec("GRANT pg_write_all_data TO app_wad");
  pg.admin.create_role("app_via_wad");
  pg.admin.exec("GRANT app_wad TO app_via_wad");
  pg.admin.create_role("app_monitor");
  pg.admin.exec("GRANT pg_monitor TO app_monitor");
  auto instance = pg_provider().create(pg.config());

  SECTION("directly a member of pg_write_all_data") {
    const auto refused = instance.grant(grant_request("pd-1", kAlice, pg.target("app_wad")));
    CHECK(refused.code == Code::invalid_argument);
    CHECK(has_path(refused.diagnostics, "/target/role"));
    CHECK_THAT(refused.message, Catch::Contains("pg_write_all_data") && Catch::Contains("through role 'app_wad'") &&
                                    Catch::Contains("allow_predefined"));
    CHECK_FALSE(pg.admin.is_member("app_wad", kAlice));
  }
  SECTION("through another role: the chain is named") {
    const auto refused = instance.grant(grant_request("pd-2", kAlice, pg.target("app_via_wad")));
    CHECK(refused.code == Code::invalid_argument);
    CHECK_THAT(refused.message, Catch::Contains("through role 'app_wad'") &&
                                    Catch::Contains("app_via_wad -> app_wad -> pg_write_all_data"));
    CHECK_FALSE(pg.admin.is_member("app_via_wad", kAlice));
  }
  SECTION("pg_monitor too") {
    const auto refused = instance.grant(grant_request("pd-3", kAlice, pg.target("app_monitor")));
    CHECK(refused.code == Code::invalid_argument);
    CHECK_THAT(refused.message, Catch::Contains("pg_monitor"));
  }
  SECTION("the loader marks them not grantable, and the health check does not offer them") {
    std::map<std::string, bool> grantable;
    for (const auto& r : instance.load_all("fetch_roles")) {
      if (r.type == "Role") grantable[r.id] = r.data.value("grantable", true);
    }
    CHECK(grantable.at("app_wad") == false);
    CHECK(grantable.at("app_via_wad") == false);
    CHECK(grantable.at("app_monitor") == false);
    CHECK(grantable.at("pg_execute_server_program") == false);
    CHECK(grantable.at("app_readers") == true);
    const auto health = instance.check_health();
    CHECK(health.result.healthy);
    CHECK_THAT(health.result.message, !Catch::Contains("'app_wad'") && !Catch::Contains("'app_monitor'"));
  }
  SECTION("allow_predefined lets a listed one through, and only that one") {
    auto allowing = pg_provider().create(pg.config({{"allow_predefined", "pg_write_all_data"}}));
    const auto request = grant_request("pd-4", kAlice, pg.target("app_wad"));
    const auto granted = allowing.grant(request);
    INFO(granted.message);
    REQUIRE(granted.code == Code::ok);
    CHECK(pg.admin.is_member("app_wad", kAlice));
    CHECK(allowing.revoke(revoke_request(request, granted.result.state)).code == Code::ok);
    CHECK(allowing.grant(grant_request("pd-5", kAlice, pg.target("app_monitor"))).code == Code::invalid_argument);
  }
}

TEST_CASE("postgres refuses an allow_predefined name it does not know") {
  Scenario pg("predefined_config");
  try {
    (void)pg_provider().create(pg.config({{"allow_predefined", "pg_read_all_data, pg_execute_server_program"}}));
    FAIL("the config was accepted");
  } catch (const gatehouse::testing::Refused& refused) {
    CHECK(has_path(refused.diagnostics(), "/allow_predefined"));
    CHECK_THAT(refused.what(), Catch::Contains("pg_execute_server_program") && Catch::Contains("pg_write_all_data"));
  }
}

TEST_CASE("postgres is degraded, not unhealthy, when its login lacks ADMIN OPTION on some grantable roles") {
  Scenario pg("degraded");
  pg.admin.create_role("gh_degraded", "LOGIN");
  pg.admin.create_role("app_deg_ok");
  pg.admin.exec("GRANT app_deg_ok TO gh_degraded WITH ADMIN OPTION");
  auto instance = pg_provider().create(pg.config({{"dsn", pg.dsn("gh_degraded")}, {"grantable", "^app_deg_"}}));
  REQUIRE(instance.check_health().result.degraded == false);

  // The DBA adds a role matching grantable without giving gatehouse ADMIN OPTION on it.
  pg.admin.create_role("app_deg_new", "NOLOGIN");
  const auto health = instance.check_health();
  INFO(health.result.message);
  CHECK(health.result.healthy);
  CHECK(health.result.degraded);
  CHECK_THAT(health.result.message, Catch::Contains("cannot grant 'app_deg_new'") && Catch::Contains("app_deg_ok"));
  const auto* missing = unavailable(health.result, "app_deg_new");
  REQUIRE(missing != nullptr);
  CHECK(missing->target.kind == "DatabaseRole");
  CHECK(missing->target.properties.size() == 1);  // every database
  CHECK_THAT(missing->reason, Catch::Contains("'gh_degraded'") && Catch::Contains("ADMIN OPTION"));
  CHECK(unavailable(health.result, "app_deg_ok") == nullptr);

  // The other role is still granted; the unavailable one is refused with the reason.
  const auto request = grant_request("dg-1", kAlice, pg.target("app_deg_ok"));
  const auto granted = instance.grant(request);
  CHECK(granted.code == Code::ok);
  CHECK(instance.revoke(revoke_request(request, granted.result.state)).code == Code::ok);
  const auto refused = instance.grant(grant_request("dg-2", kAlice, pg.target("app_deg_new")));
  CHECK(refused.code == Code::permission_denied);
  CHECK_THAT(refused.message, Catch::Contains("app_deg_new") && Catch::Contains("ADMIN OPTION"));

  // Fixed by the DBA: healthy again.
  pg.admin.exec("GRANT app_deg_new TO gh_degraded WITH ADMIN OPTION");
  CHECK_FALSE(instance.check_health().result.degraded);
  pg.admin.clear_memberships("gh_degraded");
}

TEST_CASE("postgres says it left a pre-existing membership in place, naming its grantor") {
  Scenario pg("pre_existing_msg");
  pg.admin.create_role("gh_pre", "LOGIN CREATEROLE");
  auto instance = pg_provider().create(pg.config({{"dsn", pg.dsn("gh_pre")}}));
  pg.admin.exec("GRANT app_readers TO \"alice@example.com\"");  // the DBA's standing grant, by postgres
  const auto request = grant_request("pe-1", kAlice, pg.target("app_readers"));
  const auto granted = instance.grant(request);
  CHECK(granted.code == Code::already_exists);
  CHECK(parsed(granted.result.state)["pre_existing"] == true);
  CHECK(parsed(granted.result.state)["pre_existing_grantor"] == "postgres");
  CHECK_THAT(granted.result.message, Catch::Contains("pre_existing") && Catch::Contains("'postgres'"));
  const auto revoked = instance.revoke(revoke_request(request, granted.result.state));
  CHECK(revoked.code == Code::ok);
  CHECK_THAT(revoked.result.message, Catch::Contains("left the membership granted by 'postgres' in place"));
  CHECK(pg.admin.is_member("app_readers", kAlice));
  pg.admin.clear_memberships(kAlice);
}

TEST_CASE("postgres 15 and older: a DBA's GRANT during an active grant cannot be told apart (documented limit)") {
  Scenario pg("pg15_limit");
  pg.admin.create_role("gh_limit", "LOGIN CREATEROLE");
  auto instance = pg_provider().create(pg.config({{"dsn", pg.dsn("gh_limit")}}));
  const int version = pg.admin.query("SELECT current_setting('server_version_num')::int")[0][0].as<int>();
  const auto request = grant_request("pl-1", kAlice, pg.target("app_writers"));
  const auto granted = instance.grant(request);
  REQUIRE(granted.code == Code::ok);
  pg.admin.exec("GRANT app_writers TO \"alice@example.com\"");  // the DBA, while gatehouse's grant is active
  const auto revoked = instance.revoke(revoke_request(request, granted.result.state));
  CHECK(revoked.code == Code::ok);
  if (version < 160000) {
    // One row per role and member: the DBA's GRANT was a no-op and the row still names gatehouse's login, so
    // the revoke removes the membership. README.md "Version differences" says so.
    CHECK(parsed(granted.result.state).contains("membership") == false);
    CHECK_FALSE(pg.admin.is_member("app_writers", kAlice));
  } else {
    // One row per grantor (GRANTED BY): the DBA's row survives. Untested here: only PostgreSQL 15 is installed.
    CHECK(parsed(granted.result.state)["membership"] == "granted_by");
    CHECK(pg.admin.is_member("app_writers", kAlice));
  }
  pg.admin.clear_memberships(kAlice);
}

TEST_CASE("postgres works with a NOINHERIT login and warns when the login inherits grantable roles") {
  Scenario pg("noinherit");
  pg.admin.create_role("app_ni_role");
  pg.admin.create_role("gh_inherit", "LOGIN INHERIT");
  pg.admin.create_role("gh_noinherit", "LOGIN NOINHERIT");
  pg.admin.exec("GRANT app_ni_role TO gh_inherit WITH ADMIN OPTION");
  pg.admin.exec("GRANT app_ni_role TO gh_noinherit WITH ADMIN OPTION");
  const nlohmann::json narrow = {{"grantable", "^app_ni_"}};

  SECTION("an inheriting login: healthy, with a warning naming the roles") {
    auto config = pg.config(narrow);
    config["dsn"] = pg.dsn("gh_inherit");
    const auto health = pg_provider().create(config).check_health();
    INFO(health.result.message);
    CHECK(health.result.healthy);
    CHECK_THAT(health.result.message, Catch::Contains("warning") && Catch::Contains("inherits the privileges of 'app_ni_role'") &&
                                          Catch::Contains("NOINHERIT"));
  }
  SECTION("a NOINHERIT login: healthy without the warning, and it grants and revokes") {
    auto config = pg.config(narrow);
    config["dsn"] = pg.dsn("gh_noinherit");
    auto instance = pg_provider().create(config);
    const auto health = instance.check_health();
    INFO(health.result.message);
    CHECK(health.result.healthy);
    CHECK_FALSE(health.result.degraded);
    CHECK_THAT(health.result.message, !Catch::Contains("warning") && Catch::Contains("app_ni_role"));
    const auto request = grant_request("ni-1", kAlice, pg.target("app_ni_role"));
    const auto granted = instance.grant(request);
    INFO(granted.message);
    REQUIRE(granted.code == Code::ok);
    CHECK(pg.admin.is_member("app_ni_role", kAlice));
    CHECK(instance.revoke(revoke_request(request, granted.result.state)).code == Code::ok);
    CHECK_FALSE(pg.admin.is_member("app_ni_role", kAlice));
  }
  pg.admin.clear_memberships("gh_inherit");
  pg.admin.clear_memberships("gh_noinherit");
}
