// Issue 13 items 2, 3 and 5 at the parsing layer: text PostgreSQL cannot store is refused with its field path,
// repeated keys are refused naming the key, an explicit empty subject is refused, and durations mean what they
// say. Each of these passed (or was cut, or guessed) before the fix.
#include "api/request_parsing.hpp"
#include "common/duration_text.hpp"
#include "common/strict_json.hpp"
#include "common/utf8_text.hpp"

#include <catch2/catch.hpp>

#include <string>

using namespace gatehouse::host;
using namespace gatehouse::host::api;
using nlohmann::json;

namespace {

// The single fault of a refused parse: code, path and reason.
struct Fault {
  std::string code, path, reason, message;
};

template <class T>
Fault fault_of(const Result<T>& r) {
  REQUIRE_FALSE(r.ok());
  INFO(r.error().describe());
  REQUIRE(r.error().diagnostics.size() == 1);
  return {std::string(r.error().code_name()), r.error().diagnostics[0].path, r.error().diagnostics[0].reason, r.error().message};
}

const std::string kNulText = "contains a NUL character";

}  // namespace

TEST_CASE("a NUL, escaped or raw, is refused with the path of the field that holds it", "[api][parsing][input]") {
  struct Case {
    std::string body, path;
  };
  const std::vector<Case> cases = {
      {R"({"subject": "alice\u0000@example.com"})", "/subject"},
      {R"({"reason": "because\u0000"})", "/reason"},
      {R"({"target": {"project": "apollo\u0000"}})", "/target/project"},
      {R"({"config": {"state_dir": "/tmp/x\u0000y"}})", "/config/state_dir"},
      {R"({"config": {"list": ["ok", "a\u0000"]}})", "/config/list/1"},
      {R"({"id": "h\u0000"})", "/id"},
      {R"({"handlers": [{"id": "a"}, {"config": {"k\u0000": 1}}]})", "/handlers/1/config"},
      {std::string("{\"reason\": \"raw") + '\0' + "nul\"}", "/reason"},
  };
  for (const auto& c : cases) {
    INFO(c.body);
    auto f = fault_of(parse_json_object(c.body));
    CHECK(f.code == "invalid_argument");
    CHECK(f.path == c.path);
    CHECK_THAT(f.reason, Catch::Contains(kNulText) || Catch::Contains("member name that contains a NUL"));
    CHECK_THAT(f.message, Catch::Contains("the request body holds text gatehouse cannot store"));
  }
}

TEST_CASE("ill-formed UTF-8 and lone surrogates are refused with their path", "[api][parsing][input]") {
  auto raw = fault_of(parse_json_object("{\"target\": {\"role\": \"vi\xC3\x28\"}}"));
  CHECK(raw.code == "invalid_argument");
  CHECK(raw.path == "/target/role");
  CHECK(raw.reason == "is not valid UTF-8");
  auto overlong = fault_of(parse_json_object("{\"subject\": \"\xC0\xAF\"}"));
  CHECK(overlong.path == "/subject");
  auto surrogate = fault_of(parse_json_object(R"({"reason": "x\ud800y"})"));
  CHECK(surrogate.code == "invalid_argument");
  CHECK(surrogate.path == "/reason");
  CHECK_THAT(surrogate.reason, Catch::Contains("lone surrogate"));
  auto in_key = fault_of(parse_json_object("{\"config\": {\"k\xFF\": 1}}"));
  CHECK(in_key.path == "/config");
  CHECK_THAT(in_key.reason, Catch::Contains("member name") && Catch::Contains("UTF-8"));
  // Well-formed text of every width passes untouched.
  auto fine = parse_json_object("{\"reason\": \"caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x94\x91 \\u00e9\"}");
  REQUIRE(fine.ok());
  CHECK((*fine)["reason"] == "caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x94\x91 \xC3\xA9");
}

TEST_CASE("a key repeated in one object is refused as invalid_json, naming the key", "[api][parsing][input]") {
  auto top = fault_of(parse_json_object(R"({"subject": "a@x", "target_group": "g", "subject": "b@x"})"));
  CHECK(top.code == "invalid_json");
  CHECK(top.path == "/subject");
  CHECK_THAT(top.message, Catch::Contains("repeats the key 'subject'"));
  auto nested = fault_of(parse_json_object(R"({"handlers": [{"config": {"token": "env:A", "token": "x"}}]})"));
  CHECK(nested.code == "invalid_json");
  CHECK(nested.path == "/handlers/0/config/token");
  // The same key in sibling objects is no repetition.
  CHECK(parse_json_object(R"({"a": {"k": 1}, "b": {"k": 2}, "c": [{"k": 1}, {"k": 2}]})").ok());
}

TEST_CASE("other JSON faults stay invalid_json with a byte offset and no echo", "[api][parsing][input]") {
  auto bad = parse_json_object(R"({"token": "s3cret-value" oops})");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().code == "invalid_json");
  CHECK_THAT(bad.error().message, Catch::Contains("at byte") && !Catch::Contains("s3cret"));
  CHECK(parse_json_object("{\"n\": 1e999}").error().code == "invalid_json");
  CHECK(parse_json_object(std::string(200, '[') + std::string(200, ']')).error().code == "invalid_json");
  // Nesting up to the limit is fine.
  CHECK(parse_strict_json(std::string(50, '[') + std::string(50, ']'), "x").ok());
}

TEST_CASE("documents built another way are checked by the body parsers too", "[api][parsing][input]") {
  // parse_grant_request and parse_handler take any json (YAML-derived, tests): they refuse a NUL themselves.
  json grant{{"target_group", "g"}, {"target", {{"project", std::string("a\0b", 3)}}}, {"duration", "1h"}};
  auto g = parse_grant_request(grant);
  REQUIRE_FALSE(g.ok());
  CHECK(g.error().diagnostics.at(0).path == "/target/project");
  json handler{{"id", "h"}, {"provider", "p/q@1.0.0"}, {"config", {{"dir", std::string("x\0", 2)}}}};
  auto h = parse_handler(handler);
  REQUIRE_FALSE(h.ok());
  CHECK(h.error().diagnostics.at(0).path == "/config/dir");
  CHECK(find_unstorable_text(json{{"a", {1, "ok", std::string("\0", 1)}}}, "/doc")->path == "/doc/a/2");
  CHECK_FALSE(find_unstorable_text(json{{"a", "fine"}}).has_value());
}

TEST_CASE("an explicit empty subject is refused, an absent one means the caller", "[api][parsing][input]") {
  auto empty = parse_grant_request(json::parse(R"({"subject": "", "target_group": "g", "target": {}, "duration": "1h"})"));
  REQUIRE_FALSE(empty.ok());
  CHECK(empty.error().diagnostics.at(0).path == "/subject");
  CHECK(empty.error().diagnostics.at(0).reason == "must not be empty");
  auto absent = parse_grant_request(json::parse(R"({"target_group": "g", "target": {}, "duration": "1h"})"));
  REQUIRE(absent.ok());
  CHECK(absent->subject.empty());
  auto null_subject = parse_grant_request(json::parse(R"({"subject": null, "target_group": "g", "target": {}, "duration": "1h"})"));
  CHECK(null_subject.ok());
  auto control = parse_grant_request(json::parse(R"({"subject": "alice\n@x", "target_group": "g", "target": {}, "duration": "1h"})"));
  REQUIRE_FALSE(control.ok());
  CHECK(control.error().diagnostics.at(0).path == "/subject");
  CHECK(control.error().diagnostics.at(0).reason == "contains a control character");
}

TEST_CASE("a subject cannot hide behind invisible formatting or C1 control characters", "[api][parsing][input]") {
  const auto reason_for = [](const std::string& subject) {
    auto parsed = parse_grant_request(
        json{{"subject", subject}, {"target_group", "g"}, {"target", json::object()}, {"duration", "1h"}});
    if (parsed.ok()) return std::string("accepted");
    REQUIRE(parsed.error().diagnostics.at(0).path == "/subject");
    return parsed.error().diagnostics.at(0).reason;
  };
  // RIGHT-TO-LEFT OVERRIDE: "alice\u202Emoc.elpmaxe@" shows as "alice@example.com" reversed in a listing.
  CHECK(reason_for("alice\u202E@example.com") ==
        "contains the invisible formatting character U+202E, which would disguise the name");
  CHECK_THAT(reason_for("ali\u200Bce@example.com"), Catch::Contains("U+200B"));   // zero-width space
  CHECK_THAT(reason_for("\uFEFFalice@example.com"), Catch::Contains("U+FEFF"));   // byte order mark
  CHECK_THAT(reason_for("alice\u2066@example.com"), Catch::Contains("U+2066"));   // left-to-right isolate
  CHECK(reason_for("alice\u0085@example.com") == "contains a control character");  // NEL, a C1 control
  // Letters of any script, and visible punctuation, are names.
  CHECK(reason_for("zoë.müller@example.com") == "accepted");
  CHECK(reason_for("\u5f20\u4f1f@example.cn") == "accepted");
  CHECK(reason_for("o'brien+ops@example.com") == "accepted");
}

TEST_CASE("path segments and query parameters are refused with where they are", "[api][parsing][input]") {
  auto nul = parse_target("/v1/grants/a%00b");
  REQUIRE_FALSE(nul.ok());
  CHECK(nul.error().code == "invalid_argument");
  CHECK(nul.error().diagnostics.at(0).path == "/path/2");
  CHECK_THAT(nul.error().message, Catch::Contains("path segment 3") && Catch::Contains("NUL"));
  auto utf8 = parse_target("/v1/handlers/%C3%28");
  REQUIRE_FALSE(utf8.ok());
  CHECK(utf8.error().diagnostics.at(0).path == "/path/2");
  CHECK_THAT(utf8.error().diagnostics.at(0).reason, Catch::Contains("not valid UTF-8"));
  auto raw = parse_target("/v1/handlers/\xFF");
  REQUIRE_FALSE(raw.ok());
  auto query = parse_target("/v1/grants?subject=a%00b");
  REQUIRE_FALSE(query.ok());
  CHECK(query.error().diagnostics.at(0).path == "/query/subject");
  auto name = parse_target("/v1/grants?a%FF=1");
  REQUIRE_FALSE(name.ok());
  CHECK(name.error().diagnostics.at(0).path == "/query");
  CHECK(parse_target("/v1/handlers/caf%C3%A9")->segments.back() == "caf\xC3\xA9");
}

TEST_CASE("durations: one unit each, largest first, a unit on every number, at least 1s", "[api][parsing][input]") {
  auto fault = [](const char* text) { return parse_duration_detailed(text).fault; };
  CHECK(parse_duration_detailed("1h30m").value == std::chrono::seconds(5400));
  CHECK(parse_duration_detailed("1d12h30m15s").value == std::chrono::seconds(131415));
  CHECK_THAT(fault("1h1h"), Catch::Contains("repeats the unit 'h'"));
  CHECK_THAT(fault("30m1h"), Catch::Contains("largest first"));
  CHECK_THAT(fault("3600"), Catch::StartsWith("needs a unit: 3600s"));
  CHECK_THAT(fault("1h30"), Catch::Contains("without a unit"));
  CHECK(fault("0s") == "must be at least 1s");
  CHECK(fault("0h0m") == "must be at least 1s");
  CHECK(fault("-5m") == "must be at least 1s");
  CHECK_THAT(fault("5y"), Catch::Contains("unknown unit 'y'"));
  CHECK_THAT(fault("1h 30m"), Catch::Contains("not a digit or a unit"));
  CHECK_THAT(fault("h"), Catch::Contains("without a number"));
  CHECK_THAT(fault(""), Catch::Contains("must not be empty"));
  CHECK_THAT(fault("36501d"), Catch::Contains("at most 36500d"));
  CHECK_THAT(fault("99999999999999999999d"), Catch::Contains("at most 36500d"));

  // In a body: text with its reason at /duration; a JSON integer is seconds, with the same limits.
  auto body = [](const std::string& duration) {
    return parse_grant_request(json::parse(R"({"target_group": "g", "target": {}, "duration": )" + duration + "}"));
  };
  auto twice = body(R"("1h1h")");
  REQUIRE_FALSE(twice.ok());
  CHECK(twice.error().diagnostics.at(0).path == "/duration");
  CHECK_THAT(twice.error().diagnostics.at(0).reason, Catch::Contains("repeats the unit 'h'"));
  CHECK(body("90")->duration == std::chrono::seconds(90));
  CHECK(body("0").error().diagnostics.at(0).reason == "must be at least 1s");
  CHECK_THAT(body("99999999999").error().diagnostics.at(0).reason, Catch::Contains("at most 36500d"));
  CHECK_THAT(body(R"("3600")").error().diagnostics.at(0).reason, Catch::Contains("needs a unit"));
}

TEST_CASE("what is stored and logged whatever a caller sent", "[api][input]") {
  CHECK(storable_text(std::string("a\0b", 3)) == "a\xEF\xBF\xBD" "b");
  CHECK(storable_text("x\xC3\x28y") == "x\xEF\xBF\xBD(y");
  CHECK(storable_text("caf\xC3\xA9") == "caf\xC3\xA9");
  CHECK(escape_for_log("line\nforged INFO x") == "line\\nforged INFO x");
  CHECK(escape_for_log(std::string("nul\0\x1b[31m", 9)) == "nul\\x00\\x1b[31m");
  CHECK(escape_for_log("c1\xC2\x9B" "31m") == "c1\\u009b31m");
  CHECK(escape_for_log("bad\xFF") == "bad\\xff");
  CHECK(escape_for_log("caf\xC3\xA9 \xF0\x9F\x94\x91") == "caf\xC3\xA9 \xF0\x9F\x94\x91");
  CHECK(log_safe("plain text"));
  CHECK_FALSE(log_safe("tab\there"));
}
