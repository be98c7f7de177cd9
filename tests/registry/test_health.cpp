// Health checks: Describe + config + the provider's own verdict, recorded, and routes following health.
#include "registry_fixture.hpp"

#include "health/health_monitor.hpp"
#include "loader/dll_loader.hpp"
#include "loader/provider_caller.hpp"

#include <chrono>
#include <filesystem>
#include <fstream>
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

TEST_CASE("a health check that hangs in process holds one thread, and later checks say why they were not sent",
          "[health][caller]") {
  auto module = load_provider_in_process(gatehouse::test::fixture_path("scripted_provider"));
  REQUIRE(module.ok());
  gatehouse::test::TempDir state("gatehouse-health-hang");
  const nlohmann::json config{{"state_dir", state.path()}};
  std::shared_ptr<ProviderModule> shared_module = std::move(*module);
  auto client = shared_module->create(config, "hung");
  REQUIRE(client.ok());
  const registry::HandlerRuntime runtime{"hung", shared_module, std::move(*client), config, ""};
  const registry::ProviderRef configured{"gatehouse-tests", "scripted", "1.0.0"};
  ProviderCaller caller;

  REQUIRE(health::check_handler(runtime, configured, std::chrono::seconds(60), caller).healthy);
  std::ofstream(state.path() + "/health_mode") << "hold:release\n";
  const auto hung = health::check_handler(runtime, configured, std::chrono::milliseconds(100), caller);
  CHECK_FALSE(hung.healthy);
  CHECK(hung.reason == "health check did not answer within 100 ms");
  const auto threads = caller.threads();  // the hung call's, and one the quick calls before it may have left idle
  for (int i = 0; i < 3; ++i) {  // what each health interval would do: no new thread, no new call
    const auto refused = health::check_handler(runtime, configured, std::chrono::milliseconds(100), caller);
    CHECK_FALSE(refused.healthy);
    CHECK_THAT(refused.reason, Catch::StartsWith("Describe was not sent: 1 earlier call to handler 'hung' passed its "
                                                 "deadline and has not returned for "));
  }
  CHECK(caller.threads() == threads);

  std::ofstream(state.path() + "/release") << "\n";
  std::filesystem::remove(state.path() + "/health_mode");
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(60);  // for a stuck test only
  while (caller.abandoned("hung") > 0 && std::chrono::steady_clock::now() < until)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  CHECK(health::check_handler(runtime, configured, std::chrono::seconds(60), caller).healthy);
}
