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

TEST_CASE("the builder's limits reach the document, and the document passes the meta-schema", "[sdk][schema][limits]") {
  const auto document =
      Schema{}
          .config("user", Field::string("login").pattern("^[a-z_]+$").min_length(1).max_length(63))
          .config("region", Field::string("region").one_of({"eu", "us"}).default_value("eu"))
          .target("Booking", TargetKind("Seats in a room")
                                 .property("room", Property::string("Room").pattern("^[a-z][a-z0-9-]*$").min_length(2)
                                                       .max_length(32).description("lowercase name"))
                                 .property("seats", Property::integer("Seats").minimum(1).maximum(50))
                                 .property("moderated", Property::boolean("Moderated").optional())
                                 .property("tier", Property::string("Tier").one_of({"free", "paid"}).optional()))
          .document("acme", "rooms", "1.0.0");

  auto valid = host::validate_provider_schema(document);
  if (!valid) FAIL(valid.error().describe());

  const auto& user = document["config"]["user"];
  CHECK(user["pattern"] == "^[a-z_]+$");
  CHECK(user["minLength"] == 1);
  CHECK(user["maxLength"] == 63);
  CHECK(document["config"]["region"]["enum"] == nlohmann::json({"eu", "us"}));
  const auto& properties = document["targets"]["Booking"]["properties"];
  CHECK(properties["room"]["type"] == "string");
  CHECK(properties["room"]["pattern"] == "^[a-z][a-z0-9-]*$");
  CHECK(properties["room"]["minLength"] == 2);
  CHECK(properties["room"]["maxLength"] == 32);
  CHECK(properties["room"]["description"] == "lowercase name");
  CHECK(properties["seats"]["type"] == "integer");
  CHECK(properties["seats"]["minimum"] == 1);
  CHECK(properties["seats"]["maximum"] == 50);
  CHECK(properties["moderated"]["type"] == "boolean");
  CHECK(properties["tier"]["enum"] == nlohmann::json({"free", "paid"}));
  CHECK(document["targets"]["Booking"]["required"] == nlohmann::json({"room", "seats"}));
}

TEST_CASE("a limit the builder cannot honour makes the schema invalid when the provider loads", "[sdk][schema][limits]") {
  const auto document = Schema{}
                            .target("Seat", TargetKind("Seat").property(
                                                "row", Property::string("Row").pattern("(unclosed").min_length(4).max_length(2)))
                            .document("acme", "broken", "1.0.0");
  auto valid = host::validate_provider_schema(document);
  REQUIRE_FALSE(valid.ok());
  CHECK_THAT(valid.error().describe(), Catch::Contains("/targets/Seat/properties/row/pattern") &&
                                           Catch::Contains("is not a valid RE2 pattern") &&
                                           Catch::Contains("/targets/Seat/properties/row/minLength"));
}

TEST_CASE("every retryable code has a factory - already_exists and already_revoked are not errors", "[sdk]") {
  CHECK(Error::unavailable("down").code() == Code::unavailable);
  CHECK(Error::deadline_exceeded("slow").code() == Code::deadline_exceeded);
  CHECK(Error::resource_exhausted("quota").code() == Code::resource_exhausted);
  CHECK(Error::aborted("conflict").code() == Code::aborted);
  CHECK(Error::unimplemented("no").code() == Code::unimplemented);
  for (auto code : {Code::unavailable, Code::deadline_exceeded, Code::resource_exhausted, Code::aborted})
    CHECK(is_retryable(code));
  CHECK(std::string(Error::aborted("a lock was lost").what()) == "a lock was lost");
}

TEST_CASE("Target::integer and Target::boolean convert and name the path when they cannot", "[sdk]") {
  Target target{"Booking", {{"seats", "12"}, {"moderated", "true"}, {"room", "lobby"}}};
  CHECK(target.integer("seats") == 12);
  CHECK(target.boolean("moderated"));
  for (const char* name : {"room", "absent"}) {
    try {
      (void)target.integer(name);
      FAIL("expected an Error");
    } catch (const Error& e) {
      CHECK(e.code() == Code::invalid_argument);
      REQUIRE(e.diagnostics().size() == 1);
      CHECK(e.diagnostics()[0].path == std::string("/target/") + name);
    }
  }
  CHECK_THROWS_AS(target.boolean("room"), Error);
}
