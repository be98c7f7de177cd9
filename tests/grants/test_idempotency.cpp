// Idempotency keys and keyset paging in the grant engine (issue 13, item 6), on a real PostgreSQL: a retried
// request returns the first request's grant, a key reused for another request is refused, concurrent retries of
// one key create one grant, and paging walks every grant exactly once while new ones are inserted.
#include "grant_test_support.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <mutex>
#include <set>
#include <thread>

using namespace grant_test;
using grants::GrantEngine;
using grants::GrantStatus;

TEST_CASE("a request with an Idempotency-Key is stored once per principal and key", "[grants][idempotency]") {
  World world("grants_idempotency");
  world.add_handler("h-a");
  world.routes({{kGroup, "h-a", "Thing", 50, true}});
  GrantEngine engine(world.db(), world.plane(), World::fast_options("idem"));

  auto spec = world.spec("alice@example.com", 60s);
  spec.actor = "ops";
  spec.idempotency_key = "retry-1";
  auto first = engine.request_idempotent(spec);
  REQUIRE(first.ok());
  CHECK_FALSE(first->replayed);
  CHECK(first->grant.idempotency_key == "retry-1");
  REQUIRE(engine.run_once().ok());

  // Retried after the first was activated: the same grant, in its current state, nothing new stored.
  auto again = engine.request_idempotent(spec);
  REQUIRE(again.ok());
  CHECK(again->replayed);
  CHECK(again->grant.id == first->grant.id);
  CHECK(again->grant.status == GrantStatus::active);
  CHECK(count(world.db(), "SELECT count(*) FROM grants") == 1);

  // The same key for another request is a conflict naming the key and the grant.
  auto other = spec;
  other.duration = 120s;
  auto conflict = engine.request_idempotent(other);
  REQUIRE_FALSE(conflict.ok());
  CHECK(conflict.error().code == "idempotency_conflict");
  CHECK_THAT(conflict.error().message, Catch::Contains("Idempotency-Key 'retry-1' was already used by 'ops'") &&
                                           Catch::Contains(first->grant.id));

  // Keys are scoped per principal: another token may use the same key.
  auto bob = spec;
  bob.actor = "bob";
  auto bobs = engine.request_idempotent(bob);
  REQUIRE(bobs.ok());
  CHECK_FALSE(bobs->replayed);
  CHECK(bobs->grant.id != first->grant.id);

  // Malformed keys are refused before anything is stored.
  for (const std::string& bad : std::vector<std::string>{std::string(256, 'k'), "tab\there", "caf\xc3\xa9"}) {
    auto b = spec;
    b.idempotency_key = bad;
    auto refused = engine.request_idempotent(b);
    REQUIRE_FALSE(refused.ok());
    CHECK(refused.error().code == "invalid_argument");
    CHECK_THAT(refused.error().message, Catch::Contains("Idempotency-Key"));
  }
  CHECK(count(world.db(), "SELECT count(*) FROM grants") == 2);
}

TEST_CASE("concurrent retries of one Idempotency-Key create exactly one grant", "[grants][idempotency]") {
  World world("grants_idempotency_race");
  world.add_handler("h-a");
  world.routes({{kGroup, "h-a", "Thing", 50, true}});
  GrantEngine engine(world.db(), world.plane(), World::fast_options("race"));

  for (int round = 0; round < 5; ++round) {
    auto spec = world.spec("alice@example.com", 60s);
    spec.actor = "ops";
    spec.idempotency_key = "race-" + std::to_string(round);
    std::atomic<bool> go{false};
    std::vector<std::thread> threads;
    std::vector<gatehouse::host::Result<grants::RequestOutcome>> results;
    std::mutex mutex;
    for (int t = 0; t < 8; ++t)
      threads.emplace_back([&] {
        while (!go) std::this_thread::yield();
        auto r = engine.request_idempotent(spec);
        std::lock_guard lock(mutex);
        results.push_back(std::move(r));
      });
    go = true;
    for (auto& t : threads) t.join();
    std::set<std::string> ids;
    int created = 0;
    for (auto& r : results) {
      INFO((r.ok() ? std::string() : r.error().describe()));
      REQUIRE(r.ok());
      ids.insert(r->grant.id);
      created += r->replayed ? 0 : 1;
    }
    CHECK(ids.size() == 1);
    CHECK(created == 1);
    CHECK(count(world.db(), "SELECT count(*) FROM grants WHERE idempotency_key = '" + spec.idempotency_key + "'") ==
          1);
  }
}

TEST_CASE("listing pages by keyset: every grant once, newest first, while new grants arrive",
          "[grants][paging]") {
  World world("grants_paging");
  GrantEngine engine(world.db(), world.plane(), World::fast_options("paging"));  // no routes: grants stay pending
  std::set<std::string> before;
  for (int i = 0; i < 25; ++i) {
    auto g = engine.request(world.spec("user" + std::to_string(i) + "@example.com", 60s));
    REQUIRE(g.ok());
    before.insert(g->id);
  }
  std::vector<std::string> seen;
  grants::GrantFilter filter;
  filter.limit = 10;
  int pages = 0;
  while (true) {
    auto page = engine.list(filter);
    REQUIRE(page.ok());
    ++pages;
    for (const auto& g : *page) seen.push_back(g.id);
    // Inserted between pages: newer than the cursor, so never in a later page and never shifting one.
    REQUIRE(engine.request(world.spec("late@example.com", 60s)).ok());
    if (page->size() < filter.limit) break;
    const auto& last = page->back();
    filter.after = grants::GrantCursor{
        std::chrono::duration_cast<std::chrono::microseconds>(last.requested_at.time_since_epoch()).count(), last.id};
  }
  CHECK(pages == 3);
  CHECK(seen.size() == before.size());
  CHECK(std::set<std::string>(seen.begin(), seen.end()) == before);

  filter.after = grants::GrantCursor{1, "not-a-uuid"};
  auto refused = engine.list(filter);
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.error().code == "invalid_argument");
}
