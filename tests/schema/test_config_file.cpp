// Reading handler configs written as YAML or JSON.
#include "schema/config_file.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>

using gatehouse::host::parse_config_text;
using gatehouse::host::read_config_file;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

// A fresh directory under the system temp dir, removed with everything in it at scope exit.
class TempDir {
 public:
  TempDir() {
    std::random_device seed;
    path_ = fs::temp_directory_path() /
            ("gatehouse-config-file-test-" + std::to_string(std::chrono::steady_clock::now().time_since_epoch().count()) +
             "-" + std::to_string(seed()));
    fs::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ignored;
    fs::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  fs::path write(const std::string& name, const std::string& text) const {
    const fs::path file = path_ / name;
    std::ofstream(file, std::ios::binary) << text;
    return file;
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

}  // namespace

TEST_CASE("YAML scalars become typed JSON values", "[config_file]") {
  TempDir dir;
  auto parsed = read_config_file(dir.write("handler.yaml", R"(# a handler config
name: prod
port: 5432
big: -9000000000
ratio: 0.25
exponent: 1e3
enabled: true
disabled: False
quoted_true: "true"
single_quoted_number: '42'
tagged: !!str 7
answer_yes: yes
nothing: ~
empty:
hex: 0x1F
list: [1, "two", 3.5]
nested:
  key: value
block: |
  line one
)"));
  if (!parsed) FAIL(parsed.error().describe());
  const json& c = *parsed;
  CHECK(c["name"] == "prod");
  CHECK(c["port"].is_number_integer());
  CHECK(c["port"] == 5432);
  CHECK(c["big"].get<std::int64_t>() == -9000000000LL);
  CHECK(c["ratio"].is_number_float());
  CHECK(c["ratio"] == 0.25);
  CHECK(c["exponent"] == 1000.0);
  CHECK(c["enabled"] == true);
  CHECK(c["disabled"] == false);
  CHECK(c["quoted_true"] == "true");        // quoted: text, not a boolean
  CHECK(c["single_quoted_number"] == "42");
  CHECK(c["tagged"] == "7");
  CHECK(c["answer_yes"] == "yes");           // YAML 1.1 booleans are not booleans here
  CHECK(c["nothing"].is_null());
  CHECK(c["empty"].is_null());
  CHECK(c["hex"] == 31);
  CHECK(c["list"] == json::array({1, "two", 3.5}));
  CHECK(c["nested"]["key"] == "value");
  CHECK(c["block"] == "line one\n");
}

TEST_CASE("JSON configs are read by the JSON parser", "[config_file]") {
  TempDir dir;
  auto parsed = read_config_file(dir.write("handler.json", R"({"port": 5432, "tls": false, "token": "env:TOKEN"})"));
  if (!parsed) FAIL(parsed.error().describe());
  CHECK(*parsed == json{{"port", 5432}, {"tls", false}, {"token", "env:TOKEN"}});

  SECTION("JSON in a YAML file is YAML too") {
    auto yaml = read_config_file(dir.write("handler.yaml", R"({"port": 5432, "tls": false})"));
    if (!yaml) FAIL(yaml.error().describe());
    CHECK(*yaml == json{{"port", 5432}, {"tls", false}});
  }
}

TEST_CASE("parse errors name the source, line and column", "[config_file]") {
  SECTION("YAML") {
    auto parsed = parse_config_text("a: 1\nb: [1, 2\nc: 3\n", "handler.yaml");
    REQUIRE_FALSE(parsed.ok());
    CHECK(parsed.error().code == "config_parse_error");
    CHECK_THAT(parsed.error().message, Catch::StartsWith("cannot parse handler.yaml at line "));
    CHECK_THAT(parsed.error().message, Catch::Contains(", column "));
  }
  SECTION("YAML, with the exact 1-based position") {
    auto parsed = parse_config_text("a: 1\n  b: 2\n", "handler.yaml");
    REQUIRE_FALSE(parsed.ok());
    CHECK(parsed.error().code == "config_parse_error");
    CHECK_THAT(parsed.error().message, Catch::Contains("handler.yaml at line 2, column 4"));
  }
  SECTION("JSON") {
    auto parsed = parse_config_text("{\n  \"a\": 1,\n  \"b\": tru\n}\n", "handler.json");
    REQUIRE_FALSE(parsed.ok());
    CHECK(parsed.error().code == "config_parse_error");
    CHECK_THAT(parsed.error().message, Catch::Contains("handler.json at line 3"));
    CHECK_THAT(parsed.error().message, !Catch::Contains("[json.exception"));
  }
  SECTION("JSON errors do not quote the text around them (it may be a secret)") {
    auto parsed = parse_config_text("{\"token\": \"s3cr3t-in-json\n}", "handler.json");
    REQUIRE_FALSE(parsed.ok());
    CHECK(parsed.error().code == "config_parse_error");
    CHECK_THAT(parsed.error().message, Catch::Contains("line 1") && !Catch::Contains("s3cr3t"));
  }
  SECTION("YAML errors do not quote the text around them either") {
    auto parsed = parse_config_text("port: 1\ntoken: [s3cr3t-in-yaml\n", "handler.yaml");
    REQUIRE_FALSE(parsed.ok());
    CHECK(parsed.error().code == "config_parse_error");
    CHECK_THAT(parsed.error().message, !Catch::Contains("s3cr3t"));
  }
  SECTION("a repeated key") {
    auto parsed = parse_config_text("token: a\nport: 1\ntoken: b\n", "handler.yaml");
    REQUIRE_FALSE(parsed.ok());
    CHECK(parsed.error().code == "config_parse_error");
    CHECK_THAT(parsed.error().message, Catch::Contains("line 3") && Catch::Contains("duplicate key 'token'"));
  }
  SECTION("a file with the error on a later line reads the file's name") {
    TempDir dir;
    const auto file = dir.write("broken.yaml", "state_dir: /tmp\ntoken: [unclosed\n");
    auto parsed = read_config_file(file);
    REQUIRE_FALSE(parsed.ok());
    CHECK(parsed.error().code == "config_parse_error");
    CHECK_THAT(parsed.error().message, Catch::Contains(file.string()) && Catch::Contains("line"));
  }
}

TEST_CASE("a config must be a mapping", "[config_file]") {
  TempDir dir;
  SECTION("empty file") {
    auto parsed = read_config_file(dir.write("empty.yaml", ""));
    REQUIRE_FALSE(parsed.ok());
    CHECK(parsed.error().code == "config_not_an_object");
    CHECK_THAT(parsed.error().message, Catch::Contains("empty.yaml is empty") &&
                                           Catch::Contains("expected a mapping of config field names to values"));
  }
  SECTION("only comments") {
    auto parsed = parse_config_text("# nothing yet\n\n", "handler.yaml");
    REQUIRE_FALSE(parsed.ok());
    CHECK(parsed.error().code == "config_not_an_object");
  }
  SECTION("empty JSON file") {
    auto parsed = read_config_file(dir.write("empty.json", "  \n"));
    REQUIRE_FALSE(parsed.ok());
    CHECK(parsed.error().code == "config_not_an_object");
  }
  SECTION("a list") {
    auto parsed = parse_config_text("- a\n- b\n", "list.yaml");
    REQUIRE_FALSE(parsed.ok());
    CHECK(parsed.error().code == "config_not_an_object");
    CHECK_THAT(parsed.error().message, Catch::Contains("list.yaml holds a list"));
  }
  SECTION("a scalar") {
    auto parsed = parse_config_text("42", "scalar.json");
    REQUIRE_FALSE(parsed.ok());
    CHECK(parsed.error().code == "config_not_an_object");
    CHECK_THAT(parsed.error().message, Catch::Contains("scalar.json holds a single value"));
  }
}

TEST_CASE("an unreadable config file names the path and the system's reason", "[config_file]") {
  TempDir dir;
  SECTION("missing") {
    const auto missing = dir.path() / "missing.yaml";
    auto parsed = read_config_file(missing);
    REQUIRE_FALSE(parsed.ok());
    CHECK(parsed.error().code == "config_unreadable");
    CHECK_THAT(parsed.error().message,
               Catch::Contains(missing.string()) && Catch::Contains("No such file or directory"));
  }
  SECTION("a directory") {
    auto parsed = read_config_file(dir.path());
    REQUIRE_FALSE(parsed.ok());
    CHECK(parsed.error().code == "config_unreadable");
    CHECK_THAT(parsed.error().message, Catch::Contains("Is a directory"));
  }
}
