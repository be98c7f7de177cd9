// Every failure fixture is refused with a code and a sentence naming the file; none crashes the process.
#include "loader/dll_loader.hpp"
#include "paths.hpp"

#include <catch2/catch.hpp>

#include <algorithm>

using gatehouse::host::load_provider_in_process;
using gatehouse::test::fixture_path;

namespace {

struct Expected {
  const char* mode;
  const char* code;
  const char* reason;
};

bool has_diagnostic(const gatehouse::host::Error& error, const std::string& path, const std::string& reason_part) {
  return std::any_of(error.diagnostics.begin(), error.diagnostics.end(), [&](const auto& d) {
    return d.path == path && d.reason.find(reason_part) != std::string::npos;
  });
}

}  // namespace

TEST_CASE("each broken provider is refused with its code and sentence", "[loader][fixtures]") {
  const Expected cases[] = {
      {"not_a_shared_object", "not_a_shared_object", "not an ELF shared object"},
      {"missing_entry_symbol", "missing_entry_symbol", "does not export gatehouse_provider_v1"},
      {"abi_major_mismatch", "abi_major_mismatch", "built for provider ABI 2.0 but this host speaks ABI 1.0"},
      {"abi_minor_too_new", "abi_minor_too_new", "needs provider ABI 1.7 but this host only provides ABI 1.0"},
      {"bad_struct_size", "bad_struct_size", "struct_size 24"},
      {"garbage_bytes", "bad_response", "not a valid Response message"},
      {"throws_through_abi", "describe_failed", "let an exception escape"},
      {"schema_breaks_meta_schema", "schema_invalid", "breaks provider.v1.schema.json"},
      {"relation_to_undeclared_type", "schema_invalid", "breaks provider.v1.schema.json"},
      {"missing_dependency", "load_failed", "libgatehouse_fixture_dependency.so"},
  };
  for (const auto& c : cases) {
    SECTION(c.mode) {
      const std::string path = fixture_path(c.mode);
      auto result = load_provider_in_process(path);
      REQUIRE_FALSE(result.ok());
      CHECK(result.error().code == c.code);
      CHECK_THAT(result.error().message, Catch::Contains(path));
      CHECK_THAT(result.error().message, Catch::Contains(c.reason));
    }
  }
}

TEST_CASE("a path that does not exist is refused", "[loader]") {
  auto result = load_provider_in_process("/nonexistent/provider.so");
  REQUIRE_FALSE(result.ok());
  CHECK(result.error().code == "file_not_found");
  CHECK_THAT(result.error().message, Catch::Contains("/nonexistent/provider.so") && Catch::Contains("no such file"));
}

TEST_CASE("schema faults are reported with their JSON pointers", "[loader][schema]") {
  SECTION("a document that breaks the meta-schema") {
    auto result = load_provider_in_process(fixture_path("schema_breaks_meta_schema"));
    REQUIRE_FALSE(result.ok());
    const auto& diagnostics = result.error().diagnostics;
    REQUIRE_FALSE(diagnostics.empty());
    CHECK(std::any_of(diagnostics.begin(), diagnostics.end(),
                      [](const auto& d) { return d.path.rfind("/config/endpoint", 0) == 0; }));
    CHECK(std::any_of(diagnostics.begin(), diagnostics.end(),
                      [](const auto& d) { return d.path.rfind("/targets/Thing", 0) == 0; }));
  }
  SECTION("relations and resource references to undeclared types") {
    auto result = load_provider_in_process(fixture_path("relation_to_undeclared_type"));
    REQUIRE_FALSE(result.ok());
    CHECK(has_diagnostic(result.error(), "/resources/types/Group/properties/data/members/relation", "Usr"));
    CHECK(has_diagnostic(result.error(), "/targets/GroupMembership/properties/group/resource", "Team"));
  }
}

TEST_CASE("an exception thrown while creating an instance becomes create_failed", "[loader][fixtures]") {
  auto module = load_provider_in_process(fixture_path("throws_in_create"));
  REQUIRE(module.ok());
  auto client = (*module)->create(nlohmann::json::object(), "h1");
  REQUIRE_FALSE(client.ok());
  CHECK(client.error().code == "create_failed");
  CHECK_THAT(client.error().message, Catch::Contains("fixture/throws-in-create@1.0.0") &&
                                         Catch::Contains("backend login failed: token rejected"));
}

TEST_CASE("refusing every fixture leaves the host able to load a good provider", "[loader][fixtures]") {
  for (const char* mode : {"not_a_shared_object", "missing_entry_symbol", "abi_major_mismatch", "abi_minor_too_new",
                           "bad_struct_size", "garbage_bytes", "throws_through_abi", "schema_breaks_meta_schema",
                           "relation_to_undeclared_type", "missing_dependency"}) {
    CHECK_FALSE(load_provider_in_process(fixture_path(mode)).ok());
  }
  auto demo = load_provider_in_process(gatehouse::test::demo_provider_path());
  REQUIRE(demo.ok());
  CHECK((*demo)->identity().reference() == "gatehouse/demo@1.0.0");
}
