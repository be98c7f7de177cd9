// Typed access to a handler's config, falling back to the schema's defaults.
#include <gatehouse/sdk.hpp>

namespace gatehouse {

Config::Config(nlohmann::json values, nlohmann::json field_schema)
    : values_(values.is_object() ? std::move(values) : nlohmann::json::object()),
      fields_(field_schema.is_object() ? std::move(field_schema) : nlohmann::json::object()) {}

bool Config::has(const std::string& field) const {
  if (values_.contains(field) && !values_[field].is_null()) return true;
  return fields_.contains(field) && fields_[field].contains("default");
}

const nlohmann::json& Config::lookup(const std::string& field) const {
  if (auto it = values_.find(field); it != values_.end() && !it->is_null()) return *it;
  if (auto f = fields_.find(field); f != fields_.end()) {
    if (auto d = f->find("default"); d != f->end()) return *d;
  }
  throw Error(Code::invalid_argument, "config field '" + field + "' is not set and has no default",
              {{"/" + field, "required by the provider"}});
}

namespace {
[[noreturn]] void wrong_type(const std::string& field, const char* expected) {
  throw Error(Code::invalid_argument, "config field '" + field + "' must be " + expected,
              {{"/" + field, std::string("expected ") + expected}});
}
}  // namespace

std::string Config::string(const std::string& field) const {
  const auto& v = lookup(field);
  if (!v.is_string()) wrong_type(field, "a string");
  return v.get<std::string>();
}

bool Config::boolean(const std::string& field) const {
  const auto& v = lookup(field);
  if (!v.is_boolean()) wrong_type(field, "a boolean");
  return v.get<bool>();
}

std::int64_t Config::integer(const std::string& field) const {
  const auto& v = lookup(field);
  if (!v.is_number_integer()) wrong_type(field, "an integer");
  return v.get<std::int64_t>();
}

double Config::number(const std::string& field) const {
  const auto& v = lookup(field);
  if (!v.is_number()) wrong_type(field, "a number");
  return v.get<double>();
}

}  // namespace gatehouse
