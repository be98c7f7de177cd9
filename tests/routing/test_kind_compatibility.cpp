// A route is valid only when the handler's kind schema is compatible with the group's: same property names,
// types, resource references and required set; the handler's enum must accept every value the group allows.
#include "routing/kind_compatibility.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

using gatehouse::host::routing::check_kind_compatibility;
using nlohmann::json;

namespace {

// The DatabaseRole kind of the architecture's example (examples/provider-schema.postgres.json).
json database_role() {
  return json::parse(R"({
    "title": "Role in a database",
    "properties": {
      "database": { "type": "string", "title": "Database", "resource": "Database" },
      "role":     { "type": "string", "title": "Role",     "resource": "Role" }
    },
    "required": ["database", "role"]
  })");
}

json with(json schema, const std::string& pointer, json value) {
  schema[json::json_pointer(pointer)] = std::move(value);
  return schema;
}

json without(json schema, const std::string& pointer) {
  const json::json_pointer ptr(pointer);
  schema[ptr.parent_pointer()].erase(ptr.back());
  return schema;
}

std::vector<std::string> paths(const gatehouse::host::Error& error) {
  std::vector<std::string> out;
  for (const auto& d : error.diagnostics) out.push_back(d.path);
  return out;
}

struct Incompatible {
  const char* name;
  json group;
  json handler;
  std::vector<std::string> message_parts;
  std::vector<std::string> paths;
};

}  // namespace

TEST_CASE("kind compatibility: identical or differing only in presentation is compatible") {
  const json base = database_role();
  CHECK(check_kind_compatibility(base, base).ok());

  json retitled = with(base, "/title", "Another title");
  retitled = with(retitled, "/description", "Shown to requesters");
  retitled = with(retitled, "/properties/role/title", "Database role");
  retitled = with(retitled, "/properties/role/description", "The role to be granted");
  CHECK(check_kind_compatibility(base, retitled).ok());

  // Order of required names and of keys never matters.
  CHECK(check_kind_compatibility(base, with(base, "/required", json::array({"role", "database"}))).ok());
  CHECK(check_kind_compatibility(base, with(base, "/required", json::array({"role", "database", "role"}))).ok());

  const json no_resources = json::parse(R"({"title": "T", "properties": {"name": {"type": "string", "title": "N"}},
                                            "required": []})");
  CHECK(check_kind_compatibility(no_resources, no_resources).ok());
  CHECK(check_kind_compatibility(no_resources, without(no_resources, "/required")).ok());  // absent = none
}

TEST_CASE("kind compatibility: each difference is named in the message and located by a path") {
  const json base = database_role();
  const std::vector<Incompatible> cases = {
      {"type mismatch", base, with(base, "/properties/role/type", "integer"),
       {"property 'role' is integer in the handler but string in the group"}, {"/properties/role/type"}},
      {"type missing in the handler", base, without(base, "/properties/role/type"),
       {"property 'role' is untyped in the handler but string in the group"}, {"/properties/role/type"}},
      {"property missing from the handler", base,
       with(without(base, "/properties/role"), "/required", json::array({"database"})),
       {"property 'role' is in the group but missing from the handler"}, {"/properties/role"}},
      {"extra property in the handler", base,
       with(base, "/properties/schema", json{{"type", "string"}, {"title", "Schema"}}),
       {"property 'schema' is in the handler but not in the group"}, {"/properties/schema"}},
      {"resource reference missing in the handler", base, without(base, "/properties/database/resource"),
       {"property 'database' references resource Database in the group but nothing in the handler"},
       {"/properties/database/resource"}},
      {"resource reference only in the handler", without(base, "/properties/database/resource"), base,
       {"property 'database' references nothing in the group but resource Database in the handler"},
       {"/properties/database/resource"}},
      {"different resource", base, with(base, "/properties/role/resource", "Login"),
       {"property 'role' references resource Role in the group but resource Login in the handler"},
       {"/properties/role/resource"}},
      {"required in the group only", base, with(base, "/required", json::array({"database"})),
       {"property 'role' is required in the group but optional in the handler"}, {"/required"}},
      {"required in the handler only", with(base, "/required", json::array({"database"})), base,
       {"property 'role' is required in the handler but optional in the group"}, {"/required"}},
      {"no properties object in the handler", base, json{{"title", "T"}, {"required", json::array()}},
       {"\"properties\" is missing in the handler's kind schema",
        "property 'database' is in the group but missing from the handler",
        "property 'role' is in the group but missing from the handler"},
       {"/properties", "/properties/database", "/properties/role"}},
  };
  for (const auto& c : cases) {
    INFO(c.name);
    const auto result = check_kind_compatibility(c.group, c.handler);
    REQUIRE_FALSE(result.ok());
    CHECK(result.error().code == "route_invalid");
    CHECK_THAT(result.error().message, Catch::StartsWith("the handler's kind is incompatible with the target group: "));
    for (const auto& part : c.message_parts) CHECK_THAT(result.error().message, Catch::Contains(part));
    CHECK(paths(result.error()) == c.paths);
  }
}

TEST_CASE("kind compatibility: the handler's enum must accept every value the group allows") {
  const json base = database_role();
  const json ro_rw = with(base, "/properties/role/enum", json::array({"ro", "rw"}));
  const json rw_ro = with(base, "/properties/role/enum", json::array({"rw", "ro"}));
  const json ro = with(base, "/properties/role/enum", json::array({"ro"}));
  const json ro_rw_admin = with(base, "/properties/role/enum", json::array({"ro", "rw", "admin"}));
  const json admin_owner = with(base, "/properties/role/enum", json::array({"admin", "owner"}));

  SECTION("compatible") {
    CHECK(check_kind_compatibility(ro_rw, ro_rw).ok());        // equal
    CHECK(check_kind_compatibility(ro_rw, rw_ro).ok());        // order does not matter
    CHECK(check_kind_compatibility(ro_rw, ro_rw_admin).ok());  // handler accepts more
    CHECK(check_kind_compatibility(ro_rw, base).ok());         // handler has no enum: accepts any value
  }
  SECTION("handler accepts fewer values than the group allows") {
    const auto result = check_kind_compatibility(ro_rw, ro);
    REQUIRE_FALSE(result.ok());
    CHECK(result.error().code == "route_invalid");
    CHECK_THAT(result.error().message,
               Catch::Contains("property 'role' allows a value in the group that the handler does not accept: rw"));
    CHECK(paths(result.error()) == std::vector<std::string>{"/properties/role/enum"});
  }
  SECTION("several values missing are all named") {
    const auto result = check_kind_compatibility(ro_rw_admin, admin_owner);
    REQUIRE_FALSE(result.ok());
    CHECK_THAT(result.error().message,
               Catch::Contains("allows values in the group that the handler does not accept: ro, rw"));
  }
  SECTION("group has no enum, handler restricts") {
    const auto result = check_kind_compatibility(base, ro_rw);
    REQUIRE_FALSE(result.ok());
    CHECK_THAT(result.error().message,
               Catch::Contains("property 'role' accepts any value in the group but only ro, rw in the handler"));
    CHECK(paths(result.error()) == std::vector<std::string>{"/properties/role/enum"});
  }
  SECTION("a malformed enum is a difference, not a crash") {
    const auto result = check_kind_compatibility(ro_rw, with(base, "/properties/role/enum", "ro"));
    REQUIRE_FALSE(result.ok());
    CHECK_THAT(result.error().message, Catch::Contains("property 'role' has an enum that is not a list in the handler"));
  }
}

TEST_CASE("kind compatibility: every difference is listed in one sentence") {
  const json group = database_role();
  json handler = with(group, "/properties/role/type", "integer");
  handler = without(handler, "/properties/database/resource");
  handler = with(handler, "/properties/extra", json{{"type", "string"}, {"title", "Extra"}});
  handler = with(handler, "/required", json::array({"database", "role", "extra"}));

  const auto result = check_kind_compatibility(group, handler);
  REQUIRE_FALSE(result.ok());
  const auto& error = result.error();
  CHECK(error.message ==
        "the handler's kind is incompatible with the target group: "
        "property 'database' references resource Database in the group but nothing in the handler; "
        "property 'extra' is in the handler but not in the group; "
        "property 'role' is integer in the handler but string in the group");
  CHECK(paths(error) ==
        std::vector<std::string>{"/properties/database/resource", "/properties/extra", "/properties/role/type"});
  CHECK(error.diagnostics[2].reason == "is integer in the handler but string in the group");
  CHECK_THAT(error.describe(), Catch::Contains("\n  /properties/role/type: is integer in the handler"));
}

TEST_CASE("kind compatibility: the handler's pattern, lengths and range must let through what the group does") {
  const json base = database_role();
  const json group = with(with(base, "/properties/role/pattern", "^[a-z]+$"), "/properties/role/maxLength", 63);
  SECTION("the same or looser limits are compatible") {
    CHECK(check_kind_compatibility(group, group).ok());
    CHECK(check_kind_compatibility(group, base).ok());                                           // no limits
    CHECK(check_kind_compatibility(group, with(group, "/properties/role/maxLength", 100)).ok());  // looser
  }
  SECTION("a tighter or different limit is a difference with its path") {
    const json handler = with(with(group, "/properties/role/pattern", "^[a-z]{1,8}$"), "/properties/role/maxLength", 8);
    const auto result = check_kind_compatibility(group, handler);
    REQUIRE_FALSE(result.ok());
    CHECK(paths(result.error()) ==
          std::vector<std::string>{"/properties/role/pattern", "/properties/role/maxLength"});
    CHECK_THAT(result.error().message, Catch::Contains("property 'role' must match '^[a-z]{1,8}$' in the handler but "
                                                       "'^[a-z]+$' in the group"));
    CHECK_THAT(result.error().message, Catch::Contains("has maxLength 8 in the handler but 63 in the group"));
  }
  SECTION("a range the group does not have") {
    const json port = json::parse(R"({"properties": {"port": {"type": "integer", "title": "Port"}}, "required": []})");
    const auto result = check_kind_compatibility(port, with(port, "/properties/port/minimum", 1));
    REQUIRE_FALSE(result.ok());
    CHECK(paths(result.error()) == std::vector<std::string>{"/properties/port/minimum"});
    CHECK_THAT(result.error().message, Catch::Contains("has minimum 1 in the handler but none in the group"));
  }
}
