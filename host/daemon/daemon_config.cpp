#include "daemon/daemon_config.hpp"

#include "schema/config_file.hpp"
#include "schema/document_schemas.hpp"
#include "schema/secrets.hpp"

#include <unistd.h>

#include <algorithm>

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

// True when a fault is already reported at `path` or below it (the schema said what is wrong there).
bool has_fault_at(const std::vector<Diagnostic>& faults, const std::string& path) {
  return std::any_of(faults.begin(), faults.end(), [&](const Diagnostic& d) {
    return d.path == path || d.path.rfind(path + "/", 0) == 0;
  });
}

const json* member(const json& object, const char* name) {
  if (!object.is_object()) return nullptr;
  auto it = object.find(name);
  return it == object.end() ? nullptr : &*it;
}

// What the schema cannot say, each check on its own and on whatever the schema left usable, so one run reports
// every fault of the file (not the schema's faults first and the rest on the next try). Adds the resolved
// database URL to `url` when there is one.
void check_beyond_schema(const json& doc, std::vector<Diagnostic>& faults, std::optional<std::string>& url) {
  if (const json* listen = member(doc, "listen"); listen && listen->is_string() && !has_fault_at(faults, "/listen")) {
    const std::string text = listen->get<std::string>();
    const std::string port = text.substr(text.rfind(':') + 1);  // the schema's pattern: 1–5 digits after a ':'
    if (std::stol(port) > 65535) faults.push_back({"/listen", "port " + port + " is out of range (0–65535)"});
  }
  if (const json* db = member(doc, "database")) {
    if (const json* value = member(*db, "url"); value && value->is_string() && !has_fault_at(faults, "/database/url")) {
      auto resolved = resolve_reference(value->get<std::string>(), "/database/url");
      if (resolved) {
        url = *resolved;
      } else if (resolved.error().diagnostics.empty()) {
        faults.push_back({"/database/url", resolved.error().message});
      } else {
        for (const auto& d : resolved.error().diagnostics) faults.push_back(d);
      }
    }
  }
  const json* api = member(doc, "api");
  const json* tokens = api ? member(*api, "tokens") : nullptr;
  if (tokens && tokens->is_array()) {
    for (std::size_t i = 0; i < tokens->size(); ++i) {
      for (const char* field : {"name", "sha256"}) {
        const json* mine = member((*tokens)[i], field);
        if (!mine || !mine->is_string()) continue;
        for (std::size_t j = 0; j < i; ++j) {
          const json* other = member((*tokens)[j], field);
          if (other && *other == *mine) {
            faults.push_back({"/api/tokens/" + std::to_string(i) + "/" + field,
                              std::string(field) == "name" ? "token name is used twice (also /api/tokens/" + std::to_string(j) + ")"
                                                           : "the same token is listed twice (also /api/tokens/" + std::to_string(j) + ")"});
            break;
          }
        }
      }
    }
  }
}

}  // namespace

Result<DaemonConfig> daemon_config_from_json(const json& doc) {
  if (!doc.is_object())
    return make_error(ErrorCode::daemon_config_invalid, "the gatehoused config is invalid: 1 fault", {{"", "must be a mapping"}});
  std::vector<Diagnostic> faults;
  if (auto checked = check_daemon_config(doc); !checked) faults = checked.error().diagnostics;
  std::optional<std::string> url;
  check_beyond_schema(doc, faults, url);
  if (!faults.empty()) {
    std::stable_sort(faults.begin(), faults.end(), [](const Diagnostic& a, const Diagnostic& b) { return a.path < b.path; });
    // The count is of the faults listed below it, always.
    const std::string count = std::to_string(faults.size()) + (faults.size() == 1 ? " fault" : " faults");
    return make_error(ErrorCode::daemon_config_invalid, "the gatehoused config is invalid: " + count, std::move(faults));
  }
  // From here on the document is valid: every value has the type the schema gives it.
  DaemonConfig c;
  const std::string listen = doc.value("listen", "127.0.0.1:8470");
  const auto colon = listen.rfind(':');
  c.listen_host = listen.substr(0, colon);
  if (c.listen_host.size() > 2 && c.listen_host.front() == '[') c.listen_host = c.listen_host.substr(1, c.listen_host.size() - 2);
  c.listen_port = static_cast<unsigned short>(std::stol(listen.substr(colon + 1)));
  c.database_url = url;
  c.data_dir = doc.value("data_dir", "/var/lib/gatehouse");
  const json db = doc.value("database", json::object());
  c.database_max_connections = db.value("max_connections", 16);
  const json providers = doc.value("providers", json::object());
  for (const auto& p : providers.value("search_paths", json::array())) c.provider_paths.emplace_back(p.get<std::string>());
  if (!providers.contains("search_paths")) c.provider_paths = default_provider_paths();
  for (const auto& d : providers.value("allowed_sha256", json::array())) c.provider_allowed_sha256.push_back(d.get<std::string>());
  const json health = doc.value("health", json::object());
  c.health_interval = std::chrono::seconds(health.value("interval_seconds", 30));
  c.health_timeout = std::chrono::seconds(health.value("timeout_seconds", 5));
  const json replicas = doc.value("replicas", json::object());
  c.replica_reconcile_interval = std::chrono::seconds(replicas.value("reconcile_interval_seconds", 10));
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
  for (const auto& t : api.value("tokens", json::array()))
    c.tokens.push_back({t["name"].get<std::string>(), *auth::parse_role(t["role"].get<std::string>()),
                        t["sha256"].get<std::string>(), t.value("subject", "")});
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
