// Sync engine against a real PostgreSQL and real provider libraries: full syncs, re-syncs, tasks,
// memory-bounded streaming, one sync per handler, the schedule.
#include "inventory_fixture.hpp"

#include <chrono>
#include <thread>

using namespace gatehouse;
using namespace gatehouse::test;
using host::inventory::SyncEngine;

namespace {
std::string items(int n, const std::string& prefix = "item-") {
  nlohmann::json list = nlohmann::json::array();
  for (int i = 1; i <= n; ++i)
    list.push_back({{"id", prefix + std::to_string(i)}, {"name", "Item " + std::to_string(i)}, {"data", {{"size", i}}}});
  return list.dump();
}
}  // namespace

TEST_CASE("a full sync of the demo provider stores every resource with its data and relations") {
  InventoryFixture f("inventory_full");
  f.demo_handler("demo-1");
  SyncEngine engine(f.db, *f.registry, quick_options());

  auto run = engine.run("demo-1");
  if (!run) FAIL(run.error().describe());
  CHECK(run->status == "succeeded");
  CHECK(run->trigger == "on_demand");
  CHECK(run->handler_id == "demo-1");
  CHECK(run->resources_seen == 8);
  CHECK(run->resources_written == 8);
  CHECK(run->resources_removed == 0);
  CHECK_FALSE(run->finished_at.empty());
  REQUIRE(run->loaders.size() == 3);
  for (const auto& l : run->loaders) {
    CHECK(l.status == "succeeded");
    CHECK(l.error.empty());
  }
  CHECK(run->loader("fetch_users")->resources_seen == 4);
  CHECK(run->loader("fetch_groups")->resources_seen == 2);
  CHECK(run->loader("fetch_projects")->pages == 1);
  CHECK(f.scalar("SELECT count(*) FROM resources WHERE handler_id = 'demo-1'") == 8);

  auto group = host::inventory::get_resource(f.db, "demo-1", "Group", "engineering");
  if (!group) FAIL(group.error().describe());
  CHECK(group->resource.name == "Engineering");
  CHECK(group->resource.loader == "fetch_groups");
  CHECK(group->resource.data["members"] == nlohmann::json({"alice", "bob", "carol"}));
  CHECK(group->resource.relations["members"]["type"] == "User");
  CHECK(group->resource.relations["members"]["ids"] == nlohmann::json({"alice", "bob", "carol"}));
  CHECK_FALSE(group->resource.last_seen_at.empty());
  REQUIRE(group->related.size() == 3);
  CHECK(group->related[0].name == std::optional<std::string>("Alice Archer"));

  auto alice = host::inventory::get_resource(f.db, "demo-1", "User", "alice");
  REQUIRE(alice.ok());
  CHECK(alice->resource.data["email"] == "alice@example.com");
  REQUIRE(alice->referenced_by.size() == 1);
  CHECK(alice->referenced_by[0].id == "engineering");
  CHECK(alice->referenced_by[0].field == "members");

  const auto json = host::inventory::to_json(*group);
  CHECK(json["related"][0]["exists"] == true);
  CHECK(json["relations"]["members"]["type"] == "User");

  // A second sync with nothing changed writes nothing and removes nothing.
  auto again = engine.run("demo-1");
  REQUIRE(again.ok());
  CHECK(again->status == "succeeded");
  CHECK(again->resources_seen == 8);
  CHECK(again->resources_written == 0);
  CHECK(again->resources_removed == 0);
  CHECK(f.scalar("SELECT count(*) FROM resources WHERE changed_run = $1::bigint", std::to_string(run->id)) == 8);
}

TEST_CASE("a re-sync writes changed rows only and removes rows a complete loader no longer returns") {
  InventoryFixture f("inventory_resync");
  f.scripted_handler("scripted-1");
  f.script_file("items.json", items(5));
  f.script_file("tags.json", R"([{"id":"red","name":"Red"}])");
  SyncEngine engine(f.db, *f.registry, quick_options());

  auto first = engine.run("scripted-1");
  REQUIRE(first.ok());
  CHECK(first->status == "succeeded");
  CHECK(first->loader("items")->resources_written == 5);
  CHECK(first->loader("items")->pages == 3);  // page size 2

  nlohmann::json list = nlohmann::json::parse(items(5));
  list[1]["name"] = "Renamed";                   // item-2 changed
  list[2]["data"] = {{"size", 33}, {"tag", "red"}};  // item-3 changed (data, and now a relation)
  list.erase(3);                                 // item-4 gone
  f.script_file("items.json", list.dump());
  auto second = engine.run("scripted-1");
  REQUIRE(second.ok());
  CHECK(second->status == "succeeded");
  const auto* items_run = second->loader("items");
  CHECK(items_run->resources_seen == 4);
  CHECK(items_run->resources_written == 2);
  CHECK(items_run->resources_removed == 1);
  CHECK(second->loader("tags")->resources_written == 0);
  CHECK(second->resources_removed == 1);

  CHECK(f.scalar("SELECT count(*) FROM resources WHERE type = 'Item'") == 4);
  CHECK(f.scalar("SELECT count(*) FROM resources WHERE id = 'item-4'") == 0);
  auto renamed = host::inventory::get_resource(f.db, "scripted-1", "Item", "item-2");
  REQUIRE(renamed.ok());
  CHECK(renamed->resource.name == "Renamed");
  auto tagged = host::inventory::get_resource(f.db, "scripted-1", "Item", "item-3");
  REQUIRE(tagged.ok());
  CHECK(tagged->resource.relations["tag"]["ids"] == nlohmann::json({"red"}));
  REQUIRE(tagged->related.size() == 1);
  CHECK(tagged->related[0].name == std::optional<std::string>("Red"));
  // Unchanged rows were not rewritten.
  CHECK(f.scalar("SELECT changed_run FROM resources WHERE id = 'item-1'") == first->id);
  CHECK(f.scalar("SELECT changed_run FROM resources WHERE id = 'item-2'") == second->id);
}

TEST_CASE("follow-up tasks and next page tokens are all followed") {
  InventoryFixture f("inventory_tasks");
  f.scripted_handler("scripted-1");
  auto options = quick_options();
  options.concurrency = 3;
  SyncEngine engine(f.db, *f.registry, options);
  auto run = engine.run("scripted-1");
  REQUIRE(run.ok());
  CHECK(run->status == "succeeded");
  const auto* fanout = run->loader("fanout");
  REQUIRE(fanout != nullptr);
  CHECK(fanout->pages == 7);
  CHECK(fanout->resources_seen == 10);
  CHECK(f.scalar("SELECT count(*) FROM resources WHERE type = 'Part'") == 10);
  CHECK(f.scalar("SELECT count(*) FROM resources WHERE type = 'Part' AND id = 'p2-c'") == 1);
}

TEST_CASE("200k synthetic users stream through a bounded buffer, with progress visible while running") {
  InventoryFixture f("inventory_scale");
  f.demo_handler("demo-big", 200'000, 500);
  auto options = quick_options();
  options.batch_rows = 20'000;
  SyncEngine engine(f.db, *f.registry, options);

  auto id = engine.start_run("demo-big");
  REQUIRE(id.ok());
  // Polls the run until it ends. The deadline only matters when the sync is stuck: how long it takes depends on
  // the machine.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(240);
  bool saw_progress = false;
  host::inventory::SyncRun last;
  for (;;) {
    auto polled = host::inventory::get_sync_run(f.db, *id);
    REQUIRE(polled.ok());
    last = *polled;
    if (last.status == "running" && last.resources_seen > 0 && last.resources_seen < 200'008) saw_progress = true;
    if (last.status != "running" || std::chrono::steady_clock::now() > deadline) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  engine.stop();
  INFO("run " << *id << " is " << last.status << " with " << last.resources_seen << " resources seen");
  CHECK(saw_progress);
  REQUIRE(last.status == "succeeded");
  CHECK(last.resources_seen == 200'008);
  CHECK(last.loader("fetch_users")->pages == 401);
  CHECK(f.scalar("SELECT count(*) FROM resources WHERE handler_id = 'demo-big' AND type = 'User'") == 200'004);

  // The synchronous path reports the peak buffer: pages being fetched, queued and written, never the loader.
  SyncEngine again(f.db, *f.registry, options);
  auto rerun = again.run("demo-big");
  REQUIRE(rerun.ok());
  CHECK(rerun->status == "succeeded");
  CHECK(rerun->resources_written == 0);
  CHECK(rerun->peak_buffered_resources > 0);
  const auto bound = static_cast<std::int64_t>((options.concurrency * 3 + 2) * 500);
  CHECK(rerun->peak_buffered_resources <= bound);
}

TEST_CASE("only one sync of a handler runs at a time, in this engine and across engines") {
  InventoryFixture f("inventory_exclusive");
  f.scripted_handler("scripted-1");
  f.script_file("items.json", items(3));
  f.script_file("items_hold", "");  // the first run stays in its first page until the test removes this
  auto options = quick_options();
  options.call_timeout = std::chrono::seconds(60);  // the held page is not a timeout
  SyncEngine engine(f.db, *f.registry, options);
  SyncEngine other_replica(f.db, *f.registry, options);

  auto id = engine.start_run("scripted-1");
  REQUIRE(id.ok());
  auto refused = engine.run("scripted-1");
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.error().code == "sync_in_progress");
  CHECK(refused.error().message == "a sync of handler 'scripted-1' is already running (run " + std::to_string(*id) + ")");

  auto elsewhere = other_replica.start_run("scripted-1");
  REQUIRE_FALSE(elsewhere.ok());
  CHECK(elsewhere.error().code == "sync_in_progress");
  CHECK(elsewhere.error().message.find("(run " + std::to_string(*id) + ")") != std::string::npos);

  f.remove_script_file("items_hold");
  engine.stop();  // waits for the run
  auto done = host::inventory::get_sync_run(f.db, *id);
  REQUIRE(done.ok());
  CHECK(done->status != "running");
  // Once it ended, the other engine may sync.
  auto later = other_replica.run("scripted-1");
  REQUIRE(later.ok());
  CHECK(later->status == "succeeded");
}

TEST_CASE("the schedule syncs healthy handlers only, and an interval of 0 turns it off") {
  InventoryFixture f("inventory_schedule");
  f.demo_handler("demo-healthy");
  f.demo_handler("demo-sick");
  f.demo_handler("demo-off");
  REQUIRE(f.registry->record_health("demo-healthy", true, "ok").ok());
  REQUIRE(f.registry->record_health("demo-sick", false, "backend down").ok());
  REQUIRE(f.registry->record_health("demo-off", true, "ok").ok());
  auto options = quick_options();
  options.interval = std::chrono::seconds(1);
  options.interval_by_handler["demo-off"] = std::chrono::seconds(0);
  options.scheduler_tick = std::chrono::milliseconds(100);
  SyncEngine engine(f.db, *f.registry, options);
  engine.start();
  // Two scheduled syncs of the healthy handler; the deadline only matters when the schedule is stuck.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (f.scalar("SELECT count(*) FROM sync_runs WHERE handler_id = 'demo-healthy' AND status = 'succeeded'") < 2 &&
         std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  engine.stop();
  CHECK(f.scalar("SELECT count(*) FROM sync_runs WHERE handler_id = 'demo-healthy' AND trigger = 'schedule'") >= 2);
  CHECK(f.scalar("SELECT count(*) FROM sync_runs WHERE handler_id = 'demo-sick'") == 0);
  CHECK(f.scalar("SELECT count(*) FROM sync_runs WHERE handler_id = 'demo-off'") == 0);

  auto stopped = engine.run("demo-healthy");
  REQUIRE_FALSE(stopped.ok());
  CHECK(stopped.error().code == "engine_stopped");
  SyncEngine on_demand(f.db, *f.registry, options);
  auto unhealthy = on_demand.run("demo-sick");
  REQUIRE_FALSE(unhealthy.ok());
  CHECK(unhealthy.error().code == "handler_unavailable");
  CHECK(unhealthy.error().message == "handler 'demo-sick' is unhealthy: backend down");
  auto missing = on_demand.run("nope");
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error().code == "handler_not_found");
}
