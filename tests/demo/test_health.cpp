// Health: the state directory must exist, be a directory and take a durable write.
#include "demo_fixture.hpp"

#include <fstream>

using namespace demo_test;

TEST_CASE("demo is healthy with a writable state directory") {
  TempDir dir;
  auto instance = demo_provider().create(config_for(dir.path()));
  const auto health = instance.check_health();
  REQUIRE(health.code == Code::ok);
  CHECK(health.result.healthy);
  // The probe cleans up after itself.
  for (const auto& entry : fs::directory_iterator(dir.path())) {
    CHECK_THAT(entry.path().filename().string(), !Catch::StartsWith(".health-probe"));
  }
}

TEST_CASE("demo reports a missing state directory") {
  TempDir root;
  const fs::path missing = root.path() / "missing";
  auto instance = demo_provider().create(config_for(missing));  // construction still succeeds
  const auto health = instance.check_health();
  REQUIRE(health.code == Code::ok);
  CHECK_FALSE(health.result.healthy);
  CHECK_THAT(health.result.message,
             Catch::Contains("state directory '" + missing.string() + "'") && Catch::Contains("does not exist"));
}

TEST_CASE("demo reports a state directory that is a file") {
  TempDir root;
  const fs::path file = root.path() / "plain-file";
  std::ofstream(file) << "not a directory\n";
  auto instance = demo_provider().create(config_for(file));
  const auto health = instance.check_health();
  CHECK_FALSE(health.result.healthy);
  CHECK_THAT(health.result.message, Catch::Contains(file.string()) && Catch::Contains("is not a directory"));

  const auto granted = instance.grant(grant_request("f-1", "alice@example.com", project_role("apollo", "viewer")));
  CHECK(granted.code == Code::unavailable);
  CHECK_THAT(granted.message, Catch::Contains(file.string()));
}

TEST_CASE("demo health follows the state directory going away and coming back") {
  TempDir root;
  const fs::path state_dir = root.path() / "state";
  fs::create_directory(state_dir);
  auto instance = demo_provider().create(config_for(state_dir));
  CHECK(instance.check_health().result.healthy);

  fs::remove_all(state_dir);
  CHECK_FALSE(instance.check_health().result.healthy);

  fs::create_directory(state_dir);
  CHECK(instance.check_health().result.healthy);
}
