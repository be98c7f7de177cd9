// The one rule for when failed provider calls make a handler unhealthy between checks (issue 14 item 6),
// as a table: no database, no provider.
#include "registry/failure_policy.hpp"
#include "registry_fixture.hpp"

#include <catch2/catch.hpp>

using namespace gatehouse::host;
using registry::FailurePolicy;

namespace {
Error error_of(ErrorCode code) { return make_error(code, "the call failed"); }
}  // namespace

TEST_CASE("a broken transport makes a handler unhealthy at once", "[registry][failure-policy]") {
  FailurePolicy policy;
  auto reason = policy.on_failure("h", error_of(ErrorCode::transport_failed));
  REQUIRE(reason.has_value());
  CHECK(*reason == "provider call failed: the call failed");
}

TEST_CASE("timeouts and unreadable answers count three in a row, per handler", "[registry][failure-policy]") {
  FailurePolicy policy;
  CHECK_FALSE(policy.on_failure("h", error_of(ErrorCode::deadline_exceeded)));
  CHECK_FALSE(policy.on_failure("h", error_of(ErrorCode::bad_response)));
  CHECK_FALSE(policy.on_failure("other", error_of(ErrorCode::deadline_exceeded)));  // counted apart
  CHECK(policy.failures_in_a_row("h") == 2);
  auto third = policy.on_failure("h", error_of(ErrorCode::deadline_exceeded));
  REQUIRE(third.has_value());
  CHECK(*third == "3 provider calls in a row failed; the last: deadline_exceeded: the call failed");
  CHECK(policy.failures_in_a_row("h") == 0);  // counted afresh after it was marked
  CHECK(policy.failures_in_a_row("other") == 1);
}

TEST_CASE("a success between failures starts the count again", "[registry][failure-policy]") {
  FailurePolicy policy;
  CHECK_FALSE(policy.on_failure("h", error_of(ErrorCode::deadline_exceeded)));
  CHECK_FALSE(policy.on_failure("h", error_of(ErrorCode::deadline_exceeded)));
  policy.on_success("h");
  CHECK_FALSE(policy.on_failure("h", error_of(ErrorCode::deadline_exceeded)));
  CHECK_FALSE(policy.on_failure("h", error_of(ErrorCode::deadline_exceeded)));
  CHECK(policy.on_failure("h", error_of(ErrorCode::deadline_exceeded)).has_value());
}

TEST_CASE("a provider's own answer is not counted: the health check judges it", "[registry][failure-policy]") {
  FailurePolicy policy(1);
  for (auto code : {ErrorCode::unavailable, ErrorCode::invalid_argument, ErrorCode::permission_denied,
                    ErrorCode::resource_exhausted, ErrorCode::internal_error, ErrorCode::not_found})
    CHECK_FALSE(policy.on_failure("h", error_of(code)));
  CHECK(policy.failures_in_a_row("h") == 0);
  CHECK(policy.on_failure("h", error_of(ErrorCode::bad_response)).has_value());  // a limit of 1: at once
}

TEST_CASE("the registry applies the rule to the engine's reports, and a healthy check clears the count",
          "[registry][failure-policy]") {
  gatehouse::test::RegistryFixture f("registry_failure_policy");
  f.demo_handler("demo-a");
  REQUIRE(f.registry->record_health("demo-a", true, "ok").ok());
  const auto timeout = error_of(ErrorCode::deadline_exceeded);

  f.registry->report_handler_failure("demo-a", timeout);
  f.registry->report_handler_failure("demo-a", timeout);
  CHECK(f.registry->handler_healthy("demo-a"));
  f.registry->report_handler_success("demo-a");
  f.registry->report_handler_failure("demo-a", timeout);
  f.registry->report_handler_failure("demo-a", timeout);
  CHECK(f.registry->handler_healthy("demo-a"));
  REQUIRE(f.registry->record_health("demo-a", true, "ok").ok());  // a healthy check clears the count too
  f.registry->report_handler_failure("demo-a", timeout);
  f.registry->report_handler_failure("demo-a", timeout);
  CHECK(f.registry->handler_healthy("demo-a"));
  f.registry->report_handler_failure("demo-a", timeout);
  CHECK_FALSE(f.registry->handler_healthy("demo-a"));
  CHECK_THAT(f.registry->handler("demo-a")->health_reason,
             Catch::StartsWith("3 provider calls in a row failed; the last: deadline_exceeded"));

  REQUIRE(f.registry->record_health("demo-a", true, "ok").ok());
  f.registry->report_handler_failure("demo-a", error_of(ErrorCode::transport_failed));
  CHECK_FALSE(f.registry->handler_healthy("demo-a"));
  CHECK(f.registry->handler("demo-a")->health_reason == "provider call failed: the call failed");
}
