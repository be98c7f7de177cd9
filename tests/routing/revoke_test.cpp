// Revoke goes to the handler that granted; only when it is gone or unhealthy to the best candidate of the
// same kind; otherwise nowhere yet (the caller retries).
#include "routing_test_support.hpp"

using namespace routing_test;

namespace {

struct RevokeCase {
  const char* name;
  std::vector<Route> routes;       // group "g"
  std::set<std::string> down;      // unhealthy handlers
  GrantingHandler granted_by;
  std::string kind;
  std::optional<RevokeTarget> expected;
};

}  // namespace

TEST_CASE("revoke_target: pinned to the granting handler, with fallbacks") {
  const std::vector<RevokeCase> cases = {
      {"pinned even when a higher-priority route exists",
       {route("g", "granter", 10), route("g", "better", 999)}, {}, {"granter"}, "Database",
       RevokeTarget{"granter", "Database", true}},
      {"pinned when its route is disabled (draining)",
       {route("g", "granter", 0), route("g", "other", 50)}, {}, {"granter"}, "Database",
       RevokeTarget{"granter", "Database", true}},
      {"pinned when its route became invalid",
       {route("g", "granter", 50, "Database", false), route("g", "other", 50)}, {}, {"granter"}, "Database",
       RevokeTarget{"granter", "Database", true}},
      {"pinned when its routes are gone but the handler exists",
       {route("g", "other", 50)}, {}, {"granter", true}, "Database",
       RevokeTarget{"granter", "Database", true}},
      {"unhealthy granting handler → best candidate of the same kind",
       {route("g", "granter", 100), route("g", "low", 10), route("g", "high", 90), route("g", "table", 999, "Table")},
       {"granter"}, {"granter"}, "Database", RevokeTarget{"high", "Database", false}},
      {"gone granting handler → best candidate, even if routes and health still name it",
       {route("g", "granter", 100), route("g", "fallback", 10)}, {}, {"granter", /*exists=*/false}, "Database",
       RevokeTarget{"fallback", "Database", false}},
      {"fallback skips unhealthy, invalid and disabled candidates",
       {route("g", "down", 90), route("g", "invalid", 80, "Database", false), route("g", "off", 0),
        route("g", "ok", 1)},
       {"granter", "down"}, {"granter"}, "Database", RevokeTarget{"ok", "Database", false}},
      {"no candidate of the same kind → none (retry later)",
       {route("g", "table", 999, "Table")}, {"granter"}, {"granter"}, "Database", std::nullopt},
      {"everything unhealthy → none",
       {route("g", "granter", 10), route("g", "other", 5)}, {"granter", "other"}, {"granter"}, "Database",
       std::nullopt},
      {"gone and no routes at all → none", {}, {}, {"granter", false}, "Database", std::nullopt},
  };
  for (const auto& c : cases) {
    INFO(c.name);
    const RoutingTable table = table_of(c.routes);
    FakeHealth health;
    for (const auto& h : c.down) health.down(h);

    CHECK(revoke_target(c.granted_by, c.kind, table, "g", health) == c.expected);
    // The span form over the group's candidates decides the same.
    CHECK(revoke_target(c.granted_by, c.kind, table.candidates("g", health), health) == c.expected);
    CHECK(revoke_target(c.granted_by, c.kind, table.eligible("g"), health) == c.expected);
  }
}

TEST_CASE("revoke_target: comes back to the granting handler when it is healthy again") {
  const RoutingTable table = table_of({route("g", "granter", 10), route("g", "other", 50)});
  FakeHealth health{"granter"};
  CHECK(revoke_target({"granter"}, "Database", table, "g", health) == RevokeTarget{"other", "Database", false});
  health.up("granter");
  CHECK(revoke_target({"granter"}, "Database", table, "g", health) == RevokeTarget{"granter", "Database", true});
}

TEST_CASE("revoke_target: with a health bitset, for a granting handler with and without routes") {
  const RoutingTable table = table_of({route("g", "granter", 10), route("g", "other", 50)});
  HealthBitset bits(table, /*initially_healthy=*/true);
  CHECK(revoke_target({"granter"}, "Database", table, "g", bits) == RevokeTarget{"granter", "Database", true});
  bits.set("granter", false);
  CHECK(revoke_target({"granter"}, "Database", table, "g", bits) == RevokeTarget{"other", "Database", false});

  bits.set("unrouted-granter", true);
  CHECK(revoke_target({"unrouted-granter"}, "Database", table, "g", bits) ==
        RevokeTarget{"unrouted-granter", "Database", true});
}
