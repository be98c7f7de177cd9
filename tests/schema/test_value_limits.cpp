// Limits a provider schema puts on values (enum, pattern, lengths, range; integer and boolean target
// properties): the checks themselves, the schema faults that make a provider unloadable, and config fields.
#include "schema/config_validation.hpp"
#include "schema/provider_schema.hpp"
#include "schema/value_limits.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <string>
#include <vector>

using namespace gatehouse::host;
using nlohmann::json;

namespace {

std::string joined(const std::vector<std::string>& reasons) {
  std::string out;
  for (const auto& r : reasons) out += (out.empty() ? "" : " | ") + r;
  return out;
}

// A minimal valid provider document with one target kind whose properties are `properties`.
json document_with(json properties, json config = json::object()) {
  return {{"$id", "urn:gatehouse:provider:acme/limits:1.0.0"},
          {"$schema", "urn:gatehouse:schema:provider:v1"},
          {"meta", {{"framework", "0.1.0"}, {"publisher", "acme"}, {"name", "limits"}, {"version", "1.0.0"}}},
          {"config", std::move(config)},
          {"resources", {{"loaders", json::object()}, {"types", json::object()}}},
          {"targets", {{"Seat", {{"title", "Seat"}, {"properties", std::move(properties)}, {"required", json::array()}}}}}};
}

std::vector<Diagnostic> schema_faults(const json& document) {
  auto result = validate_provider_schema(document);
  if (result.ok()) return {};
  return result.error().diagnostics;
}

std::string reason_at(const std::vector<Diagnostic>& faults, const std::string& path) {
  auto it = std::find_if(faults.begin(), faults.end(), [&](const Diagnostic& d) { return d.path == path; });
  if (it == faults.end()) {
    std::string all;
    for (const auto& d : faults) all += "\n  " + d.path + ": " + d.reason;
    FAIL("no fault at " << path << "; got:" << all);
  }
  return it->reason;
}

}  // namespace

TEST_CASE("string property limits: enum, pattern, lengths", "[schema][limits]") {
  const json room = json::parse(R"({"type": "string", "title": "Room", "pattern": "^[a-z][a-z0-9-]*$",
                                    "minLength": 2, "maxLength": 8})");
  CHECK(target_value_faults(room, "lobby").empty());
  CHECK(joined(target_value_faults(room, "Lobby")) == "must match the pattern ^[a-z][a-z0-9-]*$ (got 'Lobby')");
  CHECK(joined(target_value_faults(room, "a")) == "must be at least 2 characters long (got 'a')");
  CHECK(joined(target_value_faults(room, "abcdefghi")) == "must be at most 8 characters long (got 'abcdefghi')");
  // Lengths are characters, not bytes: "zürich-7" is 8 characters and 9 bytes.
  CHECK(target_value_faults(json{{"type", "string"}, {"maxLength", 8}}, "z\xc3\xbcrich-7").empty());
  // A pattern matches anywhere unless anchored, as in JSON Schema.
  CHECK(target_value_faults(json{{"type", "string"}, {"pattern", "ab"}}, "xxabyy").empty());

  const json role = {{"type", "string"}, {"enum", {"member", "maintainer"}}};
  CHECK(target_value_faults(role, "member").empty());
  CHECK(joined(target_value_faults(role, "owner")) == "must be one of member, maintainer (got 'owner')");
}

TEST_CASE("integer and boolean properties: plain decimal within the range, true or false", "[schema][limits]") {
  const json seats = json::parse(R"({"type": "integer", "title": "Seats", "minimum": 1, "maximum": 50})");
  CHECK(target_value_faults(seats, "1").empty());
  CHECK(target_value_faults(seats, "50").empty());
  CHECK(joined(target_value_faults(seats, "0")) == "must be at least 1 (got '0')");
  CHECK(joined(target_value_faults(seats, "51")) == "must be at most 50 (got '51')");
  for (const char* bad : {"", "ten", "1.5", "+3", "007", "-0", "3 ", "99999999999999999999"}) {
    INFO(bad);
    CHECK_THAT(joined(target_value_faults(seats, bad)), Catch::StartsWith("must be an integer in plain decimal"));
  }
  const json offset = json::parse(R"({"type": "integer", "title": "Offset", "minimum": -10})");
  CHECK(target_value_faults(offset, "-10").empty());
  CHECK(joined(target_value_faults(offset, "-11")) == "must be at least -10 (got '-11')");
  // Beyond 2^53 the comparison stays exact.
  const json big = json::parse(R"({"type": "integer", "title": "Big", "maximum": 9007199254740993})");
  CHECK(target_value_faults(big, "9007199254740993").empty());
  CHECK_FALSE(target_value_faults(big, "9007199254740994").empty());

  const json moderated = {{"type", "boolean"}, {"title", "Moderated"}};
  CHECK(target_value_faults(moderated, "true").empty());
  CHECK(target_value_faults(moderated, "false").empty());
  CHECK(joined(target_value_faults(moderated, "yes")) == "must be true or false (got 'yes')");
}

TEST_CASE("RE2 is the pattern dialect: linear-time matching, no backreferences", "[schema][limits]") {
  CHECK_FALSE(pattern_problem("^[a-z]+$").has_value());
  const auto backreference = pattern_problem("^(a)\\1$");
  REQUIRE(backreference.has_value());
  CHECK_THAT(*backreference, Catch::Contains("invalid escape sequence"));
  // The classic catastrophic-backtracking pattern answers at once.
  CHECK_FALSE(pattern_matches("^(a+)+$", std::string(5000, 'a') + "!"));
}

TEST_CASE("limits render one way for people", "[schema][limits]") {
  CHECK(value_limits_text(json{{"type", "string"}, {"enum", {"member", "maintainer"}}}) == "one of member, maintainer");
  CHECK(value_limits_text(json{{"type", "string"}, {"resource", "Team"}}) == "id of resource Team");
  CHECK(value_limits_text(json::parse(R"({"type": "integer", "minimum": 1, "maximum": 50})")) == "1 to 50");
  CHECK(value_limits_text(json::parse(R"({"type": "string", "pattern": "^x", "maxLength": 8})")) ==
        "matches ^x; at most 8 characters");
  CHECK(value_limits_text(json{{"type", "boolean"}}) == "true or false");
  CHECK(value_limits_text(json{{"type", "string"}}) == "-");
}

TEST_CASE("the meta-schema accepts the new keywords and the host checks they make sense", "[schema][limits]") {
  const json good = json::parse(R"({
    "room":      {"type": "string", "title": "Room", "pattern": "^[a-z]+$", "minLength": 1, "maxLength": 32},
    "role":      {"type": "string", "title": "Role", "enum": ["member", "maintainer"]},
    "seats":     {"type": "integer", "title": "Seats", "minimum": 1, "maximum": 50},
    "moderated": {"type": "boolean", "title": "Moderated"}
  })");
  const json config = json::parse(R"({
    "region": {"type": "string", "description": "region", "enum": ["eu", "us"], "default": "eu"},
    "user":   {"type": "string", "description": "login", "pattern": "^[a-z_]+$", "maxLength": 63}
  })");
  CHECK(schema_faults(document_with(good, config)).empty());

  const json bad = json::parse(R"({
    "room":   {"type": "string", "title": "Room", "pattern": "^(a)\\1$", "minLength": 5, "maxLength": 2},
    "seats":  {"type": "integer", "title": "Seats", "minimum": 9, "maximum": 1, "pattern": "^1"},
    "flag":   {"type": "boolean", "title": "Flag", "minimum": 0, "resource": "Room"},
    "colour": {"type": "string", "title": "Colour", "enum": ["red", "Blue"], "pattern": "^[a-z]+$"},
    "kind":   {"type": "float", "title": "Kind"}
  })");
  const json bad_config = json::parse(R"({
    "token":  {"type": "string", "description": "secret", "secret": true, "pattern": "^gh_"},
    "region": {"type": "string", "description": "region", "enum": ["eu", "us"], "default": "ap"},
    "level":  {"type": "integer", "description": "level", "maxLength": 3}
  })");
  const auto faults = schema_faults(document_with(bad, bad_config));
  const std::string p = "/targets/Seat/properties/";
  CHECK_THAT(reason_at(faults, p + "room/pattern"), Catch::StartsWith("is not a valid RE2 pattern: "));
  CHECK(reason_at(faults, p + "room/minLength") == "is greater than maxLength 2");
  CHECK(reason_at(faults, p + "seats/minimum") == "is greater than maximum 1");
  CHECK(reason_at(faults, p + "seats/pattern") == "applies only to string properties");
  CHECK(reason_at(faults, p + "flag/minimum") == "applies only to integer properties");
  CHECK(reason_at(faults, p + "flag/resource") == "applies only to string properties (resource ids are text)");
  CHECK(reason_at(faults, p + "colour/enum/1") == "the value \"Blue\" must match the pattern ^[a-z]+$");
  CHECK_THAT(reason_at(faults, p + "kind/type"), Catch::Contains("must be one of string, integer, boolean"));
  CHECK_THAT(reason_at(faults, "/config/token/pattern"), Catch::StartsWith("cannot limit a secret field"));
  CHECK(reason_at(faults, "/config/region/default") == "must be one of eu, us");
  CHECK(reason_at(faults, "/config/level/maxLength") == "applies only to string fields");
}

TEST_CASE("config fields: enum, lengths and an RE2 pattern are checked before the provider is created",
          "[schema][limits][config_validation]") {
  const json schema = {{"config", json::parse(R"({
    "region": {"type": "string", "description": "region", "enum": ["eu", "us"]},
    "user":   {"type": "string", "description": "login", "pattern": "^[a-z_]+$", "minLength": 2, "maxLength": 8}
  })")}};
  CHECK(validate_config(schema, {{"region", "eu"}, {"user", "app_rw"}}).ok());
  auto refused = validate_config(schema, {{"region", "ap"}, {"user", "App-Admin-Role"}});
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.error().code == "config_invalid");
  std::vector<std::string> seen;
  for (const auto& d : refused.error().diagnostics) seen.push_back(d.path + ": " + d.reason);
  std::sort(seen.begin(), seen.end());
  // Config reasons never repeat a value (configs may be sensitive).
  CHECK(seen == std::vector<std::string>{"/region: must be one of eu, us", "/user: must be at most 8 characters long",
                                         "/user: must match the pattern ^[a-z_]+$"});
  // The pattern is RE2's, never handed to valijson's std::regex: the derived JSON Schema leaves it out.
  CHECK_FALSE(config_json_schema(schema)["properties"]["user"].contains("pattern"));
  CHECK(config_json_schema(schema)["properties"]["user"]["maxLength"] == 8);
}
