// The registry's changes carry the caller's work in their own transaction (issue 14 item 2): what the API
// writes there (the audit row) commits with the change, and when it cannot be written the change does not
// happen — in the database or in the registry's model. A refusal never runs it. Real PostgreSQL.
#include "registry_fixture.hpp"

#include <stdexcept>

using namespace gatehouse::host;
using gatehouse::test::RegistryFixture;

namespace {

// Counts its runs; writes a marker row in the change's transaction, or throws as a failed INSERT would.
struct Hook {
  store::Database& db;
  bool fail = false;
  int runs = 0;

  store::BeforeCommit operator()(const std::string& marker) {
    return [this, marker](pqxx::work& txn) {
      ++runs;
      if (fail) throw std::runtime_error("the audit row cannot be written");
      txn.exec_params("INSERT INTO audit_log (actor, action, object, outcome) VALUES ('test', $1, 'x', 'ok')", marker);
    };
  }
  long long rows(const std::string& marker) {
    return db
        .with_transaction([&](pqxx::work& txn) {
          return txn.exec_params1("SELECT count(*) FROM audit_log WHERE action = $1", marker)[0].as<long long>();
        })
        .value();
  }
  long long count(const std::string& table) {
    return db.with_transaction([&](pqxx::work& txn) { return txn.exec1("SELECT count(*) FROM " + table)[0].as<long long>(); })
        .value();
  }
};

registry::HandlerSpec demo_spec(RegistryFixture& f, const std::string& id) {
  setenv("GATEHOUSE_TEST_DEMO_TOKEN", "demo-token-abcdef", 1);
  return {id, "gatehouse/demo@1.0.0", {{"state_dir", f.state.path()}, {"token", "env:GATEHOUSE_TEST_DEMO_TOKEN"}}};
}

}  // namespace

TEST_CASE("a change whose hook cannot run is not made, in the database or the model", "[registry][audit]") {
  RegistryFixture f("registry_before_commit");
  Hook hook{f.db};
  hook.fail = true;

  CHECK_FALSE(f.registry->create_handler(demo_spec(f, "demo-a"), hook("x")).ok());
  CHECK(hook.runs == 1);
  CHECK_FALSE(f.registry->handler("demo-a").has_value());
  CHECK(hook.count("handlers") == 0);

  hook.fail = false;
  REQUIRE(f.registry->create_handler(demo_spec(f, "demo-a"), hook("handler.create")).ok());
  CHECK(hook.rows("handler.create") == 1);
  REQUIRE(f.registry->create_target_group({"projects", "gatehouse/demo@1.0.0/ProjectRole", std::chrono::hours(1)},
                                          hook("target_group.create"))
              .ok());
  CHECK(hook.rows("target_group.create") == 1);
  REQUIRE(f.registry->create_route({"projects", "demo-a", "", 100}, hook("route.create")).ok());
  CHECK(hook.rows("route.create") == 1);

  hook.fail = true;
  const int before = hook.runs;
  SECTION("update_handler") {
    auto spec = demo_spec(f, "demo-a");
    spec.backend = "state-1";
    CHECK_FALSE(f.registry->update_handler(spec, hook("x")).ok());
    CHECK(f.registry->handler("demo-a")->backend.empty());
  }
  SECTION("delete_handler") {
    CHECK_FALSE(f.registry->delete_handler("demo-a", hook("x")).ok());
    CHECK(f.registry->handler("demo-a").has_value());
    CHECK(f.registry->routes().size() == 1);
    CHECK(hook.count("handlers") == 1);
  }
  SECTION("set_target_group_max_duration") {
    CHECK_FALSE(f.registry->set_target_group_max_duration("projects", std::chrono::minutes(5), hook("x")).ok());
    CHECK(f.registry->find_target_group("projects")->max_duration == std::chrono::hours(1));
  }
  SECTION("delete_target_group") {
    CHECK_FALSE(f.registry->delete_target_group("projects", hook("x")).ok());
    CHECK(f.registry->find_target_group("projects").has_value());
    CHECK(hook.count("target_groups") == 1);
  }
  SECTION("set_route_priority") {
    CHECK_FALSE(f.registry->set_route_priority("projects", "demo-a", "ProjectRole", 7, hook("x")).ok());
    CHECK(f.registry->routes()[0].priority == 100);
  }
  SECTION("delete_route") {
    CHECK_FALSE(f.registry->delete_route("projects", "demo-a", "ProjectRole", hook("x")).ok());
    CHECK(f.registry->routes().size() == 1);
    CHECK(hook.count("routes") == 1);
  }
  CHECK(hook.runs == before + 1);
  // What the model holds is what the database holds: a fresh registry reads the same.
  auto reread = registry::Registry::open(f.db, f.catalog, f.options);
  REQUIRE(reread.ok());
  CHECK((*reread)->handler("demo-a")->backend == f.registry->handler("demo-a")->backend);
  CHECK((*reread)->routes().size() == f.registry->routes().size());
  CHECK((*reread)->routes()[0].priority == f.registry->routes()[0].priority);
  CHECK((*reread)->find_target_group("projects")->max_duration == f.registry->find_target_group("projects")->max_duration);
}

TEST_CASE("a refused change never runs the hook", "[registry][audit]") {
  RegistryFixture f("registry_before_commit_refusals");
  Hook hook{f.db};
  f.demo_handler("demo-a");
  CHECK_FALSE(f.registry->create_handler(demo_spec(f, "demo-a"), hook("x")).ok());  // already exists
  CHECK_FALSE(f.registry->delete_handler("nope", hook("x")).ok());
  CHECK_FALSE(f.registry->update_handler(demo_spec(f, "nope"), hook("x")).ok());
  CHECK_FALSE(f.registry->delete_target_group("nope", hook("x")).ok());
  CHECK_FALSE(f.registry->set_target_group_max_duration("nope", std::chrono::minutes(1), hook("x")).ok());
  CHECK_FALSE(f.registry->create_route({"nope", "demo-a", "", 1}, hook("x")).ok());
  CHECK_FALSE(f.registry->set_route_priority("nope", "demo-a", "ProjectRole", 1, hook("x")).ok());
  CHECK_FALSE(f.registry->delete_route("nope", "demo-a", "ProjectRole", hook("x")).ok());
  CHECK(hook.runs == 0);
  CHECK(hook.rows("x") == 0);
}
