// Handlers, target groups and routes against a real PostgreSQL and real provider libraries.
#include "registry_fixture.hpp"


#include <algorithm>

using namespace gatehouse::host;
using gatehouse::test::RegistryFixture;

namespace {

bool has_path(const Error& e, const std::string& path) {
  return std::any_of(e.diagnostics.begin(), e.diagnostics.end(), [&](const auto& d) { return d.path == path; });
}

std::string handlers_table_text(store::Database& db) {
  auto text = db.with_transaction([](pqxx::work& txn) {
    std::string all;
    for (const auto& row : txn.exec("SELECT handlers::text FROM handlers")) all += row[0].as<std::string>() + "\n";
    return all;
  });
  REQUIRE(text.ok());
  return *text;
}

}  // namespace

TEST_CASE("a handler is created from a provider reference and a validated config", "[registry]") {
  RegistryFixture f("registry_handlers");
  auto handler = f.demo_handler("demo-1");
  CHECK(handler.provider.text() == "gatehouse/demo@1.0.0");
  CHECK(handler.health == registry::HealthStatus::unknown);
  CHECK(f.registry->client("demo-1") != nullptr);

  SECTION("it survives a restart of the registry") {
    f.reopen();
    auto again = f.registry->handler("demo-1");
    REQUIRE(again.has_value());
    CHECK(again->config["token"] == "env:GATEHOUSE_TEST_DEMO_TOKEN");
    CHECK(f.registry->client("demo-1") != nullptr);
  }
  SECTION("ids are checked, duplicates refused") {
    auto bad = f.registry->create_handler({"Demo_1", "gatehouse/demo@1.0.0", {}});
    REQUIRE_FALSE(bad.ok());
    CHECK(bad.error().code == "invalid_argument");
    CHECK(has_path(bad.error(), "/id"));
    auto duplicate = f.registry->create_handler(
        {"demo-1", "gatehouse/demo@1.0.0", {{"state_dir", "/tmp"}, {"token", "env:GATEHOUSE_TEST_DEMO_TOKEN"}}});
    REQUIRE_FALSE(duplicate.ok());
    CHECK(duplicate.error().code == "already_exists");
  }
}

TEST_CASE("handler configs are refused with field paths, and secrets never reach the database", "[registry][secrets]") {
  RegistryFixture f("registry_secrets");
  const std::string secret = "literal-secret-value-42";

  auto literal = f.registry->create_handler({"demo-2", "gatehouse/demo@1.0.0", {{"state_dir", "/tmp"}, {"token", secret}}});
  REQUIRE_FALSE(literal.ok());
  CHECK_THAT(literal.error().message, Catch::Contains("must be references"));
  CHECK(has_path(literal.error(), "/config/token"));
  CHECK_THAT(literal.error().describe(), !Catch::Contains(secret));

  auto invalid = f.registry->create_handler({"demo-3", "gatehouse/demo@1.0.0", {{"token", "env:X"}, {"page_size", "big"}}});
  REQUIRE_FALSE(invalid.ok());
  CHECK(invalid.error().code == "config_invalid");
  CHECK(has_path(invalid.error(), "/config/state_dir"));
  CHECK(has_path(invalid.error(), "/config/page_size"));

  auto unknown = f.registry->create_handler({"demo-4", "gatehouse/nope@1.0.0", {}});
  REQUIRE_FALSE(unknown.ok());
  CHECK(unknown.error().code == "not_found");

  f.demo_handler("demo-5");
  const std::string stored = handlers_table_text(f.db);
  CHECK_THAT(stored, Catch::Contains("env:GATEHOUSE_TEST_DEMO_TOKEN"));
  CHECK_THAT(stored, !Catch::Contains("demo-token-abcdef"));
  CHECK_THAT(stored, !Catch::Contains(secret));
}

TEST_CASE("a target group fixes its kind schema at creation", "[registry]") {
  RegistryFixture f("registry_groups");
  auto group = f.registry->create_target_group({"projects", "gatehouse/demo@1.0.0/ProjectRole", std::chrono::hours(4)});
  REQUIRE(group.ok());
  CHECK(group->kind.kind == "ProjectRole");
  CHECK(group->kind_schema["properties"]["project"]["resource"] == "Project");

  auto no_kind = f.registry->create_target_group({"other", "gatehouse/demo@1.0.0/Nope", std::chrono::hours(1)});
  REQUIRE_FALSE(no_kind.ok());
  CHECK_THAT(no_kind.error().message, Catch::Contains("has no target kind 'Nope'") && Catch::Contains("ProjectRole"));

  auto bad_ref = f.registry->create_target_group({"other", "demo/ProjectRole", std::chrono::hours(1)});
  REQUIRE_FALSE(bad_ref.ok());
  CHECK_THAT(bad_ref.error().message, Catch::Contains("publisher/name@version/Kind"));

  f.reopen();
  auto view = f.registry->target_group("projects");
  REQUIRE(view.has_value());
  CHECK(view->max_duration == std::chrono::hours(4));
  CHECK(view->kind == "ProjectRole");
}

TEST_CASE("routes are valid only between compatible kinds, with the reason stored", "[registry][routing]") {
  RegistryFixture f("registry_routes");
  f.demo_handler("demo-a");
  REQUIRE(f.registry->create_handler({"hello-a", "acme/hello@0.1.0", {{"api_key", "env:GATEHOUSE_TEST_DEMO_TOKEN"}}}).ok());
  REQUIRE(f.registry->create_target_group({"projects", "gatehouse/demo@1.0.0/ProjectRole", std::chrono::hours(1)}).ok());

  auto good = f.registry->create_route({"projects", "demo-a", "", 100});
  REQUIRE(good.ok());
  CHECK(good->valid);
  CHECK(good->kind == "ProjectRole");

  auto missing_kind = f.registry->create_route({"projects", "hello-a", "ProjectRole", 50});
  REQUIRE(missing_kind.ok());
  CHECK_FALSE(missing_kind->valid);
  CHECK_THAT(missing_kind->invalid_reason, Catch::Contains("has no target kind 'ProjectRole'"));

  auto incompatible = f.registry->create_route({"projects", "hello-a", "Room", 40});
  REQUIRE(incompatible.ok());
  CHECK_FALSE(incompatible->valid);
  CHECK_THAT(incompatible->invalid_reason, Catch::Contains("room") || Catch::Contains("project"));

  auto out_of_range = f.registry->create_route({"projects", "demo-a", "Other", 1000});
  REQUIRE_FALSE(out_of_range.ok());
  CHECK(has_path(out_of_range.error(), "/priority"));

  SECTION("the stored reason is what operators see after a restart") {
    f.reopen();
    auto routes = f.registry->routes();
    REQUIRE(routes.size() == 3);
    auto room = std::find_if(routes.begin(), routes.end(), [](const auto& r) { return r.kind == "Room"; });
    REQUIRE(room != routes.end());
    CHECK_FALSE(room->valid);
    auto reason = f.db.with_transaction([](pqxx::work& txn) {
      return txn.exec("SELECT invalid_reason FROM routes WHERE kind = 'Room'")[0][0].as<std::string>();
    });
    REQUIRE(reason.ok());
    CHECK(*reason == room->invalid_reason);
  }
  SECTION("only healthy handlers with valid, enabled routes are candidates") {
    auto view = f.registry->routing();
    CHECK_FALSE(view.table->best("projects", *view.health).has_value());  // not checked yet: not routable
    REQUIRE(f.registry->record_health("demo-a", true, "ok").ok());
    view = f.registry->routing();
    auto best = view.table->best("projects", *view.health);
    REQUIRE(best.has_value());
    CHECK(best->handler == "demo-a");
    REQUIRE(f.registry->set_route_priority("projects", "demo-a", "ProjectRole", 0).ok());
    view = f.registry->routing();
    CHECK_FALSE(view.table->best("projects", *view.health).has_value());
  }
  SECTION("deleting a handler removes its routes") {
    REQUIRE(f.registry->delete_handler("hello-a").ok());
    CHECK(f.registry->routes().size() == 1);
    CHECK_FALSE(f.registry->handler_exists("hello-a"));
    CHECK(f.registry->delete_handler("hello-a").error().code == "not_found");
  }
}
