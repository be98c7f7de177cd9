// Why a handler's config gave no instance, told the way operators read every other fault of a handler: as an
// invalid input (4xx) located under /config. host/schema and the providers locate faults inside the config
// ("/admin_password"); a handler document holds the config at /config, so those paths are re-rooted here, once,
// for every face (API answers, health reasons, apply reports). Header-only, pure: safe from any thread.
#pragma once

#include "common/result.hpp"

#include <string>

namespace gatehouse::host::registry {

// "/admin_password" → "/config/admin_password"; "" → "/config"; a path already under /config is kept (a
// provider may follow the host's convention itself).
inline std::string config_path(const std::string& path) {
  if (path == "/config" || path.rfind("/config/", 0) == 0) return path;
  if (path.empty() || path == "/") return "/config";
  return "/config" + (path.front() == '/' ? path : "/" + path);
}

// secret_unresolved (an unset env:, an unreadable file:) and config_invalid (the config against the provider's
// schema) keep their codes; a provider that refused to create an instance from the config (create_failed from
// its create call) becomes config_invalid with its diagnostics, or one diagnostic at /config carrying its
// sentence when it named no field. Paths are re-rooted under /config. Other errors (no runner, a runner that
// would not start) are not about the config and are returned unchanged.
inline Error config_refusal(Error error) {
  if (error.code == ErrorCode::create_failed) {
    error.code = ErrorCode::config_invalid;
    if (error.diagnostics.empty()) error.diagnostics.push_back({"/config", error.message});
  } else if (error.code != ErrorCode::secret_unresolved && error.code != ErrorCode::config_invalid) {
    return error;
  }
  for (auto& d : error.diagnostics) d.path = config_path(d.path);
  return error;
}

}  // namespace gatehouse::host::registry
