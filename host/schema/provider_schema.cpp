// A provider schema is checked twice: against the meta-schema (shape, types, names, no unknown keys), then
// for references a JSON Schema cannot follow (relations, loader types, target resources, `required` lists).
// The second pass runs even when the first failed, on whatever parts have the right shape, so one run
// reports every fault.
#include "provider_schema.hpp"

#include "json_schema_check.hpp"
#include "value_limits.hpp"

#include "common/json_type_name.hpp"

#include <algorithm>
#include <cmath>

namespace gatehouse::host {
namespace {

using Json = nlohmann::json;
using detail::escape_pointer_token;

const Result<detail::CompiledSchema>& meta_schema() {
  // Parsed once, on first use; C++ guarantees thread-safe initialisation of function-local statics.
  static const Result<detail::CompiledSchema> compiled = []() -> Result<detail::CompiledSchema> {
    Json parsed = Json::parse(provider_meta_schema_text(), nullptr, /*allow_exceptions=*/false);
    if (parsed.is_discarded())
      return make_error(ErrorCode::meta_schema_unusable, "the embedded provider meta-schema is not valid JSON");
    return detail::CompiledSchema::compile(parsed, "property");
  }();
  return compiled;
}

const Json* member(const Json& object, const char* key) {
  if (!object.is_object()) return nullptr;
  auto it = object.find(key);
  return it == object.end() ? nullptr : &*it;
}

const Json& object_or_empty(const Json* node) {
  static const Json empty = Json::object();
  return node && node->is_object() ? *node : empty;
}

std::string pointer(std::initializer_list<std::string> tokens) {
  std::string out;
  for (const auto& t : tokens) out += "/" + escape_pointer_token(t);
  return out;
}

std::vector<std::string> keys(const Json& object) {
  std::vector<std::string> out;
  for (const auto& [key, value] : object.items()) out.push_back(key);
  return out;
}

bool matches_type(const Json& value, const std::string& type) {
  if (type == "string") return value.is_string();
  if (type == "boolean") return value.is_boolean();
  if (type == "number") return value.is_number();
  if (type == "integer")
    return value.is_number_integer() ||
           (value.is_number_float() && std::isfinite(value.get<double>()) &&
            std::floor(value.get<double>()) == value.get<double>());
  return true;  // an unknown type is the meta-schema's fault to report
}

class SemanticCheck {
 public:
  explicit SemanticCheck(const Json& document) : document_(document) {
    const Json& types = object_or_empty(member(object_or_empty(member(document, "resources")), "types"));
    declared_types_ = keys(types);
  }

  std::vector<Diagnostic> run() {
    check_identity();
    check_config();
    check_resource_types();
    check_loaders();
    check_targets();
    return std::move(faults_);
  }

 private:
  bool declared(const std::string& type) const {
    return std::find(declared_types_.begin(), declared_types_.end(), type) != declared_types_.end();
  }

  void undeclared_type(std::string path, const char* what, const std::string& type) {
    faults_.push_back({std::move(path), std::string(what) + " names undeclared resource type '" + type + "'" +
                                            detail::did_you_mean(type, declared_types_)});
  }

  // Each entry of a `required` list must name one of `properties`.
  void check_required(const Json& holder, const std::string& holder_path) {
    const Json* required = member(holder, "required");
    if (!required || !required->is_array()) return;
    const Json& properties = object_or_empty(member(holder, "properties"));
    for (std::size_t i = 0; i < required->size(); ++i) {
      const Json& name = (*required)[i];
      if (!name.is_string() || properties.contains(name.get<std::string>())) continue;
      faults_.push_back({holder_path + "/required/" + std::to_string(i),
                         "required names undeclared property '" + name.get<std::string>() + "'" +
                             detail::did_you_mean(name.get<std::string>(), keys(properties))});
    }
  }

  // enum, pattern and lengths limit text; minimum and maximum limit integers (target properties; config
  // fields have their own minimum/maximum checks in check_config, numbers included). `what` is "fields" or
  // "properties". Limits that cannot be met together, a pattern RE2 refuses and enum values that break the
  // other limits are faults of the schema: found when the provider loads, not when the first request is refused.
  void check_limits(const Json& spec, const std::string& type_name, const std::string& path, const char* what,
                    bool check_numeric) {
    const bool known = !type_name.empty();
    for (const char* keyword : {"enum", "pattern", "minLength", "maxLength"}) {
      if (member(spec, keyword) && known && type_name != "string")
        faults_.push_back({path + "/" + keyword, std::string("applies only to string ") + what});
    }
    if (check_numeric && known && type_name != "integer") {
      for (const char* keyword : {"minimum", "maximum"})
        if (member(spec, keyword)) faults_.push_back({path + "/" + keyword, std::string("applies only to integer ") + what});
    }
    const Json* pattern = member(spec, "pattern");
    if (pattern && pattern->is_string()) {
      if (auto problem = pattern_problem(pattern->get<std::string>()))
        faults_.push_back({path + "/pattern", "is not a valid RE2 pattern: " + *problem});
    }
    const Json* min_length = member(spec, "minLength");
    const Json* max_length = member(spec, "maxLength");
    if (min_length && max_length && min_length->is_number_integer() && max_length->is_number_integer() &&
        min_length->get<long long>() > max_length->get<long long>())
      faults_.push_back({path + "/minLength", "is greater than maxLength " + max_length->dump()});
    const Json* minimum = member(spec, "minimum");
    const Json* maximum = member(spec, "maximum");
    if (check_numeric && minimum && maximum && minimum->is_number() && maximum->is_number() &&
        minimum->get<double>() > maximum->get<double>())
      faults_.push_back({path + "/minimum", "is greater than maximum " + maximum->dump()});

    // Each enum value must pass the other limits, or it could be offered and then refused.
    const Json* values = member(spec, "enum");
    if (values && values->is_array() && type_name == "string") {
      Json others = spec;
      others.erase("enum");
      for (std::size_t i = 0; i < values->size(); ++i) {
        if (!(*values)[i].is_string()) continue;
        for (const auto& reason : text_limit_faults(others, (*values)[i].get<std::string>(), false))
          faults_.push_back({path + "/enum/" + std::to_string(i), "the value " + (*values)[i].dump() + " " + reason});
      }
    }
  }

  // "$id" repeats meta: a copy-pasted schema that forgot to change one of them is caught here.
  void check_identity() {
    const Json* id = member(document_, "$id");
    const Json& meta = object_or_empty(member(document_, "meta"));
    const Json* publisher = member(meta, "publisher");
    const Json* name = member(meta, "name");
    const Json* version = member(meta, "version");
    if (!id || !id->is_string() || !publisher || !publisher->is_string() || !name || !name->is_string() ||
        !version || !version->is_string())
      return;
    const std::string expected = "urn:gatehouse:provider:" + publisher->get<std::string>() + "/" +
                                 name->get<std::string>() + ":" + version->get<std::string>();
    if (*id != expected) faults_.push_back({"/$id", "does not match meta: expected '" + expected + "'"});
  }

  void check_config() {
    for (const auto& [field, spec] : object_or_empty(member(document_, "config")).items()) {
      if (!spec.is_object()) continue;
      const Json* type = member(spec, "type");
      const std::string type_name = type && type->is_string() ? type->get<std::string>() : std::string();
      const Json* secret = member(spec, "secret");
      const bool known_type = type_name == "boolean" || type_name == "integer" || type_name == "number";
      if (secret && *secret == Json(true) && known_type)  // an unknown type is the meta-schema's to report
        faults_.push_back({pointer({"config", field, "type"}),
                           "secret fields must be of type string (handler configs give them as text or as "
                           "env:NAME / file:PATH references)"});
      if (secret && *secret == Json(true)) {
        for (const char* keyword : {"enum", "pattern", "minLength", "maxLength"})
          if (member(spec, keyword))
            faults_.push_back({pointer({"config", field, keyword}),
                               "cannot limit a secret field (handler configs give env:NAME / file:PATH references; "
                               "check the resolved value in the provider)"});
      }
      check_limits(spec, type_name, pointer({"config", field}), "fields", false);

      const Json* minimum = member(spec, "minimum");
      const Json* maximum = member(spec, "maximum");
      for (const auto& [keyword, limit] : {std::pair{"minimum", minimum}, std::pair{"maximum", maximum}}) {
        if (limit && (type_name == "string" || type_name == "boolean"))
          faults_.push_back({pointer({"config", field, keyword}), "applies only to integer and number fields"});
      }
      if (minimum && maximum && minimum->is_number() && maximum->is_number() &&
          minimum->get<double>() > maximum->get<double>())
        faults_.push_back({pointer({"config", field, "minimum"}), "is greater than maximum " + maximum->dump()});

      const Json* fallback = member(spec, "default");
      if (!fallback || type_name.empty()) continue;
      if (!matches_type(*fallback, type_name)) {
        faults_.push_back({pointer({"config", field, "default"}),
                           "does not match the field's type: expected " + type_name + ", got " +
                               json_type_name(*fallback)});
      } else if (fallback->is_string()) {
        for (const auto& reason : text_limit_faults(spec, fallback->get<std::string>(), false))
          faults_.push_back({pointer({"config", field, "default"}), reason});
      } else if (fallback->is_number()) {
        if (minimum && minimum->is_number() && fallback->get<double>() < minimum->get<double>())
          faults_.push_back({pointer({"config", field, "default"}), "is less than minimum " + minimum->dump()});
        if (maximum && maximum->is_number() && fallback->get<double>() > maximum->get<double>())
          faults_.push_back({pointer({"config", field, "default"}), "is greater than maximum " + maximum->dump()});
      }
    }
  }

  void check_resource_types() {
    const Json& types = object_or_empty(member(object_or_empty(member(document_, "resources")), "types"));
    for (const auto& [type, spec] : types.items()) {
      const Json& properties = object_or_empty(member(spec, "properties"));
      for (const auto& [field, data] : object_or_empty(member(properties, "data")).items()) {
        const Json* relation = member(data, "relation");
        if (relation && relation->is_string() && !declared(relation->get<std::string>()))
          undeclared_type(pointer({"resources", "types", type, "properties", "data", field, "relation"}), "relation",
                          relation->get<std::string>());
      }
      check_required(spec, pointer({"resources", "types", type}));
    }
  }

  void check_loaders() {
    const Json& loaders = object_or_empty(member(object_or_empty(member(document_, "resources")), "loaders"));
    for (const auto& [loader, spec] : loaders.items()) {
      const Json* types = member(spec, "types");
      if (!types || !types->is_array()) continue;
      for (std::size_t i = 0; i < types->size(); ++i) {
        const Json& type = (*types)[i];
        if (type.is_string() && !declared(type.get<std::string>()))
          undeclared_type(pointer({"resources", "loaders", loader, "types", std::to_string(i)}), "loader",
                          type.get<std::string>());
      }
    }
  }

  void check_targets() {
    for (const auto& [kind, spec] : object_or_empty(member(document_, "targets")).items()) {
      for (const auto& [property, definition] : object_or_empty(member(spec, "properties")).items()) {
        const std::string path = pointer({"targets", kind, "properties", property});
        const Json* type = member(definition, "type");
        const std::string type_name = type && type->is_string() ? type->get<std::string>() : std::string();
        const Json* resource = member(definition, "resource");
        if (resource && !type_name.empty() && type_name != "string")
          faults_.push_back({path + "/resource", "applies only to string properties (resource ids are text)"});
        else if (resource && resource->is_string() && !declared(resource->get<std::string>()))
          undeclared_type(path + "/resource", "target property", resource->get<std::string>());
        if (definition.is_object()) check_limits(definition, type_name, path, "properties", true);
      }
      check_required(spec, pointer({"targets", kind}));
    }
  }

  const Json& document_;
  std::vector<std::string> declared_types_;
  std::vector<Diagnostic> faults_;
};

}  // namespace

Result<void> validate_provider_schema(const nlohmann::json& document) {
  const auto& meta = meta_schema();
  if (!meta.ok()) return meta.error();

  std::vector<Diagnostic> faults = meta->validate(document);
  for (auto& fault : SemanticCheck(document).run()) {
    if (std::find(faults.begin(), faults.end(), fault) == faults.end()) faults.push_back(std::move(fault));
  }
  if (faults.empty()) return {};
  std::stable_sort(faults.begin(), faults.end(), [](const Diagnostic& a, const Diagnostic& b) { return a.path < b.path; });
  std::string message = "provider schema is invalid: " + detail::count_faults(faults.size());
  return make_error(ErrorCode::schema_invalid, std::move(message), std::move(faults));
}

}  // namespace gatehouse::host
