// Config access: values, schema defaults, and errors naming the field.
#include <gatehouse/sdk.hpp>

#include <catch2/catch.hpp>

using gatehouse::Code;
using gatehouse::Config;
using nlohmann::json;

TEST_CASE("config values fall back to the schema's defaults", "[sdk][config]") {
  const json fields = {{"greeting", {{"type", "string"}, {"default", "hello"}}},
                       {"retries", {{"type", "integer"}, {"default", 3}}},
                       {"verbose", {{"type", "boolean"}, {"default", false}}},
                       {"ratio", {{"type", "number"}}},
                       {"name", {{"type", "string"}}}};
  Config config({{"retries", 5}, {"ratio", 0.25}}, fields);

  CHECK(config.string("greeting") == "hello");
  CHECK(config.integer("retries") == 5);
  CHECK_FALSE(config.boolean("verbose"));
  CHECK(config.number("ratio") == Approx(0.25));
  CHECK(config.has("greeting"));
  CHECK_FALSE(config.has("name"));

  try {
    (void)config.string("name");
    FAIL("expected an Error");
  } catch (const gatehouse::Error& e) {
    CHECK(e.code() == Code::invalid_argument);
    CHECK_THAT(e.what(), Catch::Contains("'name'"));
    CHECK(e.diagnostics().at(0).path == "/name");
  }
  try {
    (void)config.string("retries");
    FAIL("expected an Error");
  } catch (const gatehouse::Error& e) {
    CHECK_THAT(e.what(), Catch::Contains("must be a string"));
  }
}
