#include "cli/provider_commands.hpp"

#include "cli/exit_codes.hpp"
#include "cli/table.hpp"
#include "isolation/provider_scan.hpp"
#include "schema/config_file.hpp"
#include "schema/config_validation.hpp"
#include "schema/secrets.hpp"
#include "schema/value_limits.hpp"

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
  if (error.code_name().rfind("runner_", 0) == 0) return kExitFailure;
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
  Table table({"NAME", "TYPE", "REQUIRED", "SECRET", "DEFAULT", "VALUES", "DESCRIPTION"});
  for (const auto& [name, field] : config.items()) {
    const bool required = field.value("required", false) && !field.contains("default");
    table.add({name, field.value("type", "?"), required ? "yes" : "no", field.value("secret", false) ? "secret" : "-",
               field.contains("default") ? text_of(field["default"]) : "-", host::value_limits_text(field),
               field.value("description", "")});
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
    if (const std::string about = target.value("description", ""); !about.empty()) out << "    " << about << '\n';
    const json required = target.value("required", json::array());
    Table table({"PROPERTY", "TYPE", "REQUIRED", "VALUES", "DESCRIPTION"});
    const json properties = target.value("properties", json::object());  // a named copy: items() borrows it
    for (const auto& [name, property] : properties.items()) {
      const bool is_required = std::find(required.begin(), required.end(), name) != required.end();
      table.add({name, property.value("type", "string"), is_required ? "yes" : "no", host::value_limits_text(property),
                 property.value("description", property.value("title", ""))});
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

int provider_validate_config(const std::string& path, const std::string& config_path, bool resolve,
                             OutputFormat format, std::ostream& out, std::ostream& err) {
  auto module = load_provider(path);
  if (!module) return report(module.error(), err);
  const auto& provider = **module;
  const std::string reference = provider.identity().reference();
  const json& schema = provider.schema();

  auto config = host::read_config_file(config_path);
  if (!config) return report(config.error(), err);

  // Paths as gatehoused gives them for a handler's config (/config/token), so both say the same thing.
  const auto under_config = [](const std::string& field_path) { return "/config" + field_path; };
  // What gatehoused refuses, all at once: faults of the schema, then secrets given in clear (gatehoused refuses
  // them so no secret reaches its database).
  std::vector<host::Diagnostic> faults;
  if (auto valid = host::validate_config(schema, *config); !valid)
    for (const auto& d : valid.error().diagnostics) faults.push_back({under_config(d.path), d.reason});
  for (const auto& field : host::literal_secret_fields(schema, *config))
    faults.push_back({"/config/" + field,
                      "secret given in clear; use env:NAME or file:PATH (gatehoused refuses literal secrets)"});
  // env:/file: references are resolved by gatehoused, in its environment and on its machine, not here: unless
  // --resolve asks to resolve them in this environment, they are listed as not checked.
  struct Reference {
    std::string path, text;
  };
  std::vector<Reference> references;
  for (const auto& field : host::secret_fields(schema)) {
    const auto it = config->find(field);
    if (it != config->end() && it->is_string() && host::is_secret_reference(it->get<std::string>()))
      references.push_back({"/config/" + field, it->get<std::string>()});
  }
  if (resolve) {
    if (auto resolved = host::resolve_secrets(schema, *config); !resolved)
      for (const auto& d : resolved.error().diagnostics) faults.push_back({under_config(d.path), d.reason});
  }

  if (format == OutputFormat::json) {
    json report = {{"provider", reference},
                   {"config", config_path},
                   {"valid", faults.empty()},
                   {"faults", json::array()},
                   {"references", json::array()}};
    for (const auto& f : faults) report["faults"].push_back({{"path", f.path}, {"reason", f.reason}});
    for (const auto& r : references)
      report["references"].push_back({{"path", r.path}, {"reference", r.text}, {"resolved", resolve}});
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
  const json shown = host::redact_secrets(schema, *config);
  for (const auto& [field, value] : shown.items()) out << "  " << field << ": " << text_of(value) << '\n';
  for (const auto& r : references) {
    if (resolve)
      out << "resolved: " << r.path << " (" << r.text << ") resolves in this environment; its value is not shown\n";
    else
      out << "not resolved: " << r.path << " (" << r.text << ") is resolved by gatehoused in its own environment; "
          << "pass --resolve to resolve it here\n";
  }
  return kExitOk;
}

}  // namespace gatehouse::cli
