// The provider author's test kit: load your provider .so exactly as gatehoused does (dlopen, ABI handshake,
// Describe, meta-schema validation, config validation, secret resolution) and drive it call by call.
//
//   auto provider = gatehouse::testing::ProviderUnderTest::load("build/hello.so");
//   auto instance = provider.create({{"greeting", "hi"}});
//   auto granted  = instance.grant(gatehouse::testing::grant_request("g-1", "alice@example.com",
//                                  {"Greeting", {{"room", "lobby"}}}));
//   REQUIRE(granted.ok());
//
// Link gatehouse::testing (CMake) — it brings the host's loader, so what passes here loads in gatehoused.
#pragma once

#include <gatehouse/sdk.hpp>

#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

// The test kit's entry points are exported from libgatehouse-testing; everything else in it stays hidden.
#define GATEHOUSE_TESTING_API GATEHOUSE_ABI_EXPORT

namespace gatehouse::testing {

// Thrown by load() and create() when the host would refuse; what() is the host's sentence, code() its
// refusal code (e.g. "abi_major_mismatch", "schema_invalid", "config_invalid", "create_failed").
class GATEHOUSE_TESTING_API Refused : public std::runtime_error {
 public:
  Refused(std::string code, const std::string& message, std::vector<Diagnostic> diagnostics)
      : std::runtime_error(message), code_(std::move(code)), diagnostics_(std::move(diagnostics)) {}
  const std::string& code() const noexcept { return code_; }
  const std::vector<Diagnostic>& diagnostics() const noexcept { return diagnostics_; }

 private:
  std::string code_;
  std::vector<Diagnostic> diagnostics_;
};

// The outcome of one call as the host saw it: the status and, on success, the result.
template <class T>
struct Call {
  Code code = Code::ok;
  std::string message;
  std::vector<Diagnostic> diagnostics;
  T result{};

  // ok, or the idempotent successes already_exists / already_revoked.
  bool ok() const noexcept { return code == Code::ok || code == Code::already_exists || code == Code::already_revoked; }
};

// A configured instance of the provider. Safe to call from several threads at once, as the host does.
class GATEHOUSE_TESTING_API Instance {
 public:
  ~Instance();
  Instance(Instance&&) noexcept;
  Instance& operator=(Instance&&) noexcept;

  Call<GrantResult> grant(const GrantRequest& request);
  Call<RevokeResult> revoke(const RevokeRequest& request);
  Call<LoadResult> load(const LoadRequest& request);
  Call<Health> check_health();

  // Runs a loader to the end: follows next_page_token and every task; returns all resources.
  // Throws std::runtime_error with the status message if a page fails.
  std::vector<Resource> load_all(const std::string& loader);

  struct Impl;
  explicit Instance(std::unique_ptr<Impl> impl);

 private:
  std::unique_ptr<Impl> impl_;
};

class GATEHOUSE_TESTING_API ProviderUnderTest {
 public:
  // Loads and describes the provider; throws Refused when the host would refuse it.
  static ProviderUnderTest load(const std::string& path);

  ~ProviderUnderTest();
  ProviderUnderTest(ProviderUnderTest&&) noexcept;
  ProviderUnderTest& operator=(ProviderUnderTest&&) noexcept;

  std::string publisher() const;
  std::string name() const;
  std::string version() const;
  std::string framework_version() const;
  const nlohmann::json& schema() const;

  // Every fault of `config` against the schema's config section, with field paths; empty when valid.
  std::vector<Diagnostic> validate_config(const nlohmann::json& config) const;

  // Every fault gatehoused would answer 400 for when a grant request names `target` (unknown or missing
  // properties, and each property's type, enum, pattern, lengths and range), with paths "/target/NAME";
  // empty when the host would pass it on to grant(). The same check the daemon runs, before any call.
  std::vector<Diagnostic> validate_target(const Target& target) const;

  // Validates the config, resolves env:/file: secrets and creates an instance; throws Refused on failure.
  Instance create(const nlohmann::json& config, const std::string& handler_id = "test") const;

  struct Impl;
  explicit ProviderUnderTest(std::unique_ptr<Impl> impl);

 private:
  std::unique_ptr<Impl> impl_;
};

// A GrantRequest starting now and lasting `duration`.
inline GrantRequest grant_request(std::string grant_id, std::string subject, Target target,
                                  std::chrono::seconds duration = std::chrono::hours(1)) {
  auto now = Clock::now();
  return GrantRequest{std::move(grant_id), std::move(subject), std::move(target), now, now + duration};
}

// The RevokeRequest matching a grant and the state it returned.
inline RevokeRequest revoke_request(const GrantRequest& grant, std::string state) {
  return RevokeRequest{grant.grant_id, grant.subject, grant.target, std::move(state)};
}

}  // namespace gatehouse::testing
