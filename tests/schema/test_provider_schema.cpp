// Provider schema documents: the meta-schema (shape) and the semantic checks (references between sections).
#include "schema/provider_schema.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <string>
#include <thread>
#include <vector>

using gatehouse::host::Diagnostic;
using gatehouse::host::validate_provider_schema;
using nlohmann::json;

namespace {

// Verbatim copy of /work/shared/examples/provider-schema.postgres.json (the architecture's example).
json postgres_example() {
  return json::parse(R"({
  "$id": "urn:gatehouse:provider:gatehouse/postgres:1.0.0",
  "$schema": "urn:gatehouse:schema:provider:v1",
  "meta": { "framework": "1.0.0", "publisher": "gatehouse", "name": "postgres", "version": "1.0.0" },
  "config": {
    "dsn":           { "type": "string",  "description": "libpq connection string of an admin login", "secret": true },
    "grantable":     { "type": "string",  "description": "regex of role names that may be granted", "default": "^app_" },
    "create_logins": { "type": "boolean", "description": "create the subject's login role when missing", "default": false }
  },
  "resources": {
    "loaders": {
      "fetch_databases": { "title": "Databases", "types": ["Database"] },
      "fetch_roles":     { "title": "Roles and logins", "types": ["Role", "Login"] }
    },
    "types": {
      "Database": {
        "title": "Database",
        "properties": { "id": { "type": "string" }, "name": { "type": "string" } },
        "required": ["id", "name"]
      },
      "Role": {
        "title": "Role",
        "properties": {
          "id": { "type": "string" }, "name": { "type": "string" },
          "data": { "database": { "type": "string", "relation": "Database", "title": "Database" } }
        },
        "required": ["id", "name"]
      },
      "Login": {
        "title": "Login role",
        "properties": { "id": { "type": "string" }, "name": { "type": "string" } },
        "required": ["id", "name"]
      }
    }
  },
  "targets": {
    "DatabaseRole": {
      "title": "Role in a database",
      "properties": {
        "database": { "type": "string", "title": "Database", "resource": "Database" },
        "role":     { "type": "string", "title": "Role",     "resource": "Role" }
      },
      "required": ["database", "role"]
    }
  }
})");
}

// What sdk/src/schema_builder.cpp emits, built the same way: every Field, DataField, Property and
// TargetKind option in use, a type without data, a target without description, an optional property.
json builder_document() {
  json config = json::object();
  config["token"] = {{"type", "string"}, {"description", "API token"}};
  config["token"]["required"] = true;
  config["token"]["secret"] = true;
  config["page_size"] = {{"type", "integer"}, {"description", "items per page"}};
  config["page_size"]["default"] = 500;
  config["page_size"]["minimum"] = 1.0;
  config["page_size"]["maximum"] = 1000.0;
  config["ratio"] = {{"type", "number"}, {"description", "a fraction"}};
  config["verbose"] = {{"type", "boolean"}, {"description", "log more"}};

  json user = {{"title", "User"},
               {"properties", {{"id", {{"type", "string"}}}, {"name", {{"type", "string"}}}}},
               {"required", {"id", "name"}}};
  json members = {{"type", "array"}, {"title", "Members"}};
  members["items"] = {{"type", "string"}};
  members["relation"] = "User";
  json size = {{"type", "integer"}, {"title", "Size"}};
  json open = {{"type", "boolean"}, {"title", "Open"}};
  json group_properties = {{"id", {{"type", "string"}}}, {"name", {{"type", "string"}}}};
  group_properties["data"] = {{"members", members}, {"size", size}, {"open", open}};
  json group = {{"title", "Group"}, {"properties", group_properties}, {"required", {"id", "name"}}};

  json group_property = {{"type", "string"}, {"title", "Group"}};
  group_property["resource"] = "Group";
  group_property["description"] = "the group to join";
  json role_property = {{"type", "string"}, {"title", "Role"}};
  role_property["enum"] = std::vector<std::string>{"member", "owner"};
  json membership = {{"title", "Group membership"},
                     {"properties", {{"group", group_property}, {"role", role_property}}},
                     {"required", std::vector<std::string>{"group"}}};
  membership["description"] = "membership of a group";
  json everything = {{"title", "Everything"}, {"properties", json::object()}, {"required", std::vector<std::string>{}}};

  return {
      {"$id", "urn:gatehouse:provider:gatehouse/demo:1.0.0"},
      {"$schema", "urn:gatehouse:schema:provider:v1"},
      {"meta", {{"framework", "0.1.0"}, {"publisher", "gatehouse"}, {"name", "demo"}, {"version", "1.0.0"}}},
      {"config", config},
      {"resources",
       {{"loaders", {{"fetch_users", {{"title", "Users"}, {"types", std::vector<std::string>{"User"}}}},
                     {"fetch_groups", {{"title", "Groups"}, {"types", std::vector<std::string>{"Group", "User"}}}}}},
        {"types", {{"User", user}, {"Group", group}}}}},
      {"targets", {{"GroupMembership", membership}, {"Everything", everything}}},
  };
}

std::vector<Diagnostic> faults_of(const json& document) {
  auto result = validate_provider_schema(document);
  REQUIRE_FALSE(result.ok());
  CHECK(result.error().code == "schema_invalid");
  return result.error().diagnostics;
}

// The diagnostic at exactly `path`; fails the test (with every diagnostic shown) when there is none.
Diagnostic at(const std::vector<Diagnostic>& diagnostics, const std::string& path) {
  auto it = std::find_if(diagnostics.begin(), diagnostics.end(), [&](const Diagnostic& d) { return d.path == path; });
  if (it == diagnostics.end()) {
    std::string all;
    for (const auto& d : diagnostics) all += "\n  " + d.path + ": " + d.reason;
    FAIL("no diagnostic at " << path << "; got:" << all);
  }
  return *it;
}

}  // namespace

TEST_CASE("the embedded meta-schema is the draft-07 document of urn:gatehouse:schema:provider:v1", "[schema]") {
  const auto meta = json::parse(gatehouse::host::provider_meta_schema_text());
  CHECK(meta["$id"] == "urn:gatehouse:schema:provider:v1");
  CHECK(meta["$schema"] == "http://json-schema.org/draft-07/schema#");
}

TEST_CASE("the postgres example validates", "[schema]") {
  auto result = validate_provider_schema(postgres_example());
  if (!result) FAIL(result.error().describe());
}

TEST_CASE("a document shaped like the SDK builder's output validates", "[schema]") {
  auto result = validate_provider_schema(builder_document());
  if (!result) FAIL(result.error().describe());
}

TEST_CASE("semantic faults are located by JSON pointer", "[schema]") {
  json document = postgres_example();

  SECTION("a relation to an undeclared resource type") {
    document["resources"]["types"]["Role"]["properties"]["data"]["database"]["relation"] = "Databse";
    auto faults = faults_of(document);
    REQUIRE(faults.size() == 1);
    auto d = at(faults, "/resources/types/Role/properties/data/database/relation");
    CHECK_THAT(d.reason, Catch::Contains("relation names undeclared resource type 'Databse'"));
    CHECK_THAT(d.reason, Catch::Contains("did you mean 'Database'?"));
  }
  SECTION("a loader filling an undeclared resource type") {
    document["resources"]["loaders"]["fetch_roles"]["types"][1] = "Logins";
    auto d = at(faults_of(document), "/resources/loaders/fetch_roles/types/1");
    CHECK_THAT(d.reason, Catch::Contains("undeclared resource type 'Logins'"));
  }
  SECTION("a target property referencing an undeclared resource type") {
    document["targets"]["DatabaseRole"]["properties"]["role"]["resource"] = "Team";
    auto d = at(faults_of(document), "/targets/DatabaseRole/properties/role/resource");
    CHECK_THAT(d.reason, Catch::Contains("undeclared resource type 'Team'"));
  }
  SECTION("a target requiring a property it does not have") {
    document["targets"]["DatabaseRole"]["required"] = {"database", "rol"};
    auto d = at(faults_of(document), "/targets/DatabaseRole/required/1");
    CHECK_THAT(d.reason, Catch::Contains("undeclared property 'rol'"));
  }
  SECTION("a resource type requiring a property it does not have") {
    document["resources"]["types"]["Database"]["required"] = {"id", "name", "owner"};
    auto d = at(faults_of(document), "/resources/types/Database/required/2");
    CHECK_THAT(d.reason, Catch::Contains("undeclared property 'owner'"));
  }
  SECTION("an $id that disagrees with meta") {
    document["$id"] = "urn:gatehouse:provider:gatehouse/postgres:2.0.0";
    auto d = at(faults_of(document), "/$id");
    CHECK_THAT(d.reason, Catch::Contains("urn:gatehouse:provider:gatehouse/postgres:1.0.0"));
  }
  SECTION("a secret field that is not a string") {
    document["config"]["dsn"]["type"] = "integer";
    auto d = at(faults_of(document), "/config/dsn/type");
    CHECK_THAT(d.reason, Catch::Contains("secret fields must be of type string"));
  }
  SECTION("a default of the wrong type") {
    document["config"]["create_logins"]["default"] = "no";
    auto d = at(faults_of(document), "/config/create_logins/default");
    CHECK_THAT(d.reason, Catch::Contains("expected boolean, got string"));
  }
  SECTION("every fault is counted in the message") {
    document["resources"]["types"]["Role"]["properties"]["data"]["database"]["relation"] = "Databse";
    document["targets"]["DatabaseRole"]["properties"]["database"]["resource"] = "Db";
    document["meta"]["publisher"] = "Gatehouse";
    auto result = validate_provider_schema(document);
    REQUIRE_FALSE(result.ok());
    CHECK(result.error().code == "schema_invalid");
    // publisher pattern, $id disagreeing with meta, the relation and the resource
    CHECK(result.error().diagnostics.size() == 4);
    CHECK(result.error().message == "provider schema is invalid: 4 faults");
  }
}

TEST_CASE("meta-schema faults are located by JSON pointer with readable reasons", "[schema]") {
  json document = postgres_example();

  SECTION("missing meta") {
    document.erase("meta");
    auto faults = faults_of(document);
    REQUIRE(faults.size() == 1);  // valijson's summary of the same fault at the root is not repeated
    CHECK(faults[0].path == "/meta");
    CHECK(faults[0].reason == "required property is missing");
  }
  SECTION("a config field of unknown type") {
    document["config"]["dsn"]["type"] = "text";
    auto faults = faults_of(document);
    REQUIRE(faults.size() == 1);
    CHECK(faults[0].path == "/config/dsn/type");
    CHECK_THAT(faults[0].reason, Catch::Contains("must be one of string, boolean, integer, number"));
  }
  SECTION("an unknown top-level key") {
    document["target"] = json::object();
    auto d = at(faults_of(document), "/target");
    CHECK_THAT(d.reason, Catch::Contains("unknown property 'target'") && Catch::Contains("did you mean 'targets'?"));
  }
  SECTION("every unknown key of one object is reported, not just the first") {
    document["meta"]["authors"] = "x";
    document["meta"]["license"] = "y";
    auto faults = faults_of(document);
    CHECK_THAT(at(faults, "/meta/authors").reason, Catch::Contains("unknown property 'authors'"));
    CHECK_THAT(at(faults, "/meta/license").reason, Catch::Contains("unknown property 'license'"));
    CHECK(faults.size() == 2);
  }
  SECTION("a value of the wrong JSON type") {
    document["targets"]["DatabaseRole"]["title"] = 5;
    auto d = at(faults_of(document), "/targets/DatabaseRole/title");
    CHECK(d.reason == "expected string, got integer");
  }
  SECTION("a publisher that is not lowercase") {
    document["meta"]["publisher"] = "GateHouse";
    auto d = at(faults_of(document), "/meta/publisher");
    CHECK_THAT(d.reason, Catch::Contains("must match the pattern ^[a-z0-9][a-z0-9-]*$"));
  }
  SECTION("a config field name that is not an identifier") {
    document["config"]["admin-dsn"] = {{"type", "string"}, {"description", "x"}};
    auto d = at(faults_of(document), "/config/admin-dsn");
    CHECK_THAT(d.reason, Catch::Contains("invalid property name 'admin-dsn'"));
  }
  SECTION("pointer tokens are escaped per RFC 6901") {
    document["config"]["a/b~c"] = {{"type", "string"}, {"description", "x"}};
    auto d = at(faults_of(document), "/config/a~1b~0c");
    CHECK_THAT(d.reason, Catch::Contains("invalid property name 'a/b~c'"));
  }
  SECTION("a loader with no types") {
    document["resources"]["loaders"]["fetch_roles"]["types"] = json::array();
    auto d = at(faults_of(document), "/resources/loaders/fetch_roles/types");
    CHECK_THAT(d.reason, Catch::Contains("at least 1 item"));
  }
  SECTION("a target property of a type grants cannot carry") {
    document["targets"]["DatabaseRole"]["properties"]["role"]["type"] = "number";
    auto d = at(faults_of(document), "/targets/DatabaseRole/properties/role/type");
    CHECK(d.reason == "must be one of string, integer, boolean");
  }
  SECTION("a resource reference on an integer property") {
    document["targets"]["DatabaseRole"]["properties"]["role"]["type"] = "integer";
    auto d = at(faults_of(document), "/targets/DatabaseRole/properties/role/resource");
    CHECK(d.reason == "applies only to string properties (resource ids are text)");
  }
  SECTION("a target kind without properties (what the loader's broken fixture sends)") {
    document["targets"]["Thing"] = {{"title", "A thing"}};
    auto faults = faults_of(document);
    CHECK(at(faults, "/targets/Thing/properties").reason == "required property is missing");
    CHECK(at(faults, "/targets/Thing/required").reason == "required property is missing");
  }
  SECTION("a document that is not an object") {
    auto faults = faults_of(json::array());
    REQUIRE(faults.size() == 1);
    CHECK(faults[0].path.empty());
    CHECK(faults[0].reason == "expected object, got array");
  }
  SECTION("meta-schema and semantic faults are reported together") {
    document["meta"]["version"] = 1;
    document["targets"]["DatabaseRole"]["properties"]["role"]["resource"] = "Team";
    auto faults = faults_of(document);
    CHECK(at(faults, "/meta/version").reason == "expected string, got integer");
    CHECK_THAT(at(faults, "/targets/DatabaseRole/properties/role/resource").reason, Catch::Contains("'Team'"));
  }
}

TEST_CASE("validation is safe from several threads at once", "[schema]") {
  // The meta-schema is compiled once, on first use, whichever thread gets there first.
  std::vector<std::thread> threads;
  std::atomic<int> valid{0};
  for (int i = 0; i < 4; ++i)
    threads.emplace_back([&] {
      for (int j = 0; j < 10; ++j)
        if (validate_provider_schema(postgres_example()).ok()) ++valid;
    });
  for (auto& t : threads) t.join();
  CHECK(valid == 40);
}
