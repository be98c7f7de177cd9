// The host's view of a good provider: handshake, description, instance, typed calls through bytes.
#include "loader/dll_loader.hpp"
#include "loader/provider_calls.hpp"
#include "paths.hpp"
#include "run_process.hpp"
#include "schema/provider_schema.hpp"

#include <gatehouse/abi.h>

#include <catch2/catch.hpp>

#include <filesystem>

using namespace gatehouse::host;
using gatehouse::test::TempDir;

namespace {

nlohmann::json demo_config(const TempDir& dir) {
  return {{"state_dir", dir.path()}, {"token", "demo-token-123"}};
}

pb::GrantRequest project_grant(const std::string& id, const std::string& project = "apollo") {
  pb::GrantRequest request;
  request.set_grant_id(id);
  request.set_subject("alice@example.com");
  request.mutable_target()->set_kind("ProjectRole");
  (*request.mutable_target()->mutable_properties())["project"] = project;
  (*request.mutable_target()->mutable_properties())["role"] = "viewer";
  request.set_starts_at_unix_ms(1'700'000'000'000);
  request.set_ends_at_unix_ms(1'700'003'600'000);
  return request;
}

}  // namespace

TEST_CASE("the demo provider passes the handshake and describes itself", "[loader][demo]") {
  auto module = load_provider_in_process(gatehouse::test::demo_provider_path());
  REQUIRE(module.ok());
  const auto& id = (*module)->identity();
  CHECK(id.publisher == "gatehouse");
  CHECK(id.name == "demo");
  CHECK(id.abi_major == GATEHOUSE_ABI_MAJOR);
  CHECK(id.abi_minor == GATEHOUSE_ABI_MINOR);
  CHECK((*module)->schema()["$id"] == "urn:gatehouse:provider:gatehouse/demo:1.0.0");
  CHECK(validate_provider_schema((*module)->schema()).ok());
  CHECK(std::filesystem::path((*module)->path()).is_absolute());
}

TEST_CASE("calls travel as bytes and come back typed", "[loader][demo]") {
  TempDir state("gatehouse-demo-state");
  auto module = load_provider_in_process(gatehouse::test::demo_provider_path());
  REQUIRE(module.ok());
  auto client = (*module)->create(demo_config(state), "handler-1");
  REQUIRE(client.ok());

  auto health = check_health(**client, ::gatehouse::host::deadline_in(std::chrono::seconds(30)));
  REQUIRE(health.ok());
  CHECK(health->healthy());

  auto granted = grant(**client, project_grant("g-1"), ::gatehouse::host::deadline_in(std::chrono::seconds(30)));
  REQUIRE(granted.ok());
  CHECK_FALSE(granted->state().empty());
  CHECK(std::filesystem::exists(state.path() + "/grants/g-1.json"));

  SECTION("a repeated grant is an idempotent success with the same state") {
    pb::Request request;
    *request.mutable_grant() = project_grant("g-1");
    auto again = invoke(**client, request, ::gatehouse::host::deadline_in(std::chrono::seconds(30)));
    REQUIRE(again.ok());
    CHECK(again->status().code() == pb::Status::ALREADY_EXISTS);
    CHECK(again->grant().state() == granted->state());
  }
  SECTION("a provider's refusal is an Error carrying its code, message and field path") {
    auto refused = grant(**client, project_grant("g-2", "no-such-project"), ::gatehouse::host::deadline_in(std::chrono::seconds(30)));
    REQUIRE_FALSE(refused.ok());
    CHECK(refused.error().code == "invalid_argument");
    CHECK_FALSE(is_retryable(refused.error()));
    CHECK_THAT(refused.error().message, Catch::Contains("no-such-project"));
    REQUIRE_FALSE(refused.error().diagnostics.empty());
    CHECK(refused.error().diagnostics.front().path == "/target/project");
  }
  SECTION("revoke hands back the state and is idempotent") {
    pb::RevokeRequest request;
    request.set_grant_id("g-1");
    request.set_subject("alice@example.com");
    *request.mutable_target() = project_grant("g-1").target();
    request.set_state(granted->state());
    REQUIRE(revoke(**client, request, ::gatehouse::host::deadline_in(std::chrono::seconds(30))).ok());
    CHECK_FALSE(std::filesystem::exists(state.path() + "/grants/g-1.json"));
    pb::Request again;
    *again.mutable_revoke() = request;
    auto second = invoke(**client, again, ::gatehouse::host::deadline_in(std::chrono::seconds(30)));
    REQUIRE(second.ok());
    CHECK(second->status().code() == pb::Status::ALREADY_REVOKED);
  }
}

TEST_CASE("transport and availability errors are retryable, input errors are not", "[loader]") {
  CHECK(is_retryable(make_error(gatehouse::host::ErrorCode::unavailable, "backend down")));
  CHECK(is_retryable(make_error(gatehouse::host::ErrorCode::deadline_exceeded, "slow")));
  CHECK(is_retryable(make_error(gatehouse::host::ErrorCode::transport_failed, "runner crashed")));
  CHECK_FALSE(is_retryable(make_error(gatehouse::host::ErrorCode::invalid_argument, "bad target")));
  CHECK_FALSE(is_retryable(make_error(gatehouse::host::ErrorCode::permission_denied, "no")));
}
