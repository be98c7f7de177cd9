// Every difference is collected (never stop at the first): an operator fixing a route wants the whole list.
#include "routing/kind_compatibility.hpp"

#include "common/enum_text.hpp"
#include "common/json_pointer.hpp"

#include <algorithm>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace gatehouse::host::routing {
namespace {

using Json = nlohmann::json;

std::string in_quotes(std::string_view s) { return "'" + std::string(s) + "'"; }

// A JSON value as an operator reads it: strings quoted, anything else as compact JSON.
std::string shown(const Json& value) { return value.is_string() ? in_quotes(value.get<std::string>()) : value.dump(); }

const Json* member(const Json& object, const char* key) {
  if (!object.is_object()) return nullptr;
  auto it = object.find(key);
  return it == object.end() ? nullptr : &*it;
}

class Differences {
 public:
  void add(std::string path, std::string reason, std::string sentence) {
    diagnostics_.push_back({std::move(path), std::move(reason)});
    sentences_.push_back(std::move(sentence));
  }

  // The property's own differences: the diagnostic reason omits the property name its path already gives.
  void add_property(const std::string& name, const char* key, const std::string& reason) {
    std::string path = "/properties/" + json_pointer_token(name);
    if (key) path += std::string("/") + key;
    add(std::move(path), reason, "property " + in_quotes(name) + " " + reason);
  }

  Result<void> result() && {
    if (diagnostics_.empty()) return {};
    std::string message = "the handler's kind is incompatible with the target group: ";
    for (std::size_t i = 0; i < sentences_.size(); ++i) message += (i ? "; " : "") + sentences_[i];
    return make_error(ErrorCode::route_invalid, std::move(message), std::move(diagnostics_));
  }

 private:
  std::vector<Diagnostic> diagnostics_;
  std::vector<std::string> sentences_;
};

const Json& properties_of(const Json& schema, const char* side, Differences& differences) {
  static const Json empty = Json::object();
  const Json* properties = member(schema, "properties");
  if (properties && properties->is_object()) return *properties;
  std::string reason = std::string(properties ? "is not an object" : "is missing") + " in the " + side + "'s kind schema";
  differences.add("/properties", reason, std::string("\"properties\" ") + reason);
  return empty;
}

std::set<std::string> required_of(const Json& schema, const char* side, Differences& differences) {
  std::set<std::string> out;
  const Json* required = member(schema, "required");
  if (!required) return out;  // absent: nothing required
  if (!required->is_array()) {
    std::string reason = std::string("is not a list in the ") + side + "'s kind schema";
    differences.add("/required", reason, std::string("\"required\" ") + reason);
    return out;
  }
  for (const auto& name : *required)
    if (name.is_string()) out.insert(name.get<std::string>());
  return out;
}

void compare_type(const std::string& name, const Json& group, const Json& handler, Differences& differences) {
  const Json* g = member(group, "type");
  const Json* h = member(handler, "type");
  if ((!g && !h) || (g && h && *g == *h)) return;
  auto describe = [](const Json* type) {
    if (!type) return std::string("untyped");
    return type->is_string() ? type->get<std::string>() : type->dump();
  };
  differences.add_property(name, "type", "is " + describe(h) + " in the handler but " + describe(g) + " in the group");
}

void compare_resource(const std::string& name, const Json& group, const Json& handler, Differences& differences) {
  const Json* g = member(group, "resource");
  const Json* h = member(handler, "resource");
  if ((!g && !h) || (g && h && *g == *h)) return;
  auto describe = [](const Json* resource) {
    if (!resource) return std::string("nothing");
    return "resource " + (resource->is_string() ? resource->get<std::string>() : resource->dump());
  };
  differences.add_property(name, "resource",
                           "references " + describe(g) + " in the group but " + describe(h) + " in the handler");
}

// Enum values as everywhere else (common/enum_text.hpp).
std::string list(const std::vector<const Json*>& values) {
  Json array = Json::array();
  for (const Json* v : values) array.push_back(*v);
  return enum_text(array);
}

// The handler must accept every value a requester of the group may ask for (see the header).
void compare_enum(const std::string& name, const Json& group, const Json& handler, Differences& differences) {
  const Json* g = member(group, "enum");
  const Json* h = member(handler, "enum");
  if (!h) return;  // the handler accepts any value
  if (!h->is_array()) {
    differences.add_property(name, "enum", "has an enum that is not a list in the handler");
    return;
  }
  std::vector<const Json*> handler_values;
  for (const auto& v : *h) handler_values.push_back(&v);
  if (!g) {
    differences.add_property(name, "enum",
                             "accepts any value in the group but only " + list(handler_values) + " in the handler");
    return;
  }
  if (!g->is_array()) {
    differences.add_property(name, "enum", "has an enum that is not a list in the group");
    return;
  }
  std::vector<const Json*> missing;
  for (const auto& v : *g)
    if (std::find(h->begin(), h->end(), v) == h->end()) missing.push_back(&v);
  if (missing.empty()) return;
  differences.add_property(name, "enum",
                           std::string(missing.size() == 1 ? "allows a value" : "allows values") +
                               " in the group that the handler does not accept: " + list(missing));
}

// The handler must accept every value the group lets through (the host checks requests against the group's
// limits only): a handler limit is fine when absent, equal, or looser than the group's. Patterns cannot be
// compared for looseness, so a handler pattern must be the group's own.
void compare_limits(const std::string& name, const Json& group, const Json& handler, Differences& differences) {
  const Json* hp = member(handler, "pattern");
  const Json* gp = member(group, "pattern");
  if (hp && (!gp || *gp != *hp))
    differences.add_property(name, "pattern",
                             "must match " + shown(*hp) + " in the handler but " +
                                 (gp ? shown(*gp) : std::string("any value")) + " in the group");
  auto lower_bound = [&](const char* key) {  // the handler's must not be above the group's
    const Json* h = member(handler, key);
    const Json* g = member(group, key);
    if (!h || !h->is_number()) return;
    if (g && g->is_number() && g->get<double>() >= h->get<double>()) return;
    differences.add_property(name, key,
                             "has " + std::string(key) + " " + h->dump() + " in the handler but " +
                                 (g ? g->dump() : std::string("none")) + " in the group");
  };
  auto upper_bound = [&](const char* key) {  // the handler's must not be below the group's
    const Json* h = member(handler, key);
    const Json* g = member(group, key);
    if (!h || !h->is_number()) return;
    if (g && g->is_number() && g->get<double>() <= h->get<double>()) return;
    differences.add_property(name, key,
                             "has " + std::string(key) + " " + h->dump() + " in the handler but " +
                                 (g ? g->dump() : std::string("none")) + " in the group");
  };
  lower_bound("minLength");
  lower_bound("minimum");
  upper_bound("maxLength");
  upper_bound("maximum");
}

}  // namespace

Result<void> check_kind_compatibility(const nlohmann::json& group_kind_schema,
                                      const nlohmann::json& handler_kind_schema) {
  Differences differences;
  const Json& group = properties_of(group_kind_schema, "group", differences);
  const Json& handler = properties_of(handler_kind_schema, "handler", differences);

  // nlohmann::json objects iterate in key order, so the report is in property-name order.
  std::set<std::string> names;
  for (const auto& [name, _] : group.items()) names.insert(name);
  for (const auto& [name, _] : handler.items()) names.insert(name);

  std::set<std::string> one_sided;
  for (const auto& name : names) {
    auto g = group.find(name);
    auto h = handler.find(name);
    if (h == handler.end()) {
      differences.add_property(name, nullptr, "is in the group but missing from the handler");
      one_sided.insert(name);
    } else if (g == group.end()) {
      differences.add_property(name, nullptr, "is in the handler but not in the group");
      one_sided.insert(name);
    } else {
      compare_type(name, *g, *h, differences);
      compare_resource(name, *g, *h, differences);
      compare_enum(name, *g, *h, differences);
      compare_limits(name, *g, *h, differences);
    }
  }

  const auto group_required = required_of(group_kind_schema, "group", differences);
  const auto handler_required = required_of(handler_kind_schema, "handler", differences);
  // A property on one side only is already reported; its required flag differing follows from that.
  for (const auto& name : group_required)
    if (!handler_required.contains(name) && !one_sided.contains(name))
      differences.add("/required", in_quotes(name) + " is required in the group but optional in the handler",
                      "property " + in_quotes(name) + " is required in the group but optional in the handler");
  for (const auto& name : handler_required)
    if (!group_required.contains(name) && !one_sided.contains(name))
      differences.add("/required", in_quotes(name) + " is required in the handler but optional in the group",
                      "property " + in_quotes(name) + " is required in the handler but optional in the group");

  return std::move(differences).result();
}

}  // namespace gatehouse::host::routing
