// Routing tells why a handler was passed over (issue 13, item 7), and a failed grant names the handler that
// refused it with the provider's own message and field paths (item 5). The rules as pure functions first, then
// through the real engine on a real PostgreSQL with scripted providers.
#include "grant_test_support.hpp"

#include "grants/routing_skips.hpp"

#include <catch2/catch.hpp>

#include <mutex>

using namespace grant_test;
using grants::GrantEngine;
using grants::GrantStatus;

namespace {

grants::RouteState state(const std::string& handler, int priority, bool valid, bool healthy,
                         const std::string& reason = "") {
  grants::RouteState s;
  s.handler = handler;
  s.kind = "Thing";
  s.priority = priority;
  s.valid = valid;
  s.invalid_reason = valid ? "" : "kind schema lacks property 'level'";
  s.healthy = healthy;
  s.health_status = healthy ? "healthy" : "unhealthy";
  s.health_reason = reason;
  return s;
}

// Collects what the engine reports to the metric hook.
struct SkipLog {
  std::mutex mutex;
  std::vector<std::pair<std::string, std::string>> skips;
  void attach(grants::GrantEngineOptions& options) {
    options.on_routing_skip = [this](const std::string& handler, const std::string& reason) {
      std::lock_guard lock(mutex);
      skips.emplace_back(handler, reason);
    };
  }
  std::vector<std::pair<std::string, std::string>> taken() {
    std::lock_guard lock(mutex);
    return skips;
  }
};

std::string history_text(GrantEngine& engine, const std::string& id) {
  auto h = engine.history(id);
  REQUIRE(h.ok());
  std::string out;
  for (const auto& e : *h) out += e.reason + "\n";
  return out;
}

}  // namespace

TEST_CASE("passed_over names unhealthy and invalid routes above the chosen one, and every disabled route",
          "[grants][routing_skips]") {
  const std::vector<grants::RouteState> routes{
      state("h-a", 50, true, true),
      state("h-b", 100, true, false, "backend unreachable"),
      state("h-c", 0, true, true),
      state("h-d", 80, false, true),
      state("h-e", 10, true, false, "down too"),   // below the chosen route: not passed over
      state("h-f", 20, false, true),               // invalid but below: not passed over
  };
  const grants::ChosenRoute chosen{"h-a", "Thing", 50};
  const auto skips = grants::passed_over(routes, chosen, {});
  REQUIRE(skips.size() == 3);
  CHECK(skips[0].handler == "h-b");
  CHECK(skips[0].reason == "unhealthy");
  CHECK(skips[0].text == "skipped 'h-b' (priority 100): unhealthy: backend unreachable");
  CHECK(skips[1].handler == "h-d");
  CHECK(skips[1].reason == "invalid");
  CHECK(skips[1].text == "skipped 'h-d' (priority 80): invalid route: kind schema lacks property 'level'");
  CHECK(skips[2].handler == "h-c");
  CHECK(skips[2].reason == "disabled");
  CHECK(skips[2].text == "skipped 'h-c' (priority 0): disabled");

  // A handler the decision called is a failover, not a skip; with no chosen route every unhealthy one counts.
  const std::vector<std::string> called{"h-b"};
  const auto none_chosen = grants::passed_over(routes, std::nullopt, called);
  std::vector<std::string> handlers;
  for (const auto& s : none_chosen) handlers.push_back(s.handler + "/" + s.reason);
  CHECK(handlers == std::vector<std::string>{"h-d/invalid", "h-f/invalid", "h-e/unhealthy", "h-c/disabled"});

  // "since" is printed in UTC with milliseconds; equal priorities rank by handler id like the router.
  auto since = state("h-0", 50, true, false, "gone");
  since.unhealthy_since = std::chrono::system_clock::time_point(std::chrono::milliseconds(1'764'580'802'430));
  const std::vector<grants::RouteState> tie{since, state("h-a", 50, true, true)};
  const auto tied = grants::passed_over(tie, chosen, {});
  REQUIRE(tied.size() == 1);
  CHECK(tied[0].text == "skipped 'h-0' (priority 50): unhealthy since 2025-12-01T09:20:02.430Z: gone");
  CHECK(grants::joined_skips(skips) ==
        skips[0].text + "; " + skips[1].text + "; " + skips[2].text);
}

TEST_CASE("a grant's history says which higher routes were skipped and why, and the metric hook counts them",
          "[grants][routing_skips]") {
  World world("grants_routing_skips");
  world.add_handler("h-a");
  world.add_handler("h-b");
  world.add_handler("h-c");
  world.add_handler("h-d");
  world.plane().set_health("h-b", false, "backend unreachable");
  world.routes({{kGroup, "h-a", "Thing", 50, true},
                {kGroup, "h-b", "Thing", 100, true},
                {kGroup, "h-c", "Thing", 0, true},
                {kGroup, "h-d", "Thing", 80, false}});
  auto options = World::fast_options("skips");
  SkipLog log;
  log.attach(options);
  GrantEngine engine(world.db(), world.plane(), options);

  auto requested = engine.request(world.spec("alice@example.com", 60s));
  REQUIRE(requested.ok());
  REQUIRE(engine.run_once().ok());
  auto g = engine.get(requested->id);
  REQUIRE(g.ok());
  REQUIRE(g->status == GrantStatus::active);
  CHECK(g->handler_id == "h-a");

  const std::string history = history_text(engine, g->id);
  INFO(history);
  CHECK_THAT(history, Catch::Contains("granted by handler 'h-a' (priority 50)") &&
                          Catch::Contains("; skipped 'h-b' (priority 100): unhealthy since 20") &&
                          Catch::Contains(": backend unreachable") &&
                          Catch::Contains("skipped 'h-d' (priority 80): invalid route") &&
                          Catch::Contains("skipped 'h-c' (priority 0): disabled"));
  CHECK(log.taken() == std::vector<std::pair<std::string, std::string>>{
                           {"h-b", "unhealthy"}, {"h-d", "invalid"}, {"h-c", "disabled"}});
  // The activation is a transition: the audit log has the same sentence.
  CHECK(count(world.db(), "SELECT count(*) FROM audit_log WHERE action = 'grant.active' AND details->>'reason' "
                          "LIKE '%skipped ''h-b'' (priority 100): unhealthy since %'") == 1);
}

TEST_CASE("a grant with no candidate says which routes were skipped, once per distinct reason",
          "[grants][routing_skips]") {
  World world("grants_routing_skips_wait");
  world.add_handler("h-b");
  world.plane().set_health("h-b", false, "backend unreachable");
  world.routes({{kGroup, "h-b", "Thing", 100, true}});
  auto options = World::fast_options("skips-wait");
  SkipLog log;
  log.attach(options);
  GrantEngine engine(world.db(), world.plane(), options);

  auto requested = engine.request(world.spec("alice@example.com", 60s));
  REQUIRE(requested.ok());
  REQUIRE(engine.run_once().ok());
  REQUIRE(engine.routing_changed().ok());  // due again now: the same reason is not noted twice
  REQUIRE(engine.run_once().ok());
  auto g = engine.get(requested->id);
  REQUIRE(g.ok());
  CHECK(g->status == GrantStatus::pending);
  CHECK_THAT(g->last_error, Catch::StartsWith("no candidate: target group 'things' has no valid route") &&
                                Catch::Contains("; skipped 'h-b' (priority 100): unhealthy since ") &&
                                Catch::EndsWith(": backend unreachable"));
  CHECK(count(world.db(), "SELECT count(*) FROM grant_history WHERE grant_id = '" + g->id +
                              "' AND reason LIKE '%skipped ''h-b''%'") == 1);
  CHECK(log.taken() == std::vector<std::pair<std::string, std::string>>{{"h-b", "unhealthy"}});
}

TEST_CASE("a refused grant names the refusing handler and keeps the provider's message and field paths",
          "[grants][routing_skips]") {
  World world("grants_refusal_recorded");
  world.add_handler("h-a");
  world.add_handler("h-c");
  world.script("h-a", "grant_mode", "invalid");
  world.routes({{kGroup, "h-a", "Thing", 50, true}, {kGroup, "h-c", "Thing", 0, true}});
  GrantEngine engine(world.db(), world.plane(), World::fast_options("refusal"));

  auto requested = engine.request(world.spec("alice@example.com", 60s));
  REQUIRE(requested.ok());
  REQUIRE(engine.run_once().ok());
  auto g = engine.get(requested->id);
  REQUIRE(g.ok());
  REQUIRE(g->status == GrantStatus::failed);
  CHECK(g->handler_id == "h-a");  // before: empty, so `grant list` showed "-" for failed grants
  CHECK(g->kind == "Thing");
  REQUIRE(g->ended_at.has_value());
  CHECK_THAT(g->end_reason, Catch::StartsWith("refused by handler 'h-a': invalid_argument: scripted: the target is "
                                              "invalid here") &&
                                Catch::Contains("skipped 'h-c' (priority 0): disabled"));
  REQUIRE(g->failure.has_value());
  CHECK(g->failure->handler == "h-a");
  CHECK(g->failure->code == "invalid_argument");
  CHECK(g->failure->message == "scripted: the target is invalid here");
  REQUIRE(g->failure->details.size() == 1);
  CHECK(g->failure->details[0].first == "/target/name");
  // Listing reads the same columns.
  auto listed = engine.list(grants::GrantFilter{GrantStatus::failed, std::nullopt, std::nullopt, 10});
  REQUIRE(listed.ok());
  REQUIRE(listed->size() == 1);
  CHECK((*listed)[0].handler_id == "h-a");
  REQUIRE((*listed)[0].failure.has_value());
}
