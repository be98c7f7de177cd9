// HealthBitset answers exactly like a health function, for references from its snapshot (by bit), from
// other snapshots and for handlers without routes (by id).
#include "routing_test_support.hpp"

#include <unordered_set>

using namespace routing_test;

TEST_CASE("HealthBitset: gives the same candidates as a health function") {
  std::vector<Route> routes;
  for (int i = 0; i < 150; ++i) routes.push_back(route("g" + std::to_string(i % 7), "h" + std::to_string(i), 1 + i % 13));
  const RoutingTable table = table_of(routes);

  std::unordered_set<std::string> down;
  HealthBitset bits(table, /*initially_healthy=*/true);
  for (int i = 0; i < 150; i += 3) {
    down.insert("h" + std::to_string(i));
    bits.set("h" + std::to_string(i), false);
  }
  HealthFunction by_id{[&](std::string_view id) { return !down.contains(std::string(id)); }};
  for (int g = 0; g < 7; ++g) {
    const std::string group = "g" + std::to_string(g);
    INFO(group);
    CHECK(handlers(table.candidates(group, bits)) == handlers(table.candidates(group, by_id)));
  }
}

TEST_CASE("HealthBitset: unknown handlers, other snapshots and set_all") {
  const RoutingTable table = table_of({route("g", "a", 10), route("g", "b", 5)});
  HealthBitset bits(table);
  FakeHealth all_up;
  CHECK(table.candidates("g", bits).empty());  // never set → unhealthy

  bits.set("b", true);
  CHECK(handlers(table.candidates("g", bits)) == Names{"b"});

  // A handler without routes in this snapshot (e.g. the one that granted, routes since removed).
  CHECK_FALSE(bits.healthy(HandlerRef{"granted-earlier"}));
  bits.set("granted-earlier", true);
  CHECK(bits.healthy(HandlerRef{"granted-earlier"}));
  bits.set("granted-earlier", false);
  CHECK_FALSE(bits.healthy(HandlerRef{"granted-earlier"}));

  // A reference from another snapshot whose index means another handler there: answered by id.
  const RoutingTable other = table_of({route("g", "b", 5)});  // "b" has index 0 there, "a" has 0 here
  CHECK(other.handler("b").index == 0);
  CHECK(bits.healthy(other.handler("b")));
  CHECK_FALSE(bits.healthy(table.handler("a")));

  bits.set_all(true);
  CHECK(handlers(table.candidates("g", bits)) == Names{"a", "b"});
  CHECK(bits.healthy(HandlerRef{"granted-earlier"}));
  CHECK(bits.healthy(HandlerRef{"never-seen"}));
  bits.set_all(false);
  CHECK(table.candidates("g", bits).empty());
  CHECK_FALSE(bits.healthy(HandlerRef{"never-seen"}));
}

TEST_CASE("HealthBitset: the bit fast path and the per-route path agree") {
  std::vector<Route> routes;
  for (int i = 0; i < 200; ++i) routes.push_back(route("g", "h" + std::to_string(i), 1 + (i * 37) % 999));
  const RoutingTable table = table_of(routes);
  HealthBitset bits(table, /*initially_healthy=*/true);
  for (int i = 0; i < 200; i += 4) bits.set("h" + std::to_string(i), false);

  CHECK(bits.bits_for(table.snapshot_id()) != nullptr);
  const RoutingTable rebuilt = table_of(routes);  // same routes, another snapshot: no fast path
  CHECK(bits.bits_for(rebuilt.snapshot_id()) == nullptr);

  // Fast path (this snapshot) vs per-route answers (another snapshot's candidates, asked by id).
  CHECK(handlers(table.candidates("g", bits)) == handlers(rebuilt.candidates("g", bits)));
  CHECK(table.best("g", bits)->handler == rebuilt.best("g", bits)->handler);

  // FailoverPlan over a table (fast path) and over a span (per-route) walk the same handlers.
  FailoverPlan fast(table, "g", bits);
  FailoverPlan slow(table.eligible("g"), bits);
  while (fast.current() && slow.current()) {
    CHECK(fast.current()->handler == slow.current()->handler);
    fast.fail(true);
    slow.fail(true);
  }
  CHECK(fast.state() == FailoverPlan::State::exhausted);
  CHECK(slow.state() == FailoverPlan::State::exhausted);
  CHECK(fast.attempted().size() == 150);
}
