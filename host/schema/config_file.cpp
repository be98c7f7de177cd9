// Handler configs are small documents operators write by hand, so YAML is the default. Scalars follow the
// YAML 1.2 core schema, deliberately: only true/false are booleans (no YAML 1.1 "yes"/"no"/"on"), and a
// quoted scalar is always a string, so `enabled: "true"` stays text. Files named *.json go through the
// JSON parser instead, which reports JSON mistakes precisely.
#include "config_file.hpp"

#include "text_file.hpp"

#include "common/strict_json.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <regex>

namespace gatehouse::host {
namespace {

using Json = nlohmann::json;

// A fault found while converting parsed YAML, located like a parser error.
struct ConversionFault {
  YAML::Mark mark;
  std::string message;
};

std::string position(const YAML::Mark& mark) {
  if (mark.is_null()) return {};
  return " at line " + std::to_string(mark.line + 1) + ", column " + std::to_string(mark.column + 1);
}

Error parse_error(std::string_view source, const std::string& where, const std::string& what) {
  return make_error(ErrorCode::config_parse_error, "cannot parse " + std::string(source) + where + ": " + what);
}

template <class Int>
std::optional<Int> to_integer(std::string_view digits, int base) {
  Int value{};
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value, base);
  if (ec != std::errc{} || end != digits.data() + digits.size()) return std::nullopt;
  return value;
}

// A plain (unquoted, untagged) scalar, resolved by the YAML 1.2 core schema.
Json resolve_plain(const std::string& text) {
  if (text == "true" || text == "True" || text == "TRUE") return true;
  if (text == "false" || text == "False" || text == "FALSE") return false;
  if (text.empty() || text == "~" || text == "null" || text == "Null" || text == "NULL") return nullptr;

  static const std::regex decimal("[-+]?[0-9]+");
  static const std::regex octal("0o[0-7]+");
  static const std::regex hexadecimal("0x[0-9a-fA-F]+");
  static const std::regex floating(R"([-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?)");
  if (std::regex_match(text, decimal)) {
    std::string_view digits(text);
    if (digits.front() == '+') digits.remove_prefix(1);
    if (auto v = to_integer<std::int64_t>(digits, 10)) return *v;
    if (auto v = to_integer<std::uint64_t>(digits, 10)) return *v;
    // Beyond 64 bits: fall through to a double, like JSON parsers do.
  } else if (std::regex_match(text, octal)) {
    if (auto v = to_integer<std::int64_t>(std::string_view(text).substr(2), 8)) return *v;
    return text;
  } else if (std::regex_match(text, hexadecimal)) {
    if (auto v = to_integer<std::int64_t>(std::string_view(text).substr(2), 16)) return *v;
    return text;
  }
  if (std::regex_match(text, floating)) {
    std::string_view digits(text);
    if (digits.front() == '+') digits.remove_prefix(1);
    double value = 0;
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
    if (ec == std::errc{} && end == digits.data() + digits.size() && std::isfinite(value)) return value;
  }
  // Everything else, including .inf and .nan (JSON has no such numbers), is text.
  return text;
}

Json convert_scalar(const YAML::Node& node) {
  const std::string& tag = node.Tag();
  const std::string& text = node.Scalar();
  if (tag == "?") return resolve_plain(text);
  // "!" is the non-specific tag of quoted and block scalars: always a string.
  if (tag == "!" || tag == "tag:yaml.org,2002:str") return text;

  const std::string core = "tag:yaml.org,2002:";
  if (tag.rfind(core, 0) == 0) {
    const std::string type = tag.substr(core.size());
    const Json resolved = resolve_plain(text);
    if (type == "int" && resolved.is_number_integer()) return resolved;
    if (type == "float" && resolved.is_number()) return resolved.get<double>();
    if (type == "bool" && resolved.is_boolean()) return resolved;
    if (type == "null" && resolved.is_null()) return resolved;
    if (type == "int" || type == "float" || type == "bool" || type == "null")
      throw ConversionFault{node.Mark(), "the value is not a valid !!" + type};
  }
  throw ConversionFault{node.Mark(), "unsupported tag '" + tag +
                                         "' (config values are text, numbers, booleans, lists and mappings)"};
}

Json convert(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Undefined:
    case YAML::NodeType::Null:
      return nullptr;
    case YAML::NodeType::Scalar:
      return convert_scalar(node);
    case YAML::NodeType::Sequence: {
      Json array = Json::array();
      for (const auto& item : node) array.push_back(convert(item));
      return array;
    }
    case YAML::NodeType::Map: {
      Json object = Json::object();
      for (const auto& entry : node) {
        if (!entry.first.IsScalar()) throw ConversionFault{entry.first.Mark(), "mapping keys must be plain text"};
        const std::string& key = entry.first.Scalar();
        // yaml-cpp keeps both entries of a repeated key; a config that says two things is a mistake.
        if (object.contains(key)) throw ConversionFault{entry.first.Mark(), "duplicate key '" + key + "'"};
        object[key] = convert(entry.second);
      }
      return object;
    }
  }
  return nullptr;
}

bool blank(std::string_view text) {
  return std::all_of(text.begin(), text.end(), [](unsigned char c) { return std::isspace(c) != 0; });
}

bool named_json(std::string_view source) {
  if (source.size() < 5) return false;
  std::string ext(source.substr(source.size() - 5));
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  return ext == ".json";
}

Result<Json> parse_json(std::string_view text, std::string_view source) {
  try {
    return Json::parse(text);
  } catch (const Json::parse_error& e) {
    // e.byte counts the characters read, the offending one included.
    const std::size_t offset = std::min(e.byte == 0 ? 0 : e.byte - 1, text.size());
    const std::size_t line = 1 + static_cast<std::size_t>(std::count(text.begin(), text.begin() + offset, '\n'));
    const std::size_t newline = text.substr(0, offset).rfind('\n');
    const std::size_t column = newline == std::string_view::npos ? offset + 1 : offset - newline;
    std::string what = e.what();
    // "[json.exception.parse_error.101] parse error at line 1, column 5: syntax error ..." → "syntax error ..."
    if (auto at = what.find(": ", what.find("parse error")); at != std::string::npos) what = what.substr(at + 2);
    // nlohmann quotes the text it last read: in a config that may be part of a secret.
    if (auto quote = what.find("; last read:"); quote != std::string::npos) what.erase(quote);
    return parse_error(source, " at line " + std::to_string(line) + ", column " + std::to_string(column), what);
  }
}

Result<Json> parse_yaml(std::string_view text, std::string_view source) {
  try {
    const std::vector<YAML::Node> documents = YAML::LoadAll(std::string(text));
    if (documents.size() > 1)
      return parse_error(source, position(documents[1].Mark()),
                         "holds " + std::to_string(documents.size()) + " YAML documents, expected one");
    if (documents.empty()) return Json(nullptr);
    return convert(documents.front());
  } catch (const ConversionFault& fault) {
    return parse_error(source, position(fault.mark), fault.message);
  } catch (const YAML::Exception& e) {
    return parse_error(source, position(e.mark), e.msg);
  } catch (const std::exception& e) {  // nothing thrown crosses this library's boundary
    return parse_error(source, "", e.what());
  }
}

}  // namespace

Result<nlohmann::json> parse_config_text(std::string_view text, std::string_view source_name) {
  const std::string source(source_name.empty() ? std::string_view("config") : source_name);
  const std::string expected = "expected a mapping of config field names to values";
  if (blank(text)) return make_error(ErrorCode::config_not_an_object, source + " is empty; " + expected);

  auto parsed = named_json(source) ? parse_json(text, source) : parse_yaml(text, source);
  if (parsed.ok()) {
    // What the API refuses at its door is refused here too, with the same path, before anything is sent:
    // a key given twice (nlohmann keeps the last silently; yaml-cpp's are caught in convert()), a NUL or
    // ill-formed UTF-8 (a YAML "\0" escape, raw bytes), which PostgreSQL cannot store.
    if (named_json(source)) {
      if (auto strict = parse_strict_json(text, source); !strict) {
        const Error& e = strict.error();
        const Diagnostic d = e.diagnostics.empty() ? Diagnostic{"", e.message} : e.diagnostics.front();
        return make_error(ErrorCode::config_parse_error, e.message + " (at " + (d.path.empty() ? "/" : d.path) + ": " + d.reason + ")",
                          e.diagnostics);
      }
    }
    if (auto bad = find_unstorable_text(*parsed)) {
      return make_error(ErrorCode::config_parse_error, "cannot use " + source + ": the value at " +
                                                  (bad->path.empty() ? "/" : bad->path) + " " + bad->reason,
                        {*bad});
    }
  }
  if (!parsed.ok() || parsed->is_object()) return parsed;
  if (parsed->is_null()) return make_error(ErrorCode::config_not_an_object, source + " holds no value; " + expected);
  const char* holds = parsed->is_array() ? "a list" : "a single value";
  return make_error(ErrorCode::config_not_an_object, source + " holds " + holds + "; " + expected);
}

Result<nlohmann::json> read_config_file(const std::filesystem::path& path) {
  std::string reason;
  auto text = detail::read_text_file(path, reason);
  if (!text) return make_error(ErrorCode::config_unreadable, "cannot read config file " + path.string() + ": " + reason);
  return parse_config_text(*text, path.string());
}

}  // namespace gatehouse::host
