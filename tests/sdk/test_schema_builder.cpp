// What the schema builder emits is what the meta-schema accepts, with relations and resources intact.
#include "schema/provider_schema.hpp"

#include <gatehouse/sdk.hpp>

#include <catch2/catch.hpp>

using namespace gatehouse;

TEST_CASE("a schema built with every builder feature passes the meta-schema", "[sdk][schema]") {
  const auto document =
      Schema{}
          .config("dsn", Field::string("connection string").secret().required())
          .config("limit", Field::integer("max rows").default_value(10).minimum(1).maximum(100))
          .config("verbose", Field::boolean("log more").default_value(false))
          .config("ratio", Field::number("sampling ratio").default_value(0.5))
          .resource_type("User", ResourceType("User").data("email", DataField::string("Email")))
          .resource_type("Group", ResourceType("Group").data("members", DataField::string_list("Members").relation("User")))
          .loader("fetch_users", "Users", {"User"})
          .loader("fetch_groups", "Groups", {"Group"})
          .target("GroupMember", TargetKind("Group membership")
                                     .description("adds the subject to a group")
                                     .property("group", Property::string("Group").resource("Group"))
                                     .property("level", Property::string("Level").one_of({"member", "owner"}))
                                     .property("note", Property::string("Note").optional()))
          .document("acme", "directory", "2.1.0");

  auto valid = host::validate_provider_schema(document);
  if (!valid) FAIL(valid.error().describe());

  CHECK(document["$id"] == "urn:gatehouse:provider:acme/directory:2.1.0");
  CHECK(document["meta"]["framework"] == GATEHOUSE_FRAMEWORK_VERSION);
  CHECK(document["config"]["dsn"]["secret"] == true);
  CHECK(document["config"]["dsn"]["required"] == true);
  CHECK(document["resources"]["types"]["Group"]["properties"]["data"]["members"]["relation"] == "User");
  CHECK(document["targets"]["GroupMember"]["properties"]["group"]["resource"] == "Group");
  CHECK(document["targets"]["GroupMember"]["required"] == nlohmann::json({"group", "level"}));
}

TEST_CASE("an empty schema is still a valid document", "[sdk][schema]") {
  CHECK(host::validate_provider_schema(Schema{}.document("acme", "nothing", "0.0.1")).ok());
}

TEST_CASE("status codes have stable names and a retry class", "[sdk]") {
  CHECK(std::string(code_name(Code::invalid_argument)) == "invalid_argument");
  CHECK(std::string(code_name(Code::already_revoked)) == "already_revoked");
  CHECK(is_retryable(Code::unavailable));
  CHECK(is_retryable(Code::deadline_exceeded));
  CHECK_FALSE(is_retryable(Code::invalid_argument));
  CHECK_FALSE(is_retryable(Code::already_exists));
}

TEST_CASE("Target::at names the missing property as a field path", "[sdk]") {
  Target target{"Room", {{"room", "lobby"}}};
  CHECK(target.at("room") == "lobby");
  try {
    (void)target.at("floor");
    FAIL("expected an Error");
  } catch (const Error& e) {
    CHECK(e.code() == Code::invalid_argument);
    REQUIRE(e.diagnostics().size() == 1);
    CHECK(e.diagnostics()[0].path == "/target/floor");
  }
}
