// Failover: retryable failures walk down the priorities (including to lower ones), a non-retryable one stops.
#include "routing_test_support.hpp"

#include <type_traits>

using namespace routing_test;

// A plan keeps references to its health source and candidates: temporaries are refused at compile time.
static_assert(std::is_constructible_v<FailoverPlan, const RoutingTable&, std::string_view, const FakeHealth&>);
static_assert(!std::is_constructible_v<FailoverPlan, const RoutingTable&, std::string_view, FakeHealth>);
static_assert(std::is_constructible_v<FailoverPlan, const CandidateList&, const FakeHealth&>);
static_assert(!std::is_constructible_v<FailoverPlan, CandidateList, const FakeHealth&>);

namespace {

// Runs a plan, failing every attempt with `retryable`; returns the handlers called, in order.
Names walk(FailoverPlan& plan, bool retryable) {
  Names called;
  while (const Candidate* c = plan.current()) {
    called.emplace_back(c->handler);
    plan.fail(retryable);
  }
  return called;
}

}  // namespace

TEST_CASE("failover: retryable failures move to the next candidate, down to the lowest priority") {
  const RoutingTable table = table_of({route("g", "p10", 10), route("g", "p100", 100), route("g", "p90", 90),
                                       route("g", "p9", 9), route("g", "off", 0),
                                       route("g", "invalid", 500, "Database", false)});
  FakeHealth health;
  FailoverPlan plan(table, "g", health);
  REQUIRE(plan.state() == FailoverPlan::State::trying);
  CHECK(plan.current()->handler == table.best("g", health)->handler);
  CHECK(walk(plan, /*retryable=*/true) == Names{"p100", "p90", "p10", "p9"});
  CHECK(plan.state() == FailoverPlan::State::exhausted);
  CHECK(handlers(plan.attempted()) == Names{"p100", "p90", "p10", "p9"});
  CHECK(plan.fail(true) == nullptr);  // ignored once finished
}

TEST_CASE("failover: a non-retryable failure stops at once") {
  const RoutingTable table = table_of({route("g", "a", 30), route("g", "b", 20), route("g", "c", 10)});
  FakeHealth health;
  FailoverPlan plan(table, "g", health);
  CHECK(plan.fail(/*retryable=*/true)->handler == "b");
  CHECK(plan.fail(/*retryable=*/false) == nullptr);
  CHECK(plan.state() == FailoverPlan::State::stopped);
  CHECK(plan.current() == nullptr);
  CHECK(handlers(plan.attempted()) == Names{"a", "b"});  // c never called
  CHECK(plan.fail(true) == nullptr);
  CHECK(plan.state() == FailoverPlan::State::stopped);
}

TEST_CASE("failover: success ends the plan") {
  const RoutingTable table = table_of({route("g", "a", 30), route("g", "b", 20)});
  FakeHealth health;
  FailoverPlan plan(table, "g", health);
  plan.fail(true);
  plan.succeed();
  CHECK(plan.state() == FailoverPlan::State::succeeded);
  CHECK(plan.current() == nullptr);
  CHECK(handlers(plan.attempted()) == Names{"a", "b"});
}

TEST_CASE("failover: no candidate means exhausted before any call") {
  FakeHealth health{"a"};
  const RoutingTable table = table_of({route("g", "a", 30)});
  FailoverPlan plan(table, "g", health);
  CHECK(plan.state() == FailoverPlan::State::exhausted);
  CHECK(plan.current() == nullptr);
  CHECK(plan.attempted().empty());

  FailoverPlan unknown(table, "other", health);
  CHECK(unknown.state() == FailoverPlan::State::exhausted);
}

TEST_CASE("failover: health is asked again at each step") {
  const RoutingTable table = table_of({route("g", "a", 30), route("g", "b", 20), route("g", "c", 10)});
  FakeHealth health;
  FailoverPlan plan(table, "g", health);
  health.down("b");  // went unhealthy while "a" was being called
  CHECK(plan.fail(true)->handler == "c");
  CHECK(handlers(plan.attempted()) == Names{"a", "c"});
}

TEST_CASE("failover: a handler that failed is not called again under another kind") {
  const RoutingTable table = table_of({route("g", "a", 30, "Database"), route("g", "a", 20, "Table"),
                                       route("g", "b", 10, "Database")});
  FakeHealth health;
  FailoverPlan plan(table, "g", health);
  CHECK(handler_kinds(std::span<const Candidate>(plan.current(), 1)) == Names{"a/Database"});
  CHECK(plan.fail(true)->handler == "b");
  CHECK(plan.fail(true) == nullptr);
  CHECK(handler_kinds(plan.attempted()) == Names{"a/Database", "b/Database"});
}

TEST_CASE("failover: over a candidate list the caller keeps") {
  const RoutingTable table = table_of({route("g", "a", 30), route("g", "b", 20), route("g", "c", 10)});
  FakeHealth health{"b"};
  const CandidateList candidates = table.candidates("g", health);
  FailoverPlan plan(candidates, health);
  CHECK(walk(plan, true) == Names{"a", "c"});
}

TEST_CASE("next_untried: the stateless walk a resumed engine uses") {
  const RoutingTable table = table_of({route("g", "a", 30), route("g", "b", 20), route("g", "c", 10)});
  FakeHealth health;
  const auto ordered = table.eligible("g");
  struct Case {
    std::vector<std::string_view> failed;
    std::optional<std::string> expected;
  };
  const std::vector<Case> cases = {
      {{}, "a"}, {{"a"}, "b"}, {{"b", "a"}, "c"}, {{"a", "b", "c"}, std::nullopt}, {{"c"}, "a"},
  };
  for (const auto& c : cases) {
    const auto next = next_untried(ordered, c.failed, health);
    CHECK(next.has_value() == c.expected.has_value());
    if (next && c.expected) CHECK(std::string(next->handler) == *c.expected);
  }
  health.down("b");
  const std::vector<std::string_view> failed_a = {"a"};
  CHECK(next_untried(ordered, failed_a, health)->handler == "c");
}
