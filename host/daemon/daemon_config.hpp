// gatehoused's config file: YAML (or JSON) checked against schemas/gatehoused.schema.json, every fault with
// its field path, then read into this struct with the schema's defaults filled in.
#pragma once

#include "auth/tokens.hpp"
#include "common/result.hpp"

#include <chrono>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace gatehouse::host::daemon {

struct DaemonConfig {
  std::string listen_host = "127.0.0.1";
  unsigned short listen_port = 8470;
  std::filesystem::path data_dir = "/var/lib/gatehouse";
  std::optional<std::string> database_url;  // resolved (env:/file: references read); never logged
  std::size_t database_max_connections = 16;
  std::vector<std::filesystem::path> provider_paths;
  // providers.allowed_sha256: when not empty, only files with one of these digests are loaded.
  std::vector<std::string> provider_allowed_sha256;
  std::chrono::seconds health_interval{30};
  std::chrono::seconds health_timeout{5};
  std::chrono::seconds replica_reconcile_interval{10};  // replicas.reconcile_interval_seconds
  std::size_t grant_workers = 4;
  std::chrono::seconds call_timeout{10};
  std::string engine_id;  // "" → the host name
  std::chrono::seconds inventory_interval{3600};  // 0: no scheduled syncs
  std::map<std::string, std::chrono::seconds> inventory_interval_by_handler;
  std::size_t inventory_concurrency = 2;
  std::chrono::seconds inventory_call_timeout{60};
  std::size_t api_threads = 4;
  std::size_t max_body_bytes = 1 << 20;
  std::chrono::seconds read_timeout{10};
  std::chrono::seconds write_timeout{10};
  std::vector<auth::TokenEntry> tokens;
  std::string log_format = "human";
  std::string log_level = "info";
};

// Errors: config_unreadable / config_parse_error (from the file), or daemon_config_invalid listing every fault
// of the file at once with its path — the schema's, a listen port above 65535, a database.url reference that
// does not resolve (unset variable, unreadable file), a token listed twice — and a message whose count is the
// number of faults listed. Pure apart from resolving database.url; safe to call from any thread.
Result<DaemonConfig> load_daemon_config(const std::filesystem::path& file);
Result<DaemonConfig> daemon_config_from_json(const nlohmann::json& document);

// Where providers are looked for when the config names no search path: next to the installed binary
// (<prefix>/lib/gatehouse/providers) and the Debian location /usr/lib/gatehouse/providers.
std::vector<std::filesystem::path> default_provider_paths();

}  // namespace gatehouse::host::daemon
