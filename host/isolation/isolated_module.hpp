// Isolation mode: a provider loaded by gatehouse-provider-runner in a process of its own, behind the same
// ProviderModule / ProviderClient interfaces as an in-process load. Callers cannot tell the two apart, except
// that a crash in the provider costs one runner process (restarted with backoff) instead of the host.
//
// Each created instance (each handler) gets its own runner, so a crashing or leaking instance never takes
// another handler down, and limits (memory, CPU) apply per handler.
#pragma once

#include "isolation/isolation_options.hpp"
#include "loader/provider_client.hpp"

#include <filesystem>
#include <memory>

namespace gatehouse::host::isolation {

class Supervisor;

// The ProviderClient of one isolated instance. Extra over ProviderClient: health, the runner's pid, a call
// with its own timeout, and a manual restart.
// Thread-safe: every method may be called from any thread at once; calls overlap (they go to its Supervisor).
class IsolatedClient final : public ProviderClient {
 public:
  IsolatedClient(std::shared_ptr<Supervisor> supervisor, std::chrono::milliseconds call_timeout);
  ~IsolatedClient() override;  // destroys the instance and stops its runner (graceful, then SIGKILL)

  // Errors besides the provider's own (which travel inside the Response):
  //   transport_failed   the runner died during the call: "provider runner for X (pid N) died with signal 11
  //                      (Segmentation fault) during a call" (retryable)
  //   deadline_exceeded  no answer by the deadline: the runner was killed at it (retryable)
  //   unavailable        the runner is restarting or down; the message says why (retryable)
  // A deadline further away than `call_timeout` (the isolation setting) is brought in to it.
  Result<std::string> call(std::string_view request_bytes, CallDeadline deadline) override;
  bool enforces_deadline() const override { return true; }

  RunnerHealth health() const;
  // Starts a runner now even when the restart limit left it down.
  void restart_now();

 private:
  std::shared_ptr<Supervisor> supervisor_;
  std::chrono::milliseconds call_timeout_;
};

// A provider file described by a runner: identity and schema are known; create() starts one runner per instance.
// Immutable after construction: shared freely between threads, and create() may be called from several at once.
class IsolatedModule final : public ProviderModule {
 public:
  IsolatedModule(ProviderIdentity identity, nlohmann::json schema, std::string path, std::filesystem::path runner,
                 IsolationOptions options);

  const ProviderIdentity& identity() const override { return identity_; }
  const nlohmann::json& schema() const override { return schema_; }
  const std::string& path() const override { return path_; }
  const std::filesystem::path& runner_path() const { return runner_; }

  // Starts a runner, checks it still holds the same provider, creates the instance. The client is an
  // IsolatedClient. Errors: "create_failed" from the provider, or the runner's start errors
  // (runner_process.hpp) and transport errors when it crashes while creating.
  Result<std::unique_ptr<ProviderClient>> create(const nlohmann::json& config, const std::string& handler_id) override;

 private:
  ProviderIdentity identity_;
  nlohmann::json schema_;
  std::string path_;
  std::filesystem::path runner_;
  IsolationOptions options_;
};

// Loads `path` in a short-lived runner and describes it (within options.start_timeout). Refusals carry the same
// codes and sentences as load_provider_in_process (dll_loader.hpp), plus, because the load happened in another
// process: "crashed_while_loading", "exited_while_loading" and "hung_while_loading"; and the runner's own
// errors: "runner_unavailable", "runner_start_failed", "runner_handshake_failed", "runner_protocol_mismatch".
Result<std::shared_ptr<ProviderModule>> load_provider_isolated(const std::filesystem::path& path,
                                                               const IsolationOptions& options = {});

}  // namespace gatehouse::host::isolation

namespace gatehouse::host {
using isolation::IsolationOptions;
using isolation::load_provider_isolated;
}  // namespace gatehouse::host
