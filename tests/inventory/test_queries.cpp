// The read side the faces use: paging through resources, sync run records and their JSON.
#include "inventory_fixture.hpp"

#include <regex>
#include <set>

using namespace gatehouse;
using namespace gatehouse::test;
using host::inventory::SyncEngine;

TEST_CASE("list_resources pages with an opaque cursor and filters by handler, type and text") {
  InventoryFixture f("inventory_list");
  f.demo_handler("demo-a", 10, 500);
  f.demo_handler("demo-b");
  SyncEngine engine(f.db, *f.registry, quick_options());
  REQUIRE(engine.run("demo-a").ok());
  REQUIRE(engine.run("demo-b").ok());

  host::inventory::ResourceFilter filter;
  filter.limit = 3;
  std::set<std::string> seen;
  int pages = 0;
  do {
    auto page = host::inventory::list_resources(f.db, filter);
    REQUIRE(page.ok());
    ++pages;
    for (const auto& r : page->resources) seen.insert(r.handler_id + "/" + r.type + "/" + r.id);
    filter.after = page->next_after;
  } while (!filter.after.empty());
  CHECK(seen.size() == 18 + 8);
  CHECK(pages == 9);

  host::inventory::ResourceFilter by_type;
  by_type.handler_id = "demo-a";
  by_type.type = "User";
  by_type.match = "SYNTHETIC USER 1";
  auto users = host::inventory::list_resources(f.db, by_type);
  REQUIRE(users.ok());
  REQUIRE(users->resources.size() == 2);  // 1 and 10
  CHECK(users->resources[0].id == "user-000001");
  CHECK(users->resources[1].id == "user-000010");
  CHECK(host::inventory::to_json(*users)["next_after"].is_null());

  host::inventory::ResourceFilter bad;
  bad.after = "zz";
  auto refused = host::inventory::list_resources(f.db, bad);
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.error().code == "invalid_argument");
  CHECK(refused.error().message == "the 'after' cursor is not one this server returned");
  bad.after.clear();
  bad.limit = 0;
  refused = host::inventory::list_resources(f.db, bad);
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.error().message == "limit must be between 1 and 1000, not 0");
}

TEST_CASE("sync runs are listed newest first with their loaders, and serialize to the documented JSON") {
  InventoryFixture f("inventory_runs");
  f.demo_handler("demo-a");
  f.demo_handler("demo-b");
  SyncEngine engine(f.db, *f.registry, quick_options());
  auto a1 = engine.run("demo-a");
  auto b1 = engine.run("demo-b");
  auto a2 = engine.run("demo-a");
  REQUIRE((a1.ok() && b1.ok() && a2.ok()));

  host::inventory::SyncRunFilter filter;
  filter.handler_id = "demo-a";
  auto runs = host::inventory::list_sync_runs(f.db, filter);
  REQUIRE(runs.ok());
  REQUIRE(runs->size() == 2);
  CHECK((*runs)[0].id == a2->id);
  CHECK((*runs)[1].id == a1->id);
  CHECK((*runs)[0].loaders.size() == 3);
  filter.before_id = a2->id;
  runs = host::inventory::list_sync_runs(f.db, filter);
  REQUIRE(runs.ok());
  REQUIRE(runs->size() == 1);
  CHECK((*runs)[0].id == a1->id);

  const auto json = host::inventory::to_json(*a1);
  for (const char* key : {"id", "handler_id", "trigger", "status", "started_at", "finished_at", "resources_seen",
                          "resources_written", "resources_removed", "resources_rejected", "error", "loaders"})
    CHECK(json.contains(key));
  CHECK(json["error"].is_null());
  CHECK(json["loaders"][0]["loader"] == "fetch_groups");
  CHECK(json["loaders"][0]["error_code"].is_null());
  // RFC 3339 in UTC with milliseconds, like every time of the API (docs/api.md): 2026-12-02T07:36:12.345Z.
  const std::regex rfc3339_ms(R"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z)");
  for (const auto& time : {json["started_at"], json["finished_at"], json["loaders"][0]["started_at"]}) {
    INFO(time.dump());
    CHECK(std::regex_match(time.get<std::string>(), rfc3339_ms));
  }

  auto missing = host::inventory::get_sync_run(f.db, 999999);
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error().code == "not_found");
  CHECK(missing.error().message == "no sync run 999999");
}
