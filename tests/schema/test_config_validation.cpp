// Handler configs checked against a provider's `config` section.
#include "schema/config_validation.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <string>

using gatehouse::host::config_json_schema;
using gatehouse::host::Diagnostic;
using gatehouse::host::Error;
using gatehouse::host::validate_config;
using nlohmann::json;

namespace {

json provider_schema() {
  json token = {{"type", "string"}, {"description", "API token"}, {"secret", true}, {"required", true}};
  json state_dir = {{"type", "string"}, {"description", "where state lives"}, {"required", true}};
  json page_size = {{"type", "integer"}, {"description", "items per page"}, {"default", 500}};
  page_size["minimum"] = 1.0;
  page_size["maximum"] = 1000.0;
  json region = {{"type", "string"}, {"description", "region"}, {"required", true}, {"default", "eu"}};
  json ratio = {{"type", "number"}, {"description", "a fraction"}, {"minimum", 0}, {"maximum", 1}};
  json verbose = {{"type", "boolean"}, {"description", "log more"}};
  return {{"config",
           {{"token", token},
            {"state_dir", state_dir},
            {"page_size", page_size},
            {"region", region},
            {"ratio", ratio},
            {"verbose", verbose}}}};
}

json valid_config() { return {{"token", "env:API_TOKEN"}, {"state_dir", "/var/lib/x"}}; }

Error refused(const json& config) {
  auto result = validate_config(provider_schema(), config);
  REQUIRE_FALSE(result.ok());
  CHECK(result.error().code == "config_invalid");
  return result.error();
}

Diagnostic at(const Error& error, const std::string& path) {
  const auto& all = error.diagnostics;
  auto it = std::find_if(all.begin(), all.end(), [&](const Diagnostic& d) { return d.path == path; });
  if (it == all.end()) FAIL("no diagnostic at " << path << " in:\n" << error.describe());
  return *it;
}

}  // namespace

TEST_CASE("the config section becomes a draft-07 JSON Schema", "[config_validation]") {
  const json schema = config_json_schema(provider_schema());
  CHECK(schema["$schema"] == "http://json-schema.org/draft-07/schema#");
  CHECK(schema["type"] == "object");
  CHECK(schema["additionalProperties"] == false);
  // required and without default; "region" has a default, so it is optional
  CHECK(schema["required"] == json::array({"state_dir", "token"}));
  CHECK(schema["properties"]["token"]["type"] == "string");
  CHECK(schema["properties"]["token"]["writeOnly"] == true);
  CHECK(schema["properties"]["page_size"]["type"] == "integer");
  CHECK(schema["properties"]["page_size"]["minimum"] == 1.0);
  CHECK(schema["properties"]["page_size"]["maximum"] == 1000.0);
  CHECK(schema["properties"]["page_size"]["default"] == 500);
  CHECK(schema["properties"]["verbose"]["type"] == "boolean");
  CHECK(schema["properties"]["verbose"]["description"] == "log more");

  SECTION("a provider schema without config accepts only the empty object") {
    const json empty = config_json_schema(json::object());
    CHECK(empty["properties"] == json::object());
    CHECK_FALSE(empty.contains("required"));
    CHECK(validate_config(json::object(), json::object()).ok());
    CHECK_FALSE(validate_config(json::object(), json{{"x", 1}}).ok());
  }
  SECTION("a secret field is text whatever type it declares") {
    json schema_with_int_secret = {{"config", {{"pin", {{"type", "integer"}, {"description", "x"}, {"secret", true}}}}}};
    CHECK(config_json_schema(schema_with_int_secret)["properties"]["pin"]["type"] == "string");
  }
}

TEST_CASE("a valid config passes", "[config_validation]") {
  CHECK(validate_config(provider_schema(), valid_config()).ok());
  json full = valid_config();
  full["page_size"] = 1000;
  full["ratio"] = 0;  // an integer is a number
  full["verbose"] = true;
  full["region"] = "us";
  auto result = validate_config(provider_schema(), full);
  if (!result) FAIL(result.error().describe());
}

TEST_CASE("config faults have field paths and readable reasons", "[config_validation]") {
  json config = valid_config();

  SECTION("a missing required field") {
    config.erase("state_dir");
    auto error = refused(config);
    REQUIRE(error.diagnostics.size() == 1);
    CHECK(error.diagnostics[0] == Diagnostic{"/state_dir", "required field is missing"});
    CHECK(error.message == "config is invalid: 1 fault");
  }
  SECTION("a value of the wrong type") {
    config["page_size"] = "lots";
    auto error = refused(config);
    REQUIRE(error.diagnostics.size() == 1);
    CHECK(error.diagnostics[0] == Diagnostic{"/page_size", "expected integer, got string"});
  }
  SECTION("a fractional number for an integer field") {
    config["page_size"] = 2.5;
    CHECK(at(refused(config), "/page_size").reason == "expected integer, got number");
  }
  SECTION("an unknown field") {
    config["tokn"] = "x";
    auto error = refused(config);
    REQUIRE(error.diagnostics.size() == 1);
    CHECK(error.diagnostics[0].path == "/tokn");
    CHECK_THAT(error.diagnostics[0].reason, Catch::StartsWith("unknown field 'tokn'") &&
                                                Catch::Contains("did you mean 'token'?"));
  }
  SECTION("a default makes a required field optional") {
    CHECK_FALSE(config.contains("region"));
    CHECK(validate_config(provider_schema(), config).ok());
  }
  SECTION("below the minimum and above the maximum") {
    config["page_size"] = 0;
    config["ratio"] = 1.5;
    auto error = refused(config);
    CHECK(at(error, "/page_size").reason == "must be at least 1");
    CHECK(at(error, "/ratio").reason == "must be at most 1");
  }
  SECTION("several faults at once, each counted") {
    config.erase("state_dir");
    config["state_dri"] = "/tmp";
    config["page_size"] = "lots";
    auto error = refused(config);
    CHECK(error.message == "config is invalid: 3 faults");
    CHECK(at(error, "/state_dir").reason == "required field is missing");
    CHECK_THAT(at(error, "/state_dri").reason, Catch::Contains("unknown field 'state_dri'"));
    CHECK(at(error, "/page_size").reason == "expected integer, got string");
  }
  SECTION("a config that is not an object") {
    auto error = refused(json::array());
    CHECK(at(error, "").reason == "expected object, got array");
  }
}

TEST_CASE("secret references must be usable", "[config_validation][secrets]") {
  json config = valid_config();
  SECTION("env: without a name") {
    config["token"] = "env:";
    CHECK_THAT(at(refused(config), "/token").reason, Catch::Contains("environment variable name"));
  }
  SECTION("env: with a name that is not a variable name") {
    config["token"] = "env:1-bad name";
    auto error = refused(config);
    CHECK_THAT(at(error, "/token").reason, Catch::Contains("environment variable name"));
    CHECK_THAT(error.describe(), !Catch::Contains("1-bad name"));
  }
  SECTION("file: without a path") {
    config["token"] = "file:";
    CHECK_THAT(at(refused(config), "/token").reason, Catch::Contains("file path"));
  }
  SECTION("well-formed references and literals pass") {
    for (const char* value : {"env:API_TOKEN", "env:_x1", "file:/run/secrets/token", "plain-literal"}) {
      config["token"] = value;
      CHECK(validate_config(provider_schema(), config).ok());
    }
  }
}

TEST_CASE("a secret value never appears in validation messages", "[config_validation][secrets]") {
  const std::string secret = "s3cr3t-Value-1234";
  json config = valid_config();
  SECTION("a literal secret alongside other faults") {
    config["token"] = secret;
    config["page_size"] = "lots";
    config.erase("state_dir");
    CHECK_THAT(refused(config).describe(), !Catch::Contains(secret));
  }
  SECTION("a secret of the wrong type") {
    config["token"] = json::array({secret});
    auto error = refused(config);
    CHECK(at(error, "/token").reason == "expected string, got array");
    CHECK_THAT(error.describe(), !Catch::Contains(secret));
  }
  SECTION("a numeric secret of the wrong type") {
    config["token"] = 987654321;
    auto error = refused(config);
    CHECK(at(error, "/token").reason == "expected string, got integer");
    CHECK_THAT(error.describe(), !Catch::Contains("987654321"));
  }
  SECTION("a malformed reference") {
    config["token"] = "env:" + secret;  // '-' makes it no variable name
    CHECK_THAT(refused(config).describe(), !Catch::Contains(secret));
  }
}
