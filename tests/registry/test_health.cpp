// Health checks: Describe + config + the provider's own verdict, recorded, and routes following health.
#include "registry_fixture.hpp"

#include "health/health_monitor.hpp"

#include <chrono>
#include <filesystem>
#include <thread>

using namespace gatehouse::host;
using gatehouse::test::RegistryFixture;

TEST_CASE("a health check records the provider's verdict with its reason", "[health]") {
  RegistryFixture f("health_verdict");
  f.demo_handler("demo-h");
  REQUIRE(f.registry->create_target_group({"projects", "gatehouse/demo@1.0.0/ProjectRole", std::chrono::hours(1)}).ok());
  REQUIRE(f.registry->create_route({"projects", "demo-h", "", 10}).ok());
  health::HealthMonitor monitor(*f.registry, {});

  auto healthy = monitor.check_now("demo-h");
  REQUIRE(healthy.ok());
  CHECK(healthy->healthy);
  CHECK(f.registry->handler("demo-h")->health == registry::HealthStatus::healthy);
  CHECK(f.registry->handler("demo-h")->health_checked_at.has_value());

  SECTION("an unusable state directory makes it unhealthy and unroutable") {
    std::filesystem::remove_all(f.state.path());
    auto sick = monitor.check_now("demo-h");
    REQUIRE(sick.ok());
    CHECK_FALSE(sick->healthy);
    CHECK_THAT(sick->reason, Catch::Contains(f.state.path()));
    auto view = f.registry->routing();
    CHECK_FALSE(view.table->best("projects", *view.health).has_value());
    auto stored = f.db.with_transaction([](pqxx::work& txn) {
      auto row = txn.exec("SELECT health_status, health_reason FROM handlers WHERE id = 'demo-h'")[0];
      return row[0].as<std::string>() + ": " + row[1].as<std::string>();
    });
    REQUIRE(stored.ok());
    CHECK_THAT(*stored, Catch::StartsWith("unhealthy: ") && Catch::Contains("state directory"));

    std::filesystem::create_directories(f.state.path());
    CHECK(monitor.check_now("demo-h")->healthy);
    view = f.registry->routing();
    CHECK(view.table->best("projects", *view.health).has_value());
  }
  SECTION("a secret reference that stops resolving makes it unhealthy, naming the variable only") {
    unsetenv("GATEHOUSE_TEST_DEMO_TOKEN");
    auto sick = monitor.check_now("demo-h");
    REQUIRE(sick.ok());
    CHECK_FALSE(sick->healthy);
    CHECK_THAT(sick->reason, Catch::Contains("GATEHOUSE_TEST_DEMO_TOKEN"));
    setenv("GATEHOUSE_TEST_DEMO_TOKEN", "demo-token-abcdef", 1);
  }
}

TEST_CASE("the monitor checks new handlers at once and keeps checking on its interval", "[health]") {
  RegistryFixture f("health_monitor");
  health::HealthMonitor monitor(*f.registry, {std::chrono::milliseconds(100), std::chrono::seconds(2),
                                              std::chrono::milliseconds(50)});
  monitor.start();
  f.demo_handler("demo-m");

  // The deadline only matters when the monitor is stuck.
  auto wait_for = [&](registry::HealthStatus status) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (std::chrono::steady_clock::now() < deadline) {
      if (f.registry->handler("demo-m")->health == status) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return f.registry->handler("demo-m")->health == status;
  };
  CHECK(wait_for(registry::HealthStatus::healthy));
  std::filesystem::remove_all(f.state.path());
  CHECK(wait_for(registry::HealthStatus::unhealthy));
  std::filesystem::create_directories(f.state.path());
  CHECK(wait_for(registry::HealthStatus::healthy));
  monitor.stop();
}
