// The routing rule, clause by clause: numeric priority, priority 0, validity, health at decision time, the
// tie-break, empty groups, and a table that refuses bad input as a whole.
#include "routing_test_support.hpp"

#include <algorithm>
#include <random>

using namespace routing_test;

namespace {

struct PriorityCase {
  const char* name;
  std::vector<std::pair<std::string, int>> routes;  // handler, priority (all valid, healthy, one group)
  Names expected;
};

}  // namespace

TEST_CASE("candidates: highest priority first, compared as numbers") {
  const std::vector<PriorityCase> cases = {
      {"90 vs 100: 100 wins", {{"a", 90}, {"b", 100}}, {"b", "a"}},
      {"100 vs 90, other input order", {{"b", 100}, {"a", 90}}, {"b", "a"}},
      {"9 vs 10 vs 100", {{"a", 9}, {"b", 10}, {"c", 100}}, {"c", "b", "a"}},
      {"text order would pick 9 first", {{"h100", 100}, {"h9", 9}, {"h90", 90}}, {"h100", "h90", "h9"}},
      {"extremes 1 and 999", {{"low", 1}, {"high", 999}, {"mid", 500}}, {"high", "mid", "low"}},
      {"single route", {{"only", 42}}, {"only"}},
      {"priority 0 is left out", {{"off", 0}, {"on", 1}}, {"on"}},
      {"only priority 0 → none", {{"x", 0}, {"y", 0}}, {}},
  };
  for (const auto& c : cases) {
    INFO(c.name);
    std::vector<Route> routes;
    for (const auto& [handler, priority] : c.routes) routes.push_back(route("g", handler, priority));
    const RoutingTable table = table_of(routes);
    FakeHealth health;
    CHECK(handlers(table.candidates("g", health)) == c.expected);
    const auto best = table.best("g", health);
    CHECK(best.has_value() == !c.expected.empty());
    if (best) CHECK(std::string(best->handler) == c.expected.front());
  }
}

TEST_CASE("candidates: priority 0 disables a route, whatever else it has") {
  const RoutingTable table = table_of({route("g", "disabled", 0), route("g", "enabled", 5)});
  FakeHealth health;
  CHECK(handlers(table.candidates("g", health)) == Names{"enabled"});
  CHECK(handlers(table.eligible("g")) == Names{"enabled"});
  // Known as a handler (a revoke may still be pinned to it), just never a candidate.
  CHECK(table.handler("disabled").index != kNoHandlerIndex);
}

TEST_CASE("candidates: an invalid route is never a candidate, even with the highest priority") {
  const RoutingTable table = table_of({route("g", "incompatible", 999, "Database", /*valid=*/false),
                                       route("g", "compatible", 1)});
  FakeHealth health;
  CHECK(handlers(table.candidates("g", health)) == Names{"compatible"});
  CHECK(std::string(table.best("g", health)->handler) == "compatible");
  CHECK(table.route_count() == 2);
  CHECK(table.eligible_count() == 1);
}

TEST_CASE("candidates: an unhealthy handler loses its routes and gets them back when healthy") {
  const RoutingTable table = table_of({route("g", "primary", 100), route("g", "secondary", 50)});
  FakeHealth health;
  CHECK(handlers(table.candidates("g", health)) == Names{"primary", "secondary"});

  health.down("primary");  // the same snapshot: health is asked at decision time, never cached
  CHECK(handlers(table.candidates("g", health)) == Names{"secondary"});
  CHECK(std::string(table.best("g", health)->handler) == "secondary");

  health.down("secondary");
  CHECK(table.candidates("g", health).empty());
  CHECK_FALSE(table.best("g", health).has_value());

  health.up("primary");
  CHECK(handlers(table.candidates("g", health)) == Names{"primary"});
  health.up("secondary");
  CHECK(handlers(table.candidates("g", health)) == Names{"primary", "secondary"});
}

TEST_CASE("candidates: ties break by handler id ascending, then kind, whatever the input order") {
  std::vector<Route> routes = {
      route("g", "hb", 50, "Table"), route("g", "hb", 50, "Database"), route("g", "ha", 50, "Table"),
      route("g", "hc", 70, "Database"), route("g", "h10", 50, "Database"), route("g", "h9", 50, "Database"),
      route("g", "ha", 10, "Database"), route("g", "B", 50, "Database"),
  };
  // Byte order: "B" < "h10" < "h9" < "ha" < "hb"; kinds: "Database" < "Table".
  const Names expected = {"hc/Database", "B/Database", "h10/Database", "h9/Database", "ha/Table",
                          "hb/Database", "hb/Table",    "ha/Database"};
  FakeHealth health;
  CHECK(handler_kinds(table_of(routes).candidates("g", health)) == expected);

  std::mt19937 shuffle_seed(20240601);
  for (int round = 0; round < 50; ++round) {
    std::shuffle(routes.begin(), routes.end(), shuffle_seed);
    const RoutingTable table = table_of(routes);
    INFO("round " << round);
    CHECK(handler_kinds(table.candidates("g", health)) == expected);
    // route points back at the input position, whatever it became
    for (const auto& c : table.candidates("g", health)) {
      CHECK(routes[c.route].handler == c.handler);
      CHECK(routes[c.route].kind == c.kind);
      CHECK(routes[c.route].priority == c.priority);
    }
  }
}

TEST_CASE("candidates: nothing for an empty table, an unknown group or a group without usable routes") {
  FakeHealth health;
  const RoutingTable empty;
  CHECK(empty.candidates("g", health).empty());
  CHECK_FALSE(empty.best("g", health).has_value());
  CHECK(empty.eligible("g").empty());

  const RoutingTable built_empty = table_of({});
  CHECK(built_empty.candidates("g", health).empty());
  CHECK(built_empty.route_count() == 0);

  const RoutingTable table = table_of({route("g", "a", 10), route("unusable", "b", 0),
                                       route("unusable", "c", 10, "Database", false)});
  CHECK(table.candidates("unknown", health).empty());
  CHECK(table.candidates("", health).empty());
  CHECK(table.candidates("unusable", health).empty());
  CHECK(table.group_count() == 1);
  CHECK(health.asked() == 0);  // nothing eligible → health is not even asked
}

TEST_CASE("candidates: target groups do not see each other's routes") {
  const RoutingTable table = table_of({route("g1", "a", 10), route("g2", "b", 20), route("g1", "c", 30),
                                       route("g2", "a", 5), route("g10", "z", 999)});
  FakeHealth health;
  CHECK(handlers(table.candidates("g1", health)) == Names{"c", "a"});
  CHECK(handlers(table.candidates("g2", health)) == Names{"b", "a"});
  CHECK(handlers(table.candidates("g10", health)) == Names{"z"});
}

TEST_CASE("candidates: health is asked lazily and limit stops the walk") {
  const RoutingTable table = table_of({route("g", "a", 40), route("g", "b", 30), route("g", "c", 20),
                                       route("g", "d", 10)});
  FakeHealth health{"a"};
  CHECK(std::string(table.best("g", health)->handler) == "b");
  CHECK(health.asked() == 2);  // a (down), b (up): c and d never asked

  FakeHealth counting{"a"};
  CHECK(handlers(table.candidates("g", counting, 2)) == Names{"b", "c"});
  CHECK(counting.asked() == 3);
  CHECK(table.candidates("g", counting, 0).empty());
}

TEST_CASE("candidates: more candidates than fit inline keep their order") {
  std::vector<Route> routes;
  Names expected;
  for (int p = 40; p >= 1; --p) {
    routes.push_back(route("g", "h" + std::to_string(p), p));
    expected.push_back("h" + std::to_string(p));
  }
  std::reverse(routes.begin(), routes.end());
  const RoutingTable table = table_of(routes);
  FakeHealth health{"h40", "h1"};
  Names healthy(expected.begin() + 1, expected.end() - 1);
  const CandidateList list = table.candidates("g", health);
  CHECK(list.size() == 38);
  CHECK(handlers(list) == healthy);
  const CandidateList copy = list;  // a spilled list copies like a vector
  CHECK(handlers(copy) == healthy);
}

TEST_CASE("candidates: views stay valid while any copy of the table lives") {
  std::optional<RoutingTable> original = table_of({route("group-with-a-long-name", "handler-with-a-long-id", 7),
                                                   route("group-with-a-long-name", "h", 3)});
  const RoutingTable copy = *original;
  FakeHealth health;
  const CandidateList list = original->candidates("group-with-a-long-name", health);
  original.reset();
  CHECK(handlers(list) == Names{"handler-with-a-long-id", "h"});
  CHECK(copy.owns(list[0].handler_ref()));
}

TEST_CASE("handler(): interned ids are ascending and known even without eligible routes") {
  const RoutingTable table = table_of({route("g", "zeta", 0), route("g", "alpha", 5), route("g2", "mid", 1)});
  const auto ids = table.handler_ids();
  CHECK(Names(ids.begin(), ids.end()) == Names{"alpha", "mid", "zeta"});
  CHECK(table.handler("alpha").index == 0);
  CHECK(table.handler("zeta").index == 2);
  CHECK(table.handler("gone").index == kNoHandlerIndex);
  CHECK(table.handler("gone").id == "gone");
  CHECK(table.owns(table.handler("mid")));
  CHECK_FALSE(table.owns(HandlerRef{"mid", 1}));  // right index, but not a view into this snapshot
  const RoutingTable other = table_of({route("g", "alpha", 5)});
  CHECK_FALSE(table.owns(other.handler("alpha")));
}

TEST_CASE("interned_kind(): candidates of one kind share the snapshot's copy of its name") {
  const RoutingTable table = table_of({route("g", "a", 5, "Table"), route("g", "b", 4, "Database"),
                                       route("g", "c", 3, "Table")});
  const std::string asked = "Table";
  const std::string_view interned = table.interned_kind(asked);
  CHECK(interned == "Table");
  CHECK(interned.data() != asked.data());
  for (const auto& c : table.eligible("g"))
    CHECK((c.kind.data() == interned.data()) == (c.kind == "Table"));
  CHECK(table.interned_kind("Nothing").empty());
  CHECK(table.interned_kind("").empty());
}

TEST_CASE("build: refuses out-of-range priorities, empty names and duplicate routes, listing each") {
  struct BadCase {
    const char* name;
    std::vector<Route> routes;
    std::vector<std::string> paths;
    std::vector<std::string> message_parts;
  };
  const std::vector<BadCase> cases = {
      {"priority 1000", {route("g", "a", 1), route("g", "b", 1000)}, {"/routes/1/priority"},
       {"route 1 priority is 1000; a priority is 0–999 (0 disables the route)"}},
      {"negative priority", {route("g", "a", -1)}, {"/routes/0/priority"}, {"route 0 priority is -1"}},
      {"empty names", {Route{"", "", "", 1, true}},
       {"/routes/0/handler", "/routes/0/kind", "/routes/0/target_group"},
       {"route 0 has an empty target_group", "route 0 has an empty handler", "route 0 has an empty kind"}},
      {"duplicate route", {route("g", "a", 10), route("g", "b", 10), route("g", "a", 20), route("g", "a", 30)},
       {"/routes/2", "/routes/3"},
       {"route 2 repeats route 0 (target group 'g', handler 'a', kind 'Database')",
        "route 3 repeats route 0 (target group 'g', handler 'a', kind 'Database')"}},
  };
  for (const auto& c : cases) {
    INFO(c.name);
    auto built = RoutingTable::build(c.routes);
    REQUIRE_FALSE(built.ok());
    const auto& error = built.error();
    CHECK(error.code == "routing_table_invalid");
    CHECK_THAT(error.message, Catch::StartsWith("cannot build the routing table: "));
    for (const auto& part : c.message_parts) CHECK_THAT(error.message, Catch::Contains(part));
    std::vector<std::string> paths;
    for (const auto& d : error.diagnostics) paths.push_back(d.path);
    CHECK(paths == c.paths);
  }
  // Same handler and group under two kinds is not a duplicate.
  CHECK(RoutingTable::build(std::vector<Route>{route("g", "a", 10, "Database"), route("g", "a", 10, "Table")}).ok());
}
