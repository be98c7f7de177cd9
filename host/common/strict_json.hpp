// JSON as gatehouse accepts it from callers and operators: RFC 8259 plus three refusals nlohmann's parser does
// not make on its own, each located by the JSON pointer of the value it concerns:
//   - a key given twice in one object (nlohmann keeps the last one silently: a body that says two things is a
//     mistake, and which one a reader honours is a guess)                              → invalid_json
//   - a NUL character, raw or escaped as \u0000, in a string or a key (PostgreSQL cannot store it)
//                                                                                     → invalid_argument
//   - ill-formed UTF-8, or a lone surrogate escape (\ud800), in a string or a key     → invalid_argument
// Other syntax errors are invalid_json with the byte offset. The document is built by a SAX handler, so the
// fault's path is known at the moment it is found and nothing is built past it.
//
// Header-only (nlohmann_json and host/common only): the API's request parsing, compiled alone by the fuzzer,
// and the config-file reader share it. Pure: safe from any thread.
#pragma once

#include "common/json_pointer.hpp"
#include "common/result.hpp"
#include "common/utf8_text.hpp"

#include <cmath>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace gatehouse::host {

namespace detail {

class StrictJsonBuilder {
 public:
  using json = nlohmann::json;

  explicit StrictJsonBuilder(std::string what) : what_(std::move(what)) {}

  bool null() { return value(json(nullptr)); }
  bool boolean(bool v) { return value(json(v)); }
  bool number_integer(json::number_integer_t v) { return value(json(v)); }
  bool number_unsigned(json::number_unsigned_t v) { return value(json(v)); }
  bool number_float(json::number_float_t v, const json::string_t&) {
    if (!std::isfinite(v)) return fail(make_error(ErrorCode::invalid_json, what_ + " has a number too large for JSON",
                                                  {{value_path(), "number is out of range"}}));
    return value(json(v));
  }
  bool string(json::string_t& v) {
    if (auto fault = text_fault(v)) return fail(make_error(ErrorCode::invalid_argument, what_ + " holds text gatehouse cannot store",
                                                           {{value_path(), *fault}}));
    return value(json(std::move(v)));
  }
  bool binary(json::binary_t&) { return fail(make_error(ErrorCode::invalid_json, what_ + " is not valid JSON")); }

  bool start_object(std::size_t) { return open(json::object()); }
  bool start_array(std::size_t) { return open(json::array()); }
  bool end_object() { return close(); }
  bool end_array() { return close(); }

  bool key(json::string_t& k) {
    Frame& top = stack_.back();
    if (auto fault = text_fault(k))
      return fail(make_error(ErrorCode::invalid_argument, what_ + " holds text gatehouse cannot store",
                             {{container_path(), "has a member name that " + *fault}}));
    top.key = std::move(k);
    top.has_key = true;
    if (top.container->contains(top.key))
      return fail(make_error(ErrorCode::invalid_json, what_ + " repeats the key '" + top.key + "' in one object",
                             {{container_path() + "/" + json_pointer_token(top.key), "is given more than once"}}));
    return true;
  }

  bool parse_error(std::size_t position, const std::string&, const nlohmann::detail::exception& e) {
    // The lexer stops at text it cannot decode; name those like the NUL and UTF-8 checks above do.
    const std::string reason = e.what();
    std::optional<std::string> fault;
    if (reason.find("(NUL)") != std::string::npos) fault = *text_fault(std::string_view("\0", 1));
    else if (reason.find("ill-formed UTF-8") != std::string::npos) fault = "is not valid UTF-8";
    else if (reason.find("surrogate") != std::string::npos) fault = "is not valid Unicode (a lone surrogate escape)";
    if (fault) {
      const bool in_key = !stack_.empty() && stack_.back().container->is_object() && !stack_.back().has_key;
      return fail(make_error(ErrorCode::invalid_argument, what_ + " holds text gatehouse cannot store",
                             {{in_key ? container_path() : value_path(),
                               in_key ? "has a member name that " + *fault : *fault}}));
    }
    // The byte offset, not the text last read: in a config that text may be part of a secret.
    return fail(make_error(ErrorCode::invalid_json, what_ + " is not valid JSON (at byte " + std::to_string(position) + ")"));
  }

  bool failed() const { return error_.has_value(); }
  Error take_error() { return std::move(*error_); }
  json take_root() { return std::move(root_); }

 private:
  static constexpr std::size_t kMaxDepth = 100;  // no request or config nests this deep

  struct Frame {
    json* container;
    std::string key;
    bool has_key = false;
  };

  // The pointer of the innermost open container (where a member name is being read).
  std::string container_path() const {
    std::string out;
    for (std::size_t i = 0; i + 1 < stack_.size(); ++i) {
      const Frame& f = stack_[i];  // its open child is its last element, or the member of its last key
      out += "/" + (f.container->is_array() ? std::to_string(f.container->size() - 1) : json_pointer_token(f.key));
    }
    return out;
  }

  // Where the value being read now goes.
  std::string value_path() const {
    if (stack_.empty()) return "";
    std::string out;
    for (std::size_t i = 0; i < stack_.size(); ++i) {
      const Frame& f = stack_[i];
      const bool innermost = i + 1 == stack_.size();
      if (f.container->is_array()) out += "/" + std::to_string(f.container->size() - (innermost ? 0 : 1));
      else out += "/" + json_pointer_token(f.key);
    }
    return out;
  }

  json* insert(json v) {
    if (stack_.empty()) {
      root_ = std::move(v);
      return &root_;
    }
    Frame& top = stack_.back();
    if (top.container->is_array()) {
      top.container->push_back(std::move(v));
      return &top.container->back();
    }
    top.has_key = false;
    json& slot = (*top.container)[top.key];
    slot = std::move(v);
    return &slot;
  }

  bool value(json v) {
    insert(std::move(v));
    return true;
  }

  bool open(json empty) {
    if (stack_.size() >= kMaxDepth)
      return fail(make_error(ErrorCode::invalid_json, what_ + " nests deeper than " + std::to_string(kMaxDepth) + " levels"));
    // Pointers to open containers stay valid: a parent gains no member while its child is open.
    json* slot = insert(std::move(empty));
    stack_.push_back({slot, {}, false});
    return true;
  }

  bool close() {
    stack_.pop_back();
    return true;
  }

  bool fail(Error e) {
    if (!error_) error_ = std::move(e);
    return false;
  }

  std::string what_;
  json root_;
  std::vector<Frame> stack_;
  std::optional<Error> error_;
};

}  // namespace detail

// `what` starts the error sentences ("the request body", "config.json").
inline Result<nlohmann::json> parse_strict_json(std::string_view text, const std::string& what) {
  detail::StrictJsonBuilder builder(what);
  try {
    const bool ok = nlohmann::json::sax_parse(text.begin(), text.end(), &builder);
    if (builder.failed()) return builder.take_error();
    if (!ok) return make_error(ErrorCode::invalid_json, what + " is not valid JSON");
  } catch (const std::exception&) {  // sax_parse reports through parse_error; nothing may escape regardless
    if (builder.failed()) return builder.take_error();
    return make_error(ErrorCode::invalid_json, what + " is not valid JSON");
  }
  return builder.take_root();
}

// The first string or member name in `value` that PostgreSQL could not store, as a fault at its pointer below
// `base` (for documents that did not come through parse_strict_json, such as YAML). nullopt when none.
inline std::optional<Diagnostic> find_unstorable_text(const nlohmann::json& value, const std::string& base = "") {
  if (value.is_string()) {
    if (auto fault = text_fault(value.get_ref<const std::string&>())) return Diagnostic{base, *fault};
    return std::nullopt;
  }
  if (value.is_array()) {
    for (std::size_t i = 0; i < value.size(); ++i)
      if (auto d = find_unstorable_text(value[i], base + "/" + std::to_string(i))) return d;
    return std::nullopt;
  }
  if (value.is_object()) {
    for (const auto& [key, member] : value.items()) {
      if (auto fault = text_fault(key)) return Diagnostic{base, "has a member name that " + *fault};
      if (auto d = find_unstorable_text(member, base + "/" + json_pointer_token(key))) return d;
    }
  }
  return std::nullopt;
}

}  // namespace gatehouse::host
