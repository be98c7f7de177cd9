// RE2 rather than std::regex: a provider's pattern runs on every grant request, and RE2 runs in linear time
// whatever a requester sends (std::regex backtracks, and its dialect differs between standard libraries).
#include "value_limits.hpp"

#include "common/enum_text.hpp"
#include "common/json_pointer.hpp"

#include <re2/re2.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <limits>
#include <set>

namespace gatehouse::host {
namespace {

using Json = nlohmann::json;

RE2::Options quiet_options() {
  RE2::Options options;
  options.set_log_errors(false);  // a bad pattern is reported as a fault, not printed to stderr
  return options;
}

const Json* member(const Json& object, const char* key) {
  if (!object.is_object()) return nullptr;
  auto it = object.find(key);
  return it == object.end() ? nullptr : &*it;
}

std::string quoted(const std::string& value) { return " (got '" + value + "')"; }

// Plain decimal: an optional '-', then "0" or digits without a leading zero. One spelling per number, so
// two grants of the same target never differ only in how a number was written (the access key is textual).
std::optional<std::int64_t> parse_integer(const std::string& text) {
  const std::size_t digits = !text.empty() && text[0] == '-' ? 1 : 0;
  if (text.size() == digits) return std::nullopt;
  if (text[digits] == '0' && text.size() > digits + 1) return std::nullopt;
  if (digits == 1 && text == "-0") return std::nullopt;
  std::int64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

std::string number_text(const Json& n) {
  if (n.is_number_float()) {
    const double d = n.get<double>();
    if (std::abs(d) < 9.0e15 && d == std::floor(d)) return std::to_string(static_cast<std::int64_t>(d));
  }
  return n.dump();
}

// Exact for integer limits (a double would round values beyond 2^53); a limit such as 1.5 compares as a double.
// nlohmann::json keeps non-negative integers as unsigned: compare those as unsigned.
int compare(std::int64_t value, const Json& limit) {
  if (limit.is_number_unsigned()) {
    if (value < 0) return -1;
    const auto l = limit.get<std::uint64_t>(), v = static_cast<std::uint64_t>(value);
    return v < l ? -1 : (v > l ? 1 : 0);
  }
  if (limit.is_number_integer()) {
    const auto l = limit.get<std::int64_t>();
    return value < l ? -1 : (value > l ? 1 : 0);
  }
  const double l = limit.get<double>(), v = static_cast<double>(value);
  return v < l ? -1 : (v > l ? 1 : 0);
}

}  // namespace

std::optional<std::string> pattern_problem(const std::string& pattern) {
  const RE2 re(pattern, quiet_options());
  if (re.ok()) return std::nullopt;
  return re.error();
}

bool pattern_matches(const std::string& pattern, const std::string& value) {
  const RE2 re(pattern, quiet_options());
  return re.ok() && RE2::PartialMatch(value, re);
}

std::size_t text_length(const std::string& utf8) {
  return static_cast<std::size_t>(
      std::count_if(utf8.begin(), utf8.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

std::vector<std::string> text_limit_faults(const Json& declaration, const std::string& value, bool quote_value) {
  std::vector<std::string> faults;
  const std::string got = quote_value ? quoted(value) : std::string();
  if (const Json* values = member(declaration, "enum"); values && values->is_array()) {
    if (std::find(values->begin(), values->end(), Json(value)) == values->end())
      faults.push_back("must be one of " + enum_text(*values) + got);
    return faults;  // an enum says everything: its values were checked against the other limits
  }
  const std::size_t length = text_length(value);
  if (const Json* min = member(declaration, "minLength"); min && min->is_number_unsigned() && length < min->get<std::size_t>())
    faults.push_back("must be at least " + number_text(*min) + " characters long" + got);
  if (const Json* max = member(declaration, "maxLength"); max && max->is_number_unsigned() && length > max->get<std::size_t>())
    faults.push_back("must be at most " + number_text(*max) + " characters long" + got);
  if (const Json* pattern = member(declaration, "pattern"); pattern && pattern->is_string()) {
    if (!pattern_matches(pattern->get<std::string>(), value))
      faults.push_back("must match the pattern " + pattern->get<std::string>() + got);
  }
  return faults;
}

std::vector<std::string> target_value_faults(const Json& declaration, const std::string& value) {
  const Json* type = member(declaration, "type");
  const std::string type_name = type && type->is_string() ? type->get<std::string>() : "string";
  if (type_name == "string") return text_limit_faults(declaration, value, true);
  if (type_name == "boolean") {
    if (value == "true" || value == "false") return {};
    return {"must be true or false" + quoted(value)};
  }
  if (type_name == "integer") {
    const auto number = parse_integer(value);
    if (!number) return {"must be an integer in plain decimal, such as 42 or -7" + quoted(value)};
    std::vector<std::string> faults;
    if (const Json* min = member(declaration, "minimum"); min && min->is_number() && compare(*number, *min) < 0)
      faults.push_back("must be at least " + number_text(*min) + quoted(value));
    if (const Json* max = member(declaration, "maximum"); max && max->is_number() && compare(*number, *max) > 0)
      faults.push_back("must be at most " + number_text(*max) + quoted(value));
    return faults;
  }
  return {"has type " + type_name + " in the target group, which a grant cannot set"};
}

std::vector<Diagnostic> target_faults(const Json& kind_schema, const std::string& kind,
                                      const std::map<std::string, std::string>& target) {
  std::vector<Diagnostic> faults;
  static const Json no_properties = Json::object();
  const Json* properties = member(kind_schema, "properties");
  if (!properties || !properties->is_object()) properties = &no_properties;
  for (const auto& [name, value] : target) {
    const std::string path = "/target/" + json_pointer_token(name);
    auto declared = properties->find(name);
    if (declared == properties->end()) {
      faults.push_back({path, "is not a property of target kind " + kind});
    } else if (value.empty()) {
      faults.push_back({path, "must not be empty"});
    } else {
      for (auto& reason : target_value_faults(*declared, value)) faults.push_back({path, std::move(reason)});
    }
  }
  if (const Json* required = member(kind_schema, "required"); required && required->is_array()) {
    std::set<std::string> names;  // in name order, like the properties above
    for (const auto& name : *required)
      if (name.is_string()) names.insert(name.get<std::string>());
    for (const auto& name : names)
      if (!target.contains(name)) faults.push_back({"/target/" + json_pointer_token(name), "is required"});
  }
  return faults;
}

std::string value_limits_text(const Json& declaration) {
  std::vector<std::string> parts;
  auto bounds = [&](const char* low_key, const char* high_key, const std::string& unit) {
    const Json* low = member(declaration, low_key);
    const Json* high = member(declaration, high_key);
    if (low && !low->is_number()) low = nullptr;
    if (high && !high->is_number()) high = nullptr;
    if (low && high) parts.push_back(number_text(*low) + " to " + number_text(*high) + unit);
    else if (low) parts.push_back("at least " + number_text(*low) + unit);
    else if (high) parts.push_back("at most " + number_text(*high) + unit);
  };
  const Json* type = member(declaration, "type");
  if (type && *type == "boolean") parts.push_back("true or false");
  if (const Json* resource = member(declaration, "resource"); resource && resource->is_string())
    parts.push_back("id of resource " + resource->get<std::string>());
  if (const Json* values = member(declaration, "enum")) parts.push_back("one of " + enum_text(*values));
  if (const Json* pattern = member(declaration, "pattern"); pattern && pattern->is_string())
    parts.push_back("matches " + pattern->get<std::string>());
  bounds("minLength", "maxLength", " characters");
  bounds("minimum", "maximum", "");
  if (parts.empty()) return "-";
  std::string out;
  for (const auto& p : parts) out += (out.empty() ? "" : "; ") + p;
  return out;
}

}  // namespace gatehouse::host
