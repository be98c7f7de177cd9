#include "inventory/resource_rows.hpp"

#include <algorithm>

namespace gatehouse::host::inventory {
namespace {

const std::map<std::string, std::string> kNoRelations;

// PostgreSQL text cannot hold NUL, and COPY would fail the whole batch for one bad value.
bool has_nul(const std::string& s) { return s.find('\0') != std::string::npos; }

bool looks_like_object(const std::string& text) {
  const auto first = text.find_first_not_of(" \t\r\n");
  return first != std::string::npos && text[first] == '{';
}

}  // namespace

ResourceSchema::ResourceSchema(const nlohmann::json& schema) {
  const auto resources = schema.find("resources");
  if (resources == schema.end() || !resources->is_object()) return;
  if (auto loaders = resources->find("loaders"); loaders != resources->end() && loaders->is_object())
    for (const auto& [name, _] : loaders->items()) loaders_.push_back(name);
  std::sort(loaders_.begin(), loaders_.end());
  auto types = resources->find("types");
  if (types == resources->end() || !types->is_object()) return;
  for (const auto& [type, spec] : types->items()) {
    types_.insert(type);
    const auto data = spec.is_object() ? spec.find("properties") : spec.end();
    if (data == spec.end() || !data->is_object()) continue;
    const auto fields = data->find("data");
    if (fields == data->end() || !fields->is_object()) continue;
    for (const auto& [field, def] : fields->items())
      if (def.is_object() && def.contains("relation") && def["relation"].is_string())
        relations_[type][field] = def["relation"].get<std::string>();
  }
}

bool ResourceSchema::has_loader(const std::string& name) const {
  return std::binary_search(loaders_.begin(), loaders_.end(), name);
}

const std::map<std::string, std::string>& ResourceSchema::relation_fields(const std::string& type) const {
  const auto it = relations_.find(type);
  return it == relations_.end() ? kNoRelations : it->second;
}

std::string prepare_row(const ResourceSchema& schema, const ::gatehouse::provider::v1::Resource& r, StagingRow& out) {
  if (r.id().empty()) return "a resource of type '" + r.type() + "' has an empty id";
  if (r.type().empty()) return "resource '" + r.id() + "' has an empty type";
  if (has_nul(r.id()) || has_nul(r.type()) || has_nul(r.name()) || has_nul(r.data_json()))
    return "a resource of type '" + r.type() + "' holds a NUL character";
  // jsonb refuses the \u0000 escape too, and one such row would fail its whole batch.
  if (r.data_json().find("\\u0000") != std::string::npos)
    return "data of " + r.type() + " '" + r.id() + "' holds an escaped NUL (\\u0000)";
  if (!schema.has_type(r.type())) return "resource type '" + r.type() + "' is not declared in the provider schema";

  const auto& relation_fields = schema.relation_fields(r.type());
  if (r.data_json().empty()) {
    out.data = "{}";
    out.relations = "{}";
    return {};
  }
  if (relation_fields.empty()) {
    // Most types: validate without building a document (SAX), pass the text through.
    if (!looks_like_object(r.data_json()) || !nlohmann::json::accept(r.data_json()))
      return "data of " + r.type() + " '" + r.id() + "' is not a JSON object";
    out.data = r.data_json();
    out.relations = "{}";
    return {};
  }
  const auto data = nlohmann::json::parse(r.data_json(), nullptr, false);
  if (data.is_discarded() || !data.is_object()) return "data of " + r.type() + " '" + r.id() + "' is not a JSON object";
  nlohmann::json relations = nlohmann::json::object();
  for (const auto& [field, related_type] : relation_fields) {
    const auto value = data.find(field);
    if (value == data.end()) continue;
    nlohmann::json ids = nlohmann::json::array();
    if (value->is_string()) ids.push_back(*value);
    if (value->is_array())
      for (const auto& v : *value)
        if (v.is_string()) ids.push_back(v);
    relations[field] = {{"type", related_type}, {"ids", std::move(ids)}};
  }
  out.data = r.data_json();
  out.relations = relations.dump();
  return {};
}

}  // namespace gatehouse::host::inventory
