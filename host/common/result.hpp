// Errors at module boundaries are values: a machine-readable code, a human sentence and, for input,
// the faults with their field paths. Exceptions never cross a host library boundary.
#pragma once

#include <cassert>
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

struct Error {
  std::string code;     // stable snake_case identifier, e.g. "abi_major_mismatch"
  std::string message;  // one human sentence
  std::vector<Diagnostic> diagnostics;

  // "message" followed by one indented line per diagnostic: what operators read.
  std::string describe() const {
    std::string out = message;
    for (const auto& d : diagnostics) out += "\n  " + (d.path.empty() ? std::string("/") : d.path) + ": " + d.reason;
    return out;
  }
};

inline Error make_error(std::string code, std::string message, std::vector<Diagnostic> diagnostics = {}) {
  return Error{std::move(code), std::move(message), std::move(diagnostics)};
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
