// Secret values stay out of config files (env:NAME, file:PATH) and out of every printed or logged copy.
#include "secrets.hpp"

#include "json_schema_check.hpp"
#include "secret_reference.hpp"
#include "text_file.hpp"

#include "common/utf8_text.hpp"

#include <cstdlib>

namespace gatehouse::host {
namespace {

using detail::SecretReference;

// The secret fields the config sets, with their values.
template <class Fn>
void for_each_secret(const nlohmann::json& provider_schema, const nlohmann::json& config, Fn&& fn) {
  if (!config.is_object()) return;
  for (const auto& field : secret_fields(provider_schema)) {
    auto it = config.find(field);
    if (it != config.end()) fn(field, *it);
  }
}

// Anything but a well-formed reference (or an explicit null) may be the secret itself, whatever its type.
bool is_literal(const nlohmann::json& value) {
  if (value.is_null()) return false;
  return !(value.is_string() && is_secret_reference(value.get<std::string>()));
}

}  // namespace

std::vector<std::string> secret_fields(const nlohmann::json& provider_schema) {
  std::vector<std::string> names;
  if (!provider_schema.is_object()) return names;
  auto config = provider_schema.find("config");
  if (config == provider_schema.end() || !config->is_object()) return names;
  for (const auto& [name, spec] : config->items()) {
    if (spec.is_object() && spec.value("secret", nlohmann::json(false)) == nlohmann::json(true)) names.push_back(name);
  }
  return names;
}

bool is_secret_reference(const std::string& value) {
  return detail::parse_secret_reference(value).kind != SecretReference::Kind::literal;
}

Result<nlohmann::json> resolve_secrets(const nlohmann::json& provider_schema, const nlohmann::json& config) {
  nlohmann::json resolved = config;
  std::vector<Diagnostic> faults;
  for_each_secret(provider_schema, config, [&](const std::string& field, const nlohmann::json& value) {
    if (!value.is_string()) return;
    const auto reference = detail::parse_secret_reference(value.get<std::string>());
    const std::string path = "/" + detail::escape_pointer_token(field);
    // A value JSON cannot hold (ill-formed UTF-8, a NUL) is refused here, naming where it came from but never
    // what it holds: it would otherwise fail later, far from the cause, when the config is serialized.
    auto store = [&](std::string text, const std::string& source) {
      if (auto bad = text_fault(text)) faults.push_back({path, source + " " + *bad});
      else resolved[field] = std::move(text);
    };
    if (reference.kind == SecretReference::Kind::env) {
      const char* text = std::getenv(reference.target.c_str());
      if (!text) faults.push_back({path, "environment variable " + reference.target + " is not set"});
      else store(text, "environment variable " + reference.target);
    } else if (reference.kind == SecretReference::Kind::file) {
      std::string reason;
      auto text = detail::read_text_file(reference.target, reason);
      if (!text) {
        faults.push_back({path, "cannot read secret file " + reference.target + ": " + reason});
        return;
      }
      // Files written by editors and `echo` end with a newline that is not part of the secret.
      if (text->ends_with("\r\n")) text->resize(text->size() - 2);
      else if (text->ends_with('\n')) text->pop_back();
      store(std::move(*text), "secret file " + reference.target);
    }
  });
  if (faults.empty()) return resolved;
  const std::string count = faults.size() == 1 ? "1 secret reference" : std::to_string(faults.size()) + " secret references";
  return make_error(ErrorCode::secret_unresolved, "cannot resolve " + count + " in the config", std::move(faults));
}

nlohmann::json redact_secrets(const nlohmann::json& provider_schema, const nlohmann::json& config) {
  nlohmann::json redacted = config;
  for_each_secret(provider_schema, config, [&](const std::string& field, const nlohmann::json& value) {
    if (is_literal(value)) redacted[field] = "<redacted>";
  });
  return redacted;
}

std::vector<std::string> literal_secret_fields(const nlohmann::json& provider_schema, const nlohmann::json& config) {
  std::vector<std::string> fields;
  for_each_secret(provider_schema, config, [&](const std::string& field, const nlohmann::json& value) {
    if (is_literal(value)) fields.push_back(field);
  });
  return fields;
}

}  // namespace gatehouse::host
