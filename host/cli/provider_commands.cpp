#include "cli/provider_commands.hpp"

#include "cli/exit_codes.hpp"
#include "cli/table.hpp"
#include "isolation/provider_scan.hpp"
#include "schema/config_file.hpp"
#include "schema/config_validation.hpp"
#include "schema/secrets.hpp"

#include <gatehouse/abi.h>

#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <ostream>

namespace gatehouse::cli {
namespace {

using nlohmann::json;
using host::Error;

namespace fs = std::filesystem;

int report(const Error& error, std::ostream& err) {
  err << "error: " << error.describe() << '\n';
  // No runner to scan with is a broken installation, not a verdict on the provider.
  if (error.code.rfind("runner_", 0) == 0) return kExitFailure;
  return kExitRefused;
}

// Where the CLI remembers provider files it scanned and accepted: $XDG_CACHE_HOME/gatehouse (an absolute path,
// as the XDG spec requires), else ~/.cache/gatehouse. Empty — scan every time — when neither is set or the
// directory cannot be written, so an unwritable home never turns into an error or a warning.
fs::path scan_cache_file() {
  fs::path dir;
  if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg != nullptr && xdg[0] == '/') {
    dir = fs::path(xdg) / "gatehouse";
  } else if (const char* home = std::getenv("HOME"); home != nullptr && home[0] == '/') {
    dir = fs::path(home) / ".cache" / "gatehouse";
  } else {
    return {};
  }
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec || ::access(dir.c_str(), W_OK) != 0) return {};
  return dir / "provider-scan-cache.json";
}

// The offline verbs load the provider into this process, so the file is first loaded and described by a
// gatehouse-provider-runner: one that crashes, aborts, exits or hangs while loading is refused with that
// reason and never touches the CLI. The runner is found next to this executable or in ../libexec/gatehouse.
host::Result<std::shared_ptr<host::ProviderModule>> load_provider(const std::string& path) {
  host::ScanOptions options;
  options.cache_file = scan_cache_file();
  return host::load_provider_scanned(path, options);
}

std::string text_of(const json& value) { return value.is_string() ? value.get<std::string>() : value.dump(); }

std::string join(const json& list, const char* separator = ", ") {
  std::string out;
  for (const auto& item : list) out += (out.empty() ? "" : separator) + text_of(item);
  return out;
}

void print_config_fields(const json& config, std::ostream& out) {
  out << "\nConfig fields\n";
  if (config.empty()) {
    out << "  (none)\n";
    return;
  }
  Table table({"NAME", "TYPE", "REQUIRED", "SECRET", "DEFAULT", "DESCRIPTION"});
  for (const auto& [name, field] : config.items()) {
    const bool required = field.value("required", false) && !field.contains("default");
    table.add({name, field.value("type", "?"), required ? "yes" : "no", field.value("secret", false) ? "secret" : "-",
               field.contains("default") ? text_of(field["default"]) : "-", field.value("description", "")});
  }
  table.print(out, "  ");
}

void print_resource_types(const json& types, std::ostream& out) {
  out << "\nResource types\n";
  if (types.empty()) {
    out << "  (none)\n";
    return;
  }
  Table table({"TYPE", "TITLE", "DATA FIELDS", "RELATIONS"});
  for (const auto& [name, type] : types.items()) {
    std::string fields, relations;
    const json data = type.value("properties", json::object()).value("data", json::object());
    for (const auto& [field, spec] : data.items()) {
      fields += (fields.empty() ? "" : ", ") + field;
      if (spec.contains("relation")) {
        relations += (relations.empty() ? "" : ", ") + field + " -> " + text_of(spec["relation"]);
      }
    }
    table.add({name, type.value("title", ""), fields.empty() ? "-" : fields, relations.empty() ? "-" : relations});
  }
  table.print(out, "  ");
}

void print_loaders(const json& loaders, std::ostream& out) {
  out << "\nLoaders\n";
  if (loaders.empty()) {
    out << "  (none)\n";
    return;
  }
  Table table({"LOADER", "TITLE", "LOADS"});
  for (const auto& [name, loader] : loaders.items()) {
    table.add({name, loader.value("title", ""), join(loader.value("types", json::array()))});
  }
  table.print(out, "  ");
}

void print_targets(const json& targets, std::ostream& out) {
  out << "\nTarget kinds\n";
  if (targets.empty()) {
    out << "  (none)\n";
    return;
  }
  for (const auto& [kind, target] : targets.items()) {
    out << "  " << kind << " — " << target.value("title", kind) << '\n';
    const json required = target.value("required", json::array());
    Table table({"PROPERTY", "TYPE", "REQUIRED", "VALUES"});
    const json properties = target.value("properties", json::object());  // a named copy: items() borrows it
    for (const auto& [name, property] : properties.items()) {
      std::string values = "-";
      if (property.contains("resource")) values = "id of resource " + text_of(property["resource"]);
      if (property.contains("enum")) values = "one of " + join(property["enum"]);
      const bool is_required = std::find(required.begin(), required.end(), name) != required.end();
      table.add({name, property.value("type", "string"), is_required ? "yes" : "no", values});
    }
    table.print(out, "    ");
  }
}

}  // namespace

int provider_inspect(const std::string& path, OutputFormat format, std::ostream& out, std::ostream& err) {
  auto module = load_provider(path);
  if (!module) return report(module.error(), err);
  const auto& provider = **module;
  const json& schema = provider.schema();

  if (format == OutputFormat::json) {
    out << schema.dump(2) << '\n';
    return kExitOk;
  }
  const auto& id = provider.identity();
  Table header({"Provider", id.reference()});
  header.add({"File", provider.path()});
  header.add({"ABI", std::to_string(id.abi_major) + "." + std::to_string(id.abi_minor) + " (host speaks " +
                         std::to_string(GATEHOUSE_ABI_MAJOR) + "." + std::to_string(GATEHOUSE_ABI_MINOR) + ")"});
  header.add({"Framework", id.framework_version});
  header.print(out);
  print_config_fields(schema.value("config", json::object()), out);
  const json resources = schema.value("resources", json::object());
  print_resource_types(resources.value("types", json::object()), out);
  print_loaders(resources.value("loaders", json::object()), out);
  print_targets(schema.value("targets", json::object()), out);
  return kExitOk;
}

int provider_validate_config(const std::string& path, const std::string& config_path, OutputFormat format,
                             std::ostream& out, std::ostream& err) {
  auto module = load_provider(path);
  if (!module) return report(module.error(), err);
  const auto& provider = **module;
  const std::string reference = provider.identity().reference();

  auto config = host::read_config_file(config_path);
  if (!config) return report(config.error(), err);

  // Validation first (every fault at once), then secret references, which need the environment.
  std::vector<host::Diagnostic> faults;
  if (auto valid = host::validate_config(provider.schema(), *config); !valid) {
    faults = valid.error().diagnostics;
  } else if (auto resolved = host::resolve_secrets(provider.schema(), *config); !resolved) {
    faults = resolved.error().diagnostics;
  }
  const auto literal = host::literal_secret_fields(provider.schema(), *config);

  if (format == OutputFormat::json) {
    json report = {{"provider", reference},
                   {"config", config_path},
                   {"valid", faults.empty()},
                   {"faults", json::array()},
                   {"warnings", json::array()}};
    for (const auto& f : faults) report["faults"].push_back({{"path", f.path}, {"reason", f.reason}});
    for (const auto& field : literal) {
      report["warnings"].push_back({{"path", "/" + field}, {"reason", "secret given in clear"}});
    }
    out << report.dump(2) << '\n';
    return faults.empty() ? kExitOk : kExitRefused;
  }

  if (!faults.empty()) {
    err << "error: " << config_path << " is not a valid config for " << reference << " (" << faults.size()
        << " fault" << (faults.size() == 1 ? "" : "s") << ")\n";
    for (const auto& f : faults) err << "  " << (f.path.empty() ? "/" : f.path) << ": " << f.reason << '\n';
    return kExitRefused;
  }
  out << "ok: " << config_path << " is a valid config for " << reference << '\n';
  const json shown = host::redact_secrets(provider.schema(), *config);
  for (const auto& [field, value] : shown.items()) out << "  " << field << ": " << text_of(value) << '\n';
  for (const auto& field : literal) {
    err << "warning: /" << field << " is a secret given in clear; prefer env:NAME or file:PATH\n";
  }
  return kExitOk;
}

}  // namespace gatehouse::cli
