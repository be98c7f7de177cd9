// Identity, schema and config handling: what an operator meets before the first grant.
#include "demo_fixture.hpp"

#include <cstdlib>

using namespace demo_test;
using gatehouse::testing::Refused;

TEST_CASE("demo describes itself as gatehouse/demo@1.0.0") {
  const auto& provider = demo_provider();
  CHECK(provider.publisher() == "gatehouse");
  CHECK(provider.name() == "demo");
  CHECK(provider.version() == "1.0.0");
  CHECK(provider.framework_version() == GATEHOUSE_FRAMEWORK_VERSION);
}

TEST_CASE("demo schema declares users, groups and projects with their relations") {
  const auto& types = demo_provider().schema().at("resources").at("types");
  REQUIRE(types.contains("User"));
  REQUIRE(types.contains("Group"));
  REQUIRE(types.contains("Project"));
  CHECK(types["User"]["properties"]["data"]["email"]["type"] == "string");
  CHECK(types["Group"]["properties"]["data"]["members"]["type"] == "array");
  CHECK(types["Group"]["properties"]["data"]["members"]["relation"] == "User");
  CHECK(types["Project"]["properties"]["data"]["owner_group"]["relation"] == "Group");

  const auto& loaders = demo_provider().schema().at("resources").at("loaders");
  CHECK(loaders["fetch_users"]["types"] == nlohmann::json::array({"User"}));
  CHECK(loaders["fetch_groups"]["types"] == nlohmann::json::array({"Group"}));
  CHECK(loaders["fetch_projects"]["types"] == nlohmann::json::array({"Project"}));
}

TEST_CASE("demo schema declares the ProjectRole target kind") {
  const auto& target = demo_provider().schema().at("targets").at("ProjectRole");
  CHECK(target["title"] == "Role in a project");
  CHECK(target["properties"]["project"]["resource"] == "Project");
  CHECK(target["properties"]["role"]["enum"] == nlohmann::json::array({"viewer", "editor", "admin"}));
  CHECK(target["required"] == nlohmann::json::array({"project", "role"}));
}

TEST_CASE("demo schema declares its config fields") {
  const auto& config = demo_provider().schema().at("config");
  CHECK(config["state_dir"]["required"] == true);
  CHECK(config["token"]["required"] == true);
  CHECK(config["token"]["secret"] == true);
  CHECK(config["synthetic_users"]["default"] == 0);
  CHECK(config["synthetic_users"]["minimum"] == 0);
  CHECK(config["page_size"]["default"] == 500);
  CHECK(config["page_size"]["minimum"] == 1);
  CHECK(config["page_size"]["maximum"] == 10000);
}

TEST_CASE("demo config without state_dir is refused") {
  TempDir dir;
  auto config = config_for(dir.path());
  config.erase("state_dir");
  CHECK(mentions(demo_provider().validate_config(config), "state_dir"));
  try {
    demo_provider().create(config);
    FAIL("create accepted a config without state_dir");
  } catch (const Refused& refused) {
    CHECK(refused.code() == "config_invalid");
    CHECK_THAT(refused.what(), Catch::Contains("state_dir"));
  }
}

TEST_CASE("demo config with an unknown field is refused") {
  TempDir dir;
  const auto config = config_for(dir.path(), {{"colour", "blue"}});
  CHECK(mentions(demo_provider().validate_config(config), "colour"));
  CHECK_THROWS_AS(demo_provider().create(config), Refused);
}

TEST_CASE("demo config bounds page_size and synthetic_users") {
  TempDir dir;
  auto faults = [&](const nlohmann::json& extra) {
    return demo_provider().validate_config(config_for(dir.path(), extra));
  };
  CHECK(faults({{"page_size", 10000}, {"synthetic_users", 1000000}}).empty());
  CHECK(mentions(faults({{"page_size", 0}}), "page_size"));
  CHECK(mentions(faults({{"page_size", 10001}}), "page_size"));
  CHECK(mentions(faults({{"page_size", "ten"}}), "page_size"));
  CHECK(mentions(faults({{"synthetic_users", -1}}), "synthetic_users"));
}

TEST_CASE("demo refuses a short token without echoing it") {
  TempDir dir;
  const std::string short_token = "Zq9!xw7";  // 7 characters
  try {
    demo_provider().create(config_for(dir.path(), {{"token", short_token}}));
    FAIL("create accepted a 7-character token");
  } catch (const Refused& refused) {
    CHECK(refused.code() == "create_failed");
    CHECK_THAT(refused.what(), Catch::Contains("token") && !Catch::Contains(short_token));
    CHECK(has_path(refused.diagnostics(), "/token"));
    for (const auto& d : refused.diagnostics()) CHECK_THAT(d.reason, !Catch::Contains(short_token));
  }
}

TEST_CASE("demo resolves its token from an env: reference") {
  TempDir dir;
  const std::string variable = "GATEHOUSE_DEMO_TEST_TOKEN";

  SECTION("a long enough value works") {
    ::setenv(variable.c_str(), "token-from-the-environment", 1);
    auto instance = demo_provider().create(config_for(dir.path(), {{"token", "env:" + variable}}));
    auto granted = instance.grant(grant_request("env-1", "alice@example.com", project_role("apollo", "viewer")));
    CHECK(granted.code == Code::ok);
  }
  SECTION("a short value is refused without being echoed") {
    ::setenv(variable.c_str(), "Qk4#sho", 1);  // 7 characters
    try {
      demo_provider().create(config_for(dir.path(), {{"token", "env:" + variable}}));
      FAIL("create accepted a 7-character token from the environment");
    } catch (const Refused& refused) {
      CHECK_THAT(refused.what(), Catch::Contains("token") && !Catch::Contains("Qk4#sho"));
    }
  }
  SECTION("an unset variable is refused and named") {
    ::unsetenv(variable.c_str());
    try {
      demo_provider().create(config_for(dir.path(), {{"token", "env:" + variable}}));
      FAIL("create accepted an unresolvable token reference");
    } catch (const Refused& refused) {
      CHECK_THAT(refused.what(), Catch::Contains(variable));
    }
  }
  ::unsetenv(variable.c_str());
}
