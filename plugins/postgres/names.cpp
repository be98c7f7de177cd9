#include "names.hpp"

#include <gatehouse/sdk.hpp>

#include <algorithm>

namespace pgprovider {

using gatehouse::Error;

void check_name(const std::string& name, const std::string& what, const std::string& path) {
  if (name.empty()) throw Error::invalid_argument(what + " name must not be empty", path);
  if (name.size() > kMaxNameBytes) {
    throw Error::invalid_argument(
        what + " name is " + std::to_string(name.size()) + " bytes long; PostgreSQL names are at most 63 bytes", path);
  }
  // NUL would end the string inside libpq; the other control characters have no business in a role name
  // and would make log lines and error messages misleading.
  const bool control = std::any_of(name.begin(), name.end(), [](char c) {
    const auto byte = static_cast<unsigned char>(c);
    return byte < 0x20 || byte == 0x7f;
  });
  if (control) throw Error::invalid_argument(what + " name must not contain control characters", path);
}

std::string login_for(const std::string& prefix, const std::string& subject) {
  if (subject.empty()) throw Error::invalid_argument("subject must not be empty", "/subject");
  std::string login = prefix + subject;
  check_name(login, "login role", "/subject");  // the message says "login role", since the prefix counts too
  return login;
}

namespace {

std::regex compile(const std::string& pattern) {
  try {
    return std::regex(pattern, std::regex::ECMAScript);
  } catch (const std::regex_error& e) {
    throw Error::invalid_argument(
        "config field 'grantable' is not a valid regular expression: " + std::string(e.what()), "/grantable");
  }
}

}  // namespace

Grantable::Grantable(const std::string& pattern) : pattern_(pattern), regex_(compile(pattern)) {}

bool Grantable::allows(const std::string& role) const { return std::regex_search(role, regex_); }

}  // namespace pgprovider
