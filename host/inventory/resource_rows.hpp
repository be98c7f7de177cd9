// Turns a provider's Resource into a staging row: validates what the provider sent (ids are hostile input)
// and extracts relations from the data fields the provider schema marks with "relation".
#pragma once

#include <gatehouse/provider/v1/provider.pb.h>

#include <map>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace gatehouse::host::inventory {

// What the provider schema says about resources: declared types, their relation fields, and the loaders.
// Immutable after construction; shared freely between a run's fetcher threads.
class ResourceSchema {
 public:
  explicit ResourceSchema(const nlohmann::json& provider_schema);

  const std::vector<std::string>& loaders() const { return loaders_; }
  bool has_loader(const std::string& name) const;
  bool has_type(const std::string& type) const { return types_.count(type) > 0; }
  // field name -> related type, for `type`; empty when the type has no relation fields.
  const std::map<std::string, std::string>& relation_fields(const std::string& type) const;

 private:
  std::vector<std::string> loaders_;
  std::set<std::string, std::less<>> types_;
  std::map<std::string, std::map<std::string, std::string>, std::less<>> relations_;
};

struct StagingRow {
  std::string data;       // a JSON object, as text
  std::string relations;  // a JSON object, as text
};

// The row for `resource`, or the reason it is rejected (empty string when accepted).
std::string prepare_row(const ResourceSchema& schema, const ::gatehouse::provider::v1::Resource& resource,
                        StagingRow& out);

}  // namespace gatehouse::host::inventory
