// What a sync does when things go wrong: a loader failing midway, retryable failures, timeouts, hostile ids.
#include "inventory_fixture.hpp"

using namespace gatehouse;
using namespace gatehouse::test;
using host::inventory::SyncEngine;

namespace {
std::string items(int n) {
  nlohmann::json list = nlohmann::json::array();
  for (int i = 1; i <= n; ++i) list.push_back({{"id", "item-" + std::to_string(i)}, {"name", "Item " + std::to_string(i)}});
  return list.dump();
}
}  // namespace

TEST_CASE("a loader failing midway keeps every row it had, and the other loaders still finish") {
  InventoryFixture f("inventory_midway");
  f.scripted_handler("scripted-1");
  f.script_file("items.json", items(6));
  f.script_file("tags.json", R"([{"id":"red","name":"Red"},{"id":"blue","name":"Blue"}])");
  SyncEngine engine(f.db, *f.registry, quick_options());
  auto first = engine.run("scripted-1");
  REQUIRE(first.ok());
  REQUIRE(first->status == "succeeded");
  REQUIRE(f.scalar("SELECT count(*) FROM resources WHERE type = 'Item'") == 6);

  // Now the backend lists only 3 items and breaks on the second page; tags lost one.
  f.script_file("items.json", items(3));
  f.script_file("tags.json", R"([{"id":"red","name":"Red"}])");
  f.script_file("items_fail_page", "1");
  auto second = engine.run("scripted-1");
  REQUIRE(second.ok());
  CHECK(second->status == "partial");
  CHECK(second->error == "1 of 3 loaders failed; items: Load(items, page 2): scripted: items page 1 is broken");
  const auto* failed = second->loader("items");
  REQUIRE(failed != nullptr);
  CHECK(failed->status == "failed");
  CHECK(failed->error_code == "internal_error");
  CHECK(failed->resources_seen == 2);  // the first page arrived
  CHECK(failed->resources_removed == 0);
  CHECK(failed->retries == 0);  // internal is not retryable
  CHECK(f.scalar("SELECT count(*) FROM resources WHERE type = 'Item'") == 6);
  // The complete loader did remove its stale row.
  CHECK(second->loader("tags")->status == "succeeded");
  CHECK(second->loader("tags")->resources_removed == 1);
  CHECK(f.scalar("SELECT count(*) FROM resources WHERE type = 'Tag'") == 1);

  // Fixed backend: the next complete run removes what is really gone.
  f.remove_script_file("items_fail_page");
  auto third = engine.run("scripted-1");
  REQUIRE(third.ok());
  CHECK(third->status == "succeeded");
  CHECK(third->loader("items")->resources_removed == 3);
  CHECK(f.scalar("SELECT count(*) FROM resources WHERE type = 'Item'") == 3);
}

TEST_CASE("retryable failures are retried with backoff - past the attempts the loader fails") {
  InventoryFixture f("inventory_retry");
  f.scripted_handler("scripted-1");
  f.script_file("items.json", items(4));
  f.script_file("items_fail_page", "1");
  f.script_file("items_fail_code", "unavailable");
  f.script_file("items_fail_count", "2");
  SyncEngine engine(f.db, *f.registry, quick_options());  // 3 attempts

  auto recovered = engine.run("scripted-1");
  REQUIRE(recovered.ok());
  CHECK(recovered->status == "succeeded");
  CHECK(recovered->loader("items")->retries == 2);
  CHECK(recovered->loader("items")->resources_seen == 4);

  f.remove_script_file("items_fail_count");  // fails every time now
  auto exhausted = engine.run("scripted-1");
  REQUIRE(exhausted.ok());
  CHECK(exhausted->status == "partial");
  const auto* items_run = exhausted->loader("items");
  CHECK(items_run->status == "failed");
  CHECK(items_run->error_code == "unavailable");
  CHECK(items_run->retries == 2);
  CHECK(items_run->error ==
        "Load(items, page 2): scripted: items backend unavailable at page 1 (after 3 attempts)");
  CHECK(f.scalar("SELECT count(*) FROM resources WHERE type = 'Item'") == 4);
}

TEST_CASE("a Load call past its timeout fails the loader with deadline_exceeded") {
  InventoryFixture f("inventory_timeout");
  f.scripted_handler("scripted-1");
  f.script_file("items.json", items(2));
  f.script_file("items_hang_ms", "2000");
  auto options = quick_options();
  options.call_timeout = std::chrono::milliseconds(200);
  options.max_attempts = 1;
  SyncEngine engine(f.db, *f.registry, options);
  auto run = engine.run("scripted-1");
  REQUIRE(run.ok());
  CHECK(run->status == "partial");
  const auto* items_run = run->loader("items");
  CHECK(items_run->error_code == "deadline_exceeded");
  CHECK(items_run->error == "Load(items): gatehouse-tests/inventory-scripted@1.0.0 did not answer Load(items) within 200 ms");
  CHECK(run->loader("fanout")->status == "succeeded");
}

TEST_CASE("hostile ids, names and data are stored verbatim or rejected, never interpreted") {
  InventoryFixture f("inventory_hostile");
  f.scripted_handler("scripted-1");
  const std::vector<std::string> hostile = {
      "it's",         "a\"; DROP TABLE resources; --", "ünïcødé 🚀 日本", "tab\there",
      "back\\slash\\", "new\nline",                     "%_like",          "\\N",
      "$1",           "'); DELETE FROM sync_runs; --"};
  nlohmann::json list = nlohmann::json::array();
  for (const auto& id : hostile) list.push_back({{"id", id}, {"name", "name of " + id}, {"data", {{"note", id}}}});
  list.push_back({{"id", std::string("nul\0byte", 8)}, {"name", "x"}});
  list.push_back({{"id", "escaped-nul"}, {"name", "x"}, {"data", {{"note", std::string("a\0b", 3)}}}});
  list.push_back({{"id", ""}, {"name", "empty"}});
  f.script_file("items.json", list.dump());
  f.script_file("page_size", "4");
  SyncEngine engine(f.db, *f.registry, quick_options());

  auto run = engine.run("scripted-1");
  REQUIRE(run.ok());
  CHECK(run->status == "succeeded");
  const auto* items_run = run->loader("items");
  CHECK(items_run->resources_seen == static_cast<std::int64_t>(hostile.size()));
  CHECK(items_run->resources_rejected == 3);
  CHECK(items_run->error.find("some resources were rejected, e.g.: ") == 0);
  CHECK(f.scalar("SELECT count(*) FROM sync_runs") == 1);
  for (const auto& id : hostile) {
    auto found = host::inventory::get_resource(f.db, "scripted-1", "Item", id);
    if (!found) FAIL("missing " << id << ": " << found.error().describe());
    CHECK(found->resource.id == id);
    CHECK(found->resource.name == "name of " + id);
    CHECK(found->resource.data["note"] == id);
  }
  auto missing = host::inventory::get_resource(f.db, "scripted-1", "Item", "a'; --");
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error().code == "not_found");
  CHECK(missing.error().message == "no resource Item 'a'; --' for handler 'scripted-1'");

  // A text match is literal: % and _ match themselves only.
  host::inventory::ResourceFilter filter;
  filter.handler_id = "scripted-1";
  filter.match = "%_";
  auto matched = host::inventory::list_resources(f.db, filter);
  REQUIRE(matched.ok());
  REQUIRE(matched->resources.size() == 1);
  CHECK(matched->resources[0].id == "%_like");
  filter.match = "DROP TABLE";
  matched = host::inventory::list_resources(f.db, filter);
  REQUIRE(matched.ok());
  CHECK(matched->resources.size() == 1);
}

// A first sync copies batches straight into resources; a provider that returns one key twice makes that copy
// fail (unique violation), and the batch must then go through staging + merge without losing a row.
TEST_CASE("a provider returning one key twice on a first sync keeps every row, the last copy winning") {
  // resync_writes: on a re-sync, copies in different batches each win their own batch's merge in turn.
  const auto [batch_rows, resync_writes, label] = GENERATE(table<std::size_t, std::int64_t, const char*>({
      {1000, 0, "both copies in one batch"},
      {3, 2, "the copies in different batches"},
  }));
  INFO(label);
  InventoryFixture f("inventory_duplicates");
  f.scripted_handler("scripted-1");
  nlohmann::json list = nlohmann::json::array();
  list.push_back({{"id", "dup"}, {"name", "first copy"}});
  for (int i = 1; i <= 8; ++i) list.push_back({{"id", "item-" + std::to_string(i)}, {"name", "Item " + std::to_string(i)}});
  list.push_back({{"id", "dup"}, {"name", "last copy"}});
  list.push_back({{"id", "item-9"}, {"name", "Item 9"}});
  f.script_file("items.json", list.dump());
  f.script_file("page_size", "2");
  auto options = quick_options();
  options.batch_rows = batch_rows;
  options.concurrency = 1;  // one page chain anyway; keeps "last" well defined across the two writers
  SyncEngine engine(f.db, *f.registry, options);

  auto run = engine.run("scripted-1");
  REQUIRE(run.ok());
  INFO(run->error);
  CHECK(run->status == "succeeded");
  CHECK(run->loader("items")->resources_seen == 11);
  CHECK(f.scalar("SELECT count(*) FROM resources WHERE handler_id = 'scripted-1' AND type = 'Item'") == 10);
  auto dup = host::inventory::get_resource(f.db, "scripted-1", "Item", "dup");
  REQUIRE(dup.ok());
  CHECK(dup->resource.name == "last copy");
  for (int i = 1; i <= 9; ++i) CHECK(host::inventory::get_resource(f.db, "scripted-1", "Item", "item-" + std::to_string(i)).ok());

  // A re-sync (rows exist: staging + merge from the start) resolves the same repeats and ends the same.
  auto again = engine.run("scripted-1");
  REQUIRE(again.ok());
  INFO(again->error);
  CHECK(again->status == "succeeded");
  CHECK(again->resources_written == resync_writes);
  CHECK(again->resources_removed == 0);
  CHECK(f.scalar("SELECT count(*) FROM resources WHERE handler_id = 'scripted-1' AND type = 'Item'") == 10);
}
