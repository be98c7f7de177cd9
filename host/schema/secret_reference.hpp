// Private to host/schema: how a secret config value names where the secret really is.
#pragma once

#include <string>

namespace gatehouse::host::detail {

struct SecretReference {
  enum class Kind { literal, env, file } kind = Kind::literal;
  std::string target;  // the variable name or the file path
  std::string fault;   // set when the value starts like a reference but is not a usable one
};

inline bool is_env_name(const std::string& name) {
  if (name.empty() || (name[0] >= '0' && name[0] <= '9')) return false;
  for (char c : name) {
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
    if (!ok) return false;
  }
  return true;
}

// "env:NAME" or "file:PATH". The fault text never repeats the value: a mistyped reference may be a secret.
inline SecretReference parse_secret_reference(const std::string& value) {
  if (value.rfind("env:", 0) == 0) {
    std::string name = value.substr(4);
    if (!is_env_name(name))
      return {SecretReference::Kind::literal, {},
              "an env: reference needs an environment variable name (letters, digits and '_', not starting "
              "with a digit)"};
    return {SecretReference::Kind::env, std::move(name), {}};
  }
  if (value.rfind("file:", 0) == 0) {
    if (value.size() == 5) return {SecretReference::Kind::literal, {}, "a file: reference needs a file path"};
    return {SecretReference::Kind::file, value.substr(5), {}};
  }
  return {};
}

}  // namespace gatehouse::host::detail
