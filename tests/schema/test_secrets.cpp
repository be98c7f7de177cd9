// Secret config fields: references resolved, literal values never shown.
#include "schema/secrets.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <string>

using gatehouse::host::is_secret_reference;
using gatehouse::host::literal_secret_fields;
using gatehouse::host::redact_secrets;
using gatehouse::host::resolve_secrets;
using gatehouse::host::secret_fields;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

class TempDir {
 public:
  TempDir() {
    std::random_device seed;
    path_ = fs::temp_directory_path() /
            ("gatehouse-secrets-test-" + std::to_string(std::chrono::steady_clock::now().time_since_epoch().count()) +
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

// A variable name no other test or environment uses.
std::string unique_variable(const std::string& stem) {
  return "GATEHOUSE_TEST_" + stem + "_" + std::to_string(std::random_device{}() % 1000000);
}

json provider_schema() {
  return {{"config",
           {{"token", {{"type", "string"}, {"description", "API token"}, {"secret", true}}},
            {"password", {{"type", "string"}, {"description", "password"}, {"secret", true}}},
            {"user", {{"type", "string"}, {"description", "login"}}},
            {"not_secret", {{"type", "string"}, {"description", "x"}, {"secret", false}}}}}};
}

}  // namespace

TEST_CASE("secret fields and references are recognised", "[secrets]") {
  CHECK(secret_fields(provider_schema()) == std::vector<std::string>{"password", "token"});
  CHECK(secret_fields(json::object()).empty());

  CHECK(is_secret_reference("env:API_TOKEN"));
  CHECK(is_secret_reference("file:/run/secrets/token"));
  CHECK(is_secret_reference("file:relative/path"));
  CHECK_FALSE(is_secret_reference("env:"));
  CHECK_FALSE(is_secret_reference("file:"));
  CHECK_FALSE(is_secret_reference("env:not a name"));
  CHECK_FALSE(is_secret_reference("hunter2"));
  CHECK_FALSE(is_secret_reference("ENV:X"));
}

TEST_CASE("env: references resolve from the environment", "[secrets]") {
  const std::string name = unique_variable("TOKEN");
  ::setenv(name.c_str(), "tok-from-env", 1);
  auto resolved = resolve_secrets(provider_schema(), {{"token", "env:" + name}, {"user", "env:" + name}});
  ::unsetenv(name.c_str());
  if (!resolved) FAIL(resolved.error().describe());
  CHECK((*resolved)["token"] == "tok-from-env");
  CHECK((*resolved)["user"] == "env:" + name);  // not a secret field: left as written
}

TEST_CASE("an unset variable is a fault naming the variable and the field", "[secrets]") {
  const std::string name = unique_variable("UNSET");
  ::unsetenv(name.c_str());
  auto resolved = resolve_secrets(provider_schema(), {{"token", "env:" + name}, {"password", "literal-pw-123"}});
  REQUIRE_FALSE(resolved.ok());
  const auto& error = resolved.error();
  CHECK(error.code == "secret_unresolved");
  REQUIRE(error.diagnostics.size() == 1);
  CHECK(error.diagnostics[0].path == "/token");
  CHECK(error.diagnostics[0].reason == "environment variable " + name + " is not set");
  CHECK_THAT(error.describe(), !Catch::Contains("literal-pw-123"));
}

TEST_CASE("a secret JSON cannot hold is a fault naming its source, never its value", "[secrets]") {
  TempDir dir;
  const auto latin1 = dir.write("latin1", "p\xe4ss-Qx7w0rd\n");  // ISO-8859-1, not UTF-8
  const std::string name = unique_variable("NUL_FREE_BUT_LATIN1");
  ::setenv(name.c_str(), "caf\xe9-Zk9val", 1);
  auto resolved =
      resolve_secrets(provider_schema(), {{"token", "file:" + latin1.string()}, {"password", "env:" + name}});
  ::unsetenv(name.c_str());
  REQUIRE_FALSE(resolved.ok());
  const auto& error = resolved.error();
  CHECK(error.code == "secret_unresolved");
  std::map<std::string, std::string> reasons;
  for (const auto& d : error.diagnostics) reasons[d.path] = d.reason;
  CHECK(reasons == std::map<std::string, std::string>{
                       {"/token", "secret file " + latin1.string() + " is not valid UTF-8"},
                       {"/password", "environment variable " + name + " is not valid UTF-8"}});
  CHECK_THAT(error.describe(), !Catch::Contains("Qx7w0rd") && !Catch::Contains("Zk9val"));
}

TEST_CASE("file: references read the file without its trailing newline", "[secrets]") {
  TempDir dir;
  SECTION("\\n") {
    const auto file = dir.write("token", "tok-from-file\n");
    auto resolved = resolve_secrets(provider_schema(), {{"token", "file:" + file.string()}});
    if (!resolved) FAIL(resolved.error().describe());
    CHECK((*resolved)["token"] == "tok-from-file");
  }
  SECTION("\\r\\n") {
    const auto file = dir.write("token", "tok\r\n");
    auto resolved = resolve_secrets(provider_schema(), {{"token", "file:" + file.string()}});
    REQUIRE(resolved.ok());
    CHECK((*resolved)["token"] == "tok");
  }
  SECTION("only one newline is dropped, and none is needed") {
    const auto two = dir.write("two", "line\n\n");
    const auto none = dir.write("none", "bare");
    auto resolved = resolve_secrets(provider_schema(), {{"token", "file:" + two.string()},
                                                        {"password", "file:" + none.string()}});
    REQUIRE(resolved.ok());
    CHECK((*resolved)["token"] == "line\n");
    CHECK((*resolved)["password"] == "bare");
  }
  SECTION("an unreadable file names the path and the reason") {
    const auto missing = dir.path() / "missing";
    auto resolved = resolve_secrets(provider_schema(), {{"password", "file:" + missing.string()}});
    REQUIRE_FALSE(resolved.ok());
    CHECK(resolved.error().code == "secret_unresolved");
    REQUIRE(resolved.error().diagnostics.size() == 1);
    CHECK(resolved.error().diagnostics[0].path == "/password");
    CHECK_THAT(resolved.error().diagnostics[0].reason,
               Catch::Contains(missing.string()) && Catch::Contains("No such file or directory"));
  }
}

TEST_CASE("literal secrets are redacted and references kept", "[secrets]") {
  const std::string literal = "hunter2-Literal-Secret";
  const json config = {{"token", literal}, {"password", "env:DB_PASSWORD"}, {"user", "alice"}};
  const json redacted = redact_secrets(provider_schema(), config);
  CHECK(redacted["token"] == "<redacted>");
  CHECK(redacted["password"] == "env:DB_PASSWORD");
  CHECK(redacted["user"] == "alice");
  CHECK_THAT(redacted.dump(), !Catch::Contains(literal));
  CHECK(config["token"] == literal);  // the input is untouched

  SECTION("non-string and malformed values of secret fields are redacted too") {
    const json odd = redact_secrets(provider_schema(), {{"token", 123456}, {"password", "env:" + literal}});
    CHECK(odd["token"] == "<redacted>");
    CHECK(odd["password"] == "<redacted>");
    CHECK_THAT(odd.dump(), !Catch::Contains(literal) && !Catch::Contains("123456"));
  }
  SECTION("literal_secret_fields lists the fields given in clear") {
    CHECK(literal_secret_fields(provider_schema(), config) == std::vector<std::string>{"token"});
    CHECK(literal_secret_fields(provider_schema(), {{"token", "file:/x"}, {"password", "env:Y"}}).empty());
  }
}
