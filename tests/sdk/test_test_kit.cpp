// The README's minimal provider, driven through the test kit the way authors test theirs.
#include "run_process.hpp"

#include <gatehouse/testing.hpp>

#include <catch2/catch.hpp>

using namespace gatehouse;
using testing::ProviderUnderTest;

namespace {
std::string hello_path() { return std::string(GATEHOUSE_BINARY_DIR) + "/sdk/examples/hello/hello.so"; }
}  // namespace

TEST_CASE("the minimal provider loads, validates config and grants", "[sdk][test-kit]") {
  auto provider = ProviderUnderTest::load(hello_path());
  CHECK(provider.publisher() == "acme");
  CHECK(provider.name() == "hello");
  CHECK(provider.version() == "0.1.0");
  CHECK(provider.framework_version() == GATEHOUSE_FRAMEWORK_VERSION);
  CHECK(provider.schema()["config"]["api_key"]["secret"] == true);

  auto faults = provider.validate_config({{"greeting", 7}});
  REQUIRE(faults.size() == 2);  // api_key missing, greeting of the wrong type

  auto instance = provider.create({{"api_key", "k-123"}});
  auto request = testing::grant_request("g-1", "alice@example.com", {"Room", {{"room", "lobby"}}});
  auto granted = instance.grant(request);
  REQUIRE(granted.ok());
  CHECK(granted.code == Code::ok);
  CHECK(granted.result.state == "lobby");
  CHECK(granted.result.message == "hello, alice@example.com");

  auto again = instance.grant(request);
  CHECK(again.ok());
  CHECK(again.code == Code::already_exists);

  auto revoked = instance.revoke(testing::revoke_request(request, granted.result.state));
  CHECK(revoked.code == Code::ok);
  CHECK(instance.revoke(testing::revoke_request(request, granted.result.state)).code == Code::already_revoked);

  auto missing = instance.grant(testing::grant_request("g-2", "bob", {"Room", {}}));
  CHECK(missing.code == Code::invalid_argument);
  REQUIRE(missing.diagnostics.size() == 1);
  CHECK(missing.diagnostics[0].path == "/target/room");

  auto health = instance.check_health();
  CHECK(health.ok());
  CHECK(health.result.healthy);

  auto load = instance.load({"anything", ""});
  CHECK(load.code == Code::unimplemented);
}

TEST_CASE("the test kit refuses what the host refuses, with the host's code", "[sdk][test-kit]") {
  try {
    ProviderUnderTest::load(std::string(GATEHOUSE_BINARY_DIR) + "/tests/fixtures/fixture_abi_major_mismatch.so");
    FAIL("expected Refused");
  } catch (const testing::Refused& e) {
    CHECK(e.code() == "abi_major_mismatch");
    CHECK_THAT(e.what(), Catch::Contains("ABI 2.0"));
  }
  auto provider = ProviderUnderTest::load(hello_path());
  try {
    provider.create({{"greeting", "hi"}});
    FAIL("expected Refused");
  } catch (const testing::Refused& e) {
    CHECK(e.code() == "config_invalid");
    REQUIRE_FALSE(e.diagnostics().empty());
    CHECK(e.diagnostics()[0].path == "/api_key");
  }
}

TEST_CASE("secret references are resolved before the provider sees the config", "[sdk][test-kit]") {
  gatehouse::test::TempDir dir("gatehouse-kit");
  auto key_file = dir.write("api_key", "from-a-file\n");
  auto provider = ProviderUnderTest::load(hello_path());
  CHECK_NOTHROW(provider.create({{"api_key", "file:" + key_file}}));
  try {
    provider.create({{"api_key", "file:" + dir.path() + "/missing"}});
    FAIL("expected Refused");
  } catch (const testing::Refused& e) {
    CHECK(e.code() == "secret_unresolved");
    CHECK_THAT(e.what(), Catch::Contains("/api_key"));
  }
}

TEST_CASE("the test kit checks targets the way gatehoused does before a grant", "[sdk][test-kit][limits]") {
  auto provider = ProviderUnderTest::load(hello_path());
  CHECK(provider.validate_target({"Booking", {{"room", "lobby"}, {"seats", "12"}, {"moderated", "true"}}}).empty());

  const auto faults = provider.validate_target({"Booking", {{"room", "Lobby!"}, {"seats", "51"}, {"floor", "2"}}});
  std::vector<std::string> seen;
  for (const auto& d : faults) seen.push_back(d.path + ": " + d.reason);
  CHECK(seen == std::vector<std::string>{"/target/floor: is not a property of target kind Booking",
                                         "/target/room: must match the pattern ^[a-z][a-z0-9-]*$ (got 'Lobby!')",
                                         "/target/seats: must be at most 50 (got '51')"});
  const auto missing = provider.validate_target({"Booking", {{"room", "lobby"}}});
  REQUIRE(missing.size() == 1);
  CHECK(missing[0].path == "/target/seats");
  CHECK(missing[0].reason == "is required");
  CHECK(provider.validate_target({"Nope", {}})[0].reason == "'Nope' is not a target kind of this provider");

  // What passes reaches grant() as text, converted by Target::integer / Target::boolean.
  auto instance = provider.create({{"api_key", "k-123"}});
  auto granted = instance.grant(testing::grant_request(
      "g-b", "alice@example.com", {"Booking", {{"room", "lobby"}, {"seats", "12"}, {"moderated", "true"}}}));
  REQUIRE(granted.ok());
  CHECK(granted.result.message == "hello, alice@example.com: 12 seats, moderated");
}
