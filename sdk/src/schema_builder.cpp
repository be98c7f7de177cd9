// Builds the provider schema document in the shape of schemas/provider.v1.schema.json.
#include <gatehouse/sdk.hpp>

namespace gatehouse {

DataField DataField::string_list(std::string title) {
  DataField field("array", std::move(title));
  field.json_["items"] = {{"type", "string"}};
  return field;
}

nlohmann::json ResourceType::json() const {
  nlohmann::json properties = {{"id", {{"type", "string"}}}, {"name", {{"type", "string"}}}};
  if (!data_.empty()) properties["data"] = data_;
  return {{"title", title_}, {"properties", properties}, {"required", {"id", "name"}}};
}

TargetKind& TargetKind::property(const std::string& name, const Property& property) {
  properties_[name] = property.json();
  if (property.is_required()) required_.push_back(name);
  return *this;
}

nlohmann::json TargetKind::json() const {
  nlohmann::json out = {{"title", title_}, {"properties", properties_}, {"required", required_}};
  if (!description_.empty()) out["description"] = description_;
  return out;
}

Schema& Schema::loader(const std::string& name, std::string title, std::vector<std::string> types) {
  loaders_[name] = {{"title", std::move(title)}, {"types", std::move(types)}};
  return *this;
}

nlohmann::json Schema::document(const std::string& publisher, const std::string& name,
                                const std::string& version) const {
  return {
      {"$id", "urn:gatehouse:provider:" + publisher + "/" + name + ":" + version},
      {"$schema", "urn:gatehouse:schema:provider:v1"},
      {"meta",
       {{"framework", GATEHOUSE_FRAMEWORK_VERSION}, {"publisher", publisher}, {"name", name}, {"version", version}}},
      {"config", config_},
      {"resources", {{"loaders", loaders_}, {"types", types_}}},
      {"targets", targets_},
  };
}

}  // namespace gatehouse
