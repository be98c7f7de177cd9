// valijson behind a small facade. valijson reports each fault as a context path ("<root>", "[meta]", "[0]")
// and a terse description, and repeats every fault at each ancestor ("Failed to validate against schema
// associated with property name 'meta'"). Here those become JSON pointers with sentences an operator can
// act on: leaf faults are rewritten using the schema node they failed against, and ancestor summaries are
// dropped when a leaf below them already explains the fault (kept otherwise, so no fault is ever lost).
#include "json_schema_check.hpp"

#include "common/enum_text.hpp"
#include "common/json_pointer.hpp"
#include "common/json_type_name.hpp"

#include <valijson/adapters/nlohmann_json_adapter.hpp>
#include <valijson/schema.hpp>
#include <valijson/schema_parser.hpp>
#include <valijson/validation_results.hpp>
#include <valijson/validator.hpp>

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <exception>
#include <map>
#include <regex>
#include <string_view>

namespace gatehouse::host::detail {

struct CompiledSchema::Impl {
  nlohmann::json original;     // as given: what reasons are built from
  nlohmann::json transformed;  // what valijson parsed (see rewrite_for_valijson)
  valijson::Schema schema;
  std::string noun;
};

namespace {

using Json = nlohmann::json;
using Tokens = std::vector<std::string>;

// Rewrites the schema valijson parses, meaning the same, around two valijson 1.0 weaknesses:
//  * under `"additionalProperties": false` it reports only the first unknown member of an object.
//    `{"not": {}}` also rejects every value, but is checked member by member with the member's own path,
//    so every typo is reported at once;
//  * under `patternProperties` it stops at the first member that fails its subschema, and the members after
//    it then count as unknown. An object whose members all follow one pattern gets that subschema as
//    `additionalProperties` instead (checked member by member); the names are checked by name_faults().
// Walks schema keywords only, so a property *named* additionalProperties is left alone.
void rewrite_for_valijson(Json& schema) {
  if (!schema.is_object()) return;
  auto patterns = schema.find("patternProperties");
  auto extra = schema.find("additionalProperties");
  const bool closed = extra != schema.end() && *extra == Json(false);
  if (closed && patterns != schema.end() && patterns->is_object() && patterns->size() == 1) {
    Json member = patterns->begin().value();
    schema.erase(patterns);
    schema["additionalProperties"] = std::move(member);
  } else if (closed) {
    *extra = Json{{"not", Json::object()}};
  }
  if (auto it = schema.find("additionalProperties"); it != schema.end()) rewrite_for_valijson(*it);
  for (const char* map_keyword : {"properties", "patternProperties", "definitions", "dependencies"}) {
    if (auto it = schema.find(map_keyword); it != schema.end() && it->is_object())
      for (auto& [name, sub] : it->items()) rewrite_for_valijson(sub);
  }
  for (const char* keyword : {"items", "additionalItems", "not", "if", "then", "else", "contains", "propertyNames"}) {
    if (auto it = schema.find(keyword); it != schema.end()) {
      if (it->is_array()) {
        for (auto& sub : *it) rewrite_for_valijson(sub);
      } else {
        rewrite_for_valijson(*it);
      }
    }
  }
  for (const char* list_keyword : {"allOf", "anyOf", "oneOf"}) {
    if (auto it = schema.find(list_keyword); it != schema.end() && it->is_array())
      for (auto& sub : *it) rewrite_for_valijson(sub);
  }
}

// Follows local "$ref"s ("#/definitions/x"); nullptr when one dangles.
const Json* deref(const Json& root, const Json* schema) {
  for (int hops = 0; schema && hops < 32; ++hops) {
    if (!schema->is_object()) return schema;
    auto ref = schema->find("$ref");
    if (ref == schema->end() || !ref->is_string()) return schema;
    const auto& target = ref->get_ref<const std::string&>();
    if (target.empty() || target[0] != '#') return nullptr;
    try {
      const Json::json_pointer pointer(target.substr(1));
      if (!root.contains(pointer)) return nullptr;
      schema = &root.at(pointer);
    } catch (const std::exception&) {
      return nullptr;
    }
  }
  return schema;
}

bool search(const std::string& pattern, const std::string& text) {
  thread_local std::map<std::string, std::regex> compiled;  // schemas reuse a handful of patterns
  try {
    auto it = compiled.find(pattern);
    if (it == compiled.end()) it = compiled.emplace(pattern, std::regex(pattern)).first;
    return std::regex_search(text, it->second);
  } catch (const std::regex_error&) {
    return false;
  }
}

// The schema a member named `name` of an object is checked against, given the object's schema.
const Json* member_schema(const Json& object_schema, const std::string& name) {
  if (auto props = object_schema.find("properties"); props != object_schema.end() && props->is_object()) {
    if (auto it = props->find(name); it != props->end()) return &*it;
  }
  if (auto patterns = object_schema.find("patternProperties"); patterns != object_schema.end() && patterns->is_object()) {
    for (const auto& [pattern, sub] : patterns->items())
      if (search(pattern, name)) return &sub;
  }
  if (auto extra = object_schema.find("additionalProperties"); extra != object_schema.end() && extra->is_object())
    return &*extra;
  // A member with an invalid name is still checked against the one pattern's subschema (rewrite_for_valijson).
  if (auto patterns = object_schema.find("patternProperties");
      patterns != object_schema.end() && patterns->is_object() && patterns->size() == 1)
    return &patterns->begin().value();
  return nullptr;
}

// The (dereferenced) schema node that validates the document value at `tokens`, or nullptr.
const Json* schema_at(const Json& root, const Json& document, const Tokens& tokens) {
  const Json* schema = deref(root, &root);
  const Json* value = &document;
  for (const auto& token : tokens) {
    if (!schema || !schema->is_object()) return nullptr;
    if (value && value->is_array()) {
      auto items = schema->find("items");
      schema = (items != schema->end() && items->is_object()) ? &*items : nullptr;
      std::size_t index = 0;
      auto [end, ec] = std::from_chars(token.data(), token.data() + token.size(), index);
      value = (ec == std::errc{} && end == token.data() + token.size() && index < value->size()) ? &(*value)[index]
                                                                                                : nullptr;
    } else {
      schema = member_schema(*schema, token);
      value = (value && value->is_object() && value->contains(token)) ? &value->at(token) : nullptr;
    }
    schema = deref(root, schema);
  }
  return schema;
}

const Json* value_at(const Json& document, const Tokens& tokens) {
  const Json* value = &document;
  for (const auto& token : tokens) {
    if (value->is_object()) {
      auto it = value->find(token);
      if (it == value->end()) return nullptr;
      value = &*it;
    } else if (value->is_array()) {
      std::size_t index = 0;
      auto [end, ec] = std::from_chars(token.data(), token.data() + token.size(), index);
      if (ec != std::errc{} || end != token.data() + token.size() || index >= value->size()) return nullptr;
      value = &(*value)[index];
    } else {
      return nullptr;
    }
  }
  return value;
}

// 1.0 prints as "1": schema limits written by the SDK are doubles.
std::string number_text(const Json& number) {
  if (number.is_number_float()) {
    const double d = number.get<double>();
    if (std::isfinite(d) && std::floor(d) == d && std::fabs(d) < 1e15) return std::to_string(static_cast<long long>(d));
  }
  return number.dump();
}

std::string join_quoted(const Json& values, std::string_view separator) {
  std::string out;
  for (const auto& v : values) {
    if (!out.empty()) out += separator;
    out += v.dump();
  }
  return out;
}

std::size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

// "unknown field 'tokn' (did you mean 'token'?)", or why a name fails the object's name pattern.
std::string unknown_member_reason(const Json* object_schema, const std::string& name, const std::string& noun) {
  if (object_schema && object_schema->is_object()) {
    auto patterns = object_schema->find("patternProperties");
    if (patterns != object_schema->end() && patterns->is_object() && !patterns->empty()) {
      std::string alternatives;
      for (const auto& [pattern, sub] : patterns->items()) alternatives += (alternatives.empty() ? "" : " or ") + pattern;
      return "invalid " + noun + " name '" + name + "': names must match " + alternatives;
    }
    auto props = object_schema->find("properties");
    if (props != object_schema->end() && props->is_object()) {
      std::vector<std::string> known;
      for (const auto& [key, sub] : props->items()) known.push_back(key);
      return "unknown " + noun + " '" + name + "'" + did_you_mean(name, known);
    }
  }
  return "unknown " + noun + " '" + name + "'";
}

// Text between the first "'" after `after` and the last "'" of the description.
std::string quoted_name(const std::string& description, std::size_t after) {
  const std::size_t open = description.find('\'', after);
  const std::size_t close = description.rfind('\'');
  if (open == std::string::npos || close == std::string::npos || close <= open) return {};
  return description.substr(open + 1, close - open - 1);
}

bool starts_with(const std::string& text, std::string_view prefix) { return text.rfind(prefix, 0) == 0; }

// valijson's messages that only repeat a fault found further down.
bool is_summary(const std::string& description) {
  static constexpr std::array<std::string_view, 12> prefixes = {
      "Failed to validate against schema associated with property name",
      "Failed to validate against schema associated with pattern",
      "Failed to validate against additional properties schema",
      "Failed to validate item #",
      "Cannot validate item #",
      "Failed to validate against child schema #",
      "Failed to validate against any schemas allowed by anyOf",
      "Failed to validate against any child schemas",
      "Failed to validate against exactly one child schema",
      "Failed to validate against a conditional schema",
      "Failed to validate against dependent schema",
      "Failed to validate against items",
  };
  return std::any_of(prefixes.begin(), prefixes.end(), [&](std::string_view p) { return starts_with(description, p); });
}


struct Fault {
  Tokens tokens;
  std::string reason;
};

// Members whose names follow none of their object's patterns (see rewrite_for_valijson), found by walking
// the document along the original schema.
void name_faults(const Json& root, const Json* schema, const Json& value, Tokens& tokens, const std::string& noun,
                 std::vector<Fault>& out) {
  schema = deref(root, schema);
  if (!schema || !schema->is_object()) return;
  if (value.is_object()) {
    auto patterns = schema->find("patternProperties");
    const bool check_names = patterns != schema->end() && patterns->is_object() && !patterns->empty() &&
                             schema->value("additionalProperties", Json(true)) == Json(false);
    for (const auto& [name, member] : value.items()) {
      tokens.push_back(name);
      bool named_well = !check_names || schema->value("properties", Json::object()).contains(name);
      if (!named_well) {
        for (const auto& [pattern, sub] : patterns->items()) {
          if (search(pattern, name)) {
            named_well = true;
            break;
          }
        }
      }
      if (!named_well) out.push_back({tokens, unknown_member_reason(schema, name, noun)});
      name_faults(root, member_schema(*schema, name), member, tokens, noun, out);
      tokens.pop_back();
    }
  } else if (value.is_array()) {
    auto items = schema->find("items");
    if (items == schema->end() || !items->is_object()) return;
    for (std::size_t i = 0; i < value.size(); ++i) {
      tokens.push_back(std::to_string(i));
      name_faults(root, &*items, value[i], tokens, noun, out);
      tokens.pop_back();
    }
  }
}

class Translator {
 public:
  Translator(const Json& schema, const Json& document, const std::string& noun)
      : schema_(schema), document_(document), noun_(noun) {}

  // A leaf fault in readable form. The document's values are never quoted (they may be secrets).
  Fault leaf(Tokens tokens, const std::string& d) const {
    if (starts_with(d, "Missing required property")) {
      tokens.push_back(quoted_name(d, 0));
      return {std::move(tokens), "required " + noun_ + " is missing"};
    }
    if (starts_with(d, "Object contains a property that could not be validated")) {
      const std::string name = quoted_name(d, d.find(": '"));
      const Json* parent = schema_at(schema_, document_, tokens);
      tokens.push_back(name);
      return {std::move(tokens), unknown_member_reason(parent, name, noun_)};
    }
    if (starts_with(d, "Target should not validate against schema specified in 'not'") && !tokens.empty()) {
      Tokens parent_tokens(tokens.begin(), tokens.end() - 1);
      const Json* parent = schema_at(schema_, document_, parent_tokens);
      if (parent && parent->is_object() && parent->value("additionalProperties", Json(true)) == Json(false))
        return {tokens, unknown_member_reason(parent, tokens.back(), noun_)};
      return {std::move(tokens), "must not match the schema given by 'not'"};
    }

    const Json* node = schema_at(schema_, document_, tokens);
    auto keyword = [&](const char* name) -> const Json* {
      if (!node || !node->is_object()) return nullptr;
      auto it = node->find(name);
      return it == node->end() ? nullptr : &*it;
    };
    std::string reason = d;
    if (starts_with(d, "Value type not permitted by 'type'")) {
      const Json* value = value_at(document_, tokens);
      const Json* type = keyword("type");
      std::string expected = type ? (type->is_array() ? join_quoted(*type, " or ") : type->dump()) : "another type";
      expected.erase(std::remove(expected.begin(), expected.end(), '"'), expected.end());
      reason = "expected " + expected + (value ? ", got " + json_type_name(*value) : std::string());
    } else if (starts_with(d, "Failed to match against any enum values")) {
      if (const Json* e = keyword("enum")) reason = "must be one of " + enum_text(*e);
    } else if (starts_with(d, "Failed to match expected value set by 'const'")) {
      if (const Json* c = keyword("const")) reason = "must be " + c->dump();
    } else if (starts_with(d, "Failed to match regex specified by 'pattern'")) {
      if (const Json* p = keyword("pattern"); p && p->is_string()) {
        reason = "must match the pattern " + p->get<std::string>();
        if (const Json* why = keyword("description"); why && why->is_string()) reason += " (" + why->get<std::string>() + ")";
      }
    } else if (starts_with(d, "Expected number greater than or equal to")) {
      if (const Json* m = keyword("minimum")) reason = "must be at least " + number_text(*m);
    } else if (starts_with(d, "Expected number greater than")) {
      const Json* m = keyword("exclusiveMinimum");
      if (!m || !m->is_number()) m = keyword("minimum");
      if (m) reason = "must be greater than " + number_text(*m);
    } else if (starts_with(d, "Expected number less than or equal to")) {
      if (const Json* m = keyword("maximum")) reason = "must be at most " + number_text(*m);
    } else if (starts_with(d, "Expected number less than")) {
      const Json* m = keyword("exclusiveMaximum");
      if (!m || !m->is_number()) m = keyword("maximum");
      if (m) reason = "must be less than " + number_text(*m);
    } else if (starts_with(d, "Array should contain no fewer than")) {
      if (const Json* m = keyword("minItems")) reason = "must have at least " + number_text(*m) + " item(s)";
    } else if (starts_with(d, "Array should contain no more than")) {
      if (const Json* m = keyword("maxItems")) reason = "must have at most " + number_text(*m) + " item(s)";
    } else if (starts_with(d, "String should be no fewer than")) {
      if (const Json* m = keyword("minLength"))
        reason = *m == Json(1) ? "must not be empty" : "must be at least " + number_text(*m) + " characters long";
    } else if (starts_with(d, "String should be no more than")) {
      if (const Json* m = keyword("maxLength")) reason = "must be at most " + number_text(*m) + " characters long";
    } else if (starts_with(d, "Elements at indexes")) {
      reason = "must not contain duplicate items";
    }
    return {std::move(tokens), std::move(reason)};
  }

  // A summary nothing below explains (e.g. a member whose schema is `false`).
  Fault orphan_summary(Tokens tokens, const std::string& d) const {
    if (starts_with(d, "Failed to validate against schema associated with property name")) {
      tokens.push_back(quoted_name(d, 0));
      return {std::move(tokens), noun_ + " is not allowed here"};
    }
    return {std::move(tokens), d};
  }

 private:
  const Json& schema_;
  const Json& document_;
  const std::string& noun_;
};

bool is_prefix(const Tokens& prefix, const Tokens& of) {
  return prefix.size() <= of.size() && std::equal(prefix.begin(), prefix.end(), of.begin());
}

std::string to_pointer(const Tokens& tokens) {
  std::string pointer;
  for (const auto& t : tokens) pointer += "/" + escape_pointer_token(t);
  return pointer;
}

// valijson context: "<root>", then "[name]" per object member and "[index]" per array item.
Tokens to_tokens(const std::vector<std::string>& context) {
  Tokens tokens;
  for (const auto& element : context) {
    if (element == "<root>") continue;
    if (element.size() >= 2 && element.front() == '[' && element.back() == ']')
      tokens.push_back(element.substr(1, element.size() - 2));
    else
      tokens.push_back(element);
  }
  return tokens;
}

}  // namespace

std::string did_you_mean(const std::string& name, const std::vector<std::string>& candidates) {
  std::string best;
  std::size_t best_distance = std::min<std::size_t>(3, name.size() / 2 + 1);  // only close spellings
  for (const auto& candidate : candidates) {
    const std::size_t d = edit_distance(name, candidate);
    if (d > 0 && d < best_distance) best_distance = d, best = candidate;
  }
  return best.empty() ? std::string() : " (did you mean '" + best + "'?)";
}

std::string count_faults(std::size_t n) { return std::to_string(n) + (n == 1 ? " fault" : " faults"); }

std::string escape_pointer_token(const std::string& token) { return json_pointer_token(token); }


Result<CompiledSchema> CompiledSchema::compile(const nlohmann::json& schema, std::string noun) {
  auto impl = std::make_shared<Impl>();
  impl->original = schema;
  impl->transformed = schema;
  impl->noun = std::move(noun);
  rewrite_for_valijson(impl->transformed);
  try {
    valijson::SchemaParser parser(valijson::SchemaParser::kDraft7);
    const valijson::adapters::NlohmannJsonAdapter adapter(impl->transformed);
    parser.populateSchema(adapter, impl->schema);
  } catch (const std::exception& e) {
    return make_error(ErrorCode::schema_unusable, std::string("cannot use the JSON schema: ") + e.what());
  }
  return CompiledSchema(std::move(impl));
}

std::vector<Diagnostic> CompiledSchema::validate(const nlohmann::json& document) const {
  valijson::ValidationResults results;
  try {
    valijson::Validator validator(valijson::Validator::kStrongTypes);
    const valijson::adapters::NlohmannJsonAdapter adapter(document);
    validator.validate(impl_->schema, adapter, &results);
  } catch (const std::exception& e) {
    return {Diagnostic{"", std::string("cannot validate the document: ") + e.what()}};
  }

  const Translator translate(impl_->original, document, impl_->noun);
  std::vector<Fault> leaves;
  Tokens walk;
  name_faults(impl_->original, &impl_->original, document, walk, impl_->noun, leaves);
  std::vector<Fault> summaries;
  for (const auto& error : results) {
    Tokens tokens = to_tokens(error.context);
    if (is_summary(error.description)) summaries.push_back({std::move(tokens), error.description});
    else leaves.push_back(translate.leaf(std::move(tokens), error.description));
  }
  std::vector<Fault> faults = leaves;
  for (auto& summary : summaries) {
    const bool explained = std::any_of(leaves.begin(), leaves.end(),
                                       [&](const Fault& leaf) { return is_prefix(summary.tokens, leaf.tokens); });
    if (!explained) faults.push_back(translate.orphan_summary(std::move(summary.tokens), summary.reason));
  }

  std::stable_sort(faults.begin(), faults.end(), [](const Fault& a, const Fault& b) { return a.tokens < b.tokens; });
  std::vector<Diagnostic> diagnostics;
  for (const auto& fault : faults) {
    Diagnostic d{to_pointer(fault.tokens), fault.reason};
    if (std::find(diagnostics.begin(), diagnostics.end(), d) == diagnostics.end()) diagnostics.push_back(std::move(d));
  }
  return diagnostics;
}

}  // namespace gatehouse::host::detail
