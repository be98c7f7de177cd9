// Identity, schema and config: what an operator meets before the first grant. None of these connect.
#include "pg_provider_fixture.hpp"

using namespace pg_test;
using gatehouse::testing::Refused;

namespace {

// A dsn that parses but points nowhere: config handling must not need a server.
const std::string kOfflineDsn = "host=/nonexistent/gatehouse-socket-dir dbname=postgres password=" + kPasswordToken;

bool mentions(const std::vector<Diagnostic>& diagnostics, const std::string& word) {
  for (const auto& d : diagnostics) {
    if (d.path.find(word) != std::string::npos || d.reason.find(word) != std::string::npos) return true;
  }
  return false;
}

}  // namespace

TEST_CASE("postgres describes itself as gatehouse/postgres@1.0.0") {
  const auto& provider = pg_provider();
  CHECK(provider.publisher() == "gatehouse");
  CHECK(provider.name() == "postgres");
  CHECK(provider.version() == "1.0.0");
  CHECK(provider.framework_version() == GATEHOUSE_FRAMEWORK_VERSION);
}

TEST_CASE("postgres schema declares its config, resource types, loaders and DatabaseRole") {
  const auto& schema = pg_provider().schema();
  const auto& config = schema.at("config");
  CHECK(config["dsn"]["required"] == true);
  CHECK(config["dsn"]["secret"] == true);
  CHECK(config["grantable"]["default"] == "^app_");
  CHECK(config["create_logins"]["default"] == false);
  CHECK(config["login_prefix"]["default"] == "");
  CHECK(config["connect_timeout_seconds"]["default"] == 5);
  CHECK(config["page_size"]["default"] == 500);

  const auto& types = schema.at("resources").at("types");
  CHECK(types.contains("Database"));
  CHECK(types["Role"]["properties"]["data"]["databases"]["relation"] == "Database");
  CHECK(types["Role"]["properties"]["data"]["grantable"]["type"] == "boolean");
  CHECK(types["Login"]["properties"]["data"]["databases"]["relation"] == "Database");
  const auto& loaders = schema.at("resources").at("loaders");
  CHECK(loaders["fetch_databases"]["types"] == nlohmann::json::array({"Database"}));
  CHECK(loaders["fetch_roles"]["types"] == nlohmann::json::array({"Role", "Login"}));

  const auto& target = schema.at("targets").at("DatabaseRole");
  CHECK(target["properties"]["database"]["resource"] == "Database");
  CHECK(target["properties"]["role"]["resource"] == "Role");
  CHECK(target["required"] == nlohmann::json::array({"database", "role"}));
}

TEST_CASE("postgres config without dsn is refused") {
  CHECK(mentions(pg_provider().validate_config(nlohmann::json::object()), "dsn"));
  CHECK_THROWS_AS(pg_provider().create(nlohmann::json::object()), Refused);
}

TEST_CASE("postgres config bounds and types are checked") {
  auto faults = [](const nlohmann::json& extra) {
    nlohmann::json config = {{"dsn", kOfflineDsn}};
    config.update(extra);
    return pg_provider().validate_config(config);
  };
  CHECK(faults({{"connect_timeout_seconds", 300}, {"page_size", 1}, {"create_logins", true}}).empty());
  CHECK(mentions(faults({{"connect_timeout_seconds", 0}}), "connect_timeout_seconds"));
  CHECK(mentions(faults({{"page_size", 10001}}), "page_size"));
  CHECK(mentions(faults({{"create_logins", "yes"}}), "create_logins"));
  CHECK(mentions(faults({{"colour", "blue"}}), "colour"));
}

TEST_CASE("postgres creates an instance without connecting") {
  // The cluster may be down when gatehoused starts: that is an unhealthy handler, not a refused config.
  CHECK_NOTHROW(pg_provider().create({{"dsn", kOfflineDsn}}));
}

TEST_CASE("postgres refuses an unparsable dsn without echoing it") {
  const std::string broken = "host=/tmp password=" + kPasswordToken + " dbname='unterminated";
  try {
    pg_provider().create({{"dsn", broken}});
    FAIL("create accepted an unparsable dsn");
  } catch (const Refused& refused) {
    CHECK(refused.code() == "create_failed");
    CHECK_THAT(refused.what(), Catch::Contains("dsn") && !Catch::Contains(kPasswordToken));
    CHECK(has_path(refused.diagnostics(), "/dsn"));
    for (const auto& d : refused.diagnostics()) CHECK_THAT(d.reason, !Catch::Contains(kPasswordToken));
  }
}

TEST_CASE("postgres refuses an invalid grantable pattern, naming it") {
  try {
    pg_provider().create({{"dsn", kOfflineDsn}, {"grantable", "^app_(unclosed"}});
    FAIL("create accepted an invalid regular expression");
  } catch (const Refused& refused) {
    CHECK(has_path(refused.diagnostics(), "/grantable"));
    CHECK_THAT(refused.what(), !Catch::Contains(kPasswordToken));
  }
}

TEST_CASE("postgres refuses a login_prefix with control characters") {
  try {
    pg_provider().create({{"dsn", kOfflineDsn}, {"login_prefix", "gh\n"}});
    FAIL("create accepted a login_prefix with a newline");
  } catch (const Refused& refused) {
    CHECK(has_path(refused.diagnostics(), "/login_prefix"));
  }
}

TEST_CASE("postgres resolves its dsn from an env: reference") {
  const std::string variable = "GATEHOUSE_PG_TEST_DSN";
  ::setenv(variable.c_str(), kOfflineDsn.c_str(), 1);
  auto instance = pg_provider().create({{"dsn", "env:" + variable}, {"connect_timeout_seconds", 2}});
  const auto health = instance.check_health();
  CHECK_FALSE(health.result.healthy);
  CHECK_THAT(health.result.message,
             Catch::Contains("/nonexistent/gatehouse-socket-dir") && !Catch::Contains(kPasswordToken));
  ::unsetenv(variable.c_str());
}
