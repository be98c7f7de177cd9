// Loaders: every resource exactly once, relations that resolve, paging that scales.
#include "demo_fixture.hpp"

#include <set>

using namespace demo_test;
using gatehouse::LoadRequest;
using gatehouse::Resource;

namespace {

std::set<std::string> ids_of(const std::vector<Resource>& resources, const std::string& type) {
  std::set<std::string> ids;
  for (const auto& r : resources) {
    CHECK(r.type == type);
    CHECK_FALSE(r.name.empty());
    CHECK(ids.insert(r.id).second);  // exactly once
  }
  return ids;
}

// Follows next_page_token by hand, returning the size of each page.
std::vector<size_t> page_sizes(gatehouse::testing::Instance& instance, const std::string& loader) {
  std::vector<size_t> sizes;
  std::string token;
  do {
    const auto page = instance.load(LoadRequest{loader, token});
    REQUIRE(page.code == Code::ok);
    sizes.push_back(page.result.resources.size());
    token = page.result.next_page_token;
  } while (!token.empty());
  return sizes;
}

}  // namespace

TEST_CASE("demo loaders return the built-in organisation with resolvable relations") {
  TempDir dir;
  // page_size 1 makes every item its own page, so paging is exercised even on the small set.
  for (int page_size : {1, 500}) {
    INFO("page_size " << page_size);
    auto instance = demo_provider().create(config_for(dir.path(), {{"page_size", page_size}}));
    const auto users = instance.load_all("fetch_users");
    const auto groups = instance.load_all("fetch_groups");
    const auto projects = instance.load_all("fetch_projects");

    const auto user_ids = ids_of(users, "User");
    const auto group_ids = ids_of(groups, "Group");
    const auto project_ids = ids_of(projects, "Project");
    CHECK(user_ids == std::set<std::string>{"alice", "bob", "carol", "dave"});
    CHECK(group_ids == std::set<std::string>{"engineering", "ops"});
    CHECK(project_ids == std::set<std::string>{"apollo", "zephyr"});

    for (const auto& u : users) CHECK(u.data.at("email") == u.id + "@example.com");
    for (const auto& g : groups) {
      REQUIRE(g.data.at("members").is_array());
      CHECK_FALSE(g.data["members"].empty());
      for (const auto& member : g.data["members"]) CHECK(user_ids.count(member.get<std::string>()) == 1);
    }
    for (const auto& p : projects) CHECK(group_ids.count(p.data.at("owner_group").get<std::string>()) == 1);
  }
}

TEST_CASE("demo synthetic users are paged: 2500 users at 1000 a page") {
  TempDir dir;
  auto instance = demo_provider().create(config_for(dir.path(), {{"synthetic_users", 2500}, {"page_size", 1000}}));
  CHECK(page_sizes(instance, "fetch_users") == std::vector<size_t>{1000, 1000, 504});

  const auto users = instance.load_all("fetch_users");
  const auto ids = ids_of(users, "User");
  CHECK(ids.size() == 2504);
  CHECK(ids.count("user-000001") == 1);
  CHECK(ids.count("user-002500") == 1);
  CHECK(ids.count("user-002501") == 0);
  // Groups and projects are unaffected.
  CHECK(page_sizes(instance, "fetch_groups") == std::vector<size_t>{2});
}

TEST_CASE("demo serves any page of a million synthetic users on its own") {
  TempDir dir;
  auto instance =
      demo_provider().create(config_for(dir.path(), {{"synthetic_users", 1000000}, {"page_size", 500}}));

  const auto first = instance.load(LoadRequest{"fetch_users", ""});
  REQUIRE(first.code == Code::ok);
  CHECK(first.result.resources.size() == 500);
  CHECK(first.result.next_page_token == "500");

  // 4 built-in users come first, so offset 1,000,000 holds the last four synthetic users.
  const auto last = instance.load(LoadRequest{"fetch_users", "1000000"});
  REQUIRE(last.code == Code::ok);
  REQUIRE(last.result.resources.size() == 4);
  CHECK(last.result.resources.front().id == "user-999997");
  CHECK(last.result.resources.back().id == "user-1000000");
  CHECK(last.result.next_page_token.empty());
}

TEST_CASE("demo walks a million synthetic users page by page") {
  TempDir dir;
  auto instance =
      demo_provider().create(config_for(dir.path(), {{"synthetic_users", 1000000}, {"page_size", 10000}}));
  // Count without keeping: the point is that neither side needs all users in memory.
  size_t total = 0, pages = 0;
  std::string token, last_id;
  do {
    auto page = instance.load(LoadRequest{"fetch_users", token});
    REQUIRE(page.code == Code::ok);
    total += page.result.resources.size();
    ++pages;
    last_id = page.result.resources.back().id;
    token = page.result.next_page_token;
  } while (!token.empty());
  CHECK(total == 1000004);
  CHECK(pages == 101);
  CHECK(last_id == "user-1000000");
}

TEST_CASE("demo rejects page tokens it did not issue") {
  TempDir dir;
  auto instance = demo_provider().create(config_for(dir.path()));
  for (const std::string token : {"abc", "-1", "+1", "12x", " 1", "5", "99999999999999999999999"}) {
    INFO("page token '" << token << "'");
    const auto page = instance.load(LoadRequest{"fetch_users", token});
    CHECK(page.code == Code::invalid_argument);
    CHECK_THAT(page.message, Catch::Contains("page token"));
    CHECK(has_path(page.diagnostics, "/page_token"));
  }
}

TEST_CASE("demo answers not_found for an unknown loader") {
  TempDir dir;
  auto instance = demo_provider().create(config_for(dir.path()));
  const auto page = instance.load(LoadRequest{"fetch_planets", ""});
  CHECK(page.code == Code::not_found);
  CHECK_THAT(page.message, Catch::Contains("fetch_planets"));
}
