#include "grants/target_validation.hpp"

#include "common/json_pointer.hpp"

#include <algorithm>
#include <set>

namespace gatehouse::host::grants {
namespace {

using Json = nlohmann::json;

std::string enum_list(const Json& values) {
  std::string out;
  for (const auto& v : values) {
    if (!out.empty()) out += ", ";
    out += v.is_string() ? v.get<std::string>() : v.dump();
  }
  return out;
}

}  // namespace

Result<void> validate_grant_request(const TargetGroupView& group, const GrantRequestSpec& spec) {
  std::vector<Diagnostic> faults;
  if (spec.subject.empty()) faults.push_back({"/subject", "must not be empty"});

  const Json& schema = group.kind_schema;
  static const Json no_properties = Json::object();
  const Json* properties = &no_properties;
  if (schema.is_object()) {
    if (auto it = schema.find("properties"); it != schema.end() && it->is_object()) properties = &*it;
  }
  std::set<std::string> required;
  if (schema.is_object()) {
    if (auto it = schema.find("required"); it != schema.end() && it->is_array())
      for (const auto& name : *it)
        if (name.is_string()) required.insert(name.get<std::string>());
  }

  for (const auto& [name, value] : spec.target) {
    const std::string path = "/target/" + json_pointer_token(name);
    auto declared = properties->find(name);
    if (declared == properties->end()) {
      faults.push_back({path, "is not a property of target kind " + group.kind});
      continue;
    }
    if (auto type = declared->find("type"); type != declared->end() && *type != "string") {
      faults.push_back({path, "has type " + type->dump() + " in the target group, which a grant cannot set"});
      continue;
    }
    if (value.empty()) {
      faults.push_back({path, "must not be empty"});
      continue;
    }
    if (auto values = declared->find("enum"); values != declared->end() && values->is_array()) {
      if (std::find(values->begin(), values->end(), Json(value)) == values->end())
        faults.push_back({path, "must be one of " + enum_list(*values) + " (got '" + value + "')"});
    }
  }
  for (const auto& name : required)
    if (!spec.target.contains(name)) faults.push_back({"/target/" + json_pointer_token(name), "is required"});

  if (spec.duration.count() <= 0) {
    faults.push_back({"/duration", "must be positive"});
  } else if (spec.duration > group.max_duration) {
    faults.push_back({"/duration", "must not exceed the target group's maximum of " +
                                       std::to_string(group.max_duration.count()) + " s (got " +
                                       std::to_string(spec.duration.count()) + " s)"});
  }

  if (faults.empty()) return {};
  std::string message = "the grant request is invalid: ";
  for (std::size_t i = 0; i < faults.size(); ++i) message += (i ? "; " : "") + faults[i].path + ": " + faults[i].reason;
  return make_error("invalid_argument", std::move(message), std::move(faults));
}

std::string canonical_target_json(const TargetProperties& target) {
  Json object = Json::object();
  for (const auto& [name, value] : target) object[name] = value;
  return object.dump();  // nlohmann::json objects are ordered by key
}

std::string access_key_material(std::string_view target_group, std::string_view subject,
                                const TargetProperties& target) {
  std::string out(target_group);
  out += '\x1f';
  out += subject;
  out += '\x1f';
  out += canonical_target_json(target);
  return out;
}

}  // namespace gatehouse::host::grants
