#include "daemon/daemon_config.hpp"

#include "schema/config_file.hpp"
#include "schema/document_schemas.hpp"
#include "schema/secrets.hpp"

#include <unistd.h>

namespace gatehouse::host::daemon {

using nlohmann::json;

namespace {

// env:NAME and file:PATH, as for secret provider config fields (the URL may carry a password).
Result<std::string> resolve_reference(const std::string& value, const std::string& path) {
  if (!is_secret_reference(value)) return value;
  const json schema{{"config", {{"value", {{"type", "string"}, {"secret", true}}}}}};
  auto resolved = resolve_secrets(schema, json{{"value", value}});
  if (!resolved) {
    Error e = resolved.take_error();
    for (auto& d : e.diagnostics) d.path = path;
    return e;
  }
  return (*resolved)["value"].get<std::string>();
}

}  // namespace

Result<DaemonConfig> daemon_config_from_json(const json& doc) {
  if (auto checked = check_daemon_config(doc); !checked) return checked.take_error();
  DaemonConfig c;
  const std::string listen = doc.value("listen", "127.0.0.1:8470");
  const auto colon = listen.rfind(':');
  c.listen_host = listen.substr(0, colon);
  if (c.listen_host.size() > 2 && c.listen_host.front() == '[') c.listen_host = c.listen_host.substr(1, c.listen_host.size() - 2);
  const long port = std::stol(listen.substr(colon + 1));
  if (port < 0 || port > 65535)
    return make_error("daemon_config_invalid", "the gatehoused config is invalid: 1 fault",
                      {{"/listen", "port must be between 0 and 65535"}});
  c.listen_port = static_cast<unsigned short>(port);
  c.data_dir = doc.value("data_dir", "/var/lib/gatehouse");
  const json db = doc.value("database", json::object());
  if (db.contains("url")) {
    auto url = resolve_reference(db["url"].get<std::string>(), "/database/url");
    if (!url) return url.take_error();
    c.database_url = *url;
  }
  c.database_max_connections = db.value("max_connections", 16);
  const json providers = doc.value("providers", json::object());
  for (const auto& p : providers.value("search_paths", json::array())) c.provider_paths.emplace_back(p.get<std::string>());
  if (!providers.contains("search_paths")) c.provider_paths = default_provider_paths();
  const json health = doc.value("health", json::object());
  c.health_interval = std::chrono::seconds(health.value("interval_seconds", 30));
  c.health_timeout = std::chrono::seconds(health.value("timeout_seconds", 5));
  const json grants = doc.value("grants", json::object());
  c.grant_workers = grants.value("workers", 4);
  c.call_timeout = std::chrono::seconds(grants.value("call_timeout_seconds", 10));
  c.engine_id = grants.value("engine_id", "");
  const json inventory = doc.value("inventory", json::object());
  c.inventory_interval = std::chrono::seconds(inventory.value("interval_seconds", 3600));
  const json by_handler = inventory.value("interval_seconds_by_handler", json::object());
  for (const auto& [handler, seconds] : by_handler.items())
    c.inventory_interval_by_handler[handler] = std::chrono::seconds(seconds.get<long long>());
  c.inventory_concurrency = inventory.value("concurrency", 2);
  c.inventory_call_timeout = std::chrono::seconds(inventory.value("call_timeout_seconds", 60));
  const json api = doc.value("api", json::object());
  c.api_threads = api.value("threads", 4);
  c.max_body_bytes = api.value("max_body_bytes", 1 << 20);
  c.read_timeout = std::chrono::seconds(api.value("read_timeout_seconds", 10));
  c.write_timeout = std::chrono::seconds(api.value("write_timeout_seconds", 10));
  std::vector<Diagnostic> duplicates;
  for (std::size_t i = 0; i < api.value("tokens", json::array()).size(); ++i) {
    const json& t = api["tokens"][i];
    auth::TokenEntry entry{t["name"].get<std::string>(), *auth::parse_role(t["role"].get<std::string>()),
                           t["sha256"].get<std::string>(), t.value("subject", "")};
    for (const auto& other : c.tokens) {
      if (other.name == entry.name)
        duplicates.push_back({"/api/tokens/" + std::to_string(i) + "/name", "token name is used twice"});
      if (other.sha256 == entry.sha256)
        duplicates.push_back({"/api/tokens/" + std::to_string(i) + "/sha256", "the same token is listed twice"});
    }
    c.tokens.push_back(std::move(entry));
  }
  if (!duplicates.empty())
    return make_error("daemon_config_invalid", "the gatehoused config is invalid", std::move(duplicates));
  const json logging = doc.value("logging", json::object());
  c.log_format = logging.value("format", "human");
  c.log_level = logging.value("level", "info");
  return c;
}

Result<DaemonConfig> load_daemon_config(const std::filesystem::path& file) {
  auto doc = read_config_file(file);
  if (!doc) return doc.take_error();
  auto config = daemon_config_from_json(*doc);
  if (!config) {
    Error e = config.take_error();
    e.message = file.string() + ": " + e.message;
    return e;
  }
  return config;
}

std::vector<std::filesystem::path> default_provider_paths() {
  std::vector<std::filesystem::path> out;
  std::error_code ec;
  const auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    const auto prefix = exe.parent_path().parent_path();
    for (const char* lib : {"lib", "lib64"}) {
      auto dir = prefix / lib / "gatehouse" / "providers";
      if (std::filesystem::is_directory(dir, ec)) out.push_back(dir);
    }
  }
  const std::filesystem::path debian = "/usr/lib/gatehouse/providers";
  if (std::find(out.begin(), out.end(), debian) == out.end()) out.push_back(debian);
  return out;
}

}  // namespace gatehouse::host::daemon
