// Names are data, never SQL: roles, subjects and databases full of quotes, semicolons, spaces and
// non-ASCII characters are granted exactly as named, and nothing else in the cluster changes.
#include "pg_provider_fixture.hpp"

using namespace pg_test;

namespace {

const std::vector<std::string> kHostileRoles{
    "app_x\"; DROP TABLE canary; --",
    "app_'); DROP ROLE app_readers; --",
    "app_ spaced  name ",
    "app_ünïcødé ✓ 日本",
    "app_back\\slash\\\"",
    "app_$1 %s {} ${x}",
};

const std::vector<std::string> kHostileSubjects{
    "eve\"; DROP ROLE \"alice@example.com\"; --@example.com",
    "Robert'); DROP TABLE canary;--",
    "zoë o'brien@exämple.com",
};

struct World {
  std::set<std::string> roles;
  std::set<std::string> memberships;
  bool canary;
};

World world(Sql& sql) {
  return {sql.roles(), sql.memberships(), !sql.query("SELECT 1 FROM pg_tables WHERE tablename = 'canary'").empty()};
}

}  // namespace

TEST_CASE("postgres grants and revokes hostile role and subject names literally") {
  Scenario pg("hostile");
  pg.admin.exec("CREATE TABLE canary (v int)");
  for (const auto& role : kHostileRoles) pg.admin.create_role(role);
  for (const auto& subject : kHostileSubjects) {
    pg.admin.create_role(subject, "LOGIN");
    pg.admin.clear_memberships(subject);
  }
  auto instance = pg_provider().create(pg.config());
  const World before = world(pg.admin);
  REQUIRE(before.canary);

  int n = 0;
  for (const auto& role : kHostileRoles) {
    for (const auto& subject : kHostileSubjects) {
      INFO("role [" << role << "] subject [" << subject << "]");
      const auto request = grant_request("h-" + std::to_string(++n), subject, pg.target(role));
      const auto granted = instance.grant(request);
      REQUIRE(granted.code == Code::ok);
      const auto state = parsed(granted.result.state);
      CHECK(state["role"] == role);
      CHECK(state["login"] == subject);

      World during = world(pg.admin);
      CHECK(during.roles == before.roles);
      CHECK(during.canary);
      auto expected = before.memberships;
      expected.insert(role + " <- " + subject);
      CHECK(during.memberships == expected);

      CHECK(instance.grant(request).code == Code::already_exists);
      CHECK(instance.revoke(revoke_request(request, granted.result.state)).code == Code::ok);
      CHECK(instance.revoke(revoke_request(request, granted.result.state)).code == Code::already_revoked);
      const World after = world(pg.admin);
      CHECK(after.roles == before.roles);
      CHECK(after.memberships == before.memberships);
      CHECK(after.canary);
    }
  }
}

TEST_CASE("postgres creates a login with a hostile name exactly as named") {
  Scenario pg("hostile_create");
  pg.admin.exec("CREATE TABLE canary (v int)");
  const std::string subject = "mallory\"; CREATE ROLE evil SUPERUSER; --";
  pg.admin.drop_role(subject);
  auto instance = pg_provider().create(pg.config({{"create_logins", true}}));
  const auto before = pg.admin.roles();

  const auto granted = instance.grant(grant_request("hc-1", subject, pg.target("app_readers")));
  REQUIRE(granted.code == Code::ok);
  auto expected = before;
  expected.insert(subject);
  CHECK(pg.admin.roles() == expected);  // exactly the one login, no "evil"
  CHECK(pg.admin.is_member("app_readers", subject));
  CHECK_FALSE(pg.admin.role_exists("evil"));
  CHECK_FALSE(pg.admin.query("SELECT 1 FROM pg_tables WHERE tablename = 'canary'").empty());
  pg.admin.clear_memberships(subject);
}

TEST_CASE("postgres grants in a database with a hostile name") {
  Scenario pg("hostile_db");
  const std::string database = "db\"; DROP DATABASE postgres; -- ✓";
  pg.admin.exec("DROP DATABASE IF EXISTS " + pg.admin.quote_name(database));
  pg.admin.exec("CREATE DATABASE " + pg.admin.quote_name(database));
  auto instance = pg_provider().create(pg.config());
  const auto request = grant_request("hd-1", "alice@example.com",
                                     Target{"DatabaseRole", {{"database", database}, {"role", "app_readers"}}});
  const auto granted = instance.grant(request);
  REQUIRE(granted.code == Code::ok);
  CHECK(parsed(granted.result.state)["database"] == database);
  CHECK(pg.admin.is_member("app_readers", "alice@example.com"));
  CHECK_FALSE(pg.admin.query("SELECT 1 FROM pg_database WHERE datname = 'postgres'").empty());
  CHECK(instance.revoke(revoke_request(request, granted.result.state)).code == Code::ok);
  CHECK_FALSE(pg.admin.is_member("app_readers", "alice@example.com"));
}
