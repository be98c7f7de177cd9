// Loaders: the cluster's databases and roles, each exactly once, Role and Login told apart, paged.
#include "pg_provider_fixture.hpp"

using namespace pg_test;
using gatehouse::LoadRequest;
using gatehouse::Resource;

namespace {

std::map<std::string, Resource> by_id(const std::vector<Resource>& resources) {
  std::map<std::string, Resource> out;
  for (const auto& r : resources) {
    CHECK(r.name == r.id);
    CHECK(out.emplace(r.id, r).second);  // exactly once
  }
  return out;
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

TEST_CASE("postgres fetch_databases lists connectable databases, not templates") {
  Scenario pg("load_databases");
  auto instance = pg_provider().create(pg.config({{"page_size", 1}}));
  const auto all = by_id(instance.load_all("fetch_databases"));
  CHECK(all.count("postgres") == 1);
  CHECK(all.count(pg.database) == 1);
  CHECK(all.count("template0") == 0);
  CHECK(all.count("template1") == 0);
  for (const auto& [id, r] : all) CHECK(r.type == "Database");

  const auto count =
      pg.admin.query("SELECT count(*) FROM pg_database WHERE datallowconn AND NOT datistemplate")[0][0].as<size_t>();
  CHECK(all.size() == count);
  const auto sizes = page_sizes(instance, "fetch_databases");
  CHECK(sizes.size() >= count);  // one per page, and maybe an empty last one
}

TEST_CASE("postgres fetch_roles classifies Role and Login, with databases and grantable") {
  Scenario pg("load_roles");
  pg.admin.exec("REVOKE CONNECT ON DATABASE " + pg.admin.quote_name(pg.database) + " FROM PUBLIC");
  pg.admin.exec("GRANT CONNECT ON DATABASE " + pg.admin.quote_name(pg.database) + " TO app_writers");
  auto instance = pg_provider().create(pg.config({{"page_size", 3}}));
  const auto all = by_id(instance.load_all("fetch_roles"));

  const auto count = pg.admin.query("SELECT count(*) FROM pg_roles")[0][0].as<size_t>();
  CHECK(all.size() == count);
  for (const auto& row : pg.admin.query("SELECT rolname, rolcanlogin FROM pg_roles")) {
    const auto name = row[0].as<std::string>();
    INFO("role " << name);
    REQUIRE(all.count(name) == 1);
    CHECK(all.at(name).type == (row[1].as<bool>() ? "Login" : "Role"));
  }

  CHECK(all.at("postgres").type == "Login");
  CHECK(all.at("alice@example.com").type == "Login");
  CHECK(all.at("app_readers").type == "Role");
  CHECK(all.at("app_readers").data["grantable"] == true);
  CHECK(all.at("admin_secret").data["grantable"] == false);  // outside ^app_
  CHECK(all.at("app_escalate").data["grantable"] == false);  // reaches SUPERUSER
  CHECK(all.at("app_creator").data["grantable"] == false);   // CREATEROLE
  CHECK_FALSE(all.at("alice@example.com").data.contains("grantable"));

  // databases: where each may connect. PUBLIC lost CONNECT on the scenario's database; app_writers kept it.
  const auto has = [&](const std::string& role, const std::string& database) {
    const auto& list = all.at(role).data.at("databases");
    return std::find(list.begin(), list.end(), database) != list.end();
  };
  CHECK(has("app_writers", pg.database));
  CHECK_FALSE(has("app_readers", pg.database));
  CHECK(has("app_readers", "postgres"));
  CHECK(has("postgres", pg.database));  // superuser
  CHECK_FALSE(has("app_readers", "template1"));
}

TEST_CASE("postgres fetch_roles pages are full until the last and keyset tokens survive changes") {
  Scenario pg("load_pages");
  auto instance = pg_provider().create(pg.config({{"page_size", 4}}));
  const auto count = pg.admin.query("SELECT count(*) FROM pg_roles")[0][0].as<size_t>();
  const auto sizes = page_sizes(instance, "fetch_roles");
  REQUIRE(sizes.size() == (count + 3) / 4);
  for (size_t i = 0; i + 1 < sizes.size(); ++i) CHECK(sizes[i] == 4);

  // A role created before the page being read does not shift the pages after it: nothing repeats or
  // goes missing, which an offset token could not promise.
  const auto first = instance.load(LoadRequest{"fetch_roles", ""});
  REQUIRE(first.code == Code::ok);
  pg.admin.create_role("aaa_created_between_pages");
  std::set<std::string> seen;
  for (const auto& r : first.result.resources) seen.insert(r.id);
  std::string token = first.result.next_page_token;
  while (!token.empty()) {
    const auto page = instance.load(LoadRequest{"fetch_roles", token});
    REQUIRE(page.code == Code::ok);
    for (const auto& r : page.result.resources) CHECK(seen.insert(r.id).second);
    token = page.result.next_page_token;
  }
  CHECK(seen.size() == count);  // every role that existed when the walk began
  pg.admin.drop_role("aaa_created_between_pages");
}

TEST_CASE("postgres rejects page tokens it did not issue and unknown loaders") {
  Scenario pg("load_errors");
  auto instance = pg_provider().create(pg.config());
  for (const std::string& token : std::vector<std::string>{"zz", "abc", "4G", std::string(200, 'a')}) {
    INFO("page token '" << token << "'");
    const auto page = instance.load(LoadRequest{"fetch_roles", token});
    CHECK(page.code == Code::invalid_argument);
    CHECK(has_path(page.diagnostics, "/page_token"));
  }
  const auto unknown = instance.load(LoadRequest{"fetch_tables", ""});
  CHECK(unknown.code == Code::not_found);
  CHECK_THAT(unknown.message, Catch::Contains("fetch_tables"));
}
