// Errors at module boundaries are values: a code from the one table (error_codes.txt), a human sentence and,
// for input, the faults with their field paths. Exceptions never cross a host library boundary.
#pragma once

#include "common/error_code_table.hpp"

#include <cassert>
#include <memory>
#include <ostream>
#include <string_view>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace gatehouse::host {

// One fault in an input document, located by a JSON pointer ("/config/token").
struct Diagnostic {
  std::string path;
  std::string reason;
  bool operator==(const Diagnostic&) const = default;
};

// The properties of a code, from the one table (error_codes.txt → error_code_table.hpp).
constexpr const ErrorCodeInfo& error_code_info(ErrorCode code) { return kErrorCodeTable[static_cast<std::size_t>(code)]; }
constexpr std::string_view error_code_name(ErrorCode code) { return error_code_info(code).name; }
constexpr int http_status_of(ErrorCode code) { return error_code_info(code).http_status; }
constexpr bool is_retryable(ErrorCode code) { return error_code_info(code).retryable; }
// The code with this name, for names that arrive as text (the runner wire, the CLI's reading of API answers).
inline std::optional<ErrorCode> error_code_from_name(std::string_view name) {
  for (const auto& info : kErrorCodeTable)
    if (info.name == name) return info.code;
  return std::nullopt;
}
// Comparing a code with its name: for tests and for text read back from outside. Host code compares codes.
inline bool operator==(ErrorCode code, std::string_view name) { return error_code_name(code) == name; }
inline std::ostream& operator<<(std::ostream& out, ErrorCode code) { return out << error_code_name(code); }
// nlohmann::json writes a code as its name (found by ADL; without it a code would become a number).
template <class Json>
void to_json(Json& json, ErrorCode code) { json = std::string(error_code_name(code)); }

// Every table row's enumerator is its index, which error_code_info relies on.
static_assert([] {
  for (std::size_t i = 0; i < kErrorCodeTable.size(); ++i)
    if (static_cast<std::size_t>(kErrorCodeTable[i].code) != i) return false;
  return true;
}());

struct Error {
  ErrorCode code = ErrorCode::internal_error;
  std::string message;  // one human sentence
  std::vector<Diagnostic> diagnostics;
  std::string sqlstate{};               // the SQLSTATE when PostgreSQL refused (e.g. "23505"), "" otherwise
  std::shared_ptr<const Error> cause{};  // what this error was made from, when it wraps another

  std::string_view code_name() const { return error_code_name(code); }
  // "message" followed by one indented line per diagnostic: what operators read.
  std::string describe() const {
    std::string out = message;
    for (const auto& d : diagnostics) out += "\n  " + (d.path.empty() ? std::string("/") : d.path) + ": " + d.reason;
    return out;
  }
};

inline Error make_error(ErrorCode code, std::string message, std::vector<Diagnostic> diagnostics = {}) {
  return Error{code, std::move(message), std::move(diagnostics)};
}

// `error` with a new sentence (and code), keeping the original as its cause.
inline Error wrap_error(Error error, ErrorCode code, std::string message) {
  Error out{code, std::move(message), error.diagnostics, error.sqlstate, nullptr};
  out.cause = std::make_shared<const Error>(std::move(error));
  return out;
}

// A value or an Error. Small on purpose: std::expected is C++23 and g++ 12 ships C++20.
template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : state_(std::move(value)) {}                      // NOLINT: implicit by design
  Result(Error error) : state_(std::move(error)) {}                  // NOLINT: implicit by design

  bool ok() const { return state_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & { assert(ok()); return std::get<0>(state_); }
  const T& value() const& { assert(ok()); return std::get<0>(state_); }
  T&& value() && { assert(ok()); return std::get<0>(std::move(state_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

  const Error& error() const { assert(!ok()); return std::get<1>(state_); }
  Error&& take_error() { assert(!ok()); return std::get<1>(std::move(state_)); }

 private:
  std::variant<T, Error> state_;
};

// For operations that return nothing but may fail.
template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : error_(std::move(error)) {}                  // NOLINT: implicit by design

  bool ok() const { return !error_.has_value(); }
  explicit operator bool() const { return ok(); }
  const Error& error() const { assert(!ok()); return *error_; }
  Error&& take_error() { assert(!ok()); return std::move(*error_); }

 private:
  std::optional<Error> error_;
};

}  // namespace gatehouse::host
