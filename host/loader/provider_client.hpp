// The one way host code reaches a provider: serialized Request bytes in, serialized Response bytes out.
// In-process (a dlopen'ed library) and isolated (a runner process) implementations differ only by
// transport; no caller can tell them apart.
#pragma once

#include "common/result.hpp"

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace gatehouse::host {

// When a provider call's caller stops waiting. Every call carries one (issue 14 item 3).
using CallDeadline = std::chrono::steady_clock::time_point;
// The deadline `timeout` from now.
inline CallDeadline deadline_in(std::chrono::milliseconds timeout) { return std::chrono::steady_clock::now() + timeout; }

// One configured provider instance (what a handler runs). Thread-safe: calls may overlap.
class ProviderClient {
 public:
  virtual ~ProviderClient() = default;
  // Returns the serialized Response, or an Error when the transport itself failed (the provider crashed,
  // returned nothing, timed out). Provider-level failures travel inside the Response's Status.
  // `deadline`: when enforces_deadline(), the call returns by then (deadline_exceeded); otherwise it is the
  // caller's to stop waiting (ProviderCaller), and the provider learns it from Request.deadline_unix_ms.
  virtual Result<std::string> call(std::string_view request_bytes, CallDeadline deadline) = 0;
  // True when call() itself ends at the deadline (an isolated runner is killed then, so nothing returns late).
  // False for an in-process instance: a thread inside a plugin cannot be interrupted safely.
  virtual bool enforces_deadline() const { return false; }
};

struct ProviderIdentity {
  std::string publisher;
  std::string name;
  std::string version;
  std::string framework_version;
  unsigned abi_major = 0;
  unsigned abi_minor = 0;

  // "publisher/name@version", the reference operators type.
  std::string reference() const { return publisher + "/" + name + "@" + version; }
};

// A provider library that passed the handshake, described itself and whose schema passed the meta-schema.
// Implementations must be safe to share between threads: identity(), schema() and path() are fixed at load, and
// create() may be called from several threads at once (API handlers, health checks), each call making its own.
class ProviderModule {
 public:
  virtual ~ProviderModule() = default;
  virtual const ProviderIdentity& identity() const = 0;
  virtual const nlohmann::json& schema() const = 0;  // the validated provider schema document
  virtual const std::string& path() const = 0;       // the file it was loaded from

  // Creates an instance. `config` must already be validated and have its secrets resolved
  // (host/schema/config_validation.hpp). Errors: code "create_failed" with the provider's message.
  virtual Result<std::unique_ptr<ProviderClient>> create(const nlohmann::json& config,
                                                        const std::string& handler_id) = 0;
};

}  // namespace gatehouse::host
