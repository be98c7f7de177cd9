// A handler config is checked against a JSON Schema derived from the provider's `config` section, plus the
// one rule JSON Schema would state only as an unreadable regex: a secret given as env:/file: must be a
// usable reference. Reasons never contain a config value (secret fields are never echoed back).
#include "config_validation.hpp"

#include "json_schema_check.hpp"
#include "secret_reference.hpp"
#include "secrets.hpp"
#include "value_limits.hpp"

namespace gatehouse::host {

using Json = nlohmann::json;

nlohmann::json config_json_schema(const nlohmann::json& provider_schema) {
  Json properties = Json::object();
  Json required = Json::array();
  static const Json no_fields = Json::object();
  const Json* config = &no_fields;
  if (provider_schema.is_object()) {
    auto it = provider_schema.find("config");
    if (it != provider_schema.end() && it->is_object()) config = &*it;
  }
  for (const auto& [name, spec] : config->items()) {
    if (!spec.is_object()) continue;
    Json property = Json::object();
    const std::string type = spec.value("type", Json()).is_string() ? spec["type"].get<std::string>() : std::string();
    const bool secret = spec.value("secret", Json(false)) == Json(true);
    if (secret) {
      // The value is either the secret or an env:NAME / file:PATH reference to it: text either way.
      property["type"] = "string";
      property["writeOnly"] = true;
    } else if (type == "string" || type == "boolean" || type == "integer" || type == "number") {
      property["type"] = type;
    }
    if (auto d = spec.find("description"); d != spec.end() && d->is_string()) property["description"] = *d;
    if (auto d = spec.find("default"); d != spec.end()) property["default"] = *d;
    if (!secret && (type == "integer" || type == "number")) {
      for (const char* limit : {"minimum", "maximum"})
        if (auto l = spec.find(limit); l != spec.end() && l->is_number()) property[limit] = *l;
    }
    // `pattern` stays out: it is RE2 syntax, checked in validate_config, and valijson would read it as
    // ECMAScript. enum and lengths mean the same in both.
    if (!secret && type == "string") {
      for (const char* limit : {"enum", "minLength", "maxLength"})
        if (auto l = spec.find(limit); l != spec.end()) property[limit] = *l;
    }
    properties[name] = std::move(property);
    // A default makes a field optional whatever `required` says: the provider gets a value either way.
    if (spec.value("required", Json(false)) == Json(true) && !spec.contains("default")) required.push_back(name);
  }

  Json schema = {{"$schema", "http://json-schema.org/draft-07/schema#"},
                 {"type", "object"},
                 {"properties", std::move(properties)},
                 {"additionalProperties", false}};
  if (!required.empty()) schema["required"] = std::move(required);
  return schema;
}

Result<void> validate_config(const nlohmann::json& provider_schema, const nlohmann::json& config) {
  auto compiled = detail::CompiledSchema::compile(config_json_schema(provider_schema), "field");
  if (!compiled.ok()) return compiled.take_error();
  std::vector<Diagnostic> faults = compiled->validate(config);

  if (config.is_object() && provider_schema.is_object() && provider_schema.contains("config") &&
      provider_schema["config"].is_object()) {
    for (const auto& [field, spec] : provider_schema["config"].items()) {
      auto it = config.find(field);
      if (!spec.is_object() || !spec.contains("pattern") || it == config.end() || !it->is_string()) continue;
      if (spec.value("secret", false) == true || spec.value("type", "") != "string") continue;
      const Json pattern_only = {{"pattern", spec["pattern"]}};
      for (auto& reason : text_limit_faults(pattern_only, it->get<std::string>(), /*quote_value=*/false))
        faults.push_back({"/" + detail::escape_pointer_token(field), std::move(reason)});
    }
  }
  if (config.is_object()) {
    for (const auto& field : secret_fields(provider_schema)) {
      auto it = config.find(field);
      if (it == config.end() || !it->is_string()) continue;
      auto reference = detail::parse_secret_reference(it->get<std::string>());
      if (!reference.fault.empty()) faults.push_back({"/" + detail::escape_pointer_token(field), reference.fault});
    }
  }
  if (faults.empty()) return {};
  std::string message = "config is invalid: " + detail::count_faults(faults.size());
  return make_error(ErrorCode::config_invalid, std::move(message), std::move(faults));
}

}  // namespace gatehouse::host
