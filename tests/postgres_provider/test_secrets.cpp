// The dsn is a secret: whatever happens, its password never shows up in a status message, a diagnostic,
// a result or a log line.
#include "pg_provider_fixture.hpp"

using namespace pg_test;

namespace {

template <class T>
void check_clean(const gatehouse::testing::Call<T>& call, const std::string& what) {
  INFO(what << ": " << gatehouse::code_name(call.code) << " " << call.message);
  CHECK_THAT(call.message, !Catch::Contains(kPasswordToken));
  for (const auto& d : call.diagnostics) CHECK_THAT(d.reason, !Catch::Contains(kPasswordToken));
}

}  // namespace

TEST_CASE("postgres never reveals the dsn's password") {
  Scenario pg("secrets");
  pg.admin.create_role("weak_admin", "LOGIN");
  const std::vector<std::string> dsns{
      pg.dsn(),                                                                             // works
      pg.dsn("weak_admin"),                                                                 // refused by the server
      pg.dsn("no_such_login"),                                                              // unknown login
      "host=/nonexistent/gatehouse-socket-dir dbname=postgres password=" + kPasswordToken,  // unreachable
      "postgresql://postgres:" + kPasswordToken + "@/postgres?host=/nonexistent/gatehouse-socket-dir",  // URI form
  };
  for (const auto& dsn : dsns) {
    for (const bool create_logins : {false, true}) {
      auto instance =
          pg_provider().create({{"dsn", dsn}, {"create_logins", create_logins}, {"connect_timeout_seconds", 2}});
      const auto health = instance.check_health();
      check_clean(health, "health");
      CHECK_THAT(health.result.message, !Catch::Contains(kPasswordToken));

      for (const std::string subject : {"alice@example.com", "unknown@example.com"}) {
        const auto request = grant_request("s-1", subject, pg.target("app_readers"));
        const auto granted = instance.grant(request);
        check_clean(granted, "grant");
        CHECK_THAT(granted.result.state, !Catch::Contains(kPasswordToken));
        check_clean(instance.revoke(revoke_request(request, granted.result.state)), "revoke");
      }
      check_clean(instance.grant(grant_request("s-2", "alice@example.com", pg.target("admin_secret"))), "refused");
      check_clean(instance.load({"fetch_roles", ""}), "load");
      check_clean(instance.load({"fetch_databases", "zz"}), "bad token");
    }
  }
  pg.admin.drop_role("unknown@example.com");

  const std::string log = LogCapture::instance().text();
  CHECK_THAT(log, Catch::Contains("granted role 'app_readers'"));  // the capture works: the provider logged
  CHECK_THAT(log, !Catch::Contains(kPasswordToken));
}

TEST_CASE("postgres redacts the password even when the server quotes it back") {
  // A login named like the password makes the server repeat it in its refusal ("role ... does not exist").
  Scenario pg("secrets_echo");
  auto instance =
      pg_provider().create({{"dsn", pg.database_dsn + " user='" + kPasswordToken + "' password=" + kPasswordToken}});
  const auto health = instance.check_health();
  CHECK_FALSE(health.result.healthy);
  CHECK_THAT(health.result.message, Catch::Contains("[redacted]") && !Catch::Contains(kPasswordToken));
  check_clean(instance.grant(grant_request("e-1", "alice@example.com", pg.target("app_readers"))), "grant");
}
